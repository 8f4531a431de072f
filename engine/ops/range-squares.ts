import { apply, type Tensor } from '../tensor.ts';
import type { Primitive } from '../primitive.ts';
import { fmt, sizeOf } from '../shape.ts';
import { rangeSquaresKernel } from '../../shaders/range-squares.ts';

/**
 * Σ x² over row ranges: x [rows, width] (any shape of that size) and offsets [S + 1] (row numbers as f32,
 * non-decreasing, offsets[S] ≤ rows) → [S], out[s] = Σ x² over rows offsets[s] .. offsets[s+1] (all
 * columns). The recorder's gradient slots use it for the norm of each step's rows. f32 on the GPU (blocks
 * of 32, then a tree), float64 rounded once here. A constant: no gradient.
 */
export const rangeSquaresOp: Primitive<{ width: number }> = {
  name: 'rangeSquares',
  arity: 2,
  gpu: rangeSquaresKernel,
  shape: ([x, offsets], { width }) => {
    if (!Number.isInteger(width) || width < 1) throw new Error(`rangeSquares: width must be a positive integer, got ${width}`);
    if (sizeOf(x) % width !== 0) throw new Error(`rangeSquares: x of shape ${fmt(x)} is not rows of width ${width}`);
    if (offsets.length !== 1 || offsets[0] < 2) throw new Error(`rangeSquares: offsets must be [ranges + 1] with at least one range, got ${fmt(offsets)}`);
    return [offsets[0] - 1];
  },
  cpu: ([x, offsets], _, out, { width }) => {
    for (let s = 0; s + 1 < offsets.length; s++) {
      let sq = 0;
      for (let p = offsets[s] * width; p < offsets[s + 1] * width; p++) sq += x[p] * x[p];
      out[s] = sq;
    }
  },
};

/** Σ x² over the rows of each range [offsets[s], offsets[s+1]) of x [rows, width] → [S] */
export const rangeSquares = (x: Tensor, offsets: Tensor, width: number): Tensor =>
  apply(rangeSquaresOp, [x, offsets], { width });
