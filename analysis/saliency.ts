// gradient saliency (NB02 cells 130–131): |d pre-activation of a neuron / d input pixels| for one
// image, every chosen neuron in one batched backward pass. A CNN's unit is a channel: the derivative of
// its map's spatial mean.
import { mul, sum } from '../engine/ops/index.ts';
import { Tensor } from '../engine/tensor.ts';
import type { Net } from '../mlp/net.ts';
import { reshape } from '../engine/ops/index.ts';
import { layerName, sizeOf, widthOf, type HostTensor, type Site } from './forward-cache.ts';

/** numpy's default (linear) percentile of values, q in [0, 100] */
export function percentile(values: ArrayLike<number>, q: number): number {
  const s = Float64Array.from(values).sort();
  if (s.length === 0) return NaN;
  const pos = ((s.length - 1) * q) / 100, lo = Math.floor(pos), hi = Math.min(lo + 1, s.length - 1);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

/** values clipped to their [lo, hi] percentiles and mapped to [0, 1] (all 0 when the two coincide) → same length */
export function clipToPercentiles(values: ArrayLike<number>, lo = 1, hi = 99): Float32Array {
  const a = percentile(values, lo), b = percentile(values, hi);
  return Float32Array.from(values, (v) => (b > a ? (Math.min(Math.max(v, a), b) - a) / (b - a) : 0));
}

export interface Saliency {
  target: string;
  neurons: number[];
  /** |gradient| of each neuron's activation w.r.t. each input pixel [neurons, d_in] */
  abs: HostTensor;
  /** abs clipped per neuron to its 1st–99th percentile and scaled to [0, 1] [neurons, d_in] */
  normalized: HostTensor;
}

/**
 * saliency of `image` [d_in] for neurons of hidden layer `layer` (default every neuron), taken on the
 * pre-activation as NB02 does (captum.Saliency on linear2's output), or the post-activation when
 * `site` says so. One forward/backward of the image repeated once per neuron: row r's root is its
 * neuron's activation, so the input gradient's row r is that neuron's saliency.
 */
export async function saliencyMaps(
  model: Net, layer: number, image: ArrayLike<number>,
  opts: { neurons?: readonly number[]; site?: Site; clip?: readonly [number, number] } = {},
): Promise<Saliency> {
  const backend = model.layers[0].W.backend, d = model.inputSize;
  if (image.length !== d) throw new RangeError(`image has ${image.length} values, the model takes ${d}`);
  const target = layerName(model, layer, opts.site ?? 'pre'), w = widthOf(model, target);
  const neurons = [...(opts.neurons ?? Array.from({ length: w }, (_, j) => j))], m = neurons.length;
  const x = new Float32Array(m * d); // [neurons, d_in]
  for (let r = 0; r < m; r++) for (let j = 0; j < d; j++) x[r * d + j] = image[j];
  // a conv map's unit is its channel's spatial mean: row r picks 1/(H·W) of every position of channel j
  const size = sizeOf(model, target), pos = size / w;
  const pick = new Float32Array(m * size); // [neurons, width] (a map's: [channels, C·H·W])
  neurons.forEach((j, r) => { pick.fill(1 / pos, r * size + j * pos, r * size + (j + 1) * pos); });
  const xt = Tensor.from(x, [m, d], { backend, requiresGrad: true });
  const acts = model.forward(xt);
  const a = pos === 1 ? acts[target]! : reshape(acts[target]!, [m, size]); // [neurons, width]
  sum(sum(mul(a, Tensor.from(pick, [m, size], { backend })), 1), 0).backward(); // []
  const g = Float32Array.from(await xt.grad!.read(), Math.abs); // [neurons, d_in]
  const [lo, hi] = opts.clip ?? [1, 99];
  const normalized = new Float32Array(m * d); // [neurons, d_in]
  for (let r = 0; r < m; r++) normalized.set(clipToPercentiles(g.subarray(r * d, (r + 1) * d), lo, hi), r * d);
  return { target, neurons, abs: { shape: [m, d], data: g }, normalized: { shape: [m, d], data: normalized } };
}
