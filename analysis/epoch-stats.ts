// per-epoch statistics of every recorded tensor and its gradient, from the recorder's epoch slots:
// moments (overall, per class, per neuron, per class × neuron), matplotlib histograms, ReLU health and
// gradient norms. CPU loops: two passes over each slot, in WebAssembly SIMD once loadEpochStatsKernels()
// has run in the thread (computeEpochStatsTimed does), else in JavaScript; the same bits either way.
// Pure: typed arrays in, JSON-ready data out.
//
// definitions (a WGSL version must compute the same; integer outputs match exactly, sums to rounding):
// - a slot is [count, width]; row r is the r-th sample visited, labels[r] its class. "values" of a group
//   are all slot entries of its rows (and, per neuron, its column).
// - mean = Σx / n. std is the sample std, ddof 1: sqrt(Σ(x − mean)² / (n − 1)), torch's default
//   `.std()` that the notebooks call (items 1, 9, 12, 21); NaN for n < 2. population std (numpy's
//   default) is std · sqrt((n − 1) / n) with the stored counts. CPU sums are float64; Σ(x − mean)² is
//   taken per class × neuron about its own mean (second pass) and merged exactly (Chan et al.):
//   M2 = Σ_g [M2_g + n_g (mean_g − mean)²].
// - min/max ignore NaN; a group with no values (a class absent from the epoch) has count 0 and
//   mean, std, min, max NaN (JSON null).
// - histograms: numpy.histogram / plt.hist semantics of analysis/histogram.ts (equal bins over
//   [min, max], half-open bins, last closed, all-equal values → [v − 0.5, v + 0.5]). `histogram` is over
//   the whole epoch's [min, max]; `perClassHistogram` counts each class over those same edges (they sum
//   to `histogram`); for activations, `perClassOwnHistogram` bins each class over its own [min, max], as
//   one plt.hist call per class draws it (item 11).
// - active: a ReLU unit is active on a sample when its post-activation is > 0 (⇔ pre > 0, relu'(0) = 0).
//   dead = active on no sample of the epoch; rare = active on some but fewer than `rareBelow` (1 %) of
//   the samples; always = active on every sample.
// - gradient slots hold d(mean batch loss)/d(tensor) (retain_grad()'s value); a tensor's step norm is
//   sqrt(Σ g²) over the rows of one step; its epoch norm is sqrt(Σ g²) over the whole slot.
import { handOver } from '../engine/hand-over.ts';
import { instantiateStatsKernels, type KernelKind, wantedKind } from '../engine/wasm/load.ts';
import type { EpochRecord, Slot } from '../mlp/recorder.ts';
import { StatsWasm } from './epoch-stats-wasm.ts';
import { Binner, type Histogram, histogram } from './histogram.ts';
import type { ProbeStats } from './position-stats.ts';

export type { Histogram } from './histogram.ts';

/** moments of one group of values */
export interface Moments { count: number; mean: number; std: number; min: number; max: number }

/** moments of n groups, one entry per group, each [n] */
export interface MomentRows { count: number[]; mean: number[]; std: number[]; min: number[]; max: number[] }

export interface TensorStats {
  /** neurons (columns) of the slot */
  width: number;
  /** all count·width values */
  all: Moments;
  /** bins over [all.min, all.max] */
  histogram: Histogram;
  /** per class: the class's rows × width values [classes] */
  perClass: MomentRows;
  /** per class, counts over `histogram.edges` [classes][bins]; the classes sum to `histogram.counts` */
  perClassHistogram: number[][];
  /** activations only: per class, over the class's own [min, max] [classes] */
  perClassOwnHistogram?: Histogram[];
  /** per neuron: its column over all rows [width] */
  perNeuron: MomentRows;
  /** per class × neuron, each [classes][width] (counts are perClass.count / width) */
  perClassNeuron: { mean: number[][]; std: number[][] };
  /** activations only: fraction of samples where the value is > 0, per neuron [width] */
  positiveFraction?: number[];
  /** opts.firstBatch: rows [0, rows) only (the notebooks' first mini-batch of each epoch, items 6, 8, 9) */
  firstBatch?: { rows: number; all: Moments; histogram: Histogram };
  /** gradients only: sqrt(Σ g²) over the slot */
  norm?: number;
  /** gradients only, when the record has batch offsets: sqrt(Σ g²) over each step's rows [steps] */
  stepNorm?: number[];
}

/** ReLU health of one hidden layer */
export interface LayerHealth {
  layer: number;
  /** the tensor it was read from (`layers.K.post`, or `layers.K.pre`) */
  tensor: string;
  /** fraction of samples where each unit is active [width] */
  activeFraction: number[];
  /** neuron indices: never active, active on < rareBelow of samples (but some), active on all */
  dead: number[];
  rare: number[];
  always: number[];
}

/** ||∂loss/∂p|| of each parameter at each step (recorded by Recorder.recordParamGrads) */
export interface ParamGradStats {
  names: string[];
  /** [params][steps] */
  stepNorm: number[][];
  /** mean and max over the steps [params] */
  mean: number[];
  max: number[];
}

export interface EpochStats {
  format: 'mlp-lens/epoch-stats';
  version: 1;
  epoch: number;
  /** samples visited */
  count: number;
  classes: number;
  bins: number;
  /** samples per class [classes] */
  classCounts: number[];
  /** the threshold used for LayerHealth.rare */
  rareBelow: number;
  /** per named activation ('layers.0.pre', …, 'logits', 'loss') */
  acts: Record<string, TensorStats>;
  /** same keys: statistics of the gradients */
  grads: Record<string, TensorStats>;
  /** one entry per hidden layer, in layer order */
  health: LayerHealth[];
  params?: ParamGradStats;
  /** a CNN's feature maps position by position, on a fixed probe at the epoch's end (analysis/position-stats.ts) */
  probe?: ProbeStats;
}

export interface EpochStatsOptions {
  classes: number;
  /** histogram bins (30, the notebooks' choice) */
  bins?: number;
  /** also keep statistics of the first `firstBatch` rows (the notebooks' first mini-batch: 64) */
  firstBatch?: number;
  /** LayerHealth.rare threshold as a fraction of samples (0.01) */
  rareBelow?: number;
}

/**
 * every statistic of one epoch record (see the definitions at the top of this file). The record's
 * slots are [count, width]; labels [count] must be < classes. Two passes over each slot.
 */
export function computeEpochStats(record: EpochRecord, opts: EpochStatsOptions): EpochStats {
  const ctx = epochContext(record, opts);
  // each row's class as int32 (the loops read one monomorphic array whatever the record's labels are)
  const rowClass = Int32Array.from({ length: ctx.count }, (_, r) => ctx.labels[r]); // [count]
  const wasm = simd;
  wasm?.begin(rowClass);
  const acts: Record<string, TensorStats> = {}, grads: Record<string, TensorStats> = {};
  for (const [name, slot] of Object.entries(record.acts)) if (slot) acts[name] = tensorStats(slot, ctx, 'act', rowClass, wasm);
  for (const [name, slot] of Object.entries(record.grads)) if (slot) grads[name] = tensorStats(slot, ctx, 'grad', rowClass, wasm);
  return assembleEpochStats(record.epoch, ctx, acts, grads, record.paramGrads);
}

// the two passes in WebAssembly SIMD (analysis/epoch-stats-wasm.ts) once loadEpochStatsKernels() has
// them; until then, and where they cannot be had (MLP_LENS_WASM=0, no SIMD, no wabt: the page's bundle),
// the JavaScript loops below. The results are the same to the bit either way.
let simd: StatsWasm | null = null;
let simdLoad: Promise<StatsWasm | null> | null = null;

/**
 * makes computeEpochStats use the SIMD passes from now on in this thread (`kind` 'js', or MLP_LENS_WASM=0:
 * the JS loops); which it uses is returned. The module is compiled once per thread.
 */
export async function loadEpochStatsKernels(kind?: KernelKind): Promise<KernelKind> {
  if (wantedKind(kind) === 'js') {
    simd = null;
    return 'js';
  }
  simdLoad ??= instantiateStatsKernels('wasm-simd').then((inst) => (inst ? new StatsWasm(inst) : null), () => null);
  simd = await simdLoad;
  return simd ? 'wasm-simd' : 'js';
}

/**
 * computeEpochStats and the seconds it took (loading the SIMD passes on the first call included), measured
 * where it ran: what run/session.ts calls on its helper thread (engine/threads.ts), whose clock is the only
 * one that sees the work. `file: true` adds the statistics file's bytes (their JSON text and a newline, in
 * UTF-8), made there too: the training thread then only writes them (no string to copy, flatten or encode
 * there: ≈ 1 ms an epoch of the reference run).
 */
export async function computeEpochStatsTimed(
  record: EpochRecord, opts: EpochStatsOptions & { file?: boolean },
): Promise<{ stats: EpochStats; seconds: number; file?: Uint8Array }> {
  const t0 = performance.now();
  if (!simdLoad) await loadEpochStatsKernels();
  const stats = computeEpochStats(record, opts);
  const file = opts.file ? new TextEncoder().encode(JSON.stringify(stats) + '\n') : undefined;
  return { stats, seconds: (performance.now() - t0) / 1000, ...(file === undefined ? {} : { file }) };
}

/**
 * computeEpochStatsTimed for a caller that only writes the statistics' file: its bytes (the UTF-8 of the
 * JSON and a newline) and the epoch, handed over from a helper thread (engine/hand-over.ts) with no
 * statistics object to copy across and rebuild there
 */
export async function epochStatsFileTimed(record: EpochRecord, opts: EpochStatsOptions): Promise<{ epoch: number; seconds: number; file: Uint8Array }> {
  const { stats, seconds, file } = await computeEpochStatsTimed(record, { ...opts, file: true });
  const bytes = file!;
  // (only a buffer of these bytes alone, and not shared memory, can be handed over; a page without
  // cross-origin isolation has no SharedArrayBuffer at all)
  const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength &&
    !(typeof SharedArrayBuffer === 'function' && bytes.buffer instanceof SharedArrayBuffer);
  return handOver({ epoch: stats.epoch, seconds, file: bytes }, own ? [bytes.buffer as ArrayBuffer] : []);
}

// --- the parts shared with the WGSL path (epoch-stats-gpu.ts): the passes over a slot differ, the rest
// (checks, class counts, merging the class × neuron groups, histograms, health) is this code

/** an epoch's labels counted and checked, its options resolved */
export interface EpochContext {
  count: number; labels: ArrayLike<number>; classes: number; classCounts: number[]; bins: number;
  rareBelow: number;
  firstBatch?: number;
  /** first row of each step, then count [steps + 1]; absent when the record's batch offsets do not tile its rows */
  offsets?: Uint32Array;
}

/** checks classes and labels, counts each class [classes], and keeps the batch offsets when they tile [0, count) */
export function epochContext(record: Pick<EpochRecord, 'count' | 'labels' | 'batchOffsets'>, opts: EpochStatsOptions): EpochContext {
  const { classes, bins = 30, firstBatch, rareBelow = 0.01 } = opts;
  const { count, labels } = record;
  if (!Number.isInteger(classes) || classes < 1) throw new Error(`epoch stats: classes must be a positive integer, got ${classes}`);
  const classCounts = new Array<number>(classes).fill(0); // [classes]
  for (let r = 0; r < count; r++) {
    const c = labels[r];
    if (!(c < classes)) throw new Error(`epoch stats: label ${c} of row ${r} is out of range for ${classes} classes`);
    classCounts[c]++;
  }
  // batch offsets must tile [0, count) to give step norms; a record without them gets none
  const o = record.batchOffsets;
  const tiles = !!o && o.length > 1 && o[0] === 0 && o[o.length - 1] === count && o.every((v, i) => i === 0 || v >= o[i - 1]);
  return { count, labels, classes, classCounts, bins, rareBelow, firstBatch, offsets: tiles ? Uint32Array.from(o!) : undefined };
}

/** the epoch's statistics object from each tensor's: adds ReLU health per hidden layer and the parameter gradient norms */
export function assembleEpochStats(
  epoch: number, ctx: EpochContext, acts: Record<string, TensorStats>, grads: Record<string, TensorStats>,
  paramGrads?: EpochRecord['paramGrads'],
): EpochStats {
  const { count, classes, bins, classCounts, rareBelow } = ctx;
  const health: LayerHealth[] = [];
  for (let k = 0; ; k++) {
    const tensor = acts[`layers.${k}.post`] ? `layers.${k}.post` : acts[`layers.${k}.pre`] ? `layers.${k}.pre` : null;
    if (!tensor) break;
    health.push(layerHealth(k, tensor, acts[tensor].positiveFraction!, count, rareBelow));
  }
  const stats: EpochStats = {
    format: 'mlp-lens/epoch-stats', version: 1, epoch, count, classes, bins, classCounts, rareBelow,
    acts, grads, health,
  };
  if (paramGrads) stats.params = paramGradStats(paramGrads.names, paramGrads.norms, paramGrads.steps);
  return stats;
}

/**
 * what the two passes over one slot [count, width] give: the CPU loops here, or the kernels of
 * epoch-stats-gpu.ts. Group arrays are [classes, width], class c's row then neuron j.
 */
export interface SlotPasses {
  /** Σx per class × neuron (0 for an absent class) */
  sum: Float64Array;
  /** min and max per class × neuron (+Infinity and −Infinity for an absent class) */
  mn: Float64Array; mx: Float64Array;
  /** Σ(x − mean)² per class × neuron, about its own mean */
  m2: Float64Array;
  /** samples with x > 0 per neuron [width] (activations) */
  pos: ArrayLike<number>;
  /** Σx² over each step's rows [steps] (gradients; one step of every row when the batch offsets do not tile) */
  stepSq: ArrayLike<number>;
  /** per class, counts over the edges of the epoch's [min, max] and over the class's own [classes, bins] */
  hShared: Int32Array; hOwn: Int32Array;
  /** rows [0, ctx.firstBatch) when asked for */
  firstBatch?: TensorStats['firstBatch'];
}

function tensorStats(slot: Slot, ctx: EpochContext, kind: 'act' | 'grad', rowClass: Int32Array, wasm: StatsWasm | null): TensorStats {
  return finishTensorStats(slot.width, cpuPasses(slot, ctx, kind, rowClass, wasm), ctx, kind);
}

/** the two CPU passes over one slot: the loops below, or the same in WebAssembly SIMD (`wasm`) */
function cpuPasses(slot: Slot, ctx: EpochContext, kind: 'act' | 'grad', rowClass: Int32Array, simdPasses: StatsWasm | null): SlotPasses {
  const { count, classes, classCounts, bins } = ctx;
  const w = slot.width, d = slot.data, cw = classes * w;
  if (d.length < count * w) throw new Error(`epoch stats: slot of width ${w} holds ${d.length} values, fewer than ${count} rows`);

  // pass 1: per class × neuron sum, min, max; positives per neuron; Σ g² per step
  const sum = new Float64Array(cw), mn = new Float64Array(cw).fill(Infinity), mx = new Float64Array(cw).fill(-Infinity); // [classes, width]
  const pos = new Int32Array(w); // [width]
  const offsets = kind === 'grad' && ctx.offsets ? ctx.offsets : Uint32Array.of(0, count); // [steps + 1]
  const stepSq = new Float64Array(offsets.length - 1); // [steps]
  // the SIMD passes when the slot fits their memory
  const wasm = simdPasses?.load(d, w, classes, bins, offsets) ? simdPasses : null;
  if (wasm) {
    wasm.accumulate(kind, sum, mn, mx, kind === 'act' ? pos : stepSq);
  } else if (kind === 'act') accumulateActs(d, w, rowClass, count, sum, mn, mx, pos);
  else accumulateGrads(d, w, rowClass, offsets, sum, mn, mx, stepSq);

  // pass 2: Σ(x − mean)² per class × neuron about its own mean; histograms on shared and own edges
  const mean = groupMeans(sum, classCounts, w);
  const { shared, own } = binners(extremes(mn, mx, classes, w), bins);
  const m2 = new Float64Array(cw); // [classes, width]
  const hShared = new Int32Array(classes * bins), hOwn = new Int32Array(classes * bins); // [classes, bins]
  const ownEdges = new Float64Array(classes * (bins + 1)); // [classes, bins + 1]
  own.forEach((b, c) => ownEdges.set(b.edges, c * (bins + 1)));
  const sharedEdges = Float64Array.from(shared.edges);
  if (wasm) {
    const ownBins = kind === 'act'
      ? { lo: Float64Array.from(own, (b) => b.lo), hi: Float64Array.from(own, (b) => b.hi), scale: Float64Array.from(own, (b) => b.scale), edges: ownEdges }
      : null;
    wasm.spread(mean, m2, hShared, kind === 'act' ? hOwn : null, shared.lo, shared.hi, shared.scale, sharedEdges, ownBins);
  } else if (kind === 'act') {
    spreadActs(d, w, count, rowClass, bins, mean, m2, hShared, hOwn, shared.lo, shared.hi, shared.scale, sharedEdges,
      Float64Array.from(own, (b) => b.lo), Float64Array.from(own, (b) => b.hi), Float64Array.from(own, (b) => b.scale), ownEdges);
  } else {
    spreadGrads(d, w, count, rowClass, bins, mean, m2, hShared, shared.lo, shared.hi, shared.scale, sharedEdges);
  }
  const passes: SlotPasses = { sum, mn, mx, m2, pos, stepSq, hShared, hOwn };
  if (ctx.firstBatch !== undefined) passes.firstBatch = firstRows(d, w, Math.min(ctx.firstBatch, count), bins);
  return passes;
}

/** class × neuron means [classes, width]: NaN for an absent class */
function groupMeans(sum: Float64Array, classCounts: number[], w: number): Float64Array {
  const mean = new Float64Array(sum.length); // [classes, width]
  for (let c = 0; c < classCounts.length; c++) for (let j = 0; j < w; j++) mean[c * w + j] = classCounts[c] > 0 ? sum[c * w + j] / classCounts[c] : NaN;
  return mean;
}

interface Extremes { classMin: number[]; classMax: number[]; neuronMin: number[]; neuronMax: number[]; allMin: number; allMax: number }

/** the extremes of every grouping from the class × neuron ones */
function extremes(mn: Float64Array, mx: Float64Array, classes: number, w: number): Extremes {
  const classMin = new Array<number>(classes).fill(Infinity), classMax = new Array<number>(classes).fill(-Infinity); // [classes]
  const neuronMin = new Array<number>(w).fill(Infinity), neuronMax = new Array<number>(w).fill(-Infinity); // [width]
  for (let c = 0; c < classes; c++) {
    for (let j = 0; j < w; j++) {
      const k = c * w + j;
      if (mn[k] < classMin[c]) classMin[c] = mn[k];
      if (mx[k] > classMax[c]) classMax[c] = mx[k];
      if (mn[k] < neuronMin[j]) neuronMin[j] = mn[k];
      if (mx[k] > neuronMax[j]) neuronMax[j] = mx[k];
    }
  }
  return { classMin, classMax, neuronMin, neuronMax, allMin: Math.min(...classMin), allMax: Math.max(...classMax) };
}

/** the epoch's bins (over [allMin, allMax]) and each class's own */
function binners(e: Extremes, bins: number): { shared: Binner; own: Binner[] } {
  return { shared: new Binner(e.allMin, e.allMax, bins), own: e.classMin.map((lo, c) => new Binner(lo, e.classMax[c], bins)) };
}

/**
 * one tensor's statistics from its passes: merges the class × neuron groups per class (over neurons), per
 * neuron (over classes) and overall (Chan et al., float64), and builds the histograms on numpy's edges
 */
export function finishTensorStats(w: number, p: SlotPasses, ctx: EpochContext, kind: 'act' | 'grad'): TensorStats {
  const { count, classes, classCounts, bins } = ctx;
  const { sum, m2, hShared, hOwn, pos, stepSq } = p;
  const cw = classes * w;
  const mean = groupMeans(sum, classCounts, w);
  const ext = extremes(p.mn, p.mx, classes, w);
  const { classMin, classMax, neuronMin, neuronMax, allMin, allMax } = ext;
  const { shared, own } = binners(ext, bins);

  // merge the class × neuron groups: per class (over neurons), per neuron (over classes), overall
  const cnMean: number[][] = [], cnStd: number[][] = [];
  const perClass = emptyRows(), perNeuron = emptyRows();
  classMoments(sum, mean, m2, classCounts, w, classMin, classMax, cnMean, cnStd, perClass);
  const nPerClass = Float64Array.from(classCounts);
  neuronMoments(sum, mean, m2, nPerClass, w, count, neuronMin, neuronMax, perNeuron);
  const n = count * w, mu = rangeSum(sum, 0, cw) / n;
  const all = moments(n, mu, allM2(mean, m2, nPerClass, w, classes, mu), allMin, allMax);

  const hist = shared.empty();
  const perClassHistogram: number[][] = []; // [classes][bins]
  for (let c = 0; c < classes; c++) {
    const counts = Array.from(hShared.subarray(c * bins, c * bins + bins));
    for (let b = 0; b < bins; b++) hist.counts[b] += counts[b];
    perClassHistogram.push(counts);
  }

  const out: TensorStats = {
    width: w, all, histogram: hist, perClass, perClassHistogram, perNeuron, perClassNeuron: { mean: cnMean, std: cnStd },
  };
  if (kind === 'act') {
    out.perClassOwnHistogram = own.map((b, c) => ({ edges: Array.from(b.edges), counts: Array.from(hOwn.subarray(c * bins, c * bins + bins)) }));
    out.positiveFraction = Array.from(pos, (p) => p / count);
  }
  if (p.firstBatch) out.firstBatch = p.firstBatch;
  if (kind === 'grad') {
    out.norm = Math.sqrt(rangeSum(Float64Array.from(stepSq), 0, stepSq.length));
    if (ctx.offsets) out.stepNorm = Array.from(stepSq, Math.sqrt);
  }
  return out;
}

// finishTensorStats's loops, each in its own function: V8 compiles a function again for each hot loop it
// enters (on-stack replacement), a big one with many loops dearly, and code after a loop that had not run
// yet when that loop was compiled deoptimizes on every later call. The sums add their terms in the order
// of the loops they were written as inside it.

/** per class: its class × neuron means and stds into cnMean and cnStd, its moments over its neurons into perClass */
function classMoments(
  sum: Float64Array, mean: Float64Array, m2: Float64Array, classCounts: number[], w: number, classMin: number[], classMax: number[],
  cnMean: number[][], cnStd: number[][], perClass: MomentRows,
): void {
  for (let c = 0; c < classCounts.length; c++) {
    const nc = classCounts[c], o = c * w;
    cnMean.push(Array.from(mean.subarray(o, o + w)));
    cnStd.push(Array.from(m2.subarray(o, o + w), (v) => sampleStd(v, nc)));
    const mu = rangeSum(sum, o, o + w) / (nc * w);
    pushMoments(perClass, nc * w, mu, classM2(mean, m2, o, w, mu, nc), classMin[c], classMax[c]);
  }
}

/** per neuron: its moments over every class's rows into perNeuron */
function neuronMoments(
  sum: Float64Array, mean: Float64Array, m2: Float64Array, nPerClass: Float64Array, w: number, count: number,
  neuronMin: number[], neuronMax: number[], perNeuron: MomentRows,
): void {
  const classes = nPerClass.length;
  for (let j = 0; j < w; j++) {
    const mu = columnSum(sum, j, w, classes) / count;
    pushMoments(perNeuron, count, mu, neuronM2(mean, m2, nPerClass, j, w, classes, mu), neuronMin[j], neuronMax[j]);
  }
}

/** Σ a[from..to) in order */
function rangeSum(a: Float64Array, from: number, to: number): number {
  let s = 0;
  for (let k = from; k < to; k++) s += a[k];
  return s;
}

/** Σ over classes of column j of a [classes, w], in class order */
function columnSum(a: Float64Array, j: number, w: number, classes: number): number {
  let s = 0;
  for (let c = 0; c < classes; c++) s += a[c * w + j];
  return s;
}

/** class row o's M2 about mu: Σ_j [m2 + nc (mean − mu)²] over its w neurons */
function classM2(mean: Float64Array, m2: Float64Array, o: number, w: number, mu: number, nc: number): number {
  let M2 = 0;
  for (let j = 0; j < w; j++) { const k = o + j, dm = mean[k] - mu; M2 += m2[k] + nc * dm * dm; }
  return M2;
}

/** neuron j's M2 about mu: Σ_c [m2 + n_c (mean − mu)²] over the classes present */
function neuronM2(mean: Float64Array, m2: Float64Array, counts: Float64Array, j: number, w: number, classes: number, mu: number): number {
  let M2 = 0;
  for (let c = 0; c < classes; c++) {
    if (counts[c] === 0) continue;
    const k = c * w + j, dm = mean[k] - mu;
    M2 += m2[k] + counts[c] * dm * dm;
  }
  return M2;
}

/** the whole slot's M2 about mu: Σ over the classes present, then their neurons, of m2 + n_c (mean − mu)² */
function allM2(mean: Float64Array, m2: Float64Array, counts: Float64Array, w: number, classes: number, mu: number): number {
  let M2 = 0;
  for (let c = 0; c < classes; c++) {
    if (counts[c] === 0) continue;
    for (let j = 0; j < w; j++) { const k = c * w + j, dm = mean[k] - mu; M2 += m2[k] + counts[c] * dm * dm; }
  }
  return M2;
}

// the loops below visit rows in order and, within a row, neurons in order: every float64 sum (per class ×
// neuron, per step) adds its terms in the same order as the straightforward loop over the slot, so the
// results are the same to the bit. They are written out per kind (no flags tested per value) and with
// the bins found inline (binOf of analysis/histogram.ts, the same steps).

/** pass 1 of an activation slot: per class × neuron sums and extremes, samples > 0 per neuron */
function accumulateActs(
  d: Float32Array, w: number, rowClass: Int32Array, count: number,
  sum: Float64Array, mn: Float64Array, mx: Float64Array, pos: Int32Array,
): void {
  // x > 0 from x's bits, without a branch (a ReLU's input is positive about half the time, at random):
  // float32 x > 0 ⇔ its bits b, as int32, are in [1, 0x7f800000] (+0, negatives, −0 and NaN are not)
  // ⇔ a = b − 1 (wrapped) is in [0, 0x7f7fffff]: sign bit of a clear and of a − 0x7f800000 set
  const bits = new Int32Array(d.buffer, d.byteOffset, d.length);
  for (let r = 0; r < count; r++) {
    const o = rowClass[r] * w, row = r * w;
    for (let j = 0; j < w; j++) {
      const x = d[row + j], k = o + j;
      sum[k] += x;
      if (x < mn[k]) mn[k] = x;
      if (x > mx[k]) mx[k] = x;
      const a = (bits[row + j] - 1) | 0;
      pos[j] += (~a >>> 31) & ((a - 0x7f800000) >>> 31);
    }
  }
}

/** pass 1 of a gradient slot over rows offsets[0] .. offsets[last]: sums, extremes, Σ x² per step (in row order) */
function accumulateGrads(
  d: Float32Array, w: number, rowClass: Int32Array, offsets: Uint32Array,
  sum: Float64Array, mn: Float64Array, mx: Float64Array, stepSq: Float64Array,
): void {
  for (let s = 0; s + 1 < offsets.length; s++) {
    let sq = 0;
    const end = offsets[s + 1];
    for (let r = offsets[s]; r < end; r++) {
      const o = rowClass[r] * w, row = r * w;
      for (let j = 0; j < w; j++) {
        const x = d[row + j], k = o + j;
        sum[k] += x;
        if (x < mn[k]) mn[k] = x;
        if (x > mx[k]) mx[k] = x;
        sq += x * x;
      }
    }
    stepSq[s] = sq;
  }
}

/** pass 2 of an activation slot: Σ(x − mean)² per class × neuron, counts on the shared edges and on each class's own */
function spreadActs(
  d: Float32Array, w: number, count: number, rowClass: Int32Array, bins: number,
  mean: Float64Array, m2: Float64Array, hShared: Int32Array, hOwn: Int32Array,
  lo: number, hi: number, scale: number, edges: Float64Array,
  ownLo: Float64Array, ownHi: Float64Array, ownScale: Float64Array, ownEdges: Float64Array,
): void {
  const last = bins - 1;
  for (let r = 0; r < count; r++) {
    const c = rowClass[r], o = c * w, row = r * w, hb = c * bins, eb = c * (bins + 1);
    const cLo = ownLo[c], cHi = ownHi[c], cScale = ownScale[c];
    for (let j = 0; j < w; j++) {
      const x = d[row + j], dx = x - mean[o + j];
      m2[o + j] += dx * dx;
      if (x >= lo && x <= hi) {
        let i = ((x - lo) * scale) | 0;
        if (i > last) i = last;
        if (x < edges[i]) i--;
        else if (i !== last && x >= edges[i + 1]) i++;
        hShared[hb + i]++;
      }
      if (x >= cLo && x <= cHi) {
        let i = ((x - cLo) * cScale) | 0;
        if (i > last) i = last;
        if (x < ownEdges[eb + i]) i--;
        else if (i !== last && x >= ownEdges[eb + i + 1]) i++;
        hOwn[hb + i]++;
      }
    }
  }
}

/** pass 2 of a gradient slot: Σ(x − mean)² per class × neuron, counts on the shared edges */
function spreadGrads(
  d: Float32Array, w: number, count: number, rowClass: Int32Array, bins: number,
  mean: Float64Array, m2: Float64Array, hShared: Int32Array, lo: number, hi: number, scale: number, edges: Float64Array,
): void {
  const last = bins - 1;
  for (let r = 0; r < count; r++) {
    const c = rowClass[r], o = c * w, row = r * w, hb = c * bins;
    for (let j = 0; j < w; j++) {
      const x = d[row + j], dx = x - mean[o + j];
      m2[o + j] += dx * dx;
      if (x >= lo && x <= hi) {
        let i = ((x - lo) * scale) | 0;
        if (i > last) i = last;
        if (x < edges[i]) i--;
        else if (i !== last && x >= edges[i + 1]) i++;
        hShared[hb + i]++;
      }
    }
  }
}

/** moments and histogram of rows [0, rows) of a slot, straight from the values (two passes) */
function firstRows(d: Float32Array, w: number, rows: number, bins: number): NonNullable<TensorStats['firstBatch']> {
  const v = d.subarray(0, rows * w); // [rows, width]
  let s = 0, lo = Infinity, hi = -Infinity;
  for (const x of v) { s += x; if (x < lo) lo = x; if (x > hi) hi = x; }
  const mu = s / v.length;
  let M2 = 0;
  for (const x of v) M2 += (x - mu) * (x - mu);
  return { rows, all: moments(v.length, mu, M2, lo, hi), histogram: histogram(v, bins) };
}

function layerHealth(layer: number, tensor: string, activeFraction: number[], count: number, rareBelow: number): LayerHealth {
  const dead: number[] = [], rare: number[] = [], always: number[] = [];
  activeFraction.forEach((f, j) => {
    // fractions are active/count; compare counts so 1 % of 60 000 is exactly 600
    const active = Math.round(f * count);
    if (active === 0) dead.push(j);
    else if (active < rareBelow * count) rare.push(j);
    if (count > 0 && active === count) always.push(j);
  });
  return { layer, tensor, activeFraction, dead, rare, always };
}

function paramGradStats(names: readonly string[], norms: Float32Array, steps: number): ParamGradStats {
  const p = names.length;
  const stepNorm = names.map((_, i) => Array.from({ length: steps }, (_, s) => norms[s * p + i])); // [params][steps]
  return {
    names: [...names], stepNorm,
    mean: stepNorm.map((s) => (s.length ? s.reduce((a, b) => a + b, 0) / s.length : NaN)),
    max: stepNorm.map((s) => (s.length ? Math.max(...s) : NaN)),
  };
}

const sampleStd = (M2: number, n: number): number => (n > 1 ? Math.sqrt(M2 / (n - 1)) : NaN);

/** the moments of n values with mean, Σ(x − mean)² = M2, and extremes (all NaN for n = 0) */
export function moments(n: number, mean: number, M2: number, min: number, max: number): Moments {
  return n > 0 ? { count: n, mean, std: sampleStd(M2, n), min, max } : { count: 0, mean: NaN, std: NaN, min: NaN, max: NaN };
}

const emptyRows = (): MomentRows => ({ count: [], mean: [], std: [], min: [], max: [] });

function pushMoments(r: MomentRows, n: number, mean: number, M2: number, min: number, max: number): void {
  const m = moments(n, mean, M2, min, max);
  r.count.push(m.count); r.mean.push(m.mean); r.std.push(m.std); r.min.push(m.min); r.max.push(m.max);
}
