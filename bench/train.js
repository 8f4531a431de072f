#!/usr/bin/env node
// The main job: trains the reference MLP with recording on and writes a run directory.
//   node bench/train.js [options]        deno run -A bench/train.js [options]       (--help for options)
// Node 20 cannot read TypeScript by itself: it runs one cached esbuild bundle of the job (bench/node-bundle.mjs,
// the fastest start), or else registers esbuild-backed loader hooks for the sources. Deno reads .ts natively,
// and an esbuild bundle of this file (.gpu/train.mjs) has the TypeScript inlined.
import process from 'node:process';

/** V8's interrupt budget for the report's drawing (16× the job's own: see onReportStart below) */
const REPORT_BUDGET = 4325376;
let v8 = null;
if (typeof globalThis.Deno === 'undefined' && !process.execArgv.some((a) => a.startsWith('--interrupt-budget'))) {
  // V8 optimises a function once it has run a budget of bytecode. This job runs much code for a short
  // while on each of its threads (Vega in the report, the suite's analyses) and V8 spent ≈ 2.6 s of CPU
  // optimising it; with 4× the default budget only the code that stays hot is optimised: a third fewer
  // compiles, ≈ 0.6 s less CPU and ≈ 0.26 s less wall (medians of 5 pairs, docs/performance.md). Set
  // before any of the job's code loads; helper threads share the flag. `node --interrupt-budget=N
  // bench/train.js` keeps N.
  v8 = await import('node:v8');
  v8.setFlagsFromString('--interrupt-budget=270336');
}

let bundle = null;
if (typeof globalThis.Deno === 'undefined' && import.meta.url.endsWith('/bench/train.js')) {
  // (specifiers in variables: an esbuild bundle of this file leaves them alone)
  const tools = ['./node-bundle.mjs', './node-ts.mjs'];
  bundle = await import(tools[0]).then((m) => m.bundledEntry('cli/train.ts'), () => null);
  if (!bundle) await import(tools[1]);
}
const { main } = bundle ? await import(bundle) : await import('../cli/train.ts');
// The report draws its 49 figures once, cold, on two threads: V8 optimised much of Vega's code there only
// for it to run a few more times, and its optimising compiler took ≈ 0.5 s of CPU from the drawing
// threads. From the report on, a budget 16× larger leaves only the code that stays hot to be optimised:
// the report ≈ 0.2–0.3 s shorter and ≈ 0.5 s less CPU (bench/report-budget.ts, docs/performance.md).
// The analyses and training before it keep 4× (a larger budget gained nothing there).
const runHooks = v8 ? { onReportStart: () => v8.setFlagsFromString(`--interrupt-budget=${REPORT_BUDGET}`) } : {};
process.exitCode = await main(process.argv.slice(2), undefined, runHooks);
