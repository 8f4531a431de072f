// Per-figure stage costs of the report's rendering on this thread, as analysis/render-figures.ts renders
// (vega-lite compile, vega.parse, View, toSVG, compactSvg, countSvgIds, CSV, JSON), milliseconds per stage
// and the CPU of each round, rounds repeated (the first pays the JIT's warm-up); a benchmark, never a test.
//   node --import ./bench/node-ts.mjs bench/report-stages.ts RUN [--rounds 2]
import * as vega from 'vega';
import { compile } from 'vega-lite';
import { parseArgs } from 'node:util';
import { loadRunResults } from '../run/report.ts';
import { buildFigures } from '../analysis/figures/index.ts';
import { CACHED_CODEGEN, compactSvg, countSvgIds, withoutTooltips } from '../analysis/render-figures.ts';
import { specCsv } from '../analysis/figures/spec.ts';
import { loadMnist } from '../run/mnist-files.ts';

const { values: o, positionals } = parseArgs({ options: { rounds: { type: 'string', default: '2' } }, allowPositionals: true });
const { test } = await loadMnist();
const r = await loadRunResults(positionals[0], { test });
const set = buildFigures(r);
const stages = ['compile', 'parse', 'view', 'toSVG', 'compact', 'count', 'csv', 'json'] as const;
for (let round = 0; round < Number(o.rounds); round++) {
  const tot: Record<string, number> = {};
  const per: [string, number][] = [];
  const c0 = process.cpuUsage();
  for (const f of set.figures) {
    const t: Record<string, number> = {};
    let now = performance.now();
    const lap = (k: string) => { const n = performance.now(); t[k] = n - now; now = n; };
    (vega as unknown as { resetSVGDefIds(): void }).resetSVGDefIds();
    const c = withoutTooltips(compile(f.spec).spec); lap('compile');
    const p = vega.parse(c); lap('parse');
    const view = new vega.View(p, { renderer: 'none', expr: CACHED_CODEGEN }); lap('view');
    const svg = await view.toSVG(); lap('toSVG');
    view.finalize();
    const s = compactSvg(svg); lap('compact');
    countSvgIds(s); lap('count');
    specCsv(f.spec); lap('csv');
    JSON.stringify(f.spec); lap('json');
    let sum = 0;
    for (const k of stages) { tot[k] = (tot[k] ?? 0) + t[k]; sum += t[k]; }
    per.push([f.id, sum]);
    if (round === Number(o.rounds) - 1) console.log(f.id.padEnd(32), stages.map((k) => `${k} ${t[k].toFixed(0)}`).join(' '));
  }
  const c = process.cpuUsage(c0);
  console.log(`round ${round}: CPU ${((c.user + c.system) / 1e6).toFixed(2)} s;`, stages.map((k) => `${k} ${tot[k].toFixed(0)}`).join(' '));
}
