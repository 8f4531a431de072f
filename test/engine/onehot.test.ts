import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../engine/tensor.ts';
import { oneHot } from '../../engine/ops/index.ts';
import { MNIST, backendSuites, parityCheck, prng, tensorOn, values } from '../helpers/check-op.ts';

const t = suite('oneHot');

t('labels that are not 1-D throw an error naming oneHot', () => {
  assert.throws(() => oneHot(Tensor.zeros([2, 1]), 3), /^oneHot: labels must be 1-D, got \[2, 1\]/);
  assert.throws(() => oneHot(Tensor.zeros([]), 3), /^oneHot: labels must be 1-D, got \[\]/);
});

t('output shape is [n, depth]', () => {
  assert.equal([...oneHot(Tensor.zeros([5]), 10).shape], [5, 10]);
});

t('is a constant: its output requires no gradient', () => {
  const y = oneHot(Tensor.from([1, 0], [2], { requiresGrad: true }), 2);
  assert.is(y.requiresGrad, false);
  assert.equal(y.parents.length, 0);
});

t.run();

backendSuites('oneHot', (test, backend) => {
  test('forward: a 1 at each label, 0 elsewhere', async () => {
    assert.equal(await values(oneHot(tensorOn(backend, [2, 0, 1], [3]), 3)), [0, 0, 1, 1, 0, 0, 0, 1, 0]);
    assert.equal(await values(oneHot(tensorOn(backend, [3, 3], [2]), 4)), [0, 0, 0, 1, 0, 0, 0, 1]);
    assert.equal(await values(oneHot(tensorOn(backend, [0], [1]), 1)), [1]);
  });

  for (const n of [1, 10, 63, 64, 65, MNIST.lastBatch, MNIST.oddBatch]) {
    test(`parity on ${n} labels, depth 10`, async () => {
      await parityCheck((y) => oneHot(y, MNIST.classes), [{ data: prng(n).ints(n, 0, MNIST.classes), shape: [n] }], backend, undefined, 'oneHot');
    });
  }

  test('parity on a depth around 64', async () => {
    for (const depth of [63, 64, 65]) {
      await parityCheck((y) => oneHot(y, depth), [{ data: prng(depth).ints(17, 0, depth), shape: [17] }], backend, undefined, `oneHot depth ${depth}`);
    }
  });
});
