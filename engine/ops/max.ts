import { apply, type Tensor } from '../tensor.ts';
import type { Primitive } from '../primitive.ts';
import { normAxis, reducedShape, splitAxis } from '../shape.ts';
import { eq } from './eq.ts';
import { mul } from './mul.ts';
import { reciprocal } from './reciprocal.ts';
import { reshape } from './reshape.ts';
import { broadcastTo, sum, type AxisAttrs } from './sum.ts';
import { maxKernel } from '../../shaders/max.ts';

/** the maximum over one axis */
export const maxOp: Primitive<AxisAttrs> = {
  name: 'max',
  arity: 1,
  gpu: maxKernel,
  shape: ([s], { axis, keepDims }) => reducedShape(s, normAxis('max', axis, s.length), keepDims),
  cpu: ([x], [s], out, { axis }) => {
    const { outer, len, inner } = splitAxis(s, normAxis('max', axis, s.length));
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        let m = -Infinity;
        for (let k = 0; k < len; k++) {
          const v = x[(o * len + k) * inner + i];
          if (v > m || Number.isNaN(v)) m = v;
          if (Number.isNaN(v)) break;
        }
        out[o * inner + i] = m;
      }
    }
  },
  // the gradient is shared evenly by the elements equal to the max (as torch.amax does)
  backward: ({ inputs: [x], out, dy, attrs: { axis } }) => [() => {
    const keep = reducedShape(x.shape, axis, true);
    const mask = eq(x, reshape(out, keep));
    const share = mul(reshape(dy, keep), reciprocal(sum(mask, axis, true)));
    return mul(mask, broadcastTo(share, x, axis));
  }],
};

export const max = (x: Tensor, axis: number, keepDims = false): Tensor =>
  apply(maxOp, [x], { axis: normAxis('max', axis, x.shape.length), keepDims });
