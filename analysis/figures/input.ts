// input statistics (docs/notebooks.md items 2–5: NB01 cells 14–17): pixel histograms of the first N training images, overall and
// per digit, and the mean (± std) pixel intensity per digit. From stats/input.json.
import type { InputStats } from '../input-stats.ts';
import { classColor, clean, histogramRows, overlaidHistograms, topLevel, type Row, type VegaLiteSpec } from './spec.ts';

/** item 2: every pixel of the first N training images, 30 bins (plt.hist) */
export function figureInputHistogram(s: InputStats): VegaLiteSpec {
  const values = histogramRows(s.histogram.edges, s.histogram.counts, {});
  return topLevel(`Pixel intensities of the first ${s.firstN} training images`, values, {
    width: 480, height: 260,
    transform: [{ filter: 'datum.count > 0' }],
    mark: { type: 'rect', color: '#4c78a8', stroke: 'white', strokeWidth: 0.5 },
    encoding: {
      x: { field: 'lo', type: 'quantitative', title: 'pixel intensity (0–1)', scale: { zero: false, nice: false } },
      x2: { field: 'hi' },
      y: { field: 'count', type: 'quantitative', title: 'pixels (log scale)', scale: { type: 'log' } },
      y2: { datum: 1 },
      tooltip: [{ field: 'lo', format: '.3f' }, { field: 'hi', format: '.3f' }, { field: 'count' }],
    },
  });
}

/** item 3: the same pixels split by digit, ten overlaid histograms (alpha 0.6) */
export function figureInputHistogramPerDigit(s: InputStats): VegaLiteSpec {
  const values = s.perDigitHistogram.flatMap((h, digit) => histogramRows(h.edges, h.counts, { digit }));
  return overlaidHistograms(`Pixel intensities per digit (first ${s.firstN} training images)`, values, {
    color: classColor(s.classes), xTitle: 'pixel intensity (0–1)', yTitle: 'pixels (log scale)', width: 480, height: 280, log: true,
  });
}

function perDigitRows(s: InputStats): Row[] {
  return s.perDigit.mean.map((mean, digit) => ({
    digit, mean: clean(mean), std: clean(s.perDigit.std[digit]), lo: clean(mean - s.perDigit.std[digit]), hi: clean(mean + s.perDigit.std[digit]),
    images: s.perDigitImage.count[digit], imageMeanStd: clean(s.perDigitImage.std[digit]),
  }));
}

/** item 4: mean pixel intensity per digit (pixels of the digit's first-N images pooled) */
export function figureInputMeanPerDigit(s: InputStats): VegaLiteSpec {
  return topLevel(`Mean pixel intensity per digit (first ${s.firstN} training images)`, perDigitRows(s), {
    width: 420, height: 240,
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'digit', type: 'ordinal', title: 'digit', axis: { labelAngle: 0 } },
      y: { field: 'mean', type: 'quantitative', title: 'mean pixel intensity' },
      color: { ...classColor(s.classes), legend: null },
      tooltip: [{ field: 'digit' }, { field: 'mean', format: '.4f' }, { field: 'images' }],
    },
  });
}

/** item 5: mean ± std pixel intensity per digit (error bars, capsize 5) */
export function figureInputMeanStdPerDigit(s: InputStats): VegaLiteSpec {
  const x = { field: 'digit', type: 'ordinal', title: 'digit', axis: { labelAngle: 0 } };
  return topLevel(`Mean ± std of pixel intensity per digit (first ${s.firstN} training images)`, perDigitRows(s), {
    width: 420, height: 240,
    layer: [
      {
        mark: { type: 'errorbar', ticks: { size: 10 } },
        encoding: { x, y: { field: 'lo', type: 'quantitative', title: 'pixel intensity (mean ± std)' }, y2: { field: 'hi' } },
      },
      {
        mark: { type: 'point', filled: true, size: 60 },
        encoding: {
          x, y: { field: 'mean', type: 'quantitative' }, color: { ...classColor(s.classes), legend: null },
          tooltip: [{ field: 'digit' }, { field: 'mean', format: '.4f' }, { field: 'std', format: '.4f' }],
        },
      },
    ],
  });
}
