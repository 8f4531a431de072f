// the references: analysis/projection.ts's exactKnn and umap2d as they were before issue 20 (each point
// scanned against every other; umap-js's own graph set-up, with its string-keyed sparse matrices): the
// oracles of test/analysis/umap-graph.test.ts
import { UMAP } from 'umap-js';
import type { HostTensor } from '../../analysis/forward-cache.ts';
import { randomFn } from '../../analysis/projection.ts';
import type { Rng } from '../../engine/rng.ts';

export function refExactKnn(x: HostTensor, k: number): { indices: number[][]; distances: number[][] } {
  const n = x.shape[0], d = x.data.length / n;
  if (k > n) throw new RangeError(`${k} neighbours of ${n} points`);
  const indices: number[][] = [], distances: number[][] = [];
  const bestD = new Float64Array(k), bestI = new Int32Array(k);
  for (let i = 0; i < n; i++) {
    bestD.fill(Infinity); bestI.fill(-1);
    bestD[0] = -1; bestI[0] = i;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      let s = 0;
      for (let c = 0; c < d; c++) { const e = x.data[i * d + c] - x.data[j * d + c]; s += e * e; }
      if (s >= bestD[k - 1]) continue;
      let p = k - 1;
      while (p > 0 && bestD[p - 1] > s) { bestD[p] = bestD[p - 1]; bestI[p] = bestI[p - 1]; p--; }
      bestD[p] = s; bestI[p] = j;
    }
    indices.push(Array.from(bestI));
    distances.push(Array.from(bestD, (v) => (v < 0 ? 0 : Math.sqrt(v))));
  }
  return { indices, distances };
}

export function refUmap2d(x: HostTensor, rng: Rng, opts: { nNeighbors?: number; minDist?: number; nEpochs?: number } = {}): HostTensor {
  const n = x.shape[0], d = x.data.length / n, k = opts.nNeighbors ?? 15;
  const u = new UMAP({ nComponents: 2, nNeighbors: k, minDist: opts.minDist ?? 0.1, nEpochs: opts.nEpochs, random: randomFn(rng) });
  if (n < 4096) {
    const { indices, distances } = refExactKnn(x, k);
    u.setPrecomputedKNN(indices, distances);
  }
  const rows = Array.from({ length: n }, (_, i) => Array.from(x.data.subarray(i * d, (i + 1) * d)));
  const emb = u.fit(rows);
  const out = new Float32Array(2 * n);
  emb.forEach((p, i) => { out[2 * i] = p[0]; out[2 * i + 1] = p[1]; });
  return { shape: [n, 2], data: out };
}
