import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { topK, topKPerRow } from '../../analysis/topk.ts';

test('largest signed values first, ties to the lower index, NaN last', () => {
  assert.equal(topK([-1, 3, 0.5, 3, -7], 3), [1, 3, 2]);
  assert.equal(topK([-3, -1, -2], 2), [1, 2]);
  assert.equal(topK([NaN, 1, 0], 3), [1, 2, 0]);
  assert.equal(topK([1, 2], 5), [1, 0]);
  assert.equal(topKPerRow([[0, 1], [1, 0]], 1), [[1], [0]]);
});

test.run();
