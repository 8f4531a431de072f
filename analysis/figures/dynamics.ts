// training dynamics (docs/notebooks.md items 6, 8, 9, 11, 12, 21, 22) from the per-epoch statistics in stats/,
// plus the training curves of metrics.json.
import type { Drift } from '../drift.ts';
import type { EpochStats } from '../epoch-stats.ts';
import type { EpochMetrics } from '../../mlp/train.ts';
import {
  classColor, clean, epochColor, heatmap, histogramRows, layerShort, matrixRows, overlaidHistograms, pickEpochs,
  tensorLabel, topLevel, type Row, type VegaLiteSpec,
} from './spec.ts';

const epochAxis = { tickMinStep: 1, format: 'd' };

/** train/test loss and accuracy per epoch (the printed training log), two panels */
export function figureTrainingCurves(epochs: readonly EpochMetrics[]): VegaLiteSpec {
  const values: Row[] = epochs.flatMap((m) => [
    { epoch: m.epoch, metric: 'loss', split: 'train', value: clean(m.trainLoss) },
    { epoch: m.epoch, metric: 'loss', split: 'test', value: clean(m.testLoss) },
    { epoch: m.epoch, metric: 'accuracy (%)', split: 'train', value: clean(m.trainAccuracy) },
    { epoch: m.epoch, metric: 'accuracy (%)', split: 'test', value: clean(m.testAccuracy) },
  ]);
  return topLevel('Loss and accuracy per epoch', values, {
    facet: { column: { field: 'metric', type: 'nominal', title: null, sort: ['loss', 'accuracy (%)'] } },
    spec: {
      width: 320, height: 220,
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: epochAxis },
        y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false } },
        color: { field: 'split', type: 'nominal', title: 'split', scale: { domain: ['train', 'test'], range: ['#4c78a8', '#f58518'] } },
        tooltip: [{ field: 'epoch' }, { field: 'split' }, { field: 'value', format: '.4f' }],
      },
    },
    resolve: { scale: { y: 'independent' } },
  });
}

/** the first-mini-batch histograms of `tensors` at `epochs` (rows: tensor, epoch, lo, hi, count) */
function firstBatchRows(stats: readonly EpochStats[], tensors: readonly string[], epochs: readonly number[]): Row[] {
  const rows: Row[] = [];
  for (const e of epochs) {
    const s = stats.find((x) => x.epoch === e);
    for (const name of tensors) {
      const h = s?.acts[name]?.firstBatch?.histogram;
      if (h) rows.push(...histogramRows(h.edges, h.counts, { tensor: tensorLabel(name), name, epoch: e }));
    }
  }
  return rows;
}

const epochsOf = (stats: readonly EpochStats[]) => stats.map((s) => s.epoch);

/** item 6: layer-1 pre-activations of the first mini-batch of epochs 0, 5, 10, 15, 19 (30 bins, overlaid) */
export function figureLayer1Histograms(stats: readonly EpochStats[], tensor = 'layers.0.pre'): VegaLiteSpec {
  const epochs = pickEpochs(epochsOf(stats), [19, 15, 10, 5, 0]);
  return overlaidHistograms(`${tensorLabel(tensor)}: first mini-batch of each epoch`, firstBatchRows(stats, [tensor], epochs), {
    color: epochColor([...epochs].sort((a, b) => a - b)), xTitle: 'activation value', width: 480, height: 260,
  });
}

/** item 8: every layer's first-mini-batch activations at epochs 19, 10, 5, 0, one panel per tensor */
export function figureActivationHistograms(stats: readonly EpochStats[], tensors = ['layers.0.pre', 'layers.0.post', 'layers.1.pre', 'layers.1.post', 'logits']): VegaLiteSpec {
  const present = tensors.filter((t) => stats[0]?.acts[t]?.firstBatch);
  const epochs = pickEpochs(epochsOf(stats), [19, 10, 5, 0]);
  return overlaidHistograms('Activations of the first mini-batch, every layer', firstBatchRows(stats, present, epochs), {
    color: epochColor([...epochs].sort((a, b) => a - b)), xTitle: 'activation value', width: 260, height: 180,
    facet: { field: 'tensor', title: null, columns: 3, sort: present.map((t) => tensorLabel(t)) },
  });
}

/** item 9: mean and std (ddof 1) of the first mini-batch per epoch, every layer */
export function figureActivationDrift(d: Drift, tensors = ['layers.0.pre', 'layers.0.post', 'layers.1.pre', 'layers.1.post', 'logits']): VegaLiteSpec {
  const present = tensors.filter((t) => d.acts[t]?.firstBatch);
  const values: Row[] = present.flatMap((name) => d.epochs.flatMap((epoch, i) => [
    { tensor: tensorLabel(name), epoch, stat: 'mean', value: clean(d.acts[name].firstBatch!.mean[i]) },
    { tensor: tensorLabel(name), epoch, stat: 'std', value: clean(d.acts[name].firstBatch!.std[i]) },
  ]));
  return topLevel('Activation drift: mean and std of the first mini-batch per epoch', values, {
    facet: { field: 'tensor', type: 'nominal', title: null, sort: present.map((t) => tensorLabel(t)) },
    columns: 3,
    spec: {
      width: 240, height: 160,
      mark: { type: 'line', point: { size: 20 } },
      encoding: {
        x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: epochAxis },
        y: { field: 'value', type: 'quantitative', title: 'value' },
        color: { field: 'stat', type: 'nominal', title: 'statistic', scale: { domain: ['mean', 'std'], range: ['#4c78a8', '#e45756'] } },
        tooltip: [{ field: 'tensor' }, { field: 'epoch' }, { field: 'stat' }, { field: 'value', format: '.4f' }],
      },
    },
    resolve: { scale: { y: 'independent' } },
  });
}

/**
 * item 11: per-digit histograms of layer-1 pre-activations over every training batch of the epoch
 * (each digit over its own range), digits 0, 1, 3 at epochs 19, 5, 0
 */
export function figurePerClassHistograms(stats: readonly EpochStats[], digits = [0, 1, 3], tensor = 'layers.0.pre'): VegaLiteSpec {
  const epochs = pickEpochs(epochsOf(stats), [19, 5, 0]);
  const rows: Row[] = [];
  for (const e of epochs) {
    const t = stats.find((x) => x.epoch === e)?.acts[tensor];
    for (const digit of digits) {
      const h = t?.perClassOwnHistogram?.[digit];
      if (h) rows.push(...histogramRows(h.edges, h.counts, { panel: `digit ${digit}`, digit, epoch: e }));
    }
  }
  return overlaidHistograms(`${tensorLabel(tensor)} per digit, all training samples of the epoch`, rows, {
    color: epochColor([...epochs].sort((a, b) => a - b)), xTitle: 'activation value', width: 260, height: 180,
    facet: { field: 'panel', title: null, columns: 3, sort: digits.map((c) => `digit ${c}`) },
  });
}

/** item 12: per-digit mean and std (ddof 1) of layer-1 pre-activations per epoch, all ten digits */
export function figurePerClassDrift(d: Drift, tensor = 'layers.0.pre'): VegaLiteSpec {
  const t = d.acts[tensor];
  const values: Row[] = t ? d.epochs.flatMap((epoch, i) => t.perClassMean[i].flatMap((mean, digit) => [
    { epoch, digit, stat: 'mean', value: clean(mean) },
    { epoch, digit, stat: 'std', value: clean(t.perClassStd[i][digit]) },
  ])) : [];
  return topLevel(`${tensorLabel(tensor)}: per-digit drift across epochs`, values, {
    facet: { column: { field: 'stat', type: 'nominal', title: null, sort: ['mean', 'std'] } },
    spec: {
      width: 320, height: 240,
      mark: { type: 'line', point: { size: 18 }, strokeWidth: 1.8 },
      encoding: {
        x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: epochAxis },
        y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false } },
        color: classColor(d.classes),
        tooltip: [{ field: 'digit' }, { field: 'epoch' }, { field: 'stat' }, { field: 'value', format: '.4f' }],
      },
    },
    resolve: { scale: { y: 'independent' } },
  });
}

/** item 21: mean and std over every training sample and neuron per epoch, both ReLU layers on one plot */
export function figureHiddenDrift(d: Drift, tensors = ['layers.0.post', 'layers.1.post']): VegaLiteSpec {
  const present = tensors.filter((t) => d.acts[t]);
  const values: Row[] = present.flatMap((name) => d.epochs.flatMap((epoch, i) => [
    { layer: layerShort(name), epoch, stat: 'mean', value: clean(d.acts[name].mean[i]) },
    { layer: layerShort(name), epoch, stat: 'std', value: clean(d.acts[name].std[i]) },
  ]));
  return topLevel('Hidden activations per epoch: mean and std over all training samples', values, {
    width: 480, height: 260,
    // no point marks: the legend then draws solid and dashed strokes
    mark: { type: 'line', strokeWidth: 2 },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: epochAxis },
      y: { field: 'value', type: 'quantitative', title: 'activation' },
      color: { field: 'layer', type: 'nominal', title: 'layer', scale: { range: ['#4c78a8', '#e45756', '#54a24b', '#b279a2'] } },
      strokeDash: {
        field: 'stat', type: 'nominal', title: 'statistic', scale: { domain: ['mean', 'std'], range: [[1, 0], [5, 3]] },
        legend: { symbolStrokeColor: '#333', symbolStrokeWidth: 2, symbolSize: 500 },
      },
      tooltip: [{ field: 'layer' }, { field: 'epoch' }, { field: 'stat' }, { field: 'value', format: '.4f' }],
    },
  });
}

/** item 22: mean activation of each neuron per epoch [epochs × neurons] (seaborn heatmap, viridis) */
export function figureNeuronHeatmap(d: Drift, tensor: string): VegaLiteSpec {
  const t = d.acts[tensor];
  const values = t ? matrixRows(t.neuronMean, 'row', 'neuron').map(({ row, ...r }) => ({ epoch: d.epochs[row as number], ...r })) : [];
  return heatmap(`Mean activation per neuron and epoch, ${tensorLabel(tensor)}`, values, {
    x: { field: 'neuron', title: 'neuron' }, y: { field: 'epoch', title: 'epoch' }, colorTitle: 'mean activation',
    cell: t && t.neuronMean[0]?.length > 20 ? 16 : 24,
  });
}
