import { apply, type Tensor } from '../tensor.ts';
import type { Primitive } from '../primitive.ts';
import { mapCpu, unaryShape } from './elementwise.ts';
import { scaleKernel } from '../../shaders/scale.ts';

/** s · x for a constant s (kept apart from mul so a scalar needs no buffer on the GPU) */
export const scaleOp: Primitive<{ s: number }> = {
  name: 'scale',
  arity: 1,
  gpu: scaleKernel,
  shape: unaryShape,
  cpu: ([x], _, out, { s }) => mapCpu(x, out, (v) => s * v),
  backward: ({ dy, attrs: { s } }) => [() => scale(dy, s)],
};

export const scale = (x: Tensor, s: number): Tensor => apply(scaleOp, [x], { s });
