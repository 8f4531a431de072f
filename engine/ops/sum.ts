import { apply, type Tensor } from '../tensor.ts';
import type { Primitive } from '../primitive.ts';
import { normAxis, reducedShape, sameShape, splitAxis, type Shape } from '../shape.ts';
import { add } from './add.ts';
import { fill } from './fill.ts';
import { reshape } from './reshape.ts';
import { sumKernel } from '../../shaders/sum.ts';

export interface AxisAttrs { axis: number; keepDims: boolean }

/** the sum over one axis */
export const sumOp: Primitive<AxisAttrs> = {
  name: 'sum',
  arity: 1,
  gpu: sumKernel,
  shape: ([s], { axis, keepDims }) => reducedShape(s, normAxis('sum', axis, s.length), keepDims),
  cpu: ([x], [s], out, { axis }) => {
    const { outer, len, inner } = splitAxis(s, normAxis('sum', axis, s.length));
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        let acc = 0;
        for (let k = 0; k < len; k++) acc += x[(o * len + k) * inner + i];
        out[o * inner + i] = acc;
      }
    }
  },
  backward: ({ inputs: [x], dy, attrs: { axis } }) => [() => broadcastTo(dy, x, axis)],
};

export const sum = (x: Tensor, axis: number, keepDims = false): Tensor =>
  apply(sumOp, [x], { axis: normAxis('sum', axis, x.shape.length), keepDims });

/** dy (x reduced over `axis`) repeated along that axis to x's shape */
export function broadcastTo(dy: Tensor, like: Tensor, axis: number): Tensor {
  const keep = reducedShape(like.shape, normAxis('broadcast', axis, like.shape.length), true);
  return add(fill(like, 0), reshape(dy, keep));
}

/** sums g over the axes along which a tensor of `shape` was broadcast to g's shape (the gradient of broadcasting) */
export function sumTo(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return g;
  let t = g;
  while (t.shape.length > shape.length) t = sum(t, 0);
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1 && t.shape[d] !== 1) t = sum(t, d, true);
  }
  return sameShape(t.shape, shape) ? t : reshape(t, shape);
}
