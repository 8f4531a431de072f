#!/usr/bin/env node
// The project's regression oracle: the reference run's log, its model.safetensors bytes and its
// report's figure count, with the fused CPU step (the main job, analyses and report included) and with
// the generic autograd step (--no-fused, training only), compared with bench/reference-oracle.json.
//   node bench/reference-check.js            both runs (≈ 20 s + ≈ 90 s on the 2-core dev machine)
//   node bench/reference-check.js --fused    the main job only
//   node bench/reference-check.js --write    (re)write the oracle from this checkout: only when a change
//                                            of the log or the weights is meant, and say so in the commit
// Exit 0 when everything matches, 1 with the differing lines otherwise. Timings and paths are masked.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const ORACLE = join(here, 'reference-oracle.json');
const RUNS = {
  fused: { args: [], what: 'the main job: fused cpu step, analyses, report' },
  generic: { args: ['--no-fused', '--no-analysis', '--no-report'], what: 'the generic autograd step, training only' },
};

/** the log with what changes from run to run masked: seconds and the run directory's path; the 'time:' line (the run's split, all timings) left out */
export function normalise(log, dir) {
  return log.split('\n').filter((l) => l.length && !l.startsWith('time: '))
    .map((l) => l.split(dir).join('RUN').replace(/\b\d+(\.\d+)? s\b/g, 'T s'));
}

function run(name, out) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [join(here, 'train.js'), '--quiet', '--out', out, ...RUNS[name].args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${name} run failed (exit ${r.status}):\n${r.stderr}`);
  const model = createHash('sha256').update(readFileSync(join(out, 'model.safetensors'))).digest('hex');
  let figures = null;
  try { figures = readdirSync(join(out, 'figures')).filter((f) => f.endsWith('.vl.json')).length; } catch { /* no report */ }
  return { log: normalise(r.stdout, out), modelSha256: model, figures, seconds: (performance.now() - t0) / 1000 };
}

const argv = process.argv.slice(2);
if (argv.includes('--help')) {
  console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1, 9).map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
  process.exit(0);
}
const names = argv.includes('--fused') ? ['fused'] : ['fused', 'generic'];
const tmp = mkdtempSync(join(tmpdir(), 'mlp-lens-oracle-'));
let failed = false;
try {
  const oracle = argv.includes('--write') ? {} : JSON.parse(readFileSync(ORACLE, 'utf8'));
  for (const name of names) {
    const got = run(name, join(tmp, name));
    console.log(`${name} (${RUNS[name].what}): ${got.seconds.toFixed(1)} s`);
    if (argv.includes('--write')) { oracle[name] = { log: got.log, modelSha256: got.modelSha256, figures: got.figures }; continue; }
    const want = oracle[name];
    const diffs = [];
    if (got.modelSha256 !== want.modelSha256) diffs.push(`model.safetensors sha256 ${got.modelSha256}, oracle ${want.modelSha256}`);
    if (got.figures !== want.figures) diffs.push(`report figures ${got.figures}, oracle ${want.figures}`);
    const n = Math.max(got.log.length, want.log.length);
    for (let i = 0; i < n; i++) if (got.log[i] !== want.log[i]) diffs.push(`log line ${i + 1}:\n    now:    ${got.log[i] ?? '(none)'}\n    oracle: ${want.log[i] ?? '(none)'}`);
    console.log(diffs.length ? `  DIFFERS:\n  ${diffs.slice(0, 20).join('\n  ')}` : `  same log (${got.log.length} lines), same model bytes, ${got.figures ?? 'no'} figures`);
    failed ||= diffs.length > 0;
  }
  if (argv.includes('--write')) writeFileSync(ORACLE, JSON.stringify(oracle, null, 1) + '\n');
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
process.exitCode = failed ? 1 : 0;
