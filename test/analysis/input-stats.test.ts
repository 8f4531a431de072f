import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { histogram } from '../../analysis/histogram.ts';
import { computeInputStats } from '../../analysis/input-stats.ts';
import { loadMnist } from '../../run/mnist-files.ts';
import { type Split } from '../../mlp/mnist.ts';
import { assertClose } from '../helpers/close.ts';

const mnist = await loadMnist();
const px = (b: number) => Math.fround(b / 255);
function direct(v: number[]) {
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  return { count: v.length, mean, std: Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1)), min: Math.min(...v), max: Math.max(...v) };
}

const small = suite('input stats: a 5-image split of 2×2 images');

small('per-image and pooled moments, histograms and per-digit statistics against the direct computation', () => {
  const images = [[0, 255, 128, 0], [10, 10, 10, 10], [255, 255, 0, 1], [3, 200, 7, 90], [0, 0, 0, 0]];
  const labels = [2, 0, 2, 1, 0];
  const split: Split = { images: Uint8Array.from(images.flat()), labels: Uint8Array.from(labels), count: 5, rows: 2, cols: 2 };
  const s = computeInputStats(split, { firstN: 4, bins: 30, classes: 4 });
  const imgs = images.map((im) => im.map(px));
  assertClose([s.imageMean], [imgs.reduce((a, im) => a + direct(im).mean, 0) / 5], { atol: 1e-15, rtol: 0 }, 'mean of image means');
  // image 4 is all zeros and image 1 all tens: their std is 0 (ddof 1 over 4 pixels)
  assertClose([s.imageStd], [imgs.reduce((a, im) => a + direct(im).std, 0) / 5], { atol: 1e-12, rtol: 0 }, 'mean of image stds');
  const p = direct(imgs.flat());
  assertClose([s.pooled.mean, s.pooled.std, s.pooled.min, s.pooled.max], [p.mean, p.std, 0, 1], { atol: 1e-14, rtol: 0 }, 'pooled');
  assert.is(s.firstN, 4);
  assert.equal(s.histogram, histogram(imgs.slice(0, 4).flat(), 30));
  // digit 0 among the first 4 is image 1 only (all tens: numpy's widened range); digit 3 is absent
  assert.equal(s.perDigitHistogram[0], histogram(imgs[1], 30));
  assert.equal(s.perDigitHistogram[0].counts[15], 4);
  assert.equal(s.perDigitHistogram[2], histogram([...imgs[0], ...imgs[2]], 30));
  assert.equal(s.perDigitHistogram[3].counts, new Array(30).fill(0));
  assert.is(s.perDigit.count[3], 0);
  assert.ok(Number.isNaN(s.perDigit.mean[3]));
  const d2 = direct([...imgs[0], ...imgs[2]]);
  assertClose([s.perDigit.mean[2], s.perDigit.std[2]], [d2.mean, d2.std], { atol: 1e-14, rtol: 0 }, 'digit 2');
  // whole split: digit 0 is images 1 and 4
  const a0 = direct([...imgs[1], ...imgs[4]]);
  assertClose([s.perDigitAll.mean[0], s.perDigitAll.std[0]], [a0.mean, a0.std], { atol: 1e-14, rtol: 0 }, 'digit 0, whole split');
  // per-image reading: digit 2's two image means, their std (ddof 1); one image → NaN
  const m0 = direct(imgs[0]).mean, m2 = direct(imgs[2]).mean;
  assertClose([s.perDigitImage.mean[2], s.perDigitImage.std[2]], [(m0 + m2) / 2, Math.abs(m0 - m2) / Math.SQRT2], { atol: 1e-14, rtol: 0 }, 'digit 2 images');
  assert.ok(Number.isNaN(s.perDigitImage.std[0]));
  assert.throws(() => computeInputStats(split, { classes: 2 }), /label 2/);
});

small.run();

const real = suite('input stats: MNIST training set');

real('item 1: the mean of per-image means and stds prints as the notebook\'s 0.1307 / 0.3015', () => {
  const s = computeInputStats(mnist.train);
  // computed from the bytes; the notebook printed these rounded to 4 places (torch .std(): ddof 1)
  assert.is(s.imageMean.toFixed(4), '0.1307');
  assert.is(s.imageStd.toFixed(4), '0.3015');
  // the pooled std is the Normalize constant 0.3081
  assert.is(s.pooled.std.toFixed(4), '0.3081');
  assert.is(s.count, 60000);
  assert.is(s.perDigitAll.count.reduce((a, b) => a + b, 0), 60000 * 784);
  // first 1000 images: every pixel counted once, over [0, 1]
  assert.is(s.histogram.counts.reduce((a, b) => a + b, 0), 1000 * 784);
  assert.equal([s.histogram.edges[0], s.histogram.edges[30]], [0, 1]);
  assert.is(s.perDigitImage.count.reduce((a, b) => a + b, 0), 1000);
});

real.run();
