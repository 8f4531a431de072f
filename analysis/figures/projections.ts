// projections and class separation (docs/notebooks.md items 14, 15, 17, 18, 32–34): 2-D scatters of the layer's
// activations coloured by class, and silhouette scores of neuron subsets. From analysis/projections.json
// and silhouette.json.
import type { Projection } from '../projection.ts';
import type { PostTrainingResults } from '../suite.ts';
import { classColor, clean, topLevel, type Row, type VegaLiteSpec } from './spec.ts';

const METHOD: Record<string, string> = { pca: 'PCA', tsne: 't-SNE', umap: 'UMAP' };

/**
 * items 14, 15, 17, 18, 32: a 2-D projection, one point per test image coloured by its class (tab10,
 * s 10, alpha 0.7); `only` keeps the points of those classes (item 15)
 */
export function figureProjection(p: Projection, title: string, o: { classes: number; only?: readonly number[]; size?: number } ): VegaLiteSpec {
  const keep = o.only ? new Set(o.only) : null;
  const values: Row[] = [];
  for (let i = 0; i < p.labels.length; i++) {
    const digit = p.labels[i];
    if (keep && !keep.has(digit)) continue;
    values.push({ row: p.rows[i], digit, x: clean(p.embedding.data[2 * i]), y: clean(p.embedding.data[2 * i + 1]) });
  }
  const ev = p.explainedVarianceRatio;
  const axis = (k: number) => (p.method === 'pca' ? `PC${k + 1}${ev ? ` (${(100 * ev[k]).toFixed(1)} % of variance)` : ''}` : `${METHOD[p.method]} ${k + 1}`);
  const n = values.length;
  return topLevel(title, values, {
    width: 440, height: 400,
    // aria off: a per-point description would double the SVG of 10 000 points
    mark: { type: 'circle', size: o.size ?? (n > 5000 ? 8 : 14), opacity: n > 5000 ? 0.55 : 0.7, aria: false },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: axis(0), scale: { zero: false } },
      y: { field: 'y', type: 'quantitative', title: axis(1), scale: { zero: false } },
      color: classColor(o.classes),
      tooltip: [{ field: 'row', title: 'test row' }, { field: 'digit' }],
    },
  });
}

type Silhouette = PostTrainingResults['silhouette'];

/**
 * item 33: silhouette score of neuron subsets in the full subspace, in its PCA 2-D and in its UMAP 2-D
 * (each column labelled as saved in silhouette.json's `columns`); the random subsets as their mean
 * (± std over the trials)
 */
export function figureSilhouetteSubsets(s: Silhouette): VegaLiteSpec {
  const cols = s.columns.map((c) => ({ ...c, space: `${c.label} (${c.rows} images)` }));
  const spaces = cols.map((c) => c.space);
  const rows: Row[] = [];
  const label = (name: string, neurons: number[]) => `${name} [${neurons.join(',')}]`;
  for (const x of s.subsets) {
    for (const c of cols) {
      const v = x[c.key];
      if (v !== null) rows.push({ subset: label(x.name, x.neurons), space: c.space, score: clean(v), std: null });
    }
  }
  const rnd = `random ${s.random.size} (mean of ${s.random.trials.length}${s.umap && s.umap.trials < s.random.trials.length ? `; UMAP of ${s.umap.trials}` : ''})`;
  const stat = { full: [s.random.meanFull, s.random.stdFull], pca: [s.random.meanPca, s.random.stdPca], umap: [s.random.meanUmap, s.random.stdUmap] };
  for (const c of cols) rows.push({ subset: rnd, space: c.space, score: clean(stat[c.key][0]), std: clean(stat[c.key][1]) });
  for (const r of rows) {
    r.lo = typeof r.std === 'number' && typeof r.score === 'number' ? r.score - r.std : null;
    r.hi = typeof r.std === 'number' && typeof r.score === 'number' ? r.score + r.std : null;
  }
  const order = [...new Set(rows.map((r) => r.subset as string))];
  const y = { field: 'subset', type: 'nominal', title: null, sort: order, axis: { labelLimit: 420, labelFontSize: 11 } };
  const color = { field: 'space', type: 'nominal', title: 'silhouette in', scale: { domain: spaces, range: ['#4c78a8', '#f58518', '#54a24b'].slice(0, spaces.length) } };
  const yOffset = { field: 'space', type: 'nominal', sort: spaces };
  const title = s.rows < s.count ? `Silhouette score of neuron subsets (a sample of ${s.rows} of ${s.count} test images)` : `Silhouette score of neuron subsets (all ${s.count} test images)`;
  return topLevel(title, rows, {
    width: 360, height: { step: Math.round(4.5 * spaces.length) },
    layer: [
      {
        mark: { type: 'bar' },
        encoding: {
          y, yOffset, x: { field: 'score', type: 'quantitative', title: 'silhouette score (euclidean)' }, color,
          tooltip: [{ field: 'subset' }, { field: 'space' }, { field: 'score', format: '.3f' }, { field: 'std', format: '.3f' }],
        },
      },
      { mark: { type: 'rule', color: 'black' }, encoding: { y, yOffset, x: { field: 'lo', type: 'quantitative' }, x2: { field: 'hi' } } },
    ],
  });
}

/**
 * item 34: silhouette (raw subspace) of the first n neurons of each ordering against n, random subsets
 * as mean ± std, the all-neuron score dashed
 */
export function figureSilhouetteVsSize(s: Silhouette): VegaLiteSpec {
  const v = s.vsSize;
  const rows: Row[] = [
    ...v.orderings.flatMap((o) => v.sizes.map((size, i) => ({ size, ordering: o.name, score: clean(o.scores[i]), lo: null, hi: null }))),
    ...v.sizes.map((size, i) => ({
      size, ordering: `random (mean ± std of ${v.random.trials.length})`, score: clean(v.random.mean[i]),
      lo: clean(v.random.mean[i] - v.random.std[i]), hi: clean(v.random.mean[i] + v.random.std[i]),
    })),
  ];
  const names = [...new Set(rows.map((r) => r.ordering as string))];
  const palette = ['#4c78a8', '#f58518', '#54a24b', '#b279a2', '#9d755d', '#e45756'];
  const color = { field: 'ordering', type: 'nominal', title: 'neuron ordering', scale: { domain: names, range: names.map((_, i) => (i === names.length - 1 ? '#7f7f7f' : palette[i % palette.length])) }, legend: { orient: 'bottom', direction: 'vertical', labelLimit: 400 } };
  const x = { field: 'size', type: 'quantitative', title: 'neurons in the subset', axis: { values: v.sizes, format: 'd' } };
  return topLevel(`Silhouette score vs subset size (${s.columns[0]?.label ?? 'full space'}, ${s.rows < s.count ? `a sample of ${s.rows} of ${s.count}` : `all ${s.count}`} test images)`, rows, {
    width: 480, height: 280,
    layer: [
      {
        // only the random orderings have a spread
        mark: { type: 'errorband', opacity: 0.2, color: '#7f7f7f' },
        encoding: { x, y: { field: 'lo', type: 'quantitative', title: 'silhouette score (euclidean)' }, y2: { field: 'hi' } },
      },
      {
        mark: { type: 'line', point: true, strokeWidth: 2 },
        encoding: {
          x, y: { field: 'score', type: 'quantitative', title: 'silhouette score (euclidean)' }, color,
          tooltip: [{ field: 'ordering' }, { field: 'size' }, { field: 'score', format: '.3f' }],
        },
      },
      {
        data: { values: [{ all: clean(v.all), label: `all ${v.sizes[v.sizes.length - 1] ?? ''} neurons` }] },
        layer: [
          { mark: { type: 'rule', strokeDash: [6, 4], color: 'black' }, encoding: { y: { field: 'all', type: 'quantitative' } } },
          { mark: { type: 'text', align: 'left', dx: 4, dy: -7, fontSize: 11 }, encoding: { x: { datum: v.sizes[0] }, y: { field: 'all', type: 'quantitative' }, text: { field: 'label' } } },
        ],
      },
    ],
  });
}
