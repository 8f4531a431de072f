// renderFigures (analysis/render-figures.ts) of this tree against an older tree's, in one process on this
// thread: every figure of a saved run drawn by each, the order alternated figure by figure, the results
// compared to the byte (SVG, id counts, CSV, JSON), CPU per tree per round (the first round pays the JIT's
// warm-up, shared by both trees' Vega), medians. Less noisy than bench/report-ab.ts on a shared machine;
// a benchmark, never a test.
//   node --import ./bench/node-ts.mjs bench/render-figures-ab.ts RUN OLD_TREE [--rounds 4]
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { loadRunResults } from '../run/report.ts';
import { buildFigures } from '../analysis/figures/index.ts';
import { loadMnist } from '../run/mnist-files.ts';
import * as here from '../analysis/render-figures.ts';

const { values: o, positionals: [run, oldTree] } = parseArgs({ options: { rounds: { type: 'string', default: '4' } }, allowPositionals: true });
if (!run || !oldTree) {
  console.error('usage: node --import ./bench/node-ts.mjs bench/render-figures-ab.ts RUN OLD_TREE [--rounds 4]');
  process.exit(2);
}
const old = (await import(pathToFileURL(join(resolve(oldTree), 'analysis', 'render-figures.ts')).href)) as typeof here;
const { test } = await loadMnist();
const set = buildFigures(await loadRunResults(run, { test }));
const trees = [['this tree', here], ['old tree', old]] as const;
const cpu: Record<string, number[]> = {};
let differ = 0;
for (let r = 0; r < Number(o.rounds); r++) {
  const sum: Record<string, number> = {};
  for (const [i, f] of set.figures.entries()) {
    const text: string[] = [];
    for (const [name, m] of (r + i) % 2 ? [...trees].reverse() : trees) {
      const c0 = process.cpuUsage();
      const [out] = await m.renderFigures([f.spec]);
      const c = process.cpuUsage(c0);
      sum[name] = (sum[name] ?? 0) + (c.user + c.system) / 1e6;
      text.push(JSON.stringify(out));
    }
    if (text[0] !== text[1]) {
      differ++;
      console.log(`round ${r}: ${f.id} differs`);
    }
  }
  for (const [name, s] of Object.entries(sum)) (cpu[name] ??= []).push(s);
}
const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
console.log(`renderFigures on the ${set.figures.length} figures of ${run}, ${o.rounds} rounds, ${differ} results differ; CPU medians`);
for (const [name, rs] of Object.entries(cpu)) console.log(`${name.padEnd(10)} ${median(rs).toFixed(2)} s (${rs.map((x) => x.toFixed(2)).join(' ')})`);
