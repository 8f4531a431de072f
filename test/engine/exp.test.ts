import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../engine/tensor.ts';
import { exp } from '../../engine/ops/index.ts';
import { assertClose } from '../helpers/close.ts';
import { AWKWARD_SIZES, MNIST, backendSuites, finiteDifferenceCheck, parityCheck, prng, tensorOn, values } from '../helpers/check-op.ts';

const t = suite('exp');

t('keeps the input shape, rank 0 to 3', () => {
  for (const shape of [[], [3], [2, 3], [2, 1, 2]]) assert.equal([...exp(Tensor.zeros(shape)).shape], shape);
});

t('gradient matches finite differences', () => {
  finiteDifferenceCheck(exp, [{ data: prng(5).uniform(12, -2, 2), shape: [3, 4], grad: true }], { label: 'exp' });
});

t.run();

backendSuites('exp', (test, backend) => {
  test('forward: e^x on a hand case', async () => {
    const y = exp(tensorOn(backend, [0, 1, -1, 2, -20], [5]));
    // e, 1/e, e², e^-20 written out; WGSL allows exp 3 + 2|x| ulp (43 ulp ≈ 5e-6 at x = -20)
    assertClose(await values(y), [1, 2.718281828459045, 0.36787944117144233, 7.38905609893065, 2.061153622438558e-9], { rtol: 1e-5, atol: 0 }, 'exp');
  });

  test('backward: d e^x = e^x·dy', async () => {
    const x = tensorOn(backend, [0, 1], [2], { requiresGrad: true });
    exp(x).backward(tensorOn(backend, [2, 1], [2]));
    assertClose(await values(x.grad!), [2, 2.718281828459045], { rtol: 1e-5, atol: 0 }, 'exp grad');
  });

  for (const n of [...AWKWARD_SIZES, MNIST.oddBatch * MNIST.classes]) {
    test(`parity on [${n}]`, async () => {
      await parityCheck(exp, [{ data: prng(n + 5).uniform(n, -4, 4), shape: [n], grad: true }], backend);
    });
  }
});
