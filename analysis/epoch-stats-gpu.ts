// the epoch statistics of epoch-stats.ts computed where the recorder's slots live: on a GPU backend by
// WGSL kernels (engine/ops group-sums, hist-edges, group-spread, range-squares), all encoded at the end
// of the epoch, with one read-back of a packed result; on the cpu by computeEpochStats' loops.
//
// how the passes map onto kernels, per slot [count, width]:
// - the host sorts the epoch's rows by class once (a counting sort of the labels it already holds, visiting
//   order kept) into a group index: classes 0..C-1, then, with opts.firstBatch, the first batch's rows as
//   group C. Every kernel works per group, so the class grouping costs no atomics and no float sums.
// - groupSums: per group × neuron Σx, min, max (exact, as order keys), #(x > 0)
// - histEdges: numpy's edges for each group's range and for the classes' shared range, bit for bit (the
//   roundings are done in integers; the host checks them against analysis/histogram.ts and throws if a
//   single bit differs)
// - groupSpread: per group × neuron Σ(x − mean)², and per group the counts on the shared edges and on its
//   own edges (workgroup atomics; bins decided on order keys, so exactly numpy's)
// - rangeSquares (gradients): Σg² per step's rows (64-row ranges when the batch offsets do not tile)
// then finishTensorStats (shared with the CPU path) merges the groups in float64 on the host.
//
// agreement with computeEpochStats: every count (classCounts, histogram counts, positives, health) and
// every extreme and edge is identical; sums are f32 on the GPU in blocks of 32 values then a short
// sequence or tree (~(32 + n/32/lanes + lanes) roundings, vs float64 on the CPU). Tested bounds
// (test/analysis/epoch-stats-gpu.test.ts): |Δmean| ≤ 1e-6·(|mean| + std), |Δstd| ≤ 1e-5·(std + 1e-3·|mean|),
// gradient norms 1e-6 relative; seen on a real epoch: 4e-7, 2e-6 and 6e-8. Non-finite values are outside
// that promise for sums (WGSL may assume no NaN/Inf in arithmetic); min/max and histograms handle them
// as the CPU does. Degenerate ranges where numpy's one-step bin search and an exact one differ (bins
// narrower than a float32 ulp, or all values equal beyond 2^24) are not covered either.
import { Tensor } from '../engine/tensor.ts';
import { groupSpread, groupSums, histEdges, rangeSquares } from '../engine/ops/index.ts';
import { dispose } from '../engine/memory.ts';
import type { DeviceEpoch, DeviceSlot } from '../mlp/recorder.ts';
import {
  assembleEpochStats, computeEpochStats, type EpochContext, epochContext, type EpochStats, type EpochStatsOptions,
  finishTensorStats, moments, type SlotPasses, type TensorStats,
} from './epoch-stats.ts';
import { Binner } from './histogram.ts';

/** gradient norms of a record whose batch offsets do not tile its rows are summed over ranges of this many rows */
const NORM_ROWS = 64;

/**
 * every statistic of an ended epoch (Recorder.endEpochOnDevice, or record.device), computed on its
 * device: the same EpochStats as computeEpochStats(await epoch.read(), opts) (see the top of this file
 * for how close). The epoch's slots are only read, not released. On the cpu backend, and for an epoch
 * the kernels cannot take (no rows, more than 126 classes, more than 64 bins, (count + firstBatch) ·
 * width ≥ 2^24), this is the CPU path after a read-back.
 */
export async function computeEpochStatsOnDevice(epoch: DeviceEpoch, opts: EpochStatsOptions): Promise<EpochStats> {
  const slots = [...Object.values(epoch.acts), ...Object.values(epoch.grads)] as DeviceSlot[];
  const tooBig = slots.some((s) => (epoch.count + (opts.firstBatch ?? 0)) * s.width >= 2 ** 24);
  if (!epoch.onDevice || epoch.count === 0 || opts.classes + 2 > 128 || (opts.bins ?? 30) > 64 || tooBig) {
    return computeEpochStats(await epoch.read(), opts);
  }
  const ctx = epochContext(epoch, opts);
  const { classes, count, bins } = ctx;
  const firstRows = ctx.firstBatch === undefined ? null : Math.min(ctx.firstBatch, count);
  const groups = classes + (firstRows === null ? 0 : 1);
  const backend = epoch.backend;

  // inputs of the whole epoch, uploaded once
  const index = groupIndex(epoch.labels, classes, firstRows); // [groups + 1 + rows]
  const idx = Tensor.from(index, [index.length], { backend });
  const ranges = stepRanges(ctx); // [steps + 1]
  const steps = Tensor.from(ranges, [ranges.length], { backend });

  // every kernel of every slot, then one packed read
  const parts: Tensor[] = [];
  const place = (t: Tensor): number => { parts.push(t); return parts.length - 1; };
  type Job = { name: string; kind: 'act' | 'grad'; width: number; sums: number; edges: number; spread: number; sq: number };
  const jobs: Job[] = [];
  const schedule = (name: string, slot: DeviceSlot, kind: 'act' | 'grad') => {
    const x = slot.tensor, width = slot.width;
    const sums = groupSums(x, idx, width, groups); // [groups, 4, width]
    const edges = histEdges(sums, idx, { width, groups, shared: classes, bins }); // [groups + 1, bins + 1]
    const spread = groupSpread(x, idx, sums, edges, { width, groups, bins, ownFrom: kind === 'act' ? 0 : classes }); // [groups, width + 2·bins]
    jobs.push({
      name, kind, width, sums: place(sums), edges: place(edges), spread: place(spread),
      sq: kind === 'grad' ? place(rangeSquares(x, steps, width)) : -1, // [steps]
    });
  };
  for (const [name, slot] of Object.entries(epoch.acts)) schedule(name, slot!, 'act');
  for (const [name, slot] of Object.entries(epoch.grads)) schedule(name, slot!, 'grad');
  const params = epoch.paramSquares;
  const at: number[] = [];
  let total = 0;
  for (const t of parts) { at.push(total); total += t.size; }
  const paramAt = total;
  if (params) total += params.steps * params.names.length;
  const packed = Tensor.zeros([total], { backend });
  parts.forEach((t, k) => backend.copyInto(t.storage, packed.storage, at[k], t.size));
  if (params) backend.copyInto(params.squares.storage, packed.storage, paramAt, params.steps * params.names.length);
  // released now, reused only by work encoded after these commands
  dispose(...parts, idx, steps);
  const host = await packed.read();
  dispose(packed);

  const part = (k: number) => host.subarray(at[k], at[k] + parts[k].size) as Float32Array;
  const acts: Record<string, TensorStats> = {}, grads: Record<string, TensorStats> = {};
  for (const j of jobs) {
    const passes = slotPasses(part(j.sums), part(j.spread), j.sq >= 0 ? part(j.sq) : null, j.width, ctx, firstRows);
    checkEdges(part(j.edges), passes, j, ctx, `${j.kind === 'act' ? 'acts' : 'grads'}.${j.name}`);
    (j.kind === 'act' ? acts : grads)[j.name] = finishTensorStats(j.width, passes, ctx, j.kind);
  }
  const paramGrads = params ? {
    names: params.names, steps: params.steps,
    norms: Float32Array.from(host.subarray(paramAt, paramAt + params.steps * params.names.length), Math.sqrt),
  } : epoch.paramGrads;
  return assembleEpochStats(epoch.epoch, ctx, acts, grads, paramGrads);
}

/**
 * the group index of engine/ops/group-sums.ts [classes + (first ? 1 : 0) + 1 + rows]: the rows of each
 * class in visiting order (a counting sort), then rows 0 .. first-1 as one more group
 */
export function groupIndex(labels: ArrayLike<number>, classes: number, first: number | null): Float32Array {
  const n = labels.length, groups = classes + (first === null ? 0 : 1);
  const out = new Float32Array(groups + 1 + n + (first ?? 0));
  const offsets = out.subarray(0, groups + 1), rows = out.subarray(groups + 1);
  for (let r = 0; r < n; r++) offsets[labels[r] + 1]++;
  for (let c = 0; c < classes; c++) offsets[c + 1] += offsets[c];
  const next = Array.from(offsets.subarray(0, classes));
  for (let r = 0; r < n; r++) rows[next[labels[r]]++] = r;
  if (first !== null) {
    offsets[groups] = n + first;
    for (let r = 0; r < first; r++) rows[n + r] = r;
  }
  return out;
}

/** row ranges of the gradient norms: the steps when the batch offsets tile the rows, else NORM_ROWS-row ranges */
function stepRanges(ctx: EpochContext): Float32Array {
  if (ctx.offsets) return Float32Array.from(ctx.offsets);
  const n = Math.max(1, Math.ceil(ctx.count / NORM_ROWS));
  return Float32Array.from({ length: n + 1 }, (_, s) => Math.min(s * NORM_ROWS, ctx.count));
}

/** one slot's SlotPasses from its kernels' outputs: sums [G, 4, w], spread [G, w + 2·bins], squares [steps] */
function slotPasses(sums: Float32Array, spread: Float32Array, squares: Float32Array | null, w: number, ctx: EpochContext, firstRows: number | null): SlotPasses {
  const { classes, classCounts, bins } = ctx;
  const cw = classes * w, row = w + 2 * bins;
  const sum = new Float64Array(cw), mn = new Float64Array(cw).fill(Infinity), mx = new Float64Array(cw).fill(-Infinity); // [classes, width]
  const m2 = new Float64Array(cw); // [classes, width]
  const pos = new Float64Array(w); // [width]
  const hShared = new Int32Array(classes * bins), hOwn = new Int32Array(classes * bins); // [classes, bins]
  for (let c = 0; c < classes; c++) {
    // an absent class keeps the CPU's empty values (0, ±Infinity); the kernels wrote NaN extremes
    if (classCounts[c] === 0) continue;
    for (let j = 0; j < w; j++) {
      const k = c * w + j;
      sum[k] = sums[(c * 4) * w + j];
      mn[k] = sums[(c * 4 + 1) * w + j];
      mx[k] = sums[(c * 4 + 2) * w + j];
      pos[j] += sums[(c * 4 + 3) * w + j];
      m2[k] = spread[c * row + j];
    }
    for (let b = 0; b < bins; b++) {
      hShared[c * bins + b] = spread[c * row + w + b];
      hOwn[c * bins + b] = spread[c * row + w + bins + b];
    }
  }
  const passes: SlotPasses = { sum, mn, mx, m2, pos, stepSq: squares ?? new Float64Array(1), hShared, hOwn };
  if (firstRows !== null) {
    // group C: rows [0, firstRows), merged over its neurons as firstRows() of epoch-stats.ts takes them
    const g = classes, n = firstRows * w;
    let s = 0, lo = Infinity, hi = -Infinity;
    for (let j = 0; j < w; j++) {
      s += sums[(g * 4) * w + j];
      const a = sums[(g * 4 + 1) * w + j], b = sums[(g * 4 + 2) * w + j];
      if (a < lo) lo = a;
      if (b > hi) hi = b;
    }
    const mu = s / n;
    let M2 = 0;
    for (let j = 0; j < w; j++) { const dm = sums[(g * 4) * w + j] / firstRows - mu; M2 += spread[g * row + j] + firstRows * dm * dm; }
    const h = new Binner(lo, hi, bins).empty();
    h.counts = Array.from(spread.subarray(g * row + w + bins, g * row + w + 2 * bins));
    passes.firstBatch = { rows: firstRows, all: moments(n, mu, M2, lo, hi), histogram: h };
  }
  return passes;
}

/** the kernels' edges must be numpy's (Binner's) bit for bit, or the counts would not be numpy's either */
function checkEdges(edges: Float32Array, p: SlotPasses, job: { kind: 'act' | 'grad'; width: number }, ctx: EpochContext, label: string): void {
  const { classes, bins, classCounts } = ctx, w = job.width, stride = bins + 1;
  const rangeOf = (cs: number[]): [number, number] => {
    let lo = Infinity, hi = -Infinity;
    for (const c of cs) for (let j = 0; j < w; j++) { if (p.mn[c * w + j] < lo) lo = p.mn[c * w + j]; if (p.mx[c * w + j] > hi) hi = p.mx[c * w + j]; }
    return [lo, hi];
  };
  const check = (row: number, lo: number, hi: number, what: string) => {
    const want = new Binner(lo, hi, bins).edges;
    for (let i = 0; i <= bins; i++) {
      const a = edges[row * stride + i], b = want[i];
      if (a !== b && !(Number.isNaN(a) && Number.isNaN(b))) {
        throw new Error(`epoch stats on the device: ${label} ${what} edge ${i} is ${a}, numpy's is ${b} (range [${lo}, ${hi}], ${bins} bins)`);
      }
    }
  };
  check(classes + (ctx.firstBatch === undefined ? 0 : 1), ...rangeOf(Array.from({ length: classes }, (_, c) => c)), 'histogram');
  if (job.kind === 'act') for (let c = 0; c < classes; c++) if (classCounts[c] > 0) check(c, ...rangeOf([c]), `class ${c} histogram`);
  if (p.firstBatch) check(classes, p.firstBatch.all.min, p.firstBatch.all.max, 'first-batch histogram');
}
