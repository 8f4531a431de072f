// The report of a saved run drawn under V8 interrupt budgets, each round in fresh processes, the budgets
// alternated: what bench/train.js's onReportStart (a 16× larger budget once the report begins) saves. Each
// child loads MNIST's test split, starts the report's helper thread and lets it load Vega (as the run's is,
// behind the analyses), then sets its budget and times writeReport alone: wall, CPU of every thread (V8's
// compiler threads included), and the report's own drawing time. Prints every round and the medians, and
// checks that report.html came out the same under each budget. A benchmark, never a test.
//   node --import ./bench/node-ts.mjs bench/report-budget.ts RUN [--rounds 4] [--budgets 270336,4325376]
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';

const { values: o, positionals: [run] } = parseArgs({
  options: { rounds: { type: 'string', default: '4' }, budgets: { type: 'string', default: '270336,4325376' }, child: { type: 'string' } },
  allowPositionals: true,
});
if (!run) {
  console.error('usage: node --import ./bench/node-ts.mjs bench/report-budget.ts RUN [--rounds 4] [--budgets 270336,4325376]');
  process.exit(2);
}

if (o.child) {
  // one report under budget o.child, in this fresh process
  const { HelperThread } = await import('../engine/threads.ts');
  const { warmReportRenderer, writeReport } = await import('../run/report.ts');
  const { loadMnist } = await import('../run/mnist-files.ts');
  const { test } = await loadMnist();
  const helper = new HelperThread();
  await warmReportRenderer(helper);
  v8.setFlagsFromString(`--interrupt-budget=${o.child}`);
  const c0 = process.cpuUsage(), t0 = performance.now();
  const r = await writeReport(run, { test, helper });
  const wall = (performance.now() - t0) / 1000, c = process.cpuUsage(c0);
  await helper.close();
  // the page without its generation time: the same drawing gives the same bytes
  const html = readFileSync(join(run, 'report.html'), 'utf8').replace(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/g, '');
  console.log(JSON.stringify({ wall, cpu: (c.user + c.system) / 1e6, render: r.timings.render, page: createHash('sha256').update(html).digest('hex') }));
} else {
  const budgets = o.budgets!.split(',');
  const here = fileURLToPath(import.meta.url);
  // a copy of the run, so the run's own report is left alone
  const copy = join(mkdtempSync(join(tmpdir(), 'report-budget-')), 'run');
  cpSync(run, copy, { recursive: true });
  const rows: Record<string, { wall: number; cpu: number; render: number; page: string }[]> = {};
  try {
    for (let round = 0; round < Number(o.rounds); round++) {
      for (const b of round % 2 ? [...budgets].reverse() : budgets) {
        const r = spawnSync(process.execPath, [...process.execArgv, here, copy, '--child', b], { encoding: 'utf8' });
        if (r.status !== 0) throw new Error(`budget ${b}: ${r.stderr}`);
        const m = JSON.parse(r.stdout.trim().split('\n').pop()!);
        (rows[b] ??= []).push(m);
        console.log(`round ${round} budget ${b.padStart(8)}: wall ${m.wall.toFixed(2)} s, CPU ${m.cpu.toFixed(2)} s, drawing ${m.render.toFixed(2)} s`);
      }
    }
  } finally {
    rmSync(join(copy, '..'), { recursive: true, force: true });
  }
  const median = (v: number[]) => { const s = [...v].sort((a, b) => a - b); return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
  for (const b of budgets) {
    const r = rows[b];
    console.log(`budget ${b.padStart(8)}: median wall ${median(r.map((x) => x.wall)).toFixed(2)} s, CPU ${median(r.map((x) => x.cpu)).toFixed(2)} s, drawing ${median(r.map((x) => x.render)).toFixed(2)} s`);
  }
  const pages = new Set(Object.values(rows).flat().map((x) => x.page));
  console.log(pages.size === 1 ? 'report.html: the same under every budget' : `report.html DIFFERS between budgets (${pages.size} versions)`);
}
