// the registry of primitives: every op that has its own CPU loop (and WGSL kernel). Everything else
// (linear, logSoftmax, crossEntropy, accuracy, mean, sub, …) is composed in ../composite.ts.
import type { Primitive } from '../primitive.ts';
import { addOp } from './add.ts';
import { argmaxOp } from './argmax.ts';
import { conv2dOp } from './conv2d.ts';
import { conv2dInputGradOp } from './conv2d-input-grad.ts';
import { conv2dWeightGradOp } from './conv2d-weight-grad.ts';
import { dropoutMaskOp } from './dropout-mask.ts';
import { eqOp } from './eq.ts';
import { expOp } from './exp.ts';
import { fillOp } from './fill.ts';
import { gatherOp } from './gather.ts';
import { groupSpreadOp } from './group-spread.ts';
import { groupSumsOp } from './group-sums.ts';
import { histEdgesOp } from './hist-edges.ts';
import { linearOp } from './linear.ts';
import { logOp } from './log.ts';
import { matmulOp } from './matmul.ts';
import { maxOp } from './max.ts';
import { maxPool2dOp } from './max-pool2d.ts';
import { maxPool2dGradOp } from './max-pool2d-grad.ts';
import { mulOp } from './mul.ts';
import { oneHotOp } from './onehot.ts';
import { rangeSquaresOp } from './range-squares.ts';
import { reciprocalOp } from './reciprocal.ts';
import { reluOp } from './relu.ts';
import { reshapeOp } from './reshape.ts';
import { rsqrtOp } from './rsqrt.ts';
import { scaleOp } from './scale.ts';
import { sgdUpdateOp } from './sgd-update.ts';
import { softmaxCrossEntropyOp } from './softmax-cross-entropy.ts';
import { softmaxCrossEntropyGradOp } from './softmax-cross-entropy-grad.ts';
import { stepOp } from './step.ts';
import { sumOp } from './sum.ts';

// a function, not a constant: op modules import tensor.ts, which imports this file, so the records
// may not exist yet while this module is first evaluated
export const primitives = (): readonly Primitive<any>[] => [
  matmulOp,              // [m,k]·[k,n], either operand transposed
  addOp, mulOp, eqOp,    // elementwise, numpy broadcasting
  scaleOp, fillOp,       // constant times x; constant fill
  reluOp, stepOp,        // max(x,0); x>0
  expOp, logOp, reciprocalOp,
  rsqrtOp,               // 1/√x (layer and batch norm)
  sumOp, maxOp, argmaxOp, // over one axis
  reshapeOp, oneHotOp,
  gatherOp,              // rows by index (mini-batches assembled on the device)
  softmaxCrossEntropyOp, // fused per-sample loss
  groupSumsOp, histEdgesOp, groupSpreadOp, rangeSquaresOp, // epoch statistics by group (analysis/epoch-stats-gpu.ts)
  dropoutMaskOp,         // counter-based inverted-dropout mask, same bits on every backend
  linearOp, softmaxCrossEntropyGradOp, sgdUpdateOp, // fusions (one dispatch each): x·W + b (+ relu); the loss's backward; p − lr·d
  conv2dOp, conv2dInputGradOp, conv2dWeightGradOp, // NCHW convolution (+ bias) and its two gradients
  maxPool2dOp, maxPool2dGradOp, // k×k max pooling and its input gradient (argmax recomputed from x)
];

export { add } from './add.ts';
export { argmax } from './argmax.ts';
export { conv2d } from './conv2d.ts';
export { conv2dInputGrad } from './conv2d-input-grad.ts';
export { conv2dWeightGrad } from './conv2d-weight-grad.ts';
export { dropoutMask, type DropoutKey } from './dropout-mask.ts';
export { eq } from './eq.ts';
export { exp } from './exp.ts';
export { fill } from './fill.ts';
export { gatherBytes, gatherRows, packBytes } from './gather.ts';
export { groupSpread } from './group-spread.ts';
export { groupSums } from './group-sums.ts';
export { histEdges } from './hist-edges.ts';
export { linear } from './linear.ts';
export { log } from './log.ts';
export { matmul } from './matmul.ts';
export { max } from './max.ts';
export { maxPool2d } from './max-pool2d.ts';
export { maxPool2dGrad } from './max-pool2d-grad.ts';
export { mul } from './mul.ts';
export { oneHot } from './onehot.ts';
export { rangeSquares } from './range-squares.ts';
export { reciprocal } from './reciprocal.ts';
export { relu } from './relu.ts';
export { reshape } from './reshape.ts';
export { rsqrt } from './rsqrt.ts';
export { scale } from './scale.ts';
export { sgdUpdate } from './sgd-update.ts';
export { softmaxCrossEntropy } from './softmax-cross-entropy.ts';
export { softmaxCrossEntropyGrad, softmaxCrossEntropyGradComposed } from './softmax-cross-entropy-grad.ts';
export { step } from './step.ts';
export { sum, sumTo } from './sum.ts';
