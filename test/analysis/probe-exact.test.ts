// analysis/probe.ts's fit with its loops in WebAssembly SIMD (analysis/probe-wasm.ts) and in JavaScript
// gives the probe weights bit for bit as the loops as they were (test/helpers/probe-reference.ts), and
// probeAccuracy the same accuracies: 1 class, a class absent from the training rows, odd class counts,
// n = 1, 3, 63, 64, 65, d = 1, 17, 32, constant and dead columns, NaN and ±Infinity.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { HostTensor } from '../../analysis/forward-cache.ts';
import { probeAccuracy, probeFit } from '../../analysis/probe.ts';
import { probeKernels } from '../../analysis/probe-wasm.ts';
import { mathKernels, mathKernelsReady, switchMathKernelsOff } from '../../engine/wasm/math-kernels.ts';
import { fit as refFit, probeAccuracy as refProbeAccuracy } from '../helpers/probe-reference.ts';

const hex = (a: Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');

let seed = 2024;
const rnd = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };

/** a design z [n, d1] (last column 1) of kind 0 plain, 1 with a constant-0 column and a repeated row, 2 with NaN, 3 with ±Infinity */
function design(n: number, d1: number, kind: number): Float64Array {
  const z = new Float64Array(n * d1);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d1 - 1; j++) z[i * d1 + j] = (rnd() - 0.4) * 3;
    z[i * d1 + d1 - 1] = 1;
  }
  if (kind === 1) { for (let i = 0; i < n; i++) z[i * d1] = 0; if (n > 2) z.copyWithin(d1, 0, d1); }
  if (kind === 2 && n * d1 > 3) z[3] = NaN;
  if (kind === 3 && n * d1 > 5) { z[2] = Infinity; z[5] = -Infinity; }
  return z;
}

test('the probe\'s weights: WebAssembly and JavaScript loops = the loops as they were, bit for bit', () => {
  const kernels = probeKernels();
  assert.ok(kernels, 'WebAssembly SIMD kernels compile here');
  let cases = 0;
  for (const n of [1, 3, 4, 63, 64, 65, 200]) {
    for (const d1 of [1, 2, 17, 33]) {
      for (const C of [1, 2, 3, 10]) {
        for (const kind of n === 200 ? [0] : [0, 1, 2, 3]) {
          const z = design(n, d1, kind);
          // labels 0..C−1; with C > 2 the last class never appears
          const y = Int32Array.from({ length: n }, (_, i) => (C > 2 ? i % (C - 1) : i % C));
          const iterations = n === 200 ? 40 : 12, l2 = kind === 1 ? 0 : 1e-3, step = 0.37 + 0.1 * kind;
          const ref = refFit(z, y, n, d1, C, iterations, l2, step);
          const js = probeFit(z, y, n, d1, C, iterations, l2, step, null);
          const wasm = probeFit(z, y, n, d1, C, iterations, l2, step, kernels);
          const tag = `n ${n} d1 ${d1} C ${C} kind ${kind}`;
          assert.is(hex(js), hex(ref), `js ${tag}`);
          if (kind !== 2 && kind !== 3) assert.is(hex(wasm), hex(ref), `wasm ${tag}`);
          else assert.equal(Array.from(wasm, (v) => (Number.isNaN(v) ? 'NaN' : v)), Array.from(ref, (v) => (Number.isNaN(v) ? 'NaN' : v)), `wasm ${tag} (NaN payloads aside)`);
          cases++;
        }
      }
    }
  }
  assert.ok(cases > 300);
});

test('the residuals in engine/wasm/math-kernels.ts softmax_residual = softmaxResidual\'s loop, bit for bit; a value not finite: nothing written', async () => {
  if (!(await mathKernelsReady())) {
    console.log('  (skipped: the math kernels cannot load here)');
    return;
  }
  const math = mathKernels()!;
  // softmaxResidual as probe.ts writes it (rows of Cp, the first C logits, label −1: none)
  const loop = (res: Float64Array, rows: number, C: number, Cp: number, yp: Int32Array, invN: number) => {
    for (let i = 0; i < rows; i++) {
      const ro = i * Cp;
      let max = -Infinity, sum = 0;
      for (let c = 0; c < C; c++) if (res[ro + c] > max) max = res[ro + c];
      for (let c = 0; c < C; c++) { const e = Math.exp(res[ro + c] - max); res[ro + c] = e; sum += e; }
      const inv = invN / sum;
      for (let c = 0; c < C; c++) res[ro + c] = res[ro + c] * inv - (c === yp[i] ? invN : 0);
      if (Cp > C) res[ro + C] = 0;
    }
  };
  for (const [rows, C] of [[2, 1], [4, 2], [4, 3], [64, 10], [800, 10], [6, 7]] as const) {
    const Cp = C + (C % 2), n = rows * Cp;
    for (const spread of [1e-3, 3, 400]) {
      const res = Float64Array.from({ length: n }, (_, i) => (i % 11 === 5 ? -0 : (rnd() - 0.5) * spread));
      const yp = Int32Array.from({ length: rows }, (_, i) => (i % 5 === 4 ? -1 : i % C));
      const want = res.slice();
      loop(want, rows, C, Cp, yp, 1 / (rows - 1));
      const buf = math.buffer(8 * n + 4 * rows)!;
      new Float64Array(buf, 0, n).set(res);
      new Int32Array(buf, 8 * n, rows).set(yp);
      assert.is(math.k.softmax_residual(0, rows, C, Cp, 8 * n, 1 / (rows - 1)), 1);
      assert.is(hex(new Float64Array(buf, 0, n)), hex(want), `rows ${rows} C ${C} spread ${spread}`);
    }
  }
  for (const bad of [NaN, Infinity, -Infinity]) {
    const res = Float64Array.from({ length: 40 }, (_, i) => (i === 33 ? bad : i / 7));
    const buf = math.buffer(8 * 40 + 16)!;
    new Float64Array(buf, 0, 40).set(res);
    new Int32Array(buf, 320, 4).set([0, 1, 2, 3]);
    assert.is(math.k.softmax_residual(0, 4, 10, 10, 320, 0.25), 0, `${bad}: refused`);
    assert.is(hex(new Float64Array(buf, 0, 40)), hex(res), `${bad}: nothing written`);
  }
  // an odd row count is refused too (the kernel takes rows in pairs)
  assert.is(math.k.softmax_residual(0, 3, 2, 2, 64, 1), 0);
});

test('the probe\'s weights with the residuals in the math kernels, and with them off: the loops as they were, bit for bit', async () => {
  if (!(await mathKernelsReady())) {
    console.log('  (skipped: the math kernels cannot load here)');
    return;
  }
  const kernels = probeKernels()!;
  for (const off of [false, true]) {
    switchMathKernelsOff(off);
    try {
      assert.is(mathKernels() === null, off);
      for (const n of [1, 3, 64, 65, 200]) {
        for (const [d1, C] of [[2, 1], [17, 3], [33, 10]] as const) {
          for (const kind of [0, 1, 2, 3]) {
            const z = design(n, d1, kind);
            const y = Int32Array.from({ length: n }, (_, i) => (C > 2 ? i % (C - 1) : i % C));
            const ref = refFit(z, y, n, d1, C, 20, kind === 1 ? 0 : 1e-3, 0.37 + 0.1 * kind);
            const wasm = probeFit(z, y, n, d1, C, 20, kind === 1 ? 0 : 1e-3, 0.37 + 0.1 * kind, kernels);
            const tag = `n ${n} d1 ${d1} C ${C} kind ${kind}, math kernels ${off ? 'off' : 'on'}`;
            if (kind !== 2 && kind !== 3) assert.is(hex(wasm), hex(ref), tag);
            else assert.equal(Array.from(wasm, (v) => (Number.isNaN(v) ? 'NaN' : v)), Array.from(ref, (v) => (Number.isNaN(v) ? 'NaN' : v)), `${tag} (NaN payloads aside)`);
          }
        }
      }
    } finally {
      switchMathKernelsOff(false);
    }
  }
});

/** ReLU-like activations [n, d] with class-dependent means; `dead` columns all 0, a constant column */
function acts(n: number, d: number, classes: number, labels: number[]): HostTensor {
  const data = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) data[i * d + j] = Math.max(0, rnd() * 2 - 1 + (j % classes === labels[i] ? 1.5 : 0));
    if (d > 3) { data[i * d + 1] = 0; data[i * d + 2] = 0.5; }
  }
  return { shape: [n, d], data };
}

test('probeAccuracy = the probe as it was (1 class, absent class, n 1/63/65/800, d 1/17/32)', () => {
  for (const [n, d, classes] of [[1, 1, 1], [5, 17, 1], [63, 17, 10], [65, 1, 3], [64, 32, 10], [200, 17, 7], [800, 32, 10]]) {
    const labels = Array.from({ length: n }, (_, i) => (classes > 2 ? i % (classes - 1) : i % classes)); // the last class absent (classes > 2)
    const x = acts(n, d, classes, labels);
    const train = Array.from({ length: n }, (_, i) => i).filter((i) => i % 5 !== 1 || n < 3);
    const held = Array.from({ length: n }, (_, i) => i).filter((i) => i % 5 === 1 && n >= 3);
    const opts = { train, test: held, iterations: n > 100 ? 80 : 30 };
    assert.equal(probeAccuracy(x, labels, classes, opts), refProbeAccuracy(x, labels, classes, opts), `n ${n} d ${d} classes ${classes}`);
  }
});

test.run();
