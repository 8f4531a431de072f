import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../engine/tensor.ts';
import { argmax } from '../../engine/ops/index.ts';
import { sizeOf } from '../../engine/shape.ts';
import { MNIST, backendSuites, parityCheck, prng, tensorOn, values } from '../helpers/check-op.ts';

const t = suite('argmax');

t('output shape: the axis removed; indices come in the input dtype', () => {
  const x = Tensor.zeros([2, 3, 4], { dtype: 'f64' });
  assert.equal([...argmax(x, 1).shape], [2, 4]);
  assert.equal([...argmax(x, -1).shape], [2, 3]);
  assert.is(argmax(x, 0).dtype, 'f64');
});

t('an axis out of range throws an error naming argmax', () => {
  assert.throws(() => argmax(Tensor.zeros([2, 3]), 2), /^argmax: axis 2 out of range for rank 2/);
  assert.throws(() => argmax(Tensor.zeros([2, 3]), -3), /^argmax: axis -3 out of range for rank 2/);
});

t('is a constant: its output requires no gradient', () => {
  const y = argmax(Tensor.from([1, 3, 2], [1, 3], { requiresGrad: true }), 1);
  assert.is(y.requiresGrad, false);
  assert.equal(y.parents.length, 0);
});

t.run();

backendSuites('argmax', (test, backend) => {
  test('forward: a 2×3 matrix over each axis', async () => {
    const x = tensorOn(backend, [1, 5, 3, 4, 2, 6], [2, 3]);
    assert.equal(await values(argmax(x, 0)), [1, 0, 1]);
    assert.equal(await values(argmax(x, 1)), [1, 2]);
    assert.equal(await values(argmax(tensorOn(backend, [-3, -1, -2], [1, 3]), 1)), [1]);
  });

  test('forward: a 2×2×2 tensor over each axis', async () => {
    // [[[1, 8], [3, 2]], [[5, 0], [-7, 6]]]
    const x = tensorOn(backend, [1, 8, 3, 2, 5, 0, -7, 6], [2, 2, 2]);
    assert.equal(await values(argmax(x, 0)), [1, 0, 0, 1]);
    assert.equal(await values(argmax(x, 1)), [1, 0, 0, 1]);
    assert.equal(await values(argmax(x, 2)), [1, 0, 0, 1]);
  });

  test('ties pick the first index (as torch.argmax)', async () => {
    assert.equal(await values(argmax(tensorOn(backend, [2, 7, 7, 0, 0, 0, 1, -1, 1], [3, 3]), 1)), [1, 0, 0]);
    assert.equal(await values(argmax(tensorOn(backend, [5, 5, 5, 5], [2, 2]), 0)), [0, 0]);
  });

  const SHAPES: number[][] = [[1, 1], [1, 65], [65, 1], [63, 64], [65, 10], [MNIST.batch, MNIST.classes], [MNIST.lastBatch, MNIST.classes], [MNIST.batch, MNIST.dIn]];
  for (const shape of SHAPES) {
    for (const axis of [0, 1]) {
      test(`parity on [${shape}] over axis ${axis}`, async () => {
        await parityCheck((x) => argmax(x, axis), [{ data: prng(sizeOf(shape) + axis).uniform(sizeOf(shape)), shape, grad: true }], backend, undefined, `argmax axis ${axis}`);
      });
    }
  }

  test('parity on 3-D shapes over each axis', async () => {
    for (const shape of [[4, 63, 5], [3, 65, 64]]) {
      for (const axis of [0, 1, 2]) {
        await parityCheck((x) => argmax(x, axis), [{ data: prng(sizeOf(shape) + axis).uniform(sizeOf(shape)), shape }], backend, undefined, `argmax axis ${axis}`);
      }
    }
  });

  test('parity with many ties (integers 0..3): first index everywhere', async () => {
    for (const [shape, axis] of [[[65, 10], 1], [[64, 63], 0], [[17, 4, 3], 1]] as [number[], number][]) {
      await parityCheck((x) => argmax(x, axis), [{ data: prng(12).ints(sizeOf(shape), 0, 4), shape }], backend, undefined, `argmax axis ${axis} ties`);
    }
  });
});
