// 2-D projections of activations: PCA (pca.ts), t-SNE (tsne.ts, ours) and UMAP (the umap-js package,
// seeded with our generator), plus the helpers to pick neurons and a sample of points.
import { UMAP } from 'umap-js';
import type { Rng } from '../engine/rng.ts';
import type { HostTensor } from './forward-cache.ts';
import { pca } from './pca.ts';
import { takeColumns, takeRows } from './silhouette.ts';
import { tsne, type TsneOptions } from './tsne.ts';
import { useTypedArrayGraph } from './umap-graph.ts';

export type ProjectionMethod = 'pca' | 'tsne' | 'umap';

/** a uniform [0, 1) stream from an Rng, as umap-js's `random` option wants it (24-bit resolution) */
export function randomFn(rng: Rng): () => number {
  return () => (rng.nextU32() >>> 8) / 16777216;
}

/**
 * the k nearest neighbours (euclidean) of every row of x [n, d], the point itself first at distance 0,
 * exactly (O(n² d)) → indices and distances, each [n][k]; what umap-learn computes exactly for n < 4096.
 * Each point keeps the k best by (squared distance, index), offered the other points in ascending index
 * order (a later one at an equal distance ranks after, or is dropped at the k-th place). Each pair's
 * squared distance is summed once, over the columns in order, and offered to both points: the sum for
 * (j, i) is that for (i, j) bit for bit (fl(a − b) = −fl(b − a)), and as rows go in ascending order every
 * point is still offered the others in ascending order (the rows before it, then its own row's).
 */
export function exactKnn(x: HostTensor, k: number): { indices: number[][]; distances: number[][] } {
  const n = x.shape[0], d = x.data.length / n;
  if (k > n) throw new RangeError(`${k} neighbours of ${n} points`);
  const xs = Float64Array.from(x.data); // [n, d] (exact: f32 → f64)
  // per point the k best so far, sorted by squared distance (insertion: k is small); self first
  const bestD = new Float64Array(n * k).fill(Infinity), bestI = new Int32Array(n * k).fill(-1); // [n, k]
  for (let i = 0; i < n; i++) { bestD[i * k] = -1; bestI[i * k] = i; }
  const offer = (i: number, j: number, s: number): void => {
    const base = i * k;
    if (s >= bestD[base + k - 1]) return;
    let p = k - 1;
    while (p > 0 && bestD[base + p - 1] > s) { bestD[base + p] = bestD[base + p - 1]; bestI[base + p] = bestI[base + p - 1]; p--; }
    bestD[base + p] = s; bestI[base + p] = j;
  };
  const dist = new Float64Array(n); // [n]: row i's squared distances to the rows after it
  for (let i = 0; i < n; i++) {
    const oi = i * d;
    let j = i + 1;
    for (; j + 3 < n; j += 4) { // 4 rows at a time, each sum over c in order
      const o0 = j * d, o1 = o0 + d, o2 = o1 + d, o3 = o2 + d;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let c = 0; c < d; c++) {
        const v = xs[oi + c];
        const e0 = v - xs[o0 + c], e1 = v - xs[o1 + c], e2 = v - xs[o2 + c], e3 = v - xs[o3 + c];
        s0 += e0 * e0; s1 += e1 * e1; s2 += e2 * e2; s3 += e3 * e3;
      }
      dist[j] = s0; dist[j + 1] = s1; dist[j + 2] = s2; dist[j + 3] = s3;
    }
    for (; j < n; j++) {
      const oj = j * d;
      let s = 0;
      for (let c = 0; c < d; c++) { const e = xs[oi + c] - xs[oj + c]; s += e * e; }
      dist[j] = s;
    }
    for (j = i + 1; j < n; j++) { offer(i, j, dist[j]); offer(j, i, dist[j]); }
  }
  const indices: number[][] = [], distances: number[][] = [];
  for (let i = 0; i < n; i++) {
    indices.push(Array.from(bestI.subarray(i * k, i * k + k)));
    distances.push(Array.from(bestD.subarray(i * k, i * k + k), (v) => (v < 0 ? 0 : Math.sqrt(v))));
  }
  return { indices, distances };
}

export interface UmapOptions {
  /** default 15 (umap-learn's) */
  nNeighbors?: number;
  /** default 0.1 */
  minDist?: number;
  /** default: umap-js's (500 epochs up to 2500 points, 200 from 7500) */
  nEpochs?: number;
}

/**
 * UMAP of x [n, d] into 2-D with umap-js, every random draw from `rng` (reproducible). Neighbours are
 * exact below 4096 points (as umap-learn does), umap-js's NN-descent above. NOTE: umap-js initialises the
 * layout at random (umap-learn uses a spectral layout), so shapes differ from the notebooks' → [n, 2]
 */
export function umap2d(x: HostTensor, rng: Rng, opts: UmapOptions = {}): HostTensor {
  const n = x.shape[0], d = x.data.length / n, k = opts.nNeighbors ?? 15;
  const u = new UMAP({ nComponents: 2, nNeighbors: k, minDist: opts.minDist ?? 0.1, nEpochs: opts.nEpochs, random: randomFn(rng) });
  if (n < 4096) {
    const { indices, distances } = exactKnn(x, k);
    u.setPrecomputedKNN(indices, distances);
    useTypedArrayGraph(u); // umap-js's graph set-up on typed arrays: the same embedding, bit for bit
  }
  const rows = Array.from({ length: n }, (_, i) => Array.from(x.data.subarray(i * d, (i + 1) * d)));
  const emb = u.fit(rows);
  const out = new Float32Array(2 * n); // [n, 2]
  emb.forEach((p, i) => { out[2 * i] = p[0]; out[2 * i + 1] = p[1]; });
  return { shape: [n, 2], data: out };
}

/** `count` distinct rows of [0, n) drawn with rng, in increasing order (all rows when count ≥ n) → [count] */
export function sampleRows(n: number, count: number, rng: Rng): Uint32Array {
  if (count >= n) return Uint32Array.from({ length: n }, (_, i) => i);
  return rng.epochPermutation(n).subarray(0, count).sort();
}

export interface Projection {
  method: ProjectionMethod;
  /** the neurons (columns) projected */
  neurons: number[];
  /** rows of the analysed data that were projected [m] */
  rows: Uint32Array;
  /** labels of those rows [m] */
  labels: Uint8Array;
  /** [m, 2] */
  embedding: HostTensor;
  /** PCA only: explained-variance ratio of every axis */
  explainedVarianceRatio?: number[];
  /** t-SNE only: the final KL divergence */
  kl?: number;
  seconds: number;
}

/**
 * a 2-D projection of the columns `neurons` (default all) of acts [n, width], on `sample` rows drawn with
 * `rng` (default all rows; t-SNE is O(n²): keep it to a few thousand)
 */
export function projectActivations(
  acts: HostTensor, labels: ArrayLike<number>, method: ProjectionMethod,
  opts: { neurons?: readonly number[]; sample?: number; rng?: Rng; tsne?: TsneOptions; umap?: UmapOptions } = {},
): Projection {
  const t0 = performance.now();
  const n = acts.shape[0], w = acts.data.length / n;
  const neurons = [...(opts.neurons ?? Array.from({ length: w }, (_, j) => j))];
  const need = opts.sample !== undefined && opts.sample < n;
  if ((need || method === 'umap') && !opts.rng) throw new Error(`projectActivations(${method}): needs an rng`);
  const rows = need ? sampleRows(n, opts.sample!, opts.rng!) : Uint32Array.from({ length: n }, (_, i) => i);
  const sub = takeRows(neurons.length === w ? acts : takeColumns(acts, neurons), labels, rows);
  const base = { method, neurons, rows, labels: sub.labels };
  if (method === 'pca') {
    const p = pca(sub.x, 2);
    return { ...base, embedding: p.projected, explainedVarianceRatio: p.explainedVarianceRatio, seconds: (performance.now() - t0) / 1000 };
  }
  if (method === 'tsne') {
    const t = tsne(sub.x, opts.tsne);
    return { ...base, embedding: t.embedding, kl: t.kl, seconds: (performance.now() - t0) / 1000 };
  }
  return { ...base, embedding: umap2d(sub.x, opts.rng!, opts.umap), seconds: (performance.now() - t0) / 1000 };
}
