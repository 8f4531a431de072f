#!/usr/bin/env node
// Benchmark of the fused CNN step on the cpu (mlp/fused-cnn-cpu.ts): seconds per 60 000-image epoch of the
// reference CNN (conv 8×5, pool 2, conv 16×5, pool 2, linear 32, output; batch 64, SGD lr 0.01), recording
// on and off, in one process, variants interleaved, medians of the epochs after the first (JIT warm-up).
// Training steps only (as bench/torch_cnn_epoch.py times PyTorch); the test evaluation is timed apart.
// Each epoch also gives its CPU time (process.cpuUsage: user + system, every thread of the process), which
// a loaded shared machine disturbs far less than the wall clock.
//   node bench/cnn-cpu-epoch.js [--epochs N] [--kind wasm-simd|js] [--steps N] [--phases [--kernels]]
// --phases: µs per step of each phase (forward, loss, backward, update, recording) over --steps steps;
// --kernels adds µs per step of each kernel (summed over the layers that call it).
// A benchmark, never a test.
import { parseArgs } from 'node:util';

await import('./node-ts.mjs');
const { values: o } = parseArgs({ options: {
  epochs: { type: 'string', default: '3' }, kind: { type: 'string', default: 'wasm-simd' }, steps: { type: 'string' },
  phases: { type: 'boolean' }, kernels: { type: 'boolean' }, help: { type: 'boolean' },
} });
if (o.help) {
  console.log('usage: node bench/cnn-cpu-epoch.js [--epochs N] [--kind wasm-simd|js] [--steps N] [--phases [--kernels]]');
  process.exit(0);
}
const { createRng } = await import('../engine/rng.ts');
const { parseArch, REFERENCE_CNN } = await import('../mlp/arch.ts');
const { Cnn } = await import('../mlp/cnn.ts');
const { FusedCnnCpuStep, FusedCnnCpuTrainer, fusedCnnCpuForward } = await import('../mlp/fused-cnn-cpu.ts');
const { unitWidths } = await import('../mlp/net.ts');
const { Recorder } = await import('../mlp/recorder.ts');
const { loadMnist } = await import('../run/mnist-files.ts');

const mnist = await loadMnist();
const split = mnist.train, batch = 64, lr = 0.01;
const steps = Math.min(Math.ceil(split.count / batch), Number(o.steps ?? Infinity));
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const rng = createRng('mlp-lens', 31416);
const newModel = () => Cnn.init(parseArch(REFERENCE_CNN).layers, [1, split.rows, split.cols], 10, rng);
const permutation = () => {
  const p = Uint32Array.from({ length: split.count }, (_, i) => i);
  for (let i = p.length - 1; i > 0; i--) { const j = Math.floor(Math.random() * (i + 1)); [p[i], p[j]] = [p[j], p[i]]; }
  return p;
};

if (o.phases) {
  const model = newModel();
  const trainer = await FusedCnnCpuTrainer.create(model, split, { batch, lr, kind: o.kind });
  const names = model.actNames().filter((n) => n !== 'input');
  const recorder = new Recorder({ names, widths: unitWidths(model, names), count: split.count, steps: 938 });
  recorder.beginEpoch(0);
  const order = permutation(), n = batch, net = trainer.net;
  const t = { forward: 0, loss: 0, backward: 0, update: 0, record: 0, probe: 0 };
  // --kernels: every kernel call timed too (a few µs of timer overhead a call), µs per step by kernel and layer
  const perKernel = new Map();
  if (o.kernels) {
    const wrapSet = (set, tag) => Object.fromEntries(Object.entries(set).map(([name, fn]) => [name, (...a) => {
      const t0 = performance.now();
      const r = fn(...a);
      const key = `${tag}.${name}`;
      perKernel.set(key, (perKernel.get(key) ?? 0) + performance.now() - t0);
      return r;
    }]));
    const inst = net.kernels;
    net.kernels = { kind: inst.kind, buffer: inst.buffer, k: wrapSet(inst.k, 'mlp'), c: wrapSet(inst.c, 'cnn') };
  }
  const S = Number(o.steps ?? 300);
  for (let s = 0; s < S; s++) {
    const start = (s * batch) % (split.count - batch);
    let t0 = performance.now();
    net.gather(order, start, n); net.forward(n); t.forward += performance.now() - t0; t0 = performance.now();
    net.crossEntropy(n, true); t.loss += performance.now() - t0; t0 = performance.now();
    net.backward(n); t.backward += performance.now() - t0; t0 = performance.now();
    trainer.update(true); t.update += performance.now() - t0; t0 = performance.now();
    trainer.record(recorder, s, order, start, n); t.record += performance.now() - t0; t0 = performance.now();
    trainer.actsFinite(n); t.probe += performance.now() - t0;
  }
  console.log(`${trainer.kind}, µs per step (batch ${batch}, ${S} steps):`);
  for (const [k, v] of Object.entries(t)) console.log(`  ${k.padEnd(9)} ${(1000 * v / S).toFixed(0)}`);
  if (o.kernels) {
    console.log('  by kernel (all layers together; pack/unpack and JS glue not included):');
    for (const [k, v] of [...perKernel].sort((a, b) => b[1] - a[1])) console.log(`    ${k.padEnd(22)} ${(1000 * v / S).toFixed(0)}`);
  }
  process.exit(0);
}

const variants = [true, false];
const times = { true: [], false: [] }, cpuTimes = { true: [], false: [] };
const engines = {};
for (const record of variants) {
  const model = newModel();
  const names = model.actNames().filter((n) => n !== 'input');
  const recorder = record ? new Recorder({ names, widths: unitWidths(model, names), count: Math.min(split.count, steps * batch), steps, reuseSlots: true }) : null;
  engines[record] = { model, recorder, engine: await FusedCnnCpuStep.create(model, split, { batch, lr, kind: o.kind }, { steps, recorder, checkFinite: true }) };
}
console.log(`reference CNN ${REFERENCE_CNN}, ${engines.true.engine.label}, ${steps} steps of ${batch}; node ${process.version}`);
for (let e = 0; e < Number(o.epochs); e++) {
  for (const record of variants) {
    const { engine, recorder } = engines[record];
    const order = permutation();
    const t0 = performance.now(), c0 = process.cpuUsage();
    recorder?.beginEpoch(e);
    engine.beginEpoch(e, order);
    engine.runSteps();
    const totals = await engine.endEpoch();
    if (recorder) await recorder.endEpoch();
    const s = (performance.now() - t0) / 1000, cu = process.cpuUsage(c0), cpu = (cu.user + cu.system) / 1e6;
    times[record].push(s);
    cpuTimes[record].push(cpu);
    console.log(`  epoch ${e} recording ${record ? 'on ' : 'off'}: ${s.toFixed(3)} s, cpu ${cpu.toFixed(3)} s  (train loss ${(totals.lossSum / totals.samples).toFixed(4)}, accuracy ${(100 * totals.correct / totals.samples).toFixed(2)} %)`);
  }
}
for (const record of variants) {
  const t = times[record], warm = t.length > 1 ? t.slice(1) : t, c = cpuTimes[record], cwarm = c.length > 1 ? c.slice(1) : c;
  console.log(`recording ${record ? 'on ' : 'off'}: median ${median(warm).toFixed(3)} s per epoch, cpu ${median(cwarm).toFixed(3)} s (epochs after the first; all: ${t.map((x) => x.toFixed(3)).join(', ')})`);
}
const t0 = performance.now();
const ev = await fusedCnnCpuForward(engines.true.model, mnist.test, 1000, o.kind);
let right = 0;
for (let i = 0; i < mnist.test.count; i++) if (ev.predictions[i] === mnist.test.labels[i]) right++;
console.log(`test evaluation (${mnist.test.count} images): ${((performance.now() - t0) / 1000).toFixed(3)} s, accuracy ${(100 * right / mnist.test.count).toFixed(2)} %`);
for (const record of variants) engines[record].engine.dispose();
