// `mlp-lens --compare raw,standardize,…` (`node bench/train.js --compare …`): normalisation experiments side by side (docs/notebooks.md
// items 38–41). Every variant is trained by runInDirectory (run/run.ts) as a plain run, with the same options, seed and data
// order (normalisation layers draw no random numbers; dropout masks come from a counter-based hash, not
// the shuffling generator), into OUT/compare/<variant>/. Then, from each run's files and trained model:
// test and per-class accuracy, loss curves, activation drift per layer (from stats/), dead and rarely
// active neurons (training epochs and test set), selectivity concentration and the silhouette of the last
// hidden layer (test set, eval mode). Written to OUT/compare/: summary.json, CSV tables, and figures
// (SVG + compare.html) when the report module (analysis/report.ts) is there.
import { join } from 'node:path';
import { mkdir, readFile } from 'node:fs/promises';
import { drift, type Drift } from '../analysis/drift.ts';
import { meanOverBatch, meanPerClass } from '../analysis/class-means.ts';
import { toCsv, type Row } from '../analysis/csv.ts';
import { cacheImages, imagesFromSplit, type HostTensor } from '../analysis/forward-cache.ts';
import { selectivityPerClass } from '../analysis/selectivity.ts';
import { silhouetteScore } from '../analysis/silhouette.ts';
import { topK } from '../analysis/topk.ts';
import { cpu } from '../engine/cpu.ts';
import { InputError } from '../mlp/errors.ts';
import { loadMnist } from './mnist-files.ts';
import { Mlp } from '../mlp/model.ts';
import { loadModelFileWithNorm } from './model-files.ts';
import type { ActName } from '../mlp/names.ts';
import { describeNorm, resolveNorm, savedNormSpec, variantConfig, type NormConfig } from '../mlp/norm.ts';
import { writeAtomic, writeJson } from './run-dir.ts';
import { loadRunStats } from './stats-files.ts';
import type { EpochMetrics } from '../mlp/train.ts';
import { ConfigError } from './errors.ts';
import { runInDirectory, type RunEvents, type RunOptions, type RunOutput } from './run.ts';

/**
 * what the notebooks' README reports for each experiment (docs/notebooks.md items 38–41; raw: the notebooks' own
 * run, item 1.0). The README does not say whether dropout and LayerNorm ran on standardised input, so
 * both spellings map to the same figure.
 */
export const README_FIGURES: Record<string, { test: number; approx: boolean; train?: string; item: string }> = {
  raw: { test: 94.80, approx: false, item: 'notebooks 01/02' },
  standardize: { test: 96.34, approx: false, item: '38' },
  dropout: { test: 96.6, approx: true, train: '≈ 95.6', item: '40' },
  'standardize+dropout': { test: 96.6, approx: true, train: '≈ 95.6', item: '40' },
  layernorm: { test: 95, approx: true, train: '98–99 (trained long)', item: '39' },
  'standardize+layernorm': { test: 95, approx: true, train: '98–99 (trained long)', item: '39' },
  final: { test: 96.7, approx: true, item: '41' },
};

/** the neurons of a layer by activity over a set of samples */
export interface Health { layer: number; tensor: string; dead: number[]; rare: number[]; always: number[] }

export interface VariantResult {
  name: string;
  dir: string;
  norm: string;
  config: NormConfig;
  readme?: (typeof README_FIGURES)[string];
  test: { loss: number; accuracy: number; perClass: number[] };
  train: { loss: number; accuracy: number };
  /** metrics.json's epochs: the loss curves */
  epochs: EpochMetrics[];
  /** per recorded hidden tensor (and the logits): mean and std (ddof 1) of each epoch's values, and of its first mini-batch */
  drift: Record<string, { mean: number[]; std: number[]; firstBatchMean?: number[]; firstBatchStd?: number[]; stdGrowth: number }>;
  /** per hidden layer, dead / rare / always-active counts of each training epoch (ReLU output) */
  healthDrift: { layer: number; tensor: string; dead: number[]; rare: number[]; always: number[] }[];
  /** the same on the 10 000 test images after training (eval mode) */
  testHealth: Health[];
  /** the last hidden layer's ReLU output on the test set */
  selectivity: {
    layer: number; tensor: string;
    /** top-3 most selective neurons per class [classes][3] */
    top3: number[][];
    /** neurons in any class's top 3, and how many classes the most frequent one serves */
    distinctTop3: number; maxTop3Count: number;
    /** mean over classes of the best neuron's selectivity */
    meanTopScore: number;
    /** share of the layer's summed mean activation carried by its 3 most active neurons */
    activationShareTop3: number;
  };
  /** silhouette (euclidean, all test images) of the last hidden layer: its ReLU output, and the tensor the output layer reads when that differs */
  silhouette: { layer: number; post: number; output?: { tensor: string; score: number } };
  /** training time: the epochs' seconds (metrics.json) */
  seconds: number;
}

export interface Comparison {
  format: 'mlp-lens/compare';
  version: 1;
  options: Record<string, unknown>;
  variants: VariantResult[];
  figures: string[];
  notes: string[];
}

const safeName = (v: string) => v.replace(/[^A-Za-z0-9.+=-]/g, '_');

/** trains every variant one after the other and writes the comparison; returns it */
export async function runCompare(cfg: RunOptions, variants: readonly string[], events: RunEvents = {}): Promise<Comparison> {
  const log = events.log ?? (() => {});
  const n = cfg.norm;
  if (n && ((n.input && n.input !== 'none') || n.layernorm !== undefined || n.batchnorm !== undefined || (n.dropout ?? 0) > 0)) {
    throw new ConfigError('--compare sets the normalisation of each variant itself: leave out --input-norm, --layernorm, --batchnorm and --dropout');
  }
  if (!variants.length || variants.some((v) => !v)) throw new ConfigError('--compare needs a comma-separated list of variants, e.g. raw,standardize,final');
  if (new Set(variants.map(safeName)).size !== variants.length) throw new ConfigError('--compare: a variant is named twice');
  // every name checked before the first run starts
  const configs = variants.map((v) => {
    try {
      const c = variantConfig(v);
      resolveNorm({ ...c, inputStats: { mean: 0, std: 1 } }, cfg.sizes.length - 2);
      return c;
    } catch (e) { throw new ConfigError(`--compare ${v}: ${(e as Error).message}`); }
  });
  const root = join(cfg.out, 'compare');
  await mkdir(root, { recursive: true });
  const results: VariantResult[] = [];
  for (const [i, v] of variants.entries()) {
    log(`\n=== variant ${i + 1}/${variants.length}: ${v} ===`);
    // the comparison owns its variants' folders: an unfinished variant is trained again from the start
    const vcfg: RunOptions = { ...cfg, norm: { ...configs[i], seed: cfg.seed }, out: join(root, safeName(v)), replace: true };
    // a variant finished earlier with the same options (an interrupted comparison, or new figures) is reused, not retrained
    const out = await finishedRun(vcfg, log) ?? await runInDirectory(vcfg, events);
    results.push(await variantResult(v, configs[i], out));
    await writeJson(root, 'summary.json', summary(cfg, results, [], []));
  }
  const notes: string[] = [];
  const figures = await writeFigures(root, results, notes);
  const s = summary(cfg, results, figures, notes);
  await writeJson(root, 'summary.json', s);
  await writeTables(root, results);
  for (const line of formatComparison(results)) log(line);
  for (const note of notes) log(`note: ${note}`);
  log(`comparison: ${root}/summary.json, *.csv${figures.length ? ', compare.html' : ''}`);
  return s;
}

function summary(cfg: RunOptions, variants: VariantResult[], figures: string[], notes: string[]): Comparison {
  const { sizes, epochs, batch, lr, momentum, weightDecay, seed, rng, shuffle, steps, record } = cfg;
  return { format: 'mlp-lens/compare', version: 1, options: { sizes, epochs, batch, lr, momentum, weightDecay, seed, rng, shuffle, steps, record }, variants, figures, notes };
}

// --- one variant's numbers

/** the options that make two runs the same experiment */
const identity = (c: Record<string, unknown>) => JSON.stringify(
  ['sizes', 'epochs', 'batch', 'lr', 'momentum', 'weightDecay', 'seed', 'rng', 'shuffle', 'steps', 'record', 'norm'].map((k) => c[k] ?? null));

/**
 * a variant's run directory that already holds a finished run (metrics.json status done) with the same
 * options: its saved model, for the comparison. A directory with another run in it is an error (no
 * silent overwrite); an unfinished one is trained again.
 */
async function finishedRun(cfg: RunOptions, log: (line: string) => void): Promise<RunOutput | null> {
  let config: Record<string, unknown>, status: unknown;
  try {
    config = JSON.parse(await readFile(join(cfg.out, 'config.json'), 'utf8'));
    status = JSON.parse(await readFile(join(cfg.out, 'metrics.json'), 'utf8')).status;
  } catch { return null; }
  if (status !== 'done') return null;
  if (identity(config) !== identity(cfg as unknown as Record<string, unknown>)) {
    throw new InputError(cfg.out, 'holds a finished run with other options: choose another --out for this comparison');
  }
  const file = join(cfg.out, 'model.safetensors');
  const { layers, norms, metadata } = await loadModelFileWithNorm(file);
  const model = Mlp.fromParams(layers, cpu, savedNormSpec(norms, metadata, layers.length - 1));
  log(`reusing the finished run in ${cfg.out} (same options)`);
  const data = typeof cfg.data === 'object' ? cfg.data : await loadMnist(cfg.data);
  return { model, dir: cfg.out, data, plan: model.plan, history: [], cancelled: false };
}

async function variantResult(name: string, config: NormConfig, out: RunOutput): Promise<VariantResult> {
  const { model, dir, data, plan } = out;
  // the normalisation experiments are MLPs (their variants are normalisation plans)
  if (model.kind !== 'mlp') throw new Error(`compare: variant ${name} trained a ${model.kind}, not an MLP`);
  const metrics = JSON.parse(await readFile(join(dir, 'metrics.json'), 'utf8')) as { epochs: EpochMetrics[]; test: VariantResult['test'] };
  const last = metrics.epochs[metrics.epochs.length - 1];

  let d: Drift | null = null;
  try { d = drift(await loadRunStats(dir)); } catch { /* recording off: no drift */ }
  const driftOut: VariantResult['drift'] = {};
  for (const [tensor, t] of Object.entries(d?.acts ?? {})) {
    if (!/^layers\.\d+\./.test(tensor) && tensor !== 'logits') continue;
    driftOut[tensor] = {
      mean: t.mean, std: t.std, firstBatchMean: t.firstBatch?.mean, firstBatchStd: t.firstBatch?.std,
      stdGrowth: t.std[t.std.length - 1] / t.std[0],
    };
  }

  // the test set in eval mode: every hidden layer's ReLU output, and the last layer's output tensor
  model.eval();
  const hidden = model.hidden, lastLayer = hidden - 1;
  const outName = (k: number): ActName => (plan.layers[k].norm === 'layernorm' || plan.layers[k].norm === 'batchnorm') && plan.layers[k].site === 'after-relu'
    ? `layers.${k}.norm` : `layers.${k}.post`;
  const names: ActName[] = [...Array.from({ length: hidden }, (_, k): ActName => `layers.${k}.post`)];
  if (outName(lastLayer) !== `layers.${lastLayer}.post`) names.push(outName(lastLayer));
  const images = imagesFromSplit(data.test);
  const cache = await cacheImages(model, images, { names });
  const labels = images.labels, classes = model.sizes[model.sizes.length - 1];

  const testHealth = Array.from({ length: hidden }, (_, k) => activity(k, `layers.${k}.post`, cache.acts[`layers.${k}.post`]!));
  const post = cache.acts[`layers.${lastLayer}.post`]!;
  const scores = selectivityPerClass(meanPerClass(post, labels, classes), 1e-3); // [classes, width]
  const top3 = scores.map((row) => topK(row, 3));
  const counts = new Map<number, number>();
  for (const set of top3) for (const i of set) counts.set(i, (counts.get(i) ?? 0) + 1);
  const overall = meanOverBatch(post); // [width]
  const total = overall.reduce((a, b) => a + b, 0);
  const share = [...overall].sort((a, b) => b - a).slice(0, 3).reduce((a, b) => a + b, 0) / total;
  const sil: VariantResult['silhouette'] = { layer: lastLayer, post: silhouetteScore(post, labels) };
  const o = outName(lastLayer);
  if (o !== `layers.${lastLayer}.post`) sil.output = { tensor: o, score: silhouetteScore(cache.acts[o]!, labels) };

  return {
    name, dir, norm: describeNorm(plan), config, readme: README_FIGURES[name],
    test: metrics.test, train: { loss: last.trainLoss, accuracy: last.trainAccuracy }, epochs: metrics.epochs,
    drift: driftOut, healthDrift: d?.health ?? [], testHealth,
    selectivity: {
      layer: lastLayer, tensor: `layers.${lastLayer}.post`, top3, distinctTop3: counts.size, maxTop3Count: Math.max(...counts.values()),
      meanTopScore: scores.reduce((a, row) => a + Math.max(...row), 0) / scores.length, activationShareTop3: share,
    },
    silhouette: sil, seconds: metrics.epochs.reduce((a, m) => a + m.seconds, 0),
  };
}

/** dead (never > 0), rare (> 0 on fewer than 1 % of the samples) and always-active neurons of x [n, width] */
function activity(layer: number, tensor: string, x: HostTensor): Health {
  const [n, w] = x.shape, pos = new Array<number>(w).fill(0);
  for (let i = 0; i < n; i++) for (let j = 0; j < w; j++) if (x.data[i * w + j] > 0) pos[j]++;
  const idx = (f: (p: number) => boolean) => pos.flatMap((p, j) => (f(p) ? [j] : []));
  return { layer, tensor, dead: idx((p) => p === 0), rare: idx((p) => p > 0 && p < 0.01 * n), always: idx((p) => p === n) };
}

// --- tables

const f = (v: number | undefined, digits = 2) => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits));

/** the printed comparison: one row per variant, then the drift growth per tensor */
export function formatComparison(rs: readonly VariantResult[]): string[] {
  const w = Math.max(8, ...rs.map((r) => r.name.length));
  const lines = ['', 'comparison (test set after the last epoch; README = the notebooks\' README, docs/notebooks.md items 38–41):',
    `${'variant'.padEnd(w)}  test %  README %  train %  test loss  dead/rare L0  dead/rare L1  top-3 share  distinct top-3  silhouette`];
  for (const r of rs) {
    const readme = r.readme ? `${r.readme.approx ? '≈' : ' '}${r.readme.test.toFixed(2)}` : '–';
    const dr = (k: number) => { const h = r.testHealth[k]; return h ? `${h.dead.length}/${h.rare.length}` : '–'; };
    const sil = `${f(r.silhouette.post, 3)}${r.silhouette.output ? ` (${r.silhouette.output.tensor.split('.').pop()} ${f(r.silhouette.output.score, 3)})` : ''}`;
    lines.push(`${r.name.padEnd(w)}  ${f(r.test.accuracy).padStart(6)}  ${readme.padStart(8)}  ${f(r.train.accuracy).padStart(7)}  ${f(r.test.loss, 4).padStart(9)}  ` +
      `${dr(0).padStart(12)}  ${dr(1).padStart(12)}  ${f(r.selectivity.activationShareTop3, 3).padStart(11)}  ${String(r.selectivity.distinctTop3).padStart(14)}  ${sil}`);
  }
  const tensors = [...new Set(rs.flatMap((r) => Object.keys(r.drift)))].sort(byModelOrder);
  if (tensors.length) {
    lines.push('', 'activation drift: std of each epoch\'s values, first → last epoch (× growth)');
    lines.push(`${'variant'.padEnd(w)}  ${tensors.map((t) => t.replace('layers.', 'L').padStart(20)).join('')}`);
    for (const r of rs) {
      lines.push(`${r.name.padEnd(w)}  ${tensors.map((t) => {
        const d = r.drift[t];
        return (d ? `${f(d.std[0], 3)}→${f(d.std[d.std.length - 1], 3)} ×${f(d.stdGrowth, 2)}` : '–').padStart(20);
      }).join('')}`);
    }
  }
  lines.push('', 'per-class test accuracy (%)');
  lines.push(`${'variant'.padEnd(w)}  ${Array.from({ length: 10 }, (_, c) => String(c).padStart(7)).join('')}`);
  for (const r of rs) lines.push(`${r.name.padEnd(w)}  ${r.test.perClass.map((a) => f(a).padStart(7)).join('')}`);
  return lines;
}

const SITE_ORDER = ['pre', 'norm', 'post', 'drop'];
function byModelOrder(a: string, b: string): number {
  const key = (t: string) => {
    const m = /^layers\.(\d+)\.(\w+)$/.exec(t);
    return m ? Number(m[1]) * 10 + SITE_ORDER.indexOf(m[2]) : 1e6;
  };
  return key(a) - key(b);
}

async function writeTables(root: string, rs: readonly VariantResult[]): Promise<void> {
  const rows: Row[] = rs.map((r) => ({
    variant: r.name, normalisation: r.norm, test_accuracy: r.test.accuracy, readme_test_accuracy: r.readme?.test,
    readme_approx: r.readme?.approx, train_accuracy: r.train.accuracy, test_loss: r.test.loss, train_loss: r.train.loss,
    ...Object.fromEntries(r.testHealth.flatMap((h) => [[`dead_L${h.layer}`, h.dead.length], [`rare_L${h.layer}`, h.rare.length]])),
    top3_activation_share: r.selectivity.activationShareTop3, distinct_top3: r.selectivity.distinctTop3,
    max_top3_count: r.selectivity.maxTop3Count, mean_top_selectivity: r.selectivity.meanTopScore,
    silhouette_post: r.silhouette.post, silhouette_output: r.silhouette.output?.score, seconds: r.seconds,
  }));
  await writeAtomic(join(root, 'summary.csv'), toCsv(rows));
  await writeAtomic(join(root, 'curves.csv'), toCsv(rs.flatMap((r) => r.epochs.map((m) => ({
    variant: r.name, epoch: m.epoch, train_loss: m.trainLoss, test_loss: m.testLoss, train_accuracy: m.trainAccuracy, test_accuracy: m.testAccuracy,
  })))));
  await writeAtomic(join(root, 'per-class.csv'), toCsv(rs.flatMap((r) => r.test.perClass.map((a, c) => ({ variant: r.name, digit: c, accuracy: a })))));
  await writeAtomic(join(root, 'drift.csv'), toCsv(rs.flatMap((r) => Object.entries(r.drift).flatMap(([tensor, d]) => d.mean.map((m, e) => ({
    variant: r.name, tensor, epoch: e, mean: m, std: d.std[e], first_batch_mean: d.firstBatchMean?.[e], first_batch_std: d.firstBatchStd?.[e],
  }))))));
  await writeAtomic(join(root, 'health.csv'), toCsv(rs.flatMap((r) => r.healthDrift.flatMap((h) => h.dead.map((dead, e) => ({
    variant: r.name, layer: h.layer, tensor: h.tensor, epoch: e, dead, rare: h.rare[e], always: h.always[e],
  }))))));
}

// --- figures (Vega-Lite, rendered by analysis/report.ts when it is there)

type Spec = Record<string, unknown>;
const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const CONFIG = { font: 'DejaVu Sans, Helvetica, Arial, sans-serif', axis: { labelFontSize: 11, titleFontSize: 12 }, legend: { labelFontSize: 11 } };

export function comparisonSpecs(rs: readonly VariantResult[]): { id: string; title: string; spec: Spec }[] {
  const variant = { field: 'variant', type: 'nominal', title: 'variant', sort: rs.map((r) => r.name) };
  const curves = rs.flatMap((r) => r.epochs.flatMap((m) => [
    { variant: r.name, epoch: m.epoch, panel: 'train loss', value: m.trainLoss },
    { variant: r.name, epoch: m.epoch, panel: 'test loss', value: m.testLoss },
    { variant: r.name, epoch: m.epoch, panel: 'test accuracy (%)', value: m.testAccuracy },
  ]));
  const driftRows = (stat: 'mean' | 'std') => rs.flatMap((r) => Object.entries(r.drift).filter(([t]) => t.startsWith('layers.')).flatMap(([t, d]) => {
    const [, k, site] = t.split('.');
    return d[stat].map((v, e) => ({ variant: r.name, epoch: e, layer: `hidden layer ${Number(k) + 1}`, site, value: Number.isFinite(v) ? v : null }));
  }));
  const line = (values: Row[], title: string, facet: Spec, y: string): Spec => ({
    $schema: SCHEMA, title, data: { values }, config: CONFIG, facet,
    spec: {
      width: 260, height: 180, mark: { type: 'line', point: { size: 18 } },
      encoding: {
        x: { field: 'epoch', type: 'quantitative', axis: { tickMinStep: 1, format: 'd' } },
        y: { field: 'value', type: 'quantitative', title: y, scale: { zero: false } },
        color: variant, tooltip: [{ field: 'variant' }, { field: 'epoch' }, { field: 'value', format: '.4f' }],
      },
    },
    resolve: { scale: { y: 'independent' } },
  });
  // one row of panels per hidden layer, one panel per tensor it has (pre, norm, post, drop in model order)
  const perLayer = (values: Row[], title: string, y: string): Spec => {
    const layers = [...new Set(values.map((v) => v.layer as string))].sort();
    return {
      $schema: SCHEMA, title, config: CONFIG,
      vconcat: layers.map((layer) => {
        const rows = values.filter((v) => v.layer === layer);
        const sites = SITE_ORDER.filter((site) => rows.some((v) => v.site === site));
        const { $schema: _, config: __, title: ___, ...panel } = line(rows, layer, { column: { field: 'site', type: 'nominal', title: layer, sort: sites } }, y);
        return panel;
      }),
    };
  };
  return [
    { id: 'compare-curves', title: 'Loss curves and test accuracy per epoch', spec: line(curves, 'Loss curves and test accuracy per epoch', { column: { field: 'panel', type: 'nominal', title: null, sort: ['train loss', 'test loss', 'test accuracy (%)'] } }, '') },
    { id: 'compare-drift-std', title: 'Activation drift: std per epoch, per layer', spec: perLayer(driftRows('std'), 'Activation drift: std of each epoch\'s values (all samples)', 'std') },
    { id: 'compare-drift-mean', title: 'Activation drift: mean per epoch, per layer', spec: perLayer(driftRows('mean'), 'Activation drift: mean of each epoch\'s values (all samples)', 'mean') },
    {
      id: 'compare-per-class', title: 'Per-class test accuracy',
      spec: {
        $schema: SCHEMA, title: 'Per-class test accuracy', config: CONFIG, width: 640, height: 220,
        data: { values: rs.flatMap((r) => r.test.perClass.map((a, c) => ({ variant: r.name, digit: c, accuracy: a }))) },
        mark: { type: 'point', filled: true, size: 55, opacity: 1 },
        encoding: {
          x: { field: 'digit', type: 'ordinal' }, xOffset: variant, color: variant,
          y: { field: 'accuracy', type: 'quantitative', title: 'accuracy (%)', scale: { zero: false } },
          tooltip: [{ field: 'variant' }, { field: 'digit' }, { field: 'accuracy', format: '.2f' }],
        },
      },
    },
    {
      id: 'compare-health', title: 'Dead and rarely active neurons (test set)',
      spec: {
        $schema: SCHEMA, title: 'Dead and rarely active (< 1 %) ReLU units on the test set', config: CONFIG,
        data: { values: rs.flatMap((r) => r.testHealth.flatMap((h) => [
          { variant: r.name, layer: `hidden layer ${h.layer + 1}`, kind: 'dead', count: h.dead.length },
          { variant: r.name, layer: `hidden layer ${h.layer + 1}`, kind: 'rare', count: h.rare.length },
        ])) },
        facet: { column: { field: 'layer', type: 'nominal', title: null } },
        spec: {
          width: 260, height: 180, mark: 'bar',
          encoding: { x: { field: 'kind', type: 'nominal', title: null }, xOffset: variant, color: variant, y: { field: 'count', type: 'quantitative', title: 'neurons' } },
        },
      },
    },
  ];
}

/** renders the figures to SVG and a compare.html through analysis/report.ts; without it, says so and writes only the specs */
async function writeFigures(root: string, rs: readonly VariantResult[], notes: string[]): Promise<string[]> {
  const specs = comparisonSpecs(rs);
  for (const s of specs) await writeAtomic(join(root, `${s.id}.vl.json`), JSON.stringify(s.spec));
  let renderSvg: ((spec: never) => Promise<string>) | undefined;
  try {
    ({ renderSvg } = await import('../analysis/report.ts'));
  } catch (e) {
    notes.push(`figures not rendered: analysis/report.ts is not available (${(e as Error).message.split('\n')[0]}); the Vega-Lite specs are in *.vl.json`);
    return [];
  }
  const out: string[] = [];
  const parts: string[] = [];
  for (const s of specs) {
    try {
      const svg = await renderSvg(s.spec as never);
      await writeAtomic(join(root, `${s.id}.svg`), svg);
      out.push(`${s.id}.svg`);
      parts.push(`<h2>${s.title}</h2>\n<div>${svg.replace(/<\?xml[^>]*>/, '')}</div>`);
    } catch (e) {
      notes.push(`figure ${s.id} failed to render: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  const table = formatComparison(rs).join('\n').replace(/&/g, '&amp;').replace(/</g, '&lt;');
  await writeAtomic(join(root, 'compare.html'), `<!doctype html><meta charset="utf-8"><title>mlp-lens: normalisation comparison</title>
<style>body{font:14px/1.4 "DejaVu Sans",sans-serif;margin:24px;max-width:1200px}pre{font-size:12px;background:#f6f6f6;padding:8px;overflow-x:auto}svg{max-width:100%;height:auto}</style>
<h1>Normalisation experiments, side by side</h1>\n<pre>${table}</pre>\n${parts.join('\n')}\n`);
  return out;
}
