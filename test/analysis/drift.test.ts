import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { argmaxOf, drift, topNeurons } from '../../analysis/drift.ts';
import { computeEpochStats, type EpochStats } from '../../analysis/epoch-stats.ts';
import type { EpochRecord } from '../../mlp/recorder.ts';
import { assertClose } from '../helpers/close.ts';

/** epoch e: 4 samples (classes 0, 1, 0, 1), layers.0.post [4, 3] growing with e, its gradient, a logits slot */
function epochStats(e: number, withLogits = true): EpochStats {
  const post = [[0, 1 + e, 2], [0, 2, 3 * e], [0, 1, 2 + e], [0, 0, e]].flat();
  const rec: EpochRecord = {
    epoch: e, count: 4, labels: Uint8Array.of(0, 1, 0, 1), indices: Uint32Array.of(0, 1, 2, 3),
    acts: { 'layers.0.post': { width: 3, data: Float32Array.from(post) }, ...(withLogits ? { logits: { width: 1, data: Float32Array.of(e, e, e, e) } } : {}) },
    grads: { 'layers.0.post': { width: 3, data: Float32Array.from(post, (v) => -v / 4) } },
    batchOffsets: Uint32Array.of(0, 2, 4),
    paramGrads: { names: ['layers.0.W'], steps: 2, norms: Float32Array.of(e, e + 2) },
  };
  return computeEpochStats(rec, { classes: 3, firstBatch: 2 });
}

test('series over epochs: overall, per class, per neuron, first batch, health, gradient and parameter norms', () => {
  const stats = [2, 0, 1].map((e) => epochStats(e));
  const d = drift(stats);
  assert.equal(d.epochs, [0, 1, 2]);
  assert.is(d.classes, 3);
  const t = d.acts['layers.0.post'];
  assert.equal(t.mean, stats.sort((a, b) => a.epoch - b.epoch).map((s) => s.acts['layers.0.post'].all.mean));
  // neuron means per epoch: neuron 1 is (1 + e + 2 + 1 + 0) / 4, neuron 2 is (2 + 3e + 2 + e + e) / 4
  assertClose(t.neuronMean.flat(), [0, 1, 2].flatMap((e) => [0, (4 + e) / 4, (4 + 5 * e) / 4]), { atol: 1e-12, rtol: 0 }, 'neuronMean');
  // class 2 never appears: NaN in every epoch; class 0 has rows 0 and 2
  assert.ok(t.perClassMean.every((row) => Number.isNaN(row[2])));
  assertClose(t.perClassMean.map((r) => r[0]), [0, 1, 2].map((e) => (0 + 1 + e + 2 + 0 + 1 + 2 + e) / 6), { atol: 1e-12, rtol: 0 }, 'class 0 mean');
  assert.equal(t.firstBatch!.mean, stats.map((s) => s.acts['layers.0.post'].firstBatch!.all.mean));
  assert.equal(t.positiveFraction![0], [0, 0.75, 0.5]);
  // neuron 0 is dead every epoch; neuron 2 is active on every sample from epoch 1 on
  assert.equal(d.health, [{ layer: 0, tensor: 'layers.0.post', dead: [1, 1, 1], rare: [0, 0, 0], always: [0, 1, 1] }]);
  assert.equal(d.grads['layers.0.post'].norm, stats.map((s) => s.grads['layers.0.post'].norm));
  assert.ok(d.grads['layers.0.post'].meanStepNorm!.every((v) => v > 0));
  assert.equal(d.params, { names: ['layers.0.W'], meanNorm: [[1], [2], [3]] });
});

test('a tensor missing from one epoch is left out; mismatched class counts are an error', () => {
  const d = drift([epochStats(0), epochStats(1, false)]);
  assert.equal(Object.keys(d.acts), ['layers.0.post']);
  const other = { ...epochStats(2), classes: 4 };
  assert.throws(() => drift([epochStats(0), other]), /classes/);
  assert.equal(drift([]).epochs, []);
});

test('topNeurons and argmaxOf: largest first, NaN ignored, ties by index', () => {
  assert.equal(topNeurons([0.5, 3, NaN, 3, -1], 3), [{ neuron: 1, value: 3 }, { neuron: 3, value: 3 }, { neuron: 0, value: 0.5 }]);
  assert.is(argmaxOf([1, 4, 4, NaN, 2]), 1);
  assert.is(argmaxOf([NaN]), -1);
});

test.run();
