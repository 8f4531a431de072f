import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../engine/tensor.ts';
import { reciprocal } from '../../engine/ops/index.ts';
import { assertClose } from '../helpers/close.ts';
import { AWKWARD_SIZES, MNIST, backendSuites, finiteDifferenceCheck, parityCheck, prng, tensorOn, values } from '../helpers/check-op.ts';

const t = suite('reciprocal');

t('keeps the input shape, rank 0 to 3', () => {
  for (const shape of [[], [3], [2, 3], [2, 1, 2]]) assert.equal([...reciprocal(Tensor.zeros(shape)).shape], shape);
});

t('gradient matches finite differences on positive inputs', () => {
  finiteDifferenceCheck(reciprocal, [{ data: prng(7).uniform(12, 0.3, 3), shape: [3, 4], grad: true }], { label: 'reciprocal' });
});

t('gradient matches finite differences on negative inputs', () => {
  finiteDifferenceCheck(reciprocal, [{ data: prng(8).uniform(6, -3, -0.3), shape: [6], grad: true }], { label: 'reciprocal' });
});

t.run();

backendSuites('reciprocal', (test, backend) => {
  test('forward: 1/x on a hand case', async () => {
    // WGSL allows 1/x 2.5 ulp, so not exact on every GPU
    assertClose(await values(reciprocal(tensorOn(backend, [2, -4, 0.5, 1, 64, 3], [6]))), [0.5, -0.25, 2, 1, 0.015625, 0.3333333333333333], { rtol: 1e-6, atol: 0 }, 'reciprocal');
  });

  test('backward: d(1/x) = -dy / x²', async () => {
    const x = tensorOn(backend, [2, -0.5], [2], { requiresGrad: true });
    reciprocal(x).backward(tensorOn(backend, [1, 3], [2]));
    assertClose(await values(x.grad!), [-0.25, -12], { rtol: 1e-6, atol: 0 }, 'reciprocal grad');
  });

  for (const n of [...AWKWARD_SIZES, MNIST.oddBatch * MNIST.classes]) {
    test(`parity on [${n}] (|x| in [0.1, 4))`, async () => {
      await parityCheck(reciprocal, [{ data: prng(n + 7).signed(n, 0.1, 4), shape: [n], grad: true }], backend);
    });
  }
});
