import { apply, type Tensor } from '../tensor.ts';
import type { Primitive } from '../primitive.ts';
import { fmt } from '../shape.ts';
import { oneHotKernel } from '../../shaders/onehot.ts';

/** labels [n] (class indices stored as floats) → [n, depth] with a 1 at each label; a constant */
export const oneHotOp: Primitive<{ depth: number }> = {
  name: 'oneHot',
  arity: 1,
  gpu: oneHotKernel,
  shape: ([s], { depth }) => {
    if (s.length !== 1) throw new Error(`oneHot: labels must be 1-D, got ${fmt(s)}`);
    return [s[0], depth];
  },
  cpu: ([labels], _, out, { depth }) => {
    out.fill(0);
    for (let i = 0; i < labels.length; i++) {
      const c = labels[i];
      if (c >= 0 && c < depth) out[i * depth + c] = 1;
    }
  },
};

export const oneHot = (labels: Tensor, depth: number): Tensor => apply(oneHotOp, [labels], { depth });
