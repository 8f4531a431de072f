import { apply, type Tensor } from '../tensor.ts';
import type { Primitive } from '../primitive.ts';
import { fmt } from '../shape.ts';
import { HIST_EDGES_MAX_RANGES, histEdgesKernel } from '../../shaders/hist-edges.ts';
import { checkGroupIndex } from './group-sums.ts';

export interface HistEdgesAttrs {
  width: number;
  groups: number;
  /** the last range spans groups 0 .. shared-1 (the classes, without extra groups such as a first batch) */
  shared: number;
  /** bins per histogram, 1 ≤ bins ≤ 64 */
  bins: number;
}

const f32 = Math.fround;

/**
 * numpy.histogram's float32 bin edges for each group's values and for the values of groups
 * 0 .. shared-1 together, from groupSums [G, 4, width] (its min and max rows) and the group index it was
 * made with → [G + 1, bins + 1] (range g = group g; range G = the shared one). The definition (as
 * analysis/histogram.ts): lo, hi = min, max, widened to f32(v ∓ 0.5) when equal; step = f32(f32(hi − lo) /
 * bins); e[i] = f32(f32(i·step) + lo) for i < bins, e[bins] = hi. An empty range (no rows, or only NaN)
 * or one with an infinite end gives NaN edges. The GPU computes every rounding in integers (shaders/
 * f32-exact.ts), so both backends give the same bits. A constant: no gradient.
 */
export const histEdgesOp: Primitive<HistEdgesAttrs> = {
  name: 'histEdges',
  arity: 2,
  gpu: histEdgesKernel,
  shape: ([sums, index], attrs) => {
    const { width, groups, shared, bins } = attrs;
    checkGroupIndex('histEdges', [groups, width], index, attrs);
    if (sums.length !== 3 || sums[0] !== groups || sums[1] !== 4 || sums[2] !== width) {
      throw new Error(`histEdges: sums must be groupSums' [${groups}, 4, ${width}], got ${fmt(sums)}`);
    }
    if (!Number.isInteger(shared) || shared < 0 || shared > groups) throw new Error(`histEdges: shared must be an integer in 0..${groups}, got ${shared}`);
    if (!Number.isInteger(bins) || bins < 1 || bins > 64) throw new Error(`histEdges: bins must be an integer in 1..64, got ${bins}`);
    if (groups + 1 > HIST_EDGES_MAX_RANGES) throw new Error(`histEdges: at most ${HIST_EDGES_MAX_RANGES - 1} groups, got ${groups}`);
    return [groups + 1, bins + 1];
  },
  cpu: ([sums, index], _, out, { width: w, groups, shared, bins }) => {
    const range = (gs: number[]): [number, number] => {
      let lo = Infinity, hi = -Infinity;
      for (const g of gs) {
        if (index[g + 1] === index[g]) continue;
        for (let j = 0; j < w; j++) {
          const a = sums[(g * 4 + 1) * w + j], b = sums[(g * 4 + 2) * w + j];
          if (a < lo) lo = a;
          if (b > hi) hi = b;
        }
      }
      return [lo, hi];
    };
    for (let r = 0; r <= groups; r++) {
      let [lo, hi] = range(r < groups ? [r] : Array.from({ length: shared }, (_, g) => g));
      const e = out.subarray(r * (bins + 1), (r + 1) * (bins + 1));
      if (!(Number.isFinite(lo) && Number.isFinite(hi) && lo <= hi)) { e.fill(NaN); continue; }
      if (lo === hi) { lo = f32(lo - 0.5); hi = f32(hi + 0.5); }
      const step = f32(f32(hi - lo) / bins);
      for (let i = 0; i < bins; i++) e[i] = f32(f32(i * step) + lo);
      e[bins] = hi;
    }
  },
};

/** the edges of every group's histogram and of the shared one → [groups + 1, bins + 1] */
export const histEdges = (sums: Tensor, index: Tensor, attrs: HistEdgesAttrs): Tensor =>
  apply(histEdgesOp, [sums, index], attrs);
