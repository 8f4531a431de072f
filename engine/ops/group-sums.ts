import { apply, type Tensor } from '../tensor.ts';
import type { CpuArray, Primitive } from '../primitive.ts';
import { fmt, sizeOf, type Shape } from '../shape.ts';
import { groupSumsKernel } from '../../shaders/group-sums.ts';

export interface GroupAttrs {
  /** columns of x (neurons): x is [rows, width] row-major, of any shape of that size */
  width: number;
  /** number of groups G in the index */
  groups: number;
}

/**
 * the group index of the statistics kernels (group-sums, hist-edges, group-spread), one f32 tensor
 * [G + 1 + n]: G + 1 offsets, then n row numbers. Group g is the rows listed at positions
 * offsets[g] .. offsets[g + 1] of the row part (offsets[0] = 0, offsets[G] = n). A row may be in several
 * groups (the epoch statistics list each class, then the first batch again). Row numbers and counts are
 * integers held exactly by f32 below 2^24.
 */
export function checkGroupIndex(op: string, x: Shape, index: Shape, { width, groups }: GroupAttrs): number {
  if (!Number.isInteger(width) || width < 1) throw new Error(`${op}: width must be a positive integer, got ${width}`);
  if (!Number.isInteger(groups) || groups < 1) throw new Error(`${op}: groups must be a positive integer, got ${groups}`);
  if (sizeOf(x) % width !== 0) throw new Error(`${op}: x of shape ${fmt(x)} is not rows of width ${width}`);
  if (index.length !== 1 || index[0] < groups + 1) throw new Error(`${op}: the group index must be [${groups} + 1 + rows], got ${fmt(index)}`);
  const listed = index[0] - groups - 1;
  if (listed * width >= 2 ** 24) throw new Error(`${op}: ${listed} rows of width ${width} exceed the 2^24 values f32 counts hold exactly`);
  return listed;
}

/** the rows of group g as [start, end) positions, and the row at a position (cpu oracles) */
export function groupRows(index: CpuArray, groups: number, g: number): { start: number; end: number; row: (p: number) => number } {
  return { start: index[g], end: index[g + 1], row: (p) => index[groups + 1 + p] };
}

/**
 * per group g and column j of x [rows, width]: Σx, min, max and the count of x > 0 over the group's rows
 * → [G, 4, width] (rows sum, min, max, positives). min/max ignore NaN and are NaN for an empty group (or
 * one of NaN only); −0 and +0 are one value, written +0. Counts are exact; sums are f32 on the GPU (in
 * blocks, see shaders/group-sums.ts), float64 rounded once here. A constant: no gradient.
 */
export const groupSumsOp: Primitive<GroupAttrs> = {
  name: 'groupSums',
  arity: 2,
  gpu: groupSumsKernel,
  shape: ([x, index], attrs) => {
    checkGroupIndex('groupSums', x, index, attrs);
    return [attrs.groups, 4, attrs.width];
  },
  cpu: ([x, index], _, out, { width: w, groups }) => {
    for (let g = 0; g < groups; g++) {
      const { start, end, row } = groupRows(index, groups, g);
      for (let j = 0; j < w; j++) {
        let s = 0, lo = NaN, hi = NaN, pos = 0;
        for (let p = start; p < end; p++) {
          const v = x[row(p) * w + j];
          s += v;
          if (Number.isNaN(v)) continue;
          if (!(v >= lo)) lo = v;
          if (!(v <= hi)) hi = v;
          if (v > 0) pos++;
        }
        const at = g * 4 * w + j;
        out[at] = s;
        out[at + w] = lo === 0 ? 0 : lo;
        out[at + 2 * w] = hi === 0 ? 0 : hi;
        out[at + 3 * w] = pos;
      }
    }
  },
};

/** x [rows, width] by the groups of `index` → [G, 4, width]: Σx, min, max, #(x > 0) per group and column */
export const groupSums = (x: Tensor, index: Tensor, width: number, groups: number): Tensor =>
  apply(groupSumsOp, [x, index], { width, groups });
