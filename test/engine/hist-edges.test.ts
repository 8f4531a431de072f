import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Binner } from '../../analysis/histogram.ts';
import { histEdges } from '../../engine/ops/index.ts';
import { Tensor } from '../../engine/tensor.ts';
import type { Backend } from '../../engine/backend.ts';
import { backendSuites, prng, tensorOn } from '../helpers/check-op.ts';

const f32 = Math.fround;
const bitsOf = (v: number): number => new Uint32Array(Float32Array.of(v).buffer)[0];
const fromBits = (b: number): number => new Float32Array(Uint32Array.of(b).buffer)[0];

/** groupSums-shaped [G, 4, 1] data whose min/max rows are the given ranges, and an index of one row per group */
function inputs(backend: Backend, ranges: [number, number][], empty: number[] = []) {
  const G = ranges.length, sums = new Float32Array(G * 4), index = [0];
  ranges.forEach(([lo, hi], g) => { sums[g * 4 + 1] = lo; sums[g * 4 + 2] = hi; });
  for (let g = 0; g < G; g++) index.push(index[g] + (empty.includes(g) ? 0 : 1));
  const rows = index[G];
  return {
    sums: tensorOn(backend, sums, [G, 4, 1]),
    index: tensorOn(backend, [...index, ...Array.from({ length: rows }, (_, r) => r)], [G + 1 + rows]),
  };
}

/** Binner's edges (analysis/histogram.ts: numpy's float32 definition) for [lo, hi] */
const expected = (lo: number, hi: number, bins: number): number[] => Array.from(new Binner(lo, hi, bins).edges);

/** same values bit for bit, NaN = NaN; −0 = +0 (the GPU writes either zero as +0) */
function sameBits(actual: ArrayLike<number>, want: ArrayLike<number>, label: string): void {
  for (let i = 0; i < want.length; i++) {
    const a = actual[i], e = want[i];
    if (Number.isNaN(a) && Number.isNaN(e)) continue;
    if (a !== e) assert.unreachable(`${label}: edge ${i} is ${a} (0x${bitsOf(a).toString(16)}), expected ${e} (0x${bitsOf(e).toString(16)})`);
  }
}

const t = suite('histEdges');

t('output shape [groups + 1, bins + 1]; bad shapes and attributes throw naming histEdges', () => {
  const { sums, index } = inputs(Tensor.zeros([1]).backend, [[0, 1], [2, 3]]);
  assert.equal([...histEdges(sums, index, { width: 1, groups: 2, shared: 2, bins: 30 }).shape], [3, 31]);
  assert.throws(() => histEdges(sums, index, { width: 1, groups: 2, shared: 2, bins: 65 }), /^histEdges: bins must be an integer in 1\.\.64/);
  assert.throws(() => histEdges(sums, index, { width: 1, groups: 2, shared: 3, bins: 30 }), /^histEdges: shared must be/);
  assert.throws(() => histEdges(sums, index, { width: 2, groups: 2, shared: 2, bins: 30 }), /^histEdges: sums must be groupSums' \[2, 4, 2\]/);
  assert.throws(() => histEdges(sums, Tensor.zeros([2]), { width: 1, groups: 2, shared: 2, bins: 30 }), /^histEdges: the group index must be/);
});

t.run();

// ranges numpy's float32 arithmetic finds hard: ties, values on and next to powers of two, subnormals,
// wide and narrow spans, equal ends (widened by ±0.5, which rounds away for |v| ≥ 2^24)
function hardRanges(n: number, seed: number): [number, number][] {
  const r = prng(seed), out: [number, number][] = [];
  const magnitude = () => f32((r.next() < 0.5 ? -1 : 1) * 2 ** (r.next() * 80 - 40) * (1 + r.next()));
  const next = (v: number, k: number) => fromBits(bitsOf(v) + (v >= 0 ? k : -k));
  while (out.length < n) {
    const kind = out.length % 8;
    let a: number, b: number;
    if (kind === 0) { a = f32(r.uniform(1, -3, 3)[0]); b = f32(r.uniform(1, -3, 3)[0]); }
    else if (kind === 1) { a = magnitude(); b = magnitude(); }
    else if (kind === 2) { a = magnitude(); b = a; }
    else if (kind === 3) { a = magnitude(); b = next(a, 1 + Math.floor(r.next() * 40)); }
    else if (kind === 4) { a = f32(2 ** Math.floor(r.next() * 60 - 30)); b = f32(a * (2 + Math.floor(r.next() * 4))); if (r.next() < 0.5) a = -a; }
    else if (kind === 5) { a = fromBits(1 + Math.floor(r.next() * 0x7fffff)) * (r.next() < 0.5 ? -1 : 1); b = fromBits(1 + Math.floor(r.next() * 0x900000)); }
    else if (kind === 6) { a = f32(Math.floor(r.next() * 2 ** 26) - 2 ** 25); b = r.next() < 0.5 ? a : f32(a + Math.floor(r.next() * 100)); }
    else { a = f32(-r.next() * 1e30); b = f32(r.next() * 1e30); }
    out.push(a <= b ? [a, b] : [b, a]);
  }
  return out;
}

backendSuites('histEdges', (test, backend) => {
  test('integers 0 and 30 over 30 bins: the edges are 0, 1, …, 30', async () => {
    const { sums, index } = inputs(backend, [[0, 30]]);
    const e = await histEdges(sums, index, { width: 1, groups: 1, shared: 1, bins: 30 }).read();
    assert.equal(Array.from(e), [...Array.from({ length: 31 }, (_, i) => i), ...Array.from({ length: 31 }, (_, i) => i)]);
  });

  test('equal extremes: numpy\'s [v − 0.5, v + 0.5]; an empty group and the shared range over the first groups', async () => {
    const { sums, index } = inputs(backend, [[2, 2], [-1, 0.5], [7, 9]], [2]);
    const e = await histEdges(sums, index, { width: 1, groups: 3, shared: 2, bins: 4 }).read();
    sameBits(e.subarray(0, 5), expected(2, 2, 4), 'equal');
    sameBits(e.subarray(5, 10), expected(-1, 0.5, 4), 'group 1');
    assert.ok(Array.from(e.subarray(10, 15)).every(Number.isNaN), 'an empty group has NaN edges');
    // groups 0 and 1: [-1, 2]; the empty group 2 is not in it anyway
    sameBits(e.subarray(15, 20), expected(-1, 2, 4), 'shared');
  });

  test('the extremes of many columns, NaN columns skipped; an infinite end gives NaN edges', async () => {
    // group 0: columns with mins 3, NaN, -2 and maxes 4, NaN, 8; group 1: a -Infinity min
    const sums = tensorOn(backend, [0, 0, 0, 3, NaN, -2, 4, NaN, 8, 0, 0, 0, 0, 0, 0, -Infinity, 1, 1, 2, 2, 2, 0, 0, 0], [2, 4, 3]);
    const index = tensorOn(backend, [0, 5, 9, ...Array.from({ length: 9 }, (_, r) => r)], [12]);
    const e = await histEdges(sums, index, { width: 3, groups: 2, shared: 1, bins: 30 }).read();
    sameBits(e.subarray(0, 31), expected(-2, 8, 30), 'group 0');
    assert.ok(Array.from(e.subarray(31, 62)).every(Number.isNaN), 'infinite min: NaN edges');
    sameBits(e.subarray(62, 93), expected(-2, 8, 30), 'shared = group 0');
  });

  for (const bins of [30, 1, 7, 64]) {
    test(`bit for bit numpy's edges (analysis/histogram.ts) over 6 000 hard ranges, ${bins} bins`, async () => {
      const all = hardRanges(6000, bins);
      for (let at = 0; at < all.length; at += 120) {
        const ranges = all.slice(at, at + 120);
        const { sums, index } = inputs(backend, ranges);
        const e = await histEdges(sums, index, { width: 1, groups: ranges.length, shared: ranges.length, bins }).read();
        ranges.forEach(([lo, hi], g) => sameBits(e.subarray(g * (bins + 1), (g + 1) * (bins + 1)), expected(lo, hi, bins), `[${lo}, ${hi}]`));
        const lo = Math.min(...ranges.map((r) => r[0])), hi = Math.max(...ranges.map((r) => r[1]));
        sameBits(e.subarray(ranges.length * (bins + 1)), expected(lo, hi, bins), `shared [${lo}, ${hi}]`);
      }
    });
  }
});
