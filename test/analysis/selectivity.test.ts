import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { overlapOrder, selectivityPerClass } from '../../analysis/selectivity.ts';
import { assertClose } from '../helpers/close.ts';

test('S = (μ_c − μ_rest) / (μ_c + μ_rest + ε), μ_rest the unweighted mean of the other classes (by hand)', () => {
  // neuron 0 fires only for class 0; neuron 1 equally for every class
  const means = [[3, 2], [0, 2], [1, 2]];
  const s = selectivityPerClass(means, 0.001);
  assertClose(s.map((r) => r[0]), [(3 - 0.5) / (3.5 + 0.001), (0 - 2) / (2 + 0.001), (1 - 1.5) / (2.5 + 0.001)]);
  assertClose(s.map((r) => r[1]), [0, 0, 0]);
});

test('overlap order: neurons by how many top sets hold them, ties by index, absent ones last', () => {
  assert.equal(overlapOrder([[3, 1], [1, 0], [4, 3]], 6), [1, 3, 0, 4, 2, 5]);
});

test.run();
