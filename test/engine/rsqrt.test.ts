import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../engine/tensor.ts';
import { rsqrt } from '../../engine/ops/index.ts';
import { assertClose } from '../helpers/close.ts';
import { AWKWARD_SIZES, MNIST, backendSuites, finiteDifferenceCheck, parityCheck, prng, tensorOn, values } from '../helpers/check-op.ts';

const t = suite('rsqrt');

t('keeps the input shape, rank 0 to 3', () => {
  for (const shape of [[], [3], [2, 3], [2, 1, 2]]) assert.equal([...rsqrt(Tensor.zeros(shape)).shape], shape);
});

t('gradient matches finite differences on positive inputs (variances: small and large)', () => {
  finiteDifferenceCheck(rsqrt, [{ data: prng(5).uniform(12, 0.05, 4), shape: [3, 4], grad: true }], { label: 'rsqrt' });
  finiteDifferenceCheck(rsqrt, [{ data: prng(6).uniform(5, 10, 400), shape: [5], grad: true }], { label: 'rsqrt large' });
});

t.run();

backendSuites('rsqrt', (test, backend) => {
  test('forward: 1/√x on a hand case', async () => {
    // WGSL's inverseSqrt is within 2 ulp, not exact
    assertClose(await values(rsqrt(tensorOn(backend, [4, 0.25, 1, 16, 1e-5, 2], [6]))),
      [0.5, 2, 1, 0.25, 316.22776601683796, 0.7071067811865475], { rtol: 1e-6, atol: 0 }, 'rsqrt');
  });

  test('edges: rsqrt(0) = +inf, rsqrt(x < 0) = NaN, as the oracle gives them', async () => {
    const v = await values(rsqrt(tensorOn(backend, [0, -1, -0.5], [3])));
    assert.is(v[0], Infinity);
    assert.ok(Number.isNaN(v[1]) && Number.isNaN(v[2]), `negative inputs give NaN, got ${v}`);
  });

  test('backward: d(x^-½) = -½ dy x^-3/2', async () => {
    const x = tensorOn(backend, [4, 0.25], [2], { requiresGrad: true });
    rsqrt(x).backward(tensorOn(backend, [1, 2], [2]));
    assertClose(await values(x.grad!), [-0.0625, -8], { rtol: 1e-5, atol: 0 }, 'rsqrt grad');
  });

  for (const n of AWKWARD_SIZES) {
    test(`parity on [${n}] (x in [1e-5, 4))`, async () => {
      await parityCheck(rsqrt, [{ data: prng(n + 3).uniform(n, 1e-5, 4), shape: [n], grad: true }], backend);
    });
  }

  for (const [rows, d] of [[MNIST.batch, 1], [MNIST.lastBatch, 1], [1, MNIST.hidden[0]], [1, MNIST.hidden[1]]]) {
    test(`parity on per-row / per-feature variances [${rows}, ${d}]`, async () => {
      await parityCheck(rsqrt, [{ data: prng(rows * d).uniform(rows * d, 1e-5, 3), shape: [rows, d], grad: true }], backend);
    });
  }
});
