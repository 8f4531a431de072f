// accuracy (docs/notebooks.md items 10, 13, 30): the misclassified gallery, per-class accuracy, confusion
// matrices and their differences. From analysis/accuracy.json and interventions.json; the gallery's
// digits come from the test split itself (the results hold indices, not pixels).
import type { Misclassified } from '../accuracy.ts';
import { mapToPng, pngDataUri } from '../png.ts';
import { classColor, clean, heatmap, imageGrid, matrixRows, topLevel, type Tile, type VegaLiteSpec } from './spec.ts';

/** the test images the gallery draws from: [count, rows·cols] raw bytes */
export interface ImageSource { images: Uint8Array; rows: number; cols: number; count: number }

/** item 13: per-class test accuracy, sorted best first (NB01 cell 49) */
export function figurePerClassAccuracy(acc: { accuracy: number; perClass: number[]; counts: number[] }): VegaLiteSpec {
  const classes = acc.perClass.length;
  const values = acc.perClass.map((accuracy, digit) => ({ digit, accuracy: clean(accuracy), count: acc.counts[digit] }));
  const lo = Math.max(0, Math.floor(Math.min(...acc.perClass.filter(Number.isFinite)) / 10) * 10 - 10);
  const order = values.map((v) => v.digit).sort((p, q) => (acc.perClass[q] - acc.perClass[p]) || p - q);
  const x = { field: 'digit', type: 'nominal', title: 'digit (sorted by accuracy)', sort: order, axis: { labelAngle: 0 } };
  return topLevel(`Per-class test accuracy (overall ${acc.accuracy.toFixed(2)} %)`, values, {
    width: 420, height: 240,
    layer: [
      {
        mark: { type: 'bar', clip: true },
        encoding: {
          x, y: { field: 'accuracy', type: 'quantitative', title: `accuracy (%, axis from ${lo})`, scale: { domain: [lo, 100] } },
          color: { ...classColor(classes), legend: null },
          tooltip: [{ field: 'digit' }, { field: 'accuracy', format: '.2f' }, { field: 'count' }],
        },
      },
      {
        mark: { type: 'text', dy: -6, fontSize: 10 },
        encoding: { x, y: { field: 'accuracy', type: 'quantitative' }, text: { field: 'accuracy', type: 'quantitative', format: '.2f' } },
      },
      { data: { values: [{ overall: acc.accuracy }] }, mark: { type: 'rule', strokeDash: [4, 3], color: '#333' }, encoding: { y: { field: 'overall', type: 'quantitative' } } },
    ],
  });
}

/** item 30: a confusion matrix (rows = true class, columns = predicted), counts in the cells */
export function figureConfusion(m: readonly (readonly number[])[], title: string, o: { difference?: boolean } = {}): VegaLiteSpec {
  return heatmap(title, matrixRows(m, 'true', 'predicted'), {
    x: { field: 'predicted', title: 'predicted class' }, y: { field: 'true', title: 'true class' },
    colorTitle: o.difference ? 'change (images)' : 'images', diverging: o.difference, text: 'd', cell: 36,
  });
}

/**
 * item 10: misclassified test images, `count` of them spread evenly over the list (deterministic; the
 * notebook draws 5 at random), titled "True: y, Pred: p" as in NB01, drawn gray_r
 */
export function figureMisclassified(mis: readonly Misclassified[], test: ImageSource, o: { count?: number; columns?: number } = {}): VegaLiteSpec {
  const count = Math.min(o.count ?? 30, mis.length), columns = o.columns ?? 10;
  const picked = Array.from({ length: count }, (_, i) => mis[Math.floor((i * mis.length) / count)]);
  const d = test.rows * test.cols;
  const tiles: Tile[] = picked.map((m, i) => ({
    url: pngDataUri(mapToPng(test.images.subarray(m.index * d, (m.index + 1) * d), test.rows, test.cols, 'gray_r', [0, 255])),
    label: `True: ${m.label}, Pred: ${m.pred}`, row: Math.floor(i / columns), col: i % columns,
    index: m.index, true: m.label, pred: m.pred, confidence: clean(m.confidence),
  }));
  return imageGrid(`Misclassified test images (${count} of ${mis.length})`, tiles, { size: 84 });
}
