import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ckaMatrix, linearCka } from '../../analysis/cka.ts';
import type { HostTensor } from '../../analysis/forward-cache.ts';
import { createRng } from '../../engine/rng.ts';
import { assertClose } from '../helpers/close.ts';

const rng = createRng('mlp-lens', 7);
const random = (n: number, d: number): HostTensor => ({ shape: [n, d], data: rng.uniform(-1, 1, n * d) });

/** a random orthogonal q [d, d] (Gram–Schmidt on uniform columns), row-major */
function orthogonal(d: number): number[][] {
  const cols: number[][] = [];
  while (cols.length < d) {
    const v = Array.from(rng.uniform(-1, 1, d));
    for (let pass = 0; pass < 2; pass++) {
      for (const u of cols) {
        const dot = u.reduce((s, x, k) => s + x * v[k], 0);
        u.forEach((x, k) => { v[k] -= dot * x; });
      }
    }
    const norm = Math.hypot(...v);
    cols.push(v.map((x) => x / norm));
  }
  return Array.from({ length: d }, (_, r) => cols.map((c) => c[r]));
}

/** x [n, p] · m [p, q] → [n, q], in double, stored as float32 */
function matmul(x: HostTensor, m: number[][]): HostTensor {
  const [n, p] = x.shape, q = m[0].length;
  const out = new Float32Array(n * q);
  for (let i = 0; i < n; i++) for (let c = 0; c < q; c++) {
    let s = 0;
    for (let j = 0; j < p; j++) s += x.data[i * p + j] * m[j][c];
    out[i * q + c] = s;
  }
  return { shape: [n, q], data: out };
}

const map = (x: HostTensor, f: (v: number, j: number) => number): HostTensor => {
  const p = x.shape[1];
  return { shape: x.shape, data: x.data.map((v, i) => f(v, i % p)) };
};

/** the definition through the n × n sample Gram matrices: HSIC(K, L) = tr(K H L H)/(n − 1)² (the oracle) */
function bruteCka(x: HostTensor, y: HostTensor): number {
  const n = x.shape[0];
  const gram = (t: HostTensor) => {
    const d = t.shape[1];
    return Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => {
      let s = 0;
      for (let k = 0; k < d; k++) s += t.data[i * d + k] * t.data[j * d + k];
      return s;
    }));
  };
  const h = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0) - 1 / n));
  const mm = (a: number[][], b: number[][]) => a.map((row) => b[0].map((_, j) => row.reduce((s, v, k) => s + v * b[k][j], 0)));
  const hsic = (k: number[][], l: number[][]) => {
    const m = mm(mm(mm(k, h), l), h);
    return m.reduce((s, row, i) => s + row[i], 0) / (n - 1) ** 2;
  };
  const K = gram(x), L = gram(y);
  return hsic(K, L) / Math.sqrt(hsic(K, K) * hsic(L, L));
}

test('matches the n × n HSIC definition on a small case', () => {
  const x = random(9, 3), y = random(9, 4);
  // z shares part of x so the value is neither 0 nor 1
  const z = { shape: [9, 4], data: y.data.map((v, i) => v + x.data[Math.floor(i / 4) * 3 + (i % 3)]) };
  for (const [a, b] of [[x, y], [x, z], [y, z]] as const) {
    const brute = bruteCka(a, b);
    assert.ok(brute > 0.05 && brute < 0.999, `a non-trivial case: ${brute}`);
    assertClose([linearCka(a, b)], [brute], { atol: 1e-12, rtol: 1e-10 });
  }
});

test('identical representations: 1; symmetric in its arguments', () => {
  const x = random(200, 12), y = random(200, 5);
  assertClose([linearCka(x, x)], [1], { atol: 1e-12 });
  assertClose([linearCka(x, y)], [linearCka(y, x)], { atol: 1e-14 });
});

test('invariant to an orthogonal transform of the columns and to isotropic scaling (and a shift)', () => {
  const x = random(300, 8);
  // y: a squashed 6-D projection of x, related to it but not linearly
  const y = map(matmul(x, orthogonal(8).map((r) => r.slice(0, 6))), (v) => Math.tanh(2 * v));
  const base = linearCka(x, y);
  assert.ok(base > 0.3 && base < 0.99, `a non-trivial pair: ${base}`);
  const q = orthogonal(8);
  // float32 storage of the transformed copy limits the agreement to ~1e-7
  assertClose([linearCka(matmul(x, q), y)], [base], { atol: 1e-6 }, 'rotated x');
  assertClose([linearCka(x, matmul(x, q))], [1], { atol: 1e-6 }, 'x vs rotated x');
  assertClose([linearCka(map(x, (v) => 3.7 * v), y)], [base], { atol: 1e-6 }, 'scaled x');
  assertClose([linearCka(x, map(y, (v, j) => 0.01 * v + j))], [base], { atol: 1e-6 }, 'scaled and shifted y');
});

test('not invariant to a non-isotropic scaling of the columns', () => {
  const x = random(300, 8);
  const stretched = map(x, (v, j) => (j === 0 ? 10 * v : v));
  const s = linearCka(x, stretched);
  console.log(`  CKA(x, x with one column ×10) = ${s.toFixed(4)}`);
  assert.ok(s < 0.6, `changes clearly: ${s}`);
  // and against a third representation (one that reads the other columns) the value moves too
  const y = matmul(x, orthogonal(8).map((r) => r.slice(0, 3)));
  const before = linearCka(x, y), after = linearCka(stretched, y);
  console.log(`  CKA(x, y) = ${before.toFixed(4)} → CKA(x stretched, y) = ${after.toFixed(4)}`);
  assert.ok(Math.abs(before - after) > 0.1, `${before} vs ${after}`);
});

test('independent random representations with n ≫ p: ≈ 0', () => {
  const n = 4000, p = 6, q = 5;
  const c = linearCka(random(n, p), random(n, q));
  // E ≈ √(pq)/n for independent isotropic columns
  console.log(`  independent: CKA = ${c.toExponential(2)} (√(pq)/n = ${(Math.sqrt(p * q) / n).toExponential(2)})`);
  assert.ok(c >= 0 && c < 10 * Math.sqrt(p * q) / n, `${c}`);
});

test('zero variance everywhere: NaN (a constant, or all-dead, layer); a constant column alone is fine', () => {
  const x = random(50, 4);
  const flat = { shape: [50, 3], data: new Float32Array(150).fill(0.3) };
  assert.ok(Number.isNaN(linearCka(x, flat)));
  assert.ok(Number.isNaN(linearCka(flat, flat)));
  assert.ok(Number.isNaN(linearCka(random(1, 4), random(1, 2))), 'one sample');
  const partly = map(x, (v, j) => (j === 3 ? 5 : v));
  const three = { shape: [50, 3], data: x.data.filter((_, i) => i % 4 !== 3) };
  assertClose([linearCka(partly, three)], [1], { atol: 1e-12 });
  assert.throws(() => linearCka(random(10, 2), random(11, 2)), /same samples/);
});

test('ckaMatrix: symmetric, 1 on the diagonal, the pairwise values; NaN row and column for a flat one', () => {
  const x = random(120, 6);
  const reps = [x, map(x, (v) => Math.max(v, 0)), random(120, 3), { shape: [120, 2], data: new Float32Array(240) }];
  const m = ckaMatrix(reps);
  assert.is(m.length, 4);
  for (let a = 0; a < 4; a++) {
    for (let b = 0; b < 4; b++) {
      if (a === 3 || b === 3) { assert.ok(Number.isNaN(m[a][b]), `[${a}][${b}] NaN`); continue; }
      assert.is(m[a][b], m[b][a]);
      if (a === b) assert.is(m[a][a], 1);
      else assertClose([m[a][b]], [linearCka(reps[a], reps[b])], { atol: 1e-14 });
    }
  }
  assert.equal(ckaMatrix([]), []);
});

test.run();
