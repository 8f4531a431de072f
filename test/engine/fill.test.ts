import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../engine/tensor.ts';
import { add, fill, sum } from '../../engine/ops/index.ts';
import { AWKWARD_SIZES, MNIST, backendSuites, parityCheck, prng, tensorOn, values } from '../helpers/check-op.ts';

const t = suite('fill');

t('takes the shape and dtype of its input, rank 0 to 3', () => {
  for (const shape of [[], [3], [2, 3], [2, 1, 2]]) {
    const y = fill(Tensor.zeros(shape, { dtype: 'f64' }), 1);
    assert.equal([...y.shape], shape);
    assert.is(y.dtype, 'f64');
  }
});

t('is a constant: its output requires no gradient', () => {
  const y = fill(Tensor.from([1, 2], [2], { requiresGrad: true }), 3);
  assert.is(y.requiresGrad, false);
  assert.equal(y.parents.length, 0);
});

t('no gradient flows through it: d/dx Σ (x + fill(x, 3)) is 1', () => {
  const x = Tensor.from([1, 2], [2], { dtype: 'f64', requiresGrad: true });
  sum(add(x, fill(x, 3)), 0).backward();
  assert.equal(Array.from(x.grad!.data()), [1, 1]);
});

t.run();

backendSuites('fill', (test, backend) => {
  test('forward: every element is the value, whatever the input held', async () => {
    const x = tensorOn(backend, [1, -2, 3, 4, 5, 6], [2, 3]);
    assert.equal(await values(fill(x, 7)), [7, 7, 7, 7, 7, 7]);
    assert.equal(await values(fill(x, -1.5)), [-1.5, -1.5, -1.5, -1.5, -1.5, -1.5]);
    assert.equal(await values(fill(x, 0)), [0, 0, 0, 0, 0, 0]);
    assert.equal(await values(fill(tensorOn(backend, [9], []), 2)), [2]);
  });

  for (const n of [...AWKWARD_SIZES, MNIST.batch * MNIST.dIn]) {
    test(`parity on [${n}]`, async () => {
      await parityCheck((x) => fill(x, 0.25), [{ data: prng(n).uniform(n), shape: [n], grad: true }], backend, undefined, 'fill');
    });
  }
});
