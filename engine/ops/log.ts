import { apply, type Tensor } from '../tensor.ts';
import type { Primitive } from '../primitive.ts';
import { mapCpu, unaryShape } from './elementwise.ts';
import { mul } from './mul.ts';
import { reciprocal } from './reciprocal.ts';
import { logKernel } from '../../shaders/log.ts';

/** natural log */
export const logOp: Primitive = {
  name: 'log',
  arity: 1,
  gpu: logKernel,
  shape: unaryShape,
  cpu: ([x], _, out) => mapCpu(x, out, Math.log),
  backward: ({ inputs: [x], dy }) => [() => mul(dy, reciprocal(x))],
};

export const log = (x: Tensor): Tensor => apply(logOp, [x], {});
