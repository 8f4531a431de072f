import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Binner } from '../../analysis/histogram.ts';
import { groupSpread, groupSums, histEdges } from '../../engine/ops/index.ts';
import { Tensor } from '../../engine/tensor.ts';
import { MNIST, backendSuites, prng, tensorOn, values } from '../helpers/check-op.ts';
import { assertClose } from '../helpers/close.ts';
import { indexOf, onBoth } from '../helpers/groups.ts';

const t = suite('groupSpread');

t('output shape [groups, width + 2·bins]; bad shapes throw naming groupSpread', () => {
  const x = Tensor.zeros([3, 5]), index = Tensor.from(indexOf([0, 1, 0], 2), [6]);
  const sums = groupSums(x, index, 5, 2), edges = histEdges(sums, index, { width: 5, groups: 2, shared: 2, bins: 30 });
  assert.equal([...groupSpread(x, index, sums, edges, { width: 5, groups: 2, bins: 30, ownFrom: 0 }).shape], [2, 65]);
  assert.throws(() => groupSpread(x, index, sums, edges, { width: 5, groups: 2, bins: 29, ownFrom: 0 }), /^groupSpread: edges must be histEdges' \[3, 30\]/);
  assert.throws(() => groupSpread(x, index, edges, edges, { width: 5, groups: 2, bins: 30, ownFrom: 0 }), /^groupSpread: sums must be/);
});

t.run();

/** the three kernels chained as the epoch statistics use them → [G, width + 2·bins] */
const spread = (x: Tensor, index: Tensor, width: number, groups: number, shared: number, bins: number, ownFrom: number) => {
  const sums = groupSums(x, index, width, groups);
  return groupSpread(x, index, sums, histEdges(sums, index, { width, groups, shared, bins }), { width, groups, bins, ownFrom });
};

backendSuites('groupSpread', (test, backend) => {
  test('integers 0..30 over 30 bins: one per bin, 30 in the closed last bin; own edges of each class', async () => {
    const labels = Array.from({ length: 31 }, (_, i) => i % 2);
    const x = tensorOn(backend, Array.from({ length: 31 }, (_, i) => i), [31, 1]);
    const got = await values(spread(x, tensorOn(backend, indexOf(labels, 2), [3 + 31]), 1, 2, 2, 30, 0));
    const row = (g: number) => got.slice(g * 61, (g + 1) * 61);
    // class 0: 0, 2, …, 30 → even bins and the last; own range [0, 30] too
    assert.equal(row(0).slice(1, 31), Array.from({ length: 30 }, (_, i) => (i % 2 === 0 || i === 29 ? 1 : 0)));
    assert.equal(row(0).slice(31), row(0).slice(1, 31));
    // class 1: 1, 3, …, 29 on its own [1, 29]: 15 values over 30 bins of width 28/30
    const own = new Binner(1, 29, 30), counts = new Array(30).fill(0);
    for (let v = 1; v <= 29; v += 2) counts[own.index(v)]++;
    assert.equal(row(1).slice(31), counts);
    // Σ(x − mean)²: class 0 mean 15 over 16 values, class 1 mean 15 over 15
    assertClose([row(0)[0], row(1)[0]], [Array.from({ length: 16 }, (_, i) => (2 * i - 15) ** 2).reduce((a, b) => a + b), Array.from({ length: 15 }, (_, i) => (2 * i + 1 - 15) ** 2).reduce((a, b) => a + b)], { atol: 0, rtol: 1e-6 }, 'm2');
  });

  test('all-equal values land in the middle bin of [v − 0.5, v + 0.5]; groups before ownFrom get no own counts', async () => {
    const x = tensorOn(backend, new Array(8).fill(2), [4, 2]);
    const got = await values(spread(x, tensorOn(backend, indexOf([0, 1, 1, 0], 2), [3 + 4]), 2, 2, 2, 30, 1));
    const middle = (n: number) => Array.from({ length: 30 }, (_, i) => (i === 15 ? n : 0));
    assert.equal(got.slice(0, 2), [0, 0]);
    assert.equal(got.slice(2, 32), middle(4));
    assert.equal(got.slice(32, 62), new Array(30).fill(0), 'class 0 < ownFrom');
    assert.equal(got.slice(64, 94), middle(4));
    assert.equal(got.slice(94, 124), middle(4));
  });

  test('values on every edge: each goes to the bin above it (numpy), the maximum to the last', async () => {
    // the shared edges of [−1.7, 2.3] over 30 bins, each value exactly an edge
    const edges = Array.from(new Binner(-1.7, 2.3, 30).edges);
    const x = tensorOn(backend, edges, [31, 1]);
    const got = await values(spread(x, tensorOn(backend, indexOf(new Array(31).fill(0), 1), [2 + 31]), 1, 1, 1, 30, 0));
    assert.equal(got.slice(1, 31), [...new Array(29).fill(1), 2]);
    assert.equal(got.slice(31), got.slice(1, 31));
  });

  // widths around the workgroup, the MLP's, and bins of 30 (the notebooks'), 1, 7 and 64
  const CASES: [number, number][] = [[1, 30], [MNIST.classes, 30], [16, 7], [32, 30], [64, 1], [65, 64], [128, 30], [129, 30], [300, 30]];
  for (const [w, bins] of CASES) {
    test(`parity with the cpu on width ${w}, ${bins} bins: exact counts, Σ(x − mean)² within f32 rounding`, async () => {
      const r = prng(w + bins);
      const rows = 3 * MNIST.batch + MNIST.oddBatch;
      const labels = r.ints(rows, 0, 10).map((c) => (c === 7 ? 3 : c));
      // a ReLU-like mix: many exact zeros, the rest spread, a few values repeated on purpose
      const data = r.uniform(rows * w, -1, 3).map((v, i) => (v < 0 ? 0 : i % 13 === 0 ? 0.5 : v));
      const index = indexOf(labels, 10, [Array.from({ length: 17 }, (_, i) => i)]);
      const { got, want } = await onBoth(backend, [[data, [rows, w]], [index, [index.length]]],
        (x, idx) => spread(x, idx, w, 11, 10, bins, 0));
      const row = w + 2 * bins;
      for (let g = 0; g < 11; g++) {
        const m2 = [got.subarray(g * row, g * row + w), want.subarray(g * row, g * row + w)];
        assertClose(m2[0], m2[1], { atol: 1e-4, rtol: 1e-5 }, `width ${w} group ${g} m2`);
        assert.equal(Array.from(got.subarray(g * row + w, (g + 1) * row)), Array.from(want.subarray(g * row + w, (g + 1) * row)), `width ${w} group ${g} counts`);
      }
    });
  }
});
