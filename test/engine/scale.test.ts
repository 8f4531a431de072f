import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../engine/tensor.ts';
import { scale } from '../../engine/ops/index.ts';
import { AWKWARD_SIZES, MNIST, backendSuites, finiteDifferenceCheck, parityCheck, prng, tensorOn, values } from '../helpers/check-op.ts';

const t = suite('scale');

t('keeps the input shape, rank 0 to 3', () => {
  for (const shape of [[], [3], [2, 3], [2, 1, 2]]) assert.equal([...scale(Tensor.zeros(shape), 2).shape], shape);
});

for (const s of [-1.7, 0, 3]) {
  t(`gradient matches finite differences, s = ${s}`, () => {
    finiteDifferenceCheck((x) => scale(x, s), [{ data: prng(4).uniform(12), shape: [3, 4], grad: true }], { label: `scale ${s}` });
  });
}

t.run();

backendSuites('scale', (test, backend) => {
  test('forward: s·x for a positive, zero and negative s', async () => {
    const x = tensorOn(backend, [1, -2, 3, 0.5], [4]);
    assert.equal(await values(scale(x, 2.5)), [2.5, -5, 7.5, 1.25]);
    assert.equal((await values(scale(x, 0))).map(Math.abs), [0, 0, 0, 0]);
    assert.equal(await values(scale(x, -1)), [-1, 2, -3, -0.5]);
  });

  test('backward: the gradient is s·dy', async () => {
    const x = tensorOn(backend, [1, -2, 3], [3], { requiresGrad: true });
    scale(x, -4).backward(tensorOn(backend, [1, 0.5, 2], [3]));
    assert.equal(await values(x.grad!), [-4, -2, -8]);
  });

  for (const n of AWKWARD_SIZES) {
    test(`parity on [${n}]`, async () => {
      await parityCheck((x) => scale(x, -0.37), [{ data: prng(n + 3).uniform(n), shape: [n], grad: true }], backend, undefined, 'scale');
    });
  }

  test('parity on a batch of images [64, 784] (1/255)', async () => {
    const n = MNIST.batch * MNIST.dIn;
    await parityCheck((x) => scale(x, 1 / 255), [{ data: prng(6).ints(n, 0, 256), shape: [MNIST.batch, MNIST.dIn], grad: true }], backend, undefined, 'scale');
  });
});
