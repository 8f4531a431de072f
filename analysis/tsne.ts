// exact t-SNE (van der Maaten & Hinton 2008) with sklearn's TSNE(method='exact') schedule: perplexity
// calibration by binary search, symmetric P, PCA initialisation scaled to std 1e-4, early exaggeration
// 12 for 250 iterations (momentum 0.5), then momentum 0.8, delta-bar-delta gains, learning rate
// 'auto' = max(n / 12 / 4, 50). O(n²) memory and time per iteration: meant for a few thousand points.
// The force sums, the O(n²) part of every iteration, run in WebAssembly SIMD once pair-kernels.ts has
// loaded (two rows i a lane pair), else in the plain JS loop: each sum in the same order either way, so
// the numbers are the same bit for bit (test/analysis/tsne-fast.test.ts against test/helpers/tsne-reference.ts).
// The perplexity calibration (conditionalP: ≈ 19 M exp calls for the main job's 1000 points) runs in
// WebAssembly SIMD too once engine/wasm/math-kernels.ts has loaded, its exp and log V8's own (fdlibm's,
// ported: engine/wasm/fdlibm.ts), so again the same numbers bit for bit.
// NOTE: no maintained t-SNE package exists on npm (tsne-js and @keckelt/tsne are unmaintained ports of
// tsnejs, seeded by Math.random): hence this file.
import type { HostTensor } from './forward-cache.ts';
import { mathKernels } from '../engine/wasm/math-kernels.ts';
import { pairKernels } from './pair-kernels.ts';
import { pca } from './pca.ts';

export interface TsneOptions {
  /** default 30 (sklearn's default; the notebooks report runs with 20 and 50) */
  perplexity?: number;
  /** total iterations, the 250 exaggerated ones included (sklearn's n_iter / max_iter); default 1000 */
  iterations?: number;
  /** default 'auto' */
  learningRate?: number | 'auto';
  /** default 12 */
  earlyExaggeration?: number;
}

/** MACHINE_EPSILON of sklearn (float64 eps): the floor of P and Q */
const EPS = 2.220446049250313e-16;
/** rows of conditionalP per call of the kernel (see there) */
const COND_P_ROWS_PER_CALL = 16;

// loading starts with this module: t-SNE's callers are synchronous, and the first of them comes long after
// (a caller that can wait awaits mathKernelsReady())
mathKernels();

/**
 * conditional probabilities p_{j|i} for squared distances d2 [n, n] (row-major), each row's Gaussian
 * width found by binary search so that its entropy (natural log) is log(perplexity) → [n, n]. In
 * WebAssembly (math-kernels.ts tsne_cond_p: d2 and p in its memory) once loaded, else conditionalPLoop
 */
export function conditionalP(d2: Float64Array, n: number, perplexity: number): Float64Array {
  const kernels = mathKernels();
  // (negative, infinite or NaN distances can make NaNs, whose bits the compilers decide: the JS loop then)
  const mem = kernels && finiteSquares(d2, n * n) ? kernels.buffer(16 * n * n) : null;
  if (!kernels || !mem) return conditionalPLoop(d2, n, perplexity);
  new Float64Array(mem, 0, n * n).set(d2.subarray(0, n * n));
  // a few rows a call: V8 runs a WebAssembly function in its baseline compiler until the optimised code is
  // ready, and a call already running stays there, so one call over every row ran unoptimised throughout
  // (the main job's 1000 rows, a fresh process: 227 → 193 ms CPU)
  const target = Math.log(perplexity);
  for (let i = 0; i < n; i += COND_P_ROWS_PER_CALL) kernels.k.tsne_cond_p(0, 8 * n * n, n, target, i, Math.min(n, i + COND_P_ROWS_PER_CALL));
  return new Float64Array(mem, 8 * n * n, n * n).slice();
}

/** whether d[0..count) are all finite and ≥ 0 (−0 included) */
function finiteSquares(d: Float64Array, count: number): boolean {
  for (let i = 0; i < count; i++) if (!(d[i] >= 0 && d[i] < Infinity)) return false;
  return true;
}

/** conditionalP in JavaScript: the kernel's steps, in its order */
function conditionalPLoop(d2: Float64Array, n: number, perplexity: number): Float64Array {
  const p = new Float64Array(n * n), target = Math.log(perplexity);
  for (let i = 0; i < n; i++) {
    let beta = 1, lo = -Infinity, hi = Infinity;
    for (let step = 0; step < 100; step++) {
      let sum = 0;
      for (let j = 0; j < n; j++) {
        const v = j === i ? 0 : Math.exp(-d2[i * n + j] * beta);
        p[i * n + j] = v;
        sum += v;
      }
      if (sum === 0) sum = EPS;
      let sumDP = 0;
      for (let j = 0; j < n; j++) {
        p[i * n + j] /= sum;
        sumDP += d2[i * n + j] * p[i * n + j];
      }
      const entropy = Math.log(sum) + beta * sumDP;
      const diff = entropy - target;
      if (Math.abs(diff) <= 1e-5) break;
      if (diff > 0) { lo = beta; beta = hi === Infinity ? beta * 2 : (beta + hi) / 2; }
      else { hi = beta; beta = lo === -Infinity ? beta / 2 : (beta + lo) / 2; }
    }
  }
  return p;
}

/**
 * t-SNE embedding of x [n, d] in 2-D → { embedding [n, 2], kl: final KL(P‖Q) }. Deterministic (PCA
 * initialisation, no random draws).
 */
export function tsne(x: HostTensor, opts: TsneOptions = {}): { embedding: HostTensor; kl: number } {
  const n = x.shape[0], d = x.data.length / n;
  const perplexity = opts.perplexity ?? 30, iterations = opts.iterations ?? 1000, exag = opts.earlyExaggeration ?? 12;
  if (n < 3) throw new RangeError(`t-SNE needs at least 3 points, got ${n}`);
  if (!(perplexity < n)) throw new RangeError(`perplexity ${perplexity} must be less than the number of points ${n}`);
  const lr = opts.learningRate === undefined || opts.learningRate === 'auto' ? Math.max(n / exag / 4, 50) : opts.learningRate;
  const d2 = new Float64Array(n * n); // [n, n] squared distances
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) { const e = x.data[i * d + k] - x.data[j * d + k]; s += e * e; }
      d2[i * n + j] = d2[j * n + i] = s;
    }
  }
  const cond = conditionalP(d2, n, perplexity);
  const P = new Float64Array(n * n); // [n, n] joint, symmetric, sums to 1
  let total = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) total += (P[i * n + j] = cond[i * n + j] + cond[j * n + i]);
  for (let i = 0; i < n * n; i++) P[i] = Math.max(P[i] / Math.max(total, EPS), EPS);

  // pca initialisation, first axis scaled to std 1e-4 (sklearn's init='pca')
  const init = pca(x, 2).projected.data;
  let m0 = 0, v0 = 0;
  for (let i = 0; i < n; i++) m0 += init[2 * i] / n;
  for (let i = 0; i < n; i++) v0 += (init[2 * i] - m0) ** 2 / n;
  const scale = v0 > 0 ? 1e-4 / Math.sqrt(v0) : 1;
  const n2 = 2 * n;
  // the force sums in WebAssembly SIMD when loaded (pair-kernels.ts tsne_forces: P's row pairs side by
  // side, the arrays below in its memory at these byte offsets), else forcesRow row by row; the same numbers either way
  const pairs = n >> 1;
  const Y0 = 16 * pairs * n, Y1 = Y0 + 8 * n, AT0 = Y1 + 8 * n, AT1 = AT0 + 8 * n, RE0 = AT1 + 8 * n, RE1 = RE0 + 8 * n, ZR = RE1 + 8 * n;
  const kernels = pairKernels(), mem = kernels ? kernels.buffer(ZR + 8 * n) : null, K = mem ? kernels : null;
  const arr = (at: number) => (mem ? new Float64Array(mem, at, n) : new Float64Array(n));
  if (mem) {
    const P2 = new Float64Array(mem, 0, 2 * pairs * n); // [pairs, n, 2]
    for (let m = 0; m < pairs; m++) {
      for (let j = 0, a = 2 * m * n, b = a + n, o = 2 * m * n; j < n; j++) { P2[o + 2 * j] = P[a + j]; P2[o + 2 * j + 1] = P[b + j]; }
    }
  }
  const y0 = arr(Y0), y1 = arr(Y1); // the embedding's two coordinates
  for (let i = 0; i < n; i++) { y0[i] = init[2 * i] * scale; y1[i] = init[2 * i + 1] * scale; }
  const update = new Float64Array(n2), gains = new Float64Array(n2).fill(1);
  // per point: Σ_j P_ij num_ij (y_i − y_j) and Σ_j num_ij² (y_i − y_j), both coordinates
  const at0 = arr(AT0), at1 = arr(AT1), re0 = arr(RE0), re1 = arr(RE1);
  const zr = arr(ZR); // per point: Σ_j num_ij
  // the force sums of every point (forcesRow; the kernel two rows at a time, an odd last row here), then Z = Σ_i zr_i in order
  const forces = (): number => {
    if (K) {
      K.k.tsne_forces(0, Y0, Y1, n, AT0, AT1, RE0, RE1, ZR);
      if (n & 1) forcesRow(P, y0, y1, at0, at1, re0, re1, zr, n - 1);
    } else {
      for (let i = 0; i < n; i++) forcesRow(P, y0, y1, at0, at1, re0, re1, zr, i);
    }
    let z = 0;
    for (let k = 0; k < n; k++) z += zr[k];
    return z;
  };

  for (let it = 0; it < iterations; it++) {
    const early = it < 250, ex = early ? exag : 1, momentum = early ? 0.5 : 0.8;
    // grad_i = 4 Σ_j (ex·P_ij − num_ij / Z) num_ij (y_i − y_j), num = 1 / (1 + |y_i − y_j|²)
    const z = forces();
    for (let k = 0; k < n2; k++) {
      const i = k >> 1, c = k & 1;
      const g = 4 * (ex * (c ? at1[i] : at0[i]) - (c ? re1[i] : re0[i]) / z);
      // delta-bar-delta gains: grow while the step keeps its direction
      gains[k] = update[k] * g < 0 ? gains[k] + 0.2 : Math.max(gains[k] * 0.8, 0.01);
      update[k] = momentum * update[k] - lr * g * gains[k];
      if (c) y1[i] += update[k]; else y0[i] += update[k];
    }
  }
  const y = new Float64Array(n2); // [n, 2]
  for (let i = 0; i < n; i++) { y[2 * i] = y0[i]; y[2 * i + 1] = y1[i]; }
  // final KL(P‖Q)
  let z = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) z += 2 / (1 + (y[2 * i] - y[2 * j]) ** 2 + (y[2 * i + 1] - y[2 * j + 1]) ** 2);
  let kl = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const q = Math.max(1 / (1 + (y[2 * i] - y[2 * j]) ** 2 + (y[2 * i + 1] - y[2 * j + 1]) ** 2) / z, EPS);
      kl += 2 * P[i * n + j] * Math.log(Math.max(P[i * n + j], EPS) / q);
    }
  }
  return { embedding: { shape: [n, 2], data: Float32Array.from(y) }, kl };
}

/**
 * row i's two force sums over j = 0..n−1 in order, written to at0[i] … zr[i]: at_i = Σ_j P_ij num_ij (y_i − y_j),
 * re_i = Σ_j num_ij² (y_i − y_j), zr_i = Σ_j num_ij, num = 1 / (1 + |y_i − y_j|²) (0 for j = i). NOTE: the
 * full loop (each pair twice) beats a half loop two rows at a time with each sum in this order: no scattered
 * stores, and the adds bound it, not the divisions
 */
function forcesRow(
  P: Float64Array, y0: Float64Array, y1: Float64Array,
  at0: Float64Array, at1: Float64Array, re0: Float64Array, re1: Float64Array, zr: Float64Array, i: number,
): void {
  const n = y0.length, yi0 = y0[i], yi1 = y1[i], row = i * n;
  let a0 = 0, a1 = 0, r0 = 0, r1 = 0, zi = 0;
  for (let j = 0; j < n; j++) {
    const e0 = yi0 - y0[j], e1 = yi1 - y1[j];
    const num = j === i ? 0 : 1 / (1 + e0 * e0 + e1 * e1);
    zi += num;
    const pa = P[row + j] * num, pr = num * num;
    a0 += pa * e0; a1 += pa * e1; r0 += pr * e0; r1 += pr * e1;
  }
  at0[i] = a0; at1[i] = a1; re0[i] = r0; re1[i] = r1; zr[i] = zi;
}
