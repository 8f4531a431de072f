import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { exactKnn, projectActivations, randomFn, sampleRows, umap2d } from '../../analysis/projection.ts';
import { silhouetteScore } from '../../analysis/silhouette.ts';
import { createRng } from '../../engine/rng.ts';
import { assertClose } from '../helpers/close.ts';

test('exact k nearest neighbours, the point itself first (by hand)', () => {
  const x = { shape: [4, 1], data: Float32Array.from([0, 1, 3, 7]) };
  const k = exactKnn(x, 3);
  assert.equal(k.indices, [[0, 1, 2], [1, 0, 2], [2, 1, 0], [3, 2, 1]]);
  assertClose(k.distances.flat(), [0, 1, 3, 0, 1, 2, 0, 2, 3, 0, 4, 6]);
});

test('randomFn and sampleRows are seeded', () => {
  const a = randomFn(createRng('mlp-lens', 5)), b = randomFn(createRng('mlp-lens', 5));
  const va = [a(), a(), a()];
  assert.equal(va, [b(), b(), b()]);
  assert.ok(va.every((v) => v >= 0 && v < 1));
  const rows = sampleRows(100, 10, createRng('mlp-lens', 1));
  assert.is(new Set(rows).size, 10);
  assert.ok(rows.every((r, i) => i === 0 || r > rows[i - 1]), 'increasing');
  assert.is(sampleRows(5, 10, createRng('mlp-lens', 1)).length, 5);
});

function clusters(seed: number, per: number): { x: { shape: number[]; data: Float32Array }; labels: number[] } {
  const rng = createRng('mlp-lens', seed);
  const rows: number[] = [], labels: number[] = [];
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < per; i++) {
      const noise = rng.random(5);
      rows.push(...[0, 1, 2, 3, 4].map((k) => (k === c ? 8 : 0) + noise[k]));
      labels.push(c);
    }
  }
  return { x: { shape: [3 * per, 5], data: Float32Array.from(rows) }, labels };
}

test('UMAP (umap-js) is reproducible with our generator and keeps separated clusters apart', () => {
  const { x, labels } = clusters(1, 20);
  const a = umap2d(x, createRng('mlp-lens', 314), { nEpochs: 100 });
  const b = umap2d(x, createRng('mlp-lens', 314), { nEpochs: 100 });
  assert.equal(a.shape, [60, 2]);
  assert.equal(Array.from(a.data), Array.from(b.data));
  assert.ok(silhouetteScore(a, labels) > 0.7, `silhouette ${silhouetteScore(a, labels)}`);
});

test('projectActivations: a neuron subset and a row sample, labels carried along', () => {
  const { x, labels } = clusters(2, 10);
  const p = projectActivations(x, labels, 'pca', { neurons: [0, 1], sample: 12, rng: createRng('mlp-lens', 3) });
  assert.equal(p.neurons, [0, 1]);
  assert.is(p.rows.length, 12);
  assert.equal(Array.from(p.labels), Array.from(p.rows, (r) => labels[r]));
  assert.equal(p.embedding.shape, [12, 2]);
  assertClose([p.explainedVarianceRatio!.reduce((a, b) => a + b, 0)], [1]);
  const t = projectActivations(x, labels, 'tsne', { tsne: { perplexity: 5, iterations: 260 } });
  assert.equal(t.embedding.shape, [30, 2]);
  assert.throws(() => projectActivations(x, labels, 'umap'), /rng/);
});

test.run();
