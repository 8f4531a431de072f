// the test images that most activate each channel of a conv map: per image and channel the largest value
// over the map's positions and where it is, then per channel the k images with the largest; pure.
import type { Field } from './receptive-field.ts';
import { topK } from './topk.ts';

/**
 * per sample and channel the largest value over positions and its position (the first, row-major, on
 * ties): maps [n, C, P] (P = H·W positions) → max [n, C], argmax [n, C]; written at row `offset` of
 * `into` when given (chunks of a larger set)
 */
export function channelMaxima(
  data: ArrayLike<number>, n: number, c: number, p: number,
  into?: { max: Float32Array; argmax: Int32Array; offset: number },
): { max: Float32Array; argmax: Int32Array } {
  const max = into?.max ?? new Float32Array(n * c), argmax = into?.argmax ?? new Int32Array(n * c), o = (into?.offset ?? 0) * c;
  for (let i = 0; i < n * c; i++) {
    let best = 0, v = data[i * p];
    for (let q = 1; q < p; q++) if (data[i * p + q] > v) { v = data[i * p + q]; best = q; }
    max[o + i] = v;
    argmax[o + i] = best;
  }
  return { max, argmax };
}

/** per channel (column of values [n, C]) the k rows with the largest values, largest first (ties: lower row first) → [C][k] */
export function topRowsPerChannel(values: ArrayLike<number>, n: number, c: number, k: number): number[][] {
  return Array.from({ length: c }, (_, j) => topK(Array.from({ length: n }, (_, i) => values[i * c + j]), k));
}

/** one of a channel's top images: the test image, its label, the channel's max and where, and the input pixels that position reads */
export interface TopImage { index: number; label: number; value: number; position: [number, number]; field: Field }

/** the top images of every channel of one map */
export interface TopImages {
  /** the map (layers.K.post, …), its shape [C, H, W], and how images are ranked */
  name: string; shape: number[]; by: string; k: number;
  channels: { channel: number; images: TopImage[] }[];
}
