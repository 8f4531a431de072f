import { apply, type Tensor } from '../tensor.ts';
import type { Primitive } from '../primitive.ts';
import { fmt } from '../shape.ts';
import { groupSpreadKernel } from '../../shaders/group-spread.ts';
import { checkGroupIndex, groupRows } from './group-sums.ts';

export interface GroupSpreadAttrs {
  width: number;
  groups: number;
  /** bins per histogram (as histEdges) */
  bins: number;
  /** groups g ≥ ownFrom also get a histogram over their own edges (groups before it: zeros) */
  ownFrom: number;
}

/**
 * the second pass over a slot's groups: from x [rows, width], the group index, groupSums [G, 4, width]
 * and histEdges [G + 1, bins + 1] → [G, width + 2·bins], per group g: Σ(x − mean)² per column j about
 * the column's group mean (sums / count), then the counts of the group's values in each bin of the shared
 * edges (range G) and of its own edges (range g; zeros for g < ownFrom). Bins are numpy's: e[i] ≤ x <
 * e[i+1], the last bin closed; values outside [e[0], e[bins]], NaN, and any value when the edges are NaN,
 * are not counted. Counts are exact on both backends; Σ(x − mean)² is f32 on the GPU (see group-sums).
 * A constant: no gradient.
 */
export const groupSpreadOp: Primitive<GroupSpreadAttrs> = {
  name: 'groupSpread',
  arity: 4,
  gpu: groupSpreadKernel,
  shape: ([x, index, sums, edges], attrs) => {
    const { width, groups, bins, ownFrom } = attrs;
    checkGroupIndex('groupSpread', x, index, attrs);
    if (sums.length !== 3 || sums[0] !== groups || sums[1] !== 4 || sums[2] !== width) {
      throw new Error(`groupSpread: sums must be groupSums' [${groups}, 4, ${width}], got ${fmt(sums)}`);
    }
    if (edges.length !== 2 || edges[0] !== groups + 1 || edges[1] !== bins + 1) {
      throw new Error(`groupSpread: edges must be histEdges' [${groups + 1}, ${bins + 1}], got ${fmt(edges)}`);
    }
    if (!Number.isInteger(bins) || bins < 1 || bins > 64) throw new Error(`groupSpread: bins must be an integer in 1..64, got ${bins}`);
    if (!Number.isInteger(ownFrom) || ownFrom < 0) throw new Error(`groupSpread: ownFrom must be a non-negative integer, got ${ownFrom}`);
    return [groups, width + 2 * bins];
  },
  cpu: ([x, index, sums, edges], _, out, { width: w, groups, bins, ownFrom }) => {
    // the bin of v over edges e[at .. at + bins]: the last i with e[i] ≤ v, by a plain scan; -1 outside
    const binOf = (v: number, at: number): number => {
      if (!(v >= edges[at] && v <= edges[at + bins])) return -1;
      let i = 0;
      while (i + 1 < bins && edges[at + i + 1] <= v) i++;
      return i;
    };
    const row = w + 2 * bins, shared = groups * (bins + 1);
    out.fill(0);
    for (let g = 0; g < groups; g++) {
      const { start, end, row: rowAt } = groupRows(index, groups, g);
      const n = end - start, o = g * row;
      for (let j = 0; j < w; j++) {
        const mean = sums[g * 4 * w + j] / n;
        let m2 = 0;
        for (let p = start; p < end; p++) {
          const v = x[rowAt(p) * w + j];
          m2 += (v - mean) * (v - mean);
          const a = binOf(v, shared);
          if (a >= 0) out[o + w + a]++;
          if (g >= ownFrom) {
            const b = binOf(v, g * (bins + 1));
            if (b >= 0) out[o + w + bins + b]++;
          }
        }
        out[o + j] = m2;
      }
    }
  },
};

/** Σ(x − mean)² per group and column, and each group's counts on the shared and its own edges → [G, width + 2·bins] */
export const groupSpread = (x: Tensor, index: Tensor, sums: Tensor, edges: Tensor, attrs: GroupSpreadAttrs): Tensor =>
  apply(groupSpreadOp, [x, index, sums, edges], attrs);
