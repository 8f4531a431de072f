// the CLI when runs are interrupted or go wrong: kill -9 (at an epoch end, mid-epoch, at random moments)
// then --resume ends with a model.safetensors byte-identical to an uninterrupted run's (cpu); files on
// disk are always complete; a bad --resume fails in one line with exit code 2; a divergence exits 3
// naming the tensor and keeps the last checkpoint; a lost GPU exits 4 keeping it too; --device auto falls
// back to the cpu when WebGPU fails to start. Faults are injected with MLP_LENS_TEST_HOOK (see cli/train.ts).
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { acquireDevice } from '../../engine/device.ts';
import { CHECKPOINT_FILE } from '../../run/checkpoint-files.ts';
import { decodeCheckpoint } from '../../mlp/checkpoint.ts';
import { decodeSafetensors } from '../../mlp/safetensors.ts';

const tmp = mkdtempSync(join(tmpdir(), 'mlp-lens-resume-'));
const QUICK = ['--epochs', '3', '--steps', '20', '--device', 'cpu', '--quiet', '--no-analysis'];

interface Result { code: number | null; out: string; err: string }

function cli(args: string[], hook?: string): Result {
  const env = { ...process.env, MLP_LENS_TEST_HOOK: hook ?? '' };
  const r = spawnSync(process.execPath, ['bench/train.js', ...args], { encoding: 'utf8', timeout: 180_000, env });
  // Dawn prints limit notices of its own on stderr ("Warning: … artificially reduced …"): not ours
  const err = r.stderr.split('\n').filter((l) => !/^Warning: .*artificially reduced/.test(l)).join('\n');
  return { code: r.status, out: r.stdout, err };
}

/** starts a run and kill -9s it once `ready` holds (checked on its stderr, or by polling), or after `hook` pauses it */
function killWhen(args: string[], opts: { hook?: string; ready?: () => boolean; extraMs?: number }): Promise<{ err: string; signal: string | null }> {
  const env = { ...process.env, MLP_LENS_TEST_HOOK: opts.hook ?? '' };
  const child = spawn(process.execPath, ['bench/train.js', ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '', killing = false;
  const kill = () => {
    if (killing) return;
    killing = true;
    setTimeout(() => child.kill('SIGKILL'), opts.extraMs ?? 0);
  };
  return new Promise((resolve, reject) => {
    const poll = opts.ready ? setInterval(() => { if (opts.ready!()) kill(); }, 20) : undefined;
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`not killed within 120 s; stderr: ${err}`)); }, 120_000);
    child.stderr!.on('data', (d) => { err += d; if (/test hook: paused/.test(err)) kill(); });
    child.on('exit', (_code, signal) => { clearTimeout(timer); clearInterval(poll); resolve({ err, signal }); });
  });
}

const read = (dir: string, name: string) => readFileSync(join(dir, name));
const json = (dir: string, name: string) => JSON.parse(readFileSync(join(dir, name), 'utf8'));
const checkpointEpoch = (dir: string) => decodeCheckpoint(read(dir, CHECKPOINT_FILE), CHECKPOINT_FILE).epoch;

/** a run directory as a reader finds it: every file there is complete (parses), and no half-written temporary is taken for one */
function assertComplete(dir: string): void {
  for (const name of readdirSync(dir)) {
    if (/\.tmp-\d+$/.test(name)) continue; // a write cut short: never read under this name
    if (name.endsWith('.json')) JSON.parse(readFileSync(join(dir, name), 'utf8'));
    if (name === CHECKPOINT_FILE) decodeCheckpoint(read(dir, name), name);
    if (name === 'model.safetensors') decodeSafetensors(read(dir, name), name);
  }
  if (existsSync(join(dir, 'stats'))) {
    for (const name of readdirSync(join(dir, 'stats'))) if (name.endsWith('.json')) JSON.parse(readFileSync(join(dir, 'stats', name), 'utf8'));
  }
}

function oneLine(r: Result, code: number, pattern: RegExp): void {
  assert.is(r.code, code, `exit code; stderr: ${r.err}`);
  assert.ok(pattern.test(r.err.trim()), `stderr ${JSON.stringify(r.err)} should match ${pattern}`);
  assert.is(r.err.trim().split('\n').length, 1, `one line: ${r.err}`);
  assert.not.match(r.err, /at .*\.ts:\d+/, 'no stack trace');
}

// the uninterrupted runs everything is compared with
const base = join(tmp, 'base'), baseM = join(tmp, 'base-momentum');
const MOMENTUM = [...QUICK, '--momentum', '0.9', '--rng', 'mlp-lens', '--no-record'];

// one suite, run in order (a file run on its own starts every suite at once; these share run directories)
const t = suite('interrupted and failing runs (cli)');

// --- kill -9 and --resume: bit-identical to an uninterrupted run (cpu)
const FAST = ['--epochs', '2', '--steps', '3', '--device', 'cpu', '--quiet', '--no-analysis', '--no-record'];
const good = join(tmp, 'good');
t.before(async () => {
  const a = cli([...QUICK, '--out', base]), b = cli([...MOMENTUM, '--out', baseM]);
  assert.is(a.code, 0, a.err);
  assert.is(b.code, 0, b.err);
  // for the --resume refusals: a run killed at the end of epoch 0
  await killWhen([...FAST, '--out', good], { hook: 'pause@0:end' });
  assert.is(checkpointEpoch(good), 0);
});

t('killed at the end of epoch 1: the directory says so; --resume writes the same model.safetensors byte for byte', async () => {
  const dir = join(tmp, 'end');
  const k = await killWhen([...QUICK, '--out', dir], { hook: 'pause@1:end' });
  assert.is(k.signal, 'SIGKILL');
  // recognisable as interrupted: still 'running', no model, the checkpoint of epoch 1
  assert.is(json(dir, 'metrics.json').status, 'running');
  assert.is(json(dir, 'metrics.json').epochs.length, 2);
  assert.not.ok(existsSync(join(dir, 'model.safetensors')));
  assert.is(checkpointEpoch(dir), 1);
  assertComplete(dir);

  const r = cli(['--resume', dir, '--quiet']);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /resumed after epoch 1/);
  assert.match(r.out, /epoch   2 /);
  assert.not.match(r.out, /epoch   1 /, 'epochs 0 and 1 are not trained again');
  assert.ok(read(dir, 'model.safetensors').equals(read(base, 'model.safetensors')), 'model.safetensors byte-identical');
  assert.ok(read(dir, 'predictions.json').equals(read(base, 'predictions.json')), 'predictions identical');
  const [m, mb] = [json(dir, 'metrics.json'), json(base, 'metrics.json')];
  assert.is(m.status, 'done');
  assert.equal(m.epochs.map((e: { trainLoss: number }) => e.trainLoss), mb.epochs.map((e: { trainLoss: number }) => e.trainLoss));
  assert.equal(m.test, mb.test);
  assert.is(json(dir, 'config.json').resumes.length, 1);
  assert.ok(read(dir, 'stats/epoch-002.json').length > 0);
});

t('killed mid-epoch (step 7 of epoch 1; momentum 0.9, mlp-lens generator): loses only that epoch; resume is byte-identical', async () => {
  const dir = join(tmp, 'mid');
  const k = await killWhen([...MOMENTUM, '--out', dir], { hook: 'pause@1:7' });
  assert.match(k.err, /paused at epoch 1 step 7/);
  assert.is(checkpointEpoch(dir), 0, 'the last complete epoch survives; the killed one is lost');
  assert.ok(decodeCheckpoint(read(dir, CHECKPOINT_FILE), 'c').velocity.every((v) => v !== null), 'momentum buffers in the checkpoint');
  const r = cli(['--resume', dir, '--quiet']);
  assert.is(r.code, 0, r.err);
  assert.ok(read(dir, 'model.safetensors').equals(read(baseM, 'model.safetensors')), 'model.safetensors byte-identical');
});

t('killed at random moments, three times over: every file on disk is always complete, and the end is still byte-identical', async () => {
  const dir = join(tmp, 'random');
  // deterministic "random" delays after the first checkpoint appears (covers writes, steps and evaluation)
  const delays = [0, 230, 470];
  let args = [...MOMENTUM, '--out', dir];
  const stamp = () => (existsSync(join(dir, CHECKPOINT_FILE)) ? statSync(join(dir, CHECKPOINT_FILE)).mtimeMs : -1);
  for (const extraMs of delays) {
    // kill once this process has written a checkpoint of its own
    const before = stamp();
    await killWhen(args, { ready: () => stamp() !== before, extraMs });
    assertComplete(dir);
    args = ['--resume', dir, '--quiet'];
    // a kill after the last epoch's files but before 'done' would make the next resume finish the run
    if (json(dir, 'metrics.json').status === 'done') break;
  }
  // leftovers of a write cut short are ignored and cleaned up by the resume
  writeFileSync(join(dir, `${CHECKPOINT_FILE}.tmp-999999`), 'half a file');
  if (json(dir, 'metrics.json').status !== 'done') {
    const r = cli(args);
    assert.is(r.code, 0, r.err);
    assert.not.ok(existsSync(join(dir, `${CHECKPOINT_FILE}.tmp-999999`)), 'stale temporary removed');
  }
  assert.ok(read(dir, 'model.safetensors').equals(read(baseM, 'model.safetensors')), 'model.safetensors byte-identical');
});

// --- --resume refuses what it cannot continue: one clear line, exit code 2

t('a directory that is not a run', () => {
  oneLine(cli(['--resume', join(tmp, 'nowhere')]), 2, /^error: .*nowhere\/config\.json: not found: .* is not a run directory/);
});

t('a run killed before its first epoch ended has no checkpoint', async () => {
  const dir = join(tmp, 'early');
  await killWhen([...FAST, '--out', dir], { hook: 'pause@0:1' });
  oneLine(cli(['--resume', dir]), 2, /checkpoint\.safetensors: not found: the run stopped before its first epoch ended/);
});

t('a damaged checkpoint: a flipped byte, a truncated file', () => {
  const flipped = join(tmp, 'flipped'), cut = join(tmp, 'cut');
  cpSync(good, flipped, { recursive: true });
  cpSync(good, cut, { recursive: true });
  const bytes = read(flipped, CHECKPOINT_FILE);
  bytes[bytes.length - 1000] ^= 0x01;
  writeFileSync(join(flipped, CHECKPOINT_FILE), bytes);
  oneLine(cli(['--resume', flipped]), 2, /checkpoint\.safetensors: checksum mismatch .*the file is damaged/);
  truncateSync(join(cut, CHECKPOINT_FILE), bytes.length - 4);
  oneLine(cli(['--resume', cut]), 2, /checkpoint\.safetensors: .*(unused bytes|past the end)/);
});

t('a config.json that is cut short, or that is another run\'s', () => {
  const cut = join(tmp, 'cut-config'), other = join(tmp, 'other-config');
  cpSync(good, cut, { recursive: true });
  cpSync(good, other, { recursive: true });
  const text = readFileSync(join(cut, 'config.json'), 'utf8');
  writeFileSync(join(cut, 'config.json'), text.slice(0, text.length / 2));
  oneLine(cli(['--resume', cut]), 2, /config\.json: the file is not valid JSON/);
  writeFileSync(join(other, 'config.json'), JSON.stringify({ ...JSON.parse(text), lr: 0.02 }));
  oneLine(cli(['--resume', other]), 2, /checkpoint\.safetensors: belongs to another run than config\.json: lr 0\.01 in the checkpoint, 0\.02 in config\.json/);
});

t('a completed run; options that would change the run; a wrong --data', () => {
  oneLine(cli(['--resume', base]), 2, /this run is complete \(metrics\.json status "done"\): nothing to resume/);
  const r = cli(['--resume', good, '--lr', '1']);
  assert.is(r.code, 2);
  assert.match(r.err, /--resume continues a run with the options it was started with: --lr cannot be given with it/);
  oneLine(cli(['--resume', good, '--data', join(tmp, 'no-data')]), 2, /no-data: not found/);
});

// --- divergence and device faults: exit 3 / 4, the last checkpoint kept

t('a divergence in epoch 1 (lr 3000): exit 3, one line naming the tensor, epoch 0\'s checkpoint kept, status diverged', () => {
  const dir = join(tmp, 'diverged');
  const r = cli(['--lr', '3000', '--epochs', '3', '--steps', '3', '--device', 'cpu', '--quiet', '--no-analysis', '--no-record', '--out', dir]);
  oneLine(r, 3, /^error: training diverged in epoch 1, step 1: logits holds Infinity \(element \d+ of \[64, 10\]\); the last good checkpoint \(after epoch 0\) is kept in .*checkpoint\.safetensors$/);
  const m = json(dir, 'metrics.json');
  assert.is(m.status, 'diverged');
  assert.equal([m.divergence.epoch, m.divergence.step, m.divergence.tensor], [1, 1, 'logits']);
  assert.is(m.epochs.length, 1);
  const ck = decodeCheckpoint(read(dir, CHECKPOINT_FILE), 'c');
  assert.is(ck.epoch, 0);
  assert.ok(ck.layers.every((l) => l.W.every(Number.isFinite)), 'the kept weights are finite');
  assert.not.ok(existsSync(join(dir, 'model.safetensors')));
});

t('--help names the exit codes and --resume', () => {
  const r = cli(['--help']);
  assert.is(r.code, 0);
  assert.match(r.out, /--resume RUN_DIR/);
  assert.match(r.out, /3 training diverged/);
  assert.match(r.out, /4 the GPU device was lost or ran out of memory/);
});

t('--device auto falls back to the cpu when WebGPU fails to start; --device webgpu fails in one line', () => {
  const dir = join(tmp, 'fallback');
  const r = cli(['--epochs', '1', '--steps', '2', '--quiet', '--no-analysis', '--no-record', '--out', dir], 'webgpu-fail');
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /webgpu did not start \(acquireDevice: WebGPU failed to start \(simulated by MLP_LENS_TEST_HOOK=webgpu-fail\)\); using the cpu backend/);
  assert.match(r.out, /784-32-16-10 on cpu/);
  assert.is(json(dir, 'config.json').device.backend, 'cpu');
  oneLine(cli(['--device', 'webgpu', '--epochs', '1', '--out', join(tmp, 'nogpu')], 'webgpu-fail'), 2,
    /^error: --device webgpu: acquireDevice: WebGPU failed to start/);
});

const adapter = await acquireDevice({ mode: 'webgpu' }).then((g) => { g?.device.destroy(); return true; }, () => false);
const required = process.env.MLP_LENS_REQUIRE_WEBGPU === '1';
if (!adapter && !required) {
  t.skip('the device destroyed mid-epoch (webgpu): exit 4, the last checkpoint intact', () => {});
} else {
  t('the device destroyed mid-epoch (webgpu): exit 4 in one line, the last checkpoint intact, and the run resumes', () => {
    const dir = join(tmp, 'lost');
    const args = ['--device', 'webgpu', '--epochs', '2', '--steps', '3', '--quiet', '--no-analysis', '--no-record', '--out', dir];
    const r = cli(args, 'destroy-device@1:1');
    oneLine(r, 4, /^error: webgpu: the device was lost \(destroyed.*; the last good checkpoint \(after epoch 0\) is kept in .*checkpoint\.safetensors \(continue with --resume .*\)$/);
    assert.is(json(dir, 'metrics.json').status, 'failed');
    assert.is(checkpointEpoch(dir), 0);
    const again = cli(['--resume', dir, '--quiet']);
    assert.is(again.code, 0, again.err);
    assert.is(json(dir, 'metrics.json').status, 'done');
    assert.is(json(dir, 'metrics.json').epochs.length, 2);
  });
}

t.after(() => rmSync(tmp, { recursive: true, force: true }));
t.run();
