import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../engine/tensor.ts';
import { add, scale, sgdUpdate } from '../../engine/ops/index.ts';
import { AWKWARD_SIZES, backendSuites, finiteDifferenceCheck, parityCheck, prng, tensorOn, values } from '../helpers/check-op.ts';
import { assertClose } from '../helpers/close.ts';

const f32 = (data: ArrayLike<number>, shape: number[]): Tensor => Tensor.from(data, shape);

const t = suite('sgdUpdate');

t('output has the parameter shape; a direction of another shape throws an error naming sgdUpdate', () => {
  assert.equal([...sgdUpdate(Tensor.zeros([3, 4]), Tensor.zeros([3, 4]), 0.1).shape], [3, 4]);
  assert.throws(() => sgdUpdate(Tensor.zeros([3, 4]), Tensor.zeros([4, 3]), 0.1), /^sgdUpdate: parameter \[3, 4\] and direction \[4, 3\] differ in shape/);
});

t('hand-computed: p − lr·d', () => {
  assert.equal([...sgdUpdate(f32([1, 2, 3], [3]), f32([10, -20, 0], [3]), 0.5).data()], [-4, 12, 3]);
});

t('gradients w.r.t. p and d match finite differences', () => {
  const r = prng(61);
  const fn = (p: Tensor, d: Tensor): Tensor => sgdUpdate(p, d, 0.3);
  finiteDifferenceCheck(fn, [
    { data: r.uniform(12, -1, 1), shape: [3, 4], grad: true },
    { data: r.uniform(12, -1, 1), shape: [3, 4], grad: true },
  ], { label: 'sgdUpdate' });
});

t('equals add(p, scale(d, −lr)) bit for bit in f32 (the arithmetic mlp/sgd.ts used before)', () => {
  for (const lr of [0.01, 0.1, 3e-4, 0.7]) {
    const r = prng(Math.round(lr * 1e4));
    const p = f32(r.uniform(784 * 32, -0.1, 0.1), [784, 32]), d = f32(r.uniform(784 * 32, -3, 3), [784, 32]);
    assert.equal([...sgdUpdate(p, d, lr).data()], [...add(p, scale(d, -lr)).data()], `lr ${lr}`);
  }
});

t.run();

backendSuites('sgdUpdate', (test, backend) => {
  test('forward: hand-computed p − lr·d', async () => {
    assertClose(await values(sgdUpdate(tensorOn(backend, [1, 2, 3], [3]), tensorOn(backend, [10, -20, 0], [3]), 0.5)), [-4, 12, 3], { atol: 0, rtol: 1e-7 }, 'sgd');
  });

  for (const shape of [...AWKWARD_SIZES.map((s) => [s]), [784, 32], [32], [16, 10]]) {
    test(`parity on [${shape.join(', ')}], value and gradients`, async () => {
      const n = shape.reduce((a, b) => a * b, 1), r = prng(n + 62);
      const fn = (p: Tensor, d: Tensor): Tensor => sgdUpdate(p, d, 0.01);
      await parityCheck(fn, [
        { data: r.uniform(n, -1, 1), shape, grad: true },
        { data: r.uniform(n, -5, 5), shape, grad: true },
      ], backend, undefined, 'sgdUpdate');
    });
  }

  test('equals add(p, scale(d, −lr)) on the same backend within 1 ulp-ish', async () => {
    const r = prng(63);
    const p = tensorOn(backend, r.uniform(1000, -1, 1), [1000]), d = tensorOn(backend, r.uniform(1000, -5, 5), [1000]);
    assertClose(await values(sgdUpdate(p, d, 0.01)), await values(add(p, scale(d, -0.01))), { atol: 1e-7, rtol: 1e-6 }, 'fused vs composed');
  });
});
