// analysis/silhouette.ts's unrolled kernels (5 columns, prefixes growing two columns at a time) give the
// numbers of the plain loops they replaced (test/analysis/silhouette-reference.ts) bit for bit, on
// awkward inputs: one or two clusters, 63 and 65 rows, tied and duplicated points, empty and singleton clusters.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { prefixSilhouetteSamples, prefixSilhouetteScores, silhouetteSamples, silhouetteScore, takeColumns } from '../../analysis/silhouette.ts';
import * as ref from './silhouette-reference.ts';
import type { HostTensor } from '../../analysis/forward-cache.ts';

/** bit-exact equality of two float arrays (−0 and NaN payloads included) */
function same(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  assert.is(a.length, b.length, `${what}: length`);
  const x = new Float64Array(Array.from(a)), y = new Float64Array(Array.from(b));
  assert.equal(Array.from(new Uint8Array(x.buffer)), Array.from(new Uint8Array(y.buffer)), what);
}

function data(n: number, w: number, classes: number, seed: number, ties = false): { x: HostTensor; labels: Uint8Array } {
  let s = seed >>> 0;
  const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  // ties: values from a few levels (many equal distances), rows duplicated, zeros (post-ReLU)
  const x = Float32Array.from({ length: n * w }, () => (ties ? Math.floor(rnd() * 3) / 2 : rnd() < 0.3 ? 0 : rnd() * 4 - 1));
  if (ties && n > 4) x.copyWithin(w, 0, w);
  const labels = Uint8Array.from({ length: n }, (_, i) => (classes === 1 ? 0 : Math.floor(rnd() * classes) % classes));
  return { x: { shape: [n, w], data: x }, labels };
}

const cases: [string, number, number, number, boolean][] = [
  ['one cluster', 40, 16, 1, false], ['two clusters', 63, 16, 2, false], ['65 rows', 65, 16, 10, false],
  ['63 rows, ties', 63, 16, 3, true], ['65 rows, ties', 65, 12, 10, true], ['2 rows', 2, 6, 2, false], ['3 rows', 3, 6, 2, false],
];

test('silhouette of 5 columns, of 2 (PCA-like), of all: as the plain loops', () => {
  for (const [name, n, w, classes, ties] of cases) {
    const { x, labels } = data(n, w, classes, n * 31 + w, ties);
    for (const cols of [[0, 1, 2, 3, 4], [4, 2, 0, 5, 1], [1, 3], [0], [0, 1, 2], Array.from({ length: w }, (_, j) => j)]) {
      const xc = takeColumns(x, cols);
      same(silhouetteSamples(xc, labels), ref.silhouetteSamples(xc, labels), `${name} [${cols}] samples`);
      same([silhouetteScore(xc, labels)], [ref.silhouetteScore(xc, labels)], `${name} [${cols}] score`);
    }
  }
});

test('prefix silhouettes (sizes 2, 4, …, and others): as the plain loops', () => {
  for (const [name, n, w, classes, ties] of cases) {
    const { x, labels } = data(n, w, classes, n * 17 + 3, ties);
    const order = Array.from({ length: w }, (_, j) => (j * 5 + 3) % w);
    for (const sizes of [Array.from({ length: w / 2 }, (_, i) => 2 * (i + 1)), [2, 4], [1, 3, 5], [2, 3, 6], [w], [4, 6]]) {
      const a = prefixSilhouetteSamples(x, labels, order, sizes), b = ref.prefixSilhouetteSamples(x, labels, order, sizes);
      a.forEach((s, t) => same(s, b[t], `${name} sizes [${sizes}] prefix ${t}`));
      same(prefixSilhouetteScores(x, labels, order, sizes), ref.prefixSilhouetteScores(x, labels, order, sizes), `${name} [${sizes}] scores`);
    }
  }
});

test.run();
