import { apply, type Tensor } from '../tensor.ts';
import type { Primitive } from '../primitive.ts';
import { mapCpu, unaryShape } from './elementwise.ts';
import { mul } from './mul.ts';
import { scale } from './scale.ts';
import { rsqrtKernel } from '../../shaders/rsqrt.ts';

/** 1/√x (layer and batch normalisation: 1/√(var + eps)); +inf at 0, NaN below 0 */
export const rsqrtOp: Primitive = {
  name: 'rsqrt',
  arity: 1,
  gpu: rsqrtKernel,
  shape: unaryShape,
  cpu: ([x], _, out) => mapCpu(x, out, (v) => 1 / Math.sqrt(v)),
  // d x^(-1/2) = -½ x^(-3/2) = -½ out³
  backward: ({ out, dy }) => [() => mul(dy, scale(mul(out, mul(out, out)), -0.5))],
};

export const rsqrt = (x: Tensor): Tensor => apply(rsqrtOp, [x], {});
