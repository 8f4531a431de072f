// seeded randomness: a bit-exact copy of PyTorch's CPU generator, and the project's own generator.

/** Which generator `--rng` picks: PyTorch's CPU generator (`torch`) or the project's own (`mlp-lens`). */
export type RngKind = 'torch' | 'mlp-lens';

/** A seeded stream of random numbers, with the few derived draws that training needs. */
export interface Rng {
  readonly kind: RngKind;
  /** human-readable, e.g. 'MT19937 (PyTorch CPU generator)' */
  readonly algorithm: string;
  /** the next raw 32-bit output, as an unsigned integer */
  nextU32(): number;
  /** n float32 values uniform in [from, to), drawn the way torch's CPU `Tensor.uniform_(from, to)` does for float32 */
  uniform(from: number, to: number, n: number): Float32Array;
  /** the sample order of one epoch, drawn as torch's DataLoader(shuffle=True) does at the start of each epoch's iteration */
  epochPermutation(n: number): Uint32Array;
  /** n float32 in [0, 1) (for dropout later) */
  random(n: number): Float32Array;
  /**
   * the generator's whole state as 32-bit words (a copy; checkpoints save it). torch: the 624 MT19937
   * words then the index (625 words); mlp-lens: the 4 xoshiro128** words.
   */
  state(): Uint32Array;
  /**
   * puts back a state from state() of a generator of the same kind: the stream continues exactly where
   * that one was. Throws RangeError for a state of the wrong length or an impossible one.
   */
  restore(state: ArrayLike<number>): void;
}

/**
 * Creates a seeded generator. `seed` must be a safe integer; `torch` keeps its low 32 bits (as
 * `torch.manual_seed` does), `mlp-lens` its low 64 bits.
 */
export function createRng(kind: RngKind, seed: number): Rng {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`rng seed must be a safe integer, got ${seed}`);
  switch (kind) {
    case 'torch':
      return new TorchRng(seed);
    case 'mlp-lens':
      return new MlpLensRng(seed);
    default:
      throw new RangeError(`unknown rng kind '${String(kind)}' (expected 'torch' or 'mlp-lens')`);
  }
}

const TWO_POW_M24 = 2 ** -24;

// scratch views for stepping between neighbouring float32 values
const stepF = new Float32Array(1);
const stepU = new Uint32Array(stepF.buffer);

/** the float32 next to the finite float32 f, upwards or downwards */
function stepF32(f: number, up: boolean): number {
  if (f === 0) return up ? 2 ** -149 : -(2 ** -149);
  stepF[0] = f;
  // float32 is sign-magnitude: moving away from zero adds one to the bits
  stepU[0] = (f > 0) === up ? stepU[0]! + 1 : stepU[0]! - 1;
  return stepF[0]!;
}

/**
 * Rounds the exact real value `a + b` (a, b doubles) to float32 with one rounding, ties to even,
 * as a fused multiply-add into float32 does; `Math.fround(a + b)` rounds twice and can miss.
 * Assumes the result is a finite float32.
 */
export function roundSumToF32(a: number, b: number): number {
  const s = a + b;
  const f = Math.fround(s);
  if (f === s || !Number.isFinite(f)) return f;
  // knuth's two-sum: e is the exact rounding error of a + b in double
  const bv = s - a;
  const e = (a - (s - bv)) + (b - bv);
  if (e === 0) return f;
  // rounding to double never crosses a float32 midpoint (midpoints are doubles), so the two roundings
  // disagree only when s landed exactly on a midpoint: then the sign of e picks the side.
  // s - f and g - f are exact (nearby values, sterbenz)
  const g = stepF32(f, s > f);
  if (2 * (s - f) !== g - f) return f;
  return (e > 0) === (g > f) ? g : f;
}

/** the shared float32 construction: 24 random bits scaled to [0, 1), then one fused multiply-add */
function uniformFrom(rng: Rng, from: number, to: number, n: number): Float32Array {
  const lo = Math.fround(from);
  const hi = Math.fround(to);
  if (!(lo <= hi) || !Number.isFinite(lo) || !Number.isFinite(hi)) {
    throw new RangeError(`uniform expects finite float32 from <= to, got [${from}, ${to})`);
  }
  const range = Math.fround(hi - lo);
  if (!Number.isFinite(range)) throw new RangeError(`uniform range ${to} - ${from} overflows float32`);
  checkCount(n);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    // a 24-bit integer times a float32 fits a double's 53-bit mantissa: p is exact
    const p = (rng.nextU32() & 0xffffff) * TWO_POW_M24 * range;
    out[i] = roundSumToF32(p, lo);
  }
  return out;
}

function checkCount(n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`count must be a non-negative integer, got ${n}`);
}

const MT_N = 624;
const MT_M = 397;

/** MT19937 (Matsumoto & Nishimura 1998), 32-bit outputs, seeded with `init_genrand`. */
class Mt19937 {
  private readonly mt = new Uint32Array(MT_N);
  private mti = MT_N;

  constructor(seed: number) {
    const mt = this.mt;
    mt[0] = seed >>> 0;
    for (let i = 1; i < MT_N; i++) {
      const prev = mt[i - 1]!;
      mt[i] = (Math.imul(1812433253, prev ^ (prev >>> 30)) + i) >>> 0;
    }
  }

  /** the 624 state words then the index (0..624) */
  state(): Uint32Array {
    const out = new Uint32Array(MT_N + 1);
    out.set(this.mt);
    out[MT_N] = this.mti;
    return out;
  }

  restore(state: ArrayLike<number>): void {
    if (state.length !== MT_N + 1) throw new RangeError(`MT19937 state must be ${MT_N + 1} words (624 + the index), got ${state.length}`);
    for (let i = 0; i <= MT_N; i++) {
      const w = state[i]!;
      if (!Number.isInteger(w) || w < 0 || w > 0xffffffff) throw new RangeError(`MT19937 state word ${i} is not a 32-bit unsigned integer: ${w}`);
    }
    const mti = state[MT_N]!;
    if (mti > MT_N) throw new RangeError(`MT19937 state index must be 0..${MT_N}, got ${mti}`);
    // an all-zero state would output zeros forever: no seeding produces it
    let any = 0;
    for (let i = 0; i < MT_N; i++) any |= state[i]!;
    if (any === 0) throw new RangeError('MT19937 state must not be all zero');
    for (let i = 0; i < MT_N; i++) this.mt[i] = state[i]!;
    this.mti = mti;
  }

  next(): number {
    if (this.mti >= MT_N) this.twist();
    let y = this.mt[this.mti++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  private twist(): void {
    const mt = this.mt;
    for (let k = 0; k < MT_N; k++) {
      const y = (mt[k]! & 0x80000000) | (mt[(k + 1) % MT_N]! & 0x7fffffff);
      mt[k] = mt[(k + MT_M) % MT_N]! ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
    }
    this.mti = 0;
  }
}

// torch 1.13's randperm_cpu switches to a random64-based shuffle from this size on; we only copy the small-n path
const TORCH_RANDPERM_SMALL_LIMIT = Math.floor(0xffffffff / 20);

/**
 * PyTorch's CPU default generator after `torch.manual_seed(seed)`: MT19937 seeded with
 * `init_genrand(seed mod 2³²)`. Every draw below reproduces torch 1.13 bit for bit.
 */
class TorchRng implements Rng {
  readonly kind = 'torch' as const;
  readonly algorithm = 'MT19937 (PyTorch CPU generator)';
  private readonly engine: Mt19937;

  constructor(seed: number) {
    this.engine = new Mt19937(seed >>> 0);
  }

  nextU32(): number {
    return this.engine.next();
  }

  uniform(from: number, to: number, n: number): Float32Array {
    return uniformFrom(this, from, to, n);
  }

  /**
   * Each `for x, y in loader` in torch 1.13 first draws the iterator's `_base_seed` (an int64
   * `random_()`, two outputs), then RandomSampler draws its own int64 seed (two more), seeds a fresh
   * MT19937 with it and runs `randperm`. So one epoch consumes 4 outputs of this generator.
   */
  epochPermutation(n: number): Uint32Array {
    checkCount(n);
    if (n >= TORCH_RANDPERM_SMALL_LIMIT) throw new RangeError(`epochPermutation supports n < ${TORCH_RANDPERM_SMALL_LIMIT}, got ${n}`);
    // _BaseDataLoaderIter.__init__: _base_seed (only used by worker processes, but still drawn)
    this.engine.next();
    this.engine.next();
    // RandomSampler.__iter__: seed = ((r1 << 32) | r2) mod 2⁶³; manual_seed keeps its low 32 bits, i.e. r2
    this.engine.next();
    const sampler = new Mt19937(this.engine.next());
    // randperm_cpu: forward swap shuffle with a (slightly biased) modulo, as torch does
    const perm = new Uint32Array(n);
    for (let i = 0; i < n; i++) perm[i] = i;
    for (let i = 0; i < n - 1; i++) {
      const j = i + (sampler.next() % (n - i));
      const t = perm[i]!;
      perm[i] = perm[j]!;
      perm[j] = t;
    }
    return perm;
  }

  random(n: number): Float32Array {
    return uniformFrom(this, 0, 1, n);
  }

  state(): Uint32Array {
    return this.engine.state();
  }

  restore(state: ArrayLike<number>): void {
    this.engine.restore(state);
  }
}

/**
 * xoshiro128** 1.1 (D. Blackman and S. Vigna, "Scrambled linear pseudorandom number generators",
 * ACM TOMS 2021; reference code https://prng.di.unimi.it/xoshiro128starstar.c). As the authors
 * recommend, the 128-bit state is filled from SplitMix64 (https://prng.di.unimi.it/splitmix64.c)
 * started at the 64-bit seed: two outputs, each split into low then high 32-bit words.
 */
class MlpLensRng implements Rng {
  readonly kind = 'mlp-lens' as const;
  readonly algorithm = 'xoshiro128** 1.1 seeded by SplitMix64';
  private readonly s = new Uint32Array(4);

  constructor(seed: number) {
    // seeding happens once, so 64-bit BigInt arithmetic is fine here
    let x = BigInt.asUintN(64, BigInt(seed));
    for (let k = 0; k < 2; k++) {
      x = BigInt.asUintN(64, x + 0x9e3779b97f4a7c15n);
      let z = x;
      z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
      z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94d049bb133111ebn);
      z ^= z >> 31n;
      this.s[2 * k] = Number(z & 0xffffffffn);
      this.s[2 * k + 1] = Number(z >> 32n);
    }
  }

  /** Replaces the state with four raw 32-bit words (for checking against the reference code's vectors). */
  static fromState(s0: number, s1: number, s2: number, s3: number): MlpLensRng {
    const rng = new MlpLensRng(0);
    rng.s.set([s0, s1, s2, s3]);
    if ((rng.s[0]! | rng.s[1]! | rng.s[2]! | rng.s[3]!) === 0) throw new RangeError('xoshiro128** state must not be all zero');
    return rng;
  }

  nextU32(): number {
    const s = this.s;
    const s1 = s[1]!;
    const m = Math.imul(s1, 5);
    const result = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
    const t = s1 << 9;
    s[2] ^= s[0]!;
    s[3] ^= s1;
    s[1] = s1 ^ s[2]!;
    s[0] ^= s[3]!;
    s[2] ^= t;
    const s3 = s[3]!;
    s[3] = (s3 << 11) | (s3 >>> 21);
    return result;
  }

  uniform(from: number, to: number, n: number): Float32Array {
    return uniformFrom(this, from, to, n);
  }

  /**
   * A plain Fisher–Yates shuffle (from the end, j uniform in [0, i]) of 0..n−1. Each bound is drawn
   * without bias by rejection: outputs below (2³² mod bound) are redrawn, then reduced modulo bound
   * (the method of OpenBSD's arc4random_uniform).
   */
  epochPermutation(n: number): Uint32Array {
    checkCount(n);
    if (n > 2 ** 32) throw new RangeError(`epochPermutation supports n <= 2^32, got ${n}`);
    const perm = new Uint32Array(n);
    for (let i = 0; i < n; i++) perm[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const bound = i + 1;
      // 2³² mod bound: the outputs below it would make low residues more likely
      const threshold = (2 ** 32 - bound) % bound;
      let r = this.nextU32();
      while (r < threshold) r = this.nextU32();
      const j = r % bound;
      const t = perm[i]!;
      perm[i] = perm[j]!;
      perm[j] = t;
    }
    return perm;
  }

  random(n: number): Float32Array {
    return uniformFrom(this, 0, 1, n);
  }

  state(): Uint32Array {
    return Uint32Array.from(this.s);
  }

  restore(state: ArrayLike<number>): void {
    if (state.length !== 4) throw new RangeError(`xoshiro128** state must be 4 words, got ${state.length}`);
    for (let i = 0; i < 4; i++) {
      const w = state[i]!;
      if (!Number.isInteger(w) || w < 0 || w > 0xffffffff) throw new RangeError(`xoshiro128** state word ${i} is not a 32-bit unsigned integer: ${w}`);
    }
    if ((state[0]! | state[1]! | state[2]! | state[3]!) === 0) throw new RangeError('xoshiro128** state must not be all zero');
    for (let i = 0; i < 4; i++) this.s[i] = state[i]!;
  }
}

/** Builds an mlp-lens generator with a raw xoshiro128** state, bypassing SplitMix64 seeding (for reference vectors). */
export function mlpLensRngFromState(s0: number, s1: number, s2: number, s3: number): Rng {
  return MlpLensRng.fromState(s0, s1, s2, s3);
}
