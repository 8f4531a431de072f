// A/B of the per-epoch statistics' passes, interleaved in one process on one thread: the JavaScript loops
// against the WebAssembly SIMD kernels (analysis/epoch-stats-wasm.ts) on a real recorded epoch of the main
// job's model (60 000 samples, [784, 32, 16, 10], batch 64). Prints CPU ms per epoch (medians) and checks
// that both give the same JSON; and, for the WebAssembly kernels, the wall ms of their parts per epoch (the
// slots copied into the kernels' memory, pass 1, pass 2 with its histograms; medians).
//   node --import ./bench/node-ts.mjs bench/epoch-stats-ab.ts [REPEATS]
import process from 'node:process';
import { computeEpochStats, loadEpochStatsKernels } from '../analysis/epoch-stats.ts';
import { createRng } from '../engine/rng.ts';
import type { KernelKind } from '../engine/wasm/load.ts';
import { Mlp } from '../mlp/model.ts';
import type { EpochRecord } from '../mlp/recorder.ts';
import { train } from '../mlp/train.ts';
import { StatsWasm } from '../analysis/epoch-stats-wasm.ts';

// each part of the WebAssembly passes timed (its ms added to `parts` while counting)
const parts: Record<string, number> = {};
let counting = false;
for (const [method, label] of [['load', 'copy in'], ['accumulate', 'pass 1'], ['spread', 'pass 2']] as const) {
  const proto = StatsWasm.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
  const f = proto[method];
  proto[method] = function (this: unknown, ...a: unknown[]) {
    const t0 = performance.now();
    try {
      return f.apply(this, a);
    } finally {
      if (counting) parts[label] = (parts[label] ?? 0) + performance.now() - t0;
    }
  };
}
import { loadMnist } from '../run/mnist-files.ts';

const repeats = Number(process.argv[2] ?? 9);
const data = await loadMnist();
const rng = createRng('torch', 0);
const model = Mlp.init([784, 32, 16, 10], rng);
let record: EpochRecord | null = null;
await train(model, data, rng, { epochs: 1, batch: 64, lr: 0.05, momentum: 0.9, record: true }, {
  onEpoch: (_m, r) => {
    const copy = (s: Record<string, { width: number; data: Float32Array } | undefined>) =>
      Object.fromEntries(Object.entries(s).map(([k, v]) => [k, v && { width: v.width, data: v.data.slice() }]));
    record = { ...r!, labels: r!.labels.slice(), acts: copy(r!.acts), grads: copy(r!.grads) } as EpochRecord;
  },
});
const rec = record! as EpochRecord;
const opts = { classes: 10, firstBatch: 64 };
console.log(`epoch of ${rec.count} rows; acts ${Object.entries(rec.acts).map(([k, v]) => `${k}:${v!.width}`).join(' ')}`);

const cpuMs = (f: () => void): number => {
  const u0 = process.cpuUsage();
  f();
  const u = process.cpuUsage(u0);
  return (u.user + u.system) / 1000;
};
const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];
const ms: Record<string, number[]> = { js: [], 'wasm-simd': [] };
const partMs: Record<string, number[]> = {};
let same = true, ref = '';
for (let i = 0; i < repeats; i++) {
  const order: KernelKind[] = i % 2 ? ['wasm-simd', 'js'] : ['js', 'wasm-simd'];
  for (const kind of order) {
    if ((await loadEpochStatsKernels(kind)) !== kind) throw new Error(`no ${kind} kernels`);
    let stats: ReturnType<typeof computeEpochStats> | null = null;
    for (const k in parts) parts[k] = 0;
    counting = kind === 'wasm-simd';
    const t = cpuMs(() => { stats = computeEpochStats(rec, opts); });
    counting = false;
    if (kind === 'wasm-simd') for (const [k, v] of Object.entries(parts)) (partMs[k] ??= []).push(v);
    const json = JSON.stringify(stats);
    ref ||= json;
    same &&= json === ref;
    ms[kind].push(t);
  }
}
for (const [k, v] of Object.entries(ms)) console.log(`${k.padEnd(10)} median ${median(v).toFixed(1)} ms CPU  (min ${Math.min(...v).toFixed(1)}, all ${v.map((x) => x.toFixed(0)).join(' ')})`);
console.log(`same JSON: ${same}`);
console.log(`wasm-simd parts, wall ms an epoch (medians): ${Object.entries(partMs).map(([k, v]) => `${k} ${median(v).toFixed(1)}`).join(', ')}`);
