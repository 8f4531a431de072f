import { apply, type Tensor } from '../tensor.ts';
import type { Primitive } from '../primitive.ts';
import { fmt, type Shape } from '../shape.ts';
import { conv2dInputGrad } from './conv2d-input-grad.ts';
import { conv2dWeightGrad } from './conv2d-weight-grad.ts';
import { sum } from './sum.ts';
import { conv2dKernel } from '../../shaders/conv2d.ts';

export interface Conv2dAttrs { stride: number; padding: number }

/** checks stride ≥ 1 and padding ≥ 0 (integers) for `op` */
export function checkStridePadding(op: string, stride: number, padding: number): void {
  if (!Number.isInteger(stride) || stride < 1) throw new Error(`${op}: stride must be a positive integer, got ${stride}`);
  if (!Number.isInteger(padding) || padding < 0) throw new Error(`${op}: padding must be a non-negative integer, got ${padding}`);
}

/**
 * the output length of a window of `k` sliding by `stride` over `len` zero-padded by `padding` on both
 * sides (PyTorch's floor mode): floor((len + 2p − k)/s) + 1; an error naming `op` when the window does
 * not fit once
 */
export function windowCount(op: string, len: number, k: number, stride: number, padding: number): number {
  if (len + 2 * padding < k) throw new Error(`${op}: kernel ${k} is larger than the padded input ${len + 2 * padding} (size ${len}, padding ${padding})`);
  return Math.floor((len + 2 * padding - k) / stride) + 1;
}

/**
 * the rows i ∈ [lo, hi) of an output whose window position i·s + k − p lands inside [0, len): the
 * taps of one kernel offset k that read real (not padding) input
 */
export function validRange(k: number, stride: number, padding: number, len: number, outLen: number): [number, number] {
  const lo = Math.max(0, Math.ceil((padding - k) / stride));
  const hi = Math.min(outLen, Math.floor((len - 1 + padding - k) / stride) + 1);
  return [lo, Math.max(lo, hi)];
}

export const convShapeError = (x: Shape, w: Shape, b: Shape): Error =>
  new Error(`conv2d: expects x [N, C, H, W], w [O, C, KH, KW] and b [O], got ${fmt(x)}, ${fmt(w)} and ${fmt(b)}`);

/**
 * 2-D cross-correlation as torch.nn.functional.conv2d (groups 1, dilation 1, zero padding):
 * x [N, C, H, W] (NCHW), w [O, C, KH, KW], b [O] → y [N, O, OH, OW] with OH = floor((H + 2p − KH)/s) + 1,
 * y[n, o, i, j] = b[o] + Σ_{c, kh, kw} x[n, c, i·s + kh − p, j·s + kw − p] · w[o, c, kh, kw] (0 outside x)
 */
export const conv2dOp: Primitive<Conv2dAttrs> = {
  name: 'conv2d',
  arity: 3,
  gpu: conv2dKernel,
  shape: ([x, w, b], { stride, padding }) => {
    if (x.length !== 4 || w.length !== 4 || b.length !== 1 || x[1] !== w[1] || b[0] !== w[0]) throw convShapeError(x, w, b);
    checkStridePadding('conv2d', stride, padding);
    return [x[0], w[0], windowCount('conv2d', x[2], w[2], stride, padding), windowCount('conv2d', x[3], w[3], stride, padding)];
  },
  // per (n, o): a double plane of OH×OW sums; for each (c, kh, kw) one weight times the x taps that lie
  // inside the image (validRange: no per-element bounds test), then + b and one rounding on store
  cpu: ([x, w, b], [[N, C, H, W], [O, , KH, KW]], out, { stride: s, padding: p }) => {
    const OH = windowCount('conv2d', H, KH, s, p), OW = windowCount('conv2d', W, KW, s, p);
    const acc = new Float64Array(OH * OW);
    for (let n = 0; n < N; n++) {
      for (let o = 0; o < O; o++) {
        acc.fill(0);
        for (let c = 0; c < C; c++) {
          const xc = (n * C + c) * H * W;
          for (let kh = 0; kh < KH; kh++) {
            const [i0, i1] = validRange(kh, s, p, H, OH);
            for (let kw = 0; kw < KW; kw++) {
              const wv = w[((o * C + c) * KH + kh) * KW + kw];
              const [j0, j1] = validRange(kw, s, p, W, OW);
              for (let i = i0; i < i1; i++) {
                const xr = xc + (i * s + kh - p) * W + kw - p, ar = i * OW;
                for (let j = j0; j < j1; j++) acc[ar + j] += x[xr + j * s] * wv;
              }
            }
          }
        }
        const ob = (n * O + o) * OH * OW;
        for (let q = 0; q < OH * OW; q++) out[ob + q] = acc[q] + b[o];
      }
    }
  },
  // dx: the transposed convolution of dy with w; dW: the correlation of x with dy (their own primitives);
  // db: Σ of dy over N, OH and OW
  backward: ({ inputs: [x, w], dy, attrs: { stride, padding } }) => [
    () => conv2dInputGrad(dy, w, { stride, padding, height: x.shape[2], width: x.shape[3] }),
    () => conv2dWeightGrad(x, dy, { stride, padding, kh: w.shape[2], kw: w.shape[3] }),
    () => sum(sum(sum(dy, 3), 2), 0),
  ],
};

/**
 * torch.nn.functional.conv2d(x, w, b, stride, padding): x [N, C, H, W], w [O, C, KH, KW], b [O] →
 * [N, O, OH, OW], OH = floor((H + 2·padding − KH)/stride) + 1 (and OW likewise)
 */
export const conv2d = (x: Tensor, w: Tensor, b: Tensor, opts: { stride?: number; padding?: number } = {}): Tensor =>
  apply(conv2dOp, [x, w, b], { stride: opts.stride ?? 1, padding: opts.padding ?? 0 });
