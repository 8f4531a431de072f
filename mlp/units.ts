// "The units of a layer": a neuron of a linear layer, a channel of a conv layer. The recorder, the
// statistics and the neuron analyses work on [samples, units] tables; a feature map [B, C, H, W] enters
// them as its channels' spatial means [B, C], and its gradient as the per-channel sum over positions:
// the gradient of the loss w.r.t. adding one constant to every position of the channel (which moves the
// channel's mean by that constant), so a unit's activation and gradient still belong together.
import { reshape, scale, sum } from '../engine/ops/index.ts';
import type { Tensor } from '../engine/tensor.ts';

/** [B, C, H, W] → [B, C]: each channel's mean over its H·W positions (a [B, D] tensor is returned as is) */
export function channelMeans(t: Tensor): Tensor {
  if (t.shape.length !== 4) return t;
  const [, , h, w] = t.shape;
  return scale(channelSums(t), 1 / (h * w));
}

/** [B, C, H, W] → [B, C]: each channel's sum over its positions (a [B, D] tensor is returned as is) */
export function channelSums(t: Tensor): Tensor {
  if (t.shape.length !== 4) return t;
  const [b, c, h, w] = t.shape;
  return reshape(sum(reshape(t, [b * c, h * w]), 1), [b, c]);
}

/** host version of channelMeans/channelSums: rows [B, C·HW] of `data` → out [B, C] (mean when `mean`) */
export function channelReduce(data: ArrayLike<number>, b: number, c: number, hw: number, mean: boolean, out: Float32Array, outOffset = 0): void {
  for (let i = 0; i < b * c; i++) {
    let acc = 0;
    for (let p = i * hw, e = p + hw; p < e; p++) acc += data[p];
    out[outOffset + i] = mean ? acc / hw : acc;
  }
}

/** units of an activation of per-sample shape `shape`: channels of a map [C, H, W], else its width */
export const unitCount = (shape: readonly number[]): number => (shape.length === 3 ? shape[0] : shape.reduce((a, b) => a * b, 1));
