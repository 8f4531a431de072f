import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../engine/tensor.ts';
import { sum } from '../../engine/ops/index.ts';
import { sizeOf } from '../../engine/shape.ts';
import { MNIST, backendSuites, finiteDifferenceCheck, parityCheck, prng, tensorOn, values } from '../helpers/check-op.ts';

const t = suite('sum');

t('output shapes: the axis removed, or kept as 1', () => {
  const x = Tensor.zeros([2, 3, 4]);
  assert.equal([...sum(x, 0).shape], [3, 4]);
  assert.equal([...sum(x, 1).shape], [2, 4]);
  assert.equal([...sum(x, -1).shape], [2, 3]);
  assert.equal([...sum(x, 1, true).shape], [2, 1, 4]);
  assert.equal([...sum(Tensor.zeros([5]), 0).shape], []);
});

t('an axis out of range throws an error naming sum', () => {
  assert.throws(() => sum(Tensor.zeros([2, 3]), 2), /^sum: axis 2 out of range for rank 2/);
  assert.throws(() => sum(Tensor.zeros([2, 3]), -3), /^sum: axis -3 out of range for rank 2/);
  assert.throws(() => sum(Tensor.zeros([2, 3]), 0.5), /^sum: axis 0.5 out of range/);
  assert.throws(() => sum(Tensor.zeros([]), 0), /^sum: axis 0 out of range for rank 0/);
});

const FD_CASES: [number[], number, boolean][] = [
  [[3, 4], 0, false], [[3, 4], 1, false], [[3, 4], 1, true], [[5], 0, false],
  [[2, 3, 4], 0, false], [[2, 3, 4], 1, true], [[2, 3, 4], 2, false], [[2, 3, 4], -2, false],
];
for (const [shape, axis, keep] of FD_CASES) {
  t(`gradient matches finite differences: [${shape}] over axis ${axis}${keep ? ', keepDims' : ''}`, () => {
    finiteDifferenceCheck((x) => sum(x, axis, keep), [{ data: prng(9).uniform(sizeOf(shape)), shape, grad: true }], { label: `sum axis ${axis}` });
  });
}

t.run();

backendSuites('sum', (test, backend) => {
  test('forward: a 2×3 matrix over each axis', async () => {
    const x = tensorOn(backend, [1, 2, 3, 4, 5, 6], [2, 3]);
    assert.equal(await values(sum(x, 0)), [5, 7, 9]);
    assert.equal(await values(sum(x, 1)), [6, 15]);
    assert.equal(await values(sum(x, -1, true)), [6, 15]);
    assert.equal(await values(sum(tensorOn(backend, [1, 2, 3, 4], [4]), 0)), [10]);
  });

  test('forward: a 2×2×2 tensor over each axis', async () => {
    // [[[1, 2], [3, 4]], [[5, 6], [7, 8]]]
    const x = tensorOn(backend, [1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2]);
    assert.equal(await values(sum(x, 0)), [6, 8, 10, 12]);
    assert.equal(await values(sum(x, 1)), [4, 6, 12, 14]);
    assert.equal(await values(sum(x, 2)), [3, 7, 11, 15]);
  });

  test('backward: dy repeated along the summed axis', async () => {
    const x = tensorOn(backend, [1, 2, 3, 4, 5, 6], [2, 3], { requiresGrad: true });
    sum(x, 1).backward(tensorOn(backend, [1, 2], [2]));
    assert.equal(await values(x.grad!), [1, 1, 1, 2, 2, 2]);
    const z = tensorOn(backend, [1, 2, 3, 4, 5, 6], [2, 3], { requiresGrad: true });
    sum(z, 0, true).backward(tensorOn(backend, [1, 2, 3], [1, 3]));
    assert.equal(await values(z.grad!), [1, 2, 3, 1, 2, 3]);
  });

  // 2-D shapes over both axes, with 1, 63, 64, 65 and 784 on either side
  const SHAPES: number[][] = [[1, 1], [1, 65], [65, 1], [63, 64], [64, 63], [65, 10], [MNIST.batch, MNIST.dIn], [MNIST.dIn, MNIST.classes], [MNIST.oddBatch, MNIST.classes]];
  for (const shape of SHAPES) {
    for (const axis of [0, 1]) {
      test(`parity on [${shape}] over axis ${axis}`, async () => {
        await parityCheck((x) => sum(x, axis), [{ data: prng(sizeOf(shape) + axis).uniform(sizeOf(shape)), shape, grad: true }], backend, undefined, `sum axis ${axis}`);
      });
    }
  }

  for (const shape of [[4, 63, 5], [3, 65, 64], [MNIST.lastBatch, MNIST.classes, 3]]) {
    for (const axis of [0, 1, 2]) {
      test(`parity on 3-D [${shape}] over axis ${axis}, keepDims`, async () => {
        await parityCheck((x) => sum(x, axis, true), [{ data: prng(sizeOf(shape) - axis).uniform(sizeOf(shape)), shape, grad: true }], backend, undefined, `sum axis ${axis}`);
      });
    }
  }

  for (const n of [1, 63, 64, 65, 784]) {
    test(`parity on [${n}] to a scalar`, async () => {
      await parityCheck((x) => sum(x, 0), [{ data: prng(n + 9).uniform(n), shape: [n], grad: true }], backend, undefined, 'sum');
    });
  }
});
