import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../engine/tensor.ts';
import { log } from '../../engine/ops/index.ts';
import { assertClose } from '../helpers/close.ts';
import { AWKWARD_SIZES, MNIST, backendSuites, finiteDifferenceCheck, parityCheck, prng, tensorOn, values } from '../helpers/check-op.ts';

const t = suite('log');

t('keeps the input shape, rank 0 to 3', () => {
  for (const shape of [[], [3], [2, 3], [2, 1, 2]]) assert.equal([...log(Tensor.zeros(shape)).shape], shape);
});

t('gradient matches finite differences on positive inputs', () => {
  finiteDifferenceCheck(log, [{ data: prng(6).uniform(12, 0.2, 3), shape: [3, 4], grad: true }], { label: 'log' });
});

t.run();

backendSuites('log', (test, backend) => {
  test('forward: natural log on a hand case', async () => {
    const y = log(tensorOn(backend, [1, 2.718281828459045, 0.5, 10], [4]));
    // 0, 1, -ln 2, ln 10 written out; WGSL allows log an absolute 2^-21 on [0.5, 2], 3 ulp elsewhere
    assertClose(await values(y), [0, 1, -0.6931471805599453, 2.302585092994046], { rtol: 1e-6, atol: 1e-6 }, 'log');
  });

  test('backward: d ln x = dy / x', async () => {
    const x = tensorOn(backend, [2, 0.25], [2], { requiresGrad: true });
    log(x).backward(tensorOn(backend, [1, 3], [2]));
    assertClose(await values(x.grad!), [0.5, 12], { rtol: 1e-5, atol: 0 }, 'log grad');
  });

  for (const n of [...AWKWARD_SIZES, MNIST.oddBatch * MNIST.classes]) {
    test(`parity on [${n}] (positive)`, async () => {
      await parityCheck(log, [{ data: prng(n + 6).uniform(n, 0.05, 5), shape: [n], grad: true }], backend);
    });
  }
});
