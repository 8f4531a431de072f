// the blocked kernels of analysis/cka.ts (4 × 4 feature blocks, feature-major columns, centring shared
// across matrices) and analysis/probe.ts topEigenvalue (4 rows at a time) give the same numbers, bit for
// bit, as the plain loops they replaced (kept here as the reference) on awkward inputs: widths that are
// not multiples of 4, 0–3 rows, dead and constant columns, −0, ±Infinity and NaN.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { centreRep, ckaMatrix, ckaMatrixCentred, linearCka } from '../../analysis/cka.ts';
import type { HostTensor } from '../../analysis/forward-cache.ts';
import { probeAccuracy, topEigenvalue } from '../../analysis/probe.ts';

// --- the reference: analysis/cka.ts as it was (row-major centred copies, outer products row by row)
interface Centred { n: number; d: number; data: Float64Array; selfNorm: number }
function refCentre(t: HostTensor): Centred {
  const n = t.shape[0], d = n ? t.data.length / n : 0;
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += t.data[i * d + j];
  for (let j = 0; j < d; j++) mean[j] /= n;
  const data = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) data[i * d + j] = t.data[i * d + j] - mean[j];
  return { n, d, data, selfNorm: Math.sqrt(refFrob(refCross(data, data, n, d, d, true))) };
}
function refCross(a: Float64Array, b: Float64Array, n: number, da: number, db: number, symmetric = false): Float64Array {
  const g = new Float64Array(da * db);
  for (let i = 0; i < n; i++) {
    const ao = i * da, bo = i * db;
    for (let r = 0; r < da; r++) {
      const v = a[ao + r];
      if (v === 0) continue;
      const go = r * db;
      for (let c = symmetric ? r : 0; c < db; c++) g[go + c] += v * b[bo + c];
    }
  }
  if (symmetric) for (let r = 0; r < da; r++) for (let c = 0; c < r; c++) g[r * db + c] = g[c * db + r];
  return g;
}
const refFrob = (g: Float64Array) => { let s = 0; for (let i = 0; i < g.length; i++) s += g[i] * g[i]; return s; };
function refCka(x: Centred, y: Centred): number {
  const num = refFrob(refCross(x.data, y.data, x.n, x.d, y.d));
  const den = x.selfNorm * y.selfNorm;
  return den > 0 ? num / den : NaN;
}
function refMatrix(reps: HostTensor[]): number[][] {
  const cs = reps.map(refCentre), m = cs.length;
  const out = Array.from({ length: m }, () => new Array<number>(m).fill(NaN));
  for (let a = 0; a < m; a++) {
    out[a][a] = cs[a].selfNorm > 0 ? 1 : NaN;
    for (let b = 0; b < a; b++) out[a][b] = out[b][a] = refCka(cs[b], cs[a]);
  }
  return out;
}

// --- the reference: probe.ts topEigenvalue as it was (one row at a time)
function refTopEigenvalue(z: Float64Array, n: number, d: number): number {
  let v = Float64Array.from({ length: d }, (_, j) => 1 + ((j * 0.6180339887498949) % 1));
  const zv = new Float64Array(n);
  let next = new Float64Array(d);
  let lambda = 0;
  for (let it = 0; it < 50; it++) {
    let norm = 0;
    for (let j = 0; j < d; j++) norm += v[j] * v[j];
    norm = Math.sqrt(norm);
    if (norm === 0) return 0;
    for (let j = 0; j < d; j++) v[j] /= norm;
    for (let i = 0; i < n; i++) { let s = 0; for (let j = 0; j < d; j++) s += z[i * d + j] * v[j]; zv[i] = s; }
    next.fill(0);
    for (let i = 0; i < n; i++) { const s = zv[i] / n; for (let j = 0; j < d; j++) next[j] += z[i * d + j] * s; }
    lambda = 0;
    for (let j = 0; j < d; j++) lambda += v[j] * next[j];
    [v, next] = [next, v];
  }
  return 1.1 * lambda;
}

let seed = 12345;
const rnd = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
/** ReLU-like rows: ~40 % zeros; kind 1 a dead column, 2 an Infinity, 3 a NaN, 4 a −0 column, 5 a constant column, 6 large and tiny scales */
function rep(n: number, d: number, kind: number): HostTensor {
  const data = new Float32Array(n * d);
  for (let i = 0; i < n * d; i++) {
    const u = rnd(), col = i % d;
    data[i] = u < 0.4 ? 0 : (u - 0.4) * 3;
    if (kind === 1 && col === d - 1) data[i] = 0;
    if (kind === 4 && col === 0) data[i] = -0;
    if (kind === 5 && col === Math.min(2, d - 1)) data[i] = 0.7;
    if (kind === 6) data[i] *= col % 2 ? 1e7 : 1e-7;
  }
  if (kind === 2 && n * d) data[Math.min(5, n * d - 1)] = Infinity;
  if (kind === 3 && n * d) data[Math.min(2, n * d - 1)] = NaN;
  return { shape: [n, d], data } as HostTensor;
}
const bits = (m: number[][]) => m.map((r) => r.map((v) => (Object.is(v, -0) ? '-0' : String(v))).join(' ')).join('\n');

test('ckaMatrix, ckaMatrixCentred and linearCka equal the plain loops bit for bit', () => {
  let compared = 0;
  for (const n of [0, 1, 2, 3, 5, 8, 61, 800]) {
    for (const kind of [0, 1, 2, 3, 4, 5, 6]) {
      const reps = [1, 2, 3, 4, 5, 7, 8, 13, 16, 32].map((d) => rep(n, d, kind));
      const want = bits(refMatrix(reps));
      assert.is(bits(ckaMatrix(reps)), want, `n ${n} kind ${kind}`);
      assert.is(bits(ckaMatrixCentred(reps.map((r) => centreRep(r)))), want, `centred, n ${n} kind ${kind}`);
      for (let a = 0; a < reps.length; a += 3) {
        for (let b = 0; b < reps.length; b += 2) {
          assert.ok(Object.is(linearCka(reps[a], reps[b]), refCka(refCentre(reps[a]), refCentre(reps[b]))), `linearCka n ${n} kind ${kind} ${a} ${b}`);
          compared++;
        }
      }
    }
  }
  assert.ok(compared > 500);
});

test('topEigenvalue equals the one-row-at-a-time loop bit for bit; probeAccuracy unchanged on awkward shapes', () => {
  for (const n of [0, 1, 2, 3, 4, 5, 7, 9, 640, 643]) {
    for (const d of [1, 2, 3, 16, 17, 33]) {
      const z = Float64Array.from({ length: n * d }, (_, i) => (i % 3 === 0 ? 0 : Math.sin(i * 1.7) * 3) + (i % d === d - 1 ? 1 : 0));
      const a = topEigenvalue(z, n, d), b = refTopEigenvalue(z, n, d);
      assert.ok(Object.is(a, b), `n ${n} d ${d}: ${a} vs ${b}`);
    }
  }
  // a probe through the blocked power iteration still learns a separable problem
  const n = 90, d = 6, x = rep(n, d, 0), labels = Array.from({ length: n }, (_, i) => i % 3);
  for (let i = 0; i < n; i++) x.data[i * d + labels[i]] += 5;
  const rows = Array.from({ length: n }, (_, i) => i);
  const r = probeAccuracy(x, labels, 3, { train: rows.filter((i) => i % 5), test: rows.filter((i) => !(i % 5)), iterations: 60 });
  assert.ok(r.trainAccuracy > 90 && r.heldOutAccuracy > 90, JSON.stringify(r));
});

test.run();
