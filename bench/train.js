#!/usr/bin/env node
// The main job: trains the reference MLP with recording on and writes a run directory.
//   node bench/train.js [options]        deno run -A bench/train.js [options]       (--help for options)
// Node 20 cannot read TypeScript by itself: it runs one cached esbuild bundle of the job (bench/node-bundle.mjs,
// the fastest start), or else registers esbuild-backed loader hooks for the sources. Deno reads .ts natively,
// and an esbuild bundle of this file (.gpu/train.mjs) has the TypeScript inlined.
import process from 'node:process';

let bundle = null;
if (typeof globalThis.Deno === 'undefined' && import.meta.url.endsWith('/bench/train.js')) {
  // (specifiers in variables: an esbuild bundle of this file leaves them alone)
  const tools = ['./node-bundle.mjs', './node-ts.mjs'];
  bundle = await import(tools[0]).then((m) => m.bundledEntry('cli/train.ts'), () => null);
  if (!bundle) await import(tools[1]);
}
const { main } = bundle ? await import(bundle) : await import('../cli/train.ts');
process.exitCode = await main(process.argv.slice(2));
