import { apply, type Tensor } from '../tensor.ts';
import type { Primitive } from '../primitive.ts';
import { mapCpu, unaryShape } from './elementwise.ts';
import { mul } from './mul.ts';
import { step } from './step.ts';
import { reluKernel } from '../../shaders/relu.ts';

/** max(x, 0) */
export const reluOp: Primitive = {
  name: 'relu',
  arity: 1,
  gpu: reluKernel,
  shape: unaryShape,
  cpu: ([x], _, out) => mapCpu(x, out, (v) => (v > 0 ? v : 0)),
  // NOTE: relu'(0) = 0, as in PyTorch (step(0) = 0)
  backward: ({ inputs: [x], dy }) => [() => mul(dy, step(x))],
};

export const relu = (x: Tensor): Tensor => apply(reluOp, [x], {});
