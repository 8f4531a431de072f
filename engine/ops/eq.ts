import { apply, type Tensor } from '../tensor.ts';
import type { Primitive } from '../primitive.ts';
import { binaryShape, zipCpu } from './elementwise.ts';
import { eqKernel } from '../../shaders/eq.ts';

/** 1 where a == b, else 0 (broadcasting); a constant: no gradient */
export const eqOp: Primitive = {
  name: 'eq',
  arity: 2,
  gpu: eqKernel,
  shape: binaryShape('eq'),
  cpu: ([a, b], shapes, out) => zipCpu(a, b, shapes, out, (x, y) => (x === y ? 1 : 0)),
};

export const eq = (a: Tensor, b: Tensor): Tensor => apply(eqOp, [a, b], {});
