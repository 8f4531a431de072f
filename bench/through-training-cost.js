#!/usr/bin/env node
// Benchmark: what the analyses through training cost the main job. Runs the reference main job
// (`node bench/train.js`: training with recording on, the post-training analyses, the report) with and
// without them (--no-through-training), interleaved (the order alternates each round, so machine noise
// hits both alike), and prints each run's wall time, the medians and their ratio (target ≤ 1.3×), with
// the load average before and after.
//   node bench/through-training-cost.js [--rounds R] [--epochs N] [--steps N] [--device cpu|webgpu] [-- extra train.js options]
// A benchmark, never a test.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values: o, positionals: extra } = parseArgs({
  options: {
    rounds: { type: 'string', default: '2' }, epochs: { type: 'string' }, steps: { type: 'string' },
    device: { type: 'string', default: 'cpu' }, help: { type: 'boolean' },
  },
  allowPositionals: true,
});
if (o.help) {
  console.log('usage: node bench/through-training-cost.js [--rounds R] [--epochs N] [--steps N] [--device cpu|webgpu] [-- extra train.js options]');
  process.exit(0);
}
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
const tmp = mkdtempSync(join(tmpdir(), 'mlp-lens-tt-cost-'));
const times = { with: [], without: [] }, own = [];
console.log(`machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), node ${process.version}; load average before ${load()}`);
try {
  for (let r = 0; r < Number(o.rounds); r++) {
    for (const mode of r % 2 === 0 ? ['with', 'without'] : ['without', 'with']) {
      const out = join(tmp, `${mode}-${r}`);
      const args = ['bench/train.js', '--quiet', '--device', o.device, '--out', out,
        ...(o.epochs ? ['--epochs', o.epochs] : []), ...(o.steps ? ['--steps', o.steps] : []),
        ...(mode === 'without' ? ['--no-through-training'] : []), ...extra];
      const t0 = performance.now();
      const p = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
      const s = (performance.now() - t0) / 1000;
      if (p.status !== 0) throw new Error(`train.js ${args.slice(1).join(' ')} failed (exit ${p.status}):\n${p.stderr}`);
      times[mode].push(s);
      // the analyses' own line: 'through training: …, 4.8 s; findings:'
      const line = p.stdout.split('\n').find((l) => l.startsWith('through training: ') && l.endsWith('findings:'));
      const a = line ? Number(/([\d.]+) s; findings:$/.exec(line)?.[1]) : null;
      if (a !== null) own.push(a);
      console.log(`  round ${r} ${mode.padEnd(7)} through training: wall ${s.toFixed(2)} s${a !== null ? ` (the analyses through training ${a.toFixed(1)} s)` : ''}; load ${load()}`);
      rmSync(out, { recursive: true, force: true });
    }
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
const median = (a) => { const s = [...a].sort((x, y) => x - y), m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const w = median(times.with), wo = median(times.without);
console.log(`median wall: with ${w.toFixed(2)} s, without ${wo.toFixed(2)} s; ratio ${(w / wo).toFixed(3)} (target ≤ 1.3)`);
console.log(`fastest:     with ${Math.min(...times.with).toFixed(2)} s, without ${Math.min(...times.without).toFixed(2)} s; ratio ${(Math.min(...times.with) / Math.min(...times.without)).toFixed(3)}`);
if (own.length) console.log(`the analyses through training alone: ${own.map((a) => a.toFixed(1)).join(', ')} s`);
console.log(`load average after ${load()}`);
