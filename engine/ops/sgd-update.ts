import { apply, type Tensor } from '../tensor.ts';
import type { Primitive } from '../primitive.ts';
import { fmt, sameShape } from '../shape.ts';
import { scale } from './scale.ts';
import { sgdUpdateKernel } from '../../shaders/sgd-update.ts';

/**
 * one SGD step of one parameter: p [any], d [same] (the gradient, or the momentum/weight-decay direction)
 * → p − lr·d, in one op (one dispatch instead of scale + add). mlp/sgd.ts assigns it back to p.
 */
export const sgdUpdateOp: Primitive<{ lr: number }> = {
  name: 'sgdUpdate',
  arity: 2,
  gpu: sgdUpdateKernel,
  shape: ([p, d]) => {
    if (!sameShape(p, d)) throw new Error(`sgdUpdate: parameter ${fmt(p)} and direction ${fmt(d)} differ in shape`);
    return [...p];
  },
  // NOTE: add(p, scale(d, −lr)) exactly: (−lr)·d rounded as scale's output was, then p + it, so CPU
  // training stays bit-identical to the composition
  cpu: ([p, d], _, out, { lr }) => {
    const r = out instanceof Float32Array ? Math.fround : (v: number): number => v;
    const s = -lr;
    for (let i = 0; i < out.length; i++) out[i] = p[i] + r(s * d[i]);
  },
  backward: ({ dy, attrs: { lr } }) => [() => dy, () => scale(dy, -lr)],
};

export const sgdUpdate = (p: Tensor, d: Tensor, lr: number): Tensor => apply(sgdUpdateOp, [p, d], { lr });
