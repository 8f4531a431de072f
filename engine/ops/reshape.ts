import { apply, type Tensor } from '../tensor.ts';
import type { Primitive } from '../primitive.ts';
import { fmt, sizeOf } from '../shape.ts';
import { reshapeKernel } from '../../shaders/reshape.ts';

/** the same values under another shape (row-major order unchanged) */
export const reshapeOp: Primitive<{ shape: number[] }> = {
  name: 'reshape',
  arity: 1,
  gpu: reshapeKernel,
  shape: ([s], { shape }) => {
    if (sizeOf(s) !== sizeOf(shape)) throw new Error(`reshape: cannot view ${fmt(s)} as ${fmt(shape)}`);
    return [...shape];
  },
  cpu: ([x], _, out) => out.set(x),
  backward: ({ inputs: [x], dy }) => [() => reshape(dy, x.shape)],
};

export const reshape = (x: Tensor, shape: readonly number[]): Tensor => apply(reshapeOp, [x], { shape: [...shape] });
