// umap2d with the typed-array graph set-up (analysis/umap-graph.ts) and the symmetric exactKnn give the
// same embedding, byte for byte, as umap-js's own set-up with the old exactKnn (test/helpers/
// projection-reference.ts): small n with ties and duplicate points, d = 1, 2, 16, and the suite's size
// (1000 points × 16, 200 epochs); the CSR graph matches umap-js's fuzzySimplicialSet entry for entry at
// other mix ratios too; a kNN graph it does not handle falls back to umap-js.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { UMAP } from 'umap-js';
import { exactKnn, randomFn, umap2d } from '../../analysis/projection.ts';
import { csrGraph, useTypedArrayGraph } from '../../analysis/umap-graph.ts';
import { createRng } from '../../engine/rng.ts';
import { refExactKnn, refUmap2d } from '../helpers/projection-reference.ts';

const bytes = (a: Float32Array | Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');

/** n points in d dims: kind 0 gaussian-ish, 1 on a small integer grid (many ties), 2 with duplicate points, 3 constant */
function points(n: number, d: number, kind: number, seed: number): { shape: number[]; data: Float32Array } {
  const rng = createRng('mlp-lens', seed), data = new Float32Array(n * d);
  const r = rng.random(n * d);
  for (let i = 0; i < n * d; i++) {
    if (kind === 0) data[i] = (r[i] - 0.5) * 4 + (i % 3);
    else if (kind === 1) data[i] = Math.floor(r[i] * 3);
    else if (kind === 2) data[i] = Math.floor(i / d) % 4 === 0 ? data[(i % d)] : r[i];
    else data[i] = 1;
  }
  return { shape: [n, d], data };
}

test('exactKnn (pairs once, offered both ways) = the old scan, to the bit', () => {
  for (const [n, d, kind, k] of [[16, 1, 1, 15], [17, 2, 2, 5], [40, 16, 0, 15], [65, 2, 1, 15], [33, 1, 3, 7], [9, 3, 0, 1], [9, 3, 2, 9], [200, 16, 2, 15]]) {
    const x = points(n, d, kind, n * 7 + d);
    const a = exactKnn(x, k), b = refExactKnn(x, k);
    assert.equal(a.indices, b.indices, `indices n ${n} d ${d} kind ${kind} k ${k}`);
    assert.is(bytes(Float64Array.from(a.distances.flat())), bytes(Float64Array.from(b.distances.flat())), `distances n ${n} d ${d} kind ${kind}`);
  }
  // NaN and Infinity coordinates: the same (odd) ranking
  const x = points(30, 2, 0, 3);
  x.data[5] = NaN; x.data[20] = Infinity; x.data[21] = -Infinity;
  for (const k of [1, 4, 15]) {
    const a = exactKnn(x, k), b = refExactKnn(x, k);
    assert.equal(a.indices, b.indices);
    assert.is(bytes(Float64Array.from(a.distances.flat())), bytes(Float64Array.from(b.distances.flat())));
  }
});

test('umap2d = umap-js\'s own graph set-up, embedding bytes identical (n 16..65, ties, duplicates, d 1/2/16)', () => {
  const cases: [number, number, number, number | undefined][] = [
    [16, 1, 0, 50], [16, 2, 1, 50], [17, 16, 2, 50], [31, 1, 1, 60], [32, 2, 2, 0], [40, 16, 0, 80], [47, 2, 3, 30],
    [63, 16, 1, 50], [64, 1, 2, 50], [65, 2, 0, 50], [65, 16, 2, 40],
  ];
  for (const [n, d, kind, nEpochs] of cases) {
    const x = points(n, d, kind, 1000 + n + d + kind);
    for (const nNeighbors of [15, 5]) {
      const a = umap2d(x, createRng('mlp-lens', n), { nEpochs, nNeighbors });
      const b = refUmap2d(x, createRng('mlp-lens', n), { nEpochs, nNeighbors });
      assert.is(bytes(a.data), bytes(b.data), `n ${n} d ${d} kind ${kind} epochs ${nEpochs} k ${nNeighbors}`);
    }
  }
});

test('umap2d = umap-js at the suite\'s size: 1000 points × 16, 200 epochs', () => {
  const x = points(1000, 16, 0, 99);
  for (let i = 0; i < 1000 * 16; i++) x.data[i] = Math.max(0, x.data[i] - 1); // ReLU-like: many zeros
  const a = umap2d(x, createRng('mlp-lens', 7), { nEpochs: 200 });
  const b = refUmap2d(x, createRng('mlp-lens', 7), { nEpochs: 200 });
  assert.is(bytes(a.data), bytes(b.data));
});

test('csrGraph = umap-js fuzzySimplicialSet entry for entry (mix ratios 1, 0.5, 0), edges in (row, col) order', () => {
  const x = points(50, 3, 1, 5), k = 8;
  const { indices, distances } = exactKnn(x, k);
  for (const mix of [1, 0.5, 0, 0.3]) {
    const u = new UMAP({ nNeighbors: k, setOpMixRatio: mix }) as unknown as {
      knnIndices: number[][]; knnDistances: number[][];
      fuzzySimplicialSet(X: unknown[], k: number, mix: number): { getAll(): { row: number; col: number; value: number }[] };
      smoothKNNDistance(d: number[][], k: number, lc: number): { sigmas: number[]; rhos: number[] };
      computeMembershipStrengths(i: number[][], d: number[][], s: number[], r: number[]): { cols: number[]; vals: number[] };
    };
    u.knnIndices = indices; u.knnDistances = distances;
    const ref = u.fuzzySimplicialSet(new Array(50), k, mix).getAll();
    const { sigmas, rhos } = u.smoothKNNDistance(distances, k, 1);
    const { cols, vals } = u.computeMembershipStrengths(indices, distances, sigmas, rhos);
    const g = csrGraph(50, k, cols, vals, mix);
    assert.is(g.cols.length, ref.length);
    const rowsOf = Array.from(g.cols, (_, e) => { let r = 0; while (g.rowPtr[r + 1] <= e) r++; return r; });
    assert.equal(rowsOf, ref.map((e) => e.row), `rows, mix ${mix}`);
    assert.equal(Array.from(g.cols), ref.map((e) => e.col), `cols, mix ${mix}`);
    assert.is(bytes(g.vals), bytes(Float64Array.from(ref, (e) => e.value)), `values, mix ${mix}`);
  }
});

test('a kNN graph with −1 or a repeated neighbour falls back to umap-js (same embedding)', () => {
  const x = points(30, 2, 0, 11), k = 6;
  const { indices, distances } = exactKnn(x, k);
  indices[3][5] = -1; indices[7][4] = indices[7][3];
  const run = (fast: boolean) => {
    const u = new UMAP({ nNeighbors: k, nEpochs: 40, random: randomFn(createRng('mlp-lens', 2)) });
    u.setPrecomputedKNN(indices.map((r) => [...r]), distances.map((r) => [...r]));
    if (fast) useTypedArrayGraph(u);
    return Float64Array.from(u.fit(Array.from({ length: 30 }, () => [0, 0])).flat());
  };
  assert.is(bytes(run(true)), bytes(run(false)));
});

test.run();
