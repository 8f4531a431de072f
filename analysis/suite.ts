// the post-training suite: every analysis of docs/notebooks.md items 13–19 and 23–37 over a trained model and a
// labelled split, as plain data (saved as analysis/*.json in a run directory by run/analyze.ts).
import { createRng, type Rng } from '../engine/rng.ts';
import type { Split } from '../mlp/mnist.ts';
import type { ActName } from '../mlp/names.ts';
import type { Net } from '../mlp/net.ts';
import { accuracyPerClass, classesByAccuracy, misclassified, predictionsOf, type Misclassified } from './accuracy.ts';
import { meanPerClassOfAll } from './class-means.ts';
import { confusionMatrix, rowNormalize } from './confusion.ts';
import { gridCsv, matrixCsv, toCsv, type Row } from './csv.ts';
import {
  cacheImages, imageRow, imagesFromSplit, layerName, lazyImages, unitSizes, widthOf, type CacheOptions, type HostTensor, type Site,
} from './forward-cache.ts';

export { unitSizes };
import { evaluateUnderScaling, type LayerSweep, type NeuronAnalysis, type NeuronSweep } from './intervention.ts';
import { oneHotMaps } from './onehot-maps.ts';
import { plainMlpOf } from './plain-mlp.ts';
import { pca } from './pca.ts';
import { projectActivations, sampleRows, umap2d, type Projection } from './projection.ts';
import { saliencyMaps, type Saliency } from './saliency.ts';
import { overlapOrder, selectivityPerClass } from './selectivity.ts';
import { mathKernelsReady } from '../engine/wasm/math-kernels.ts';
import { pairKernelsReady } from './pair-kernels.ts';
import { silhouetteScore, takeColumns, takeRows } from './silhouette.ts';
import { topKPerRow } from './topk.ts';
import { interventionsWith, ready, suiteInterventions, suitePrefixScores, suiteTsne, type InterventionArgs } from './suite-tasks.ts';
import { taskModule, type HelperThread } from '../engine/threads.ts';

/** one turn of the event loop: lets a helper thread's start and its posted calls go out before a long section here */
const turn = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** a call handed to the helper thread, awaited later: its failure is not an unhandled rejection meanwhile (the await rethrows it) */
function later<T>(p: Promise<T>): Promise<T> {
  p.catch(() => {});
  return p;
}

/**
 * the notebooks' hand-made neuron lists for layer 2 of their trained model (NB02 cells 89–110): only
 * meaningful for a model trained like the reference run, where neuron indices line up; the CLI passes
 * them for the reference layer, the library never assumes them
 */
export const NOTEBOOK_SUBSETS: Record<string, number[]> = {
  'hand-picked': [6, 7, 8, 10, 13],
  poor: [2, 0, 3, 11, 15],
};
export const NOTEBOOK_ORDERINGS: Record<string, number[]> = {
  hand_selected_set: [6, 7, 8, 10, 13, 0, 14, 12, 11, 5, 9, 1, 4, 2, 3, 15],
};

export interface SuiteOptions {
  /** hidden layer analysed in detail (default the last: the notebooks' layer 2; a CNN's: its last conv layer) */
  layer?: number;
  /**
   * which tensor of that layer (default post; a CNN's pooled conv layer: pool): the units analysed are its
   * neurons, or a conv map's channels (spatial means)
   */
  site?: Site;
  /** top-k size (default 3) */
  k?: number;
  /** selectivity ε (default 0.001) */
  eps?: number;
  /** samples per forward pass (default 2500) */
  batch?: number;
  /** seed of the suite's generator (random subsets, samples, UMAP); default 314 (NB02's random_state) */
  seed?: number;
  /**
   * NB02 cells 60–67's sweep: the neuron (default 7, the notebook's, or the layer's last), its scales
   * (default linspace(0, 3, 20), as the notebook: no 1.0 inserted) on the whole test set
   */
  neuronSweep?: { neuron?: number; interval?: [number, number]; steps?: number };
  /** the class whose most selective neuron gets the full scale sweep (default 7, or the last class) */
  focusClass?: number;
  /** scale interval of the sweeps (default [0, 3]) and steps of the focus neuron's sweep (default 30) */
  interval?: [number, number];
  steps?: number;
  /** steps of the every-neuron sweep (default 3: scales 0, 1.5, 3, plus the unmodified baseline) */
  sweepSteps?: number;
  /** also run the focus neuron at scales 0, 1, b on raw 0–255 pixels, NB02 cells 53–57's mistake (default true) */
  rawPixels?: boolean;
  /** the saliency image: a test index, or the nth image of a class (default the 494th of class 9, NB02 cell 130) */
  saliency?: { index: number } | { cls: number; nth: number };
  /** t-SNE (items 17): rows sampled, perplexity, iterations; false to skip (default 1000 rows, 20, 300) */
  tsne?: { sample?: number; perplexity?: number; iterations?: number } | false;
  /**
   * UMAP (items 18, 32): rows sampled, epochs (0: umap-js's default), and whether item 32's neuron
   * subspaces get a UMAP as well as a PCA; false to skip (default 1000 rows, 200 epochs, no subspaces)
   */
  umap?: { sample?: number; nEpochs?: number; subspaces?: boolean } | false;
  /** neuron subset size of items 32–33 (default 5) */
  subsetSize?: number;
  /** random subsets of item 33 (default 30) and random orderings per size of item 34 (default 10) */
  randomTrials?: number;
  sizeTrials?: number;
  /** subset sizes of item 34 (default 2, 4, …, width) */
  sizes?: number[];
  /** extra named subsets (item 33) and orderings (item 34), e.g. NOTEBOOK_SUBSETS */
  subsets?: Record<string, number[]>;
  orderings?: Record<string, number[]>;
  /** the class whose top selective neurons make item 32's subspace (default 3, or the last class) */
  subspaceClass?: number;
  /**
   * rows the silhouettes are computed on (default 1500, the same seeded rows for every subset; Infinity:
   * all, exact). Exact on all 10 000 rows costs ≈ 50 s for the whole section (bench/silhouette-cost.js)
   */
  silhouetteSample?: number;
  /**
   * the UMAP 2-D column (item 33): a seeded sample of `sample` of the silhouette rows (default 500), umap-js
   * with `nEpochs` (default 100; 0: umap-js's own), for the named subsets and the first `trials` random
   * subsets (default 3); ≈ 0.5 s a subset (bench/silhouette-cost.js), ≈ 5 s for the section, so it is
   * off unless asked for (FULL_SCALE, `mlp-lens analyze RUN --full`, asks for it on every row)
   */
  silhouetteUmap?: { sample?: number; trials?: number; nEpochs?: number } | false;
  /** progress lines (section names and seconds) */
  log?: (line: string) => void;
  /**
   * a second thread for the parts that draw nothing from the generator (engine/threads.ts): the interventions
   * (the plain MLP's), t-SNE's iterations (its rows are drawn here) and item 34's silhouette curves run
   * there while this thread runs UMAP and item 33's silhouettes; the results are the same with or without
   * it. `timings` then holds each section's seconds on both threads together: sections overlap, the
   * suite's wall time is less than their sum (logged)
   */
  helper?: HelperThread;
  /** each forward chunk's raw activations of some names (the CNN's top images read its maps) */
  onChunk?: CacheOptions['onChunk'];
}

/** the hidden layer the suite analyses unless told: an MLP's last, a CNN's last conv layer */
export function defaultLayer(model: Net): number {
  if (model.kind === 'mlp') return model.hidden - 1;
  let last = 0;
  model.layers.forEach((l, k) => { if (k < model.layers.length - 1 && l.spec.kind === 'conv') last = k; });
  return last;
}

/** the site analysed unless told: post, or the pooled map of a pooled conv layer */
export function defaultSite(model: Net, layer: number): Site {
  return model.kind === 'cnn' && model.layers[layer]?.pool ? 'pool' : 'post';
}


/** silhouette of one neuron subset: in the subspace itself, in its PCA 2-D and in its UMAP 2-D (null: not run) */
export interface SubsetSilhouette { name: string; neurons: number[]; full: number; pca: number; umap: number | null }

/** the silhouette columns, as labelled in the printed table, the JSON and the figure */
export const SILHOUETTE_COLUMNS = { full: 'full space', pca: 'PCA 2-D', umap: 'UMAP 2-D' } as const;
export type SilhouetteColumn = keyof typeof SILHOUETTE_COLUMNS;

/** "a seeded sample of 1500 of the 10000 test images" or "all 10000 test images" */
export function rowsInWords(rows: number, count: number): string {
  return rows < count ? `a seeded sample of ${rows} of the ${count} test images` : `all ${count} test images`;
}

export interface PostTrainingResults {
  meta: {
    layer: number; target: ActName; width: number; count: number; classes: number;
    /** units per layer (unitSizes): an MLP's sizes, a CNN's input size, channels or widths, classes */
    sizes: number[];
    /** a CNN's: its spec (mlp/arch.ts) and the word for a unit */
    arch?: string; unit?: 'neuron' | 'channel';
    /** the options given (log dropped) */
    options: SuiteOptions; rng: string;
  };
  /** item 13, 30, 10 */
  accuracy: {
    accuracy: number; perClass: number[]; counts: number[];
    sorted: { cls: number; accuracy: number }[];
    /** [classes, classes], rows = true */
    confusion: number[][]; confusionRates: number[][];
    misclassified: Misclassified[];
  };
  /** item 35: name → class × neuron mean [classes, width], every hidden layer (pre, post) and the logits */
  classMeans: Record<string, number[][]>;
  /** items 23, 25: per gradient target, name → class × neuron mean gradient [classes, width] */
  gradMeans: { loss: Record<string, number[][]>; trueLogit: Record<string, number[][]> };
  /** items 23, 25, 26: top-k neurons of the layer per class [classes, k] */
  topk: { k: number; activation: number[][]; gradLoss: number[][]; gradTrueLogit: number[][]; selectivity: number[][] };
  /** item 26 */
  selectivity: { eps: number; scores: number[][]; topSubset: number[][]; overlapOrder: number[] };
  /** items 27–31 */
  interventions: {
    focus: { cls: number; neuron: number; analysis: NeuronAnalysis };
    raw: NeuronAnalysis | null;
    sweep: LayerSweep;
  };
  /** items 29–30 as NB02 cells 60–67 ran them: one neuron (7) scaled by linspace(0, 3, 20) */
  neuronSweep: NeuronSweep;
  /** item 36 */
  saliency: Saliency & { index: number; label: number };
  /** item 37 */
  oneHotMaps: { target: string; value: number; maps: HostTensor };
  /** items 14–18, 32 */
  projections: {
    pca: Projection & { components: number[][] };
    /** item 15: the classes with the best accuracy, best first */
    mostAccurateClasses: number[];
    tsne: Projection | null;
    umap: Projection | null;
    subspaces: (Projection & { name: string })[];
  };
  /** items 33–34 */
  silhouette: {
    /** rows of the full-space and PCA columns (a seeded sample of `count` unless equal) */
    rows: number; count: number;
    /** each column: its label and the rows it is computed on */
    columns: { key: SilhouetteColumn; label: string; rows: number }[];
    /** the UMAP column's settings (null: not run) */
    umap: { rows: number; trials: number; nEpochs: number } | null;
    subsets: SubsetSilhouette[];
    /** random subsets: mean and std of each column over the trials (UMAP over the first `umap.trials`) */
    random: {
      size: number; trials: SubsetSilhouette[];
      meanFull: number; stdFull: number; meanPca: number; stdPca: number; meanUmap: number; stdUmap: number;
    };
    /** silhouette of the all-neuron UMAP embedding of `projections.umap` (its own rows), when run */
    umapAll: number | null;
    vsSize: {
      sizes: number[]; all: number;
      orderings: { name: string; order: number[]; scores: number[] }[];
      random: { mean: number[]; std: number[]; trials: number[][] };
    };
  };
  /** the analysed layer's activations [count, width] and labels [count], test order (item 16's export; CSV only) */
  activations: { acts: HostTensor; labels: Uint8Array };
  /** seconds per section */
  timings: Record<string, number>;
}

const meanStd = (v: readonly number[]): { mean: number; std: number } => {
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  return { mean, std: Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length) };
};

/** a uniformly random k-subset of [0, n) in draw order, from the generator */
export function randomSubset(n: number, k: number, rng: Rng): number[] {
  return Array.from(rng.epochPermutation(n).subarray(0, k));
}

/**
 * runs every post-training analysis of `model` on the labelled split `test` (items 13–19, 23–37) for
 * hidden layer `opts.layer` (activation tables of every layer). Results are plain data (see
 * PostTrainingResults); nothing is written.
 */
export async function runPostTrainingSuite(model: Net, test: Split, opts: SuiteOptions = {}): Promise<PostTrainingResults & { maps: Partial<Record<ActName, HostTensor>> }> {
  const timings: Record<string, number> = {};
  const log = opts.log ?? (() => {});
  // the silhouettes' and t-SNE's SIMD kernels, loaded before the first of them (until then the JS loops run)
  await Promise.all([pairKernelsReady(), mathKernelsReady()]);
  let t0 = performance.now();
  const wall0 = performance.now();
  // each section's seconds on this thread; a section handed to the helper thread logs when it is back
  const lap = (name: string, away = false) => {
    const t = performance.now();
    timings[name] = (t - t0) / 1000;
    if (!away) log(`${name}: ${timings[name].toFixed(2)} s`);
    t0 = t;
  };
  // a section's seconds on the helper thread, added to what it took here (handing it over)
  const back = (name: string, seconds: number) => {
    timings[name] += seconds;
    log(`${name}: ${timings[name].toFixed(2)} s (on the helper thread)`);
  };
  // (a helper thread that runs every call here, MLP_LENS_THREADS=1: as without one)
  const helper = opts.helper && opts.helper.fallback === null ? opts.helper : null;
  const cnn = model.kind === 'cnn';
  const layer = opts.layer ?? defaultLayer(model), site = opts.site ?? defaultSite(model, layer);
  const target = layerName(model, layer, site), width = widthOf(model, target);
  const classes = model.classes, k = opts.k ?? 3, eps = opts.eps ?? 1e-3;
  const rng = createRng('mlp-lens', opts.seed ?? 314);
  const [a, b] = opts.interval ?? [0, 3];
  const shown: SuiteOptions = { ...opts, log: undefined, onChunk: undefined, helper: undefined };
  // the helper thread loads its modules while the forward pass runs here
  if (helper) {
    void later(helper.call({ url: taskModule(import.meta.url, './suite-tasks'), fn: 'ready', local: ready }, []));
    await turn();
  }

  // one cache: activations and per-sample gradients for both targets (items 23, 25, 35, and the rest).
  // A CNN: its maps as channel means, the gradients from the analysed tensor on (the backward pass never
  // enters the convolutions before it), that tensor's maps kept whole for the interventions
  // (the plain MLP: the images as floats only where read, its forward pass reading the split's sparse rows)
  const plain = plainMlpOf(model);
  const data = plain ? lazyImages(test) : imagesFromSplit(test);
  const cache = await cacheImages(model, data, {
    grads: ['loss', 'trueLogit'], batch: opts.batch ?? (cnn ? 1000 : undefined),
    ...(cnn ? { gradFrom: target, keep: [target], onChunk: opts.onChunk } : {}),
  });
  const labels = cache.labels, acts = cache.acts[target]!;
  // the interventions start from the kept map (a CNN) instead of running the convolutions again
  // (the plain MLP's: the analysed tensor's table itself, plain-mlp.ts running only the layers after it)
  const cached = cnn ? { cached: cache.maps[target] } : plain ? { cached: acts } : {};
  lap('forward-cache');

  const logits = cache.acts.logits!.data;
  const pred = predictionsOf(logits, classes);
  const acc = accuracyPerClass(pred, labels, classes);
  const confusion = confusionMatrix(pred, labels, classes);
  const accuracy = {
    ...acc, sorted: classesByAccuracy(acc.perClass), confusion, confusionRates: rowNormalize(confusion),
    misclassified: misclassified(logits, labels, classes, data.indices),
  };
  const classMeans = meanPerClassOfAll(cache.acts, labels, classes);
  const gradMeans = {
    loss: meanPerClassOfAll(cache.grads.loss!, labels, classes),
    trueLogit: meanPerClassOfAll(cache.grads.trueLogit!, labels, classes),
  };
  const means = classMeans[target];
  const scores = selectivityPerClass(means, eps);
  const subsetSize = Math.min(opts.subsetSize ?? 5, width);
  const topSelective = topKPerRow(scores, k);
  const selectivity = { eps, scores, topSubset: topKPerRow(scores, subsetSize), overlapOrder: overlapOrder(topSelective, width) };
  const topk = {
    k, activation: topKPerRow(means, k), gradLoss: topKPerRow(gradMeans.loss[target], k),
    gradTrueLogit: topKPerRow(gradMeans.trueLogit[target], k), selectivity: topSelective,
  };
  lap('tables');

  // interventions: the focus neuron's sweep, every neuron's sweep, the raw-pixel variant. No draws from
  // the generator: with a helper thread and the plain MLP (its weights and the analysed table as plain
  // data) they run there while this thread goes on
  const focusClass = opts.focusClass ?? Math.min(7, classes - 1);
  const focusNeuron = topSelective[focusClass][0];
  const ns = opts.neuronSweep ?? {};
  const away = helper && plain ? helper : null;
  const interventionArgs: InterventionArgs = {
    layer, site, focusNeuron, interval: [a, b], steps: opts.steps ?? 30,
    sweepNeuron: ns.neuron ?? Math.min(7, width - 1), sweepInterval: ns.interval ?? [0, 3], sweepSteps: ns.steps ?? 20,
    layerSteps: opts.sweepSteps ?? 3,
    // (a CNN: off unless asked for, it would run the convolutions on every image once more)
    raw: opts.rawPixels ?? !cnn,
  };
  const rawFrom = interventionArgs.raw ? test : null;
  const interventionsDone = away
    ? later(away.call({ url: taskModule(import.meta.url, './suite-tasks'), fn: 'suiteInterventions', local: suiteInterventions },
      [plain!, interventionArgs, acts, labels, rawFrom]))
    : await interventionsWith((on) => (t, v) => on === 'samples'
      ? evaluateUnderScaling(model, data, t, v, cached)
      : evaluateUnderScaling(model, imagesFromSplit(test, { pixels: 'raw' }), t, v), target, width, interventionArgs);
  if (away) await turn();
  lap('interventions', !!away);

  const pick = opts.saliency ?? { cls: 9, nth: 494 };
  let index = 'index' in pick ? pick.index : -1;
  if (!('index' in pick)) {
    const ofClass = data.indices.filter((_, i) => labels[i] === pick.cls);
    index = ofClass.length ? ofClass[Math.min(pick.nth, ofClass.length - 1)] : 0;
  }
  const row = data.indices.indexOf(index);
  const saliency = { index, label: labels[row], ...(await saliencyMaps(model, layer, row >= 0 ? imageRow(test, data.indices[row]) : new Float32Array(0))) };
  const maps = await oneHotMaps(model, layer, { site });
  lap('saliency+onehot');

  // projections
  const fullPca = pca(acts, 2);
  const pcaProj = { method: 'pca' as const, neurons: Array.from({ length: width }, (_, j) => j), rows: data.indices.map((_, i) => i), labels,
    embedding: fullPca.projected, explainedVarianceRatio: fullPca.explainedVarianceRatio, components: fullPca.components, seconds: 0 };
  const mostAccurateClasses = accuracy.sorted.slice(0, 5).map((r) => r.cls);
  lap('pca');
  const tsneOpt = opts.tsne === false ? null : { sample: 1000, perplexity: 20, iterations: 300, ...opts.tsne };
  // (its rows drawn here, as projectActivations draws them; the embedding needs no generator: with a
  // helper thread it is computed there)
  let tsneDone: Promise<Projection> | Projection | null = null;
  if (tsneOpt && helper) {
    const t1 = performance.now(), n = acts.shape[0];
    const rows = tsneOpt.sample < n ? sampleRows(n, tsneOpt.sample, rng) : Uint32Array.from({ length: n }, (_, i) => i);
    const sub = takeRows(acts, labels, rows);
    const setup = (performance.now() - t1) / 1000;
    tsneDone = later(helper.call({ url: taskModule(import.meta.url, './suite-tasks'), fn: 'suiteTsne', local: suiteTsne },
      [sub.x, { perplexity: tsneOpt.perplexity, iterations: tsneOpt.iterations }])
      .then((t) => ({
        method: 'tsne' as const, neurons: Array.from({ length: width }, (_, j) => j), rows, labels: sub.labels,
        embedding: t.embedding, kl: t.kl, seconds: setup + t.seconds,
      })));
    await turn();
  } else if (tsneOpt) {
    // (as projectActivations always computed it, here)
    tsneDone = projectActivations(acts, labels, 'tsne', {
      sample: tsneOpt.sample, rng, tsne: { perplexity: tsneOpt.perplexity, iterations: tsneOpt.iterations },
    });
  }
  lap('tsne', !!(tsneOpt && helper));
  const umapOpt = opts.umap === false ? null : { sample: 1000, nEpochs: 200, subspaces: false, ...opts.umap };
  const umap = umapOpt ? projectActivations(acts, labels, 'umap', { sample: umapOpt.sample, rng, umap: { nEpochs: umapOpt.nEpochs } }) : null;
  const subspaceClass = opts.subspaceClass ?? Math.min(3, classes - 1);
  const subspaceSets = [
    { name: `top-${subsetSize} selective of class ${subspaceClass}`, neurons: selectivity.topSubset[subspaceClass] },
    { name: `random ${subsetSize}`, neurons: randomSubset(width, subsetSize, rng) },
  ];
  const subspaces = subspaceSets.flatMap(({ name, neurons }) => [
    { name, ...projectActivations(acts, labels, 'pca', { neurons }) },
    ...(umapOpt?.subspaces ? [{ name, ...projectActivations(acts, labels, 'umap', { neurons, sample: umapOpt.sample, rng, umap: { nEpochs: umapOpt.nEpochs } }) }] : []),
  ]);
  lap('umap+subspaces');

  // silhouettes, all on the same rows; the UMAP column on a seeded sample of them, from a generator of
  // its own so the other columns draw what they drew without it
  const silRows = sampleRows(data.count, opts.silhouetteSample ?? 1500, rng);
  const sil = takeRows(acts, labels, silRows);
  // (only when asked for: it would cost the suite ≈ 5 s; UMAP needs more rows than its 15 neighbours)
  const uo = opts.silhouetteUmap ? { sample: 500, trials: 3, nEpochs: 100, ...opts.silhouetteUmap } : null;
  const umapRng = createRng('mlp-lens', (opts.seed ?? 314) + 1);
  const umapSil = uo && Math.min(uo.sample, silRows.length) > 15 ? takeRows(sil.x, sil.labels, sampleRows(silRows.length, uo.sample, umapRng)) : null;
  // every draw of the section up front, in the order they were made: item 33's random subsets, then item
  // 34's random orderings (the prefixes of a random permutation are uniformly random subsets of each size)
  const trialSets = Array.from({ length: opts.randomTrials ?? 30 }, () => randomSubset(width, subsetSize, rng));
  const sizeOrders = Array.from({ length: opts.sizeTrials ?? 10 }, () => randomSubset(width, width, rng));
  // item 34's curves (no draws): on the helper thread when there is one, while item 33's run here
  const sizes = opts.sizes ?? Array.from({ length: Math.floor(width / 2) }, (_, i) => 2 * (i + 1));
  const orderingList = [
    { name: `selectivity overlap (top-${k})`, order: selectivity.overlapOrder },
    ...Object.entries(opts.orderings ?? {}).map(([name, order]) => ({ name, order })),
  ];
  const prefixArgs: Parameters<typeof suitePrefixScores> = [sil.x, sil.labels, [...orderingList.map((o) => o.order), ...sizeOrders], sizes];
  const prefixDone = helper
    ? later(helper.call({ url: taskModule(import.meta.url, './suite-tasks'), fn: 'suitePrefixScores', local: suitePrefixScores }, prefixArgs))
    : { ...suitePrefixScores(...prefixArgs), seconds: 0 };
  if (helper) await turn();
  const scoreSubset = (name: string, neurons: number[], withUmap = true): SubsetSilhouette => {
    const x = takeColumns(sil.x, neurons);
    const u = umapSil && withUmap ? umap2d(takeColumns(umapSil.x, neurons), umapRng, { nEpochs: uo!.nEpochs || undefined }) : null;
    return {
      name, neurons, full: silhouetteScore(x, sil.labels), pca: silhouetteScore(pca(x, 2).projected, sil.labels),
      umap: u ? silhouetteScore(u, umapSil!.labels) : null,
    };
  };
  const all = Array.from({ length: width }, (_, j) => j);
  const subsets = [
    scoreSubset('all', all),
    ...selectivity.topSubset.map((s, c) => scoreSubset(`top-${subsetSize} selective of class ${c}`, s)),
    ...Object.entries(opts.subsets ?? {}).map(([name, s]) => scoreSubset(name, s)),
    scoreSubset(`most frequent top-${k} selective, first ${subsetSize}`, selectivity.overlapOrder.slice(0, subsetSize)),
  ];
  const trials = trialSets.map((neurons, t) => scoreSubset(`random ${t}`, neurons, t < (uo?.trials ?? 0)));
  const tf = meanStd(trials.map((t) => t.full)), tp = meanStd(trials.map((t) => t.pca));
  const withUmap = trials.filter((t) => t.umap !== null), tu = withUmap.length ? meanStd(withUmap.map((t) => t.umap!)) : { mean: NaN, std: NaN };
  const umapAll = umap ? silhouetteScore(umap.embedding, umap.labels) : null;
  lap('silhouette', !!helper);
  const prefix = await prefixDone;
  const orderings = orderingList.map((o, i) => ({ ...o, scores: prefix.scores[i] }));
  const randomTrials = prefix.scores.slice(orderingList.length);
  const bySize = sizes.map((_, s) => meanStd(randomTrials.map((t) => t[s])));
  const silhouette = {
    rows: silRows.length, count: data.count,
    columns: [
      { key: 'full' as const, label: SILHOUETTE_COLUMNS.full, rows: silRows.length },
      { key: 'pca' as const, label: SILHOUETTE_COLUMNS.pca, rows: silRows.length },
      ...(umapSil ? [{ key: 'umap' as const, label: SILHOUETTE_COLUMNS.umap, rows: umapSil.labels.length }] : []),
    ],
    umap: umapSil ? { rows: umapSil.labels.length, trials: withUmap.length, nEpochs: uo!.nEpochs } : null,
    subsets,
    random: {
      size: subsetSize, trials, meanFull: tf.mean, stdFull: tf.std, meanPca: tp.mean, stdPca: tp.std, meanUmap: tu.mean, stdUmap: tu.std,
    },
    umapAll,
    vsSize: {
      sizes, all: subsets[0].full, orderings,
      random: { mean: bySize.map((r) => r.mean), std: bySize.map((r) => r.std), trials: randomTrials },
    },
  };
  if (helper) back('silhouette', prefix.seconds);
  // what the helper thread may still be running: the interventions and t-SNE (the wait is no section's)
  const { focus: focusAnalysis, neuronSweep, sweep, raw, seconds: interventionSeconds } = await interventionsDone;
  if (away) back('interventions', interventionSeconds);
  const tsne = await tsneDone;
  if (tsne && tsneOpt && helper) back('tsne', tsne.seconds);
  const focus = { cls: focusClass, neuron: focusNeuron, analysis: focusAnalysis };
  if (helper) log(`suite: ${((performance.now() - wall0) / 1000).toFixed(2)} s wall with the helper thread (the sections' seconds overlap)`);

  return {
    meta: {
      layer, target, width, count: data.count, classes, sizes: unitSizes(model),
      ...(cnn ? { arch: model.arch, unit: 'channel' as const } : {}), options: shown, rng: rng.algorithm,
    },
    accuracy, classMeans, gradMeans, topk, selectivity,
    interventions: { focus, raw, sweep }, neuronSweep, saliency, oneHotMaps: maps,
    projections: { pca: pcaProj, mostAccurateClasses, tsne, umap, subspaces },
    silhouette, activations: { acts, labels }, timings, maps: cache.maps,
  };
}

/** JSON value of results: typed arrays become arrays, floats keep float32 precision (7 significant digits) */
export function toJsonValue(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, jsonReplacer));
}

/**
 * the text writeJson (run/files.ts) writes of toJsonValue(value): JSON.stringify(value, replacer, 2) gives
 * it directly (the same tokens in the same order, indented), without the stringify → parse round trip;
 * undefined where toJsonValue would throw (a value with no JSON form)
 */
export function toJsonText(value: unknown): string | undefined {
  const text = JSON.stringify(value, jsonReplacer, 2) as string | undefined;
  return text === undefined ? undefined : text + '\n';
}

function jsonReplacer(_: string, v: unknown): unknown {
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number>, round);
  if (typeof v === 'number') return round(v);
  return v;
}

function round(v: number): number | null {
  if (!Number.isFinite(v)) return null;
  return Number.isInteger(v) ? v : Number(v.toPrecision(7));
}

/** the files run/analyze.ts savePostTrainingResults writes, under <dir>/analysis/ */
export const RESULT_FILES = [
  'meta', 'accuracy', 'classMeans', 'gradMeans', 'topk', 'selectivity', 'interventions', 'neuronSweep', 'saliency',
  'oneHotMaps', 'projections', 'silhouette', 'timings',
] as const satisfies readonly (keyof PostTrainingResults)[];

/**
 * the tables as CSV text, file name → content: per-class accuracy, confusion matrices, misclassified
 * samples, class × neuron means of every layer (activations and both gradients), top-k and selectivity,
 * the focus neuron's sweep, the every-neuron sweep, the layer's activations with labels (item 16), the
 * projections, and the silhouettes
 */
export function postTrainingCsv(r: PostTrainingResults): Record<string, string> {
  const C = r.meta.classes, out: Record<string, string> = {};
  out['accuracy.csv'] = toCsv(r.accuracy.perClass.map((accuracy, cls) => ({ cls, accuracy, count: r.accuracy.counts[cls] })));
  out['confusion.csv'] = matrixCsv(r.accuracy.confusion, 'true', 'pred');
  out['misclassified.csv'] = toCsv(r.accuracy.misclassified as unknown as Row[]);
  for (const [kind, tables] of [['act', r.classMeans], ['grad-loss', r.gradMeans.loss], ['grad-true-logit', r.gradMeans.trueLogit]] as const) {
    for (const [name, m] of Object.entries(tables)) out[`class-means-${kind}-${name}.csv`] = matrixCsv(m, 'cls', 'n');
  }
  const tk = r.topk;
  out['topk.csv'] = toCsv(Array.from({ length: C }, (_, c) => ({
    cls: c, activation: tk.activation[c].join(' '), gradLoss: tk.gradLoss[c].join(' '),
    gradTrueLogit: tk.gradTrueLogit[c].join(' '), selectivity: tk.selectivity[c].join(' '),
  })));
  out['selectivity.csv'] = matrixCsv(r.selectivity.scores, 'cls', 'n');
  const an = r.interventions.focus.analysis;
  out['focus-sweep.csv'] = toCsv(an.scales.flatMap((scale, i) => an.perClassAccuracy[i].map((accuracy, cls) => ({
    neuron: r.interventions.focus.neuron, scale, cls, accuracy, ...Object.fromEntries(an.meanLogitsByClass[i][cls].map((v, k) => [`logit${k}`, v])),
  }))));
  for (const [name, m] of Object.entries(an.confusion)) out[`focus-confusion-${name}.csv`] = matrixCsv(m, 'true', 'pred');
  if (r.interventions.raw) {
    const raw = r.interventions.raw;
    out['focus-sweep-raw-pixels.csv'] = toCsv(raw.scales.flatMap((scale, i) => raw.perClassAccuracy[i].map((accuracy, cls) => ({ scale, cls, accuracy }))));
  }
  const ns = r.neuronSweep;
  out['neuron-sweep.csv'] = toCsv(ns.scales.flatMap((scale, i) => ns.perClassAccuracy[i].map((accuracy, cls) => ({
    neuron: ns.neurons.join(' '), scale, cls, accuracy,
  }))));
  for (const [name, m] of Object.entries(ns.confusion)) out[`neuron-sweep-confusion-${name}.csv`] = matrixCsv(m, 'true', 'pred');
  const sw = r.interventions.sweep;
  out['layer-sweep.csv'] = toCsv(sw.neurons.flatMap((nr) => sw.scales.flatMap((scale, i) => nr.perClassAccuracy[i].map((accuracy, cls) => ({
    neuron: nr.neuron, scale, cls, accuracy, delta: nr.perClassDelta[i][cls],
  })))));
  {
    const { acts, labels } = r.activations, n = acts.shape[0], w = acts.shape[1];
    // columns row, label, n0 … (no row object per image: 10 000 of them)
    out[`activations-${r.meta.target}.csv`] = gridCsv(['row', 'label', ...Array.from({ length: w }, (_, j) => `n${j}`)], n,
      (i, j) => (j === 0 ? i : j === 1 ? labels[i] : acts.data[i * w + j - 2]));
  }
  const projs: [string, Projection | null][] = [
    ['pca', r.projections.pca], ['tsne', r.projections.tsne], ['umap', r.projections.umap],
    ...r.projections.subspaces.map((p, i) => [`subspace-${i}-${p.method}`, p] as [string, Projection]),
  ];
  for (const [name, p] of projs) {
    if (!p) continue;
    out[`projection-${name}.csv`] = toCsv(Array.from(p.rows, (row, i) => ({
      row, label: p.labels[i], x: p.embedding.data[2 * i], y: p.embedding.data[2 * i + 1],
    })));
  }
  const sil = r.silhouette;
  // column names say what each column is: full space, PCA 2-D, UMAP 2-D (null where not run)
  out['silhouette-subsets.csv'] = toCsv([...sil.subsets, ...sil.random.trials].map((x) => ({
    name: x.name, neurons: x.neurons.join(' '), full_space: x.full, pca_2d: x.pca, umap_2d: x.umap,
  })));
  out['silhouette-vs-size.csv'] = toCsv(sil.vsSize.sizes.flatMap((size, i) => [
    ...sil.vsSize.orderings.map((o) => ({ size, ordering: o.name, score: o.scores[i], std: null as number | null })),
    { size, ordering: 'random (mean)', score: sil.vsSize.random.mean[i], std: sil.vsSize.random.std[i] },
    { size, ordering: 'all neurons', score: sil.vsSize.all, std: null },
  ]));
  return out;
}

/**
 * suite options for the notebooks' scale (many minutes): exact silhouettes on every image, UMAP of all of
 * them with umap-js's epochs (the projection, and the silhouettes' UMAP column for every subset), t-SNE on 2500
 */
export const FULL_SCALE: SuiteOptions = {
  silhouetteSample: Infinity, silhouetteUmap: { sample: Infinity, trials: Infinity, nEpochs: 0 },
  umap: { sample: Infinity, nEpochs: 0, subspaces: true }, tsne: { sample: 2500 },
};

const f2 = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : 'nan');
const list = (v: readonly number[]) => `[${v.join(',')}]`;

/** the three largest off-diagonal row-normalised rates of a confusion matrix, as "t→p r %" */
function largestConfusions(confusion: number[][]): string {
  const moves = rowNormalize(confusion).flatMap((row, t) => row.map((v, p) => ({ t, p, v }))).filter((e) => e.t !== e.p)
    .sort((x, y) => y.v - x.v).slice(0, 3);
  return moves.map((e) => `${e.t}→${e.p} ${f2(100 * e.v)} %`).join(', ');
}

/** the tables the notebooks print, as text lines */
export function formatSuiteTables(r: PostTrainingResults): string[] {
  const L: string[] = [];
  const C = r.meta.classes, U = r.meta.unit ?? 'neuron';
  L.push(`layer ${r.meta.layer} (${r.meta.target}, ${r.meta.width} ${U}s), ${r.meta.count} test images`);
  L.push(`test accuracy ${f2(r.accuracy.accuracy)} %`);
  L.push('per-class accuracy (sorted): ' + r.accuracy.sorted.map((s) => `${s.cls} ${f2(s.accuracy)} %`).join(', '));
  L.push(`misclassified: ${r.accuracy.misclassified.length}`);
  L.push('');
  L.push(`top-${r.topk.k} ${U}s per class: activation | grad of loss | grad of true logit | selectivity`);
  for (let c = 0; c < C; c++) {
    L.push(`  ${c}: ${list(r.topk.activation[c]).padEnd(10)} | ${list(r.topk.gradLoss[c]).padEnd(10)} | ` +
      `${list(r.topk.gradTrueLogit[c]).padEnd(10)} | ${list(r.topk.selectivity[c])}`);
  }
  L.push(`selectivity overlap order: ${list(r.selectivity.overlapOrder)}`);
  L.push('');
  const { focus, raw, sweep } = r.interventions, an = focus.analysis;
  const [, b] = an.interval;
  const at = (x: NeuronAnalysis, s: number) => x.scales.indexOf(s);
  L.push(`most class-${focus.cls}-selective ${U}: ${focus.neuron}; per-class accuracy % at scales 0 | 1 | ${b}`);
  for (let c = 0; c < C; c++) {
    const row = [0, 1, b].map((s) => f2(an.perClassAccuracy[at(an, s)][c]));
    const rawRow = raw ? '   raw pixels: ' + [0, 1, b].map((s) => f2(raw.perClassAccuracy[at(raw, s)][c])).join(' | ') : '';
    L.push(`  ${c}: ${row.join(' | ')}${rawRow}`);
  }
  L.push(`  overall: ${[0, 1, b].map((s) => f2(an.accuracy[at(an, s)])).join(' | ')}`);
  L.push(`  ablation's largest confusions (row-normalised): ${largestConfusions(an.confusion.ablation)}`);
  L.push('');
  const ns = r.neuronSweep, last = ns.scales.length - 1;
  L.push(`${U} ${ns.neurons.join('+')} scaled by ${ns.scales.length} scales from ${ns.scales[0]} to ${ns.scales[last]} (NB02 cells 60–67), ` +
    `whole test set; per-class accuracy % unmodified | ×${ns.scales[0]} | ×${ns.scales[last]}`);
  const ends = [ns.baseline.perClass, ns.perClassAccuracy[0], ns.perClassAccuracy[last]];
  for (let c = 0; c < C; c++) L.push(`  ${c}: ${ends.map((p) => f2(p[c])).join(' | ')}`);
  L.push(`  overall: ${[ns.baseline.accuracy, ns.accuracy[0], ns.accuracy[last]].map(f2).join(' | ')}`);
  L.push(`  ablation's largest confusions (row-normalised): ${largestConfusions(ns.confusion.ablation)}`);
  L.push('');
  L.push(`every ${U} scaled alone (scales ${sweep.scales.join(', ')}): largest per-class change, points`);
  for (const nr of sweep.neurons) {
    const parts = sweep.scales.map((s, i) => {
      const d = nr.perClassDelta[i];
      let worst = 0, best = 0;
      d.forEach((v, c) => { if (v < d[worst]) worst = c; if (v > d[best]) best = c; });
      return `×${s}: ${worst} ${f2(d[worst])}, ${best} +${f2(d[best])}`;
    });
    L.push(`  ${String(nr.neuron).padStart(2)}: ${parts.join(' | ')}`);
  }
  L.push('');
  const s = r.silhouette;
  const umapNote = s.umap ? `; UMAP 2-D on ${s.umap.rows} of those rows, umap-js ${s.umap.nEpochs || 'default'} epochs, seeded` +
    `${s.umap.trials < s.random.trials.length ? `, random subsets: the first ${s.umap.trials} trials` : ''}` : '';
  const umapHint = s.umap ? '' : ' (the UMAP 2-D column: mlp-lens analyze RUN --full)';
  L.push(`silhouette on ${rowsInWords(s.rows, s.count)}${umapNote}: ${s.columns.map((c) => c.label).join(' / ')}${umapHint}`);
  const cols = (x: { full: number; pca: number; umap: number | null }) => [x.full, x.pca, ...(s.umap ? [x.umap ?? NaN] : [])].map(f2).join(' / ');
  for (const x of s.subsets) L.push(`  ${x.name.padEnd(44)} ${list(x.neurons).padEnd(20)} ${cols(x)}`);
  L.push(`  random ${s.random.size} (${s.random.trials.length} trials)`.padEnd(67) + ` ${cols({ full: s.random.meanFull, pca: s.random.meanPca, umap: s.random.meanUmap })}`);
  if (s.umapAll !== null) L.push(`  all ${U}s, UMAP embedding of the projection section: ${f2(s.umapAll)}`);
  L.push(`  vs size ${list(s.vsSize.sizes)}, ${s.columns[0].label} (all ${U}s ${f2(s.vsSize.all)}):`);
  for (const o of s.vsSize.orderings) L.push(`    ${o.name.padEnd(30)} ${o.scores.map(f2).join(' ')}`);
  L.push(`    ${'random (mean)'.padEnd(30)} ${s.vsSize.random.mean.map(f2).join(' ')}`);
  L.push('');
  L.push(`PCA explained variance ratio: ${r.projections.pca.explainedVarianceRatio!.slice(0, 4).map((v) => v.toFixed(3)).join(', ')}, …`);
  L.push('timings: ' + Object.entries(r.timings).map(([k, v]) => `${k} ${v.toFixed(2)} s`).join(', '));
  return L;
}
