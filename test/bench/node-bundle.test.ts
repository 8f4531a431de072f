// bench/node-bundle.mjs: the main job run from one cached esbuild bundle (MLP_LENS_BUNDLE=FOLDER here, a
// temporary one). The bundle's run is the sources' run (run-diff), its helper threads start the bundle
// and answer there (nothing falls back to the main thread), the bundle is reused while its inputs are
// unchanged, a changed input makes it stale, and without a usable cache the job runs from the sources.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { inputsUnchanged, taskModules } from '../../bench/node-bundle.mjs';

const root = new URL('../../', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'mlp-lens-bundle-'));
const cache = join(tmp, 'cache');
test.after(() => rmSync(tmp, { recursive: true, force: true }));

const node = (args: string[], bundle: string) => spawnSync(process.execPath, args, {
  cwd: root, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1', MLP_LENS_BUNDLE: bundle },
});
/** a short run with recording (statistics and snapshot measuring on the helper thread) and the analyses */
const train = (out: string, bundle: string) => node(['bench/train.js', '--epochs', '2', '--steps', '40', '--quiet', '--no-report', '--out', out], bundle);
const bundles = () => readdirSync(cache).filter((f) => f.endsWith('.mjs'));

test('a run from the bundle is the run from the sources, with its helpers on worker threads', () => {
  const fromSources = train(join(tmp, 'sources'), 'off');
  assert.is(fromSources.status, 0, fromSources.stderr);
  assert.not.ok(existsSync(cache), 'MLP_LENS_BUNDLE=off builds nothing');
  const fromBundle = train(join(tmp, 'bundle'), cache);
  assert.is(fromBundle.status, 0, fromBundle.stderr);
  assert.is(bundles().length, 1, 'one bundle built');

  const diff = spawnSync(process.execPath, ['bench/run-diff.js', join(tmp, 'sources'), join(tmp, 'bundle')], { cwd: root, encoding: 'utf8' });
  assert.is(diff.status, 0, diff.stdout + diff.stderr);
  assert.match(diff.stdout, / 0 differences/);

  // snapshots are measured while training only on a helper that runs the calls (never after a fallback)
  const timings = JSON.parse(readFileSync(join(tmp, 'bundle', 'timings.json'), 'utf8'));
  assert.ok(timings.within['snapshots measured while training'] > 0, JSON.stringify(timings.within));
});

test('the bundle is reused while its inputs are unchanged', () => {
  const [bundle] = bundles();
  const built = statSync(join(cache, bundle)).mtimeMs;
  const r = node(['bench/train.js', '--help'], cache);
  assert.is(r.status, 0, r.stderr);
  assert.equal(bundles(), [bundle]);
  assert.is(statSync(join(cache, bundle)).mtimeMs, built, 'not written again');
});

test('a changed or missing input makes the bundle stale', () => {
  const file = join(tmp, 'input.ts');
  writeFileSync(file, 'export const a = 1;\n');
  const st = statSync(file);
  assert.ok(inputsUnchanged([[file, st.size, st.mtimeMs]]));
  writeFileSync(file, 'export const a = 22;\n');
  assert.not.ok(inputsUnchanged([[file, st.size, st.mtimeMs]]), 'changed');
  rmSync(file);
  assert.not.ok(inputsUnchanged([[file, st.size, st.mtimeMs]]), 'missing');
});

test('the helper-thread modules are those the run layer names', () => {
  const names = taskModules();
  for (const m of ['analysis/epoch-stats.ts', 'analysis/render-figures.ts', 'analysis/suite-tasks.ts', 'run/through-training.ts']) assert.ok(names.includes(m), m);
  for (const m of names) assert.ok(existsSync(join(root, m)), m);
});

test('a cache that cannot be written, or none: the job runs from the sources', () => {
  const blocker = join(tmp, 'a-file');
  writeFileSync(blocker, 'not a folder');
  for (const setting of [join(blocker, 'cache'), 'off']) {
    const r = node(['bench/train.js', '--help'], setting);
    assert.is(r.status, 0, r.stderr);
    assert.match(r.stdout, /^usage: node bench\/train\.js/);
  }
});

test.run();
