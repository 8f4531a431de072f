import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { computeEpochStats, type EpochStats } from '../../analysis/epoch-stats.ts';
import { computeInputStats } from '../../analysis/input-stats.ts';
import { InputError } from '../../mlp/errors.ts';
import type { EpochRecord } from '../../mlp/recorder.ts';
import { loadInputStats, loadRunStats, saveEpochStats, saveInputStats } from '../../run/stats-files.ts';

const tmp = mkdtempSync(join(tmpdir(), 'mlp-lens-stats-'));
let n = 0;
const fresh = () => join(tmp, `run-${n++}`);

/** class 2 of 3 is absent, so the statistics hold NaN */
function stats(epoch: number): EpochStats {
  const rec: EpochRecord = {
    epoch, count: 3, labels: Uint8Array.of(0, 1, 1), indices: Uint32Array.of(0, 1, 2),
    acts: { 'layers.0.post': { width: 2, data: Float32Array.of(0, 1, 0, 2 + epoch, 0, 3) } },
    grads: { 'layers.0.post': { width: 2, data: Float32Array.of(0.5, -1, 0, 0, 1, 1) } },
    batchOffsets: Uint32Array.of(0, 2, 3),
    paramGrads: { names: ['layers.0.W'], steps: 2, norms: Float32Array.of(1, 2) },
  };
  return computeEpochStats(rec, { classes: 3, firstBatch: 2 });
}

/** deep equality where NaN equals NaN */
const same = (a: unknown, b: unknown) => assert.equal(JSON.parse(JSON.stringify(a)), JSON.parse(JSON.stringify(b)));

async function rejects(p: Promise<unknown>, pattern: RegExp): Promise<InputError> {
  try { await p; } catch (e) {
    assert.instance(e, InputError);
    assert.match((e as Error).message, pattern);
    return e as InputError;
  }
  assert.unreachable('expected an InputError');
  throw new Error('unreachable');
}

test('epoch statistics round-trip through stats/epoch-NNN.json, NaN included, in epoch order', async () => {
  const dir = fresh();
  const s = [0, 1, 2].map(stats);
  for (const e of [2, 0, 1]) await saveEpochStats(dir, s[e]);
  assert.equal(readdirSync(join(dir, 'stats')).sort(), ['epoch-000.json', 'epoch-001.json', 'epoch-002.json']);
  const back = await loadRunStats(dir);
  assert.equal(back.map((x) => x.epoch), [0, 1, 2]);
  same(back, s);
  // NaN is read back as NaN, not null
  assert.ok(Number.isNaN(back[0].acts['layers.0.post'].perClass.mean[2]));
  assert.ok(Number.isNaN(back[1].acts['layers.0.post'].perClassOwnHistogram![2].edges[0]));
  assert.is(back[2].acts['layers.0.post'].all.mean, s[2].acts['layers.0.post'].all.mean);
  // no temporary file is left behind
  assert.not.ok(readdirSync(join(dir, 'stats')).some((f) => f.includes('.tmp-')));
});

test('input statistics round-trip through stats/input.json', async () => {
  const dir = fresh();
  const split = { images: Uint8Array.of(0, 255, 3, 3, 9, 9, 9, 9), labels: Uint8Array.of(1, 0), count: 2, rows: 2, cols: 2 };
  const s = computeInputStats(split, { classes: 3 });
  await saveInputStats(dir, s);
  same(await loadInputStats(dir), s);
  assert.ok(Number.isNaN((await loadInputStats(dir)).perDigit.mean[2]));
});

test('a run without statistics, an empty folder, a gap, and a missing input.json are clear InputErrors', async () => {
  const dir = fresh();
  await rejects(loadRunStats(dir), /stats: not found: this run has no saved statistics/);
  await saveInputStats(dir, computeInputStats({ images: Uint8Array.of(1), labels: Uint8Array.of(0), count: 1, rows: 1, cols: 1 }));
  await rejects(loadRunStats(dir), /holds no epoch-NNN\.json file/);
  await saveEpochStats(dir, stats(0));
  await saveEpochStats(dir, stats(2));
  await rejects(loadRunStats(dir), /epoch-001\.json: missing/);
  await rejects(loadInputStats(fresh()), /input\.json: not found/);
});

test('a damaged file is named with the reason: cut short, wrong format, wrong shape, wrong epoch', async () => {
  const dir = fresh();
  const path = await saveEpochStats(dir, stats(0));
  const good = readFileSync(path, 'utf8');
  writeFileSync(path, good.slice(0, good.length / 2));
  const e = await rejects(loadRunStats(dir), /epoch-000\.json: is not valid JSON/);
  assert.match(e.file, /epoch-000\.json$/);
  writeFileSync(path, JSON.stringify({ ...JSON.parse(good), format: 'something-else' }));
  await rejects(loadRunStats(dir), /\$\.format: expected "mlp-lens\/epoch-stats"/);
  writeFileSync(path, JSON.stringify({ ...JSON.parse(good), version: 2 }));
  await rejects(loadRunStats(dir), /unsupported version 2/);
  const bad = JSON.parse(good);
  bad.acts['layers.0.post'].histogram.counts.pop();
  writeFileSync(path, JSON.stringify(bad));
  await rejects(loadRunStats(dir), /\$\.acts\["layers\.0\.post"\]\.histogram\.counts: expected 30 values, got 29/);
  const bad2 = JSON.parse(good);
  bad2.grads['layers.0.post'].perClassNeuron.mean[1][0] = 'x';
  writeFileSync(path, JSON.stringify(bad2));
  await rejects(loadRunStats(dir), /perClassNeuron\.mean\[1\]\[0\]: expected a number/);
  const bad3 = JSON.parse(good);
  bad3.health[0].dead = [7];
  writeFileSync(path, JSON.stringify(bad3));
  await rejects(loadRunStats(dir), /\$\.health\[0\]\.dead\[0\]: neuron 7 of 2/);
  writeFileSync(path, JSON.stringify({ ...JSON.parse(good), epoch: 4 }));
  await rejects(loadRunStats(dir), /holds epoch 4, not 0/);
  writeFileSync(path, good);
  assert.is((await loadRunStats(dir)).length, 1);
  assert.ok(existsSync(path));
});

test('mlp-lens dynamics prints the findings from a saved run, and exits 2 on a run without stats', async () => {
  const dir = fresh();
  for (let e = 0; e < 3; e++) {
    // 10 samples, one per digit; layer-1 pre-activations grow with the epoch, layer-2 neuron 1 dominates
    const labels = Uint8Array.from({ length: 10 }, (_, i) => i);
    const pre = Float32Array.from({ length: 30 }, (_, i) => ((i % 7) - 2) * (1 + e));
    const rec: EpochRecord = {
      epoch: e, count: 10, labels, indices: Uint32Array.from(labels),
      acts: {
        'layers.0.pre': { width: 3, data: pre }, 'layers.0.post': { width: 3, data: pre.map((v) => Math.max(v, 0)) },
        'layers.1.post': { width: 2, data: Float32Array.from({ length: 20 }, (_, i) => (i % 2 ? 5 + e : 0)) },
      },
      grads: {}, batchOffsets: Uint32Array.of(0, 10),
    };
    await saveEpochStats(dir, computeEpochStats(rec, { classes: 10, firstBatch: 4 }));
  }
  const csvDir = join(dir, 'csv');
  const r = spawnSync(process.execPath, ['bin/mlp-lens.js', 'dynamics', dir, '--csv', csvDir], { encoding: 'utf8', timeout: 60_000 });
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /3 epochs of statistics \(0–2\)/);
  assert.match(r.stdout, /layers\.0\.pre \(linear1 output\)/);
  assert.match(r.stdout, /digit 3: /);
  assert.match(r.stdout, /layers\.1\.post: neurons with the largest mean activation at epoch 2 \(item 22\):\n  1 \(7\.000\), 0 \(0\.000\)/);
  assert.match(r.stdout, /layer 1 \(layers\.1\.post, 2 units\):\n    per epoch: 0:1\/0\/1 1:1\/0\/1 2:1\/0\/1/);
  assert.ok(existsSync(join(csvDir, 'drift.csv')));
  assert.match(readFileSync(join(csvDir, 'neuron-means-layers.1.post.csv'), 'utf8'), /^epoch,neuron0,neuron1\n0,0,5\n/);
  const none = spawnSync(process.execPath, ['bin/mlp-lens.js', 'dynamics', fresh()], { encoding: 'utf8', timeout: 60_000 });
  assert.is(none.status, 2);
  assert.match(none.stderr, /^error: .*stats: not found/);
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));
test.run();
