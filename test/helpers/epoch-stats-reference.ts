// the CPU statistics as analysis/epoch-stats.ts computed them before its loops were specialised (one
// accumulate and one spread loop per slot, flags tested per value, binOf called per value): the reference
// the faster loops must equal to the byte (test/analysis/epoch-stats-kernel.test.ts). Only the two passes
// are kept here; the merging (finishTensorStats) and the assembly are the module's own.
import {
  assembleEpochStats, type EpochContext, epochContext, type EpochStats, type EpochStatsOptions, finishTensorStats,
  moments, type SlotPasses, type TensorStats,
} from '../../analysis/epoch-stats.ts';
import { Binner, binOf, histogram } from '../../analysis/histogram.ts';
import type { EpochRecord, Slot } from '../../mlp/recorder.ts';

export function referenceEpochStats(record: EpochRecord, opts: EpochStatsOptions): EpochStats {
  const ctx = epochContext(record, opts);
  const acts: Record<string, TensorStats> = {}, grads: Record<string, TensorStats> = {};
  for (const [name, slot] of Object.entries(record.acts)) if (slot) acts[name] = finishTensorStats(slot.width, passes(slot, ctx, 'act'), ctx, 'act');
  for (const [name, slot] of Object.entries(record.grads)) if (slot) grads[name] = finishTensorStats(slot.width, passes(slot, ctx, 'grad'), ctx, 'grad');
  return assembleEpochStats(record.epoch, ctx, acts, grads, record.paramGrads);
}

function passes(slot: Slot, ctx: EpochContext, kind: 'act' | 'grad'): SlotPasses {
  const { count, labels, classes, classCounts, bins } = ctx;
  const w = slot.width, d = slot.data, cw = classes * w;
  const sum = new Float64Array(cw), mn = new Float64Array(cw).fill(Infinity), mx = new Float64Array(cw).fill(-Infinity);
  const pos = new Int32Array(w);
  const offsets = kind === 'grad' && ctx.offsets ? ctx.offsets : Uint32Array.of(0, count);
  const stepSq = new Float64Array(offsets.length - 1);
  for (let s = 0; s + 1 < offsets.length; s++) {
    let sq = 0;
    for (let r = offsets[s]; r < offsets[s + 1]; r++) {
      const o = labels[r] * w, row = r * w;
      for (let j = 0; j < w; j++) {
        const x = d[row + j], k = o + j;
        sum[k] += x;
        if (x < mn[k]) mn[k] = x;
        if (x > mx[k]) mx[k] = x;
        if (kind === 'act') pos[j] += x > 0 ? 1 : 0;
        if (kind === 'grad') sq += x * x;
      }
    }
    stepSq[s] = sq;
  }
  const mean = new Float64Array(cw);
  for (let c = 0; c < classes; c++) for (let j = 0; j < w; j++) mean[c * w + j] = classCounts[c] > 0 ? sum[c * w + j] / classCounts[c] : NaN;
  const classMin = new Array<number>(classes).fill(Infinity), classMax = new Array<number>(classes).fill(-Infinity);
  for (let c = 0; c < classes; c++) {
    for (let j = 0; j < w; j++) {
      if (mn[c * w + j] < classMin[c]) classMin[c] = mn[c * w + j];
      if (mx[c * w + j] > classMax[c]) classMax[c] = mx[c * w + j];
    }
  }
  const shared = new Binner(Math.min(...classMin), Math.max(...classMax), bins);
  const own = classMin.map((lo, c) => new Binner(lo, classMax[c], bins));
  const m2 = new Float64Array(cw), hShared = new Int32Array(classes * bins), hOwn = new Int32Array(classes * bins);
  for (let r = 0; r < count; r++) {
    const c = labels[r], o = c * w, row = r * w;
    for (let j = 0; j < w; j++) {
      const x = d[row + j], dx = x - mean[o + j];
      m2[o + j] += dx * dx;
      const a = binOf(x, shared.lo, shared.hi, shared.scale, shared.edges, 0, bins - 1);
      if (a >= 0) hShared[c * bins + a]++;
      if (kind === 'act') {
        const b = own[c].index(x);
        if (b >= 0) hOwn[c * bins + b]++;
      }
    }
  }
  const p: SlotPasses = { sum, mn, mx, m2, pos, stepSq, hShared, hOwn };
  if (ctx.firstBatch !== undefined) {
    const v = d.subarray(0, Math.min(ctx.firstBatch, count) * w);
    let s = 0, lo = Infinity, hi = -Infinity;
    for (const x of v) { s += x; if (x < lo) lo = x; if (x > hi) hi = x; }
    const mu = s / v.length;
    let M2 = 0;
    for (const x of v) M2 += (x - mu) * (x - mu);
    p.firstBatch = { rows: Math.min(ctx.firstBatch, count), all: moments(v.length, mu, M2, lo, hi), histogram: histogram(v, bins) };
  }
  return p;
}
