import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../engine/tensor.ts';
import { relu } from '../../engine/ops/index.ts';
import { sizeOf } from '../../engine/shape.ts';
import { AWKWARD_SIZES, MNIST, backendSuites, finiteDifferenceCheck, parityCheck, prng, tensorOn, values } from '../helpers/check-op.ts';

const t = suite('relu');

t('keeps the input shape, rank 0 to 3', () => {
  for (const shape of [[], [5], [2, 3], [2, 1, 4]]) {
    const n = sizeOf(shape);
    assert.equal([...relu(Tensor.from(new Array(n).fill(1), shape)).shape], shape);
  }
});

t('gradient matches finite differences away from the kink at 0', () => {
  finiteDifferenceCheck(relu, [{ data: prng(11).signed(24, 0.01, 2), shape: [4, 6], grad: true }], { label: 'relu' });
});

t.run();

backendSuites('relu', (test, backend) => {
  test('forward: max(x, 0) on a hand case', async () => {
    const y = relu(tensorOn(backend, [-2, -0.5, 0, 0.5, 3], [5]));
    assert.equal(await values(y), [0, 0, 0, 0.5, 3]);
  });

  test("relu'(0) = 0: the gradient at exactly 0 is 0", async () => {
    const x = tensorOn(backend, [0, -1, 2, -0], [4], { requiresGrad: true });
    relu(x).backward();
    assert.equal(await values(x.grad!), [0, 0, 1, 0]);
  });

  for (const n of AWKWARD_SIZES) {
    test(`parity on [${n}] (exact zeros included)`, async () => {
      const data = prng(n).uniform(n).map((v, i) => (i % 7 === 3 ? 0 : v));
      await parityCheck(relu, [{ data, shape: [n], grad: true }], backend);
    });
  }

  for (const [rows, d] of [[MNIST.batch, MNIST.hidden[0]], [MNIST.lastBatch, MNIST.hidden[1]], [MNIST.oddBatch, MNIST.classes]]) {
    test(`parity on a hidden layer [${rows}, ${d}]`, async () => {
      await parityCheck(relu, [{ data: prng(rows * d).uniform(rows * d), shape: [rows, d], grad: true }], backend);
    });
  }
});
