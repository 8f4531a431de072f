// A/B of the fused step's softmax cross-entropy over one epoch of the main job (938 batches of 64 rows, 10
// classes, the last one partial, with gradients): the JS loop (mlp/fused-cpu.ts fusedCrossEntropy, as
// test/helpers/cross-entropy-reference.ts keeps it) against the WebAssembly kernel (engine/wasm/mlp-kernels.ts
// xent through crossEntropyKernel), interleaved in one process; CPU ms (process.cpuUsage) per epoch, medians;
// every output checked equal to the bit (loss, d loss, d logits, Σ loss, correct). A benchmark, never a test.
//   node --import ./bench/node-ts.mjs bench/fused-xent-ab.ts [--repeats 9]
import process from 'node:process';
import { parseArgs } from 'node:util';
import { instantiateKernels } from '../engine/wasm/load.ts';
import { mathKernelsReady, mathKernelsUnavailable } from '../engine/wasm/math-kernels.ts';
import { crossEntropyKernel, type XentBuffers, type XentKernel } from '../mlp/fused-cpu.ts';
import * as ref from '../test/helpers/cross-entropy-reference.ts';

const { values: o } = parseArgs({ options: { repeats: { type: 'string', default: '9' } } });
if (!(await mathKernelsReady())) throw new Error(`math kernels: ${mathKernelsUnavailable()}`);

const N = 60000, B = 64, C = 10, steps = Math.ceil(N / B);
// logits as a training run's: a class's logit ahead by a margin that grows, the rest ≈ N(0, 2)
let s = 42;
const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
const gauss = () => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
const labels = Uint8Array.from({ length: N }, () => Math.floor(rnd() * C));
const logits = Float32Array.from({ length: N * C }, (_, q) => 2 * gauss() + ((q % C) === labels[Math.floor(q / C)] ? 4 * rnd() : 0));

const al = (b: number) => Math.ceil(b / 16) * 16;
const at: XentBuffers = { logits: 16, dLogits: 16 + al(4 * B * C), loss: 16 + 2 * al(4 * B * C), dLoss: 16 + 2 * al(4 * B * C) + al(4 * B), labels: 0, e: 0, out: 0 };
at.labels = at.dLoss + al(4 * B); at.e = at.labels + al(B); at.out = at.e + al(8 * C);
const bytes = at.out + 16;
const wasm = await instantiateKernels(bytes, 'wasm-simd');
if (wasm.kind !== 'wasm-simd') throw new Error('no WebAssembly SIMD kernels');
const k = wasm.k as unknown as XentKernel;
const Fw = new Float32Array(wasm.buffer), Lw = new Uint8Array(wasm.buffer, at.labels, B);
const js = new ArrayBuffer(bytes), Fj = new Float32Array(js), Lj = new Uint8Array(js, at.labels, B), e = new Float64Array(C);

/** one epoch through `run`, the batch copied in first (as gather does: the same for both); Σ of Σ loss, correct, and a digest of the outputs */
function epoch(F: Float32Array, L: Uint8Array, run: (n: number) => { sum: number; correct: number }, outs: Uint32Array[] | null): [number, number] {
  let total = 0, correct = 0;
  for (let t = 0; t < steps; t++) {
    const n = Math.min(B, N - t * B);
    F.set(logits.subarray(t * B * C, (t * B + n) * C), at.logits >> 2);
    L.set(labels.subarray(t * B, t * B + n));
    const r = run(n);
    total += r.sum; correct += r.correct;
    if (outs) outs.push(new Uint32Array(F.buffer, at.dLogits, (at.dLoss + 4 * n - at.dLogits) >> 2).slice());
  }
  return [total, correct];
}
const variants: [string, (outs: Uint32Array[] | null) => [number, number]][] = [
  ['old: fusedCrossEntropy (JS)', (outs) => epoch(Fj, Lj, (n) => ref.fusedCrossEntropy(Fj, at, n, C, Lj, e, true), outs)],
  ['new: xent kernel (WebAssembly)', (outs) => epoch(Fw, Lw, (n) => crossEntropyKernel(k, Fw, at, n, C, Lw, e, true), outs)],
];

// first round: every output compared
const outs = variants.map(() => [] as Uint32Array[]);
const sums = variants.map(([, f], v) => f(outs[v]));
if (sums[0][0] !== sums[1][0] || sums[0][1] !== sums[1][1]) throw new Error(`Σ loss / correct differ: ${sums[0]} vs ${sums[1]}`);
outs[0].forEach((a, t) => { if (!Buffer.from(a.buffer).equals(Buffer.from(outs[1][t].buffer))) throw new Error(`batch ${t}: outputs differ`); });

const times = variants.map(() => [] as number[]);
for (let r = 0; r < Number(o.repeats); r++) {
  variants.forEach(([, f], v) => {
    const c0 = process.cpuUsage();
    f(null);
    const c = process.cpuUsage(c0);
    times[v].push((c.user + c.system) / 1000);
  });
}
const median = (a: number[]) => [...a].sort((p, q) => p - q)[a.length >> 1];
console.log(`softmax cross-entropy, one epoch (${steps} batches of ${B}, ${C} classes, with gradients), ${o.repeats} interleaved repeats (node ${process.versions.node}):`);
variants.forEach(([name], v) => console.log(`  ${name.padEnd(34)} ${median(times[v]).toFixed(2).padStart(7)} ms CPU per epoch (median; all ${times[v].map((t) => t.toFixed(1)).join(' ')})`));
console.log('outputs identical, bit for bit (loss, d loss, d logits of every batch; Σ loss and correct)');
