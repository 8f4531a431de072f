// the JSON of a run's post-training analyses (analysis/<part>.json, one file per RESULT_FILES name):
// validation, pure, so the report draws only what is sound; reading the files is run/report.ts. Every
// part is checked against meta.json (classes, the analysed layer's width, the input size), so each class,
// neuron index and length a figure reads is in range and every size a file claims matches the data it
// holds (nothing is allocated from a claimed size). JSON null stands for NaN where the suite can write
// one (an absent class's accuracy, a silhouette, a mean) and is read back as NaN; everywhere else a
// number must be finite. A bad part is skipped with a one-line reason; the rest is still drawn.
import type { HostTensor } from './forward-cache.ts';
import type { PartialAnalysis, SavedAnalysis } from './figures/index.ts';
import { InputError, quote } from '../mlp/errors.ts';

/** the parts of an analysis, in RESULT_FILES order (kept here so this module does not load the suite) */
export const ANALYSIS_PARTS = [
  'meta', 'accuracy', 'classMeans', 'gradMeans', 'topk', 'selectivity', 'interventions', 'neuronSweep', 'saliency',
  'oneHotMaps', 'projections', 'silhouette', 'timings',
] as const;
export type AnalysisPart = (typeof ANALYSIS_PARTS)[number];

/** bounds on what meta.json may claim (labels are bytes; widths and images far beyond any MLP here) */
export const ANALYSIS_LIMITS = { classes: 256, width: 65536, pixels: 65536, layers: 64, fileBytes: 64 * 2 ** 20 };

/** a part left out of the report and why (file relative to the run directory) */
export interface AnalysisSkip { part: AnalysisPart; file: string; reason: string }

type Meta = SavedAnalysis['meta'];

const fileOf = (part: AnalysisPart) => `analysis/${part}.json`;

// --- checks: each names the JSON path of the first problem (also used by through-training-json.ts)

export class Check {
  constructor(readonly file: string) {}
  fail(path: string, problem: string): never { throw new InputError(this.file, `${path}: ${problem}`); }
  obj(v: unknown, path: string): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(path, `expected an object, got ${quote(v, 30)}`);
    return v as Record<string, unknown>;
  }
  arr(v: unknown, path: string, len?: number): unknown[] {
    if (!Array.isArray(v)) this.fail(path, `expected an array, got ${quote(v, 30)}`);
    if (len !== undefined && v.length !== len) this.fail(path, `expected ${len} entries, got ${v.length}`);
    return v;
  }
  str(v: unknown, path: string): string {
    if (typeof v !== 'string') this.fail(path, `expected a string, got ${quote(v, 30)}`);
    return v;
  }
  /** a finite number; `nullable`: JSON null (NaN when written) is read as NaN */
  num(v: unknown, path: string, nullable = false): number {
    if (v === null && nullable) return NaN;
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(path, `expected a finite number, got ${quote(v, 30)}`);
    return v;
  }
  int(v: unknown, path: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
    const n = this.num(v, path);
    if (!Number.isInteger(n) || n < min || n > max) this.fail(path, `expected an integer in [${min}, ${max}], got ${n}`);
    return n;
  }
  /** an index below n: a class (`what` 'class') or a neuron of the layer */
  index(v: unknown, path: string, n: number, what: string): number {
    const i = this.num(v, path);
    if (!Number.isInteger(i) || i < 0 || i >= n) this.fail(path, `${what} ${i} out of range (the analysis has ${n})`);
    return i;
  }
  /** numbers in place (null → NaN when nullable) */
  nums(v: unknown, path: string, len?: number, nullable = false): number[] {
    const a = this.arr(v, path, len);
    // (as num on each, an element's path made only for one that is not a finite number)
    for (let i = 0; i < a.length; i++) {
      const x = a[i];
      if (typeof x !== 'number' || !Number.isFinite(x)) a[i] = this.num(x, `${path}[${i}]`, nullable);
    }
    return a as number[];
  }
  indices(v: unknown, path: string, n: number, what: string, len?: number): number[] {
    const a = this.arr(v, path, len);
    for (let i = 0; i < a.length; i++) {
      const x = a[i];
      if (!(typeof x === 'number' && Number.isInteger(x) && x >= 0 && x < n)) this.index(x, `${path}[${i}]`, n, what);
    }
    return a as number[];
  }
  /** [rows, cols] numbers; cols undefined: every row as long as the first, at least 1 */
  matrix(v: unknown, path: string, rows: number, cols?: number, nullable = false): number[][] {
    const a = this.arr(v, path, rows);
    const w = cols ?? (a.length ? this.arr(a[0], `${path}[0]`).length : 0);
    if (cols === undefined && a.length && w === 0) this.fail(`${path}[0]`, 'expected at least one column');
    // a sound row is checked (and its nulls made NaN) here; nums, with the row's path, only names a problem
    for (let i = 0; i < a.length; i++) {
      const r = a[i];
      if (Array.isArray(r) && r.length === w && soundRow(r, nullable)) {
        if (nullable) for (let j = 0; j < w; j++) if (r[j] === null) r[j] = NaN;
      } else {
        this.nums(r, `${path}[${i}]`, w, nullable);
      }
    }
    return a as number[][];
  }
  /** {shape: [rows, cols], data: rows·cols numbers} with the shape given (so a claimed shape allocates nothing) */
  tensor(v: unknown, path: string, rows: number, cols: number, nullable = false): HostTensor {
    const t = this.obj(v, path);
    const shape = this.arr(t.shape, `${path}.shape`, 2);
    if (shape[0] !== rows || shape[1] !== cols) this.fail(`${path}.shape`, `expected [${rows}, ${cols}], got ${quote(shape, 40)}`);
    const data = this.nums(t.data, `${path}.data`, rows * cols, nullable);
    t.data = Float32Array.from(data);
    return t as unknown as HostTensor;
  }
}

/** every entry a finite number (or null, when nullable): what nums accepts */
function soundRow(r: readonly unknown[], nullable: boolean): boolean {
  for (let j = 0; j < r.length; j++) {
    const x = r[j];
    if (!(typeof x === 'number' ? Number.isFinite(x) : x === null && nullable)) return false;
  }
  return true;
}

// --- the parts

function checkMeta(c: Check, v: unknown): Meta {
  const L = ANALYSIS_LIMITS;
  const o = c.obj(v, '$');
  const sizes = c.arr(o.sizes, '$.sizes');
  if (sizes.length < 3 || sizes.length > L.layers + 2) c.fail('$.sizes', `expected 3 to ${L.layers + 2} layer sizes, got ${sizes.length}`);
  sizes.forEach((s, i) => c.int(s, `$.sizes[${i}]`, 1, i === 0 ? L.pixels : L.width));
  const layer = c.int(o.layer, '$.layer', 0, sizes.length - 3);
  const classes = c.int(o.classes, '$.classes', 1, L.classes);
  if (classes !== sizes[sizes.length - 1]) c.fail('$.classes', `${classes}, but the last of $.sizes is ${sizes[sizes.length - 1]}`);
  const width = c.int(o.width, '$.width', 1, L.width);
  if (width !== sizes[layer + 1]) c.fail('$.width', `${width}, but hidden layer ${layer} has ${sizes[layer + 1]} neurons`);
  c.int(o.count, '$.count', 1);
  const target = c.str(o.target, '$.target');
  if (!new RegExp(`^layers\\.${layer}\\.[a-z]+$`).test(target)) c.fail('$.target', `expected a tensor of layer ${layer} (layers.${layer}.post), got ${quote(target, 30)}`);
  const options = c.obj(o.options ?? {}, '$.options');
  o.options = options;
  if (options.tsne !== undefined && options.tsne !== false) c.obj(options.tsne, '$.options.tsne');
  return o as unknown as Meta;
}

function checkAccuracy(c: Check, v: unknown, m: Meta): SavedAnalysis['accuracy'] {
  const C = m.classes, o = c.obj(v, '$');
  c.num(o.accuracy, '$.accuracy');
  c.nums(o.perClass, '$.perClass', C, true);
  c.arr(o.counts, '$.counts', C).forEach((x, i) => c.int(x, `$.counts[${i}]`));
  c.arr(o.sorted, '$.sorted', C).forEach((s, i) => {
    const e = c.obj(s, `$.sorted[${i}]`);
    c.index(e.cls, `$.sorted[${i}].cls`, C, 'class');
    e.accuracy = c.num(e.accuracy, `$.sorted[${i}].accuracy`, true);
  });
  c.matrix(o.confusion, '$.confusion', C, C);
  c.matrix(o.confusionRates, '$.confusionRates', C, C, true);
  const mis = c.arr(o.misclassified, '$.misclassified');
  if (mis.length > m.count) c.fail('$.misclassified', `${mis.length} entries, more than the ${m.count} images analysed`);
  mis.forEach((x, i) => {
    const p = `$.misclassified[${i}]`, e = c.obj(x, p);
    c.int(e.row, `${p}.row`, 0, m.count - 1);
    c.int(e.index, `${p}.index`);
    c.index(e.label, `${p}.label`, C, 'class');
    c.index(e.pred, `${p}.pred`, C, 'class');
    e.confidence = c.num(e.confidence, `${p}.confidence`, true);
  });
  return o as unknown as SavedAnalysis['accuracy'];
}

/** the width of a named tensor of the model meta describes (layers.K.* → hidden layer K, logits → classes), else undefined */
function widthOfName(m: Meta, name: string): number | undefined {
  if (name === 'logits') return m.classes;
  const k = /^layers\.(\d+)\.[a-z]+$/.exec(name);
  return k && Number(k[1]) < m.sizes.length - 2 ? m.sizes[Number(k[1]) + 1] : undefined;
}

/** name → [classes, width of that tensor] mean matrices; `need`: a name that must be there */
function checkMeanTables(c: Check, v: unknown, path: string, m: Meta, need?: string): Record<string, number[][]> {
  const o = c.obj(v, path);
  for (const [name, t] of Object.entries(o)) c.matrix(t, `${path}[${quote(name, 40)}]`, m.classes, widthOfName(m, name), true);
  if (need !== undefined && !(need in o)) c.fail(path, `has no table for the analysed layer ${quote(need)}`);
  return o as Record<string, number[][]>;
}

function checkTopk(c: Check, v: unknown, m: Meta): SavedAnalysis['topk'] {
  const o = c.obj(v, '$');
  const k = c.int(o.k, '$.k', 1, m.width);
  for (const key of ['activation', 'gradLoss', 'gradTrueLogit', 'selectivity']) {
    c.arr(o[key], `$.${key}`, m.classes).forEach((row, i) => c.indices(row, `$.${key}[${i}]`, m.width, 'neuron', k));
  }
  return o as unknown as SavedAnalysis['topk'];
}

function checkSelectivity(c: Check, v: unknown, m: Meta): SavedAnalysis['selectivity'] {
  const o = c.obj(v, '$');
  c.num(o.eps, '$.eps');
  c.matrix(o.scores, '$.scores', m.classes, m.width, true);
  const top = c.arr(o.topSubset, '$.topSubset', m.classes);
  top.forEach((row, i) => c.indices(row, `$.topSubset[${i}]`, m.width, 'neuron'));
  c.indices(o.overlapOrder, '$.overlapOrder', m.width, 'neuron');
  return o as unknown as SavedAnalysis['selectivity'];
}

function checkNeuronAnalysis(c: Check, v: unknown, p: string, m: Meta): void {
  const C = m.classes, o = c.obj(v, p);
  c.str(o.target, `${p}.target`);
  if (!c.arr(o.neurons, `${p}.neurons`).length) c.fail(`${p}.neurons`, 'expected at least one neuron');
  c.indices(o.neurons, `${p}.neurons`, m.width, 'neuron');
  c.nums(o.interval, `${p}.interval`, 2);
  const S = c.nums(o.scales, `${p}.scales`).length;
  if (!S) c.fail(`${p}.scales`, 'expected at least one scale');
  c.nums(o.accuracy, `${p}.accuracy`, S, true);
  c.matrix(o.perClassAccuracy, `${p}.perClassAccuracy`, S, C, true);
  c.matrix(o.meanLogits, `${p}.meanLogits`, S, C, true);
  c.arr(o.meanLogitsByClass, `${p}.meanLogitsByClass`, S).forEach((x, i) => c.matrix(x, `${p}.meanLogitsByClass[${i}]`, C, C, true));
  c.arr(o.counts, `${p}.counts`, C).forEach((x, i) => c.int(x, `${p}.counts[${i}]`));
  const cf = c.obj(o.confusion, `${p}.confusion`);
  for (const k of ['ablation', 'baseline', 'max', 'ablationMinusBaseline', 'maxMinusBaseline']) c.matrix(cf[k], `${p}.confusion.${k}`, C, C);
}

function checkInterventions(c: Check, v: unknown, m: Meta): SavedAnalysis['interventions'] {
  const C = m.classes, o = c.obj(v, '$');
  const focus = c.obj(o.focus, '$.focus');
  c.index(focus.cls, '$.focus.cls', C, 'class');
  c.index(focus.neuron, '$.focus.neuron', m.width, 'neuron');
  checkNeuronAnalysis(c, focus.analysis, '$.focus.analysis', m);
  if (o.raw !== null) checkNeuronAnalysis(c, o.raw, '$.raw', m);
  const sw = c.obj(o.sweep, '$.sweep');
  c.str(sw.target, '$.sweep.target');
  const S = c.nums(sw.scales, '$.sweep.scales').length;
  const base = c.obj(sw.baseline, '$.sweep.baseline');
  base.accuracy = c.num(base.accuracy, '$.sweep.baseline.accuracy', true);
  c.nums(base.perClass, '$.sweep.baseline.perClass', C, true);
  c.matrix(base.confusion, '$.sweep.baseline.confusion', C, C);
  const neurons = c.arr(sw.neurons, '$.sweep.neurons');
  if (neurons.length > m.width) c.fail('$.sweep.neurons', `${neurons.length} entries, more than the layer's ${m.width} neurons`);
  neurons.forEach((x, j) => {
    const p = `$.sweep.neurons[${j}]`, e = c.obj(x, p);
    c.index(e.neuron, `${p}.neuron`, m.width, 'neuron');
    c.nums(e.accuracy, `${p}.accuracy`, S, true);
    c.matrix(e.perClassAccuracy, `${p}.perClassAccuracy`, S, C, true);
    c.matrix(e.perClassDelta, `${p}.perClassDelta`, S, C, true);
    c.arr(e.confusion, `${p}.confusion`, S).forEach((cm, i) => c.matrix(cm, `${p}.confusion[${i}]`, C, C));
  });
  return o as unknown as SavedAnalysis['interventions'];
}

function checkNeuronSweep(c: Check, v: unknown, m: Meta): SavedAnalysis['neuronSweep'] {
  const C = m.classes, o = c.obj(v, '$');
  c.str(o.target, '$.target');
  if (!c.indices(o.neurons, '$.neurons', m.width, 'neuron').length) c.fail('$.neurons', 'expected at least one neuron');
  const S = c.nums(o.scales, '$.scales').length;
  if (!S) c.fail('$.scales', 'expected at least one scale');
  c.nums(o.accuracy, '$.accuracy', S, true);
  c.matrix(o.perClassAccuracy, '$.perClassAccuracy', S, C, true);
  c.arr(o.counts, '$.counts', C).forEach((x, i) => c.int(x, `$.counts[${i}]`));
  const base = c.obj(o.baseline, '$.baseline');
  base.accuracy = c.num(base.accuracy, '$.baseline.accuracy', true);
  c.nums(base.perClass, '$.baseline.perClass', C, true);
  const cf = c.obj(o.confusion, '$.confusion');
  for (const k of ['baseline', 'ablation', 'ablationMinusBaseline']) c.matrix(cf[k], `$.confusion.${k}`, C, C);
  return o as unknown as SavedAnalysis['neuronSweep'];
}

function checkSaliency(c: Check, v: unknown, m: Meta): SavedAnalysis['saliency'] {
  const o = c.obj(v, '$');
  c.int(o.index, '$.index');
  c.index(o.label, '$.label', m.classes, 'class');
  c.str(o.target, '$.target');
  const n = c.indices(o.neurons, '$.neurons', m.width, 'neuron').length;
  c.tensor(o.abs, '$.abs', n, m.sizes[0], true);
  c.tensor(o.normalized, '$.normalized', n, m.sizes[0], true);
  return o as unknown as SavedAnalysis['saliency'];
}

function checkOneHotMaps(c: Check, v: unknown, m: Meta): SavedAnalysis['oneHotMaps'] {
  const o = c.obj(v, '$');
  c.str(o.target, '$.target');
  c.num(o.value, '$.value');
  c.tensor(o.maps, '$.maps', m.width, m.sizes[0], true);
  return o as unknown as SavedAnalysis['oneHotMaps'];
}

const METHODS = ['pca', 'tsne', 'umap'];

/** a projection: rows and labels as typed arrays, the embedding [rows, 2] as float32 (null → NaN) */
function checkProjection(c: Check, v: unknown, p: string, m: Meta, method?: string): void {
  const o = c.obj(v, p);
  if (!METHODS.includes(o.method as string) || (method && o.method !== method)) c.fail(`${p}.method`, `expected ${quote(method ?? METHODS.join('|'))}, got ${quote(o.method, 30)}`);
  const k = c.indices(o.neurons, `${p}.neurons`, m.width, 'neuron').length;
  if (!k) c.fail(`${p}.neurons`, 'expected at least one neuron');
  const rows = c.arr(o.rows, `${p}.rows`);
  if (rows.length > m.count) c.fail(`${p}.rows`, `${rows.length} rows, more than the ${m.count} images analysed`);
  rows.forEach((r, i) => c.int(r, `${p}.rows[${i}]`, 0, m.count - 1));
  c.indices(o.labels, `${p}.labels`, m.classes, 'class', rows.length);
  c.tensor(o.embedding, `${p}.embedding`, rows.length, 2, true);
  if (o.explainedVarianceRatio !== undefined) c.nums(o.explainedVarianceRatio, `${p}.explainedVarianceRatio`, undefined, true);
  if (o.components !== undefined) c.matrix(o.components, `${p}.components`, c.arr(o.components, `${p}.components`).length, k, true);
  if (o.kl !== undefined) o.kl = c.num(o.kl, `${p}.kl`, true);
  if (o.name !== undefined) c.str(o.name, `${p}.name`);
  o.rows = Uint32Array.from(rows as number[]);
  o.labels = Uint8Array.from(o.labels as number[]);
}

function checkProjections(c: Check, v: unknown, m: Meta): SavedAnalysis['projections'] {
  const o = c.obj(v, '$');
  checkProjection(c, o.pca, '$.pca', m, 'pca');
  c.indices(o.mostAccurateClasses, '$.mostAccurateClasses', m.classes, 'class');
  if (o.tsne !== null) checkProjection(c, o.tsne, '$.tsne', m, 'tsne');
  if (o.umap !== null) checkProjection(c, o.umap, '$.umap', m, 'umap');
  c.arr(o.subspaces, '$.subspaces').forEach((s, i) => {
    checkProjection(c, s, `$.subspaces[${i}]`, m);
    c.str((s as Record<string, unknown>).name, `$.subspaces[${i}].name`);
  });
  return o as unknown as SavedAnalysis['projections'];
}

function checkSubset(c: Check, v: unknown, p: string, m: Meta): void {
  const o = c.obj(v, p);
  c.str(o.name, `${p}.name`);
  c.indices(o.neurons, `${p}.neurons`, m.width, 'neuron');
  o.full = c.num(o.full, `${p}.full`, true);
  o.pca = c.num(o.pca, `${p}.pca`, true);
  if (o.umap !== null) o.umap = c.num(o.umap, `${p}.umap`, true);
}

const SILHOUETTE_KEYS = ['full', 'pca', 'umap'];

function checkSilhouette(c: Check, v: unknown, m: Meta): SavedAnalysis['silhouette'] {
  const o = c.obj(v, '$');
  const rows = c.int(o.rows, '$.rows', 0, m.count);
  if (c.int(o.count, '$.count') !== m.count) c.fail('$.count', `${o.count}, but meta.json analysed ${m.count} images`);
  c.arr(o.columns, '$.columns').forEach((x, i) => {
    const p = `$.columns[${i}]`, e = c.obj(x, p);
    if (!SILHOUETTE_KEYS.includes(e.key as string)) c.fail(`${p}.key`, `expected one of ${SILHOUETTE_KEYS.join('|')}, got ${quote(e.key, 30)}`);
    c.str(e.label, `${p}.label`);
    c.int(e.rows, `${p}.rows`, 0, rows);
  });
  if (o.umap !== null) {
    const u = c.obj(o.umap, '$.umap');
    c.int(u.rows, '$.umap.rows', 0, rows);
    c.int(u.trials, '$.umap.trials');
    c.int(u.nEpochs, '$.umap.nEpochs');
  }
  c.arr(o.subsets, '$.subsets').forEach((s, i) => checkSubset(c, s, `$.subsets[${i}]`, m));
  const r = c.obj(o.random, '$.random');
  c.int(r.size, '$.random.size', 0, m.width);
  c.arr(r.trials, '$.random.trials').forEach((s, i) => checkSubset(c, s, `$.random.trials[${i}]`, m));
  for (const k of ['meanFull', 'stdFull', 'meanPca', 'stdPca', 'meanUmap', 'stdUmap']) r[k] = c.num(r[k], `$.random.${k}`, true);
  if (o.umapAll !== null) c.num(o.umapAll, '$.umapAll');
  const vs = c.obj(o.vsSize, '$.vsSize');
  const n = c.arr(vs.sizes, '$.vsSize.sizes').length;
  (vs.sizes as unknown[]).forEach((s, i) => c.int(s, `$.vsSize.sizes[${i}]`, 1, m.width));
  vs.all = c.num(vs.all, '$.vsSize.all', true);
  c.arr(vs.orderings, '$.vsSize.orderings').forEach((x, i) => {
    const p = `$.vsSize.orderings[${i}]`, e = c.obj(x, p);
    c.str(e.name, `${p}.name`);
    c.indices(e.order, `${p}.order`, m.width, 'neuron');
    c.nums(e.scores, `${p}.scores`, n, true);
  });
  const vr = c.obj(vs.random, '$.vsSize.random');
  c.nums(vr.mean, '$.vsSize.random.mean', n, true);
  c.nums(vr.std, '$.vsSize.random.std', n, true);
  c.matrix(vr.trials, '$.vsSize.random.trials', c.arr(vr.trials, '$.vsSize.random.trials').length, n, true);
  return o as unknown as SavedAnalysis['silhouette'];
}

function checkTimings(c: Check, v: unknown): Record<string, number> {
  const o = c.obj(v, '$');
  for (const k of Object.keys(o)) o[k] = c.num(o[k], `$[${quote(k, 40)}]`, true);
  return o as Record<string, number>;
}

const CHECKS: Record<Exclude<AnalysisPart, 'meta'>, (c: Check, v: unknown, m: Meta) => unknown> = {
  accuracy: checkAccuracy,
  classMeans: (c, v, m) => checkMeanTables(c, v, '$', m),
  gradMeans: (c, v, m) => {
    const o = c.obj(v, '$');
    checkMeanTables(c, o.loss, '$.loss', m, m.target);
    checkMeanTables(c, o.trueLogit, '$.trueLogit', m, m.target);
    return o;
  },
  topk: checkTopk, selectivity: checkSelectivity, interventions: checkInterventions, neuronSweep: checkNeuronSweep, saliency: checkSaliency,
  oneHotMaps: checkOneHotMaps, projections: checkProjections, silhouette: checkSilhouette, timings: (c, v) => checkTimings(c, v),
};

/**
 * checks one parsed part against meta (itself checked when `part` is 'meta'); returns it with typed
 * arrays restored where the figures read them (nulls read as NaN); throws InputError(analysis/<part>.json,
 * '<JSON path>: problem') naming the first problem. Mutates `v`.
 */
export function validateAnalysisPart(part: AnalysisPart, v: unknown, meta?: Meta): unknown {
  const c = new Check(fileOf(part));
  if (part === 'meta') return checkMeta(c, v);
  if (!meta) throw new InputError(fileOf(part), 'cannot be checked without a valid analysis/meta.json');
  return CHECKS[part](c, v, meta);
}

/**
 * the parsed analysis/*.json files (part → value; a part absent from `parts` could not be read, with
 * why in `unread`, or was not there) → the analysis as far as it is sound, and every part skipped with
 * its reason. No analysis when meta.json is absent or unsound (nothing else can be checked without it);
 * a folder with no file at all is no analysis and no skip.
 */
export function analysisFromJson(
  parts: Partial<Record<AnalysisPart, unknown>>, unread: Partial<Record<AnalysisPart, string>> = {},
): { analysis?: PartialAnalysis; skipped: AnalysisSkip[] } {
  const skipped: AnalysisSkip[] = [];
  const skip = (part: AnalysisPart, reason: string) => skipped.push({ part, file: fileOf(part), reason });
  const problem = (e: unknown) => {
    if (e instanceof InputError) return e.problem;
    // a check that missed a case must still not stop the report: name it
    return `unexpected ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`;
  };
  const anyThere = ANALYSIS_PARTS.some((p) => p in parts || unread[p] !== undefined);
  if (!anyThere) return { skipped };
  let meta: Meta | undefined;
  if ('meta' in parts) {
    try {
      meta = validateAnalysisPart('meta', parts.meta) as Meta;
    } catch (e) {
      skip('meta', problem(e));
    }
  } else skip('meta', unread.meta ?? 'not found');
  if (!meta) return { skipped };
  const analysis: Record<string, unknown> = { meta };
  for (const part of ANALYSIS_PARTS) {
    if (part === 'meta') continue;
    if (!(part in parts)) { skip(part, unread[part] ?? 'not found'); continue; }
    try {
      analysis[part] = validateAnalysisPart(part, parts[part], meta);
    } catch (e) {
      skip(part, problem(e));
    }
  }
  return { analysis: analysis as unknown as PartialAnalysis, skipped };
}
