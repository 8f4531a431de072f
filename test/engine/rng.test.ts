import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRng, mlpLensRngFromState, roundSumToF32, type Rng } from '../../engine/rng.ts';
import { linearInit, mlpInit } from '../../mlp/init.ts';

// the notebooks' model: 784-32-16-10, 25 818 parameters
const SIZES = [784, 32, 16, 10];

function draw(rng: Rng, n: number): number[] {
  return Array.from({ length: n }, () => rng.nextU32());
}

/** FNV-1a over 32-bit words: pins long torch dumps in one number */
function fnv1a(words: ArrayLike<number>): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < words.length; i++) h = Math.imul(h ^ words[i]!, 16777619) >>> 0;
  return h;
}

function initBits(rng: Rng): Uint32Array {
  const all: number[] = [];
  for (const { weight, bias } of mlpInit(rng, SIZES)) all.push(...weight, ...bias);
  return new Uint32Array(new Float32Array(all).buffer);
}

function isPermutation(p: Uint32Array): boolean {
  const seen = new Uint8Array(p.length);
  for (const v of p) {
    if (v >= p.length || seen[v]) return false;
    seen[v] = 1;
  }
  return true;
}

/** the exact value a + b rounded once to float32 (ties to even), with BigInt: an independent oracle */
function exactSumToF32(a: number, b: number): number {
  const parts = (x: number): { m: bigint; e: number } => {
    const view = new DataView(new ArrayBuffer(8));
    view.setFloat64(0, x);
    const hi = view.getUint32(0);
    const lo = view.getUint32(4);
    const field = (hi >>> 20) & 0x7ff;
    const frac = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
    const m = field === 0 ? frac : frac | (1n << 52n);
    return { m: hi >>> 31 ? -m : m, e: (field === 0 ? 1 : field) - 1075 };
  };
  const pa = parts(a);
  const pb = parts(b);
  const e = Math.min(pa.e, pb.e);
  const sum = (pa.m << BigInt(pa.e - e)) + (pb.m << BigInt(pb.e - e));
  if (sum === 0n) return 0;
  const neg = sum < 0n;
  const mag = neg ? -sum : sum;
  // keep 24 significant bits, never below float32's smallest subnormal step 2^-149
  const q = Math.max(e + mag.toString(2).length - 24, -149);
  let n: bigint;
  if (q <= e) {
    n = mag << BigInt(e - q);
  } else {
    const shift = BigInt(q - e);
    n = mag >> shift;
    const rem = mag - (n << shift);
    const half = 1n << (shift - 1n);
    if (rem > half || (rem === half && (n & 1n) === 1n)) n += 1n;
  }
  const v = Number(n) * 2 ** q;
  return neg ? -v : v;
}

test('MT19937: init_genrand(5489) matches the reference outputs', () => {
  const rng = createRng('torch', 5489);
  assert.equal(draw(rng, 5), [3499211612, 581869302, 3890346734, 3586334585, 545404204]);
  const more = draw(rng, 10000 - 5);
  assert.is(more[more.length - 1], 4123659995);
});

test('torch seed is taken modulo 2^32, as torch.manual_seed does', () => {
  assert.equal(draw(createRng('torch', 5489 + 2 ** 32), 3), draw(createRng('torch', 5489), 3));
});

test('linearInit with seed 31416 matches PyTorch nn.Linear(784, 32)', () => {
  const rng = createRng('torch', 31416);
  const l1 = linearInit(rng, 784, 32);
  assert.is(l1.weight.length, 32 * 784);
  assert.is(l1.bias.length, 32);
  const w = [0.0211348124, -0.0102567039, -0.0155887529, -0.0166302714, 0.00343829836];
  w.forEach((v, i) => assert.is(l1.weight[i], Math.fround(v), `linear1.weight[${i}]`));
  const b = [0.0295577496, -0.024319211, -0.00774545781];
  b.forEach((v, i) => assert.is(l1.bias[i], Math.fround(v), `linear1.bias[${i}]`));
});

test('mlpInit with seed 31416 matches PyTorch, all 25 818 values bit for bit', () => {
  const layers = mlpInit(createRng('torch', 31416), SIZES);
  assert.equal(layers.map((l) => [l.weight.length, l.bias.length]), [[25088, 32], [512, 16], [160, 10]]);
  const ob = [0.22766462, 0.235453099, -0.101496249];
  ob.forEach((v, i) => assert.is(layers[2]!.bias[i], Math.fround(v), `output.bias[${i}]`));
  // float32 bits of linear2.weight[0, 0] and output.weight[0, 0] from torch 1.13
  assert.is(new Uint32Array(layers[1]!.weight.slice(0, 1).buffer)[0], 3185001554);
  assert.is(new Uint32Array(layers[2]!.weight.slice(0, 1).buffer)[0], 3195582598);
  // fnv-1a of every parameter's float32 bits in state_dict order, dumped from torch 1.13
  assert.is(fnv1a(initBits(createRng('torch', 31416))), 2807079108);
});

test('init and three epochs match PyTorch for seeds 31416, 1 and 2', () => {
  // from torch 1.13: manual_seed, build the MLP, iterate DataLoader(len 60000, batch 64, shuffle=True)
  // three times; then the next int64 random_() of the global generator
  const cases = [
    { seed: 31416, init: 2807079108, epochs: [1775720999, 2526684141, 4034946493], next: 8510920971061662746n },
    { seed: 1, init: 3771180767, epochs: [2615397771, 2322613831, 1641306821], next: 8509597162542116360n },
    { seed: 2, init: 153465865, epochs: [3805785915, 404801881, 3591363575], next: 7484503530378679306n },
  ];
  for (const c of cases) {
    const rng = createRng('torch', c.seed);
    assert.is(fnv1a(initBits(rng)), c.init, `init, seed ${c.seed}`);
    c.epochs.forEach((h, e) => assert.is(fnv1a(rng.epochPermutation(60000)), h, `epoch ${e}, seed ${c.seed}`));
    const [hi, lo] = draw(rng, 2);
    const next = ((BigInt(hi!) << 32n) | BigInt(lo!)) & ((1n << 63n) - 1n);
    assert.is(next, c.next, `generator position after 3 epochs, seed ${c.seed}`);
  }
});

test('epochs with seed 31416 start as in PyTorch (4 generator outputs per epoch)', () => {
  const rng = createRng('torch', 31416);
  mlpInit(rng, SIZES);
  // _BaseDataLoaderIter draws _base_seed first, then RandomSampler its seed. with the sampler's draw
  // alone (2 outputs) the first epoch would start 39001, 7678, 56495, 22140, 55684, but training on
  // that order misses the notebooks' printed epoch-0 train accuracy (45.31 % instead of 44.3167 %)
  const starts = [[12659, 23757, 51985, 7474, 28832], [28938, 22230, 45133, 56187, 11598], [6747, 26118, 1088, 25076, 25068]];
  for (const start of starts) assert.equal([...rng.epochPermutation(60000).slice(0, 5)], start);
});

test('roundSumToF32 rounds once: constructed midpoint cases', () => {
  // from = -2^-100, range 3: p = 1 + 11·2^-24 is a float32 midpoint; the true sum lies just below it
  const tiny = 2 ** -100;
  const pDown = 5592409 * 2 ** -24 * 3;
  assert.is(pDown, 1 + 11 * 2 ** -24);
  assert.is(Math.fround(pDown - tiny), 1 + 6 * 2 ** -23, 'double rounding picks the even neighbour above');
  assert.is(roundSumToF32(pDown, -tiny), 1 + 5 * 2 ** -23);
  // from = +2^-100: p = 1 + 5·2^-24 is a midpoint; the true sum lies just above it
  const pUp = 5592407 * 2 ** -24 * 3;
  assert.is(pUp, 1 + 5 * 2 ** -24);
  assert.is(Math.fround(pUp + tiny), 1 + 2 * 2 ** -23, 'double rounding picks the even neighbour below');
  assert.is(roundSumToF32(pUp, tiny), 1 + 3 * 2 ** -23);
  // an exact midpoint (no error) still ties to even
  assert.is(roundSumToF32(1, 2 ** -24), 1);
  assert.is(roundSumToF32(1, 3 * 2 ** -24), 1 + 2 * 2 ** -23);
  // negative side, and a midpoint just below a power of two
  assert.is(roundSumToF32(-pDown, tiny), -(1 + 5 * 2 ** -23));
  assert.is(roundSumToF32(1 - 2 ** -25, -tiny), 1 - 2 ** -24);
  assert.is(roundSumToF32(1 - 2 ** -25, tiny), 1);
});

test('roundSumToF32 agrees with an exact BigInt rounding on random uniform_ inputs', () => {
  const src = createRng('mlp-lens', 7);
  let differsFromNaive = 0;
  for (let i = 0; i < 20000; i++) {
    const [r1, r2, r3, r4] = draw(src, 4) as [number, number, number, number];
    // one endpoint with a short mantissa (so p is often a float32 midpoint), the other a full float32
    // of much smaller or similar scale (so p + from is often inexact in double): the double-rounding cases
    const e1 = (r3 % 21) - 10;
    const short = (1 + (r1 & 7)) * 2 ** e1 * (r3 & 0x100 ? -1 : 1);
    const full = Math.fround((r2 / 2 ** 32) * 2 ** (e1 - ((r3 >>> 9) % 64))) * (r3 & 0x200 ? -1 : 1);
    const from = Math.min(short, full);
    const range = Math.fround(Math.max(short, full) - from);
    const p = (r4 >>> 8) * 2 ** -24 * range;
    const got = roundSumToF32(p, from);
    assert.is(got, exactSumToF32(p, from), `p=${p} from=${from}`);
    if (got !== Math.fround(p + from)) differsFromNaive++;
  }
  assert.ok(differsFromNaive > 50, `only ${differsFromNaive} midpoint cases were exercised`);
});

test('uniform matches torch.empty(n).uniform_ on double-rounding cases', () => {
  // torch.manual_seed(0); torch.empty(2**20).uniform_(-2**-100, 3) then .uniform_(2**-100, 3)
  const rng = createRng('torch', 0);
  const a = rng.uniform(-(2 ** -100), 3, 1 << 20);
  assert.is(a[8], 1.3668838739395142);
  assert.is(a[10], 1.0466803312301636);
  assert.is(a[25], 1.6587210893630981);
  const b = rng.uniform(2 ** -100, 3, 13);
  assert.is(b[0], 1.9773129224777222);
  assert.is(b[4], 1.3334461450576782);
  assert.is(b[12], 2.123840093612671);
});

test('uniform stays in [from, to) and random in [0, 1)', () => {
  for (const kind of ['torch', 'mlp-lens'] as const) {
    const rng = createRng(kind, 3);
    const u = rng.uniform(-0.25, 0.5, 10000);
    assert.ok(u.every((v) => v >= -0.25 && v < 0.5), kind);
    const r = rng.random(10000);
    assert.ok(r.every((v) => v >= 0 && v < 1), kind);
    assert.throws(() => rng.uniform(1, 0, 1), RangeError);
  }
});

test('epochPermutation returns permutations', () => {
  for (const kind of ['torch', 'mlp-lens'] as const) {
    const rng = createRng(kind, 11);
    for (const n of [0, 1, 2, 3, 10, 1000, 60000]) {
      const p = rng.epochPermutation(n);
      assert.is(p.length, n);
      assert.ok(isPermutation(p), `${kind} n=${n}`);
    }
  }
});

test('mlp-lens: xoshiro128** matches the reference code from state [1, 2, 3, 4]', () => {
  // published with rand_xoshiro, produced by xoshiro128starstar.c v1.1
  const rng = mlpLensRngFromState(1, 2, 3, 4);
  assert.equal(draw(rng, 10), [11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849, 3729100597, 4258142804]);
  assert.throws(() => mlpLensRngFromState(0, 0, 0, 0), RangeError);
});

test('mlp-lens: SplitMix64 seeding matches the reference C code', () => {
  // splitmix64.c started at the seed, two outputs split low/high into s[0..3], then xoshiro128starstar.c
  const expected: Array<[number, number[]]> = [
    [0, [3737715805, 2584255861, 2876756834, 3286328325, 1553311962, 1625202774]],
    [1, [1695105466, 1423115009, 634581793, 1068227753, 716759206, 4186505319]],
    [31416, [3934980722, 1197066558, 3232028541, 371326080, 53698930, 2891585487]],
    [-1, [477689756, 2493998634, 555695776, 607808419, 61340979, 301466976]],
    [Number.MAX_SAFE_INTEGER, [1233166643, 1287031142, 661813442, 2960669951, 2601079046, 1036114921]],
  ];
  for (const [seed, out] of expected) assert.equal(draw(createRng('mlp-lens', seed), 6), out, `seed ${seed}`);
});

test('mlp-lens: the shuffle is a uniform Fisher–Yates (all 6 orders of 3 appear evenly)', () => {
  const rng = createRng('mlp-lens', 5);
  const counts = new Map<string, number>();
  const trials = 60000;
  for (let i = 0; i < trials; i++) {
    const key = rng.epochPermutation(3).join('');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  assert.is(counts.size, 6);
  // each order expects 10 000 (sd ≈ 91); 500 is over 5 sd
  for (const [key, c] of counts) assert.ok(Math.abs(c - trials / 6) < 500, `${key}: ${c}`);
});

test('determinism: the same seed gives the same stream, another seed another', () => {
  for (const kind of ['torch', 'mlp-lens'] as const) {
    const a = createRng(kind, 42);
    const b = createRng(kind, 42);
    assert.equal(draw(a, 100), draw(b, 100), kind);
    assert.equal([...a.uniform(-1, 1, 50)], [...b.uniform(-1, 1, 50)], kind);
    assert.equal([...a.epochPermutation(500)], [...b.epochPermutation(500)], kind);
    assert.equal([...a.random(50)], [...b.random(50)], kind);
    assert.not.equal(draw(createRng(kind, 43), 10), draw(createRng(kind, 42), 10), kind);
    assert.is(a.kind, kind);
  }
  assert.is(createRng('torch', 0).algorithm, 'MT19937 (PyTorch CPU generator)');
  assert.match(createRng('mlp-lens', 0).algorithm, /xoshiro128\*\*/);
  assert.throws(() => createRng('torch', 1.5), RangeError);
});

test.run();
