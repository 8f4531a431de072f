import { apply, type Tensor } from '../tensor.ts';
import type { Primitive } from '../primitive.ts';
import { fmt } from '../shape.ts';
import { softmax } from '../composite.ts';
import { add } from './add.ts';
import { fill } from './fill.ts';
import { mul } from './mul.ts';
import { oneHot } from './onehot.ts';
import { reshape } from './reshape.ts';
import { scale } from './scale.ts';
import { sum } from './sum.ts';
import { softmaxCrossEntropyGradKernel } from '../../shaders/softmax-cross-entropy-grad.ts';
import { softmaxCrossEntropyGradRows } from './softmax-cross-entropy-rows.ts';

/**
 * the backward of softmaxCrossEntropy in one op: logits [n, c], labels [n], dy [n] → [n, c],
 * (softmax(logits_i) − onehot(label_i)) · dy_i. Labels get no gradient.
 */
export const softmaxCrossEntropyGradOp: Primitive = {
  name: 'softmaxCrossEntropyGrad',
  arity: 3,
  gpu: softmaxCrossEntropyGradKernel,
  shape: ([x, y, dy]) => {
    if (x.length !== 2 || y.length !== 1 || y[0] !== x[0] || dy.length !== 1 || dy[0] !== x[0]) {
      throw new Error(`softmaxCrossEntropyGrad: expects logits [n, c], labels [n] and dy [n], got ${fmt(x)}, ${fmt(y)} and ${fmt(dy)}`);
    }
    return [...x];
  },
  // the oracle's loop rounds where the composition it replaced did (softmax-cross-entropy-rows.ts says how)
  cpu: ([x, y, dy], [[n, c]], out) => softmaxCrossEntropyGradRows(x, y, dy, n, c, out),
  // with G = dL/dout and s = softmax(x): dx_ik = dy_i·(G_ik·s_ik − s_ik·Σ_j G_ij·s_ij),
  // d dy_i = Σ_j G_ij·(s_ij − onehot_ij)
  backward: ({ inputs: [x, y, dy], dy: G }) => {
    const n = x.shape[0];
    return [
      () => {
        const s = softmax(x);
        const t = mul(G, s);
        return mul(add(t, scale(mul(s, sum(t, 1, true)), -1)), reshape(dy, [n, 1]));
      },
      null,
      () => sum(mul(G, softmaxCrossEntropyGrad(x, y, fill(dy, 1))), 1),
    ];
  },
};

export const softmaxCrossEntropyGrad = (logits: Tensor, labels: Tensor, dy: Tensor): Tensor =>
  apply(softmaxCrossEntropyGradOp, [logits, labels, dy], {});

/** the composition the fused op replaced in softmaxCrossEntropy's backward, (softmax − onehot)·dy: its test oracle */
export const softmaxCrossEntropyGradComposed = (x: Tensor, y: Tensor, dy: Tensor): Tensor =>
  mul(add(softmax(x), scale(oneHot(y, x.shape[1]), -1)), reshape(dy, [x.shape[0], 1]));
