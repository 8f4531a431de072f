// analysis/through-training.ts and run/through-training.ts on a small real run (3 epochs × 20 steps, a
// 600-image test split): the record has the ThroughTraining shapes, CKA is 1 on its diagonals, the last
// epoch's aligned PCA is its own PCA (Procrustes onto itself is the identity), the sample is stratified;
// the run writes the JSON and the tables, says its findings, and can be told not to. The mlp-lens
// analyze / --analyze RUN path (analyzeSaved) is left to the CLI check: each call runs the whole suite.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { cacheImages } from '../../analysis/forward-cache.ts';
import { pca } from '../../analysis/pca.ts';
import { analyzeThroughTraining } from '../../analysis/through-training.ts';
import { THROUGH_TRAINING_FORMAT, type ThroughTraining } from '../../analysis/through-training-types.ts';
import type { Mnist } from '../../mlp/mnist.ts';
import { loadMnist } from '../../run/mnist-files.ts';
import { runInDirectory, type RunOptions } from '../../run/run.ts';
import { readConfig } from '../../cli/train.ts';
import { REFERENCE_SETTINGS } from '../../run/session.ts';
import { listSnapshots, loadSnapshot } from '../../run/snapshots.ts';
import { analyzeRunThroughTraining } from '../../run/through-training.ts';
import { assertClose } from '../helpers/close.ts';
import { mlpOnly } from '../../mlp/net.ts';

const t = suite('analysis/through-training');
const full = await loadMnist();
// a test split of 600 images keeps the post-training suite of the wired run short
const TEST = 600;
const d = full.test.rows * full.test.cols;
const mnist: Mnist = { ...full, test: { ...full.test, count: TEST, images: full.test.images.subarray(0, TEST * d), labels: full.test.labels.subarray(0, TEST) } };
const root = mkdtempSync(join(tmpdir(), 'mlp-lens-through-'));
const options = (out: string, more: Partial<RunOptions> = {}): RunOptions => ({
  ...REFERENCE_SETTINGS, epochs: 3, steps: 20, device: 'cpu', data: mnist, out: join(root, out), analysis: false, report: false, ...more,
});
const PER_CLASS = 20;

const run = await runInDirectory(options('plain'));
const epochs = await listSnapshots(run.dir);
const snapshots = await Promise.all(epochs.map(async (epoch) => ({ epoch, model: mlpOnly((await loadSnapshot(run.dir, epoch)).model, 'this test') })));
const tt: ThroughTraining = await analyzeThroughTraining(snapshots, mnist.test, { perClass: PER_CLASS, seed: 7, probeIterations: 50 });

t.after(() => rmSync(root, { recursive: true, force: true }));

t('the record has the ThroughTraining shapes', () => {
  const n = 10 * PER_CLASS, widths = [32, 16];
  assert.is(tt.format, THROUGH_TRAINING_FORMAT);
  assert.is(tt.version, 1);
  assert.equal(tt.sizes, [784, 32, 16, 10]);
  assert.is(tt.classes, 10);
  assert.equal(tt.epochs, [-1, 0, 1, 2]);
  assert.equal(tt.perEpoch.map((p) => p.epoch), tt.epochs);
  for (const p of tt.perEpoch) {
    assert.is(p.layers.length, 2);
    assert.ok(p.sampleAccuracy >= 0 && p.sampleAccuracy <= 100);
    assert.is(p.ckaLayers.length, 2);
    p.layers.forEach((l, k) => {
      const w = widths[k];
      assert.is(l.selectivity.length, 10);
      assert.ok(l.selectivity.every((r) => r.length === w));
      assert.ok(l.top3.every((r) => r.length === 3 && r.every((i) => Number.isInteger(i) && i >= 0 && i < w)));
      assert.is(l.topClass.length, w);
      assert.is(l.activeFraction.length, w);
      l.topClass.forEach((c, i) => assert.ok(l.activeFraction[i] === 0 ? c === -1 : c >= 0 && c < 10, `top class of neuron ${i}`));
      assert.equal(l.dead, l.activeFraction.flatMap((a, i) => (a === 0 ? [i] : [])));
      assert.ok(l.rare.every((i) => l.activeFraction[i] > 0 && l.activeFraction[i] < 0.01));
      assert.ok(l.silhouette >= -1 && l.silhouette <= 1);
      assert.ok(l.probe.heldOutAccuracy >= 0 && l.probe.heldOutAccuracy <= 100 && l.probe.trainAccuracy >= 0 && l.probe.trainAccuracy <= 100);
      assert.is(l.aligned.length, n);
      assert.ok(l.aligned.every((xy) => xy.length === 2 && xy.every(Number.isFinite)));
      assert.is(l.explained.length, 2);
      assert.ok(l.explained[0] >= l.explained[1] && l.explained[0] <= 1);
    });
  }
  assert.is(tt.ckaEpochs.length, 2);
  assert.ok(tt.ckaEpochs.every((m) => m.length === 4 && m.every((r) => r.length === 4)));
  assert.ok(Array.isArray(tt.findings) && tt.findings.length > 0);
  assert.ok(tt.findings.every((f) => typeof f.text === 'string' && typeof f.kind === 'string' && f.table.columns.length > 0));
  for (const part of ['forward', 'silhouette', 'probe', 'pca', 'cka']) assert.ok(tt.timings[part] >= 0, part);
});

t('the sample: stratified, seeded, sorted, its labels the split\'s; the held-out rows are positions in it', () => {
  const s = tt.sample;
  assert.equal(s.perClass, new Array(10).fill(PER_CLASS));
  assert.is(s.seed, 7);
  assert.ok(s.rows.every((r, i) => r >= 0 && r < TEST && (i === 0 || r > s.rows[i - 1])));
  assert.equal(s.labels, s.rows.map((r) => mnist.test.labels[r]));
  for (let c = 0; c < 10; c++) {
    assert.is(s.labels.filter((l) => l === c).length, PER_CLASS);
    // a fifth of each class held out
    assert.is(s.heldOut.filter((i) => s.labels[i] === c).length, 4);
  }
  assert.ok(s.heldOut.every((i, j) => i >= 0 && i < s.rows.length && (j === 0 || i > s.heldOut[j - 1])));
});

t('CKA: 1 on the diagonal of every matrix, symmetric, in [0, 1]', () => {
  for (const m of [...tt.ckaEpochs, ...tt.perEpoch.map((p) => p.ckaLayers)]) {
    m.forEach((row, a) => row.forEach((v, b) => {
      if (a === b) assertClose([v], [1], { atol: 1e-9 }, `diagonal ${a}`);
      assert.ok(v >= 0 && v <= 1 + 1e-9, `${a},${b}: ${v}`);
      assert.is(v, m[b][a]);
    }));
  }
});

t('the last epoch\'s aligned PCA is its own PCA (the rotation onto itself is the identity)', async () => {
  const last = snapshots[snapshots.length - 1].model;
  const x = new Float32Array(tt.sample.rows.length * d);
  tt.sample.rows.forEach((r, i) => { for (let j = 0; j < d; j++) x[i * d + j] = mnist.test.images[r * d + j] / 255; });
  const images = { x, labels: Uint8Array.from(tt.sample.labels), indices: Uint32Array.from(tt.sample.rows), count: tt.sample.rows.length, dim: d };
  const cache = await cacheImages(last, images, { names: ['layers.0.post', 'layers.1.post'], grads: [] });
  for (const k of [0, 1]) {
    const own = pca(cache.acts[`layers.${k}.post`]!, 2);
    const got = tt.perEpoch[tt.perEpoch.length - 1].layers[k].aligned.flat();
    assertClose(got, Array.from(own.projected.data), { atol: 1e-4 }, `layer ${k}`);
    assertClose(tt.perEpoch[tt.perEpoch.length - 1].layers[k].explained, own.explainedVarianceRatio.slice(0, 2), { atol: 1e-9 }, `explained ${k}`);
  }
  // an earlier epoch is rotated, not projected anew: same distances between points as its own PCA
  const e0 = tt.perEpoch[1].layers[1].aligned;
  const own0 = pca((await cacheImages(snapshots[1].model, images, { names: ['layers.1.post'], grads: [] })).acts['layers.1.post']!, 2).projected.data;
  const dist = (p: number[], q: number[]) => Math.hypot(p[0] - q[0], p[1] - q[1]);
  for (const [i, j] of [[0, 1], [5, 120], [33, 199]]) {
    assertClose([dist(e0[i], e0[j])], [dist([own0[2 * i], own0[2 * i + 1]], [own0[2 * j], own0[2 * j + 1]])], { atol: 1e-4 }, `pair ${i},${j}`);
  }
});

t('the sample accuracy is the model\'s on the sample rows; the same options give the same record', async () => {
  const again = await analyzeThroughTraining(snapshots, mnist.test, { perClass: PER_CLASS, seed: 7, probeIterations: 50 });
  assert.equal(again.perEpoch, tt.perEpoch);
  assert.equal(again.findings, tt.findings);
  const other = await analyzeThroughTraining(snapshots.slice(-2), mnist.test, { perClass: 5, seed: 8, probeIterations: 5 });
  assert.equal(other.epochs, [1, 2]);
  assert.is(other.sample.rows.length, 50);
});

t('run/through-training: writes the JSON and the tables, logs the findings; fewer than 2 snapshots: null and a warning', async () => {
  const lines: string[] = [], warnings: string[] = [];
  const out = join(root, 'tt-out');
  const r = await analyzeRunThroughTraining(run.dir, mnist, { log: (l) => lines.push(l), warn: (l) => warnings.push(l), perClass: PER_CLASS, seed: 7, probeIterations: 50, out });
  assert.ok(r);
  assert.equal(warnings, []);
  assert.match(lines[0], /^through training: the initial weights and epochs 0–2, 200 test images \(20 per class, seed 7\), [\d.]+ s; findings:$/);
  assert.equal(lines.slice(1, -1), r!.findings.map((f) => `  ${f.text}`));
  assert.match(lines[lines.length - 1], /through-training\.json, tables in .*through-training$/);
  const saved = JSON.parse(readFileSync(join(out, 'through-training.json'), 'utf8'));
  assert.is(saved.format, THROUGH_TRAINING_FORMAT);
  assert.equal(saved.epochs, [-1, 0, 1, 2]);
  assert.equal(saved.findings, r!.findings);
  assert.equal(saved.ckaEpochs, r!.ckaEpochs);
  assert.is(saved.perEpoch[3].layers[1].aligned.length, 200);
  const tables = readdirSync(join(out, 'through-training')).sort();
  assert.equal(tables, ['cka-epochs-layer0.csv', 'cka-epochs-layer1.csv', 'cka-layers.csv', 'findings', 'findings.csv', 'layers.csv', 'neurons.csv', 'selectivity.csv', 'top3.csv']);
  assert.is(readdirSync(join(out, 'through-training', 'findings')).length, r!.findings.length);
  const sel = readFileSync(join(out, 'through-training', 'selectivity.csv'), 'utf8').trim().split('\n');
  assert.is(sel[0], 'epoch,layer,neuron,class,selectivity');
  assert.is(sel.length, 1 + 4 * (32 + 16) * 10);
  const cka = readFileSync(join(out, 'through-training', 'cka-epochs-layer1.csv'), 'utf8').trim().split('\n');
  assert.is(cka[0], 'epoch,epoch -1,epoch 0,epoch 1,epoch 2');
  assert.is(cka.length, 5);

  const one = await runInDirectory(options('one', { epochs: 1, snapshots: true }));
  rmSync(join(one.dir, 'snapshots', 'epoch-000.safetensors'));
  assert.is(await analyzeRunThroughTraining(one.dir, mnist, { warn: (l) => warnings.push(l) }), null);
  assert.equal(warnings, ['warning: no analyses through training: the run kept one snapshot (the initial weights) (they need two or more)']);
});

t('wired: a run with analyses ends with them (after the analyses, before the last line); --no-through-training turns them off', async () => {
  // one run with the post-training suite (the slow part of this file); analyzeSaved takes the same path
  const lines: string[] = [];
  const r = await runInDirectory(options('wired', { epochs: 2, analysis: true }), { log: (l) => lines.push(l) });
  assert.ok(existsSync(join(r.dir, 'through-training.json')));
  const at = lines.findIndex((l) => l.startsWith('through training: the initial weights and epochs 0–1'));
  assert.ok(at > lines.findIndex((l) => l.startsWith('analysis: ')), 'after the analyses');
  assert.match(lines[lines.length - 1], /^run directory: /);
  const cfg = readConfig(['--no-through-training', '--out', join(root, 'x')]);
  assert.is(cfg !== 'help' && cfg.throughTraining, false);
  // on by default, and then not written into config.json
  const plain = readConfig(['--out', join(root, 'x')]);
  assert.is(plain !== 'help' && plain.throughTraining, undefined);
});

t.run();
