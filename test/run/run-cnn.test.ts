// --arch cnn through the run layer: the run directory of a CNN (config, per-channel statistics with the
// position probe, PyTorch's state dict, snapshots), a cancelled CNN run resumed to the same model bytes,
// --init from a CNN model file, and the command line's refusals.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeSafetensors } from '../../mlp/safetensors.ts';
import { loadMnist } from '../../run/mnist-files.ts';
import { runInDirectory, type RunOptions } from '../../run/run.ts';
import { REFERENCE_SETTINGS } from '../../run/session.ts';
import { loadSnapshot, listSnapshots } from '../../run/snapshots.ts';

const t = suite('run/run: a CNN');
const mnist = await loadMnist();
const root = mkdtempSync(join(tmpdir(), 'mlp-lens-cnn-'));
const options = (out: string, more: Partial<RunOptions> = {}): RunOptions => ({
  ...REFERENCE_SETTINGS, sizes: [784, 10], arch: 'cnn:conv8x5,pool2,conv16x5,pool2,32', epochs: 2, steps: 12,
  device: 'cpu', data: mnist, out: join(root, out), analysis: false, report: false, ...more,
});
const json = (dir: string, file: string) => JSON.parse(readFileSync(join(dir, file), 'utf8'));
const cli = (...args: string[]) => spawnSync(process.execPath, ['bench/train.js', ...args], { encoding: 'utf8', timeout: 120_000 });

t.after(() => rmSync(root, { recursive: true, force: true }));

t('a CNN run: its spec in the log and config, channels in the statistics, PyTorch names in the model file', async () => {
  const lines: string[] = [];
  const r = await runInDirectory(options('plain'), { log: (l) => lines.push(l) });
  assert.match(lines[0], /^mlp-lens: cnn:conv8x5,pool2,conv16x5,pool2,32 on cpu \(fused CNN step, .*\), 2 epochs, batch 64/);
  const config = json(r.dir, 'config.json');
  assert.is(config.arch, 'cnn:conv8x5,pool2,conv16x5,pool2,32');
  assert.equal(config.inputShape, [1, 28, 28]);
  const stats = json(r.dir, 'stats/epoch-001.json');
  assert.equal(Object.keys(stats.acts), ['layers.0.pre', 'layers.0.post', 'layers.0.pool', 'layers.1.pre', 'layers.1.post', 'layers.1.pool', 'layers.2.pre', 'layers.2.post', 'logits', 'loss']);
  assert.equal(['layers.0.pool', 'layers.1.post', 'layers.2.post'].map((n) => stats.acts[n].width), [8, 16, 32]);
  assert.is(stats.acts['layers.0.pre'].perNeuron.mean.length, 8, 'one row per channel');
  assert.equal(stats.health.map((h: { tensor: string }) => h.tensor), ['layers.0.post', 'layers.1.post', 'layers.2.post']);
  assert.equal(Object.keys(stats.probe.maps), ['layers.0.pre', 'layers.0.post', 'layers.0.pool', 'layers.1.pre', 'layers.1.post', 'layers.1.pool']);
  assert.is(stats.probe.maps['layers.0.pre'].count, 256 * 8 * 24 * 24);
  const { tensors, metadata } = decodeSafetensors(new Uint8Array(readFileSync(join(r.dir, 'model.safetensors'))), 'model');
  assert.equal(Object.entries(tensors).map(([k, v]) => `${k} ${v.shape.join('x')}`).sort(), [
    'conv1.bias 8', 'conv1.weight 8x1x5x5', 'conv2.bias 16', 'conv2.weight 16x8x5x5',
    'linear1.bias 32', 'linear1.weight 32x256', 'output.bias 10', 'output.weight 10x32',
  ]);
  assert.match(metadata['mlp-lens'], /arch=cnn:conv8x5,pool2,conv16x5,pool2,32/);
  assert.equal(await listSnapshots(r.dir), [-1, 0, 1]);
  const last = (await loadSnapshot(r.dir, 1)).model;
  assert.is(last.kind, 'cnn');
  const trained = await r.model.export(), loaded = await last.export();
  loaded.forEach((l, k) => assert.equal(Array.from(l.W), Array.from(trained[k].W), `snapshot layer ${k}`));
});

t('a cancelled CNN run, resumed, ends with the bytes of one never stopped; --init starts from a CNN file', async () => {
  const whole = await runInDirectory(options('whole'));
  const stop = new AbortController();
  const cut = await runInDirectory(options('cut'), { log: (l) => { if (l.startsWith('epoch   0 ')) stop.abort(); }, signal: stop.signal });
  assert.is(json(cut.dir, 'metrics.json').status, 'cancelled');
  await runInDirectory({ ...options('ignored'), resume: { dir: cut.dir } });
  assert.is(json(cut.dir, 'metrics.json').status, 'done');
  assert.ok(readFileSync(join(cut.dir, 'model.safetensors')).equals(readFileSync(join(whole.dir, 'model.safetensors'))), 'same model bytes');
  // --init from the trained model: its first epoch's loss starts lower than a fresh model's
  const init = await runInDirectory(options('init', { init: join(whole.dir, 'model.safetensors'), epochs: 1 }));
  const [fresh, continued] = [json(whole.dir, 'metrics.json'), json(init.dir, 'metrics.json')].map((m) => m.epochs[0].trainLoss);
  assert.ok(continued < fresh, `${continued} < ${fresh}`);
  const initLayers = await (await loadSnapshot(init.dir, -1)).model.export(), wholeLayers = await (await loadSnapshot(whole.dir, 1)).model.export();
  assert.equal(Array.from(initLayers[1].W), Array.from(wholeLayers[1].W), 'init.safetensors holds the --init weights');
});

t('the command line refuses what a CNN cannot do, in one line, exit code 2', () => {
  const cases: [string[], RegExp][] = [
    [['--arch', 'cnn:conv8x40'], /a 40×40 kernel does not fit its 1×28×28 input/],
    [['--arch', 'cnn', '--layernorm', 'after-relu'], /--layernorm applies to the MLP only, not to --arch cnn/],
    [['--arch', 'cnn', '--hidden', '3'], /give --arch or --hidden, not both/],
    [['--arch', 'rnn'], /--arch: expected mlp\[:W,W,…\] or cnn/],
    [['--arch', 'cnn', '--init', 'bench/train.js'], /bench\/train\.js/],
  ];
  for (const [args, want] of cases) {
    const r = cli(...args, '--epochs', '1', '--steps', '1', '--out', join(root, 'refused'), '--no-analysis', '--no-report');
    assert.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, want, args.join(' '));
  }
});

t.run();
