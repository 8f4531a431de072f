// statistics of the input images (docs/notebooks.md items 1–5), computed from the raw bytes, never typed in.
// pixel value = float32(b / 255), as ToTensor gives it (mlp/batch.ts). Pure: a split in, plain data out.
//
// definitions: std is the sample std, ddof 1 (torch's `.std()`, which the notebooks call: it prints
// 0.3015 for item 1, where ddof 0 would give 0.3013). histograms follow numpy.histogram / plt.hist
// (analysis/histogram.ts), over the data's own [min, max]. since a pixel takes one of 256 values, every
// statistic is computed from byte counts: exact counts, float64 sums.
import { pixel } from '../mlp/batch.ts';
import { cachedSparseRows } from '../mlp/fused-cpu.ts';
import type { Split } from '../mlp/mnist.ts';
import type { Moments, MomentRows } from './epoch-stats.ts';
import { Binner, type Histogram } from './histogram.ts';

export interface InputStats {
  format: 'mlp-lens/input-stats';
  version: 1;
  /** images in the split, pixels per image, classes */
  count: number;
  pixels: number;
  classes: number;
  /** item 1, over every image of the split: mean of the per-image means, mean of the per-image stds */
  imageMean: number;
  imageStd: number;
  /** every pixel of the split pooled (the Normalize constants 0.1307 / 0.3081) */
  pooled: Moments;
  /** images used below: the first firstN of the split (fewer if the split is smaller) */
  firstN: number;
  /** item 2: all pixels of the first N images */
  histogram: Histogram;
  /** item 3: per digit, the pixels of its images among the first N, each over its own [min, max] [classes] */
  perDigitHistogram: Histogram[];
  /** items 4–5: per digit, its pixels among the first N images pooled [classes] */
  perDigit: MomentRows;
  /** items 4–5, the other reading: mean and std across the digit's first-N images of each image's mean [classes] */
  perDigitImage: { count: number[]; mean: number[]; std: number[] };
  /** per digit over the whole split, pixels pooled [classes] */
  perDigitAll: MomentRows;
}

export interface InputStatsOptions {
  /** images for the histograms and per-digit statistics (1000, the notebooks' choice) */
  firstN?: number;
  bins?: number;
  /** label count (10) */
  classes?: number;
}

const PIX = Float64Array.from({ length: 256 }, (_, b) => pixel(b)); // [256]

/** items 1–5 of docs/notebooks.md for a split: images [count, pixels] uint8, labels [count] */
export function computeInputStats(split: Split, opts: InputStatsOptions = {}): InputStats {
  const { firstN = 1000, bins = 30, classes = 10 } = opts;
  const d = split.rows * split.cols, n = split.count, img = split.images;
  const head = Math.min(firstN, n);
  // byte counts per digit, of the first N images and of the whole split [classes, 256]
  const headBytes = new Float64Array(classes * 256), allBytes = new Float64Array(classes * 256);
  const imageMeans = new Float64Array(head); // [firstN]
  let sumMeans = 0, sumStds = 0;
  // most pixels are 0: they add exactly nothing to s and sq (both ≥ 0), so only their count is kept and
  // the others are added in order. Where the split's sparse rows are built already (mlp/fused-cpu.ts,
  // once per split and kept) those are the nonzero pixels in order, read here instead of the ≈ 5× as many
  // bytes; else the bytes, four at a time where a whole aligned word of the image is 0 (a run computes these
  // before its fused step builds the rows in the step's own memory)
  const sparse = cachedSparseRows(split);
  const words = !sparse && d % 4 === 0 && img.byteOffset % 4 === 0 ? new Uint32Array(img.buffer, img.byteOffset, Math.floor(img.length / 4)) : null;
  for (let i = 0; i < n; i++) {
    const c = split.labels[i];
    if (!(c < classes)) throw new Error(`input stats: label ${c} of image ${i} is out of range for ${classes} classes`);
    const base = c * 256, src = i * d;
    let s = 0, sq = 0, zeros = 0;
    if (sparse) {
      const { rowptr, val } = sparse, end = rowptr[i + 1];
      for (let e = rowptr[i]; e < end; e++) {
        const b = val[e], p = PIX[b];
        s += p;
        sq += p * p;
        allBytes[base + b]++;
      }
      zeros = d - (end - rowptr[i]);
    } else {
      for (let j = 0; j < d;) {
        if (words && (j & 3) === 0 && j + 4 <= d && words[(src + j) >> 2] === 0) { zeros += 4; j += 4; continue; }
        const b = img[src + j++];
        if (b === 0) { zeros++; continue; }
        const p = PIX[b];
        s += p;
        sq += p * p;
        allBytes[base + b]++;
      }
    }
    allBytes[base] += zeros;
    const mean = s / d;
    // float64 Σx² − n·mean² is exact enough here: values in [0, 1], 784 of them
    sumMeans += mean;
    sumStds += d > 1 ? Math.sqrt(Math.max(0, sq - d * mean * mean) / (d - 1)) : NaN;
    if (i < head) {
      imageMeans[i] = mean;
      for (let j = 0; j < d; j++) headBytes[base + img[src + j]]++;
    }
  }

  const total = new Float64Array(256), headTotal = new Float64Array(256); // [256]
  for (let c = 0; c < classes; c++) {
    for (let b = 0; b < 256; b++) { total[b] += allBytes[c * 256 + b]; headTotal[b] += headBytes[c * 256 + b]; }
  }
  const perDigit = emptyRows(), perDigitAll = emptyRows();
  const perDigitHistogram: Histogram[] = [];
  for (let c = 0; c < classes; c++) {
    const h = headBytes.subarray(c * 256, c * 256 + 256), a = allBytes.subarray(c * 256, c * 256 + 256);
    pushRow(perDigit, byteMoments(h));
    pushRow(perDigitAll, byteMoments(a));
    perDigitHistogram.push(byteHistogram(h, bins));
  }
  const perDigitImage = { count: [] as number[], mean: [] as number[], std: [] as number[] };
  for (let c = 0; c < classes; c++) {
    const means: number[] = [];
    for (let i = 0; i < head; i++) if (split.labels[i] === c) means.push(imageMeans[i]);
    const m = valueMoments(means);
    perDigitImage.count.push(m.count); perDigitImage.mean.push(m.mean); perDigitImage.std.push(m.std);
  }
  return {
    format: 'mlp-lens/input-stats', version: 1, count: n, pixels: d, classes,
    imageMean: n ? sumMeans / n : NaN, imageStd: n ? sumStds / n : NaN,
    pooled: byteMoments(total), firstN: head, histogram: byteHistogram(headTotal, bins),
    perDigitHistogram, perDigit, perDigitImage, perDigitAll,
  };
}

/** moments of the pixels whose byte counts are cnt [256] */
function byteMoments(cnt: ArrayLike<number>): Moments {
  let n = 0, s = 0, lo = Infinity, hi = -Infinity;
  for (let b = 0; b < 256; b++) {
    if (!cnt[b]) continue;
    n += cnt[b]; s += cnt[b] * PIX[b];
    if (PIX[b] < lo) lo = PIX[b];
    if (PIX[b] > hi) hi = PIX[b];
  }
  if (n === 0) return { count: 0, mean: NaN, std: NaN, min: NaN, max: NaN };
  const mean = s / n;
  let M2 = 0;
  for (let b = 0; b < 256; b++) if (cnt[b]) M2 += cnt[b] * (PIX[b] - mean) ** 2;
  return { count: n, mean, std: n > 1 ? Math.sqrt(M2 / (n - 1)) : NaN, min: lo, max: hi };
}

/** numpy.histogram of the pixels whose byte counts are cnt [256]: each byte value's count goes to its pixel's bin */
function byteHistogram(cnt: ArrayLike<number>, bins: number): Histogram {
  const m = byteMoments(cnt);
  const binner = new Binner(m.count ? m.min : NaN, m.count ? m.max : NaN, bins);
  const h = binner.empty();
  for (let b = 0; b < 256; b++) if (cnt[b]) h.counts[binner.index(PIX[b])] += cnt[b];
  return h;
}

function valueMoments(v: readonly number[]): Moments {
  if (!v.length) return { count: 0, mean: NaN, std: NaN, min: NaN, max: NaN };
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const M2 = v.reduce((a, b) => a + (b - mean) ** 2, 0);
  return { count: v.length, mean, std: v.length > 1 ? Math.sqrt(M2 / (v.length - 1)) : NaN, min: Math.min(...v), max: Math.max(...v) };
}

const emptyRows = (): MomentRows => ({ count: [], mean: [], std: [], min: [], max: [] });

function pushRow(r: MomentRows, m: Moments): void {
  r.count.push(m.count); r.mean.push(m.mean); r.std.push(m.std); r.min.push(m.min); r.max.push(m.max);
}
