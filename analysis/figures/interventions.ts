// interventions (docs/notebooks.md items 28–31): one neuron of the layer scaled by s — mean logits and per-class
// accuracy against s, and every neuron's effect per class. From analysis/interventions.json and
// analysis/neuronSweep.json (item 29's neuron 7).
import type { LayerSweep, NeuronAnalysis, NeuronSweep } from '../intervention.ts';
import { classColor, clean, heatmap, topLevel, type Row, type VegaLiteSpec } from './spec.ts';

/**
 * item 28: the ten mean logits against the scale of the neuron, over the test images of class `cls`
 * (the notebook's inputs are not recoverable; the focus class's images stand in)
 */
export function figureLogitsVsScale(an: NeuronAnalysis, cls: number): VegaLiteSpec {
  const classes = an.counts.length;
  const values: Row[] = an.scales.flatMap((scale, i) => an.meanLogitsByClass[i][cls].map((logit, digit) => ({ scale, digit, logit: clean(logit) })));
  return topLevel(`Mean logits of class-${cls} test images vs scale of neuron ${an.neurons.join('+')}`, values, {
    width: 480, height: 280,
    layer: [
      {
        mark: { type: 'line', strokeWidth: 2 },
        encoding: {
          x: { field: 'scale', type: 'quantitative', title: `scale of neuron ${an.neurons.join('+')} (${an.target})` },
          y: { field: 'logit', type: 'quantitative', title: 'mean logit' },
          color: classColor(classes, 'digit', 'logit of class'),
          tooltip: [{ field: 'digit' }, { field: 'scale', format: '.3f' }, { field: 'logit', format: '.3f' }],
        },
      },
      { data: { values: [{ s: 1 }] }, mark: { type: 'rule', strokeDash: [3, 3], color: '#888' }, encoding: { x: { field: 's', type: 'quantitative' } } },
    ],
  });
}

/**
 * per-class accuracy against the scale of the neuron, overall dashed: item 29 (a NeuronSweep, NB02 cells
 * 60–61) or item 31's first plot (a NeuronAnalysis, `analyze_neuron`)
 */
export function figureAccuracyVsScale(
  an: Pick<NeuronAnalysis | NeuronSweep, 'target' | 'neurons' | 'scales' | 'accuracy' | 'perClassAccuracy' | 'counts'>, title?: string,
): VegaLiteSpec {
  const classes = an.counts.length;
  const values: Row[] = an.scales.flatMap((scale, i) => an.perClassAccuracy[i].map((accuracy, digit) => ({ scale, digit, accuracy: clean(accuracy) })));
  const overall = an.scales.map((scale, i) => ({ scale, accuracy: clean(an.accuracy[i]) }));
  const x = { field: 'scale', type: 'quantitative', title: `scale of neuron ${an.neurons.join('+')} (${an.target})` };
  return topLevel(title ?? `Per-class accuracy vs scale of neuron ${an.neurons.join('+')}`, values, {
    width: 480, height: 280,
    layer: [
      {
        mark: { type: 'line', strokeWidth: 2, point: { size: 16 } },
        encoding: {
          x, y: { field: 'accuracy', type: 'quantitative', title: 'accuracy (%)' }, color: classColor(classes),
          tooltip: [{ field: 'digit' }, { field: 'scale', format: '.3f' }, { field: 'accuracy', format: '.2f' }],
        },
      },
      {
        data: { values: overall },
        mark: { type: 'line', color: 'black', strokeDash: [6, 4], strokeWidth: 1.5 },
        encoding: { x, y: { field: 'accuracy', type: 'quantitative' } },
      },
    ],
  });
}

/**
 * item 31, every neuron: change of each class's accuracy (percentage points) when that neuron alone is
 * scaled, one heatmap per scale (neuron × class)
 */
export function figureLayerSweep(sw: LayerSweep): VegaLiteSpec {
  const values: Row[] = sw.neurons.flatMap((nr) => sw.scales.flatMap((scale, i) => nr.perClassDelta[i].map((delta, digit) => ({
    scale: `× ${scale}`, neuron: nr.neuron, digit, value: clean(delta),
  }))));
  return heatmap(`Per-class accuracy change when one neuron of ${sw.target} is scaled`, values, {
    x: { field: 'digit', title: 'class' }, y: { field: 'neuron', title: 'neuron scaled' }, colorTitle: 'Δ accuracy (points)', domain: [-100, 100],
    diverging: true, cell: 22, facet: { field: 'scale', title: null },
  });
}
