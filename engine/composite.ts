// composite ops: built from primitives in TypeScript, so they need no kernel and get gradients for free.
import type { Tensor } from './tensor.ts';
import {
  add, argmax, dropoutMask, type DropoutKey, eq, exp, fill, log, matmul, max, mul, oneHot, rsqrt, scale, softmaxCrossEntropy, sum,
} from './ops/index.ts';

export const sub = (a: Tensor, b: Tensor): Tensor => add(a, scale(b, -1));

/** mean over one axis, or over everything when axis is omitted (→ shape []) */
export function mean(x: Tensor, axis?: number): Tensor {
  if (axis !== undefined) return scale(sum(x, axis), 1 / x.shape[axis < 0 ? axis + x.shape.length : axis]);
  let t = x;
  while (t.shape.length > 0) t = sum(t, 0);
  return scale(t, 1 / x.size);
}

/** x [batch, d_in] · W [d_in, d_out] + b [d_out] → [batch, d_out]: the fused primitive (ops/linear.ts) */
export { linear } from './ops/index.ts';

/** the same from matmul and add; the fused primitive is tested against it */
export const linearComposed = (x: Tensor, W: Tensor, b: Tensor): Tensor => add(matmul(x, W), b);

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

// --- normalisation and dropout (composed: rsqrt and dropoutMask are the only primitives they add)

/** x + c for a constant c */
export const addScalar = (x: Tensor, c: number): Tensor => add(x, fill(x, c));

/**
 * layer normalisation over the last axis (nn.LayerNorm(d), elementwise affine): x [batch, d],
 * weight, bias [d] → (x − mean) / √(var + eps) · weight + bias, var biased (÷ d) → [batch, d]
 */
export function layerNorm(x: Tensor, weight: Tensor, bias: Tensor, eps = 1e-5): Tensor {
  const axis = x.shape.length - 1, d = x.shape[axis];
  const centred = sub(x, scale(sum(x, axis, true), 1 / d));                // [batch, d]
  const variance = scale(sum(mul(centred, centred), axis, true), 1 / d);   // [batch, 1]
  return add(mul(mul(centred, rsqrt(addScalar(variance, eps))), weight), bias); // [batch, d]
}

/**
 * batch normalisation in training mode (nn.BatchNorm1d(d).train()): x [batch, d] is normalised with
 * its own per-feature mean and biased variance → y [batch, d], and those statistics [d] for the
 * caller's running averages (torch updates running_var with the unbiased variance: var · n/(n − 1))
 */
export function batchNormTrain(x: Tensor, weight: Tensor, bias: Tensor, eps = 1e-5): { y: Tensor; mean: Tensor; variance: Tensor } {
  const n = x.shape[0];
  const mu = scale(sum(x, 0), 1 / n);                                      // [d]
  const centred = sub(x, mu);                                              // [batch, d]
  const variance = scale(sum(mul(centred, centred), 0), 1 / n);            // [d]
  const y = add(mul(mul(centred, rsqrt(addScalar(variance, eps))), weight), bias); // [batch, d]
  return { y, mean: mu, variance };
}

/** batch normalisation in eval mode: the running statistics [d] instead of the batch's → [batch, d] */
export function batchNormEval(
  x: Tensor, weight: Tensor, bias: Tensor, runningMean: Tensor, runningVar: Tensor, eps = 1e-5,
): Tensor {
  const inv = rsqrt(addScalar(runningVar, eps));                           // [d]
  return add(mul(mul(sub(x, runningMean), inv), weight), bias);            // [batch, d]
}

/**
 * inverted dropout: in training, each element is zeroed with probability p and the rest scaled by
 * 1/(1 − p), with the counter-based mask of ops/dropout-mask.ts (same bits on every backend);
 * otherwise (evaluation) x itself. p = 0 is the identity too.
 */
export function dropout(x: Tensor, p: number, key: DropoutKey, training: boolean): Tensor {
  if (!training || p === 0) return x;
  return mul(x, dropoutMask(x, p, key));
}
