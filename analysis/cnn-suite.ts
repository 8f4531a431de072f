// the CNN under the same lens: the post-training suite per channel (analysis/suite.ts: a conv map's units
// are its channels' spatial means, an ablation zeroes a channel's whole map), and the CNN's own analyses:
// the first layer's filters, the feature maps of one test digit at every layer, the nine test images that
// most activate each channel (by the channel's max over positions) with the receptive field of that
// position, and PCA and silhouettes of the analysed layer's flattened features beside its channel means.
// Plain data (saved as analysis/*.json + analysis/cnn.json by run/analyze.ts); nothing is written.
import { createRng } from '../engine/rng.ts';
import type { Cnn } from '../mlp/cnn.ts';
import type { Split } from '../mlp/mnist.ts';
import type { ActName } from '../mlp/names.ts';
import { toCsv, type Row } from './csv.ts';
import { convFilters, featureMaps, type ConvFilters, type FeatureMap } from './feature-maps.ts';
import type { HostTensor, NamedHost } from './forward-cache.ts';
import { pca, symmetricEigen } from './pca.ts';
import { sampleRows, type Projection } from './projection.ts';
import { receptiveField, windowsTo } from './receptive-field.ts';
import { silhouetteScore, takeRows } from './silhouette.ts';
import { runPostTrainingSuite, type PostTrainingResults, type SuiteOptions } from './suite.ts';
import { channelMaxima, topRowsPerChannel, type TopImages } from './top-images.ts';

/** the file of the CNN's own results, analysis/cnn.json */
export const CNN_FILE = 'cnn';

export interface CnnOptions extends SuiteOptions {
  /** images per channel (default 9) */
  topImages?: number;
  /** the digit whose feature maps are drawn: a test index, or the nth of a class (default the saliency image) */
  featureImage?: { index: number } | { cls: number; nth: number };
  /** the conv layer whose filters are drawn (default 0) */
  filterLayer?: number;
  /** rows the flattened-feature silhouettes are computed on (default 1500, seeded) */
  featureSilhouetteSample?: number;
}

/** PCA and silhouettes of the analysed map flattened (every value a feature) beside its channel means */
export interface FlatFeatures {
  name: string;
  /** features per image (C·H·W) and channels */
  dims: number; channels: number;
  /** all images, 2 components (explained variance of the first 10 axes) */
  pca: Projection;
  /** silhouette by true class on a seeded sample of rows: in the flattened space and its PCA 2-D, and the same for the channel means */
  silhouette: { rows: number; flattened: { full: number; pca: number }; channels: { full: number; pca: number } };
}

export interface CnnResults {
  arch: string;
  /** the analysed tensor (the suite's target) and the image [C, H, W] */
  target: string; input: number[]; count: number; classes: number;
  /** every feature map of the model and its per-image shape [C, H, W] */
  maps: { name: string; shape: number[] }[];
  filters: ConvFilters;
  featureMaps: { index: number; label: number; maps: FeatureMap[] };
  /** per conv layer (its ReLU output), each channel's top images */
  topImages: TopImages[];
  features: FlatFeatures;
  timings: Record<string, number>;
}

/** every analysis of a CNN on the labelled split `test`: the per-channel suite and the CNN's own */
export async function runCnnAnalyses(model: Cnn, test: Split, opts: CnnOptions = {}): Promise<{ suite: PostTrainingResults; cnn: CnnResults }> {
  const timings: Record<string, number> = {};
  let t0 = performance.now();
  const lap = (name: string) => { const t = performance.now(); timings[name] = (t - t0) / 1000; opts.log?.(`${name}: ${timings[name].toFixed(2)} s`); t0 = t; };
  const [, rows, cols] = model.input;
  const mapNames = model.actNames().filter((n) => n !== 'input' && n !== 'logits' && n !== 'loss' && model.unitShape(n).length === 3);
  // the top images of every conv layer's ReLU output, collected chunk by chunk during the suite's forward pass
  const posts = mapNames.filter((n) => n.endsWith('.post'));
  const maxima = new Map(posts.map((n) => {
    const c = model.unitShape(n)[0];
    return [n, { max: new Float32Array(test.count * c), argmax: new Int32Array(test.count * c) }];
  }));
  const onChunk = (start: number, acts: NamedHost) => {
    for (const n of posts) {
      const t = acts[n]!, [b, c, h, w] = t.shape;
      channelMaxima(t.data, b, c, h * w, { ...maxima.get(n)!, offset: start });
    }
  };
  const { maps: kept, ...suite } = await runPostTrainingSuite(model, test, { ...opts, onChunk: { names: posts, fn: onChunk } });
  lap('suite');

  const k = opts.topImages ?? 9;
  const topImages: TopImages[] = posts.map((name) => {
    const [c, , w] = model.unitShape(name), windows = windowsTo(model, name), m = maxima.get(name)!;
    return {
      name, shape: model.unitShape(name), by: `the channel's largest value over the ${model.unitShape(name).slice(1).join('×')} positions of ${name}`, k,
      channels: topRowsPerChannel(m.max, test.count, c, k).map((top, ch) => ({
        channel: ch,
        images: top.map((i) => {
          const p = m.argmax[i * c + ch], pi = Math.floor(p / w), pj = p % w;
          return { index: i, label: test.labels[i], value: m.max[i * c + ch], position: [pi, pj] as [number, number], field: receptiveField(windows, pi, pj, rows, cols) };
        }),
      })),
    };
  });
  lap('top-images');

  const pixelsOf = (i: number) => Float32Array.from(test.images.subarray(i * model.inputSize, (i + 1) * model.inputSize), (b) => b / 255);
  const pick = opts.featureImage ?? { index: suite.saliency.index };
  let index = 'index' in pick ? pick.index : 0;
  if (!('index' in pick)) {
    const ofClass: number[] = [];
    for (let i = 0; i < test.count; i++) if (test.labels[i] === pick.cls) ofClass.push(i);
    index = ofClass.length ? ofClass[Math.min(pick.nth, ofClass.length - 1)] : 0;
  }
  if (!(index >= 0 && index < test.count)) throw new RangeError(`featureImage: test image ${index} of ${test.count}`);
  const fm = { index, label: test.labels[index], maps: await featureMaps(model, pixelsOf(index)) };
  const filters = await convFilters(model, opts.filterLayer ?? 0);
  lap('filters+feature-maps');

  const target = suite.meta.target as ActName, flat = kept[target]!;
  const features = flatFeatures(flat, suite.activations.acts, suite.activations.labels, target, opts);
  lap('flat-features');
  return {
    suite,
    cnn: {
      arch: model.arch, target, input: [...model.input], count: test.count, classes: model.classes,
      maps: mapNames.map((name) => ({ name, shape: model.unitShape(name) })), filters, featureMaps: fm, topImages, features, timings,
    },
  };
}

/** PCA of the flattened map on every row, and silhouettes of it and of the channel means on a seeded sample */
export function flatFeatures(flat: HostTensor, units: HostTensor, labels: Uint8Array, name: string, opts: { seed?: number; featureSilhouetteSample?: number } = {}): FlatFeatures {
  const n = flat.shape[0], dims = flat.shape[1], t = performance.now();
  const p = topPca(flat, 2, 10);
  const projection: Projection = {
    method: 'pca', neurons: [], rows: Uint32Array.from({ length: n }, (_, i) => i), labels, embedding: p.projected,
    explainedVarianceRatio: p.explainedVarianceRatio.slice(0, 10), seconds: (performance.now() - t) / 1000,
  };
  const rng = createRng('mlp-lens', (opts.seed ?? 314) + 2);
  const rows = sampleRows(n, opts.featureSilhouetteSample ?? 1500, rng);
  const both = (x: HostTensor) => {
    const s = takeRows(x, labels, rows);
    return { full: silhouetteScore(s.x, s.labels), pca: silhouetteScore(topPca(s.x, 2, 2).projected, s.labels) };
  };
  return { name, dims, channels: units.shape[1], pca: projection, silhouette: { rows: rows.length, flattened: both(flat), channels: both(units) } };
}

/**
 * pca(x, k) (analysis/pca.ts: sklearn's PCA) for its first `keep` ≥ k explained-variance ratios only: the same
 * covariance (f64), then its top axes by block subspace iteration with Rayleigh–Ritz steps instead of a
 * full Jacobi decomposition (≈ 0.6 s for the 256 features of the reference CNN's pooled map), converged
 * to ≈ 1e-12 relative; the ratios over the covariance's trace (the sum of its eigenvalues). Same sign rule
 * and projection; pca itself for a few columns, or when the iteration does not settle.
 */
export function topPca(x: HostTensor, k: number, keep: number): { projected: HostTensor; explainedVarianceRatio: number[] } {
  const n = x.shape[0], d = x.data.length / n, b = Math.min(d, Math.max(k, keep) + 8);
  if (d <= 64 || b >= d || n < 2) {
    const p = pca(x, k);
    return { projected: p.projected, explainedVarianceRatio: p.explainedVarianceRatio.slice(0, keep) };
  }
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += x.data[i * d + j];
  for (let j = 0; j < d; j++) mean[j] /= n;
  const cov = new Float64Array(d * d), row = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) row[j] = x.data[i * d + j] - mean[j];
    for (let a = 0; a < d; a++) {
      const ra = row[a];
      if (ra === 0) continue;
      for (let c = a; c < d; c++) cov[a * d + c] += ra * row[c];
    }
  }
  for (let a = 0; a < d; a++) for (let c = a; c < d; c++) cov[c * d + a] = cov[a * d + c] /= n - 1;
  let trace = 0;
  for (let a = 0; a < d; a++) trace += cov[a * d + a];
  // Q [b, d]: b orthonormal rows, a fixed start
  let Q: Float64Array = new Float64Array(b * d);
  for (let q = 0; q < b * d; q++) Q[q] = Math.sin(12.9898 * q + 78.233) * 43758.5453 % 1;
  const times = (A: Float64Array): Float64Array => { // rows of A · cov (cov symmetric)
    const out = new Float64Array(b * d);
    for (let r = 0; r < b; r++) for (let a = 0; a < d; a++) {
      const v = A[r * d + a];
      if (v === 0) continue;
      for (let c = 0, o = r * d, w = a * d; c < d; c++) out[o + c] += v * cov[w + c];
    }
    return out;
  };
  const orth = (A: Float64Array) => {
    for (let r = 0; r < b; r++) {
      for (let pass = 0; pass < 2; pass++) for (let s = 0; s < r; s++) {
        let dot = 0;
        for (let c = 0; c < d; c++) dot += A[r * d + c] * A[s * d + c];
        for (let c = 0; c < d; c++) A[r * d + c] -= dot * A[s * d + c];
      }
      let norm = 0;
      for (let c = 0; c < d; c++) norm += A[r * d + c] ** 2;
      norm = Math.sqrt(norm) || 1;
      for (let c = 0; c < d; c++) A[r * d + c] /= norm;
    }
  };
  orth(Q);
  let values: number[] = [];
  for (let it = 0; it < 400; it++) {
    const CQ = times(Q);
    // Rayleigh–Ritz: T = Q·cov·Qᵀ [b, b], its eigenvectors rotate Q
    const T = new Float64Array(b * b);
    for (let r = 0; r < b; r++) for (let s = 0; s < b; s++) {
      let dot = 0;
      for (let c = 0; c < d; c++) dot += Q[r * d + c] * CQ[s * d + c];
      T[r * b + s] = dot;
    }
    for (let r = 0; r < b; r++) for (let s = r + 1; s < b; s++) T[r * b + s] = T[s * b + r] = (T[r * b + s] + T[s * b + r]) / 2;
    const e = symmetricEigen(T, b);
    // converged: the first `keep` Ritz values unchanged and the k axes' residuals |cov·v − λv| small
    const prev = values;
    values = e.values;
    if (prev.length && values.slice(0, keep).every((v, i) => Math.abs(v - prev[i]) <= 1e-13 * Math.abs(values[0]))) {
      let worst = 0;
      for (let i = 0; i < k; i++) {
        let res = 0;
        for (let c = 0; c < d; c++) {
          let cv = 0, v = 0;
          for (let r = 0; r < b; r++) { cv += e.vectors[i][r] * CQ[r * d + c]; v += e.vectors[i][r] * Q[r * d + c]; }
          res += (cv - values[i] * v) ** 2;
        }
        worst = Math.max(worst, Math.sqrt(res) / Math.abs(values[0]));
      }
      if (worst <= 1e-10) {
        // the Ritz vectors: the first k rows of the rotated basis
        const axes = e.vectors.slice(0, k).map((vec) => Array.from({ length: d }, (_, c) => vec.reduce((acc, w, r) => acc + w * Q[r * d + c], 0)));
        const components = axes.map((c) => {
          let big = 0;
          for (let j = 1; j < d; j++) if (Math.abs(c[j]) > Math.abs(c[big])) big = j;
          return c[big] < 0 ? c.map((v) => -v) : c;
        });
        const proj = new Float32Array(n * k);
        for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) {
          let sum = 0;
          for (let j = 0; j < d; j++) sum += (x.data[i * d + j] - mean[j]) * components[c][j];
          proj[i * k + c] = sum;
        }
        return { projected: { shape: [n, k], data: proj }, explainedVarianceRatio: values.slice(0, keep).map((v) => (trace > 0 ? Math.max(v, 0) / trace : 0)) };
      }
    }
    orth(CQ);
    Q = CQ;
  }
  const p = pca(x, k);
  return { projected: p.projected, explainedVarianceRatio: p.explainedVarianceRatio.slice(0, keep) };
}

/** the CNN's own tables as CSV, file name → text: top images, filters, feature-map statistics, flattened features */
export function cnnCsv(r: CnnResults): Record<string, string> {
  const out: Record<string, string> = {};
  out['cnn-top-images.csv'] = toCsv(r.topImages.flatMap((t) => t.channels.flatMap((c) => c.images.map((im, rank) => ({
    map: t.name, channel: c.channel, rank, index: im.index, label: im.label, value: im.value, row: im.position[0], col: im.position[1],
    top: im.field.top, left: im.field.left, bottom: im.field.bottom, right: im.field.right, fieldSize: im.field.size,
  })))));
  const [O, I, kh, kw] = r.filters.shape;
  const filt: Row[] = [];
  for (let o = 0; o < O; o++) for (let i = 0; i < I; i++) for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) {
    filt.push({ out: o, in: i, row: y, col: x, weight: r.filters.weights[((o * I + i) * kh + y) * kw + x], bias: r.filters.bias[o] });
  }
  out[`cnn-filters-layer${r.filters.layer}.csv`] = toCsv(filt);
  out['cnn-feature-maps.csv'] = toCsv(r.featureMaps.maps.flatMap((m) => {
    const [c, h, w] = m.shape;
    return Array.from({ length: c }, (_, ch) => {
      const v = m.data.subarray(ch * h * w, (ch + 1) * h * w);
      let lo = Infinity, hi = -Infinity, s = 0;
      for (const x of v) { lo = Math.min(lo, x); hi = Math.max(hi, x); s += x; }
      return { index: r.featureMaps.index, map: m.name, channel: ch, height: h, width: w, min: lo, max: hi, mean: s / v.length };
    });
  }));
  const f = r.features;
  out['cnn-flat-features-pca.csv'] = toCsv(Array.from(f.pca.rows, (row, i) => ({ row, label: f.pca.labels[i], x: f.pca.embedding.data[2 * i], y: f.pca.embedding.data[2 * i + 1] })));
  out['cnn-flat-features-silhouette.csv'] = toCsv([
    { space: `${f.name} flattened (${f.dims} features)`, full_space: f.silhouette.flattened.full, pca_2d: f.silhouette.flattened.pca, rows: f.silhouette.rows },
    { space: `${f.name} channel means (${f.channels})`, full_space: f.silhouette.channels.full, pca_2d: f.silhouette.channels.pca, rows: f.silhouette.rows },
  ]);
  return out;
}

const f2 = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : 'nan');

/** the CNN's own results as short text tables */
export function formatCnnTables(r: CnnResults): string[] {
  const L: string[] = [];
  L.push(`${r.arch}: maps ${r.maps.map((m) => `${m.name} ${m.shape.join('×')}`).join(', ')}`);
  const [O, I, kh, kw] = r.filters.shape;
  L.push(`filters of conv layer ${r.filters.layer}: ${O} × [${I}, ${kh}, ${kw}], weights in [${f2(Math.min(...r.filters.weights))}, ${f2(Math.max(...r.filters.weights))}]`);
  L.push(`feature maps of test image #${r.featureMaps.index} (a ${r.featureMaps.label}): largest channel mean per map ` +
    r.featureMaps.maps.map((m) => {
      const [c, h, w] = m.shape;
      let best = 0, bv = -Infinity;
      for (let ch = 0; ch < c; ch++) { let s = 0; for (let q = 0; q < h * w; q++) s += m.data[ch * h * w + q]; if (s / (h * w) > bv) { bv = s / (h * w); best = ch; } }
      return `${m.name} c${best} ${f2(bv)}`;
    }).join(', '));
  for (const t of r.topImages) {
    L.push(`top-${t.k} test images per channel of ${t.name} (by ${t.by}): labels of the top images, receptive field side`);
    for (const c of t.channels) {
      const labels = c.images.map((im) => im.label).join('');
      L.push(`  c${String(c.channel).padEnd(2)} max ${f2(c.images[0]?.value ?? NaN).padStart(6)}  labels ${labels}  field ${c.images[0]?.field.size ?? 0}px`);
    }
  }
  const f = r.features;
  L.push(`${f.name}: silhouette on ${f.silhouette.rows} test images, full space / PCA 2-D: flattened (${f.dims} features) ` +
    `${f2(f.silhouette.flattened.full)} / ${f2(f.silhouette.flattened.pca)}, channel means (${f.channels}) ${f2(f.silhouette.channels.full)} / ${f2(f.silhouette.channels.pca)}; ` +
    `flattened PCA explains ${(100 * ((f.pca.explainedVarianceRatio?.[0] ?? NaN) + (f.pca.explainedVarianceRatio?.[1] ?? NaN))).toFixed(1)} % in 2-D`);
  L.push('timings: ' + Object.entries(r.timings).map(([k, v]) => `${k} ${v.toFixed(2)} s`).join(', '));
  return L;
}
