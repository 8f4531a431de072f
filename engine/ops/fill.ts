import { apply, type Tensor } from '../tensor.ts';
import type { Primitive } from '../primitive.ts';
import { unaryShape } from './elementwise.ts';
import { fillKernel } from '../../shaders/fill.ts';

/** a tensor shaped like x, every element `value` (the seed of backward, zeros); a constant */
export const fillOp: Primitive<{ value: number }> = {
  name: 'fill',
  arity: 1,
  gpu: fillKernel,
  shape: unaryShape,
  cpu: (_, __, out, { value }) => { out.fill(value); },
};

export const fill = (like: Tensor, value: number): Tensor => apply(fillOp, [like], { value });
