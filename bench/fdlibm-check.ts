// Exactness check of the WAT ports of V8's Math.exp and Math.log (engine/wasm/fdlibm.ts): the scalar exp,
// the f64x2 exp and the scalar log against this Node's Math.exp/Math.log, bit for bit (NaN payloads and
// signed zeros included), over ≈ 150 M inputs at --scale 1:
//   exp: random 64-bit patterns; uniform in [−745, 0] (t-SNE's exp(−d²β)) and [−50, 50]; each branch
//        threshold of e_exp.c (and the f64x2 path's 708/709 and k = −1021 edges) ± up to 2¹² ulps and
//        ± up to 2³² ulps; x near (k + ½)·ln2 (where the reduction's k changes) for every k; |x| in
//        2^[−60, 0]; and the specials (±0, ±subnormals, ±Inf, NaNs with payloads, thresholds, powers of two)
//   log: random 64-bit patterns; uniform in (0, 1e6]; 1 ± up to 2²⁴ ulps; powers of two ± up to 2²⁴
//        ulps (the |f| < 2⁻²⁰ branch); the √2 split and e_log.c's 0x6147a/0x6b851 bands; subnormals;
//        and the specials
// Prints each family's count and mismatches (the first few in hex) and exits 1 on any.
//   node --import ./bench/node-ts.mjs bench/fdlibm-check.ts [--scale S]
import process from 'node:process';
import { assembleWat } from '../engine/wasm/load.ts';
import { mathKernelsWat, type MathKernelExports } from '../engine/wasm/math-kernels.ts';

const scaleAt = process.argv.indexOf('--scale');
const scale = scaleAt > 0 ? Number(process.argv[scaleAt + 1]) : 1;
const CHUNK = 1 << 20;

const module = await WebAssembly.compile(await assembleWat('math-kernels.wat', mathKernelsWat));
const instance = await WebAssembly.instantiate(module);
const k = instance.exports as unknown as MathKernelExports;
const memory = instance.exports.memory as WebAssembly.Memory;
memory.grow(Math.ceil((16 * CHUNK) / 65536));
const SRC = 0, DST = 8 * CHUNK;
const src = new Float64Array(memory.buffer, SRC, CHUNK), srcBits = new Uint32Array(memory.buffer, SRC, 2 * CHUNK);
const got = new Uint32Array(memory.buffer, DST, 2 * CHUNK);
const want = new Float64Array(CHUNK), wantBits = new Uint32Array(want.buffer);

// xorshift128: a fixed stream
let s0 = 0x12345678, s1 = 0x9abcdef0, s2 = 0x0fedcba9, s3 = 0x87654321;
function u32(): number {
  const t = s0 ^ (s0 << 11);
  s0 = s1; s1 = s2; s2 = s3;
  s3 = (s3 ^ (s3 >>> 19) ^ t ^ (t >>> 8)) >>> 0;
  return s3;
}
const unit = (): number => ((u32() >>> 5) * 67108864 + (u32() >>> 6)) / 9007199254740992; // [0, 1), 53 bits

const f64 = new Float64Array(1), u64 = new BigUint64Array(f64.buffer);
const fromBits = (b: bigint): number => { u64[0] = BigInt.asUintN(64, b); return f64[0]; };
const toBits = (x: number): bigint => { f64[0] = x; return u64[0]; };
/** x moved by `ulps` units in the last place (through the bit pattern: may cross into the next binade or sign) */
const nudge = (x: number, ulps: number): number => fromBits(toBits(x) + BigInt(ulps));
const randInt = (span: number): number => Math.floor(unit() * (2 * span + 1)) - span;

type Fill = (a: Float64Array, at: number) => void;
interface Family { name: string; count: number; fill: Fill }

const randomBits: Fill = (a, at) => { srcBits[2 * at] = u32(); srcBits[2 * at + 1] = u32(); };
const uniform = (lo: number, hi: number): Fill => (a, at) => { a[at] = lo + (hi - lo) * unit(); };
/** one of `points` moved by up to ±2¹² ulps, or (one time in four) up to ±2³² */
const around = (points: number[]): Fill => (a, at) => {
  const p = points[u32() % points.length];
  a[at] = nudge(p, u32() % 4 === 0 ? randInt(2 ** 32) : randInt(4096));
};
const word = (hi: number, lo = 0): number => fromBits((BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0));
const specials = (xs: number[]): Fill => (a, at) => { a[at] = xs[at % xs.length]; };

const LN2 = Math.LN2;
const expThresholds = [
  word(0x40862e42), word(0x40862e42, 0xfefa39ef), word(0xc0874910, 0xd52d3051), // |x| ≥ 709.78, o_threshold, u_threshold
  word(0x3fd62e42), word(0x3fd62e43), word(0x3ff0a2b2), word(0x3e300000), // ½ln2, 1.5ln2, 2⁻²⁸
  709, 708, -708, -709, -(1021.5 * LN2), -(1022.5 * LN2), 1023.5 * LN2, 1, -1, 0.5 * LN2, 1.5 * LN2,
];
const signed = (xs: number[]) => xs.flatMap((x) => [x, -x]);
const nans = [word(0x7ff80000), word(0xfff80000), word(0x7ff80000, 0x1234), word(0xfff80000, 0x1234), word(0x7ff00000, 1), word(0x7ff40000)];
const expSpecials = [
  0, -0, Infinity, -Infinity, ...nans, ...signed([5e-324, 2.2250738585072014e-308, 2 ** -1022 - 2 ** -1074, Number.MAX_VALUE]),
  ...expThresholds.flatMap((x) => [-2, -1, 0, 1, 2].map((d) => nudge(x, d))).flatMap((x) => [x, -x]),
  ...Array.from({ length: 2200 }, (_, i) => signed([2 ** (i - 1100)])).flat(),
  ...Array.from({ length: 1500 }, (_, i) => i - 750),
];
const logSpecials = [
  0, -0, Infinity, -Infinity, ...nans, -1, -5e-324, 5e-324, 2.2250738585072014e-308, 2 ** -1022 - 2 ** -1074, Number.MAX_VALUE,
  1, Math.SQRT2, Math.SQRT1_2, Math.E, ...Array.from({ length: 2098 }, (_, i) => 2 ** (i - 1074)),
  ...Array.from({ length: 1024 }, (_, i) => i + 1), ...Array.from({ length: 64 }, (_, i) => 10 ** (i - 32)),
];

const M = (millions: number) => Math.max(1, Math.round(millions * 1e6 * scale));
const expFamilies: Family[] = [
  { name: 'specials', count: expSpecials.length, fill: specials(expSpecials) },
  { name: 'random bits', count: M(20), fill: randomBits },
  { name: 'uniform [-745, 0]', count: M(30), fill: uniform(-745, 0) },
  { name: 'uniform [-50, 50]', count: M(25), fill: uniform(-50, 50) },
  { name: 'thresholds ± ulps', count: M(8), fill: around(signed(expThresholds)) },
  { name: '(k + 1/2)·ln2 ± ulps', count: M(5), fill: (a, at) => { a[at] = nudge((randInt(1080) + 0.5) * LN2, randInt(64)); } },
  { name: '±2^[-60, 0]', count: M(5), fill: (a, at) => { a[at] = (u32() & 1 ? -1 : 1) * 2 ** (-60 * unit()); } },
];
const logFamilies: Family[] = [
  { name: 'specials', count: logSpecials.length, fill: specials(logSpecials) },
  { name: 'random bits', count: M(15), fill: randomBits },
  { name: 'uniform (0, 1e6]', count: M(25), fill: (a, at) => { a[at] = 1e6 * (1 - unit()); } },
  { name: '1 ± ulps', count: M(4), fill: (a, at) => { a[at] = nudge(1, randInt(2 ** 24)); } },
  { name: 'powers of two ± ulps', count: M(4), fill: (a, at) => { a[at] = nudge(2 ** (randInt(1020)), randInt(2 ** 24)); } },
  {
    name: 'mantissa bands (√2, 0x6147a, 0x6b851)', count: M(4),
    fill: (a, at) => {
      const hi = [0x6a09e, 0x6147a, 0x6b851][u32() % 3] + randInt(4);
      a[at] = word(((randInt(1000) + 1023) << 20) | (hi & 0xfffff), u32());
    },
  },
  { name: 'subnormals', count: M(2), fill: (a, at) => { srcBits[2 * at] = u32(); srcBits[2 * at + 1] = u32() & 0xfffff; } },
];

let failed = 0, total = 0;
function run(fn: string, f: (x: number) => number, kernels: [string, (n: number) => void][], families: Family[]): void {
  for (const fam of families) {
    const bad = new Map<string, number>(), examples: string[] = [];
    for (let done = 0; done < fam.count; done += CHUNK) {
      const n = Math.min(CHUNK, fam.count - done);
      for (let i = 0; i < n; i++) fam.fill(src, i);
      for (let i = 0; i < n; i++) want[i] = f(src[i]);
      for (const [name, kernel] of kernels) {
        kernel(n);
        for (let i = 0; i < 2 * n; i += 2) {
          if (got[i] === wantBits[i] && got[i + 1] === wantBits[i + 1]) continue;
          bad.set(name, (bad.get(name) ?? 0) + 1);
          const hex = (lo: number, hi: number) => hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
          if (examples.length < 5) examples.push(`${name}(${src[i >> 1]} = 0x${hex(srcBits[i], srcBits[i + 1])}): 0x${hex(got[i], got[i + 1])}, Math: 0x${hex(wantBits[i], wantBits[i + 1])}`);
        }
      }
    }
    total += fam.count;
    const misses = [...bad.values()].reduce((a, b) => a + b, 0);
    failed += misses;
    console.log(`${fn} ${fam.name}: ${fam.count} inputs × ${kernels.length} kernels, ${misses ? `${misses} MISMATCHES (${[...bad].map(([k, v]) => `${k} ${v}`).join(', ')})` : 'identical'}`);
    for (const e of examples) console.log(`  ${e}`);
  }
}

const t0 = performance.now();
run('exp', Math.exp, [['exp', (n) => k.exp_n(SRC, DST, n)], ['exp f64x2', (n) => k.exp2_n(SRC, DST, n)]], expFamilies);
run('log', Math.log, [['log', (n) => k.log_n(SRC, DST, n)]], logFamilies);
console.log(`${total} inputs (node ${process.versions.node}, V8 ${process.versions.v8}, ${process.arch}) in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${failed ? `${failed} MISMATCHES` : 'every result identical to Math.exp / Math.log, bit for bit'}`);
process.exitCode = failed ? 1 : 0;
