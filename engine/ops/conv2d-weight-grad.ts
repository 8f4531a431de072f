import { apply, Tensor } from '../tensor.ts';
import type { Primitive } from '../primitive.ts';
import { fmt } from '../shape.ts';
import { checkStridePadding, conv2d, validRange, windowCount } from './conv2d.ts';
import { conv2dInputGrad } from './conv2d-input-grad.ts';
import { conv2dWeightGradKernel } from '../../shaders/conv2d-weight-grad.ts';

/** the kernel's height and width are attributes (dy's size does not fix them) */
export interface Conv2dWeightGradAttrs { stride: number; padding: number; kh: number; kw: number }

/**
 * conv2d's weight gradient: x [N, C, H, W], dy [N, O, OH, OW] → dw [O, C, kh, kw],
 * dw[o, c, a, e] = Σ_{n, i, j} dy[n, o, i, j] · x[n, c, i·s + a − p, j·s + e − p] (0 outside x)
 */
export const conv2dWeightGradOp: Primitive<Conv2dWeightGradAttrs> = {
  name: 'conv2dWeightGrad',
  arity: 2,
  gpu: conv2dWeightGradKernel,
  shape: ([x, dy], { stride, padding, kh, kw }) => {
    if (x.length !== 4 || dy.length !== 4 || x[0] !== dy[0] || !(kh >= 1 && kw >= 1)) {
      throw new Error(`conv2dWeightGrad: expects x [N, C, H, W], dy [N, O, OH, OW] and a kernel size ≥ 1, got ${fmt(x)}, ${fmt(dy)} and ${kh}×${kw}`);
    }
    checkStridePadding('conv2dWeightGrad', stride, padding);
    const oh = windowCount('conv2dWeightGrad', x[2], kh, stride, padding), ow = windowCount('conv2dWeightGrad', x[3], kw, stride, padding);
    if (dy[2] !== oh || dy[3] !== ow) {
      throw new Error(`conv2dWeightGrad: dy ${fmt(dy)} does not fit x ${fmt(x)} under a ${kh}×${kw} kernel, stride ${stride}, padding ${padding} (expects ${oh}×${ow})`);
    }
    return [dy[1], x[1], kh, kw];
  },
  // one double sum per weight, over n, then the (i, j) whose taps land inside the image; rounded on store
  cpu: ([x, dy], [[N, C, H, W], [, O, OH, OW]], out, { stride: s, padding: p, kh: KH, kw: KW }) => {
    for (let o = 0; o < O; o++) {
      for (let c = 0; c < C; c++) {
        for (let a = 0; a < KH; a++) {
          const [i0, i1] = validRange(a, s, p, H, OH);
          for (let e = 0; e < KW; e++) {
            const [j0, j1] = validRange(e, s, p, W, OW);
            let acc = 0;
            for (let n = 0; n < N; n++) {
              const xc = (n * C + c) * H * W, dyo = (n * O + o) * OH * OW;
              for (let i = i0; i < i1; i++) {
                const xr = xc + (i * s + a - p) * W + e - p, dr = dyo + i * OW;
                for (let j = j0; j < j1; j++) acc += dy[dr + j] * x[xr + j * s];
              }
            }
            out[((o * C + c) * KH + a) * KW + e] = acc;
          }
        }
      }
    }
  },
  // bilinear in (x, dy): with G = dL/d(dw), dx = conv2dInputGrad(dy, G) and d dy = conv2d(x, G) (no bias)
  backward: ({ inputs: [x, dy], dy: G, attrs: { stride, padding } }) => [
    () => conv2dInputGrad(dy, G, { stride, padding, height: x.shape[2], width: x.shape[3] }),
    () => conv2d(x, G, Tensor.zeros([G.shape[0]], { backend: G.backend, dtype: G.dtype }), { stride, padding }),
  ],
};

export const conv2dWeightGrad = (x: Tensor, dy: Tensor, attrs: Conv2dWeightGradAttrs): Tensor =>
  apply(conv2dWeightGradOp, [x, dy], attrs);
