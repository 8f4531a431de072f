// receptive fields of a CNN's map positions: which input pixels a position of `layers.K.pre/post/pool`
// reads, through the strides, kernels and paddings of the convolutions and poolings before it, clipped to
// the image; pure.
import type { Cnn } from '../mlp/cnn.ts';
import type { ActName } from '../mlp/names.ts';

/** a sliding window (a convolution or a pooling) along one axis: output i reads inputs i·stride − padding … + kernel − 1 */
export interface Window { kernel: number; stride: number; padding: number }

/**
 * the input positions [lo, hi] (inclusive, not clipped: padding reads outside the image) that output
 * positions lo..hi read, through `windows` applied in order (the first reads the image)
 */
export function receptiveRange(windows: readonly Window[], lo: number, hi: number = lo): [number, number] {
  for (let i = windows.length - 1; i >= 0; i--) {
    const w = windows[i];
    lo = lo * w.stride - w.padding;
    hi = hi * w.stride - w.padding + w.kernel - 1;
  }
  return [lo, hi];
}

/** a rectangle of the image, rows top..bottom and columns left..right inclusive */
export interface Field {
  top: number; left: number; bottom: number; right: number;
  /** the field's side before clipping to the image (padding included) */
  size: number;
}

/** the receptive field of map position (i, j) through `windows` (the same along rows and columns), clipped to rows × cols */
export function receptiveField(windows: readonly Window[], i: number, j: number, rows: number, cols: number): Field {
  const [r0, r1] = receptiveRange(windows, i), [c0, c1] = receptiveRange(windows, j);
  return {
    top: Math.max(0, r0), bottom: Math.min(rows - 1, r1), left: Math.max(0, c0), right: Math.min(cols - 1, c1), size: r1 - r0 + 1,
  };
}

/** the windows between the image and a conv map of `model` (layers.K.pre/post: conv 0..K and the poolings before K; layers.K.pool: its pooling too) */
export function windowsTo(model: Cnn, name: ActName): Window[] {
  const m = /^layers\.(\d+)\.(pre|post|pool)$/.exec(name);
  const k = m ? Number(m[1]) : -1;
  if (!m || k >= model.layers.length - 1 || model.unitShape(name).length !== 3) throw new RangeError(`${name} is not a feature map of ${model.arch}`);
  const out: Window[] = [];
  for (let l = 0; l <= k; l++) {
    const { spec, pool } = model.layers[l];
    if (spec.kind !== 'conv') throw new RangeError(`${name}: layer ${l} is not a conv layer`);
    out.push({ kernel: spec.kernel, stride: spec.stride, padding: spec.padding });
    if (pool && (l < k || m[2] === 'pool')) out.push({ kernel: pool.kernel, stride: pool.stride, padding: 0 });
  }
  return out;
}
