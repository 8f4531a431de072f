import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../engine/tensor.ts';
import { mul } from '../../engine/ops/index.ts';
import { sizeOf } from '../../engine/shape.ts';
import { AWKWARD_SIZES, MNIST, backendSuites, finiteDifferenceCheck, parityCheck, prng, tensorOn, values } from '../helpers/check-op.ts';

const t = suite('mul');

t('broadcasts numpy-style: output shapes', () => {
  const cases: [number[], number[], number[]][] = [
    [[2, 3], [2, 3], [2, 3]], [[2, 3], [3], [2, 3]], [[2, 1], [1, 3], [2, 3]], [[], [4], [4]], [[4, 1, 3], [2, 1], [4, 2, 3]],
  ];
  for (const [sa, sb, so] of cases) assert.equal([...mul(Tensor.zeros(sa), Tensor.zeros(sb)).shape], so, `${sa} · ${sb}`);
});

t('shapes that do not broadcast throw an error naming mul', () => {
  assert.throws(() => mul(Tensor.zeros([2, 3]), Tensor.zeros([2])), /^mul: shapes \[2, 3\] and \[2\] do not broadcast/);
  assert.throws(() => mul(Tensor.zeros([5]), Tensor.zeros([4])), /^mul: shapes \[5\] and \[4\] do not broadcast/);
});

const FD_CASES: [string, number[], number[]][] = [
  ['same shape', [3, 4], [3, 4]],
  ['row [d] over [batch, d]', [4, 3], [3]],
  ['column [n, 1] against row [1, d]', [2, 1], [1, 3]],
  ['scalar [] times a matrix', [], [2, 3]],
  ['3-D [2, 1, 3] against [4, 1]', [2, 1, 3], [4, 1]],
];
for (const [name, sa, sb] of FD_CASES) {
  t(`gradients match finite differences: ${name}`, () => {
    const r = prng(sa.length * 10 + sb.length + 100);
    finiteDifferenceCheck(mul, [
      { data: r.uniform(sizeOf(sa)), shape: sa, grad: true },
      { data: r.uniform(sizeOf(sb)), shape: sb, grad: true },
    ], { label: `mul ${name}` });
  });
}

t.run();

backendSuites('mul', (test, backend) => {
  test('forward: same shape, a row, a column and an outer broadcast', async () => {
    const x = tensorOn(backend, [1, 2, 3, 4, 5, 6], [2, 3]);
    assert.equal(await values(mul(x, tensorOn(backend, [2, 2, 2, 0.5, 0.5, 0.5], [2, 3]))), [2, 4, 6, 2, 2.5, 3]);
    assert.equal(await values(mul(x, tensorOn(backend, [2, 0, -1], [3]))), [2, 0, -3, 8, 0, -6]);
    assert.equal(await values(mul(x, tensorOn(backend, [10, -1], [2, 1]))), [10, 20, 30, -4, -5, -6]);
    assert.equal(await values(mul(tensorOn(backend, [1, 2], [2, 1]), tensorOn(backend, [3, 4, 5], [1, 3]))), [3, 4, 5, 6, 8, 10]);
  });

  test('backward: da = dy·b, and a broadcast b gets Σ dy·a over the batch', async () => {
    const a = tensorOn(backend, [1, 2, 3, 4, 5, 6], [2, 3], { requiresGrad: true });
    const b = tensorOn(backend, [2, 0, -1], [3], { requiresGrad: true });
    mul(a, b).backward(tensorOn(backend, [1, 1, 1, 2, 2, 2], [2, 3]));
    assert.equal(await values(a.grad!), [2, 0, -1, 4, 0, -2]);
    // [1·1 + 2·4, 1·2 + 2·5, 1·3 + 2·6]
    assert.equal(await values(b.grad!), [9, 12, 15]);
  });

  for (const n of AWKWARD_SIZES) {
    test(`parity on [${n}] · [${n}]`, async () => {
      const r = prng(n + 1);
      await parityCheck(mul, [{ data: r.uniform(n), shape: [n], grad: true }, { data: r.uniform(n), shape: [n], grad: true }], backend);
    });
  }

  const SHAPES: [number[], number[]][] = [
    [[MNIST.batch, MNIST.dIn], [MNIST.dIn]], [[MNIST.lastBatch, MNIST.hidden[0]], [MNIST.hidden[0]]],
    [[MNIST.oddBatch, MNIST.classes], [MNIST.oddBatch, 1]], [[65, 10], [65, 10]], [[1, 64], [63, 1]], [[3, 1, 65], [64, 1]],
  ];
  for (const [sa, sb] of SHAPES) {
    test(`parity: [${sa}] · [${sb}]`, async () => {
      const r = prng(sizeOf(sa) + sizeOf(sb));
      await parityCheck(mul, [{ data: r.uniform(sizeOf(sa)), shape: sa, grad: true }, { data: r.uniform(sizeOf(sb)), shape: sb, grad: true }], backend);
    });
  }
});
