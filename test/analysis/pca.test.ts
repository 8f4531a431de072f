import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { pca, symmetricEigen } from '../../analysis/pca.ts';
import { assertClose } from '../helpers/close.ts';

test('eigen-decomposition of small symmetric matrices (by hand)', () => {
  const e = symmetricEigen([2, 1, 1, 2], 2);
  assertClose(e.values, [3, 1]);
  assertClose(e.vectors[0].map(Math.abs), [Math.SQRT1_2, Math.SQRT1_2]);
  // diag(1, 5, 3) sorts to 5, 3, 1
  const d = symmetricEigen([1, 0, 0, 0, 5, 0, 0, 0, 3], 3);
  assertClose(d.values, [5, 3, 1]);
  // a dense 3×3: A v = λ v for every pair, vectors orthonormal
  const A = [4, 1, -2, 1, 2, 0, -2, 0, 3];
  const r = symmetricEigen(A, 3);
  r.vectors.forEach((v, i) => {
    const Av = [0, 1, 2].map((row) => v.reduce((s, x, k) => s + A[row * 3 + k] * x, 0));
    assertClose(Av, v.map((x) => r.values[i] * x), { atol: 1e-12 }, `pair ${i}`);
    r.vectors.forEach((u, j) => assertClose([v.reduce((s, x, k) => s + x * u[k], 0)], [i === j ? 1 : 0], { atol: 1e-12 }));
  });
});

test('points on the line y = 2x: one component (1, 2)/√5, all the variance, scores along it', () => {
  const xs = [-2, -1, 0, 1, 2];
  const p = pca({ shape: [5, 2], data: Float32Array.from(xs.flatMap((x) => [x + 3, 2 * x - 1])) }, 2);
  assertClose(p.mean, [3, -1], { atol: 1e-12 });
  assertClose(p.components[0], [1 / Math.sqrt(5), 2 / Math.sqrt(5)], { atol: 1e-9 });
  assertClose(p.explainedVarianceRatio, [1, 0], { atol: 1e-9 });
  // variance along the line, n − 1 denominator: Σ (√5 x)² / 4 = 5·10/4
  assertClose([p.explainedVariance[0]], [12.5], { atol: 1e-9 });
  assertClose(Array.from({ length: 5 }, (_, i) => p.projected.data[2 * i]), xs.map((x) => x * Math.sqrt(5)), { atol: 1e-5 });
});

test('sign convention: each axis has its largest-magnitude entry positive (sklearn svd_flip on Vᵀ)', () => {
  // the data spread along (−3, 1): the flipped axis is (3, −1)/√10
  const t = [-1, 0, 1];
  const p = pca({ shape: [3, 2], data: Float32Array.from(t.flatMap((s) => [-3 * s, s])) }, 1);
  assertClose(p.components[0], [3 / Math.sqrt(10), -1 / Math.sqrt(10)], { atol: 1e-9 });
  assert.equal(p.projected.shape, [3, 1]);
  // the point at s = −1 is (3, −1): it scores +√10 along the flipped axis
  assertClose(Array.from(p.projected.data), [Math.sqrt(10), 0, -Math.sqrt(10)], { atol: 1e-5 });
});

test.run();
