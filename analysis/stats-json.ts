// the JSON of a run's statistics (stats/epoch-NNN.json, stats/input.json): parsing and validation, pure,
// next to the types they check; reading and writing the files is run/stats-files.ts. NaN (an absent
// class's mean, a std of one value) is written as JSON null and read back as NaN.
import type { EpochStats, MomentRows, TensorStats } from './epoch-stats.ts';
import type { Histogram } from './histogram.ts';
import type { InputStats } from './input-stats.ts';
import { InputError, quote } from '../mlp/errors.ts';

/** the text of a statistics file → its value, JSON null read as NaN; invalid JSON throws InputError(file, …) */
export function parseStatsJson(text: string, file: string): unknown {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new InputError(file, `is not valid JSON (${(e as Error).message}); the file is damaged or was cut short`);
  }
  // null only ever stands for NaN in these files: the same value as a reviver turning null into NaN, without
  // a call (and a key string) per value of these mostly numeric files, and no walk when the text has no null
  if (v === null) return NaN;
  if (text.includes('null')) nullsToNaN(v);
  return v;
}

/** every null inside `v` (parsed JSON: plain objects and arrays) → NaN, in place */
function nullsToNaN(v: unknown): void {
  if (typeof v !== 'object' || v === null) return;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (x === null) v[i] = NaN;
      else if (typeof x === 'object') nullsToNaN(x);
    }
    return;
  }
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    const x = o[k];
    if (x === null) {
      // (an own "__proto__" key, as JSON.parse makes it: defined, not assigned, so it stays an own property)
      if (k === '__proto__') Object.defineProperty(o, k, { value: NaN, writable: true, enumerable: true, configurable: true });
      else o[k] = NaN;
    } else if (typeof x === 'object') nullsToNaN(x);
  }
}

// --- validation: shapes and types, with the JSON path of the first problem

class Check {
  constructor(readonly file: string) {}
  fail(path: string, problem: string): never { throw new InputError(this.file, `${path}: ${problem}`); }
  obj(v: unknown, path: string): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(path, 'expected an object');
    return v as Record<string, unknown>;
  }
  num(v: unknown, path: string): number {
    if (typeof v !== 'number') this.fail(path, `expected a number, got ${quote(v)}`);
    return v;
  }
  int(v: unknown, path: string, min = 0): number {
    const n = this.num(v, path);
    if (!Number.isInteger(n) || n < min) this.fail(path, `expected an integer >= ${min}, got ${n}`);
    return n;
  }
  nums(v: unknown, path: string, len?: number): number[] {
    if (!Array.isArray(v)) this.fail(path, 'expected an array of numbers');
    if (len !== undefined && v.length !== len) this.fail(path, `expected ${len} values, got ${v.length}`);
    // (an element's path is only made for the one that fails)
    for (let i = 0; i < v.length; i++) if (typeof v[i] !== 'number') this.num(v[i], `${path}[${i}]`);
    return v as number[];
  }
  matrix(v: unknown, path: string, rows: number, cols: number): void {
    if (!Array.isArray(v) || v.length !== rows) this.fail(path, `expected ${rows} rows`);
    v.forEach((r, i) => this.nums(r, `${path}[${i}]`, cols));
  }
  ints(v: unknown, path: string): number[] {
    const a = this.nums(v, path);
    for (let i = 0; i < a.length; i++) if (!Number.isInteger(a[i]) || a[i] < 0) this.int(a[i], `${path}[${i}]`);
    return a;
  }
  histogram(v: unknown, path: string, bins: number): Histogram {
    const h = this.obj(v, path);
    this.nums(h.edges, `${path}.edges`, bins + 1);
    this.nums(h.counts, `${path}.counts`, bins);
    return v as Histogram;
  }
  moments(v: unknown, path: string): void {
    const m = this.obj(v, path);
    for (const k of ['count', 'mean', 'std', 'min', 'max']) this.num(m[k], `${path}.${k}`);
  }
  rows(v: unknown, path: string, n: number): MomentRows {
    const m = this.obj(v, path);
    for (const k of ['count', 'mean', 'std', 'min', 'max']) this.nums(m[k], `${path}.${k}`, n);
    return v as MomentRows;
  }
}

/** checks that `v` (parsed from `file`) is an EpochStats; throws InputError naming the first problem */
export function validateEpochStats(v: unknown, file: string): EpochStats {
  const c = new Check(file);
  const s = c.obj(v, '$');
  if (s.format !== 'mlp-lens/epoch-stats') c.fail('$.format', `expected "mlp-lens/epoch-stats", got ${quote(s.format)}`);
  if (s.version !== 1) c.fail('$.version', `unsupported version ${quote(s.version)} (this build reads 1)`);
  c.int(s.epoch, '$.epoch');
  const count = c.int(s.count, '$.count');
  const classes = c.int(s.classes, '$.classes', 1);
  const bins = c.int(s.bins, '$.bins', 1);
  const classCounts = c.nums(s.classCounts, '$.classCounts', classes);
  if (classCounts.reduce((a, b) => a + b, 0) !== count) c.fail('$.classCounts', `add up to ${classCounts.reduce((a, b) => a + b, 0)}, not count ${count}`);
  c.num(s.rareBelow, '$.rareBelow');
  for (const kind of ['acts', 'grads'] as const) {
    for (const [name, t] of Object.entries(c.obj(s[kind], `$.${kind}`))) checkTensor(c, t, `$.${kind}["${name}"]`, classes, bins);
  }
  if (!Array.isArray(s.health)) c.fail('$.health', 'expected an array');
  (s.health as unknown[]).forEach((h, i) => {
    const p = `$.health[${i}]`, o = c.obj(h, p);
    c.int(o.layer, `${p}.layer`);
    if (typeof o.tensor !== 'string') c.fail(`${p}.tensor`, 'expected a string');
    const width = c.nums(o.activeFraction, `${p}.activeFraction`).length;
    for (const k of ['dead', 'rare', 'always']) {
      c.ints(o[k], `${p}.${k}`).forEach((j, q) => { if (j >= width) c.fail(`${p}.${k}[${q}]`, `neuron ${j} of ${width}`); });
    }
  });
  if (s.params !== undefined) {
    const p = c.obj(s.params, '$.params');
    if (!Array.isArray(p.names) || p.names.some((n) => typeof n !== 'string')) c.fail('$.params.names', 'expected an array of names');
    const n = (p.names as string[]).length;
    if (!Array.isArray(p.stepNorm) || p.stepNorm.length !== n) c.fail('$.params.stepNorm', `expected ${n} rows`);
    const steps = (p.stepNorm as unknown[]).length ? c.nums((p.stepNorm as unknown[])[0], '$.params.stepNorm[0]').length : 0;
    c.matrix(p.stepNorm, '$.params.stepNorm', n, steps);
    c.nums(p.mean, '$.params.mean', n);
    c.nums(p.max, '$.params.max', n);
  }
  if (s.probe !== undefined) {
    const pr = c.obj(s.probe, '$.probe'), rows = c.obj(pr.rows, '$.probe.rows');
    c.int(rows.first, '$.probe.rows.first');
    c.int(rows.count, '$.probe.rows.count', 1);
    for (const [name, m] of Object.entries(c.obj(pr.maps, '$.probe.maps'))) {
      const p = `$.probe.maps["${name}"]`, o = c.obj(m, p);
      const shape = c.ints(o.shape, `${p}.shape`);
      if (shape.length !== 3 || shape.some((d) => d < 1)) c.fail(`${p}.shape`, 'expected [channels, height, width]');
      c.moments(o, p);
      c.histogram(o.histogram, `${p}.histogram`, bins);
      c.nums(o.positiveFraction, `${p}.positiveFraction`, shape[0]);
      c.nums(o.channelMax, `${p}.channelMax`, shape[0]);
    }
  }
  return v as EpochStats;
}

function checkTensor(c: Check, v: unknown, p: string, classes: number, bins: number): TensorStats {
  const t = c.obj(v, p);
  const w = c.int(t.width, `${p}.width`, 1);
  c.moments(t.all, `${p}.all`);
  c.histogram(t.histogram, `${p}.histogram`, bins);
  c.rows(t.perClass, `${p}.perClass`, classes);
  c.matrix(t.perClassHistogram, `${p}.perClassHistogram`, classes, bins);
  c.rows(t.perNeuron, `${p}.perNeuron`, w);
  const cn = c.obj(t.perClassNeuron, `${p}.perClassNeuron`);
  c.matrix(cn.mean, `${p}.perClassNeuron.mean`, classes, w);
  c.matrix(cn.std, `${p}.perClassNeuron.std`, classes, w);
  if (t.perClassOwnHistogram !== undefined) {
    if (!Array.isArray(t.perClassOwnHistogram) || t.perClassOwnHistogram.length !== classes) c.fail(`${p}.perClassOwnHistogram`, `expected ${classes} histograms`);
    t.perClassOwnHistogram.forEach((h, i) => c.histogram(h, `${p}.perClassOwnHistogram[${i}]`, bins));
  }
  if (t.positiveFraction !== undefined) c.nums(t.positiveFraction, `${p}.positiveFraction`, w);
  if (t.firstBatch !== undefined) {
    const f = c.obj(t.firstBatch, `${p}.firstBatch`);
    c.int(f.rows, `${p}.firstBatch.rows`);
    c.moments(f.all, `${p}.firstBatch.all`);
    c.histogram(f.histogram, `${p}.firstBatch.histogram`, bins);
  }
  if (t.norm !== undefined) c.num(t.norm, `${p}.norm`);
  if (t.stepNorm !== undefined) c.nums(t.stepNorm, `${p}.stepNorm`);
  return v as TensorStats;
}

/** checks that `v` (parsed from `file`) is an InputStats; throws InputError naming the first problem */
export function validateInputStats(v: unknown, file: string): InputStats {
  const c = new Check(file);
  const s = c.obj(v, '$');
  if (s.format !== 'mlp-lens/input-stats') c.fail('$.format', `expected "mlp-lens/input-stats", got ${quote(s.format)}`);
  if (s.version !== 1) c.fail('$.version', `unsupported version ${quote(s.version)} (this build reads 1)`);
  c.int(s.count, '$.count');
  c.int(s.pixels, '$.pixels', 1);
  const classes = c.int(s.classes, '$.classes', 1);
  c.num(s.imageMean, '$.imageMean');
  c.num(s.imageStd, '$.imageStd');
  c.moments(s.pooled, '$.pooled');
  c.int(s.firstN, '$.firstN');
  const h = c.obj(s.histogram, '$.histogram');
  const bins = c.nums(h.counts, '$.histogram.counts').length;
  c.histogram(s.histogram, '$.histogram', bins);
  if (!Array.isArray(s.perDigitHistogram) || s.perDigitHistogram.length !== classes) c.fail('$.perDigitHistogram', `expected ${classes} histograms`);
  (s.perDigitHistogram as unknown[]).forEach((x, i) => c.histogram(x, `$.perDigitHistogram[${i}]`, bins));
  c.rows(s.perDigit, '$.perDigit', classes);
  c.rows(s.perDigitAll, '$.perDigitAll', classes);
  const pi = c.obj(s.perDigitImage, '$.perDigitImage');
  for (const k of ['count', 'mean', 'std']) c.nums(pi[k], `$.perDigitImage.${k}`, classes);
  return v as InputStats;
}
