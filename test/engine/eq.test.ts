import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../engine/tensor.ts';
import { eq, mul, sum } from '../../engine/ops/index.ts';
import { AWKWARD_SIZES, MNIST, backendSuites, parityCheck, prng, tensorOn, values } from '../helpers/check-op.ts';

const t = suite('eq');

t('shapes that do not broadcast throw an error naming eq', () => {
  assert.throws(() => eq(Tensor.zeros([3]), Tensor.zeros([4])), /^eq: shapes \[3\] and \[4\] do not broadcast/);
});

t('is a constant: its output requires no gradient', () => {
  const x = Tensor.from([1, 2, 3], [3], { requiresGrad: true });
  const y = eq(x, Tensor.from([1, 0, 3], [3]));
  assert.is(y.requiresGrad, false);
  assert.equal(y.parents.length, 0);
});

t('no gradient flows through it: d/dx Σ x·eq(x, c) is the mask alone', () => {
  const x = Tensor.from([1, 2, 3], [3], { dtype: 'f64', requiresGrad: true });
  sum(mul(x, eq(x, Tensor.from([1, 0, 3], [3], { dtype: 'f64' }))), 0).backward();
  assert.equal(Array.from(x.grad!.data()), [1, 0, 1]);
});

t.run();

backendSuites('eq', (test, backend) => {
  test('forward: 1 where equal, else 0; broadcasting; 0 equals -0', async () => {
    assert.equal(await values(eq(tensorOn(backend, [1, 2, 3, 0], [4]), tensorOn(backend, [1, 0, 3, -0], [4]))), [1, 0, 1, 1]);
    // exact: neighbours one f32 ulp apart are not equal
    assert.equal(await values(eq(tensorOn(backend, [1, 3, 0.1], [3]), tensorOn(backend, [1.25, 3.0000002384185791, 0.1], [3]))), [0, 0, 1]);
    assert.equal(await values(eq(tensorOn(backend, [1, 2, 2, 1], [2, 2]), tensorOn(backend, [2], [1]))), [0, 1, 1, 0]);
    assert.equal(await values(eq(tensorOn(backend, [1, 2], [2, 1]), tensorOn(backend, [1, 2, 3], [3]))), [1, 0, 0, 0, 1, 0]);
  });

  // small integers so that a good share of the pairs are equal
  for (const n of AWKWARD_SIZES) {
    test(`parity on [${n}] (integer data, many ties)`, async () => {
      const r = prng(n + 2);
      await parityCheck(eq, [{ data: r.ints(n, 0, 3), shape: [n], grad: true }, { data: r.ints(n, 0, 3), shape: [n] }], backend);
    });
  }

  test('parity: predictions [batch] against labels [batch], full and partial batches', async () => {
    for (const n of [MNIST.batch, MNIST.lastBatch, MNIST.oddBatch]) {
      const r = prng(n);
      await parityCheck(eq, [{ data: r.ints(n, 0, 10), shape: [n] }, { data: r.ints(n, 0, 10), shape: [n] }], backend);
    }
  });

  test('parity: a row [d] against [batch, d]', async () => {
    const r = prng(5);
    await parityCheck(eq, [{ data: r.ints(65 * 10, 0, 2), shape: [65, 10] }, { data: r.ints(10, 0, 2), shape: [10] }], backend);
  });
});
