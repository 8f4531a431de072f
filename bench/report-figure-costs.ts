// CPU milliseconds of each report figure as the report draws it (analysis/render-figures.ts's
// renderFigures, its fast paths included: Vega's drawing, the SVG text, the figure's CSV and JSON), one
// figure at a time on this thread, over a saved run; rounds repeated in one process (the first pays the
// JIT's warm-up, as each of the report's two threads does in the job). Prints each round's total and the
// last round's figures, largest first. A benchmark, never a test.
//   node --import ./bench/node-ts.mjs bench/report-figure-costs.ts RUN [--rounds 3]
import { parseArgs } from 'node:util';
import { loadRunResults } from '../run/report.ts';
import { buildFigures } from '../analysis/figures/index.ts';
import { loadMnist } from '../run/mnist-files.ts';
import { renderFigures } from '../analysis/render-figures.ts';

const { values: o, positionals: [run] } = parseArgs({ options: { rounds: { type: 'string', default: '3' } }, allowPositionals: true });
const rounds = Number(o.rounds);
if (!run || !Number.isInteger(rounds) || rounds < 1) {
  console.error('usage: node --import ./bench/node-ts.mjs bench/report-figure-costs.ts RUN [--rounds 3]');
  process.exit(2);
}
const { test } = await loadMnist();
const { figures } = buildFigures(await loadRunResults(run, { test }));
const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;
let last: [string, number][] = [];
for (let round = 0; round < rounds; round++) {
  const c0 = process.cpuUsage();
  last = [];
  for (const f of figures) {
    const t0 = process.cpuUsage();
    const [out] = await renderFigures([f.spec]);
    if ('error' in out) throw new Error(`${f.id}: ${out.error}`);
    last.push([f.id, cpuMs(process.cpuUsage(t0))]);
  }
  console.log(`round ${round + 1}: ${figures.length} figures, ${cpuMs(process.cpuUsage(c0)).toFixed(0)} ms CPU`);
}
for (const [id, ms] of last.sort((a, b) => b[1] - a[1])) console.log(`  ${id.padEnd(36)} ${ms.toFixed(1).padStart(7)} ms`);
