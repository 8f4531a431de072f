import { apply, Tensor } from '../tensor.ts';
import type { Primitive } from '../primitive.ts';
import { fmt } from '../shape.ts';
import { checkStridePadding, conv2d, validRange, windowCount } from './conv2d.ts';
import { conv2dWeightGrad } from './conv2d-weight-grad.ts';
import { conv2dInputGradKernel } from '../../shaders/conv2d-input-grad.ts';

/** the input's height and width are attributes: with stride > 1 several input sizes give one output size */
export interface Conv2dInputGradAttrs { stride: number; padding: number; height: number; width: number }

/**
 * conv2d's input gradient (the transposed convolution): dy [N, O, OH, OW], w [O, C, KH, KW] →
 * dx [N, C, height, width], dx[n, c, h, v] = Σ dy[n, o, i, j] · w[o, c, kh, kw] over the (o, i, j, kh, kw)
 * with i·s + kh − p = h and j·s + kw − p = v
 */
export const conv2dInputGradOp: Primitive<Conv2dInputGradAttrs> = {
  name: 'conv2dInputGrad',
  arity: 2,
  gpu: conv2dInputGradKernel,
  shape: ([dy, w], { stride, padding, height, width }) => {
    if (dy.length !== 4 || w.length !== 4 || dy[1] !== w[0]) {
      throw new Error(`conv2dInputGrad: expects dy [N, O, OH, OW] and w [O, C, KH, KW], got ${fmt(dy)} and ${fmt(w)}`);
    }
    checkStridePadding('conv2dInputGrad', stride, padding);
    const oh = windowCount('conv2dInputGrad', height, w[2], stride, padding), ow = windowCount('conv2dInputGrad', width, w[3], stride, padding);
    if (dy[2] !== oh || dy[3] !== ow) {
      throw new Error(`conv2dInputGrad: dy ${fmt(dy)} does not fit an input ${height}×${width} under w ${fmt(w)}, stride ${stride}, padding ${padding} (expects ${oh}×${ow})`);
    }
    return [dy[0], w[1], height, width];
  },
  // per (n, c): a double plane of H×W sums; for each (o, kh, kw) one weight times the dy rows whose
  // taps land inside the image, scattered to their input positions; one rounding on store
  cpu: ([dy, w], [[N, O, OH, OW], [, C, KH, KW]], out, { stride: s, padding: p, height: H, width: W }) => {
    const acc = new Float64Array(H * W);
    for (let n = 0; n < N; n++) {
      for (let c = 0; c < C; c++) {
        acc.fill(0);
        for (let o = 0; o < O; o++) {
          const dyo = (n * O + o) * OH * OW;
          for (let kh = 0; kh < KH; kh++) {
            const [i0, i1] = validRange(kh, s, p, H, OH);
            for (let kw = 0; kw < KW; kw++) {
              const wv = w[((o * C + c) * KH + kh) * KW + kw];
              const [j0, j1] = validRange(kw, s, p, W, OW);
              for (let i = i0; i < i1; i++) {
                const ar = (i * s + kh - p) * W + kw - p, dr = dyo + i * OW;
                for (let j = j0; j < j1; j++) acc[ar + j * s] += dy[dr + j] * wv;
              }
            }
          }
        }
        const xb = (n * C + c) * H * W;
        for (let q = 0; q < H * W; q++) out[xb + q] = acc[q];
      }
    }
  },
  // bilinear in (dy, w): with G = dL/d(dx), d dy = conv2d(G, w) (no bias) and dw = conv2dWeightGrad(G, dy)
  backward: ({ inputs: [dy, w], dy: G, attrs: { stride, padding } }) => [
    () => conv2d(G, w, Tensor.zeros([w.shape[0]], { backend: w.backend, dtype: w.dtype }), { stride, padding }),
    () => conv2dWeightGrad(G, dy, { stride, padding, kh: w.shape[2], kw: w.shape[3] }),
  ],
};

export const conv2dInputGrad = (dy: Tensor, w: Tensor, attrs: Conv2dInputGradAttrs): Tensor =>
  apply(conv2dInputGradOp, [dy, w], attrs);
