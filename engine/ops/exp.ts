import { apply, type Tensor } from '../tensor.ts';
import type { Primitive } from '../primitive.ts';
import { mapCpu, unaryShape } from './elementwise.ts';
import { mul } from './mul.ts';
import { expKernel } from '../../shaders/exp.ts';

/** e^x */
export const expOp: Primitive = {
  name: 'exp',
  arity: 1,
  gpu: expKernel,
  shape: unaryShape,
  cpu: ([x], _, out) => mapCpu(x, out, Math.exp),
  backward: ({ out, dy }) => [() => mul(dy, out)],
};

export const exp = (x: Tensor): Tensor => apply(expOp, [x], {});
