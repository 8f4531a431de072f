// a linear probe: multinomial logistic regression (softmax on z W + b) trained by full-batch Nesterov
// gradient descent from zero weights with a fixed step and a fixed number of iterations, so the same
// inputs give the same numbers bit for bit; pure. The fit's logit and gradient loops run in WebAssembly
// SIMD where it compiles (analysis/probe-wasm.ts; f64x2 across pairs of classes), in JavaScript otherwise:
// the same numbers either way (test/analysis/probe-exact.test.ts).
import type { HostTensor } from './forward-cache.ts';
import { probeKernels, type ProbeKernelInstance } from './probe-wasm.ts';
import { mathKernels, type MathKernels } from '../engine/wasm/math-kernels.ts';

export interface ProbeOptions {
  /** rows of x to fit on */
  train: ArrayLike<number>;
  /** rows of x to score on (held out) */
  test: ArrayLike<number>;
  /** gradient steps (default 200) */
  iterations?: number;
  /** L2 penalty (l2/2)·‖W‖² on the weights, not the biases (default 1e-3) */
  l2?: number;
}

/**
 * fits a linear classifier of x [n, d] to labels [n] (0..classes−1) on the `train` rows and returns its
 * accuracy (%) on them and on the `test` rows (NaN for an empty set). Features are standardised with
 * the training rows' mean and std (a constant feature becomes 0); the loss is the mean cross-entropy
 * plus (l2/2)‖W‖²; Nesterov's method from W = 0, b = 0 with step 1/L, L = ½·λ_max(ZᵀZ/n) + l2 (a bound
 * on the loss's curvature; Z = the standardised training rows with a column of ones; λ_max by power
 * iteration). Cost O(iterations · |train| · d · classes). NOTE: a fixed budget of a first-order method:
 * with strongly correlated features (badly conditioned ZᵀZ) 200 iterations can stop short of the
 * optimum, so the accuracies are those of the probe after that budget, comparable across epochs and
 * layers only at the same settings.
 */
export function probeAccuracy(
  x: HostTensor, labels: ArrayLike<number>, classes: number, opts: ProbeOptions,
): { trainAccuracy: number; heldOutAccuracy: number } {
  const rows = x.shape[0], d = rows ? x.data.length / rows : 0;
  const iterations = opts.iterations ?? 200, l2 = opts.l2 ?? 1e-3;
  if (!Number.isInteger(d)) throw new RangeError(`probeAccuracy: ${x.data.length} values do not make ${rows} rows`);
  if (labels.length !== rows) throw new RangeError(`probeAccuracy: ${labels.length} labels for ${rows} rows`);
  if (!(Number.isInteger(classes) && classes >= 1)) throw new RangeError(`probeAccuracy: classes must be a positive integer, got ${classes}`);
  if (!(Number.isInteger(iterations) && iterations >= 0)) throw new RangeError(`probeAccuracy: iterations must be a non-negative integer, got ${iterations}`);
  if (!(l2 >= 0)) throw new RangeError(`probeAccuracy: l2 must be >= 0, got ${l2}`);
  checkRows(opts.train, labels, rows, classes);
  checkRows(opts.test, labels, rows, classes);
  const n = opts.train.length, C = classes, d1 = d + 1;
  if (n === 0) return { trainAccuracy: NaN, heldOutAccuracy: NaN };

  // standardisation from the training rows (double)
  const mean = new Float64Array(d), scale = new Float64Array(d); // [d]
  addRows(x.data, opts.train, d, mean);
  divideBy(mean, d, n);
  addSquaredDeviations(x.data, opts.train, d, mean, scale);
  invertStd(scale, d, n);
  const z = design(x.data, opts.train, d, mean, scale); // [n, d + 1]
  const y = Int32Array.from(opts.train, (r) => labels[r]); // [n]

  // step: 1/L with L bounding the Hessian, ½·λ_max(ZᵀZ/n) + l2 (softmax curvature is at most ½)
  const step = 1 / (0.5 * topEigenvalue(z, n, d1) + l2);

  const w = probeFit(z, y, n, d1, C, iterations, l2, step); // [classes (+1 if odd), d + 1]
  const logit = new Float64Array(C); // [classes]
  const trainCorrect = correctCount(opts.train, z, labels, w, d1, C, logit);
  const test = opts.test.length, testCorrect = correctCount(opts.test, design(x.data, opts.test, d, mean, scale), labels, w, d1, C, logit);
  return { trainAccuracy: (100 * trainCorrect) / n, heldOutAccuracy: test === 0 ? NaN : (100 * testCorrect) / test };
}

// probeAccuracy's loops, each in a function of its own taking typed arrays and numbers, so that the JIT
// optimises each once rather than the whole of probeAccuracy once per hot loop (on-stack replacement).
// Nothing follows a hot loop in its function: code compiled on stack replacement, entered again on each
// call, would stop (deoptimise) at every call on code that had not yet run when it was compiled

/** throws unless each row of `set` is in 0..rows−1 with a label in 0..classes−1 */
function checkRows(set: ArrayLike<number>, labels: ArrayLike<number>, rows: number, classes: number): void {
  for (let i = 0; i < set.length; i++) {
    const r = set[i];
    if (!(Number.isInteger(r) && r >= 0 && r < rows)) throw new RangeError(`probeAccuracy: row ${r} is not in 0..${rows - 1}`);
    const l = labels[r];
    if (!(Number.isInteger(l) && l >= 0 && l < classes)) throw new RangeError(`probeAccuracy: label ${l} of row ${r} is not in 0..${classes - 1}`);
  }
}

/** sum [d] += the rows `set` of data [·, d], in row order */
function addRows(data: Float32Array, set: ArrayLike<number>, d: number, sum: Float64Array): void {
  for (let i = 0; i < set.length; i++) { const o = set[i] * d; for (let j = 0; j < d; j++) sum[j] += data[o + j]; }
}

/** sq [d] += the squared deviations from mean [d] of the rows `set` of data [·, d], in row order */
function addSquaredDeviations(data: Float32Array, set: ArrayLike<number>, d: number, mean: Float64Array, sq: Float64Array): void {
  for (let i = 0; i < set.length; i++) { const o = set[i] * d; for (let j = 0; j < d; j++) sq[j] += (data[o + j] - mean[j]) ** 2; }
}

/** sums of n squared deviations [d] → 1 / their std, in place (0 for a constant feature) */
function invertStd(scale: Float64Array, d: number, n: number): void {
  for (let j = 0; j < d; j++) { const sd = Math.sqrt(scale[j] / n); scale[j] = sd > 0 ? 1 / sd : 0; }
}

/** the rows `set` of data [·, d] standardised, then 1 → [set, d + 1] */
function design(data: Float32Array, set: ArrayLike<number>, d: number, mean: Float64Array, scale: Float64Array): Float64Array {
  const d1 = d + 1, z = new Float64Array(set.length * d1); // [set, d + 1]: standardised features, then 1
  for (let i = 0; i < set.length; i++) {
    const o = set[i] * d, zo = i * d1;
    for (let j = 0; j < d; j++) z[zo + j] = (data[o + j] - mean[j]) * scale[j];
    z[zo + d] = 1;
  }
  return z;
}

/** how many rows of `set` (zs [set, d1]) the weights w [classes (+1 if odd), d1] classify right */
function correctCount(
  set: ArrayLike<number>, zs: Float64Array, labels: ArrayLike<number>, w: Float64Array, d1: number, C: number, logit: Float64Array,
): number {
  let correct = 0;
  for (let i = 0; i < set.length; i++) {
    logit.fill(0);
    for (let j = 0; j < d1; j++) {
      const v = zs[i * d1 + j];
      for (let c = 0; c < C; c++) logit[c] += v * w[c * d1 + j];
    }
    // argmax, the lower class on ties
    let best = 0;
    for (let c = 1; c < C; c++) if (logit[c] > logit[best]) best = c;
    if (best === labels[set[i]]) correct++;
  }
  return correct;
}

/**
 * the probe's weights [classes rounded up to even, d1] from z [n, d1] (its last column 1) and y [n]: fit
 * below, its loops in WebAssembly where `kernels` (default: this process's, null where there are none)
 * and in JavaScript otherwise, the same numbers either way (exported for the test that holds both to
 * the loops as they were)
 */
export function probeFit(
  z: Float64Array, y: Int32Array, n: number, d1: number, C: number, iterations: number, l2: number, step: number,
  kernels: ProbeKernelInstance | null = probeKernels(),
): Float64Array {
  return kernels ? fitWasm(kernels, z, y, n, d1, C, iterations, l2, step) : fit(z, y, n, d1, C, iterations, l2, step);
}

/**
 * Nesterov's accelerated gradient on the mean cross-entropy of softmax(z wᵀ) with labels y plus
 * (l2/2)‖w without its bias column‖², from w = 0, fixed step and iterations: z [n, d1] (the last
 * column is the bias feature 1), y [n] → w [classes rounded up to even, d1] (an extra row stays 0).
 * Kept apart from its caller so the hot loops read only locals.
 */
function fit(z: Float64Array, y: Int32Array, n: number, d1: number, C: number, iterations: number, l2: number, step: number): Float64Array {
  // the hot loops take 4 rows × 2 classes at a time (8 independent accumulators, each value loaded once
  // per block): rows are padded with zero rows of label −1, whose gradient terms are r·0 = 0, and an odd
  // class count with a class whose residual is held at 0, so its weights stay 0
  const nPad = Math.ceil(n / 4) * 4, Cp = C + (C % 2);
  const zp = new Float64Array(nPad * d1); // [nPad, d1]
  zp.set(z);
  const yp = new Int32Array(nPad).fill(-1); // [nPad]
  yp.set(y);
  // w is the iterate, p the previous one, q = w + μ_t (w − p) the look-ahead point
  const w = new Float64Array(Cp * d1), p = new Float64Array(Cp * d1), q = new Float64Array(Cp * d1); // [Cp, d1]
  const grad = new Float64Array(Cp * d1); // [Cp, d1]
  const res = new Float64Array(4 * Cp); // [4, Cp]: logits, then residuals
  const invN = 1 / n;
  for (let t = 0; t < iterations; t++) {
    const mu = t / (t + 3);
    for (let i = 0; i < w.length; i++) q[i] = w[i] + mu * (w[i] - p[i]);
    grad.fill(0);
    for (let i = 0; i < nPad; i += 4) {
      const o0 = i * d1, o1 = o0 + d1, o2 = o1 + d1, o3 = o2 + d1;
      for (let c = 0; c < Cp; c += 2) {
        const qa = c * d1, qb = qa + d1;
        let a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
        for (let j = 0; j < d1; j++) {
          const va = q[qa + j], vb = q[qb + j];
          const z0 = zp[o0 + j], z1 = zp[o1 + j], z2 = zp[o2 + j], z3 = zp[o3 + j];
          a0 += z0 * va; a1 += z1 * va; a2 += z2 * va; a3 += z3 * va;
          b0 += z0 * vb; b1 += z1 * vb; b2 += z2 * vb; b3 += z3 * vb;
        }
        res[c] = a0; res[Cp + c] = a1; res[2 * Cp + c] = a2; res[3 * Cp + c] = a3;
        res[c + 1] = b0; res[Cp + c + 1] = b1; res[2 * Cp + c + 1] = b2; res[3 * Cp + c + 1] = b3;
      }
      // softmax of each row over the C real classes, then the residual (softmax − onehot)/n
      for (let r = 0; r < 4; r++) softmaxResidual(res, r * Cp, C, Cp, yp[i + r], invN);
      for (let c = 0; c < Cp; c += 2) {
        const ga = c * d1, gb = ga + d1;
        const ra0 = res[c], ra1 = res[Cp + c], ra2 = res[2 * Cp + c], ra3 = res[3 * Cp + c];
        const rb0 = res[c + 1], rb1 = res[Cp + c + 1], rb2 = res[2 * Cp + c + 1], rb3 = res[3 * Cp + c + 1];
        for (let j = 0; j < d1; j++) {
          const z0 = zp[o0 + j], z1 = zp[o1 + j], z2 = zp[o2 + j], z3 = zp[o3 + j];
          grad[ga + j] += ra0 * z0 + ra1 * z1 + ra2 * z2 + ra3 * z3;
          grad[gb + j] += rb0 * z0 + rb1 * z1 + rb2 * z2 + rb3 * z3;
        }
      }
    }
    // weights get the L2 term; the bias column (j = d1 − 1) does not
    for (let c = 0; c < C; c++) for (let j = 0; j < d1 - 1; j++) grad[c * d1 + j] += l2 * q[c * d1 + j];
    p.set(w);
    for (let i = 0; i < w.length; i++) w[i] = q[i] - step * grad[i];
  }
  return w;
}

/**
 * one row's logits res[ro .. ro + C) → its residual (softmax − one-hot(label)) / n in place (invN = 1/n;
 * a padding row's label −1 matches no class); the padding column ro + C, when Cp > C, set to 0
 */
function softmaxResidual(res: Float64Array, ro: number, C: number, Cp: number, label: number, invN: number): void {
  let max = -Infinity, sum = 0;
  for (let c = 0; c < C; c++) if (res[ro + c] > max) max = res[ro + c];
  for (let c = 0; c < C; c++) { const e = Math.exp(res[ro + c] - max); res[ro + c] = e; sum += e; }
  const inv = invN / sum;
  for (let c = 0; c < C; c++) res[ro + c] = res[ro + c] * inv - (c === label ? invN : 0);
  if (Cp > C) res[ro + C] = 0;
}

/**
 * fit's loops with the logits and the gradient in WebAssembly SIMD (analysis/probe-wasm.ts), the same
 * numbers bit for bit: each logit summed over j in order from 0, each gradient entry given a block of 4
 * rows' terms summed left to right, blocks in row order, the softmax here as in fit. q, the gradient
 * and the iterates are held transposed [d1, Cp] (element-wise steps do not mind); w comes back [Cp, d1].
 */
function fitWasm(
  kernels: ProbeKernelInstance, z: Float64Array, y: Int32Array, n: number, d1: number, C: number,
  iterations: number, l2: number, step: number,
): Float64Array {
  const nPad = Math.ceil(n / 4) * 4, Cp = C + (C % 2), size = Cp * d1;
  // the kernels' memory: z [nPad, d1], q [d1, Cp], grad [d1, Cp], res [nPad, Cp]
  const zOff = 0, qOff = zOff + 8 * nPad * d1, gOff = qOff + 8 * size, resOff = gOff + 8 * size, end = resOff + 8 * nPad * Cp;
  const { memory, k } = kernels;
  if (memory.buffer.byteLength < end) memory.grow(Math.ceil((end - memory.buffer.byteLength) / 65536));
  const buf = memory.buffer;
  const zp = new Float64Array(buf, zOff, nPad * d1); // [nPad, d1]: padded with zero rows
  zp.set(z);
  zp.fill(0, n * d1);
  const q = new Float64Array(buf, qOff, size), grad = new Float64Array(buf, gOff, size); // [d1, Cp]
  const res = new Float64Array(buf, resOff, nPad * Cp); // [nPad, Cp]
  const yp = new Int32Array(nPad).fill(-1); // [nPad]
  yp.set(y);
  const w = new Float64Array(size), p = new Float64Array(size); // [d1, Cp]
  const invN = 1 / n;
  const math = mathKernels();
  // each step's loops are functions of their own, so that this one is not compiled once per loop
  for (let t = 0; t < iterations; t++) {
    lookAhead(q, w, p, t / (t + 3), size);
    grad.fill(0);
    k.fwd(zOff, nPad, d1, qOff, Cp, resOff);
    if (!residualsInKernel(math, res, nPad, C, Cp, yp, invN)) residuals(res, nPad, C, Cp, yp, invN);
    k.grad(zOff, nPad, d1, resOff, Cp, gOff);
    addL2Transposed(grad, q, d1, C, Cp, l2);
    p.set(w);
    descend(w, q, grad, step, size);
  }
  return transposed(w, d1, Cp);
}

/** q = w + mu (w − p), the look-ahead point of Nesterov's method (first `size` entries) */
function lookAhead(q: Float64Array, w: Float64Array, p: Float64Array, mu: number, size: number): void {
  for (let i = 0; i < size; i++) q[i] = w[i] + mu * (w[i] - p[i]);
}

/** softmaxResidual on each of the rows of res [nPad, Cp], row i's label yp[i] */
function residuals(res: Float64Array, nPad: number, C: number, Cp: number, yp: Int32Array, invN: number): void {
  for (let i = 0; i < nPad; i++) softmaxResidual(res, i * Cp, C, Cp, yp[i], invN);
}

/**
 * residuals() by engine/wasm/math-kernels.ts softmax_residual, the same numbers (its exp is Math.exp's,
 * checked when it loads): res copied into its memory and back. False where it cannot (not loaded, no room,
 * a logit not finite): the JS loop then. Most of a snapshot's probe time was these exps
 */
function residualsInKernel(math: MathKernels | null, res: Float64Array, nPad: number, C: number, Cp: number, yp: Int32Array, invN: number): boolean {
  const bytes = 8 * nPad * Cp, buf = math?.buffer(bytes + 4 * nPad);
  if (!math || !buf) return false;
  const r = new Float64Array(buf, 0, nPad * Cp); // [nPad, Cp]
  r.set(res);
  new Int32Array(buf, bytes, nPad).set(yp);
  if (!math.k.softmax_residual(0, nPad, C, Cp, bytes, invN)) return false;
  res.set(r);
  return true;
}

/** grad += l2·q on the weights of grad and q [d1, Cp] (the real classes; not the bias row d1 − 1) */
function addL2Transposed(grad: Float64Array, q: Float64Array, d1: number, C: number, Cp: number, l2: number): void {
  for (let j = 0; j < d1 - 1; j++) for (let c = 0; c < C; c++) grad[j * Cp + c] += l2 * q[j * Cp + c];
}

/** w = q − step·grad (first `size` entries) */
function descend(w: Float64Array, q: Float64Array, grad: Float64Array, step: number, size: number): void {
  for (let i = 0; i < size; i++) w[i] = q[i] - step * grad[i];
}

/** w [d1, Cp] → [Cp, d1] */
function transposed(w: Float64Array, d1: number, Cp: number): Float64Array {
  const out = new Float64Array(w.length); // [Cp, d1]
  for (let j = 0; j < d1; j++) for (let c = 0; c < Cp; c++) out[c * d1 + j] = w[j * Cp + c];
  return out;
}

/**
 * the largest eigenvalue of ZᵀZ/n for z [n, d] by power iteration (matrix-free), from a fixed start
 * vector with unequal entries (an all-ones start can be orthogonal to the top direction); the Rayleigh
 * quotient approaches λ_max from below, so it is padded by 10 %. Rows go 4 at a time, each sum in the
 * order one row at a time gives (exported for the test that holds it to that)
 */
export function topEigenvalue(z: Float64Array, n: number, d: number): number {
  let v = Float64Array.from({ length: d }, (_, j) => 1 + ((j * 0.6180339887498949) % 1));
  const zv = new Float64Array(n);
  let next = new Float64Array(d);
  let lambda = 0;
  const n4 = n - (n % 4);
  // each iteration's loops are functions of their own, so that this one is not compiled once per loop
  for (let it = 0; it < 50; it++) {
    const norm = normOf(v, d);
    if (norm === 0) return 0;
    divideBy(v, d, norm);
    timesVector4(z, 0, n4, d, v, zv);
    timesVector1(z, n4, n, d, v, zv);
    next.fill(0);
    addTransposedTimes4(z, 0, n4, n, d, zv, next);
    addTransposedTimes1(z, n4, n, n, d, zv, next);
    // Rayleigh quotient vᵀ(ZᵀZ/n)v of the unit v
    lambda = dot(v, next, d);
    const t = v; v = next; next = t;
  }
  return 1.1 * lambda;
}

/** ‖v‖ of v [d], its squares summed in order */
function normOf(v: Float64Array, d: number): number {
  let norm = 0;
  for (let j = 0; j < d; j++) norm += v[j] * v[j];
  return Math.sqrt(norm);
}

/** v /= s, entry by entry */
function divideBy(v: Float64Array, d: number, s: number): void {
  for (let j = 0; j < d; j++) v[j] /= s;
}

/** vᵀw of v, w [d], summed in order from 0 */
function dot(v: Float64Array, w: Float64Array, d: number): number {
  let s = 0;
  for (let j = 0; j < d; j++) s += v[j] * w[j];
  return s;
}

// z v and zᵀ zv / n, rows 4 at a time up to a multiple of 4 (each sum in the order one row at a time
// gives), then the rest one at a time: two functions, so that neither is compiled with a loop that has
// not yet run

/** zv[i] = row i of z [·, d] times v [d] for the rows i in from..to−1 (to − from a multiple of 4), each in column order */
function timesVector4(z: Float64Array, from: number, to: number, d: number, v: Float64Array, zv: Float64Array): void {
  for (let i = from; i < to; i += 4) {
    const o0 = i * d, o1 = o0 + d, o2 = o1 + d, o3 = o2 + d;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let j = 0; j < d; j++) {
      const vj = v[j];
      s0 += z[o0 + j] * vj; s1 += z[o1 + j] * vj; s2 += z[o2 + j] * vj; s3 += z[o3 + j] * vj;
    }
    zv[i] = s0; zv[i + 1] = s1; zv[i + 2] = s2; zv[i + 3] = s3;
  }
}

/** timesVector4 one row at a time */
function timesVector1(z: Float64Array, from: number, to: number, d: number, v: Float64Array, zv: Float64Array): void {
  for (let i = from; i < to; i++) { let s = 0; for (let j = 0; j < d; j++) s += z[i * d + j] * v[j]; zv[i] = s; }
}

/** next [d] += the rows from..to−1 of z [·, d] times zv[i] / n (to − from a multiple of 4), each entry's terms in row order */
function addTransposedTimes4(z: Float64Array, from: number, to: number, n: number, d: number, zv: Float64Array, next: Float64Array): void {
  for (let i = from; i < to; i += 4) {
    const o0 = i * d, o1 = o0 + d, o2 = o1 + d, o3 = o2 + d;
    const s0 = zv[i] / n, s1 = zv[i + 1] / n, s2 = zv[i + 2] / n, s3 = zv[i + 3] / n;
    for (let j = 0; j < d; j++) next[j] = next[j] + z[o0 + j] * s0 + z[o1 + j] * s1 + z[o2 + j] * s2 + z[o3 + j] * s3;
  }
}

/** addTransposedTimes4 one row at a time */
function addTransposedTimes1(z: Float64Array, from: number, to: number, n: number, d: number, zv: Float64Array, next: Float64Array): void {
  for (let i = from; i < to; i++) { const s = zv[i] / n; for (let j = 0; j < d; j++) next[j] += z[i * d + j] * s; }
}
