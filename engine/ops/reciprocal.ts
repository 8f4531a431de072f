import { apply, type Tensor } from '../tensor.ts';
import type { Primitive } from '../primitive.ts';
import { mapCpu, unaryShape } from './elementwise.ts';
import { mul } from './mul.ts';
import { scale } from './scale.ts';
import { reciprocalKernel } from '../../shaders/reciprocal.ts';

/** 1 / x (log's derivative, and division) */
export const reciprocalOp: Primitive = {
  name: 'reciprocal',
  arity: 1,
  gpu: reciprocalKernel,
  shape: unaryShape,
  cpu: ([x], _, out) => mapCpu(x, out, (v) => 1 / v),
  // d(1/x) = -1/x² = -out²
  backward: ({ out, dy }) => [() => scale(mul(dy, mul(out, out)), -1)],
};

export const reciprocal = (x: Tensor): Tensor => apply(reciprocalOp, [x], {});
