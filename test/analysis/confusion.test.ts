import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { confusionMatrix, matrixDiff, rowNormalize, topConfusions } from '../../analysis/confusion.ts';
import { assertClose } from '../helpers/close.ts';

test('confusion matrix: rows = true class, columns = prediction (by hand)', () => {
  const m = confusionMatrix([0, 2, 0, 1, 2, 2], [0, 1, 1, 1, 2, 0], 3);
  assert.equal(m, [[1, 0, 1], [1, 1, 1], [0, 0, 1]]);
});

test('rows sum to the class counts, for any predictions', () => {
  const labels = Array.from({ length: 500 }, (_, i) => (i * 7) % 10);
  const pred = Array.from({ length: 500 }, (_, i) => (i * i) % 10);
  const m = confusionMatrix(pred, labels, 10);
  const counts = new Array(10).fill(0);
  labels.forEach((y) => counts[y]++);
  assert.equal(m.map((r) => r.reduce((a, b) => a + b, 0)), counts);
  rowNormalize(m).forEach((r, i) => assertClose([r.reduce((a, b) => a + b, 0)], [counts[i] ? 1 : 0], {}, `row ${i}`));
});

test('differences and the largest confusions', () => {
  const a = [[5, 1], [3, 2]], b = [[4, 2], [1, 4]];
  assert.equal(matrixDiff(a, b), [[1, -1], [2, -2]]);
  assert.equal(rowNormalize([[0, 0], [1, 3]]), [[0, 0], [0.25, 0.75]]);
  assert.equal(topConfusions(a, 1), [{ from: 1, to: 0, value: 3 }]);
});

test.run();
