// bench/run-diff.js, the regression oracle's comparison of two run directories: what differs between
// two runs of the same job is ignored (timings, the start, the folder's name in the report's title and
// heading, when the report was generated); anything else that differs is named, including a word of the
// report's text that happens to be the folder's name ("run", "base"), which an earlier version replaced
// everywhere in both pages.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const root = new URL('../../', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'mlp-lens-run-diff-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

/** a small run folder: metrics with timings, a report naming the folder, a binary file */
function fakeRun(dir: string, o: { seconds: number; started: string; generated: string; text: string; acc?: number }): string {
  const name = dir.split('/').pop()!;
  mkdirSync(join(dir, 'figures'), { recursive: true });
  writeFileSync(join(dir, 'metrics.json'), JSON.stringify({ history: [{ epoch: 0, trainAccuracy: o.acc ?? 0.5, seconds: o.seconds }], started: o.started }));
  writeFileSync(join(dir, 'timings.json'), JSON.stringify({ total: o.seconds }));
  writeFileSync(join(dir, 'report.html'), `<title>mlp-lens report: ${name}</title><h1>mlp-lens report: ${name}</h1>` +
    `<p>${o.text} · generated ${o.generated}</p>`);
  writeFileSync(join(dir, 'figures', 'x.csv'), 'a,b\n1,2\n');
  return dir;
}
const diff = (a: string, b: string) => spawnSync(process.execPath, ['bench/run-diff.js', a, b], { cwd: root, encoding: 'utf8' });
const text = 'one run of the base model; the run trained 1 epoch';

test('two runs of the same job in folders named "base" and "run": no differences', () => {
  const a = fakeRun(join(tmp, 'one', 'base'), { seconds: 1.5, started: '2026-12-06T10:00:00Z', generated: '2026-12-06 10:00:01', text });
  const b = fakeRun(join(tmp, 'two', 'run'), { seconds: 2.5, started: '2026-12-06T11:00:00Z', generated: '2026-12-06 11:00:09', text });
  const r = diff(a, b);
  assert.is(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /3 files compared, 0 differences/);
});

test('a changed word of the report, a changed number and a missing file are named', () => {
  const a = fakeRun(join(tmp, 'three', 'base'), { seconds: 1, started: 's', generated: '2026-12-06 10:00:01', text });
  const b = fakeRun(join(tmp, 'four', 'run'), { seconds: 1, started: 's', generated: '2026-12-06 10:00:01', text: text.replace('base model', 'run model'), acc: 0.25 });
  rmSync(join(b, 'figures', 'x.csv'));
  const r = diff(a, b);
  assert.is(r.status, 1);
  assert.match(r.stdout, /differs: report\.html/);
  assert.match(r.stdout, /differs: metrics\.json/);
  assert.match(r.stdout, /only in .*base: figures\/x\.csv/);
});

test.run();
