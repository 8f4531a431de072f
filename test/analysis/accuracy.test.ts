import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { accuracyPerClass, classesByAccuracy, misclassified, predictionsOf } from '../../analysis/accuracy.ts';
import { assertClose } from '../helpers/close.ts';

// 5 samples, 3 classes
const logits = Float32Array.from([
  2, 1, 0, // → 0
  0, 0, 1, // → 2
  1, 1, 0, // tie: the first maximum → 0
  0, 3, 0, // → 1
  0, 0, 5, // → 2
]);
const labels = [0, 1, 1, 1, 2];

test('predictions are the first maximum of each row', () => {
  assert.equal(Array.from(predictionsOf(logits, 3)), [0, 2, 0, 1, 2]);
});

test('per-class accuracy and counts (by hand)', () => {
  const a = accuracyPerClass([0, 2, 0, 1, 2], labels, 3);
  assert.equal(a.counts, [1, 3, 1]);
  assert.equal(a.correct, [1, 1, 1]);
  assertClose(a.perClass, [100, 100 / 3, 100]);
  assertClose([a.accuracy], [60]);
  assert.equal(classesByAccuracy(a.perClass).map((r) => r.cls), [0, 2, 1]);
  assert.ok(Number.isNaN(accuracyPerClass([0], [0], 2).perClass[1]), 'a class without samples is NaN');
});

test('misclassified samples carry label, prediction and softmax confidences', () => {
  const m = misclassified(logits, labels, 3, [10, 11, 12, 13, 14]);
  assert.equal(m.map((e) => [e.row, e.index, e.label, e.pred]), [[1, 11, 1, 2], [2, 12, 1, 0]]);
  const z = 2 + Math.E; // row 1: exp(0), exp(0), exp(1)
  assertClose([m[0].confidence, m[0].trueProb], [Math.E / z, 1 / z], { atol: 1e-7 });
  // a tie: both top classes have the same probability
  assertClose([m[1].confidence, m[1].trueProb], [Math.E / (2 * Math.E + 1), Math.E / (2 * Math.E + 1)], { atol: 1e-7 });
});

test.run();
