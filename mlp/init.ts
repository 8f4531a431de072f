// pytorch's default nn.Linear initialisation, drawn from one of our generators.
import type { Rng } from '../engine/rng.ts';

/** One linear layer's parameters in torch layout. */
export interface LinearParams {
  /** [dOut, dIn] row-major, as torch stores `Linear.weight` */
  weight: Float32Array;
  /** [dOut] */
  bias: Float32Array;
}

/**
 * Initialises `nn.Linear(dIn, dOut)` the way torch's `reset_parameters` does: the weight with
 * `kaiming_uniform_(a=√5)`, i.e. uniform in ±√3·gain/√fan_in with gain = √(2/(1+a²)), then the bias
 * uniform in ±1/√fan_in. With the `torch` generator this matches PyTorch bit for bit.
 */
export function linearInit(rng: Rng, dIn: number, dOut: number): LinearParams {
  if (!Number.isSafeInteger(dIn) || dIn < 1 || !Number.isSafeInteger(dOut) || dOut < 1) {
    throw new RangeError(`linear layer sizes must be positive integers, got ${dIn} -> ${dOut}`);
  }
  const fanIn = dIn;
  // the same double arithmetic as torch.nn.init (a**2 of √5 is 5.000000000000001 there too)
  const a = Math.sqrt(5);
  const gain = Math.sqrt(2 / (1 + a * a));
  const std = gain / Math.sqrt(fanIn);
  const weightBound = Math.sqrt(3) * std;
  const weight = rng.uniform(-weightBound, weightBound, dOut * dIn);
  const biasBound = 1 / Math.sqrt(fanIn);
  const bias = rng.uniform(-biasBound, biasBound, dOut);
  return { weight, bias };
}

/**
 * Initialises the linear layers of an MLP with layer widths `sizes` (input first), in construction
 * order: layer i maps sizes[i] to sizes[i + 1]. For [784, 32, 16, 10] this draws 25 818 values.
 */
export function mlpInit(rng: Rng, sizes: number[]): LinearParams[] {
  if (sizes.length < 2) throw new RangeError(`an MLP needs at least two layer sizes, got [${sizes.join(', ')}]`);
  const layers: LinearParams[] = [];
  for (let i = 0; i + 1 < sizes.length; i++) layers.push(linearInit(rng, sizes[i]!, sizes[i + 1]!));
  return layers;
}
