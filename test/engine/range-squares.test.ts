import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { rangeSquares } from '../../engine/ops/index.ts';
import { Tensor } from '../../engine/tensor.ts';
import { MNIST, backendSuites, prng, tensorOn, values } from '../helpers/check-op.ts';
import { assertClose } from '../helpers/close.ts';
import { onBoth } from '../helpers/groups.ts';

const t = suite('rangeSquares');

t('output shape [ranges]; bad shapes throw naming rangeSquares', () => {
  assert.equal([...rangeSquares(Tensor.zeros([6, 2]), Tensor.from([0, 2, 6], [3]), 2).shape], [2]);
  assert.throws(() => rangeSquares(Tensor.zeros([6, 2]), Tensor.from([0], [1]), 2), /^rangeSquares: offsets must be \[ranges \+ 1\]/);
  assert.throws(() => rangeSquares(Tensor.zeros([5]), Tensor.from([0, 2], [2]), 2), /^rangeSquares: x of shape \[5\] is not rows of width 2/);
});

t.run();

backendSuites('rangeSquares', (test, backend) => {
  test('by hand: Σx² of rows 0–1, of none, and of row 2', async () => {
    const x = tensorOn(backend, [1, 2, -3, 0.5, 4, -1], [3, 2]);
    assert.equal(await values(rangeSquares(x, tensorOn(backend, [0, 2, 2, 3], [4]), 2)), [14.25, 0, 17]);
  });

  // batches of 64 with a partial last one; widths 1, 10, 32; a range of 60 000 values (one step of a hand-made record)
  for (const [w, offsets] of [[1, [0, 64, 128, 145]], [MNIST.classes, [0, 64, 128, 192, 209]], [32, [0, 1, 65, 129]], [3, [0, 20000]]] as [number, number[]][]) {
    test(`parity with the cpu: width ${w}, ranges ${offsets.join(', ')}`, async () => {
      const rows = offsets[offsets.length - 1];
      const data = prng(w).uniform(rows * w, -3, 3);
      const { got, want } = await onBoth(backend, [[data, [rows, w]], [offsets, [offsets.length]]], (x, o) => rangeSquares(x, o, w));
      assertClose(got, want, { atol: 0, rtol: 2e-6 }, 'Σx²');
    });
  }
});
