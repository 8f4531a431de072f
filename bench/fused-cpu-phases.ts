// `node bench/fused-cpu.js --phases`: µs per step of each phase of the fused cpu step, SIMD and JS kernels
// interleaved in one process, and ms per evaluation of the test split; `--kernels`: µs per step of each
// WebAssembly kernel over whole epochs. A benchmark, never a test.
import { createRng } from '../engine/rng.ts';
import type { KernelKind } from '../engine/wasm/load.ts';
import { FusedCpuTrainer, fusedCpuForward } from '../mlp/fused-cpu.ts';
import { loadMnist } from '../run/mnist-files.ts';
import { Mlp } from '../mlp/model.ts';
import { Recorder } from '../mlp/recorder.ts';
import { evaluate } from '../mlp/train.ts';

const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

/** step s of `order` (gather, forward, loss, backward) and its update with the finiteness probes, timed: [ms of the step, ms of the update] */
function timedStep(fused: FusedCpuTrainer, order: Uint32Array, s: number, batch: number): [number, number] {
  const t0 = performance.now();
  fused.step(order, s * batch, batch);
  const t1 = performance.now();
  fused.update(true);
  fused.actsFinite(batch);
  return [t1 - t0, performance.now() - t1];
}

export async function phases(steps: number, repeats: number): Promise<void> {
  const data = await loadMnist();
  const batch = 64, sizes = [784, 32, 16, 10];
  const rows: Record<string, Record<string, number[]>> = {};
  const generic: number[] = [];
  for (let r = 0; r < repeats; r++) {
    // alternate which goes first: the first recorder of a repeat pays the page faults of fresh slot memory
    for (const kind of (r % 2 ? ['js', 'wasm-simd'] : ['wasm-simd', 'js']) as KernelKind[]) {
      const rng = createRng('torch', 31416);
      const model = Mlp.init(sizes, rng);
      const fused = await FusedCpuTrainer.create(model, data.train, { batch, lr: 0.01, kind });
      const order = rng.epochPermutation(data.train.count);
      const names = model.actNames('train').filter((n) => n !== 'input');
      const widths = { 'layers.0.pre': 32, 'layers.0.post': 32, 'layers.1.pre': 16, 'layers.1.post': 16, logits: 10, loss: 1 };
      const recorder = new Recorder({ names, widths, count: steps * batch, steps });
      recorder.beginEpoch(0);
      const t = { 'gather+forward+loss+backward': 0, 'SGD update + Σg² + finiteness probes': 0, 'record (row copies into the slots)': 0 };
      for (let s = 0; s < steps; s++) {
        const [stepMs, updateMs] = timedStep(fused, order, s, batch);
        const t2 = performance.now();
        fused.record(recorder, s, order, s * batch, batch);
        t['gather+forward+loss+backward'] += stepMs;
        t['SGD update + Σg² + finiteness probes'] += updateMs;
        t['record (row copies into the slots)'] += performance.now() - t2;
      }
      fused.detach();
      const e0 = performance.now();
      await fusedCpuForward(model, data.test, 1000, kind);
      const evalMs = performance.now() - e0;
      const row = (rows[kind] ??= {});
      for (const [k, v] of Object.entries(t)) (row[k] ??= []).push((1000 * v) / steps);
      (row['evaluation, 10 000 test images (ms)'] ??= []).push(evalMs);
    }
    const g0 = performance.now();
    await evaluate(Mlp.init(sizes, createRng('torch', 1)), data.test, { batch: 1000, classes: 10, fused: false });
    generic.push(performance.now() - g0);
  }
  console.log(`fused cpu step, batch ${batch}, ${sizes.join('-')}, ${steps} steps × ${repeats} repeats per kernel set, medians (µs per step)`);
  const keys = Object.keys(rows['wasm-simd']);
  console.log(`  ${'phase'.padEnd(40)} ${'wasm-simd'.padStart(10)} ${'js'.padStart(10)}`);
  for (const k of keys) console.log(`  ${k.padEnd(40)} ${median(rows['wasm-simd'][k]).toFixed(1).padStart(10)} ${median(rows.js[k]).toFixed(1).padStart(10)}`);
  console.log(`  evaluation on the generic autograd path: ${median(generic).toFixed(1)} ms (the record phase includes first touches of the recorder's fresh slots)`);
}

/**
 * µs per step of each WebAssembly kernel of the fused step over `epochs` epochs of its whole batches (937; recording
 * off, the reference model and order), each call timed through a wrapper; medians of the epochs after the
 * first (which holds the kernels' tier-up). Prints the step's own µs (gather … backward) and the update's.
 */
export async function kernelTimes(epochs: number): Promise<void> {
  const data = await loadMnist();
  const batch = 64, sizes = [784, 32, 16, 10];
  const rng = createRng('torch', 31416);
  const model = Mlp.init(sizes, rng);
  const fused = await FusedCpuTrainer.create(model, data.train, { batch, lr: 0.01, kind: 'wasm-simd' });
  // (the trainer's net and its kernels are private: reached here, for this benchmark only)
  const net = (fused as unknown as { net: { kernels: { kind: string; k: Record<string, (...a: number[]) => number> } } }).net;
  if (net.kernels.kind !== 'wasm-simd') throw new Error('no WebAssembly SIMD kernels here');
  const exports = net.kernels.k, spent: Record<string, number> = {};
  const timed: Record<string, (...a: number[]) => number> = {};
  for (const name of Object.keys(exports)) {
    const f = exports[name];
    timed[name] = (...a: number[]) => {
      const t0 = performance.now();
      const r = f(...a);
      spent[name] = (spent[name] ?? 0) + performance.now() - t0;
      return r;
    };
  }
  net.kernels = { ...net.kernels, k: timed };
  const steps = Math.floor(data.train.count / batch), rows: Record<string, number[]> = {};
  for (let e = 0; e < epochs; e++) {
    for (const k in spent) spent[k] = 0;
    const order = rng.epochPermutation(data.train.count);
    let step = 0, update = 0;
    for (let s = 0; s < steps; s++) {
      const [stepMs, updateMs] = timedStep(fused, order, s, batch);
      step += stepMs;
      update += updateMs;
    }
    if (e === 0) continue;
    const us = (ms: number) => (1000 * ms) / steps;
    (rows['step (gather … backward)'] ??= []).push(us(step));
    (rows['update + Σg² + probes'] ??= []).push(us(update));
    for (const [k, v] of Object.entries(spent)) (rows[k] ??= []).push(us(v));
  }
  console.log(`fused cpu step, WebAssembly SIMD kernels, batch ${batch}, ${sizes.join('-')}: µs per step, medians of ${epochs - 1} epochs of ${steps} steps (recording off)`);
  for (const [k, v] of Object.entries(rows).sort((a, b) => (a[0].includes(' ') ? -1 : 0) - (b[0].includes(' ') ? -1 : 0) || median(b[1]) - median(a[1]))) {
    console.log(`  ${k.padEnd(28)} ${median(v).toFixed(1).padStart(7)}`);
  }
}
