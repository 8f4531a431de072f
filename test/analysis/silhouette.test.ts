import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  prefixSilhouetteScores, silhouetteSamples, silhouetteScore, takeColumns, takeRows,
} from '../../analysis/silhouette.ts';
import { createRng } from '../../engine/rng.ts';
import { assertClose } from '../helpers/close.ts';

const tensor = (rows: number[][]) => ({ shape: [rows.length, rows[0].length], data: Float32Array.from(rows.flat()) });

/** the textbook definition, written as plainly as possible (the oracle) */
function naive(rows: number[][], labels: number[]): number[] {
  const dist = (a: number[], b: number[]) => Math.sqrt(a.reduce((s, v, k) => s + (v - b[k]) ** 2, 0));
  const classes = [...new Set(labels)];
  return rows.map((p, i) => {
    const mean = (c: number) => {
      const others = rows.filter((_, j) => labels[j] === c && j !== i);
      return others.reduce((s, q) => s + dist(p, q), 0) / others.length;
    };
    if (labels.filter((l) => l === labels[i]).length < 2) return 0;
    const a = mean(labels[i]);
    const b = Math.min(...classes.filter((c) => c !== labels[i]).map(mean));
    return (b - a) / Math.max(a, b);
  });
}

test('1-D hand case: clusters {0, 1} and {10, 11}', () => {
  const s = silhouetteSamples(tensor([[0], [1], [10], [11]]), [0, 0, 1, 1]);
  // point 0: a = 1, b = (10 + 11)/2; point 1: a = 1, b = (9 + 10)/2
  assertClose(Array.from(s), [9.5 / 10.5, 8.5 / 9.5, 8.5 / 9.5, 9.5 / 10.5]);
});

test('well-separated clusters score near 1; a cluster of one scores 0; one cluster is NaN', () => {
  const rng = createRng('mlp-lens', 1);
  const rows: number[][] = [], labels: number[] = [];
  for (let c = 0; c < 4; c++) {
    for (let i = 0; i < 30; i++) {
      rows.push([100 * c + rng.random(1)[0], -50 * c + rng.random(1)[0], rng.random(1)[0]]);
      labels.push(c);
    }
  }
  assert.ok(silhouetteScore(tensor(rows), labels) > 0.98);
  const lone = silhouetteSamples(tensor([[0], [1], [5]]), [0, 0, 1]);
  assert.is(lone[2], 0);
  assert.ok(Number.isNaN(silhouetteScore(tensor([[0], [1]]), [3, 3])));
});

test('matches the textbook definition on random data with unsorted labels (2-D and 5-D paths)', () => {
  const rng = createRng('mlp-lens', 2);
  for (const d of [2, 5]) {
    const rows = Array.from({ length: 40 }, () => Array.from(rng.random(d)));
    const labels = Array.from({ length: 40 }, () => rng.nextU32() % 4);
    assertClose(Array.from(silhouetteSamples(tensor(rows), labels)), naive(rows, labels), { atol: 1e-9 }, `d = ${d}`);
  }
});

test('prefix subspaces in one pass equal separate scores of each subset', () => {
  const rng = createRng('mlp-lens', 3);
  const x = tensor(Array.from({ length: 50 }, () => Array.from(rng.random(6))));
  const labels = Array.from({ length: 50 }, (_, i) => i % 3);
  const order = [4, 0, 5, 2, 1, 3];
  const sizes = [1, 2, 4, 6];
  const separate = sizes.map((k) => silhouetteScore(takeColumns(x, order.slice(0, k)), labels));
  assertClose(prefixSilhouetteScores(x, labels, order, sizes), separate, { atol: 1e-12 });
  assert.throws(() => prefixSilhouetteScores(x, labels, order, [2, 2]), /increase/);
});

test('a sample is a seeded subset of rows', () => {
  const rng = createRng('mlp-lens', 4);
  const x = tensor(Array.from({ length: 30 }, (_, i) => [i % 3 + rng.random(1)[0]]));
  const labels = Array.from({ length: 30 }, (_, i) => i % 3);
  const a = silhouetteScore(x, labels, { sample: 12, rng: createRng('mlp-lens', 7) });
  const b = silhouetteScore(x, labels, { sample: 12, rng: createRng('mlp-lens', 7) });
  assert.is(a, b);
  const sub = takeRows(x, labels, [0, 5]);
  assert.equal(Array.from(sub.labels), [0, 2]);
  assert.throws(() => silhouetteScore(x, labels, { sample: 5 }), /rng/);
});

test('exact and sampled agree: a sample of every row is the exact score, a half sample is close to it', () => {
  const rng = createRng('mlp-lens', 5);
  // four overlapping clusters in 3-D: a score well inside (0, 1), where sampling error shows
  const rows: number[][] = [], labels: number[] = [];
  for (let i = 0; i < 400; i++) {
    const c = i % 4, r = rng.random(3);
    rows.push([c + 2 * r[0], (c % 2) + 2 * r[1], r[2]]);
    labels.push(c);
  }
  const x = tensor(rows);
  const exact = silhouetteScore(x, labels);
  assert.ok(exact > 0.05 && exact < 0.6, `exact ${exact}`);
  assertClose([silhouetteScore(x, labels, { sample: 400, rng: createRng('mlp-lens', 9) })], [exact], { atol: 1e-12 });
  assertClose([silhouetteScore(x, labels, { sample: 10_000, rng: createRng('mlp-lens', 9) })], [exact], { atol: 1e-12 });
  // the mean over samples of half the rows stays near the exact score; each sample within a few hundredths
  const halves = [1, 2, 3, 4, 5].map((seed) => silhouetteScore(x, labels, { sample: 200, rng: createRng('mlp-lens', seed) }));
  for (const h of halves) assert.ok(Math.abs(h - exact) < 0.05, `sample ${h} vs exact ${exact}`);
  assert.ok(Math.abs(halves.reduce((a, b) => a + b, 0) / halves.length - exact) < 0.02);
  assert.ok(halves.some((h) => h !== exact), 'a sample is not the whole');
});

test.run();
