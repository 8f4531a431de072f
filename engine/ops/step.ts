import { apply, type Tensor } from '../tensor.ts';
import type { Primitive } from '../primitive.ts';
import { mapCpu, unaryShape } from './elementwise.ts';
import { stepKernel } from '../../shaders/step.ts';

/** 1 where x > 0, else 0 (relu's derivative); a constant: no gradient */
export const stepOp: Primitive = {
  name: 'step',
  arity: 1,
  gpu: stepKernel,
  shape: unaryShape,
  cpu: ([x], _, out) => mapCpu(x, out, (v) => (v > 0 ? 1 : 0)),
};

export const step = (x: Tensor): Tensor => apply(stepOp, [x], {});
