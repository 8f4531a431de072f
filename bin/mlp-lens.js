#!/usr/bin/env node
// `mlp-lens` in a checkout, before any build: the same program as the package's bin (cli/bin.ts).
//   node bin/mlp-lens.js [command] [options]        deno run -A bin/mlp-lens.js [command] [options]
// Node 20 cannot read TypeScript by itself: register esbuild-backed loader hooks first (as
// bench/train.js does). Deno reads .ts natively.
if (typeof globalThis.Deno === 'undefined' && import.meta.url.endsWith('/bin/mlp-lens.js')) {
  const hooks = '../bench/node-ts.mjs';
  await import(hooks);
}
await import('../cli/bin.ts');
