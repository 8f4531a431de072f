// composite ops: built from primitives in TypeScript, so they need no kernel and get gradients for free.
import type { Tensor } from './tensor.ts';
import { add, argmax, eq, exp, log, matmul, max, mul, oneHot, scale, softmaxCrossEntropy, sum } from './ops/index.ts';

export const sub = (a: Tensor, b: Tensor): Tensor => add(a, scale(b, -1));

/** mean over one axis, or over everything when axis is omitted (→ shape []) */
export function mean(x: Tensor, axis?: number): Tensor {
  if (axis !== undefined) return scale(sum(x, axis), 1 / x.shape[axis < 0 ? axis + x.shape.length : axis]);
  let t = x;
  while (t.shape.length > 0) t = sum(t, 0);
  return scale(t, 1 / x.size);
}

/** x [batch, d_in] · W [d_in, d_out] + b [d_out] → [batch, d_out] */
export const linear = (x: Tensor, W: Tensor, b: Tensor): Tensor => add(matmul(x, W), b);

/** log-softmax over the last axis; the max is a constant shift (its gradient cancels exactly) */
export function logSoftmax(x: Tensor): Tensor {
  const axis = x.shape.length - 1;
  const shifted = sub(x, max(x, axis, true).detach());
  return sub(shifted, log(sum(exp(shifted), axis, true)));
}

export const softmax = (x: Tensor): Tensor => exp(logSoftmax(x));

/** mean cross-entropy of logits [n, c] against labels [n] (nn.CrossEntropyLoss), through the fused primitive */
export const crossEntropy = (logits: Tensor, labels: Tensor): Tensor => mean(softmaxCrossEntropy(logits, labels));

/** the same loss from logSoftmax; the fused one is tested against it */
export const crossEntropyComposed = (logits: Tensor, labels: Tensor): Tensor =>
  scale(mean(sum(mul(logSoftmax(logits), oneHot(labels, logits.shape[1])), 1)), -1);

/** fraction of rows whose argmax equals the label → shape [] */
export const accuracy = (logits: Tensor, labels: Tensor): Tensor => mean(eq(argmax(logits, 1), labels));
