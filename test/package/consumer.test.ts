// the package as a user gets it: `npm pack` (which builds dist/ through prepack), the tarball installed
// into a fresh folder outside the checkout, then there, under plain Node 20 (no loader hooks) and Deno:
// `npx mlp-lens --help`, a short training, and the README's API example exactly as written (the first
// ```js block after the heading `## Use it as a library`). Every step prints a line; any failure fails
// the test. Dependencies come from the npm cache that `npm ci` filled (--prefer-offline).
// MLP_LENS_CONSUMER_README=FILE reads the example from another README (for trying a draft).
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'mlp-lens-consumer-'));
const app = join(tmp, 'app');
const deno = join(root, 'node_modules', '.bin', 'deno');
const README = process.env.MLP_LENS_CONSUMER_README ?? join(root, 'README.md');
const HEADING = '## Use it as a library';

/** the first ```js (or ```javascript) block after the line `## Use it as a library` */
export function readmeExample(text: string): string {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => l.trim() === HEADING);
  if (at < 0) throw new Error(`${README}: no line '${HEADING}'`);
  const open = lines.findIndex((l, i) => i > at && /^```(js|javascript)\s*$/.test(l.trim()));
  if (open < 0) throw new Error(`${README}: no \`\`\`js block after '${HEADING}'`);
  const close = lines.findIndex((l, i) => i > open && l.trim() === '```');
  if (close < 0) throw new Error(`${README}: the \`\`\`js block after '${HEADING}' is not closed`);
  return lines.slice(open + 1, close).join('\n') + '\n';
}

// npm's own variables from the `npm test` around us would leak into the inner npm calls
const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));

/** runs a command, prints one line with its time, fails with the end of its output */
function sh(what: string, cmd: string, args: string[], cwd: string, timeoutS: number): SpawnSyncReturns<string> {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: timeoutS * 1000, maxBuffer: 64 << 20 });
  const s = ((performance.now() - t0) / 1000).toFixed(1);
  const ok = !r.error && r.status === 0;
  console.log(`  consumer: ${what}: ${ok ? 'ok' : 'FAILED'} (${s} s)`);
  if (!ok) {
    const tail = (x: string | null) => (x ?? '').split('\n').slice(-25).join('\n');
    assert.unreachable(`${what}: \`${[cmd, ...args].join(' ')}\` in ${cwd} ${r.error ? `failed: ${r.error.message}` : `exited ${r.status ?? r.signal}`}\n` +
      `--- stdout\n${tail(r.stdout)}\n--- stderr\n${tail(r.stderr)}`);
  }
  return r;
}

/** a short run's directory has what a run directory must have */
function checkRun(dir: string): void {
  for (const f of ['config.json', 'metrics.json', 'model.safetensors', 'predictions.json']) assert.ok(existsSync(join(dir, f)), `${dir}/${f} missing`);
  const metrics = JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8'));
  assert.is(metrics.status, 'done');
  assert.is(metrics.epochs.length, 1);
  assert.ok(metrics.test.accuracy > 0, JSON.stringify(metrics.test));
}

let tarball = '';

test('npm pack builds dist/ and packs only what users need', () => {
  sh('npm pack', 'npm', ['pack', '--pack-destination', tmp], root, 180);
  const tgz = readdirSync(tmp).filter((f) => f.endsWith('.tgz'));
  assert.is(tgz.length, 1, `tarballs in ${tmp}: ${tgz}`);
  tarball = join(tmp, tgz[0]);
  const files = sh('list the tarball', 'tar', ['tzf', tarball], tmp, 60).stdout.trim().split('\n').map((f) => f.replace(/^package\//, ''));
  for (const f of ['package.json', 'README.md', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/bin.js', 'dist/engine/wasm/load.js']) {
    assert.ok(files.includes(f), `${f} is not in the tarball`);
  }
  const stray = files.filter((f) => !(f.startsWith('dist/') && /\.(js|d\.ts)$/.test(f)) && !['package.json', 'README.md', 'LICENSE'].includes(f));
  assert.equal(stray, [], 'only dist/*.js, dist/*.d.ts, package.json, README.md and LICENSE belong in the tarball');
  assert.not.ok(files.some((f) => /^dist\/(test|bench|web)\//.test(f)), 'test/, bench/ or web/ built into dist/');
});

test('the tarball installs into a fresh folder', () => {
  assert.ok(tarball, 'no tarball (npm pack failed)');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'mlp-lens-consumer', private: true, type: 'module' }, null, 2) + '\n');
  sh('npm install the tarball', 'npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], app, 300);
  assert.ok(existsSync(join(app, 'node_modules', 'mlp-lens', 'dist', 'index.js')));
});

test('node: npx mlp-lens --help lists the commands; each command has --help', () => {
  const r = sh('npx mlp-lens --help', 'npx', ['mlp-lens', '--help'], app, 60);
  for (const c of ['train', 'analyze', 'report', 'dynamics']) assert.match(r.stdout, new RegExp(`^  ${c} `, 'm'));
  assert.match(sh('npx mlp-lens train --help', 'npx', ['mlp-lens', 'train', '--help'], app, 60).stdout, /--epochs N/);
  assert.match(sh('npx mlp-lens report --help', 'npx', ['mlp-lens', 'report', '--help'], app, 60).stdout, /RUN_DIR/);
});

test('node: npx mlp-lens trains a short run', () => {
  const out = join(app, 'run-node');
  sh('npx mlp-lens --epochs 1 --steps 20', 'npx', ['mlp-lens', '--epochs', '1', '--steps', '20', '--no-analysis', '--no-report', '--quiet', '--out', out], app, 180);
  checkRun(out);
  sh('npx mlp-lens dynamics', 'npx', ['mlp-lens', 'dynamics', out], app, 60);
});

let example = '';

test("node: the README's API example runs as written", () => {
  example = readmeExample(readFileSync(README, 'utf8'));
  writeFileSync(join(app, 'example.js'), example);
  sh('node example.js (README)', process.execPath, ['example.js'], app, 180);
});

test("deno: the README's API example runs as written", () => {
  assert.ok(example, 'no example (see the node step)');
  sh('deno run -A example.js (README)', deno, ['run', '-A', 'example.js'], app, 180);
});

test('deno: the mlp-lens bin runs --help and a short training', () => {
  const bin = join('node_modules', 'mlp-lens', 'dist', 'cli', 'bin.js');
  assert.match(sh('deno mlp-lens --help', deno, ['run', '-A', bin, '--help'], app, 60).stdout, /^ {2}report /m);
  const out = join(app, 'run-deno');
  sh('deno mlp-lens --epochs 1 --steps 20', deno, ['run', '-A', bin, '--epochs', '1', '--steps', '20', '--no-analysis', '--no-report', '--quiet', '--out', out], app, 180);
  checkRun(out);
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));
test.run();
