import { apply, type Tensor } from '../tensor.ts';
import type { Primitive } from '../primitive.ts';
import { fmt } from '../shape.ts';
import { softmaxCrossEntropyGrad } from './softmax-cross-entropy-grad.ts';
import { softmaxCrossEntropyKernel } from '../../shaders/softmax-cross-entropy.ts';

/**
 * fused per-sample cross-entropy: logits [n, c], labels [n] (class indices as floats) → losses [n],
 * loss_i = logsumexp(logits_i) − logits_i[label_i]. Labels get no gradient.
 */
export const softmaxCrossEntropyOp: Primitive = {
  name: 'softmaxCrossEntropy',
  arity: 2,
  gpu: softmaxCrossEntropyKernel,
  shape: ([x, y]) => {
    if (x.length !== 2 || y.length !== 1 || y[0] !== x[0]) {
      throw new Error(`softmaxCrossEntropy: expects logits [n, c] and labels [n], got ${fmt(x)} and ${fmt(y)}`);
    }
    return [x[0]];
  },
  cpu: ([x, y], [[n, c]], out) => {
    for (let i = 0; i < n; i++) {
      const label = y[i];
      if (!Number.isInteger(label) || label < 0 || label >= c) {
        throw new Error(`softmaxCrossEntropy: label ${label} of row ${i} is not a class index in [0, ${c})`);
      }
      // subtract the row max so exp cannot overflow
      let m = -Infinity;
      for (let j = 0; j < c; j++) m = Math.max(m, x[i * c + j]);
      let s = 0;
      for (let j = 0; j < c; j++) s += Math.exp(x[i * c + j] - m);
      out[i] = m + Math.log(s) - x[i * c + label];
    }
  },
  // d loss_i / d logits_i = softmax(logits_i) − onehot(label_i), times dy_i: one fused op (one dispatch
  // instead of ~13; softmaxCrossEntropyGradComposed is the composition it replaced)
  backward: ({ inputs: [x, y], dy }) => [() => softmaxCrossEntropyGrad(x, y, dy), null],
};

export const softmaxCrossEntropy = (logits: Tensor, labels: Tensor): Tensor =>
  apply(softmaxCrossEntropyOp, [logits, labels], {});
