import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { histogram } from '../../analysis/histogram.ts';
import { computeInputStats } from '../../analysis/input-stats.ts';
import { computeInputStats as denseInputStats } from '../helpers/input-stats-reference.ts';
import { loadMnist } from '../../run/mnist-files.ts';
import { type Split } from '../../mlp/mnist.ts';
import { cachedSparseRows, sparseRows } from '../../mlp/fused-cpu.ts';
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

const words = suite('input stats: the word-at-a-time zero skip equals the pixel loop');

/** the per-image loop before the zero skip: every pixel added in order */
function imageMoments(split: Split): { imageMean: number; imageStd: number } {
  const d = split.rows * split.cols;
  let sumMeans = 0, sumStds = 0;
  for (let i = 0; i < split.count; i++) {
    let s = 0, sq = 0;
    for (let j = 0; j < d; j++) { const p = px(split.images[i * d + j]); s += p; sq += p * p; }
    const mean = s / d;
    sumMeans += mean;
    sumStds += d > 1 ? Math.sqrt(Math.max(0, sq - d * mean * mean) / (d - 1)) : NaN;
  }
  return { imageMean: sumMeans / split.count, imageStd: sumStds / split.count };
}

/** the same split with its images at a byte offset of 1 (no word view possible) */
function unaligned(split: Split): Split {
  const buf = new Uint8Array(split.images.length + 1);
  buf.set(split.images, 1);
  return { ...split, images: buf.subarray(1) };
}

words('MNIST\'s first 3000 images, and odd image sizes (3×3, 5×7, 1×1) with runs of zeros, aligned or not', () => {
  const first = { ...mnist.train, count: 3000, images: mnist.train.images.subarray(0, 3000 * 784), labels: mnist.train.labels.subarray(0, 3000) };
  let seed = 7;
  const byte = () => { seed = (seed * 1103515245 + 12345) >>> 0; return (seed >>> 24) < 160 ? 0 : seed >>> 24; };
  const odd = [[3, 3], [5, 7], [1, 1], [2, 2]].map(([rows, cols]): Split => {
    const count = 41;
    return { rows, cols, count, images: Uint8Array.from({ length: count * rows * cols }, byte), labels: Uint8Array.from({ length: count }, (_, i) => i % 10) };
  });
  for (const split of [first, ...odd]) {
    const s = computeInputStats(split, { firstN: 20 });
    const ref = imageMoments(split);
    assert.ok(Object.is(s.imageMean, ref.imageMean) && Object.is(s.imageStd, ref.imageStd), `${split.rows}×${split.cols}: image moments to the bit`);
    assert.is(JSON.stringify(computeInputStats(unaligned(split), { firstN: 20 })), JSON.stringify(s), `${split.rows}×${split.cols}: unaligned`);
  }
});

words.run();

const sparse = suite('input stats: read from the sparse rows, the same as from every byte');

sparse('MNIST\'s training and test sets, a partial split, odd image sizes: every field to the bit', () => {
  const part = { ...mnist.test, count: 65, images: mnist.test.images.subarray(0, 65 * 784), labels: mnist.test.labels.subarray(0, 65) };
  let seed = 11;
  const byte = () => { seed = (seed * 1103515245 + 12345) >>> 0; return (seed >>> 24) < 200 ? 0 : seed >>> 24; };
  const odd = [[3, 3], [1, 63], [1, 1]].map(([rows, cols]): Split => ({
    rows, cols, count: 37, images: Uint8Array.from({ length: 37 * rows * cols }, byte), labels: Uint8Array.from({ length: 37 }, (_, i) => (i * 7) % 10),
  }));
  for (const split of [mnist.train, mnist.test, part, ...odd]) {
    // computeInputStats reads the sparse rows only where they are built already
    const bytes = JSON.stringify(computeInputStats(split, {}));
    sparseRows(split);
    assert.ok(cachedSparseRows(split), 'built and kept');
    assert.is(JSON.stringify(computeInputStats(split, {})), bytes, `${split.count} ${split.rows}×${split.cols}: the sparse rows read as the bytes`);
    for (const opts of [{}, { firstN: 20, bins: 7 }]) {
      assert.is(JSON.stringify(computeInputStats(split, opts)), JSON.stringify(denseInputStats(split, opts)), `${split.count} ${split.rows}×${split.cols}`);
    }
  }
});

sparse.run();
