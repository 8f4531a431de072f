// The fused cpu step's sparse input and its kernels' column blocks (mlp/fused-cpu.ts, engine/wasm/mlp-kernels.ts):
// sparseRows (built once per split, branch-free over 4-pixel words) against a pixel-by-pixel build, on
// aligned and unaligned images, blank images and a partial last batch; the sparse kernels and the dense
// ones at widths that take every column block (8/4/2/1 vectors and the scalar tail), WebAssembly SIMD
// against the JavaScript twins bit for bit; the recorder's row bookkeeping by block copy against the loop.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { instantiateKernels, type KernelInstance } from '../../engine/wasm/load.ts';
import { cachedSparseRows, FusedCpuTrainer, sparseRows } from '../../mlp/fused-cpu.ts';
import { createRng } from '../../engine/rng.ts';
import { Mlp } from '../../mlp/model.ts';
import type { Split } from '../../mlp/mnist.ts';
import { Recorder } from '../../mlp/recorder.ts';

const test = suite('fused cpu: sparse rows, column blocks, recorder rows');

const equalBits = (a: Float32Array, b: Float32Array) =>
  a.length === b.length && new Uint32Array(a.buffer, a.byteOffset, a.length).every((x, i) => x === new Uint32Array(b.buffer, b.byteOffset, b.length)[i]);

/** a pseudo-random split of `count` images `rows`×`cols`, ≈ `density` nonzero bytes; image `blank` all zero */
function split(count: number, rows: number, cols: number, density: number, seed: number, blank: number[] = [], byteOffset = 0): Split {
  let s = seed >>> 0;
  const d = rows * cols, backing = new Uint8Array(byteOffset + count * d), images = backing.subarray(byteOffset);
  for (let q = 0; q < images.length; q++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    images[q] = s / 2 ** 32 < density ? 1 + ((s >>> 8) % 255) : 0;
  }
  for (const r of blank) images.fill(0, r * d, (r + 1) * d);
  // a run of full words and a lone last pixel in image 0
  if (!blank.includes(0)) { images.fill(255, 0, Math.min(d, 12)); images[d - 1] = 7; }
  const labels = Uint8Array.from({ length: count }, (_, i) => i % 10);
  return { images, labels, count, rows, cols };
}

/** the CSR rows pixel by pixel */
function naive(sp: Split) {
  const d = sp.rows * sp.cols, rowptr = new Int32Array(sp.count + 1), idx: number[] = [], val: number[] = [];
  for (let r = 0; r < sp.count; r++) {
    for (let c = 0; c < d; c++) {
      const b = sp.images[r * d + c];
      if (b) { idx.push(c); val.push(b); }
    }
    rowptr[r + 1] = idx.length;
  }
  return { rowptr, idx: Uint16Array.from(idx), val: Uint8Array.from(val) };
}

test('sparseRows equals the pixel-by-pixel build: 4-byte words, unaligned images, odd widths, blank images, dense images (the buffers grow)', () => {
  const cases: [string, Split][] = [
    ['28×28, words', split(203, 28, 28, 0.19, 1, [5, 202])],
    ['28×28, unaligned', split(70, 28, 28, 0.19, 2, [0], 1)],
    ['5×3, odd width', split(41, 5, 3, 0.5, 3, [40])],
    ['4×4, dense', split(64, 4, 4, 0.97, 4)],
    ['all blank', split(9, 28, 28, 0, 5)],
  ];
  for (const [label, sp] of cases) {
    const got = sparseRows(sp), want = naive(sp);
    assert.equal(Array.from(got.rowptr), Array.from(want.rowptr), `${label}: rowptr`);
    assert.equal(Array.from(got.idx), Array.from(want.idx), `${label}: idx`);
    assert.equal(Array.from(got.val), Array.from(want.val), `${label}: val`);
    assert.is(sparseRows(sp), got, `${label}: built once per split`);
  }
});

test('a fused trainer builds a fresh split\'s sparse rows in its own memory; a second one, and a split denser than a quarter, copy them: the same rows and the same training', async () => {
  /** the parameters after 6 steps of batch 8 (batches in a seeded order) on `sp` */
  const trained = async (sp: Split, kind: 'wasm-simd' | 'js') => {
    const model = Mlp.init([sp.rows * sp.cols, 5, 10], createRng('torch', 9));
    const fused = await FusedCpuTrainer.create(model, sp, { batch: 8, lr: 0.1, kind });
    const order = createRng('torch', 3).epochPermutation(sp.count);
    for (let s = 0; s < 6; s++) { fused.step(order, (8 * s) % (sp.count - 8), 8); fused.update(); }
    fused.detach();
    return model.params().map((p) => Float32Array.from(p.tensor.data()));
  };
  for (const kind of ['wasm-simd', 'js'] as const) {
    for (const [label, density, inPlace] of [['28×28 at 19 %', 0.19, true], ['4×4 at 97 %', 0.97, false]] as const) {
      const fresh = label.startsWith('28') ? split(90, 28, 28, density, 7, [3]) : split(90, 4, 4, density, 7);
      const copied: Split = { ...fresh };
      sparseRows(copied);
      assert.is(cachedSparseRows(fresh), null, `${kind}, ${label}: nothing built before the trainer`);
      const a = await trained(fresh, kind), b = await trained(copied, kind);
      const rows = cachedSparseRows(fresh)!, want = naive(fresh);
      assert.equal(Array.from(rows.rowptr), Array.from(want.rowptr), `${kind}, ${label}: rowptr`);
      assert.equal(Array.from(rows.idx), Array.from(want.idx), `${kind}, ${label}: idx`);
      assert.equal(Array.from(rows.val), Array.from(want.val), `${kind}, ${label}: val`);
      // built in place: the three arrays are views of the trainer's one memory
      assert.is(rows.idx.buffer === rows.rowptr.buffer && rows.val.buffer === rows.rowptr.buffer, inPlace, `${kind}, ${label}: in the trainer's memory`);
      a.forEach((p, k) => assert.ok(equalBits(p, b[k]), `${kind}, ${label}: parameter ${k} as with the rows copied in`));
      // a second trainer on the same split copies the kept rows (and trains the same)
      const c = await trained(fresh, kind);
      a.forEach((p, k) => assert.ok(equalBits(p, c[k]), `${kind}, ${label}: second trainer, parameter ${k}`));
      assert.is(cachedSparseRows(fresh), rows, `${kind}, ${label}: kept`);
    }
  }
});

/** memory with a split's sparse rows, a lut, and dense operands for the sparse kernels */
function sparseSetup(inst: KernelInstance, sp: Split, m: number) {
  const rows = sparseRows(sp), d = sp.rows * sp.cols;
  let at = 16;
  const take = (bytes: number) => { const p = at; at += Math.ceil(bytes / 16) * 16; return p; };
  const F = new Float32Array(inst.buffer), I = new Int32Array(inst.buffer);
  const p = {
    rows: take(4 * sp.count), rowptr: take(4 * rows.rowptr.length), idx: take(2 * rows.idx.length), val: take(rows.val.length), lut: take(1024),
    B: take(4 * d * m), bias: take(4 * m), C: take(4 * sp.count * m), D: take(4 * sp.count * m), G: take(4 * d * m),
  };
  I.set(rows.rowptr, p.rowptr >> 2);
  new Uint16Array(inst.buffer).set(rows.idx, p.idx >> 1);
  new Uint8Array(inst.buffer).set(rows.val, p.val);
  let s = 12345 + m;
  const r = () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return Math.fround(s / 2 ** 32 - 0.5); };
  for (let b = 0; b < 256; b++) F[(p.lut >> 2) + b] = Math.fround((b / 255 - 0.1307) / 0.3081);
  for (let q = 0; q < d * m; q++) F[(p.B >> 2) + q] = r();
  for (let q = 0; q < m; q++) F[(p.bias >> 2) + q] = r();
  for (let q = 0; q < sp.count * m; q++) F[(p.D >> 2) + q] = r();
  return p;
}

test('mm_sparse and mm_tn_sparse: WebAssembly SIMD = JavaScript bit for bit at widths 1..40 (every column block), full and partial batches, blank rows', async () => {
  const sp = split(50, 28, 28, 0.19, 7, [3, 49]);
  for (const m of [1, 2, 3, 4, 7, 8, 10, 12, 15, 16, 17, 24, 31, 32, 33, 40]) {
    const outs: Float32Array[][] = [];
    for (const kind of ['js', 'wasm-simd'] as const) {
      const inst = await instantiateKernels(1 << 23, kind);
      const p = sparseSetup(inst, sp, m), I = new Int32Array(inst.buffer), F = new Float32Array(inst.buffer);
      const got: Float32Array[] = [];
      // a batch of 32 rows in shuffled order (blank row 3 among them), then the partial last batch of 18 (blank row 49 last)
      for (const batch of [Array.from({ length: 32 }, (_, i) => (i * 13) % 32), Array.from({ length: 18 }, (_, i) => 32 + i)]) {
        I.set(batch, p.rows >> 2);
        inst.k.mm_sparse(batch.length, p.rows, p.rowptr, p.idx, p.val, p.lut, p.B, p.bias, p.C, m);
        inst.k.mm_tn_sparse(batch.length, p.rows, p.rowptr, p.idx, p.val, p.lut, 784, p.D, m, p.G);
        got.push(F.slice(p.C >> 2, (p.C >> 2) + batch.length * m), F.slice(p.G >> 2, (p.G >> 2) + 784 * m));
      }
      outs.push(got);
      if (inst.kind !== kind) return; // no SIMD here: nothing to compare
    }
    outs[0].forEach((a, q) => assert.ok(equalBits(a, outs[1][q]), `m = ${m}: output ${q} differs`));
  }
});

test('mm and mm_tn: WebAssembly SIMD = JavaScript bit for bit at widths that take the 2-vector block (8, 10, 24, 26)', async () => {
  for (const m of [8, 10, 24, 26]) {
    const outs: Float32Array[] = [];
    for (const kind of ['js', 'wasm-simd'] as const) {
      const inst = await instantiateKernels(1 << 20, kind);
      const n = 19, k = 16, F = new Float32Array(inst.buffer);
      let s = m;
      const r = (zeros: number) => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; const u = s / 2 ** 32; return u < zeros ? 0 : Math.fround(2 * u - 1); };
      const A = 16, B = A + 4 * n * k, bias = B + 4 * k * m, C = bias + 4 * m, D = C + 4 * n * m, G = D + 4 * n * m;
      for (let q = 0; q < n * k; q++) F[(A >> 2) + q] = r(0.4);
      for (let q = 0; q < k * m; q++) F[(B >> 2) + q] = r(0);
      for (let q = 0; q < m; q++) F[(bias >> 2) + q] = r(0);
      for (let q = 0; q < n * m; q++) F[(D >> 2) + q] = r(0);
      inst.k.mm(n, A, k, B, bias, C, m, 1);
      inst.k.mm_tn(n, A, k, D, m, G);
      outs.push(F.slice(C >> 2, (C >> 2) + n * m), F.slice(G >> 2, (G >> 2) + k * m));
      if (inst.kind !== kind) return;
    }
    assert.ok(equalBits(outs[0], outs[2]) && equalBits(outs[1], outs[3]), `m = ${m}`);
  }
});

test('mm with skip and mm_tn: a zero of A (+0 or −0) adds nothing, even against ±Inf or NaN; without skip 0·Inf is NaN (wasm = JS bit for bit)', async () => {
  for (const m of [3, 10, 16, 32]) {
    const outs: Float32Array[] = [];
    for (const kind of ['js', 'wasm-simd'] as const) {
      const inst = await instantiateKernels(1 << 20, kind);
      const n = 9, k = 12, F = new Float32Array(inst.buffer);
      const A = 16, B = A + 4 * n * k, bias = B + 4 * k * m, C = bias + 4 * m, D = C + 4 * n * m, G = D + 4 * n * m, C0 = G + 4 * k * m;
      // A: row i holds zeros (+0 and −0) at every column p with (i + p) % 3 ≠ 0
      for (let i = 0; i < n; i++) for (let p = 0; p < k; p++) F[(A >> 2) + i * k + p] = (i + p) % 3 ? ((i + p) % 2 ? -0 : 0) : (p - 5.5) / 4;
      // B's rows 1, 4, 7 (which meet a zero of A in most rows) hold Inf, −Inf and NaN; D's rows 2 and 5 too
      for (let p = 0; p < k; p++) for (let j = 0; j < m; j++) F[(B >> 2) + p * m + j] = p === 1 ? Infinity : p === 4 ? -Infinity : p === 7 ? NaN : (j - p) / 8;
      for (let j = 0; j < m; j++) F[(bias >> 2) + j] = j / 16;
      for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) F[(D >> 2) + i * m + j] = i === 2 ? Infinity : i === 5 ? NaN : (i - j) / 4;
      inst.k.mm(n, A, k, B, bias, C, m, 1);
      inst.k.mm_tn(n, A, k, D, m, G);
      inst.k.mm(n, A, k, B, bias, C0, m, 0);
      const c = F.slice(C >> 2, (C >> 2) + n * m), g = F.slice(G >> 2, (G >> 2) + k * m), c0 = F.slice(C0 >> 2, (C0 >> 2) + n * m);
      // the expected values from the definition: sums over the nonzero elements of A only, left to right
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < m; j++) {
          let s = 0;
          for (let p = 0; p < k; p++) if ((i + p) % 3 === 0) s = Math.fround(s + Math.fround(((p - 5.5) / 4) * F[(B >> 2) + p * m + j]));
          assert.ok(Object.is(c[i * m + j], Math.fround(s + j / 16)), `${kind} m = ${m}: mm skip [${i}, ${j}]`);
          assert.ok(Number.isNaN(c0[i * m + j]), `${kind} m = ${m}: mm without skip takes 0·Inf`);
        }
      }
      for (let p = 0; p < k; p++) {
        for (let j = 0; j < m; j++) {
          let s = 0;
          for (let i = 0; i < n; i++) if ((i + p) % 3 === 0) s = Math.fround(s + Math.fround(((p - 5.5) / 4) * F[(D >> 2) + i * m + j]));
          assert.ok(Object.is(g[p * m + j], s), `${kind} m = ${m}: mm_tn [${p}, ${j}]`);
        }
      }
      outs.push(c, g, c0);
      if (inst.kind !== kind) return;
    }
    // (a NaN matches any NaN: V8 does not keep a NaN's sign and payload from one compiled tier to another, test/mlp/fused-xent.test.ts)
    const sameOrNaN = (a: Float32Array, b: Float32Array) => a.every((x, i) => Object.is(x, b[i]) || (Number.isNaN(x) && Number.isNaN(b[i])));
    for (let q = 0; q < 3; q++) assert.ok(sameOrNaN(outs[q], outs[q + 3]), `m = ${m}: output ${q}: wasm ≠ JS`);
  }
});

test('recordRows: typed arrays copied as blocks = the element loop (plain arrays)', async () => {
  const make = () => {
    const r = new Recorder({ names: ['loss'], widths: { loss: 1 }, count: 10, grads: false });
    r.beginEpoch(0);
    return r;
  };
  const a = make(), b = make();
  const labels = Uint8Array.from([3, 1, 4, 1, 5, 9, 2]), order = Uint32Array.from([70, 60, 50, 40, 30, 20, 10, 5, 4, 3]);
  a.recordRows(0, labels.subarray(0, 4), order.subarray(0, 4));
  a.recordRows(4, labels.subarray(4, 7), order.subarray(4, 7));
  b.recordRows(0, Array.from(labels.subarray(0, 4)), Array.from(order.subarray(0, 4)));
  b.recordRows(4, Array.from(labels.subarray(4, 7)), Array.from(order.subarray(4, 7)));
  const ra = await a.endEpoch(), rb = await b.endEpoch();
  assert.equal(Array.from(ra.labels), [3, 1, 4, 1, 5, 9, 2]);
  assert.equal(Array.from(ra.indices), [70, 60, 50, 40, 30, 20, 10]);
  assert.equal(Array.from(ra.labels), Array.from(rb.labels));
  assert.equal(Array.from(ra.indices), Array.from(rb.indices));
  assert.is(ra.count, 7);
});

test.run();
