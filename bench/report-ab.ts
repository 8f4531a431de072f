// The report alone (run/report.ts writeReport, with its helper thread warmed first, as a run has it) on a
// copy of a finished run: CPU (all threads) and wall seconds per round, this tree and optionally an older
// one (e.g. a `git worktree add /tmp/old REV`, its node_modules linked), rounds alternated, medians.
// A benchmark, never a test.
//   node --import ./bench/node-ts.mjs bench/report-ab.ts RUN [OLD_TREE] [--rounds 3]
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values: o, positionals } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, child: { type: 'string' } }, allowPositionals: true });

if (o.child) {
  // one round in this process, from the tree `o.child`: prints {cpu, wall}
  const root = o.child, dir = positionals[0];
  const at = (p: string) => pathToFileURL(join(root, p)).href;
  const { writeReport, warmReportRenderer } = await import(at('run/report.ts'));
  const { loadMnist } = await import(at('run/mnist-files.ts'));
  const { HelperThread } = await import(at('engine/threads.ts'));
  const { test } = await loadMnist();
  const helper = new HelperThread();
  await warmReportRenderer(helper);
  const c0 = process.cpuUsage(), t0 = performance.now();
  await writeReport(dir, { test, helper });
  const c = process.cpuUsage(c0);
  await helper.close();
  console.log(JSON.stringify({ cpu: (c.user + c.system) / 1e6, wall: (performance.now() - t0) / 1000 }));
} else {
  const [run, old] = positionals;
  if (!run) {
    console.error('usage: node --import ./bench/node-ts.mjs bench/report-ab.ts RUN [OLD_TREE] [--rounds 3]');
    process.exit(2);
  }
  const here = resolve(fileURLToPath(new URL('..', import.meta.url)));
  const trees = [['this tree', here], ...(old ? [['old tree', resolve(old)]] : [])];
  const tmp = mkdtempSync(join(tmpdir(), 'mlp-lens-report-ab-'));
  const got: Record<string, { cpu: number; wall: number }[]> = {};
  try {
    for (let r = 0; r < Number(o.rounds); r++) {
      for (const [name, root] of r % 2 ? [...trees].reverse() : trees) {
        const dir = join(tmp, `${r}-${name.replace(' ', '-')}`);
        cpSync(run, dir, { recursive: true });
        const p = spawnSync(process.execPath, ['--import', join(root, 'bench', 'node-ts.mjs'), fileURLToPath(import.meta.url), '--child', root, dir],
          { encoding: 'utf8', cwd: root });
        if (p.status !== 0) throw new Error(`${name}: ${p.stderr}`);
        (got[name] ??= []).push(JSON.parse(p.stdout.trim().split('\n').pop()!));
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
  console.log(`writeReport on a copy of ${run}, ${o.rounds} rounds alternated, medians`);
  for (const [name, rs] of Object.entries(got)) {
    console.log(`${name.padEnd(10)} CPU ${median(rs.map((x) => x.cpu)).toFixed(2)} s (${rs.map((x) => x.cpu.toFixed(2)).join(' ')}), wall ${median(rs.map((x) => x.wall)).toFixed(2)} s`);
  }
}
