// the op checks every test file shares: seeded test data, central finite differences in f64 on the
// cpu, parity of any backend against the cpu f32 oracle, and one uvu suite per test backend.
import { Tensor, noGrad } from '../../engine/tensor.ts';
import type { Backend, DType } from '../../engine/backend.ts';
import { cpu } from '../../engine/cpu.ts';
import { suite, type Test } from 'uvu';
import * as assert from 'uvu/assert';
import { assertClose, type Tolerance } from './close.ts';
import { testBackends } from '../setup/backends.ts';

/** one tensor input of a check: row-major values, shape, and whether its gradient is checked */
export interface InputSpec { data: ArrayLike<number>; shape: readonly number[]; grad?: boolean }

export type OpFn = (...inputs: Tensor[]) => Tensor;

// --- seeded data (no Math.random: a failure must reproduce)

export interface Prng {
  /** uniform in [0, 1) */
  next(): number;
  /** n values uniform in [lo, hi) */
  uniform(n: number, lo?: number, hi?: number): number[];
  /** n integers uniform in [lo, hi) (ties on purpose: eq, argmax, max) */
  ints(n: number, lo: number, hi: number): number[];
  /** n values with |v| uniform in [min, max) and a random sign (kept away from 0: relu, reciprocal, weights) */
  signed(n: number, min: number, max: number): number[];
  /** n distinct values spread over [lo, hi) at least (hi − lo)/n apart, shuffled (max without ties) */
  distinct(n: number, lo?: number, hi?: number): number[];
}

/** mulberry32: 32 bits of state, enough for test data */
export function prng(seed: number): Prng {
  let s = seed >>> 0;
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  const many = (n: number, f: () => number): number[] => Array.from({ length: n }, f);
  return {
    next,
    uniform: (n, lo = -1, hi = 1) => many(n, () => lo + (hi - lo) * next()),
    ints: (n, lo, hi) => many(n, () => lo + Math.floor((hi - lo) * next())),
    signed: (n, min, max) => many(n, () => (next() < 0.5 ? -1 : 1) * (min + (max - min) * next())),
    distinct: (n, lo = -1, hi = 1) => {
      const v = many(n, () => 0).map((_, i) => lo + ((i + 0.25) * (hi - lo)) / n);
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [v[i], v[j]] = [v[j], v[i]];
      }
      return v;
    },
  };
}

/** weights of the weighted-sum loss: |w| in [0.5, 1.5) with random signs, so no output element is ignored */
function lossWeights(n: number, seed: number): number[] {
  return prng(seed).signed(n, 0.5, 1.5);
}

// --- shapes every backend must get right (lesson 5)

/** 1, around a workgroup of 64, a row of classes, an image */
export const AWKWARD_SIZES = [1, 10, 63, 64, 65, 784] as const;

/** the MNIST MLP: 784 → 32 → 16 → 10 in batches of 64; 60000 mod 64 = 32 leaves a partial last batch */
export const MNIST = { batch: 64, lastBatch: 32, oddBatch: 17, dIn: 784, hidden: [32, 16], classes: 10 } as const;

// --- finite differences

export interface FdOptions {
  /** names the op in failure messages */
  label?: string;
  /** step of the central difference */
  h?: number;
  atol?: number;
  rtol?: number;
  /** seed of the loss weights */
  seed?: number;
}

/**
 * checks every gradient `fn` produces against central finite differences, in f64 on the cpu.
 * The output is reduced by a weighted sum L = Σ w·out with fixed random weights (so every element
 * matters and symmetric errors cannot cancel); the analytic gradient comes from out.backward(w),
 * which is dL/dinputs without routing the check through mul and sum, themselves under test.
 * Keep inputs away from kinks (relu at 0, ties in max) by much more than h.
 */
export function finiteDifferenceCheck(fn: OpFn, inputs: readonly InputSpec[], opts: FdOptions = {}): void {
  const label = opts.label ?? (fn.name || 'op');
  const h = opts.h ?? 1e-6;
  // truncation error is O(h²·f''') ≈ 1e-12 and rounding error ≈ eps·|L|/h ≈ 1e-10·|L| in f64, so 1e-6
  // passes any correct rule with room to spare, while a wrong rule is off by O(|grad|)
  const tol: Tolerance = { atol: opts.atol ?? 1e-6, rtol: opts.rtol ?? 1e-6 };
  if (!inputs.some((i) => i.grad)) throw new Error(`${label}: finiteDifferenceCheck needs an input with grad: true`);
  const leaf = (data: ArrayLike<number>, k: number, requiresGrad: boolean): Tensor =>
    Tensor.from(data, inputs[k].shape, { dtype: 'f64', requiresGrad });
  const leaves = inputs.map((inp, k) => leaf(inp.data, k, !!inp.grad));
  const out = fn(...leaves);
  assert.is(out.dtype, 'f64', `${label}: output dtype`);
  assert.ok(out.requiresGrad, `${label}: output does not require a gradient`);
  const w = lossWeights(out.size, opts.seed ?? 1);
  const loss = (t: Tensor): number => {
    const d = t.data();
    let s = 0;
    for (let i = 0; i < d.length; i++) s += w[i] * d[i];
    return s;
  };
  out.backward(Tensor.from(w, out.shape, { dtype: 'f64' }));

  inputs.forEach((inp, k) => {
    if (!inp.grad) return;
    const g = leaves[k].grad;
    assert.ok(g, `${label}: input ${k} got no gradient`);
    assert.equal([...g.shape], [...inp.shape], `${label}: gradient shape of input ${k}`);
    const base = Float64Array.from(inp.data);
    const lossAt = (e: number, v: number): number => {
      const d = base.slice();
      d[e] = v;
      return noGrad(() => loss(fn(...leaves.map((t, j) => (j === k ? leaf(d, k, false) : t)))));
    };
    const numeric = new Float64Array(base.length);
    for (let e = 0; e < base.length; e++) {
      const up = base[e] + h, down = base[e] - h;
      // divide by the step actually taken (up − down is not exactly 2h in floating point)
      numeric[e] = (lossAt(e, up) - lossAt(e, down)) / (up - down);
    }
    assertClose(g.data(), numeric, tol, `${label}: dL/d(input ${k}), analytic vs central difference`);
  });
}

// --- parity against the cpu oracle

/**
 * f32 on two backends agrees to rtol·|expected| + atol·max(1, max|expected|): atol is relative to the
 * array's scale because a long f32 sum (784 terms) errs in proportion to its terms, not its result,
 * which cancellation can bring near 0. 1e-4 relative is ~800 ulp, room for WGSL's exp/log bounds.
 */
export const PARITY_TOL: Tolerance = { atol: 1e-5, rtol: 1e-4 };

interface RunResult { shape: number[]; requiresGrad: boolean; out: Float32Array; grads: (Float32Array | null)[] }

async function runOn(backend: Backend, fn: OpFn, inputs: readonly InputSpec[], seed: number): Promise<RunResult> {
  const leaves = inputs.map((i) => Tensor.from(i.data, i.shape, { backend, dtype: 'f32', requiresGrad: !!i.grad }));
  const out = fn(...leaves);
  const res: RunResult = {
    shape: [...out.shape], requiresGrad: out.requiresGrad, out: Float32Array.from(await out.read()), grads: [],
  };
  if (out.requiresGrad) {
    // the gradient of Σ w·out, as in finiteDifferenceCheck
    out.backward(Tensor.from(lossWeights(out.size, seed), out.shape, { backend, dtype: 'f32' }));
    for (const t of leaves) res.grads.push(t.grad ? Float32Array.from(await t.grad.read()) : null);
  }
  return res;
}

function closeScaled(actual: Float32Array, expected: Float32Array, tol: Tolerance, label: string): void {
  let scale = 1;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  assertClose(actual, expected, { atol: (tol.atol ?? 0) * scale, rtol: tol.rtol ?? 0 }, label);
}

/**
 * runs `fn` forward and backward (of Σ w·out) in f32 on `backend` and on the cpu oracle and compares
 * the output, its shape, whether it requires a gradient, and every input gradient. Values are read
 * with `await t.read()`, so it works on backends whose storage is not host memory.
 */
export async function parityCheck(
  fn: OpFn, inputs: readonly InputSpec[], backend: Backend, tol: Tolerance = PARITY_TOL, label = fn.name || 'op',
): Promise<void> {
  const seed = 2;
  const got = await runOn(backend, fn, inputs, seed);
  const want = await runOn(cpu, fn, inputs, seed);
  const on = `${label} on ${backend.name}`;
  assert.equal(got.shape, want.shape, `${on}: output shape`);
  assert.is(got.requiresGrad, want.requiresGrad, `${on}: output requiresGrad`);
  closeScaled(got.out, want.out, tol, `${on}: output`);
  assert.is(got.grads.length, want.grads.length, `${on}: gradient count`);
  want.grads.forEach((w, k) => {
    const g = got.grads[k];
    assert.is(g === null, w === null, `${on}: input ${k} gradient present`);
    if (g && w) closeScaled(g, w, tol, `${on}: gradient of input ${k}`);
  });
}

// --- one suite per backend

// resolved while this module loads (top-level await), so test files define every suite synchronously:
// a single-file uvu run starts as soon as the event loop is idle after the first .run()
const backends = await testBackends();

/** a backend that is not there: any use inside a (skipped) test definition fails loudly */
function unavailable(name: string, reason: string): Backend {
  const fail = (): never => { throw new Error(`backend ${name} is unavailable: ${reason}`); };
  return { name: name as Backend['name'], upload: fail, run: fail, read: fail, readSync: fail, copyInto: fail, release: fail };
}

/** a uvu Test whose tests are all counted as skipped; its hooks never run (they may need the backend) */
function skipping(s: Test): Test {
  const skip = (name?: string): void => s.skip(name);
  const hook = Object.assign(() => {}, { each: () => {} });
  return Object.assign(skip, { only: skip, skip, before: hook, after: hook, run: () => {} });
}

/**
 * registers and runs `${name} [${backend}]` for every backend in test/setup/backends.ts. `define`
 * adds the tests and must use `backend` only inside test bodies. A missing backend's suite prints
 * why it was skipped and counts its tests as skipped, so CPU-only runs stay green and honest.
 */
export function backendSuites(name: string, define: (test: Test, backend: Backend) => void): void {
  for (const b of backends) {
    const s = suite(`${name} [${b.name}]`);
    if (b.backend) {
      define(s, b.backend);
    } else {
      const reason = b.skipReason ?? 'unavailable';
      define(skipping(s), unavailable(b.name, reason));
      s.before(() => console.log(`skipped: ${reason}`));
    }
    s.run();
  }
}

// --- small conveniences for hand-computed cases

/** a tensor on `backend` (f32 unless asked) */
export const tensorOn = (backend: Backend, data: ArrayLike<number>, shape: readonly number[],
  opts: { requiresGrad?: boolean; dtype?: DType } = {}): Tensor => Tensor.from(data, shape, { backend, ...opts });

/** a tensor's values as a plain array, read through the async boundary */
export async function values(t: Tensor): Promise<number[]> {
  return Array.from(await t.read());
}
