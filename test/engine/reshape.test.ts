import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../engine/tensor.ts';
import { reshape } from '../../engine/ops/index.ts';
import { sizeOf } from '../../engine/shape.ts';
import { MNIST, backendSuites, finiteDifferenceCheck, parityCheck, prng, tensorOn, values } from '../helpers/check-op.ts';

const t = suite('reshape');

t('a different element count throws an error naming reshape', () => {
  assert.throws(() => reshape(Tensor.zeros([2, 3]), [4]), /^reshape: cannot view \[2, 3\] as \[4\]/);
  assert.throws(() => reshape(Tensor.zeros([2, 3]), [2, 2, 2]), /^reshape: cannot view \[2, 3\] as \[2, 2, 2\]/);
});

t('gradient matches finite differences and comes back in the input shape', () => {
  finiteDifferenceCheck((x) => reshape(x, [3, 2, 2]), [{ data: prng(13).uniform(12), shape: [2, 6], grad: true }], { label: 'reshape' });
  finiteDifferenceCheck((x) => reshape(x, []), [{ data: [0.5], shape: [1, 1], grad: true }], { label: 'reshape to a scalar' });
});

t.run();

backendSuites('reshape', (test, backend) => {
  test('forward: same values in row-major order under the new shape', async () => {
    const x = tensorOn(backend, [1, 2, 3, 4, 5, 6], [2, 3]);
    for (const shape of [[3, 2], [6], [1, 6, 1], [2, 3]]) {
      const y = reshape(x, shape);
      assert.equal([...y.shape], shape);
      assert.equal(await values(y), [1, 2, 3, 4, 5, 6]);
    }
    const s = reshape(tensorOn(backend, [7], [1]), []);
    assert.equal([...s.shape], []);
    assert.equal(await values(s), [7]);
  });

  const CASES: [number[], number[]][] = [
    [[1], []], [[63], [63, 1]], [[64, 1], [1, 64]], [[65, 10], [650]], [[MNIST.batch, 28, 28], [MNIST.batch, MNIST.dIn]],
    [[MNIST.oddBatch, MNIST.classes], [MNIST.oddBatch, 1, MNIST.classes]],
  ];
  for (const [from, to] of CASES) {
    test(`parity: [${from}] → [${to}]`, async () => {
      await parityCheck((x) => reshape(x, to), [{ data: prng(sizeOf(from)).uniform(sizeOf(from)), shape: from, grad: true }], backend, undefined, 'reshape');
    });
  }
});
