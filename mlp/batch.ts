// assembling a mini-batch from the raw dataset: bytes → float32 pixels in [0, 1], labels as floats.
import type { Split } from './mnist.ts';

// float32(b / 255) for every byte, exactly as ToTensor's float division rounds it
const PIXEL = Float32Array.from({ length: 256 }, (_, b) => b / 255);

/** the pixel value of a byte: b / 255 rounded to float32 (torchvision's ToTensor) */
export const pixel = (b: number): number => PIXEL[b];

/**
 * images of `order[start .. start+n)` as [n, rows·cols] floats, and their labels [n] as floats
 * (class indices are exact in f32). Writes into `x`/`y` when given (no allocation per step).
 */
export function gatherBatch(
  split: Split, order: ArrayLike<number>, start: number, n: number,
  x = new Float32Array(n * split.rows * split.cols), y = new Float32Array(n),
): { x: Float32Array; y: Float32Array } {
  const d = split.rows * split.cols, img = split.images;
  for (let r = 0; r < n; r++) {
    const s = order[start + r], src = s * d, dst = r * d;
    for (let j = 0; j < d; j++) x[dst + j] = PIXEL[img[src + j]];
    y[r] = split.labels[s];
  }
  return { x, y };
}
