import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { groupSums } from '../../engine/ops/index.ts';
import { Tensor } from '../../engine/tensor.ts';
import { MNIST, backendSuites, prng, tensorOn, values } from '../helpers/check-op.ts';
import { assertClose } from '../helpers/close.ts';
import { indexOf, onBoth } from '../helpers/groups.ts';

const t = suite('groupSums');

t('output shape [groups, 4, width]; bad shapes throw naming groupSums', () => {
  const index = Tensor.from(indexOf([0, 1, 0], 2), [3 + 3]);
  assert.equal([...groupSums(Tensor.zeros([3, 5]), index, 5, 2).shape], [2, 4, 5]);
  assert.throws(() => groupSums(Tensor.zeros([3, 5]), index, 4, 2), /^groupSums: x of shape \[3, 5\] is not rows of width 4/);
  assert.throws(() => groupSums(Tensor.zeros([15]), Tensor.zeros([2]), 5, 2), /^groupSums: the group index must be \[2 \+ 1 \+ rows\]/);
  assert.throws(() => groupSums(Tensor.zeros([15]), index, 5, 0), /^groupSums: groups must be a positive integer/);
});

t('is a constant: no gradient', () => {
  const y = groupSums(Tensor.from([1, 2], [2, 1], { requiresGrad: true }), Tensor.from(indexOf([0, 0], 1), [4]), 1, 1);
  assert.is(y.requiresGrad, false);
});

t.run();

backendSuites('groupSums', (test, backend) => {
  test('by hand: sums, extremes and positives of two classes, an empty class and a repeated first row', async () => {
    // rows: [1, -2], [0, 3], [-4, 5] with labels 1, 0, 1; groups: class 0, class 1, class 2 (empty), row 0 again
    const x = tensorOn(backend, [1, -2, 0, 3, -4, 5], [3, 2]);
    const index = tensorOn(backend, indexOf([1, 0, 1], 3, [[0]]), [5 + 4]);
    const got = await values(groupSums(x, index, 2, 4));
    assert.equal(got.slice(0, 8), [0, 3, 0, 3, 0, 3, 0, 1], 'class 0: sum, min, max, positives');
    assert.equal(got.slice(8, 16), [-3, 3, -4, -2, 1, 5, 1, 1], 'class 1');
    assert.equal(got.slice(16, 18), [0, 0], 'empty: sums 0');
    assert.ok([...got.slice(18, 22)].every(Number.isNaN), 'empty: NaN extremes');
    assert.equal(got.slice(22, 24), [0, 0], 'empty: no positives');
    assert.equal(got.slice(24, 32), [1, -2, 1, -2, 1, -2, 1, 0], 'row 0 alone');
  });

  test('NaN values are skipped by min/max and positives (sums propagate them); −0 and +0 are one extreme', async () => {
    const x = tensorOn(backend, [NaN, 2, -0, -1, 0, 3], [3, 2]);
    const got = await values(groupSums(x, tensorOn(backend, indexOf([0, 0, 0], 1), [5]), 2, 1));
    // columns: min 0 and -1, max 0 and 3, positives 0 and 2
    assert.equal(got.slice(2, 8), [0, -1, 0, 3, 0, 2]);
    assert.ok(Number.isNaN(got[0]), 'the sum of a column with a NaN is NaN');
  });

  // widths around the workgroup (128 invocations: lanes per column = ⌊128 / width⌋) and the MLP's
  const WIDTHS = [1, 3, MNIST.classes, 16, 32, 63, 64, 65, 127, 128, 129, 300];
  for (const w of WIDTHS) {
    test(`parity with the cpu on width ${w}: exact extremes and positives, sums within f32 rounding`, async () => {
      const r = prng(w);
      // a partial last batch's worth of rows, 10 classes with class 7 absent, the first 17 rows as an 11th group
      const rows = 3 * MNIST.batch + MNIST.oddBatch;
      const labels = r.ints(rows, 0, 10).map((c) => (c === 7 ? 3 : c));
      const data = r.uniform(rows * w, -2, 2).map((v, i) => (i % 11 === 0 ? 0 : v));
      const index = indexOf(labels, 10, [Array.from({ length: 17 }, (_, i) => i)]);
      const { got, want } = await onBoth(backend, [[data, [rows, w]], [index, [index.length]]], (x, idx) => groupSums(x, idx, w, 11));
      for (let g = 0; g < 11; g++) {
        const row = (k: number) => [got.subarray((g * 4 + k) * w, (g * 4 + k + 1) * w), want.subarray((g * 4 + k) * w, (g * 4 + k + 1) * w)];
        const [gs, ws] = row(0);
        // |f32 sum − f64 sum| ≤ ~100 ulp of Σ|x| (Σ|x| ≤ 2·rows here)
        assertClose(gs, ws, { atol: 2 * rows * 1e-5, rtol: 0 }, `width ${w} group ${g} sums`);
        for (const k of [1, 2, 3]) { const [a, b] = row(k); assert.equal(Array.from(a), Array.from(b), `width ${w} group ${g} row ${k}`); }
      }
    });
  }
});
