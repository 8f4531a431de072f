#!/usr/bin/env node
// The reference CNN's training step, ours (webgpu, generic step) against TensorFlow.js's WebGPU backend on the
// same adapter; see bench/cnn-vs-tfjs.ts and docs/performance.md.
//   node bench/cnn-vs-tfjs.js [--steps 100] [--rounds 2] [--ours-only] [--loops]
//   deno run -A bench/cnn-vs-tfjs.js …
if (typeof globalThis.Deno === 'undefined') await import('./node-ts.mjs');
await import('./cnn-vs-tfjs.ts');
