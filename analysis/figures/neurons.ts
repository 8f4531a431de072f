// neurons and classes (docs/notebooks.md items 23–26, 35): class × neuron mean activation heatmaps, mean
// gradient per neuron for chosen classes, the top-k tables and the selectivity scores. From
// analysis/classMeans.json, gradMeans.json, topk.json and selectivity.json.
import { classColor, clean, CONFIG, heatmap, matrixRows, tensorLabel, topLevel, type Row, type VegaLiteSpec } from './spec.ts';

/** item 35: mean activation of each neuron per true class [classes × width] (seaborn heatmap, viridis) */
export function figureClassNeuronHeatmap(means: readonly (readonly number[])[], tensor: string): VegaLiteSpec {
  const width = means[0]?.length ?? 0;
  return heatmap(`Mean activation per class and neuron, ${tensorLabel(tensor)}`, matrixRows(means, 'digit', 'neuron'), {
    x: { field: 'neuron', title: tensor === 'logits' ? 'logit (class)' : 'neuron' }, y: { field: 'digit', title: 'true class' },
    colorTitle: 'mean activation', cell: width > 20 ? 16 : 28, text: width <= 16 ? '.1f' : undefined,
  });
}

/**
 * items 24–25: mean gradient of each neuron of the layer over the test images of each chosen class,
 * one bar chart per class (NB02 cell 39: classes 1 and 3)
 */
export function figureGradientBars(grads: readonly (readonly number[])[], classes: readonly number[], title: string, yTitle: string): VegaLiteSpec {
  const values: Row[] = classes.flatMap((digit) => (grads[digit] ?? []).map((g, neuron) => ({ panel: `class ${digit}`, digit, neuron, gradient: clean(g) })));
  return topLevel(title, values, {
    facet: { column: { field: 'panel', type: 'nominal', title: null, sort: classes.map((c) => `class ${c}`) } },
    spec: {
      width: 300, height: 200,
      mark: { type: 'bar' },
      encoding: {
        x: { field: 'neuron', type: 'ordinal', title: 'neuron', axis: { labelAngle: 0 } },
        y: { field: 'gradient', type: 'quantitative', title: yTitle },
        color: { ...classColor(grads.length), legend: null },
        tooltip: [{ field: 'digit' }, { field: 'neuron' }, { field: 'gradient', format: '.3e' }],
      },
    },
  });
}

/**
 * items 23, 25, 26: the top-k neurons per class by mean activation, mean gradient of the loss, mean
 * gradient of the true-class logit (signed, torch.topk) and selectivity, as a table
 */
export function figureTopkTable(topk: { k: number; activation: number[][]; gradLoss: number[][]; gradTrueLogit: number[][]; selectivity: number[][] }): VegaLiteSpec {
  const columns: [string, number[][]][] = [
    ['mean activation', topk.activation], ['mean grad of loss', topk.gradLoss],
    ['mean grad of true logit', topk.gradTrueLogit], ['selectivity', topk.selectivity],
  ];
  const values: Row[] = columns.flatMap(([column, m]) => m.map((neurons, digit) => ({ digit, column, neurons: `[${neurons.join(', ')}]` })));
  return topLevel(`Top-${topk.k} neurons per class`, values, {
    width: 4 * 150, height: 22 * topk.activation.length,
    mark: { type: 'text', fontSize: 12, font: 'DejaVu Sans Mono, monospace' },
    encoding: {
      x: { field: 'column', type: 'nominal', title: null, sort: columns.map((c) => c[0]), axis: { orient: 'top', labelAngle: 0, domain: false, ticks: false, labelFontSize: 12, labelFontWeight: 'bold', labelLimit: 200 } },
      y: { field: 'digit', type: 'ordinal', title: 'class', axis: { domain: false, ticks: false, labelFontSize: 12, titlePadding: 10 } },
      text: { field: 'neurons', type: 'nominal' },
    },
    config: { ...CONFIG, view: { stroke: null }, axis: { ...CONFIG.axis, grid: false } },
  });
}

/** item 26: selectivity S = (μ_cl − μ_rest) / (μ_cl + μ_rest + ε) of every neuron for every class */
export function figureSelectivity(scores: readonly (readonly number[])[], eps: number): VegaLiteSpec {
  return heatmap(`Class selectivity of each neuron (ε = ${eps})`, matrixRows(scores, 'digit', 'neuron'), {
    x: { field: 'neuron', title: 'neuron' }, y: { field: 'digit', title: 'class' }, colorTitle: 'selectivity', diverging: true,
    text: '.2f', cell: 40, domain: [-1, 1],
  });
}
