import { apply, type Tensor } from '../tensor.ts';
import type { Primitive } from '../primitive.ts';
import { binaryShape, zipCpu } from './elementwise.ts';
import { sumTo } from './sum.ts';
import { mulKernel } from '../../shaders/mul.ts';

/** a · b elementwise with numpy broadcasting */
export const mulOp: Primitive = {
  name: 'mul',
  arity: 2,
  gpu: mulKernel,
  shape: binaryShape('mul'),
  cpu: ([a, b], shapes, out) => zipCpu(a, b, shapes, out, (x, y) => x * y),
  backward: ({ inputs: [a, b], dy }) => [() => sumTo(mul(dy, b), a.shape), () => sumTo(mul(dy, a), b.shape)],
};

export const mul = (a: Tensor, b: Tensor): Tensor => apply(mulOp, [a, b], {});
