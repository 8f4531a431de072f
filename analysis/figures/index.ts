// the catalogue: every figure of the notebooks (docs/notebooks.md items 2–6, 8–15, 17–18, 21–22, 24–25, 28–37), in
// the notebooks' order, built from a run's saved results only. buildFigures is pure: results in, specs
// out; which parts of a run exist decides which figures there are (a --no-record run has no stats/,
// a --no-analysis run no analysis/), and each absent part is named in `missing`.
import { drift } from '../drift.ts';
import type { EpochStats } from '../epoch-stats.ts';
import type { InputStats } from '../input-stats.ts';
import type { PostTrainingResults } from '../suite.ts';
import type { EpochMetrics } from '../../mlp/train.ts';
import { figureConfusion, figureMisclassified, figurePerClassAccuracy, type ImageSource } from './accuracy.ts';
import {
  figureActivationDrift, figureActivationHistograms, figureHiddenDrift, figureLayer1Histograms, figureNeuronHeatmap,
  figurePerClassDrift, figurePerClassHistograms, figureTrainingCurves,
} from './dynamics.ts';
import { figureInputHistogram, figureInputHistogramPerDigit, figureInputMeanPerDigit, figureInputMeanStdPerDigit } from './input.ts';
import { figureAccuracyVsScale, figureLayerSweep, figureLogitsVsScale } from './interventions.ts';
import { figureOneHotMaps, figureSaliency } from './maps.ts';
import { figureClassNeuronHeatmap, figureGradientBars, figureSelectivity, figureTopkTable } from './neurons.ts';
import { figureProjection, figureSilhouetteSubsets, figureSilhouetteVsSize } from './projections.ts';
import { isConvLayer, layerShort, pickEpochs, tensorLabel, withLayerKinds, type Figure, type VegaLiteSpec } from './spec.ts';
import { figureConvFilters, figureFeatureMaps, figureFlatSilhouette, figureTopImages } from './cnn.ts';
import type { CnnResults } from '../cnn-suite.ts';
import { parseArch } from '../../mlp/arch.ts';
import { throughTrainingFigures, type FirstLayerWeights } from './through-training.ts';
import type { Finding, ThroughTraining } from '../through-training-types.ts';

export * from './spec.ts';
export type { ImageSource } from './accuracy.ts';
export type { FirstLayerWeights } from './through-training.ts';

/** the post-training results as saved in analysis/*.json (the raw activations are CSV only) */
export type SavedAnalysis = Omit<PostTrainingResults, 'activations'>;
/** a saved analysis as read back: meta always, every other part only where its file was sound */
export type PartialAnalysis = Pick<SavedAnalysis, 'meta'> & Partial<Omit<SavedAnalysis, 'meta'>>;

/** the figures each analysis file feeds (by id; `*` a family), for the notes on what a skipped file left out */
export const ANALYSIS_FIGURES: Record<string, { sections: string[]; figures: string[] }> = {
  accuracy: { sections: ['errors', 'accuracy'], figures: ['misclassified', 'per-class-accuracy'] },
  projections: { sections: ['projections', 'subspaces'], figures: ['pca', 'pca-top5', 'tsne', 'umap', 'subspace-*'] },
  topk: { sections: ['gradients'], figures: ['topk-table'] },
  gradMeans: { sections: ['gradients'], figures: ['grad-loss-bars', 'grad-true-logit-bars'] },
  selectivity: { sections: ['gradients'], figures: ['selectivity'] },
  interventions: {
    sections: ['interventions'],
    figures: ['logits-vs-scale', 'accuracy-vs-scale', 'focus-ablation-diff', 'confusion-max-diff', 'layer-sweep'],
  },
  neuronSweep: { sections: ['interventions'], figures: ['neuron-sweep-accuracy', 'confusion-baseline', 'confusion-ablation', 'confusion-ablation-diff'] },
  silhouette: { sections: ['subspaces'], figures: ['silhouette-subsets', 'silhouette-vs-size'] },
  classMeans: { sections: ['class-neuron'], figures: ['class-means-*'] },
  saliency: { sections: ['maps'], figures: ['saliency'] },
  oneHotMaps: { sections: ['maps'], figures: ['onehot-maps'] },
  timings: { sections: [], figures: [] },
};

/** what a skipped analysis file leaves out of the report, as words */
export function leftOut(part: string): string {
  if (part === 'meta') return 'every analysis figure';
  const f = ANALYSIS_FIGURES[part]?.figures ?? [];
  return f.length ? f.join(', ') : 'no figure';
}

/** what a saved run holds, each part optional */
export interface RunResults {
  /** the run's name (its folder) */
  name: string;
  /** config.json */
  config?: Record<string, unknown>;
  /** metrics.json */
  metrics?: { epochs: EpochMetrics[]; test?: { loss: number; accuracy: number; perClass: number[] } };
  /** stats/input.json */
  input?: InputStats;
  /** stats/epoch-NNN.json, in epoch order */
  stats?: EpochStats[];
  /** analysis/*.json, the parts that were sound */
  analysis?: PartialAnalysis;
  /** analysis files left out (missing, unreadable or unsound), each with its reason */
  skipped?: { part: string; file: string; reason: string }[];
  /** the MNIST test split: the gallery's digits and the saliency image */
  test?: ImageSource;
  /** through-training.json, when sound */
  throughTraining?: ThroughTraining;
  /** the first layer's weights at a few epochs, from snapshots/ */
  firstLayerWeights?: FirstLayerWeights;
  /** through-training.json or snapshots/ left out (missing, unreadable, unsound), each with its reason */
  throughTrainingSkipped?: { file: string; reason: string }[];
  /** a CNN's own analyses, analysis/cnn.json, when sound */
  cnn?: CnnResults;
}

/** report sections in the notebooks' order, then the additions (no notebook) */
export const SECTIONS: { id: string; title: string; notebook?: 1 | 2 }[] = [
  { id: 'input', title: 'Input statistics', notebook: 1 },
  { id: 'training', title: 'Training and layer-1 activations', notebook: 1 },
  { id: 'layers', title: 'Activations of every layer across epochs', notebook: 1 },
  { id: 'errors', title: 'Misclassified examples', notebook: 1 },
  { id: 'per-class', title: 'Per-class activation dynamics', notebook: 1 },
  { id: 'accuracy', title: 'Per-class accuracy', notebook: 1 },
  { id: 'projections', title: 'Projections of the layer’s activations', notebook: 1 },
  { id: 'hidden', title: 'Hidden layers across epochs', notebook: 2 },
  { id: 'gradients', title: 'Class means, gradients, top-k and selectivity', notebook: 2 },
  { id: 'interventions', title: 'Scaling and ablating one neuron', notebook: 2 },
  { id: 'subspaces', title: 'Neuron subspaces and silhouette scores', notebook: 2 },
  { id: 'class-neuron', title: 'Class × neuron mean activations', notebook: 2 },
  { id: 'maps', title: 'Saliency and one-hot pixel maps', notebook: 2 },
  { id: 'cnn', title: 'Convolutional layers: filters, feature maps, top images' },
  { id: 'through-training', title: 'Through training' },
];

export interface FigureSet {
  figures: Figure[];
  /** per section, what could not be drawn and why */
  missing: { section: string; note: string }[];
  /** through-training.json's findings, stated in words with their tables (the through-training section) */
  findings?: Finding[];
}

/** index of the largest (sign 1) or smallest (sign −1) finite value */
const argBest = (v: readonly number[], sign: 1 | -1) => v.reduce((b, x, i) => (Number.isFinite(x) && (b < 0 || sign * x > sign * v[b]) ? i : b), -1);
const f2 = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : 'n/a');
const f4 = (v: number) => (Number.isFinite(v) ? v.toFixed(4) : 'n/a');
/** the two largest off-diagonal row-normalised rates of a confusion matrix, "t→p r %" */
const largestMoves = (cm: number[][]) => cm.map((row) => { const n = row.reduce((x, y) => x + y, 0); return row.map((v) => (n ? (100 * v) / n : 0)); })
  .flatMap((row, ti) => row.map((v, pi) => ({ ti, pi, v }))).filter((e) => e.ti !== e.pi).sort((x, y) => y.v - x.v).slice(0, 2)
  .map((e) => `${e.ti}→${e.pi} ${f2(e.v)} %`).join(', ');
/** "a seeded sample of 1500 of the 10000 test images" or "all 10000 test images" (as the suite's rowsInWords) */
const silhouetteRows = (rows: number, count: number) => (rows < count ? `a seeded sample of ${rows} of the ${count} test images` : `all ${count} test images`);

/** a CNN run's weighted-layer kinds (conv, linear, …, the output linear), from config.json's or the analysis's arch; null: an MLP */
export function cnnLayerKinds(r: RunResults): string[] | null {
  const arch = typeof r.config?.arch === 'string' ? r.config.arch : r.analysis?.meta.arch ?? r.cnn?.arch;
  if (!arch) return null;
  try {
    const spec = parseArch(arch);
    return spec.kind === 'cnn' ? [...spec.layers.filter((l) => l.kind !== 'pool').map((l) => l.kind), 'linear'] : null;
  } catch {
    return null;
  }
}

/** figures of a layer whose units are channels: their words say channel, not neuron (captions, titles, tile labels) */
function channelWords(f: Figure): void {
  const swap = (t: string) => t.replace(/\bneurons\b/g, 'channels').replace(/\bNeurons\b/g, 'Channels').replace(/\bneuron\b/g, 'channel').replace(/\bNeuron\b/g, 'Channel');
  f.caption = swap(f.caption);
  f.title = swap(f.title);
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) { v.forEach(walk); return; }
    if (!v || typeof v !== 'object') return;
    const o = v as Record<string, unknown>;
    for (const [k, x] of Object.entries(o)) {
      if ((k === 'title' || k === 'label') && typeof x === 'string') o[k] = swap(x);
      else if (k !== 'url') walk(x);
    }
  };
  walk(f.spec);
}

/** every figure the run's saved results allow, in report order (a CNN's layers named conv1, pool1, …, its units channels) */
export function buildFigures(r: RunResults): FigureSet {
  const kinds = cnnLayerKinds(r);
  const set = withLayerKinds(kinds, () => buildAll(r, kinds));
  if (kinds) {
    const conv = (k: number) => kinds[k] === 'conv';
    const t = r.analysis?.meta.target, targetConv = t ? conv(Number(/^layers\.(\d+)/.exec(t)?.[1] ?? -1)) : false;
    for (const f of set.figures) {
      const layer = /^(?:class-means|neuron-heatmap|tt-biographies|tt-aligned-pca|tt-weights)-layer(\d+)$/.exec(f.id);
      if (layer ? conv(Number(layer[1]) - 1) : targetConv && ['gradients', 'interventions', 'subspaces', 'maps', 'projections'].includes(f.section)) channelWords(f);
    }
  }
  return set;
}

function buildAll(r: RunResults, kinds: string[] | null): FigureSet {
  const figures: Figure[] = [];
  const missing: FigureSet['missing'] = [];
  const add = (id: string, section: string, items: number[], spec: VegaLiteSpec, caption: string, sources: string[]) => {
    figures.push({ id, section, items, title: (spec as { title?: string }).title ?? id, caption, spec, sources });
  };
  const stats = r.stats?.length ? r.stats : undefined;
  const d = stats ? drift(stats) : undefined;
  const a = r.analysis;
  const epochFiles = ['stats/'];
  const noStats = 'no stats/ folder: the run was trained with --no-record, or before statistics were saved';
  const metaSkip = r.skipped?.find((s) => s.part === 'meta');
  const noAnalysis = metaSkip ? `${metaSkip.file} was skipped (${metaSkip.reason}): no analysis figure can be drawn without it`
    : 'no analysis/ folder: run `node bench/train.js --analyze RUN_DIR` to add the post-training analyses';

  // --- notebook 1
  if (r.input) {
    const s = r.input;
    add('input-histogram', 'input', [1, 2], figureInputHistogram(s),
      `All pixels of the first ${s.firstN} training images pooled, 30 bins (log count axis: most pixels are 0); over all ${s.count} images the mean of per-image means is ${f4(s.imageMean)} and of per-image stds ${f4(s.imageStd)}.`,
      ['stats/input.json']);
    add('input-histogram-per-digit', 'input', [3], figureInputHistogramPerDigit(s),
      `The same pixels split by digit, each digit binned over its own range (30 bins), drawn as outlines on a log axis (NB01 cell 15 overlays filled bars).`, ['stats/input.json']);
    add('input-mean-per-digit', 'input', [4], figureInputMeanPerDigit(s),
      `Mean pixel intensity of each digit's images among the first ${s.firstN}; darkest digit ${argBest(s.perDigit.mean, -1)} (${f4(Math.min(...s.perDigit.mean))}), brightest ${argBest(s.perDigit.mean, 1)} (${f4(Math.max(...s.perDigit.mean))}).`, ['stats/input.json']);
    add('input-mean-std-per-digit', 'input', [5], figureInputMeanStdPerDigit(s),
      `Mean ± std (ddof 1) of the pixels of each digit's images among the first ${s.firstN}, all pixels pooled.`, ['stats/input.json']);
  } else missing.push({ section: 'input', note: 'no stats/input.json (recording was off)' });

  if (r.metrics?.epochs.length) {
    const last = r.metrics.epochs[r.metrics.epochs.length - 1];
    add('training-curves', 'training', [], figureTrainingCurves(r.metrics.epochs),
      `Mean training loss and accuracy of each epoch and the test set after it; last epoch: train ${f4(last.trainLoss)} / ${f2(last.trainAccuracy)} %, test ${f2(last.testAccuracy)} %.`,
      ['metrics.json']);
  }
  if (stats && d) {
    const ep = stats.map((s) => s.epoch);
    // a CNN: every recorded tensor (pools, the linear layers) and its maps entering by their channels' spatial means
    const named = kinds ? Object.keys(stats[0].acts).filter((n) => n !== 'loss') : undefined;
    const units = kinds ? ' (a conv map enters by its channels’ spatial means)' : '';
    add('layer1-histograms', 'training', [6], figureLayer1Histograms(stats),
      kinds ? `${tensorLabel('layers.0.pre')} of the first mini-batch of epochs ${pickEpochs(ep, [19, 15, 10, 5, 0]).sort((x, y) => x - y).join(', ')}, each channel's spatial mean per image, 30 bins each.`
        : `Layer-1 pre-activations (64 × 32 values) of the first mini-batch of epochs ${pickEpochs(ep, [19, 15, 10, 5, 0]).sort((x, y) => x - y).join(', ')}, 30 bins each.`,
      epochFiles);
    add('activation-histograms', 'layers', [8], figureActivationHistograms(stats, named),
      `First mini-batch of epochs ${pickEpochs(ep, [19, 10, 5, 0]).sort((x, y) => x - y).join(', ')} for every layer, pre- and post-ReLU${kinds ? ' and pooled' : ''}; each panel has its own axes${units}.`,
      epochFiles);
    add('activation-drift', 'layers', [9], figureActivationDrift(d, named),
      `Mean and std (ddof 1, torch's .std()) of each layer's first mini-batch per epoch${units}.`, epochFiles);
    add('per-class-histograms', 'per-class', [11], figurePerClassHistograms(stats),
      `${kinds ? `${tensorLabel('layers.0.pre')} (channel means)` : 'Layer-1 pre-activations'} of every training sample of digits 0, 1 and 3, per epoch, each digit binned over its own range (30 bins).`,
      epochFiles);
    const pre = d.acts['layers.0.pre'];
    const peak = pre ? pre.perClassMean.map((row) => row.reduce((m, v) => Math.max(m, v), -Infinity)) : [];
    add('per-class-drift', 'per-class', [12], figurePerClassDrift(d),
      `Mean and std of ${kinds ? `${tensorLabel('layers.0.pre')} channel means` : 'layer-1 pre-activations'} per digit over every training sample of each epoch (the notebook plots digits 0, 3, 9; all ten here)${peak.length ? `; largest per-digit mean ${f4(Math.max(...peak))}` : ''}.`,
      epochFiles);
  } else missing.push({ section: 'training', note: noStats });

  // each part of the analysis draws its figures when its file was sound; a skipped file is named in
  // the sections it feeds. guard(): a builder that still throws (a case analysis-json.ts does not check)
  // leaves its group out, named, instead of stopping the report
  const guard = (section: string, what: string, draw: () => void) => {
    const n = figures.length;
    try {
      draw();
    } catch (e) {
      figures.length = n;
      missing.push({ section, note: `${what} could not be drawn: ${e instanceof Error ? e.message : String(e)}` });
    }
  };
  if (a) {
    for (const s of r.skipped ?? []) {
      for (const section of ANALYSIS_FIGURES[s.part]?.sections ?? []) {
        missing.push({ section, note: `${s.file} was skipped (${s.reason}); left out: ${leftOut(s.part)}` });
      }
    }
  }
  const acc = a?.accuracy, proj = a?.projections;
  if (a && acc && r.test) {
    const test = r.test, outside = acc.misclassified.find((m) => m.index >= test.count);
    if (outside) {
      missing.push({ section: 'errors', note: `analysis/accuracy.json names test image ${outside.index}, but the MNIST test split has ${test.count}: the gallery is left out` });
    } else {
      guard('errors', 'the misclassified gallery', () => add('misclassified', 'errors', [10], figureMisclassified(acc.misclassified, test),
        `${acc.misclassified.length} of ${a.meta.count} test images are misclassified; ${Math.min(30, acc.misclassified.length)} of them, evenly spread over the test order (the notebook shows 5 at random), drawn gray_r.`,
        ['analysis/accuracy.json', 'analysis/misclassified.csv']));
    }
  } else if (acc) missing.push({ section: 'errors', note: 'the MNIST test images could not be read (pass --data DIR)' });

  if (a) {
    if (acc) {
      guard('accuracy', 'the per-class accuracy', () => add('per-class-accuracy', 'accuracy', [13], figurePerClassAccuracy(acc),
        `Test accuracy per digit, best first: ${acc.sorted.map((s) => `${s.cls} ${f2(s.accuracy)}`).join(', ')} (%); dashed: overall ${f2(acc.accuracy)} %.`,
        ['analysis/accuracy.json', 'analysis/accuracy.csv']));
    }
    if (proj) {
      guard('projections', 'the projections', () => {
        const p = proj, classes = a.meta.classes, layer = layerShort(a.meta.target);
        const ev = p.pca.explainedVarianceRatio ?? [];
        add('pca', 'projections', [14], figureProjection(p.pca, `PCA of ${layer} activations, all ${p.pca.labels.length} test images`, { classes }),
          `First two principal components of the ${a.meta.width} ${layer} activations (${f2(100 * ((ev[0] ?? NaN) + (ev[1] ?? NaN)))} % of the variance), coloured by true class.`,
          ['analysis/projections.json', 'analysis/projection-pca.csv']);
        add('pca-top5', 'projections', [15], figureProjection(p.pca, `PCA of ${layer}, the ${p.mostAccurateClasses.length} most accurate classes`, { classes, only: p.mostAccurateClasses }),
          `The same projection restricted to the classes with the best test accuracy: ${p.mostAccurateClasses.join(', ')} (the notebook's [0, 1, 6, 2, 4]).`,
          ['analysis/projections.json', 'analysis/projection-pca.csv']);
        if (p.tsne) {
          const o = a.meta.options.tsne || {};
          add('tsne', 'projections', [17], figureProjection(p.tsne, `t-SNE of ${layer} activations (${p.tsne.labels.length} test images)`, { classes }),
            `t-SNE (ours, exact gradients) of ${p.tsne.labels.length} sampled test images, perplexity ${o.perplexity ?? 20}, ${o.iterations ?? 300} iterations${p.tsne.kl !== undefined ? `, final KL ${f2(p.tsne.kl)}` : ''}.`,
            ['analysis/projections.json', 'analysis/projection-tsne.csv']);
        } else missing.push({ section: 'projections', note: 't-SNE was skipped in this run’s analyses' });
        if (p.umap) {
          const u = a.silhouette?.umapAll;
          add('umap', 'projections', [18], figureProjection(p.umap, `UMAP of ${layer} activations (${p.umap.labels.length} test images)`, { classes }),
            `UMAP (umap-js, seeded) of ${p.umap.labels.length} sampled test images; silhouette of this embedding ${u === null || u === undefined ? 'n/a' : f2(u)}.`,
            ['analysis/projections.json', 'analysis/projection-umap.csv']);
        } else missing.push({ section: 'projections', note: 'UMAP was skipped in this run’s analyses' });
      });
    }
  } else missing.push({ section: 'accuracy', note: noAnalysis });

  // --- notebook 2
  if (stats && d) {
    const posts = Object.keys(d.acts).filter((n) => /^layers\.\d+\.post$/.test(n));
    add('hidden-drift', 'hidden', [21], figureHiddenDrift(d, posts),
      `Mean and std over all ${stats[0].count} training samples × neurons of each epoch, for ${posts.map(layerShort).join(' and ')} (solid: mean, dashed: std).`,
      epochFiles);
    for (const name of posts) {
      const k = Number(/^layers\.(\d+)/.exec(name)![1]) + 1;
      const lastRow = d.acts[name].neuronMean[d.epochs.length - 1];
      const top = lastRow.map((v, j) => [j, v]).sort((x, y) => y[1] - x[1]).slice(0, 3).map(([j]) => j);
      add(`neuron-heatmap-layer${k}`, 'hidden', [22], figureNeuronHeatmap(d, name),
        `Mean ${layerShort(name)} activation of each neuron${isConvLayer(k - 1) ? ' (its map’s spatial mean)' : ''} over the epoch's training samples; most active at the last epoch: neurons ${top.join(', ')}.`,
        epochFiles);
    }
  } else missing.push({ section: 'hidden', note: noStats });

  if (a) {
    const t = a.meta.target, layer = layerShort(t);
    const { topk, gradMeans, selectivity, interventions, neuronSweep, silhouette, classMeans, saliency, oneHotMaps } = a;
    if (topk) {
      guard('gradients', 'the top-k table', () => add('topk-table', 'gradients', [23, 25, 26], figureTopkTable(topk),
        `Top-${topk.k} ${layer} neurons per class by mean activation, mean gradient of the loss, mean gradient of the true-class logit (signed, torch.topk) and selectivity.`,
        ['analysis/topk.json', 'analysis/topk.csv']));
    }
    if (gradMeans) {
      guard('gradients', 'the gradient bars', () => {
        const bars = [1, 3].filter((c) => c < a.meta.classes);
        add('grad-loss-bars', 'gradients', [24], figureGradientBars(gradMeans.loss[t], bars, `Mean gradient of the loss w.r.t. ${layer}, classes ${bars.join(' and ')}`, '∂loss/∂activation (mean)'),
          `Mean over the test images of each class of ∂loss/∂${t} per neuron (one image at a time, as NB02 cell 35); negative: raising the neuron lowers the loss.`,
          ['analysis/gradMeans.json', `analysis/class-means-grad-loss-${t}.csv`]);
        add('grad-true-logit-bars', 'gradients', [25], figureGradientBars(gradMeans.trueLogit[t], bars, `Mean gradient of the true-class logit w.r.t. ${layer}, classes ${bars.join(' and ')}`, '∂logit_y/∂activation (mean)'),
          `The same with the gradient of the true-class logit instead of the loss (NB02 cells 41–44).`,
          ['analysis/gradMeans.json', `analysis/class-means-grad-true-logit-${t}.csv`]);
      });
    }
    if (selectivity) {
      guard('gradients', 'the selectivity', () => add('selectivity', 'gradients', [26], figureSelectivity(selectivity.scores, selectivity.eps),
        `S = (μ_class − μ_rest) / (μ_class + μ_rest + ε) of each ${layer} neuron on the test set; μ_rest is the unweighted mean of the other classes' means.`,
        ['analysis/selectivity.json', 'analysis/selectivity.csv']));
    }

    if (interventions) {
      guard('interventions', 'the intervention figures', () => {
        const { focus, sweep } = interventions, an = focus.analysis, [, b] = an.interval;
        const at = (s: number) => an.scales.indexOf(s);
        add('logits-vs-scale', 'interventions', [28], figureLogitsVsScale(an, focus.cls),
          `Neuron ${focus.neuron} (most selective for class ${focus.cls}) scaled from ${an.interval[0]} to ${b}: the ten mean logits of class-${focus.cls} test images; dotted: scale 1.`,
          ['analysis/interventions.json', 'analysis/focus-sweep.csv']);
        add('accuracy-vs-scale', 'interventions', [31], figureAccuracyVsScale(an, `Per-class accuracy vs scale of neuron ${focus.neuron} (analyze_neuron)`),
          `analyze_neuron on neuron ${focus.neuron} (most selective for class ${focus.cls}), ${an.scales.length} scales: per-class accuracy; class ${focus.cls}: ${f2(an.perClassAccuracy[at(0)]?.[focus.cls] ?? NaN)} % ablated, ${f2(an.perClassAccuracy[at(1)]?.[focus.cls] ?? NaN)} % baseline, ${f2(an.perClassAccuracy[at(b)]?.[focus.cls] ?? NaN)} % at ×${b}; dashed: overall.`,
          ['analysis/interventions.json', 'analysis/focus-sweep.csv']);
        add('focus-ablation-diff', 'interventions', [31], figureConfusion(an.confusion.ablationMinusBaseline, `Ablation − baseline, neuron ${focus.neuron}`, { difference: true }),
          `Change in each cell when neuron ${focus.neuron} is ablated (analyze_neuron's "ablation − baseline"; red: more images); largest confusions under ablation ${largestMoves(an.confusion.ablation)} of the row.`,
          ['analysis/interventions.json', 'analysis/focus-confusion-ablationMinusBaseline.csv']);
        add('confusion-max-diff', 'interventions', [31], figureConfusion(an.confusion.maxMinusBaseline, `×${b} − baseline, neuron ${focus.neuron}`, { difference: true }),
          `Change in each cell when neuron ${focus.neuron} is scaled ×${b} (analyze_neuron's "max − baseline").`,
          ['analysis/interventions.json', 'analysis/focus-confusion-maxMinusBaseline.csv']);
        add('layer-sweep', 'interventions', [31], figureLayerSweep(sweep),
          `Every ${layer} neuron scaled alone by ${sweep.scales.join(', ')}: change of each class's test accuracy in points (blue: worse); analyze_neuron for all ${sweep.neurons.length} neurons at once.`,
          ['analysis/interventions.json', 'analysis/layer-sweep.csv']);
      });
    }

    if (neuronSweep) {
      guard('interventions', 'the neuron sweep figures', () => {
        const ns = neuronSweep, n = ns.neurons.join('+'), last = ns.scales.length - 1, cls = [7, 9].filter((c) => c < a.meta.classes);
        add('neuron-sweep-accuracy', 'interventions', [29], figureAccuracyVsScale(ns),
          `Neuron ${n} of ${layer} scaled by ${ns.scales.length} scales from ${ns.scales[0]} to ${ns.scales[last]} (linspace, NB02 cells 60–61) on all ${a.meta.count} test images: per-class accuracy${cls.map((c) => `; class ${c} ${f2(ns.baseline.perClass[c])} % unmodified, ${f2(ns.perClassAccuracy[0][c])} % at ×${ns.scales[0]}, ${f2(ns.perClassAccuracy[last][c])} % at ×${ns.scales[last]}`).join('')}; dashed: overall.`,
          ['analysis/neuronSweep.json', 'analysis/neuron-sweep.csv']);
        add('confusion-baseline', 'interventions', [30], figureConfusion(ns.confusion.baseline, 'Confusion matrix, unmodified model'),
          `Test images by true (rows) and predicted (columns) class, unmodified model (NB02 cell 63).`,
          ['analysis/neuronSweep.json', 'analysis/neuron-sweep-confusion-baseline.csv']);
        add('confusion-ablation', 'interventions', [30], figureConfusion(ns.confusion.ablation, `Confusion matrix, neuron ${n} ablated`),
          `The same with neuron ${n} of ${layer} set to 0 (NB02 cells 64–65).`,
          ['analysis/neuronSweep.json', 'analysis/neuron-sweep-confusion-ablation.csv']);
        add('confusion-ablation-diff', 'interventions', [30], figureConfusion(ns.confusion.ablationMinusBaseline, `Ablation − baseline, neuron ${n}`, { difference: true }),
          `Change in each cell when neuron ${n} is ablated (NB02 cells 66–67; red: more images); largest confusions under ablation ${largestMoves(ns.confusion.ablation)} of the row.`,
          ['analysis/neuronSweep.json', 'analysis/neuron-sweep-confusion-ablationMinusBaseline.csv']);
      });
    }

    if (proj) {
      guard('subspaces', 'the subspace projections', () => proj.subspaces.forEach((p, i) => {
        add(`subspace-${i}-${p.method}`, 'subspaces', [32], figureProjection(p, `${p.method === 'pca' ? 'PCA' : 'UMAP'} of ${layer} neurons [${p.neurons.join(', ')}] (${p.name})`, { classes: a.meta.classes }),
          `Test images projected from the subspace of ${p.name} neurons [${p.neurons.join(', ')}] of ${layer}, coloured by class.`,
          ['analysis/projections.json', `analysis/projection-subspace-${i}-${p.method}.csv`]);
      }));
    }
    if (silhouette) {
      guard('subspaces', 'the silhouette figures', () => {
        const s = silhouette, all = s.subsets[0], on = silhouetteRows(s.rows, s.count);
        const labels = s.columns.map((c) => c.label).join(' / ');
        const vals = (x: { full: number; pca: number; umap: number | null }) => [x.full, x.pca, ...(s.umap ? [x.umap ?? NaN] : [])].map(f2).join(' / ');
        const umapWords = s.umap ? ` The UMAP 2-D column is on a seeded sample of ${s.umap.rows} of those images (umap-js, ${s.umap.nEpochs || 'its default'} epochs, seeded), for every named subset and ${s.umap.trials} of the ${s.random.trials.length} random ones.` : '';
        add('silhouette-subsets', 'subspaces', [33], figureSilhouetteSubsets(s),
          `Silhouette score by true class, on ${on}, of each neuron subset (${labels}); all neurons ${vals(all ?? { full: NaN, pca: NaN, umap: null })}, random ${s.random.size} ${vals({ full: s.random.meanFull, pca: s.random.meanPca, umap: s.random.meanUmap })}.${umapWords}`,
          ['analysis/silhouette.json', 'analysis/silhouette-subsets.csv']);
        add('silhouette-vs-size', 'subspaces', [34], figureSilhouetteVsSize(s),
          `Silhouette (full space), on ${on}, of the first n neurons of each ordering against n; random subsets averaged over ${s.vsSize.random.trials.length} orderings; dashed: all neurons.`,
          ['analysis/silhouette.json', 'analysis/silhouette-vs-size.csv']);
      });
    }

    if (classMeans) {
      guard('class-neuron', 'the class × neuron heatmaps', () => {
        const tables = Object.keys(classMeans).filter((n) => n === 'logits' || /^layers\.\d+\.post$/.test(n))
          .sort((x, y) => (x === 'logits' ? -1 : y === 'logits' ? 1 : x.localeCompare(y)));
        for (const name of tables) {
          const id = name === 'logits' ? 'class-means-logits' : `class-means-layer${Number(/^layers\.(\d+)/.exec(name)![1]) + 1}`;
          add(id, 'class-neuron', [35], figureClassNeuronHeatmap(classMeans[name], name),
            `Mean ${tensorLabel(name)} of the test images of each true class (seaborn heatmap, viridis).`,
            ['analysis/classMeans.json', `analysis/class-means-act-${name}.csv`]);
        }
      });
    }

    if (saliency) {
      guard('maps', 'the saliency maps', () => add('saliency', 'maps', [36], figureSaliency(saliency, r.test),
        `|∂ ${saliency.target} / ∂ pixel| for test image #${saliency.index} (a ${saliency.label}), one map per neuron, clipped to its 1st–99th percentile (captum Saliency, NB02 cell 131).`,
        ['analysis/saliency.json']));
    }
    if (oneHotMaps) {
      guard('maps', 'the one-hot maps', () => add('onehot-maps', 'maps', [37], figureOneHotMaps(oneHotMaps, r.test),
        `${oneHotMaps.target} of each neuron for the ${oneHotMaps.maps.shape[1]} images with a single pixel = ${oneHotMaps.value}, each map scaled to its own maximum (cmap hot).`,
        ['analysis/oneHotMaps.json']));
    }
  } else {
    for (const section of ['gradients', 'interventions', 'subspaces', 'class-neuron', 'maps']) missing.push({ section, note: noAnalysis });
  }

  // --- a CNN's own analyses (an addition): analysis/cnn.json
  if (r.cnn) {
    const c = r.cnn, src = 'analysis/cnn.json';
    guard('cnn', 'the filters', () => {
      const [O, I, kh, kw] = c.filters.shape;
      add('cnn-filters', 'cnn', [], figureConvFilters(c.filters),
        `The ${O} filters of ${tensorLabel(`layers.${c.filters.layer}.pre`).replace(' (pre-activation)', '')}, each [${I}, ${kh}, ${kw}] weight drawn as ${I === 1 ? 'a' : I} ${kh}×${kw} image${I === 1 ? '' : 's'} (red positive, blue negative, one scale for all), with its bias.`,
        [src, `analysis/cnn-filters-layer${c.filters.layer}.csv`]);
    });
    guard('cnn', 'the feature maps', () => {
      const convs = [...new Set(c.featureMaps.maps.map((m) => Number(m.name.split('.')[1])))];
      for (const k of convs) {
        add(`cnn-feature-maps-layer${k + 1}`, 'cnn', [], figureFeatureMaps(c.featureMaps, k, r.test),
          `Every channel of ${layerShort(`layers.${k}.pre`)} for test image #${c.featureMaps.index} (a ${c.featureMaps.label}): pre-activation (red/blue, ± its largest |value|), ReLU output and pooled map (viridis, each on [0, its max]).`,
          [src, 'analysis/cnn-feature-maps.csv']);
      }
    });
    if (r.test) {
      const test = r.test;
      guard('cnn', 'the top images', () => {
        for (const t of c.topImages) {
          const k = Number(t.name.split('.')[1]), far = t.channels.flatMap((ch) => ch.images).find((im) => im.index >= test.count);
          if (far) { missing.push({ section: 'cnn', note: `analysis/cnn.json names test image ${far.index}, but the MNIST test split has ${test.count}: the top images are left out` }); break; }
          const side = t.channels[0]?.images[0]?.field.size ?? 0;
          add(`cnn-top-images-layer${k + 1}`, 'cnn', [], figureTopImages(t, test),
            `For each channel of ${layerShort(t.name)} the ${t.k} test images with the largest value anywhere in its ${t.shape.slice(1).join('×')} map (label and value above each); red: the ${side}×${side} receptive field of that position (clipped to the image), faded outside it.`,
            [src, 'analysis/cnn-top-images.csv']);
        }
      });
    } else missing.push({ section: 'cnn', note: 'the MNIST test images could not be read (pass --data DIR): the top images are left out' });
    guard('cnn', 'the flattened features', () => {
      const f = c.features, ev = f.pca.explainedVarianceRatio ?? [];
      add('cnn-flat-features-pca', 'cnn', [], figureProjection(f.pca, `PCA of ${layerShort(f.name)} flattened (${f.dims} features), all ${f.pca.labels.length} test images`, { classes: c.classes }),
        `First two principal components of the ${f.dims} values of ${f.name} (every position of every channel; ${f2(100 * ((ev[0] ?? NaN) + (ev[1] ?? NaN)))} % of the variance), coloured by true class; the PCA of its ${f.channels} channel means is figure “pca”.`,
        [src, 'analysis/cnn-flat-features-pca.csv']);
      add('cnn-flat-features-silhouette', 'cnn', [], figureFlatSilhouette(f),
        `Silhouette by true class on a seeded sample of ${f.silhouette.rows} test images: ${f.name} flattened ${f2(f.silhouette.flattened.full)} (PCA 2-D ${f2(f.silhouette.flattened.pca)}), its channel means ${f2(f.silhouette.channels.full)} (PCA 2-D ${f2(f.silhouette.channels.pca)}).`,
        [src, 'analysis/cnn-flat-features-silhouette.csv']);
    });
  }

  // --- through training (an addition): through-training.json and the first layer of snapshots/, each on its own
  for (const s of r.throughTrainingSkipped ?? []) missing.push({ section: 'through-training', note: `${s.file} was skipped (${s.reason})` });
  if (!r.throughTraining && !r.throughTrainingSkipped?.some((s) => s.file === 'through-training.json')) {
    missing.push({ section: 'through-training', note: 'no through-training.json: the analyses through training (biographies, CKA, probes, aligned PCA) were not run; `node bench/train.js --analyze RUN_DIR` adds them to a run with snapshots/' });
  }
  const through = (what: string, tt?: ThroughTraining, w?: FirstLayerWeights) => guard('through-training', what, () => {
    const set = throughTrainingFigures(tt, w);
    for (const f of set.figures) add(f.id, 'through-training', [], f.spec, f.caption, f.sources);
    for (const note of set.notes) missing.push({ section: 'through-training', note });
  });
  if (r.throughTraining) through('the figures of through-training.json', r.throughTraining);
  if (r.firstLayerWeights) through('the layer-1 weights', undefined, r.firstLayerWeights);
  const order = new Map(SECTIONS.map((s, i) => [s.id, i]));
  figures.sort((x, y) => order.get(x.section)! - order.get(y.section)!);
  return { figures, missing, ...(r.throughTraining?.findings.length ? { findings: r.throughTraining.findings } : {}) };
}
