import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../engine/tensor.ts';
import { mul, step, sum } from '../../engine/ops/index.ts';
import { AWKWARD_SIZES, MNIST, backendSuites, parityCheck, prng, tensorOn, values } from '../helpers/check-op.ts';

const t = suite('step');

t('keeps the input shape, rank 0 to 3', () => {
  for (const shape of [[], [3], [2, 3], [2, 1, 2]]) assert.equal([...step(Tensor.zeros(shape)).shape], shape);
});

t('is a constant: its output requires no gradient', () => {
  const y = step(Tensor.from([1, -2], [2], { requiresGrad: true }));
  assert.is(y.requiresGrad, false);
  assert.equal(y.parents.length, 0);
});

t('no gradient flows through it: d/dx Σ x·step(x) is step(x)', () => {
  const x = Tensor.from([-1, 2, 0.5], [3], { dtype: 'f64', requiresGrad: true });
  sum(mul(x, step(x)), 0).backward();
  assert.equal(Array.from(x.grad!.data()), [0, 1, 1]);
});

t.run();

backendSuites('step', (test, backend) => {
  test('forward: 1 where x > 0, else 0 (0 and -0 give 0)', async () => {
    assert.equal(await values(step(tensorOn(backend, [-2, -1e-30, 0, -0, 1e-30, 3], [6]))), [0, 0, 0, 0, 1, 1]);
  });

  for (const n of [...AWKWARD_SIZES, MNIST.batch * MNIST.hidden[0]]) {
    test(`parity on [${n}] (exact zeros included)`, async () => {
      const data = prng(n + 4).uniform(n).map((v, i) => (i % 5 === 2 ? 0 : v));
      await parityCheck(step, [{ data, shape: [n], grad: true }], backend);
    });
  }
});
