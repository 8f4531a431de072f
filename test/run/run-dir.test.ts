// A run directory belongs to one run (run/run-dir.ts): what a new run may take, --replace, the lock that
// keeps two processes out of one directory, and the one-line failures of the command line around it —
// a busy directory, a file or device as --out, empty path options, a model too large to allocate, an
// analysis layer that does not exist, a write refused by a file-size limit (exit 5).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { claimRunDir, LOCK_FILE, lockRunDir } from '../../run/run-dir.ts';

const t = suite('run directories: one run each');
const root = mkdtempSync(join(tmpdir(), 'mlp-lens-rundir-'));
const at = (name: string) => join(root, name);
t.after(() => rmSync(root, { recursive: true, force: true }));

const refusal = async (p: Promise<unknown>) => p.then(() => 'taken', (e: Error) => `${e.name}: ${e.message}`);

t('a new run takes an absent or empty folder, and holds its lock until released', async () => {
  const lock = await claimRunDir(at('fresh'));
  assert.ok(existsSync(join(at('fresh'), LOCK_FILE)));
  assert.equal(JSON.parse(readFileSync(join(at('fresh'), LOCK_FILE), 'utf8')).pid, process.pid);
  await lock.release();
  assert.not.ok(existsSync(join(at('fresh'), LOCK_FILE)));
  mkdirSync(at('empty'));
  await (await claimRunDir(at('empty'))).release();
});

t("an earlier run is refused unless replace, which empties it first; what is not a run is never emptied", async () => {
  mkdirSync(join(at('earlier'), 'stats'), { recursive: true });
  writeFileSync(join(at('earlier'), 'config.json'), '{}');
  writeFileSync(join(at('earlier'), 'stats', 'epoch-007.json'), '{}');
  assert.match(await refusal(claimRunDir(at('earlier'))), /InputError: .*earlier: holds an earlier run: continue it with --resume .*, replace it with --replace, or choose another --out/);
  assert.ok(existsSync(join(at('earlier'), 'stats', 'epoch-007.json')), 'refused, nothing removed');
  const lock = await claimRunDir(at('earlier'), { replace: true });
  assert.equal(readdirSync(at('earlier')), [LOCK_FILE]);
  await lock.release();
  mkdirSync(at('notes'));
  writeFileSync(join(at('notes'), 'thesis.tex'), 'precious');
  assert.match(await refusal(claimRunDir(at('notes'), { replace: true })), /holds 1 file\(s\) that are not an mlp-lens run \(thesis\.tex\): choose an empty or new folder/);
  assert.is(readFileSync(join(at('notes'), 'thesis.tex'), 'utf8'), 'precious');
  writeFileSync(at('a-file'), 'x');
  assert.match(await refusal(claimRunDir(at('a-file'))), /a-file: exists and is not a folder/);
  assert.match(await refusal(claimRunDir('/dev/null')), /\/dev\/null: exists and is not a folder/);
  assert.match(await refusal(claimRunDir('')), /is not a folder name/);
});

t("a live process's lock is refused naming it; a killed process's lock is taken over", async () => {
  mkdirSync(at('held'));
  const lock = await lockRunDir(at('held'));
  assert.match(await refusal(lockRunDir(at('held'))), new RegExp(`is in use by process ${process.pid} \\(training since `));
  await lock.release();
  // a process that has ended: its pid is free
  const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  mkdirSync(at('stale'));
  writeFileSync(join(at('stale'), LOCK_FILE), JSON.stringify({ pid: Number(gone.stdout), host: (await import('node:os')).hostname(), started: 'earlier' }));
  const taken = await lockRunDir(at('stale'));
  assert.equal(JSON.parse(readFileSync(join(at('stale'), LOCK_FILE), 'utf8')).pid, process.pid);
  await taken.release();
});

// --- the command line

const cli = (args: string[], env: Record<string, string> = {}) => spawnSync(process.execPath, ['bench/train.js', '--quiet', ...args],
  { encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...env } });
const quick = ['--epochs', '2', '--steps', '5', '--no-analysis', '--no-report'];

t('two processes training into one --out: the second is refused naming the first; once that one is killed, --resume takes the directory over', async () => {
  const out = at('shared');
  const first = spawn(process.execPath, ['bench/train.js', '--quiet', '--epochs', '3', ...quick.slice(2), '--out', out],
    { env: { ...process.env, MLP_LENS_TEST_HOOK: 'pause@2:2' }, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    // the test hook stops it dead after step 2 of epoch 2 (epoch 0 checkpointed: with its statistics on
    // the helper thread an epoch is saved at the end of the next one, run/session.ts), lock held
    await new Promise<void>((ok, fail) => {
      let err = '';
      first.stderr.on('data', (d) => { err += d; if (err.includes('test hook: paused')) ok(); });
      first.on('exit', (code) => fail(new Error(`first run exited ${code} before pausing: ${err}`)));
    });
    const second = cli([...quick, '--out', out]);
    assert.is(second.status, 2, second.stderr);
    assert.match(second.stderr, new RegExp(`^error: .*shared: is in use by process ${first.pid} \\(training since .*\\): wait for it to end, or choose another --out\\n$`));
    const replacing = cli([...quick, '--out', out, '--replace']);
    assert.is(replacing.status, 2, 'not even with --replace');
    assert.match(replacing.stderr, /is in use by process/);
  } finally {
    first.kill('SIGKILL');
  }
  await new Promise((ok) => first.once('close', ok));
  // killed mid-epoch: its lock is stale, and --resume takes it over
  const resumed = cli(['--resume', out]);
  assert.is(resumed.status, 0, resumed.stderr);
  assert.not.ok(existsSync(join(out, LOCK_FILE)), 'lock released at the end');
});

t('one line and exit 2 for a path option given empty, a model too large to allocate, an analysis layer that does not exist', () => {
  for (const name of ['--out', '--init', '--analyze', '--data']) {
    const r = cli([...quick, name, '']);
    assert.is(r.status, 2, name);
    assert.match(r.stderr.split('\n')[0], new RegExp(`^error: ${name} needs a value, got an empty string$`));
  }
  const huge = cli([...quick, '--hidden', '10000000', '--out', at('huge')]);
  assert.is(huge.status, 2);
  assert.match(huge.stderr, /^error: a 784-10000000-10 model with batch 64 needs about [\d.]+ GB \(weights [\d.]+ GB, .*\), over the limit of [\d.]+ GB: use smaller --hidden layers\n$/);
  const recorded = cli(['--epochs', '1', '--hidden', '100000', '--out', at('recorded')]);
  assert.is(recorded.status, 2);
  assert.match(recorded.stderr, /recording 96\.0 GB\), over the limit .*: --no-record keeps no activations/);
  assert.not.ok(existsSync(at('huge')) || existsSync(at('recorded')), 'refused before the run directory was made');
  const layer = cli(['--epochs', '1', '--steps', '2', '--analysis-layer', '99', '--out', at('layer')]);
  assert.is(layer.status, 2);
  assert.is(layer.stderr, 'error: --analysis-layer 99: the model has hidden layers 0..1\n');
  assert.not.ok(existsSync(at('layer')), 'checked before training');
});

t('a batch larger than the training set is one step an epoch, not a crash', () => {
  const r = cli(['--epochs', '1', '--batch', '4000000', '--no-analysis', '--no-report', '--out', at('batch')]);
  assert.is(r.status, 0, r.stderr);
  assert.is(JSON.parse(readFileSync(join(at('batch'), 'metrics.json'), 'utf8')).epochs[0].steps, 1);
});

t('a write refused by the file-size limit: one line naming the file, exit 5, status failed', () => {
  // bash's ulimit -f (in 1024-byte blocks): the first file over 50 KB is the initial weights' snapshot (≈ 100 KB)
  const r = spawnSync('bash', ['-c', `ulimit -f 50; exec "${process.execPath}" bench/train.js --quiet ${quick.join(' ')} --out ${at('limited')}`], { encoding: 'utf8', timeout: 120_000 });
  assert.is(r.status, 5, r.stderr);
  assert.match(r.stderr, /^error: cannot write .*limited\/snapshots\/init\.safetensors: EFBIG \(file too large for the file-size limit\); no epoch had ended, so there is no checkpoint\n$/);
  assert.is(JSON.parse(readFileSync(join(at('limited'), 'metrics.json'), 'utf8')).status, 'failed');
});

t.run();
