#!/usr/bin/env node
// Kernel timings against the adapter's ceilings and a peer (TensorFlow.js WebGPU); see docs/kernels.md.
//   node bench/kernels.js [--quick] [--big] [--iters N] [--no-cpu] [--no-tfjs] [--out FILE.json]
//   deno run -A bench/kernels.js …
import process from 'node:process';

if (typeof globalThis.Deno === 'undefined' && import.meta.url.endsWith('/bench/kernels.js')) {
  const hooks = './node-ts.mjs';
  await import(hooks);
}
const { main } = await import('./kernels-run.ts');
process.exitCode = await main(process.argv.slice(2));
