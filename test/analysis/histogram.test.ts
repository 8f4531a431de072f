import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Binner, histogram, histogramRange } from '../../analysis/histogram.ts';

const f32 = Math.fround;

/** the next float32 below x */
function below(x: number): number {
  const f = new Float32Array([x]), u = new Uint32Array(f.buffer);
  if (x > 0) u[0]--; else if (x < 0) u[0]++; else return -1.401298464324817e-45;
  return f[0];
}

/** the independent reading of the definition: edges from the formula, then the largest i with e[i] <= x */
function oracle(values: number[], bins: number): { edges: number[]; counts: number[] } {
  let lo = Math.min(...values), hi = Math.max(...values);
  if (lo === hi) { lo = f32(lo - 0.5); hi = f32(hi + 0.5); }
  const step = f32(f32(hi - lo) / bins);
  const edges = Array.from({ length: bins + 1 }, (_, i) => (i === bins ? hi : f32(f32(i * step) + lo)));
  const counts = new Array(bins).fill(0);
  for (const x of values) {
    let k = -1;
    for (let i = 0; i < bins; i++) if (edges[i] <= x) k = i;
    counts[k]++;
  }
  return { edges, counts };
}

// (i·7919 mod 1000)/37 − 11.3 in float64, rounded to float32: the same values in numpy and here
const A = Array.from({ length: 500 }, (_, i) => f32(((i * 7919) % 1000) / 37 - 11.3));
// printed by numpy 2.4.6: np.histogram(A, bins=30)
const NUMPY_A_COUNTS = [18, 17, 16, 16, 16, 18, 17, 14, 17, 17, 17, 16, 15, 18, 17, 16, 16, 17, 18, 16, 16, 17, 18, 17, 16, 16, 18, 18, 16, 16];
const NUMPY_A_EDGES = [-11.300000190734863, -10.40000057220459, -9.5, -8.600000381469727, -7.700000286102295, -6.800000190734863,
  -5.90000057220459, -5.000000476837158, -4.100000381469727, -3.200000762939453, -2.3000001907348633, -1.4000005722045898,
  -0.5000009536743164, 0.39999961853027344, 1.2999992370605469, 2.1999998092651367, 3.09999942779541, 3.9999990463256836,
  4.899998664855957, 5.800000190734863, 6.699999809265137, 7.59999942779541, 8.499999046325684, 9.399998664855957,
  10.29999828338623, 11.199999809265137, 12.09999942779541, 12.999999046325684, 13.899998664855957, 14.79999828338623,
  15.699999809265137];

const numpy = suite('histogram: numpy.histogram semantics');

numpy('edges and counts of 500 float32 values match numpy 2.4 exactly', () => {
  const h = histogram(A, 30);
  assert.equal(h.edges, NUMPY_A_EDGES);
  assert.equal(h.counts, NUMPY_A_COUNTS);
});

numpy('values exactly on the edges go to the bin they open; the last edge closes the last bin', () => {
  // numpy: np.histogram(edges_of_A) → one per bin, two in the last (e[29] and e[30])
  const h = histogram(NUMPY_A_EDGES, 30);
  assert.equal(h.edges, NUMPY_A_EDGES);
  assert.equal(h.counts, [...new Array(29).fill(1), 2]);
  // and one float32 ulp below each inner edge falls in the bin before it (numpy: two per bin, three in the last)
  const h2 = histogram([...NUMPY_A_EDGES, ...NUMPY_A_EDGES.slice(1).map(below)], 30);
  assert.equal(h2.counts, [...new Array(29).fill(2), 3]);
});

numpy('integer values on exact edges: value k in bin k, the maximum in the last bin', () => {
  const h = histogram(Array.from({ length: 31 }, (_, k) => k), 30);
  assert.equal(h.edges, Array.from({ length: 31 }, (_, k) => k));
  assert.equal(h.counts, [...new Array(29).fill(1), 2]);
});

numpy('all-equal values use numpy\'s range [v − 0.5, v + 0.5] and land in the middle bin', () => {
  // numpy: np.histogram(np.full(5, np.float32(0.3)), bins=30) → count 5 in bin 15; edges in float32
  const h = histogram(new Float32Array(5).fill(0.3), 30);
  assert.is(h.edges[0], -0.19999998807907104);
  assert.is(h.edges[1], -0.1666666567325592);
  assert.is(h.edges[15], 0.30000001192092896);
  assert.is(h.edges[30], 0.800000011920929);
  assert.equal(h.counts, Array.from({ length: 30 }, (_, i) => (i === 15 ? 5 : 0)));
  // numpy: np.histogram(np.float32([2, 2]), bins=4) → [0, 0, 2, 0], edges [1.5, 1.75, 2, 2.25, 2.5]
  assert.equal(histogram([2, 2], 4), { edges: [1.5, 1.75, 2, 2.25, 2.5], counts: [0, 0, 2, 0] });
  assert.equal(histogramRange(3, 3), [2.5, 3.5]);
  assert.equal(histogramRange(-1, 4), [-1, 4]);
});

numpy('NaN is not counted; no finite value gives NaN edges and zero counts', () => {
  const h = histogram([1, NaN, 2], 2);
  assert.equal(h.counts, [1, 1]);
  const e = histogram([], 3);
  assert.ok(e.edges.every(Number.isNaN));
  assert.equal(e.counts, [0, 0, 0]);
  assert.is(new Binner(0, 1, 4).index(1.5), -1);
  assert.is(new Binner(0, 1, 4).index(NaN), -1);
});

numpy.run();

const oracleSuite = suite('histogram: against a linear scan of the edges');

oracleSuite('random float32 data, awkward ranges and bin counts', () => {
  let seed = 12345;
  const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  for (const [lo, hi, bins, n] of [[-1.661, 10.255, 30, 3000], [0, 1, 30, 500], [1e-3, 1.0001e-3, 7, 200], [-5e4, 3, 30, 800], [-2, -1, 1, 50]]) {
    const v = Array.from({ length: n }, () => f32(lo + (hi - lo) * rnd()));
    // plant every edge of the data's own range, and the values next to them
    const o0 = oracle(v, bins);
    const planted = [...v, ...o0.edges, ...o0.edges.slice(1).map(below)];
    const o = oracle(planted, bins);
    assert.equal(histogram(planted, bins), o, `range [${lo}, ${hi}], ${bins} bins`);
  }
});

oracleSuite.run();
