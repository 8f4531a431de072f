#!/usr/bin/env node
// The main job: trains the reference MLP with recording on and writes a run directory.
//   node bench/train.js [options]        deno run -A bench/train.js [options]       (--help for options)
// Node 20 cannot read TypeScript by itself: register esbuild-backed loader hooks first. Deno reads
// .ts natively, and an esbuild bundle of this file (.gpu/train.mjs) has the TypeScript inlined.
import process from 'node:process';

if (typeof globalThis.Deno === 'undefined' && import.meta.url.endsWith('/bench/train.js')) {
  const hooks = './node-ts.mjs';
  await import(hooks);
}
const { main } = await import('../cli/train.ts');
process.exitCode = await main(process.argv.slice(2));
