// bench/main-job.js --against TREE: each round runs the other checkout's job too, and the table compares
// the two trees phase by phase with the rounds' paired differences. Here the other tree is this one (a
// tiny job: one epoch of a few steps, no analyses or report), so both columns come from real runs; a
// folder without bench/train.js is refused in one line before anything runs.
import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const root = new URL('../../', import.meta.url).pathname.replace(/\/$/, '');
const job = (args: string[]) => spawnSync(process.execPath, ['bench/main-job.js', ...args], {
  cwd: root, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
});

test('--against a folder without the job: refused in one line, exit 2', () => {
  const r = job(['--against', '/nonexistent-tree']);
  assert.is(r.status, 2);
  assert.match(r.stderr.split('\n')[0], /^--against \/nonexistent-tree: no bench\/train\.js there$/);
  assert.not.match(r.stdout, /round 1/, 'nothing ran');
});

test('--against TREE: both trees run each round, and the table holds both medians and the paired differences', () => {
  const r = job(['--rounds', '2', '--against', root, '--', '--epochs', '1', '--steps', '5', '--no-analysis', '--no-report']);
  assert.is(r.status, 0, r.stderr);
  // four runs, the other tree first in the second round
  const rounds = [...r.stdout.matchAll(/^round (\d) \((this tree|against)\): ([\d.]+) s wall, probe (\d+) ms/gm)].map((m) => `${m[1]} ${m[2]}`);
  assert.equal(rounds, ['1 this tree', '1 against', '2 against', '2 this tree']);
  const table = r.stdout.slice(r.stdout.indexOf(`against ${root}`));
  assert.ok(table.length > 0, r.stdout);
  for (const phase of ['start-up', 'data', 'training', 'wall, process start to exit', 'first epoch']) {
    const number = '(-?[\\d.]+)';
    const row = new RegExp('^\\s*' + phase + '\\s+' + number + '\\s+' + number + '\\s+([+-][\\d.]+) \\(' + number + ' … ' + number + '\\), (\\d) of 2$', 'm').exec(table);
    assert.ok(row, `${phase} row in:\n${table}`);
    const [lo, hi] = [Number(row![4]), Number(row![5])];
    // (each printed to 3 decimals: within half a unit of the last)
    assert.ok(lo - 5e-4 <= Number(row![3]) && Number(row![3]) <= hi + 5e-4, `${phase}: the median difference ${row![3]} within its range ${lo} … ${hi}`);
  }
  // one epoch: no warm epoch to compare
  assert.not.match(table, /warm epoch/);
  assert.match(table, /^probe \(ms\): this tree's runs \d+ \d+; the other's \d+ \d+$/m);
});

test.run();
