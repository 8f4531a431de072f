import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../engine/tensor.ts';
import { add } from '../../engine/ops/index.ts';
import { sizeOf } from '../../engine/shape.ts';
import { AWKWARD_SIZES, MNIST, backendSuites, finiteDifferenceCheck, parityCheck, prng, tensorOn, values } from '../helpers/check-op.ts';

const t = suite('add');

t('broadcasts numpy-style: output shapes', () => {
  const cases: [number[], number[], number[]][] = [
    [[2, 3], [2, 3], [2, 3]], [[2, 3], [3], [2, 3]], [[3], [2, 3], [2, 3]], [[2, 1], [1, 3], [2, 3]],
    [[], [2, 3], [2, 3]], [[4, 1, 3], [2, 1], [4, 2, 3]], [[], [], []],
  ];
  for (const [sa, sb, so] of cases) assert.equal([...add(Tensor.zeros(sa), Tensor.zeros(sb)).shape], so, `${sa} + ${sb}`);
});

t('shapes that do not broadcast throw an error naming add', () => {
  assert.throws(() => add(Tensor.zeros([2, 3]), Tensor.zeros([4])), /^add: shapes \[2, 3\] and \[4\] do not broadcast/);
  assert.throws(() => add(Tensor.zeros([2, 3]), Tensor.zeros([3, 2])), /^add: shapes \[2, 3\] and \[3, 2\] do not broadcast/);
  assert.throws(() => add(Tensor.zeros([64, 32]), Tensor.zeros([64])), /^add: .*do not broadcast/);
});

t('mixed dtypes throw an error naming add', () => {
  assert.throws(() => add(Tensor.zeros([2]), Tensor.zeros([2], { dtype: 'f64' })), /^add: inputs of dtype f32 and f64/);
});

const FD_CASES: [string, number[], number[]][] = [
  ['same shape', [3, 4], [3, 4]],
  ['bias [d] over [batch, d]', [4, 3], [3]],
  ['column [n, 1] against row [1, d]', [2, 1], [1, 3]],
  ['scalar [] plus a matrix', [], [2, 3]],
  ['3-D [4, 1, 3] against [2, 1]', [4, 1, 3], [2, 1]],
];
for (const [name, sa, sb] of FD_CASES) {
  t(`gradients match finite differences: ${name}`, () => {
    const r = prng(sa.length * 10 + sb.length);
    finiteDifferenceCheck(add, [
      { data: r.uniform(sizeOf(sa)), shape: sa, grad: true },
      { data: r.uniform(sizeOf(sb)), shape: sb, grad: true },
    ], { label: `add ${name}` });
  });
}

t.run();

backendSuites('add', (test, backend) => {
  test('forward: same shape, a bias row, a column and an outer broadcast', async () => {
    const x = tensorOn(backend, [1, 2, 3, 4, 5, 6], [2, 3]);
    assert.equal(await values(add(x, tensorOn(backend, [6, 5, 4, 3, 2, 1], [2, 3]))), [7, 7, 7, 7, 7, 7]);
    assert.equal(await values(add(x, tensorOn(backend, [10, 20, 30], [3]))), [11, 22, 33, 14, 25, 36]);
    assert.equal(await values(add(x, tensorOn(backend, [100, 200], [2, 1]))), [101, 102, 103, 204, 205, 206]);
    assert.equal(await values(add(tensorOn(backend, [1, 2], [2, 1]), tensorOn(backend, [10, 20, 30], [1, 3]))), [11, 21, 31, 12, 22, 32]);
    assert.equal(await values(add(tensorOn(backend, [0.5], []), x)), [1.5, 2.5, 3.5, 4.5, 5.5, 6.5]);
  });

  test('backward: a broadcast bias gets its gradient summed over the batch', async () => {
    const x = tensorOn(backend, [1, 2, 3, 4, 5, 6], [2, 3], { requiresGrad: true });
    const b = tensorOn(backend, [0, 0, 0], [3], { requiresGrad: true });
    add(x, b).backward(tensorOn(backend, [1, 2, 3, 4, 5, 6], [2, 3]));
    assert.equal(await values(x.grad!), [1, 2, 3, 4, 5, 6]);
    assert.equal(await values(b.grad!), [5, 7, 9]);
    assert.equal([...b.grad!.shape], [3]);
  });

  for (const n of AWKWARD_SIZES) {
    test(`parity on [${n}] + [${n}]`, async () => {
      const r = prng(n);
      await parityCheck(add, [{ data: r.uniform(n), shape: [n], grad: true }, { data: r.uniform(n), shape: [n], grad: true }], backend);
    });
  }

  const BIAS: [number, number][] = [[1, 1], [MNIST.batch, MNIST.dIn], [MNIST.batch, MNIST.hidden[0]],
    [MNIST.lastBatch, MNIST.hidden[1]], [MNIST.oddBatch, MNIST.classes], [65, 10], [63, 64]];
  for (const [rows, d] of BIAS) {
    test(`parity: bias [${d}] + [${rows}, ${d}] and [${rows}, ${d}] + [${d}]`, async () => {
      const r = prng(rows * d);
      const x = { data: r.uniform(rows * d), shape: [rows, d], grad: true }, b = { data: r.uniform(d), shape: [d], grad: true };
      await parityCheck(add, [x, b], backend);
      await parityCheck(add, [b, x], backend);
    });
  }

  const OTHER: [number[], number[]][] = [[[65, 1], [65, 10]], [[1, 64], [63, 1]], [[4, 1, 65], [63, 1]], [[], [17, 10]]];
  for (const [sa, sb] of OTHER) {
    test(`parity: [${sa}] + [${sb}]`, async () => {
      const r = prng(sa.length + 7 * sb.length);
        await parityCheck(add, [{ data: r.uniform(sizeOf(sa)), shape: sa, grad: true }, { data: r.uniform(sizeOf(sb)), shape: sb, grad: true }], backend);
    });
  }
});
