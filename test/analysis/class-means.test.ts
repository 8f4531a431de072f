import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { meanOverBatch, meanPerClass, meanPerClassOfAll } from '../../analysis/class-means.ts';
import { assertClose } from '../helpers/close.ts';

const x = { shape: [4, 2], data: Float32Array.from([1, 2, 3, 4, 10, 20, 5, 6]) };
const labels = [0, 0, 2, 0];

test('class × neuron means (by hand); a class without samples is NaN', () => {
  const m = meanPerClass(x, labels, 3);
  assertClose(m[0], [3, 4]);
  assert.ok(m[1].every(Number.isNaN));
  assertClose(m[2], [10, 20]);
  assertClose(meanOverBatch(x), [19 / 4, 32 / 4]);
});

test('every 2-D record gets a table; the per-sample loss does not', () => {
  const all = meanPerClassOfAll({ 'layers.0.post': x, loss: { shape: [4], data: new Float32Array(4) } }, labels, 3);
  assert.equal(Object.keys(all), ['layers.0.post']);
});

test.run();
