import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRng } from '../../engine/rng.ts';
import { Mlp } from '../../mlp/model.ts';
import { saveModelFile } from '../../run/model-files.ts';

const tmp = mkdtempSync(join(tmpdir(), 'mlp-lens-cli-'));
const cli = (...args: string[]) => {
  // the report has its own test (test/analysis/report.test.ts): --no-report keeps these runs quick
  const extra = args.includes('--help') ? [] : [...(args.some((a) => a.startsWith('--analy')) ? [] : ['--no-analysis']), '--no-report'];
  const r = spawnSync(process.execPath, ['bench/train.js', ...args, ...extra], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

test('a short run writes config, metrics, weights and predictions', () => {
  const out = join(tmp, 'run');
  const r = cli('--epochs', '2', '--steps', '5', '--out', out, '--quiet');
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /epoch   0  train loss \d\.\d{4}/);
  assert.match(r.out, /epoch   1 /);
  assert.match(r.out, /per-class test accuracy/);
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  assert.equal(config.sizes, [784, 32, 16, 10]);
  assert.is(config.seed, 31416);
  assert.is(config.rngAlgorithm, 'MT19937 (PyTorch CPU generator)');
  const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
  assert.is(metrics.epochs.length, 2);
  assert.is(metrics.epochs[0].samples, 320);
  assert.is(metrics.test.perClass.length, 10);
  const preds = JSON.parse(readFileSync(join(out, 'predictions.json'), 'utf8')).predictions;
  assert.is(preds.length, 10000);
  assert.ok(existsSync(join(out, 'model.safetensors')));
  assert.not.ok(existsSync(join(out, `model.safetensors.tmp-${process.pid}`)));
});

test('--analyze runs the post-training analyses on a saved run without training', () => {
  const out = join(tmp, 'run');
  const r = cli('--analyze', out);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /post-training analyses of .*model\.safetensors \(784-32-16-10\)/);
  assert.not.match(r.out, /^epoch +0  train loss/m, 'no training');
  for (const f of ['accuracy.json', 'classMeans.json', 'interventions.json']) {
    assert.ok(existsSync(join(out, 'analysis', f)), `analysis/${f}`);
  }
  const bad = cli('--analyze', join(tmp, 'no-such-run'));
  assert.is(bad.code, 2);
  assert.is(bad.err.trim().split('\n').length, 1, 'one line');
});

test('--init continues from saved weights; the printed first loss is the same for the same weights', () => {
  const a = join(tmp, 'a'), b = join(tmp, 'b');
  const r1 = cli('--epochs', '1', '--steps', '3', '--out', a, '--quiet');
  // the saved model of run a is not the initial one: starting b from it gives another first loss
  const r2 = cli('--epochs', '1', '--steps', '3', '--out', b, '--quiet', '--init', join(a, 'model.safetensors'));
  assert.is(r1.code, 0, r1.err);
  assert.is(r2.code, 0, r2.err);
  const l1 = JSON.parse(readFileSync(join(a, 'metrics.json'), 'utf8')).epochs[0].trainLoss;
  const l2 = JSON.parse(readFileSync(join(b, 'metrics.json'), 'utf8')).epochs[0].trainLoss;
  assert.ok(l2 < l1, `continuing lowers the loss: ${l2} vs ${l1}`);
});

test('--init with weights of another shape fails with one clear line and exit code 2', async () => {
  const file = join(tmp, 'small.safetensors');
  await saveModelFile(file, await Mlp.init([784, 8, 10], createRng('mlp-lens', 1)).export());
  const r = cli('--epochs', '1', '--steps', '1', '--out', join(tmp, 'c'), '--init', file);
  assert.is(r.code, 2);
  assert.match(r.err, /holds a 784-8-10 model; this run is 784-32-16-10 \(set --hidden 8\)/);
  assert.not.match(r.err, /at .*\.ts:\d+/, 'no stack trace');
});

test('bad options fail with the reason and the usage, exit code 2', () => {
  for (const [args, reason] of [
    [['--epochs', '0'], /--epochs must be a whole number ≥ 1, got '0'/],
    [['--lr', 'fast'], /--lr must be a number > 0, got 'fast'/],
    [['--hidden', '32,,16'], /--hidden must be a comma-separated list/],
    [['--device', 'tpu'], /--device must be one of auto, cpu, webgpu/],
    [['--rng', 'numpy'], /--rng must be one of torch, mlp-lens/],
    [['--bogus'], /Unknown option '--bogus'/],
  ] as const) {
    const r = cli(...args);
    assert.is(r.code, 2, args.join(' '));
    assert.match(r.err, reason);
    assert.match(r.err, /usage: node bench\/train.js/);
  }
});

test('a data folder with a broken file fails naming the file, exit code 2', () => {
  const dir = join(tmp, 'data');
  spawnSync('mkdir', ['-p', dir]);
  for (const f of ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) {
    writeFileSync(join(dir, f), Uint8Array.from([0, 0, 8, 1, 0, 0, 0, 9, 1, 2]));  // says 9 bytes, has 2
  }
  const r = cli('--data', dir, '--out', join(tmp, 'd'));
  assert.is(r.code, 2);
  assert.match(r.err, /^error: .*ubyte: .*/);
  assert.is(r.err.trim().split('\n').length, 1, 'one line');
});

test('--help prints every option and exits 0', () => {
  const r = cli('--help');
  assert.is(r.code, 0);
  for (const o of ['--epochs', '--batch', '--lr', '--hidden', '--seed', '--device', '--data', '--out', '--init', '--no-shuffle', '--steps', '--help']) {
    assert.ok(r.out.includes(o), o);
  }
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));
test.run();
