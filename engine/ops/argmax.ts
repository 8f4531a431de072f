import { apply, type Tensor } from '../tensor.ts';
import type { Primitive } from '../primitive.ts';
import { normAxis, reducedShape, splitAxis } from '../shape.ts';
import { argmaxKernel } from '../../shaders/argmax.ts';

/** the index of the maximum along one axis (the first one on ties, as torch.argmax); a constant */
export const argmaxOp: Primitive<{ axis: number }> = {
  name: 'argmax',
  arity: 1,
  gpu: argmaxKernel,
  shape: ([s], { axis }) => reducedShape(s, normAxis('argmax', axis, s.length), false),
  cpu: ([x], [s], out, { axis }) => {
    const { outer, len, inner } = splitAxis(s, normAxis('argmax', axis, s.length));
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        let best = 0, m = x[o * len * inner + i];
        for (let k = 1; k < len; k++) {
          const v = x[(o * len + k) * inner + i];
          if (v > m) { m = v; best = k; }
        }
        out[o * inner + i] = best;
      }
    }
  },
};

export const argmax = (x: Tensor, axis: number): Tensor =>
  apply(argmaxOp, [x], { axis: normAxis('argmax', axis, x.shape.length) });
