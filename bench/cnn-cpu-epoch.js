#!/usr/bin/env node
// Benchmark of the fused CNN step on the cpu (mlp/fused-cnn-cpu.ts): seconds per 60 000-image epoch of the
// reference CNN (conv 8×5, pool 2, conv 16×5, pool 2, linear 32, output; batch 64, SGD lr 0.01), recording
// on and off, in one process, variants interleaved, medians of the epochs after the first (JIT warm-up).
// Training steps only (as bench/torch_cnn_epoch.py times PyTorch); the test evaluation is timed apart.
// Each epoch also gives its CPU time (process.cpuUsage: user + system, every thread of the process), which
// a loaded shared machine disturbs far less than the wall clock.
//   node bench/cnn-cpu-epoch.js [--epochs N] [--kind wasm-simd|js] [--steps N] [--phases [--kernels]] [--torch]
// --torch: then PyTorch's epochs of the same model (bench/torch_cnn_epoch.py, one thread, Debian's
// python3-torch in /usr/bin/python3 on OpenBLAS), and the two medians side by side with the load average.
// --phases: µs per step of each phase (forward, loss, backward, update, recording) over --steps steps;
// --kernels adds µs per step of each kernel (summed over the layers that call it).
// A benchmark, never a test.
import { parseArgs } from 'node:util';

await import('./node-ts.mjs');
const { values: o } = parseArgs({ options: {
  epochs: { type: 'string', default: '3' }, kind: { type: 'string', default: 'wasm-simd' }, steps: { type: 'string' },
  phases: { type: 'boolean' }, kernels: { type: 'boolean' }, torch: { type: 'boolean' }, help: { type: 'boolean' },
} });
if (o.help) {
  console.log('usage: node bench/cnn-cpu-epoch.js [--epochs N] [--kind wasm-simd|js] [--steps N] [--phases [--kernels]] [--torch]');
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

if (o.torch) {
  // PyTorch right after ours, on the same data and batch, one thread: the side-by-side the issue asks for
  const { spawnSync } = await import('node:child_process');
  const { readFileSync } = await import('node:fs');
  const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const before = load();
  const r = spawnSync('/usr/bin/python3', ['bench/torch_cnn_epoch.py', mnist.dir, String(Number(o.epochs))], {
    encoding: 'utf8', env: { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1' },
  });
  if (r.status !== 0) {
    console.log(`PyTorch: not run (${(r.stderr || r.error?.message || '').trim().split('\n').pop()})`);
  } else {
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l)).filter((x) => x.epoch !== undefined);
    const warm = rows.length > 1 ? rows.slice(1) : rows;
    const torchS = median(warm.map((x) => x.seconds)), torchCpu = median(warm.map((x) => x.cpu));
    for (const x of rows) console.log(`  PyTorch epoch ${x.epoch}: ${x.seconds.toFixed(3)} s, cpu ${x.cpu.toFixed(3)} s  (train loss ${x.loss.toFixed(4)}, accuracy ${x.acc.toFixed(2)} %)`);
    const ours = times.true.length > 1 ? times.true.slice(1) : times.true, oursCpu = cpuTimes.true.length > 1 ? cpuTimes.true.slice(1) : cpuTimes.true;
    console.log(`side by side (medians of the warm epochs; load average ${before} before PyTorch, ${load()} after):`);
    console.log(`  ours, recording on: ${median(ours).toFixed(3)} s (cpu ${median(oursCpu).toFixed(3)} s)   PyTorch, one thread: ${torchS.toFixed(3)} s (cpu ${torchCpu.toFixed(3)} s)   ratio ${(median(ours) / torchS).toFixed(2)}`);
  }
}
