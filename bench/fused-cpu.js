#!/usr/bin/env node
// Benchmark of the fused cpu step (mlp/fused-cpu.ts), in one run so machine noise hits every variant alike.
//   node bench/fused-cpu.js [--epochs N] [--repeats R] [--variants generic,js,wasm] [--record] [--steps N]
//       seconds per epoch of the reference run (bench/train.js as child processes, variants interleaved,
//       medians): generic = the autograd step (--no-fused), js = the fused step with its JavaScript kernels
//       (MLP_LENS_WASM=0), wasm = the fused step with the WebAssembly SIMD kernels (the default)
//   node bench/fused-cpu.js --phases [--steps N] [--repeats R]
//       in-process: µs per step of each phase of the fused step (batch 64, reference model) for the SIMD and
//       JS kernels, interleaved, medians; and ms per evaluation of the 10 000 test images
//   node bench/fused-cpu.js --kernels [--epochs N]
//       in-process: µs per step of each WebAssembly kernel over whole epochs of steps (938, recording off;
//       each call timed, so the figures carry ≈ 0.1 µs of timer per call), medians of the epochs after the first
// A benchmark, never a test.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values: o } = parseArgs({ options: {
  epochs: { type: 'string', default: '3' }, repeats: { type: 'string', default: '3' }, variants: { type: 'string', default: 'generic,js,wasm' },
  record: { type: 'boolean' }, steps: { type: 'string' }, phases: { type: 'boolean' }, kernels: { type: 'boolean' }, help: { type: 'boolean' },
} });
if (o.help) {
  console.log('usage: node bench/fused-cpu.js [--epochs N] [--repeats R] [--variants generic,js,wasm] [--record] [--steps N] | --phases [--steps N] [--repeats R] | --kernels [--epochs N]');
  process.exit(0);
}
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

if (o.phases) {
  await import('./node-ts.mjs');
  const { phases } = await import('./fused-cpu-phases.ts');
  await phases(Number(o.steps ?? 300), Number(o.repeats));
  process.exit(0);
}
if (o.kernels) {
  await import('./node-ts.mjs');
  const { kernelTimes } = await import('./fused-cpu-phases.ts');
  await kernelTimes(Math.max(2, Number(o.epochs)));
  process.exit(0);
}

const variants = o.variants.split(',');
const env = { generic: { MLP_LENS_FAST: '0' }, js: { MLP_LENS_WASM: '0' }, wasm: {} };
const times = Object.fromEntries(variants.map((v) => [v, { train: [], wall: [] }]));
const tmp = mkdtempSync(join(tmpdir(), 'mlp-lens-fused-cpu-'));
try {
  for (let r = 0; r < Number(o.repeats); r++) {
    for (const v of variants) {
      if (!env[v]) throw new Error(`unknown variant ${v} (generic, js, wasm)`);
      const out = join(tmp, `${v}-${r}`);
      const args = ['bench/train.js', '--quiet', '--no-analysis', '--no-report', '--epochs', o.epochs, '--device', 'cpu', '--out', out,
        ...(o.steps ? ['--steps', o.steps] : []), ...(o.record ? [] : ['--no-record'])];
      const p = spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, ...env[v] } });
      if (p.status !== 0) throw new Error(`train.js failed:\n${p.stderr}`);
      const { epochs } = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
      // the first epoch also warms the JIT up: medians of the rest when there are some
      const warm = epochs.length > 1 ? epochs.slice(1) : epochs;
      for (const e of warm) { times[v].train.push(e.seconds); times[v].wall.push(e.wallSeconds ?? e.seconds); }
      process.stderr.write(`  ${v.padEnd(8)} ${epochs.map((e) => e.seconds.toFixed(3)).join(', ')} s/epoch (train + test evaluation)\n`);
    }
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
console.log(`cpu, recording ${o.record ? 'on' : 'off'}, ${o.steps ?? 938} steps/epoch, median s/epoch of warm epochs (training + test evaluation; wall adds the statistics and checkpoint)`);
const base = median(times[variants[0]].train);
for (const v of variants) {
  const t = median(times[v].train);
  console.log(`  ${v.padEnd(8)} ${t.toFixed(3)} s   wall ${median(times[v].wall).toFixed(3)} s   ×${(base / t).toFixed(1)} vs ${variants[0]}`);
}
