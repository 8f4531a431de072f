// The fused step's softmax cross-entropy in WebAssembly (engine/wasm/mlp-kernels.ts xent, on V8's exp and
// log ported: engine/wasm/fdlibm.ts) and in JavaScript (mlp/fused-cpu.ts fusedCrossEntropy, the fallback)
// against the loop it was (test/helpers/cross-entropy-reference.ts), bit for bit: per-sample loss, Σ loss,
// correct count, d loss and d logits, on awkward batch sizes (1, 63, 65, 1000, a partial batch in a bigger
// memory), odd and even class counts (1, 2, 3, 10, 11), ties for the maximum, ±0, huge logits (exp
// underflows; x − m below −708 takes the scalar exp), ±3e38 and ±1e-45, and NaN and ±Infinity (which keep
// the JS loop: the kernel must not run); with and without gradients.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mathKernelsReady, mathKernelsUnavailable } from '../../engine/wasm/math-kernels.ts';
import { envVar, instantiateKernels } from '../../engine/wasm/load.ts';
import { crossEntropyKernel, fusedCrossEntropy, type LossBuffers, type XentBuffers, type XentKernel } from '../../mlp/fused-cpu.ts';
import * as ref from '../helpers/cross-entropy-reference.ts';

const exact = await mathKernelsReady();

// (elsewhere, a Math.log that is not fdlibm's leaves the kernel unused: fusedCrossEntropy's numbers all the same)
test('the ported exp/log pass their self-check under Node (unless MLP_LENS_WASM=0)', () => {
  if (!('Deno' in globalThis) && envVar('MLP_LENS_WASM') !== '0') assert.ok(exact, mathKernelsUnavailable());
});

type Kind = 'plain' | 'ties' | 'huge' | 'edges' | 'specials';

/** logits f32 [n, c] of one kind; labels u8 [n] below c */
function batch(n: number, c: number, kind: Kind, seed: number): { z: Float32Array; labels: Uint8Array } {
  let s = seed >>> 0;
  const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const pick = [NaN, Infinity, -Infinity, 0, -0, 3e38, -3e38, 1e-45];
  const z = Float32Array.from({ length: n * c }, () => {
    const u = rnd();
    switch (kind) {
      case 'plain': return 20 * u - 10;
      case 'ties': return Math.floor(u * 3) - 1 + (rnd() < 0.2 ? -0 : 0);
      case 'huge': return rnd() < 0.5 ? 2000 * u - 1000 : 1e30 * (u - 0.5);
      case 'edges': return rnd() < 0.3 ? pick[3 + Math.floor(rnd() * 5)] : 8 * u - 4;
      case 'specials': return rnd() < 0.15 ? pick[Math.floor(rnd() * pick.length)] : 8 * u - 4;
    }
  });
  const labels = Uint8Array.from({ length: n }, () => Math.floor(rnd() * c));
  return { z, labels };
}

/** memory of `cap` rows: logits, d logits, loss, d loss, labels, scratch, out (byte offsets, 16-aligned) */
function layout(cap: number, c: number) {
  const al = (b: number) => Math.ceil(b / 16) * 16;
  const logits = 16, dLogits = logits + al(4 * cap * c), loss = dLogits + al(4 * cap * c), dLoss = loss + al(4 * cap);
  const labels = dLoss + al(4 * cap), e = labels + al(cap), out = e + al(8 * c);
  return { logits, dLogits, loss, dLoss, labels, e, out, bytes: out + 16 };
}

const bits = (F: Float32Array, at: number, count: number) => new Uint32Array(F.buffer, at, count).slice();
// A NaN's sign and payload are not the same from run to run: V8 may or may not canonicalise one depending on
// which tier ran the loop (Deno's V8 on CI's machine gave 0xffc00000 where the oracle gave 0xffffffff), so a
// NaN matches any NaN; every other value, ±0 included, must match bit for bit.
const isNaNBits = (x: number) => (x & 0x7fffffff) > 0x7f800000;
const sameBits = (x: number, y: number) => x === y || (isNaNBits(x) && isNaNBits(y));

test('xent and fusedCrossEntropy: the reference loop\'s numbers bit for bit', async () => {
  const sizes: [number, number][] = [[1, 10], [63, 10], [65, 10], [1000, 10], [37, 10], [5, 1], [9, 2], [17, 3], [65, 11]];
  const kinds: Kind[] = ['plain', 'ties', 'huge', 'edges', 'specials'];
  let cases = 0, ran = 0;
  for (const [n, c] of sizes) {
    const cap = n === 37 ? 64 : n, L = layout(cap, c);
    const wasm = exact ? await instantiateKernels(L.bytes, 'wasm-simd') : null;
    const js = new ArrayBuffer(L.bytes), oracle = new ArrayBuffer(L.bytes);
    for (const kind of kinds) for (const grads of [true, false]) {
      const { z, labels } = batch(n, c, kind, n * 31 + c * 7 + kinds.indexOf(kind));
      const what = `n ${n} (cap ${cap}) c ${c} ${kind} grads ${grads}`;
      const at: LossBuffers = { logits: L.logits, dLogits: L.dLogits, loss: L.loss, dLoss: L.dLoss };
      const fill = (buf: ArrayBuffer) => {
        const F = new Float32Array(buf);
        F.fill(0.25);
        F.set(z, L.logits >> 2);
        new Uint8Array(buf, L.labels, cap).set(labels);
        return F;
      };
      const Fo = fill(oracle), want = ref.fusedCrossEntropy(Fo, at, n, c, labels, new Float64Array(c), grads);
      const runs: [string, ArrayBuffer, () => { sum: number; correct: number }][] = [
        ['js', js, () => fusedCrossEntropy(fill(js), at, n, c, labels, new Float64Array(c), grads)],
      ];
      if (wasm) {
        runs.push(['wasm', wasm.buffer, () => {
          const F = fill(wasm.buffer), k = wasm.k as unknown as XentKernel;
          // the kernel runs for finite logits, the JS loop otherwise
          const spy: XentKernel = { probe: (x, count) => k.probe(x, count), xent: (...a) => { ran++; return k.xent(...a); } };
          const xat: XentBuffers = { ...at, labels: L.labels, e: L.e, out: L.out };
          const got = crossEntropyKernel(spy, F, xat, n, c, new Uint8Array(wasm.buffer, L.labels, cap), new Float64Array(c), grads);
          assert.is(ran, z.every(Number.isFinite) ? 1 : 0, `${what}: kernel calls`);
          ran = 0;
          return got;
        }]);
      }
      for (const [mode, buf, run] of runs) {
        const got = run(), F = new Float32Array(buf);
        assert.ok(Object.is(got.sum, want.sum) || (Number.isNaN(got.sum) && Number.isNaN(want.sum)), `${mode} ${what}: Σ loss ${got.sum} vs ${want.sum}`);
        assert.is(got.correct, want.correct, `${mode} ${what}: correct`);
        // every byte of the memory: loss, d loss, d logits, and nothing written elsewhere (scratch aside)
        const spans: [string, number, number][] = [['loss', L.loss, cap], ['d loss', L.dLoss, cap], ['d logits', L.dLogits, cap * c], ['logits', L.logits, cap * c]];
        for (const [name, off, count] of spans) {
          const a = bits(F, off, count), b = bits(Fo, off, count), q = a.findIndex((x, i) => !sameBits(x, b[i]));
          const row = name === 'loss' || name === 'd loss' ? q : Math.floor(q / c);
          assert.ok(q < 0, `${mode} ${what}: ${name} [${q}]: 0x${a[q]?.toString(16)}, not 0x${b[q]?.toString(16)} (row ${row}: logits ${z.subarray(row * c, row * c + c).join(', ')}, label ${labels[row]})`);
        }
      }
      cases++;
    }
  }
  assert.ok(cases >= 90);
});

test('a label out of range: the JS error, from both paths', async () => {
  const L = layout(4, 3), z = new Float32Array(12), labels = Uint8Array.from([0, 1, 3, 2]);
  const F = new Float32Array(L.bytes / 4);
  F.set(z, L.logits >> 2);
  const at: LossBuffers = { logits: L.logits, dLogits: L.dLogits, loss: L.loss, dLoss: L.dLoss };
  assert.throws(() => fusedCrossEntropy(F, at, 4, 3, labels, new Float64Array(3), true), /label 3 of row 2/);
  assert.throws(() => ref.fusedCrossEntropy(F, at, 4, 3, labels, new Float64Array(3), true), /label 3 of row 2/);
});


test.run();
