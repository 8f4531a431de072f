// a split uploaded once to the model's device, for the generic step and evaluation (and the fused GPU
// step's labels and pixel table): images as packed bytes, gathered into a batch on the device.
import type { Backend } from '../engine/backend.ts';
import { keep } from '../engine/memory.ts';
import { gatherBytes, gatherRows, packBytes, reshape } from '../engine/ops/index.ts';
import { Tensor } from '../engine/tensor.ts';
import { pixel } from './batch.ts';
import type { Split } from './mnist.ts';

/** a split uploaded once to the model's device: images as packed bytes, labels as [N, 1] floats */
export interface DeviceSplit {
  /** the images as packed bytes (packBytes), the labels [N, 1] and the byte → pixel table [256] */
  images: Tensor; labels: Tensor; lut: Tensor;
  /** rows order[start .. start+n) as x [n, d] (pixels/255) and labels y [n] */
  batch(order: Tensor, start: number, n: number): { x: Tensor; y: Tensor };
}

// a split keeps its device copy while the split lives (evaluation runs every epoch)
const deviceSplits = new WeakMap<Split, Map<Backend, DeviceSplit>>();

export function deviceSplit(split: Split, backend: Backend): DeviceSplit {
  let perBackend = deviceSplits.get(split);
  const cached = perBackend?.get(backend);
  if (cached) return cached;
  const d = split.rows * split.cols;
  const images = Tensor.from(packBytes(split.images), [Math.ceil((split.count * d) / 4)], { backend });
  const labels = Tensor.from(Float32Array.from(split.labels), [split.count, 1], { backend });
  const lut = Tensor.from(Float32Array.from({ length: 256 }, (_, b) => pixel(b)), [256], { backend });
  keep(images, labels, lut);
  const ds: DeviceSplit = {
    images, labels, lut,
    batch: (order, start, n) => ({
      x: gatherBytes(images, order, lut, d, start, n),                  // [n, d]
      y: reshape(gatherRows(labels, order, start, n), [n]),             // [n]
    }),
  };
  if (!perBackend) deviceSplits.set(split, (perBackend = new Map()));
  perBackend.set(backend, ds);
  return ds;
}
