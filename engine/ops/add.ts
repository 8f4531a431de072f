import { apply, type Tensor } from '../tensor.ts';
import type { Primitive } from '../primitive.ts';
import { binaryShape, zipCpu } from './elementwise.ts';
import { sumTo } from './sum.ts';
import { addKernel } from '../../shaders/add.ts';

/** a + b with numpy broadcasting (a bias row [d] added to [batch, d]) */
export const addOp: Primitive = {
  name: 'add',
  arity: 2,
  gpu: addKernel,
  shape: binaryShape('add'),
  cpu: ([a, b], shapes, out) => zipCpu(a, b, shapes, out, (x, y) => x + y),
  // the gradient of a broadcast input is summed over the axes it was repeated along
  backward: ({ inputs: [a, b], dy }) => [() => sumTo(dy, a.shape), () => sumTo(dy, b.shape)],
};

export const add = (a: Tensor, b: Tensor): Tensor => apply(addOp, [a, b], {});
