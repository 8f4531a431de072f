import { apply, type Tensor } from '../tensor.ts';
import type { Primitive } from '../primitive.ts';
import { fmt } from '../shape.ts';
import { checkStridePadding, windowCount } from './conv2d.ts';
import { maxPool2dGrad } from './max-pool2d-grad.ts';
import { maxPool2dKernel } from '../../shaders/max-pool2d.ts';

export interface MaxPool2dAttrs { kernel: number; stride: number; padding: number }

/** checks the attributes and x's rank; returns [OH, OW] (PyTorch's floor mode) */
export function poolGeometry(op: string, x: readonly number[], { kernel, stride, padding }: MaxPool2dAttrs): [number, number] {
  if (x.length !== 4) throw new Error(`${op}: expects x [N, C, H, W], got ${fmt(x)}`);
  if (!Number.isInteger(kernel) || kernel < 1) throw new Error(`${op}: kernel must be a positive integer, got ${kernel}`);
  checkStridePadding(op, stride, padding);
  // as PyTorch: every window must hold at least one real element
  if (2 * padding > kernel) throw new Error(`${op}: padding ${padding} must be at most half the kernel ${kernel}`);
  return [windowCount(op, x[2], kernel, stride, padding), windowCount(op, x[3], kernel, stride, padding)];
}

/**
 * the index (h·W + v, within one [H, W] plane) PyTorch's CPU kernel picks in window (i, j): the window
 * clipped to the image (padding is −inf, never picked), scanned row by row; a value replaces the running
 * max when it is greater or NaN (so ties keep the first, and the last NaN wins); an all −inf window
 * gives its first element. `m` receives the max.
 */
export function windowArgmax(x: ArrayLike<number>, base: number, H: number, W: number, i: number, j: number,
  { kernel: k, stride: s, padding: p }: MaxPool2dAttrs, m: { value: number }): number {
  const h0 = i * s - p, v0 = j * s - p;
  const h1 = Math.min(h0 + k, H), v1 = Math.min(v0 + k, W);
  const hs = Math.max(h0, 0), vs = Math.max(v0, 0);
  let best = -Infinity, at = hs * W + vs;
  for (let h = hs; h < h1; h++) {
    for (let v = vs; v < v1; v++) {
      const val = x[base + h * W + v];
      if (val > best || Number.isNaN(val)) { best = val; at = h * W + v; }
    }
  }
  m.value = best;
  return at;
}

/**
 * max pooling as torch.nn.functional.max_pool2d (dilation 1, ceil_mode false): x [N, C, H, W] →
 * [N, C, OH, OW], OH = floor((H + 2p − k)/s) + 1, padding counts as −inf
 */
export const maxPool2dOp: Primitive<MaxPool2dAttrs> = {
  name: 'maxPool2d',
  arity: 1,
  gpu: maxPool2dKernel,
  shape: ([x], attrs) => [x[0], x[1], ...poolGeometry('maxPool2d', x, attrs)],
  cpu: ([x], [[N, C, H, W]], out, attrs) => {
    const [OH, OW] = poolGeometry('maxPool2d', [N, C, H, W], attrs);
    const m = { value: 0 };
    for (let nc = 0; nc < N * C; nc++) {
      for (let i = 0; i < OH; i++) {
        for (let j = 0; j < OW; j++) {
          windowArgmax(x, nc * H * W, H, W, i, j, attrs, m);
          out[(nc * OH + i) * OW + j] = m.value;
        }
      }
    }
  },
  // NOTE: the backward recomputes each window's argmax from x (maxPool2dGrad(x, dy)) instead of saving
  // indices: a primitive has one f32 output, an index tensor would need a second op or output anyway, and
  // the recomputation reads k² values per window, which is what the forward read
  backward: ({ inputs: [x], dy, attrs }) => [() => maxPool2dGrad(x, dy, attrs)],
};

/**
 * torch.nn.functional.max_pool2d(x, kernel, stride, padding): kernel 2 by default, stride = kernel,
 * padding 0; x [N, C, H, W] → [N, C, OH, OW]
 */
export const maxPool2d = (x: Tensor, opts: { kernel?: number; stride?: number; padding?: number } = {}): Tensor => {
  const kernel = opts.kernel ?? 2;
  return apply(maxPool2dOp, [x], { kernel, stride: opts.stride ?? kernel, padding: opts.padding ?? 0 });
};
