// A CNN's feature maps position by position. The recorder keeps a map by its channels (spatial means,
// mlp/units.ts): enough for every per-unit statistic, but a histogram of a conv layer's values needs every
// position. Those are taken at each epoch's end on a fixed probe — the same training images every epoch,
// through that epoch's weights — so the histograms of epoch 0 and epoch 19 compare like with like.
// Pure: the maps in, JSON-ready data out (run/session.ts runs the forward pass).
import { dispose, tidy } from '../engine/memory.ts';
import { noGrad, Tensor } from '../engine/tensor.ts';
import type { Cnn } from '../mlp/cnn.ts';
import type { Split } from '../mlp/mnist.ts';
import { type Histogram, histogram } from './histogram.ts';

/** one map's values over every sample and position of the probe */
export interface PositionStats {
  /** [channels, height, width] per sample */
  shape: number[];
  /** values: samples × channels × height × width */
  count: number;
  mean: number;
  /** sample std (ddof 1), as the epoch statistics */
  std: number;
  min: number;
  max: number;
  /** matplotlib's bins over [min, max] of all values */
  histogram: Histogram;
  /** per channel: fraction of (sample, position) values > 0 [channels] */
  positiveFraction: number[];
  /** per channel: the largest value at any position of any probe sample [channels] */
  channelMax: number[];
}

/** the probe and what was measured on it at one epoch's end */
export interface ProbeStats {
  /** training-set indices of the probe images (the first `count` in file order) */
  rows: { first: number; count: number };
  /** per map name (layers.K.pre / post / pool) */
  maps: Record<string, PositionStats>;
}

/** statistics of one map [samples, C, H, W] (row-major values) */
export function positionStats(data: ArrayLike<number>, shape: readonly number[], bins = 30): PositionStats {
  const [n, c, h, w] = shape, hw = h * w;
  if (shape.length !== 4 || data.length !== n * c * hw) throw new Error(`positionStats: ${data.length} values for shape [${shape.join(', ')}]`);
  let sum = 0, min = Infinity, max = -Infinity;
  const positive = new Array<number>(c).fill(0), channelMax = new Array<number>(c).fill(-Infinity);
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < c; ch++) {
      let top = channelMax[ch], pos = 0;
      for (let p = (i * c + ch) * hw, e = p + hw; p < e; p++) {
        const v = data[p];
        sum += v;
        if (v < min) min = v;
        if (v > max) max = v;
        if (v > top) top = v;
        if (v > 0) pos++;
      }
      channelMax[ch] = top;
      positive[ch] += pos;
    }
  }
  const count = data.length, mean = sum / count;
  let m2 = 0;
  for (let p = 0; p < count; p++) m2 += (data[p] - mean) ** 2;
  return {
    shape: [c, h, w], count, mean, std: count > 1 ? Math.sqrt(m2 / (count - 1)) : NaN, min, max,
    histogram: histogram(data, bins),
    positiveFraction: positive.map((p) => p / (n * hw)), channelMax,
  };
}

/** the probe's size: the first PROBE_IMAGES training images in file order */
export const PROBE_IMAGES = 256;

/**
 * the feature maps of `model` (every 4-D named tensor: layers.K.pre, post, pool) on the first `count`
 * images of `split`, each map's statistics over all its positions. One forward pass on the model's
 * backend (eval mode, no gradients), then one read per map.
 */
export async function measureProbe(model: Cnn, split: Split, count = PROBE_IMAGES, bins = 30): Promise<ProbeStats> {
  const n = Math.min(count, split.count), d = split.rows * split.cols;
  const x = Float32Array.from(split.images.subarray(0, n * d), (v) => v / 255);
  const maps = tidy(() => noGrad(() => {
    const acts = model.forward(Tensor.from(x, [n, d], { backend: model.backend }));
    // returned from tidy(), so their buffers outlive it
    const out: [string, Tensor][] = [];
    for (const [name, t] of Object.entries(acts)) if (t && t.shape.length === 4) out.push([name, t]);
    return out;
  }));
  const result: Record<string, PositionStats> = {};
  try {
    for (const [name, t] of maps) result[name] = positionStats(await t.read(), t.shape, bins);
  } finally {
    dispose(...maps.map(([, t]) => t));
  }
  return { rows: { first: 0, count: n }, maps: result };
}
