import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../engine/tensor.ts';
import { max } from '../../engine/ops/index.ts';
import { sizeOf } from '../../engine/shape.ts';
import { MNIST, backendSuites, finiteDifferenceCheck, parityCheck, prng, tensorOn, values } from '../helpers/check-op.ts';

const t = suite('max');

t('output shapes: the axis removed, or kept as 1', () => {
  const x = Tensor.zeros([2, 3, 4]);
  assert.equal([...max(x, 0).shape], [3, 4]);
  assert.equal([...max(x, 2).shape], [2, 3]);
  assert.equal([...max(x, -2, true).shape], [2, 1, 4]);
});

t('an axis out of range throws an error naming max', () => {
  assert.throws(() => max(Tensor.zeros([2, 3]), 2), /^max: axis 2 out of range for rank 2/);
  assert.throws(() => max(Tensor.zeros([2, 3]), -3), /^max: axis -3 out of range for rank 2/);
});

// distinct values at least 1/12 apart: no ties within 1e-6, so max is smooth at every point checked
const FD_CASES: [number[], number, boolean][] = [
  [[3, 4], 0, false], [[3, 4], 1, false], [[3, 4], 1, true], [[2, 3, 2], 0, false], [[2, 3, 2], 1, false], [[2, 3, 2], 2, true],
];
for (const [shape, axis, keep] of FD_CASES) {
  t(`gradient matches finite differences (no ties): [${shape}] over axis ${axis}${keep ? ', keepDims' : ''}`, () => {
    finiteDifferenceCheck((x) => max(x, axis, keep), [{ data: prng(10).distinct(sizeOf(shape)), shape, grad: true }], { label: `max axis ${axis}` });
  });
}

t.run();

backendSuites('max', (test, backend) => {
  test('forward: a 2×3 matrix over each axis, negatives included', async () => {
    const x = tensorOn(backend, [1, 5, 3, 4, 2, 6], [2, 3]);
    assert.equal(await values(max(x, 0)), [4, 5, 6]);
    assert.equal(await values(max(x, 1)), [5, 6]);
    assert.equal(await values(max(tensorOn(backend, [-3, -1, -2], [1, 3]), 1)), [-1]);
  });

  test('forward: a 2×2×2 tensor over each axis', async () => {
    // [[[1, 8], [3, 2]], [[5, 0], [-7, 6]]]
    const x = tensorOn(backend, [1, 8, 3, 2, 5, 0, -7, 6], [2, 2, 2]);
    assert.equal(await values(max(x, 0)), [5, 8, 3, 6]);
    assert.equal(await values(max(x, 1)), [3, 8, 5, 6]);
    assert.equal(await values(max(x, 2)), [8, 3, 5, 6]);
  });

  test('backward: the gradient goes to the maximum', async () => {
    const x = tensorOn(backend, [1, 5, 3, 4, 2, 6], [2, 3], { requiresGrad: true });
    max(x, 0).backward(tensorOn(backend, [1, 2, 3], [3]));
    assert.equal(await values(x.grad!), [0, 2, 0, 1, 0, 3]);
  });

  test('backward: tied maxima share the gradient evenly', async () => {
    const x = tensorOn(backend, [1, 3, 3, 2, 0, 1, 7, 7, 7, -1, -1, -2], [4, 3], { requiresGrad: true });
    max(x, 1).backward(tensorOn(backend, [1, 2, 3, 4], [4]));
    assert.equal(await values(x.grad!), [0, 0.5, 0.5, 2, 0, 0, 1, 1, 1, 2, 2, 0]);
  });

  const SHAPES: number[][] = [[1, 1], [1, 65], [65, 1], [63, 64], [64, 63], [65, 10], [MNIST.batch, MNIST.dIn], [MNIST.oddBatch, MNIST.classes]];
  for (const shape of SHAPES) {
    for (const axis of [0, 1]) {
      test(`parity on [${shape}] over axis ${axis}`, async () => {
        await parityCheck((x) => max(x, axis), [{ data: prng(sizeOf(shape) + axis).uniform(sizeOf(shape)), shape, grad: true }], backend, undefined, `max axis ${axis}`);
      });
    }
  }

  for (const shape of [[4, 63, 5], [3, 65, 64]]) {
    for (const axis of [0, 1, 2]) {
      test(`parity on 3-D [${shape}] over axis ${axis}, keepDims`, async () => {
        await parityCheck((x) => max(x, axis, true), [{ data: prng(sizeOf(shape) - axis).uniform(sizeOf(shape)), shape, grad: true }], backend, undefined, `max axis ${axis}`);
      });
    }
  }

  test('parity with many ties (integers 0..3): the shared gradient agrees', async () => {
    for (const [shape, axis] of [[[65, 10], 1], [[64, 63], 0], [[17, 4, 3], 1]] as [number[], number][]) {
      await parityCheck((x) => max(x, axis), [{ data: prng(11).ints(sizeOf(shape), 0, 4), shape, grad: true }], backend, undefined, `max axis ${axis} ties`);
    }
  });
});
