import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { procrustesRotation, rotate } from '../../analysis/procrustes.ts';
import { createRng } from '../../engine/rng.ts';
import { assertClose } from '../helpers/close.ts';

const rng = createRng('mlp-lens', 11);
const points = (n: number, k: number) => Float64Array.from(rng.uniform(-1, 1, n * k));

/** a random orthogonal [k, k] with det +1 (Gram–Schmidt on uniform columns, sign fixed) */
function rotation(k: number): number[][] {
  const cols: number[][] = [];
  while (cols.length < k) {
    const v = Array.from(rng.uniform(-1, 1, k));
    for (let pass = 0; pass < 2; pass++) {
      for (const u of cols) {
        const dot = u.reduce((s, x, i) => s + x * v[i], 0);
        u.forEach((x, i) => { v[i] -= dot * x; });
      }
    }
    const norm = Math.hypot(...v);
    cols.push(v.map((x) => x / norm));
  }
  const r = Array.from({ length: k }, (_, i) => cols.map((c) => c[i]));
  if (det(r) < 0) r.forEach((row) => { row[0] = -row[0]; });
  return r;
}

function det(m: number[][]): number {
  const a = m.map((r) => r.slice()), k = a.length;
  let d = 1;
  for (let c = 0; c < k; c++) {
    let piv = c;
    for (let r = c + 1; r < k; r++) if (Math.abs(a[r][c]) > Math.abs(a[piv][c])) piv = r;
    if (a[piv][c] === 0) return 0;
    if (piv !== c) { [a[piv], a[c]] = [a[c], a[piv]]; d = -d; }
    d *= a[c][c];
    for (let r = c + 1; r < k; r++) {
      const f = a[r][c] / a[c][c];
      for (let j = c; j < k; j++) a[r][j] -= f * a[c][j];
    }
  }
  return d;
}

const identity = (k: number) => Array.from({ length: k }, (_, i) => Array.from({ length: k }, (_, j) => (i === j ? 1 : 0)));

function assertOrthogonal(r: number[][], label: string): void {
  const k = r.length;
  const rtr = Array.from({ length: k }, (_, i) => Array.from({ length: k }, (_, j) => r.reduce((s, row) => s + row[i] * row[j], 0)));
  assertClose(rtr.flat(), identity(k).flat(), { atol: 1e-12 }, `${label}: RᵀR = I`);
}

const residual = (a: ArrayLike<number>, b: ArrayLike<number>, n: number, k: number, r: number[][]) =>
  Math.sqrt(rotate(a, n, k, r).reduce((s, v, i) => s + (v - b[i]) ** 2, 0));

test('recovers a known rotation exactly (k = 2, 3, 5)', () => {
  for (const k of [2, 3, 5]) {
    const n = 30, a = points(n, k), r0 = rotation(k);
    const b = rotate(a, n, k, r0);
    const r = procrustesRotation(a, b, n, k);
    assertClose(r.flat(), r0.flat(), { atol: 1e-9, rtol: 0 }, `k = ${k}`);
    assertClose(rotate(a, n, k, r), b, { atol: 1e-9, rtol: 0 }, `k = ${k}: a R = b`);
    assertOrthogonal(r, `k = ${k}`);
  }
});

test('recovers a known reflection exactly (plain Procrustes allows det −1)', () => {
  for (const k of [2, 4]) {
    const n = 25, a = points(n, k), r0 = rotation(k);
    r0.forEach((row) => { row[k - 1] = -row[k - 1]; });
    assert.ok(det(r0) < 0);
    const r = procrustesRotation(a, rotate(a, n, k, r0), n, k);
    assertClose(r.flat(), r0.flat(), { atol: 1e-9, rtol: 0 }, `k = ${k}`);
    assertClose([det(r)], [-1], { atol: 1e-12 });
  }
});

test('b = a gives the identity, also when a is rank deficient', () => {
  const n = 20, k = 4, a = points(n, k);
  assertClose(procrustesRotation(a, a, n, k).flat(), identity(k).flat(), { atol: 1e-12, rtol: 0 });
  // column 3 = column 0 + column 1, column 2 all zero: a spans 2 of 4 dimensions
  const flat = Float64Array.from(a, (v, i) => (i % k === 2 ? 0 : i % k === 3 ? a[i - 3] + a[i - 2] : v));
  assertClose(procrustesRotation(flat, flat, n, k).flat(), identity(k).flat(), { atol: 1e-9, rtol: 0 }, 'rank 2');
  // aᵀb = 0 determines nothing: the identity
  assertClose(procrustesRotation(new Float64Array(n * k), a, n, k).flat(), identity(k).flat(), { atol: 0 }, 'a = 0');
});

test('rank deficient a with a rotated b: still orthogonal and a R = b', () => {
  const n = 15, k = 3, r0 = rotation(k);
  const t = points(n, 1);
  // points on a line through the origin
  const a = Float64Array.from({ length: n * k }, (_, i) => t[Math.floor(i / k)] * [1, -2, 0.5][i % k]);
  const b = rotate(a, n, k, r0);
  const r = procrustesRotation(a, b, n, k);
  assertOrthogonal(r, 'rank 1');
  assertClose(rotate(a, n, k, r), b, { atol: 1e-12, rtol: 0 }, 'a R = b');
});

test('noisy 2-D points: no angle or reflection on a fine grid fits better', () => {
  const n = 40, k = 2, a = points(n, k), noise = points(n, k);
  const b = Float64Array.from(rotate(a, n, k, [[0.6, 0.8], [-0.8, 0.6]]), (v, i) => v + 0.3 * noise[i]);
  const r = procrustesRotation(a, b, n, k);
  assertOrthogonal(r, 'noisy');
  const best = residual(a, b, n, k, r);
  let grid = Infinity;
  for (let s = 0; s < 20000; s++) {
    const th = (2 * Math.PI * s) / 20000, c = Math.cos(th), si = Math.sin(th);
    grid = Math.min(grid, residual(a, b, n, k, [[c, si], [-si, c]]), residual(a, b, n, k, [[c, si], [si, -c]]));
  }
  assert.ok(best <= grid + 1e-12, `${best} vs grid ${grid}`);
  assert.ok(grid - best < 1e-6, 'the grid comes close');
});

test('rotate: a R row by row; size checks', () => {
  assertClose(rotate([1, 2, 3, 4], 2, 2, [[0, 1], [-1, 0]]), [-2, 1, -4, 3], { atol: 0 });
  assert.throws(() => rotate([1, 2, 3], 2, 2, identity(2)), /expected/);
  assert.throws(() => procrustesRotation([1, 2], [1, 2, 3, 4], 2, 2), /expected/);
});

test.run();
