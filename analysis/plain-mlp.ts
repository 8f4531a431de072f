// The plain ReLU MLP (no normalisation, no dropout, f32 on the cpu backend) as host arrays, and the
// analyses' forward and per-sample backward passes over it by hand: the same numbers as the autograd
// oracle (engine/ops/*.ts cpu loops) bit for bit, without building a graph per chunk. What the forward
// cache (forward-cache.ts cacheImages) and the interventions (intervention.ts) take when it applies.
// Plain data (structured-clonable): the interventions can run it on a helper thread (engine/threads.ts).
//
// Numerics, as the oracle's: linear = matmul's loop (double sums over the inner index, ascending, a zero
// input skipping its row of W) rounded to f32, then + b rounded to f32; relu v > 0 ? v : 0; the per-sample
// loss and its gradient as engine/ops/softmax-cross-entropy*.ts; dx = dz · Wᵀ as matmul's transB loop
// (double sums from 0, no skipping); relu's backward dy · step(pre) rounded to f32 (−0 included).
import type { ActName } from '../mlp/names.ts';
import type { Net } from '../mlp/net.ts';
import { isPlain } from '../mlp/norm.ts';
import { softmaxCrossEntropyGradRows } from '../engine/ops/softmax-cross-entropy-rows.ts';

/** a plain MLP's parameters: sizes [d_in, hidden…, classes], per layer W [d_in, d_out] and b [d_out] (host copies) */
export interface PlainMlp {
  kind: 'plain-mlp';
  sizes: number[];
  W: Float32Array[];
  b: Float32Array[];
}

/** the model as a PlainMlp when the hand-written passes give the oracle's numbers (the plain MLP, f32 on the cpu backend), else null */
export function plainMlpOf(model: Net): PlainMlp | null {
  if (model.kind !== 'mlp' || !isPlain(model.plan)) return null;
  if (!model.layers.every((l) => l.W.backend.name === 'cpu' && l.W.dtype === 'f32' && l.b.dtype === 'f32')) return null;
  return {
    kind: 'plain-mlp', sizes: [...model.sizes],
    W: model.layers.map((l) => Float32Array.from(l.W.data())), b: model.layers.map((l) => Float32Array.from(l.b.data())),
  };
}

export const isPlainMlp = (m: unknown): m is PlainMlp => (m as PlainMlp | null)?.kind === 'plain-mlp';

/** the hidden layers of a plain MLP */
export const plainHidden = (net: PlainMlp): number => net.sizes.length - 2;

// The hot loops below are each a small function of typed arrays and numbers, the functions that use them
// glue. V8 compiles a function with several hot loops again for each loop it enters hot (on-stack
// replacement, OSR) and after each deoptimization; optimized code that reaches code that never ran
// before (no type feedback there) deoptimizes, and OSR code, kept for the function's next calls, does so
// again on every call. So a long loop's function ends with the loop, its body takes the same paths on
// every call, and what a call fixes (relu or not, the last layer or not) is chosen outside it. The
// arithmetic and its order are those of the oracle.

/**
 * acc[0..m) = Σ_e val[e] · W[idx[e] · m + j] over e = e0..cnt−1 in that order, each column's sum in f64 from
 * init[io + j] onwards (zeros: from +0, matmul's loop over a row's nonzero inputs): the columns eight (then
 * four, two, one) at a time in locals, each column's terms still added one by one in ascending e. Each
 * block width is its own function: a width m takes only some of them, and the four loops in one function
 * had its OSR code, compiled while one m ran, deoptimize on every call whose m reached a loop not yet run.
 */
function rowTimesW(
  idx: Int32Array, val: Float64Array, e0: number, cnt: number, W: Float32Array, m: number, acc: Float64Array, init: Float64Array, io: number,
): void {
  let j = 0;
  for (; j + 8 <= m; j += 8) cols8(idx, val, e0, cnt, W, m, j, acc, init, io + j);
  if (j + 4 <= m) { cols4(idx, val, e0, cnt, W, m, j, acc, init, io + j); j += 4; }
  if (j + 2 <= m) { cols2(idx, val, e0, cnt, W, m, j, acc, init, io + j); j += 2; }
  if (j < m) cols1(idx, val, e0, cnt, W, m, j, acc, init, io + j);
}

/** rowTimesW's columns j..j+7, their sums from init[q..q+8) */
function cols8(
  idx: Int32Array, val: Float64Array, e0: number, cnt: number, W: Float32Array, m: number, j: number, acc: Float64Array, init: Float64Array, q: number,
): void {
  let a0 = init[q], a1 = init[q + 1], a2 = init[q + 2], a3 = init[q + 3], a4 = init[q + 4], a5 = init[q + 5], a6 = init[q + 6], a7 = init[q + 7];
  for (let e = e0; e < cnt; e++) {
    const v = val[e], wp = idx[e] * m + j;
    a0 += v * W[wp]; a1 += v * W[wp + 1]; a2 += v * W[wp + 2]; a3 += v * W[wp + 3];
    a4 += v * W[wp + 4]; a5 += v * W[wp + 5]; a6 += v * W[wp + 6]; a7 += v * W[wp + 7];
  }
  acc[j] = a0; acc[j + 1] = a1; acc[j + 2] = a2; acc[j + 3] = a3; acc[j + 4] = a4; acc[j + 5] = a5; acc[j + 6] = a6; acc[j + 7] = a7;
}

/** rowTimesW's columns j..j+3, their sums from init[q..q+4) */
function cols4(
  idx: Int32Array, val: Float64Array, e0: number, cnt: number, W: Float32Array, m: number, j: number, acc: Float64Array, init: Float64Array, q: number,
): void {
  let a0 = init[q], a1 = init[q + 1], a2 = init[q + 2], a3 = init[q + 3];
  for (let e = e0; e < cnt; e++) {
    const v = val[e], wp = idx[e] * m + j;
    a0 += v * W[wp]; a1 += v * W[wp + 1]; a2 += v * W[wp + 2]; a3 += v * W[wp + 3];
  }
  acc[j] = a0; acc[j + 1] = a1; acc[j + 2] = a2; acc[j + 3] = a3;
}

/** rowTimesW's columns j, j+1, their sums from init[q], init[q + 1] */
function cols2(
  idx: Int32Array, val: Float64Array, e0: number, cnt: number, W: Float32Array, m: number, j: number, acc: Float64Array, init: Float64Array, q: number,
): void {
  let a0 = init[q], a1 = init[q + 1];
  for (let e = e0; e < cnt; e++) {
    const v = val[e], wp = idx[e] * m + j;
    a0 += v * W[wp]; a1 += v * W[wp + 1];
  }
  acc[j] = a0; acc[j + 1] = a1;
}

/** rowTimesW's column j, its sum from init[q] */
function cols1(
  idx: Int32Array, val: Float64Array, e0: number, cnt: number, W: Float32Array, m: number, j: number, acc: Float64Array, init: Float64Array, q: number,
): void {
  let a0 = init[q];
  for (let e = e0; e < cnt; e++) a0 += val[e] * W[idx[e] * m + j];
  acc[j] = a0;
}

/** scratch for rowTimesW: a row's nonzero inputs (their columns and values), the sums, and +0 sums to start from */
interface RowScratch { idx: Int32Array; val: Float64Array; acc: Float64Array; zero: Float64Array }
const rowScratch = (k: number, m: number): RowScratch => ({ idx: new Int32Array(k), val: new Float64Array(k), acc: new Float64Array(m), zero: new Float64Array(m) });

/** x[base + p] for p = from..to−1 that are not ±0, in order: their p into idx and values into val; how many */
function nonzerosOf(x: Float32Array, base: number, from: number, to: number, idx: Int32Array, val: Float64Array): number {
  let cnt = 0;
  for (let p = from; p < to; p++) {
    const v = x[base + p];
    if (v === 0) continue;
    idx[cnt] = p; val[cnt++] = v;
  }
  return cnt;
}

/** row o's sums acc rounded as matmul's output, + b rounded as add's, into out */
function storeRow(acc: Float64Array, b: Float32Array, m: number, out: Float32Array, o: number): void {
  const f = Math.fround;
  for (let j = 0; j < m; j++) out[o + j] = f(f(acc[j]) + b[j]);
}

/** post[0..len) = relu of out[0..len) */
function reluInto(out: Float32Array, post: Float32Array, len: number): void {
  for (let e = 0; e < len; e++) { const z = out[e]; post[e] = z > 0 ? z : 0; }
}

/**
 * the linear op's cpu loop: out [n, m] = x [n, k] · W [k, m] + b, f64 sums skipping zero inputs, rounded
 * as matmul's output and add's; `relu` applies max(·, 0) to the stored result into `post` (when given)
 */
export function linearRows(
  x: Float32Array, n: number, k: number, W: Float32Array, b: Float32Array, m: number, out: Float32Array, post?: Float32Array,
): void {
  affineRows(x, n, k, W, b, m, out);
  if (post) reluInto(out, post, n * m);
}

/** linearRows without the relu */
function affineRows(x: Float32Array, n: number, k: number, W: Float32Array, b: Float32Array, m: number, out: Float32Array): void {
  const { idx, val, acc, zero } = rowScratch(k, m);
  for (let i = 0; i < n; i++) {
    const cnt = nonzerosOf(x, i * k, 0, k, idx, val);
    rowTimesW(idx, val, 0, cnt, W, m, acc, zero, 0);
    storeRow(acc, b, m, out, i * m);
  }
}

/** a plain MLP's forward pass over x [n, d_in]: every hidden layer's pre and post [n, width] and the logits [n, classes] */
export interface PlainActs { pre: Float32Array[]; post: Float32Array[]; logits: Float32Array }

/**
 * the input as sparse rows (mlp/fused-cpu.ts SparseRows: each row's nonzero columns ascending and their
 * bytes), rows start.. of it, a byte's value lut[byte]: the dense rows' numbers, their zeros skipped alike
 */
export interface SparseInput { rowptr: Int32Array; idx: Uint16Array; val: Uint8Array; lut: Float32Array; start: number }

/** linearRows over sparse input rows (the same sums: the nonzero inputs in ascending column order) */
function sparseLinearRows(x: SparseInput, n: number, W: Float32Array, b: Float32Array, m: number, out: Float32Array, post: Float32Array): void {
  const { rowptr, idx: cols, val: bytes, lut, start } = x;
  sparseAffineRows(rowptr, cols, bytes, lut, start, n, W, b, m, out, longestRow(rowptr, start, n));
  reluInto(out, post, n * m);
}

/** the most entries in one of rows start..start+n−1 of a sparse input */
function longestRow(rowptr: Int32Array, start: number, n: number): number {
  let most = 0;
  for (let i = 0; i < n; i++) most = Math.max(most, rowptr[start + i + 1] - rowptr[start + i]);
  return most;
}

/** sparseLinearRows without the relu; `most`: the longest row's entries */
function sparseAffineRows(
  rowptr: Int32Array, cols: Uint16Array, bytes: Uint8Array, lut: Float32Array, start: number, n: number,
  W: Float32Array, b: Float32Array, m: number, out: Float32Array, most: number,
): void {
  const { idx, val, acc, zero } = rowScratch(most, m);
  for (let i = 0; i < n; i++) {
    const cnt = sparseNonzerosOf(cols, bytes, lut, rowptr[start + i], rowptr[start + i + 1], idx, val);
    rowTimesW(idx, val, 0, cnt, W, m, acc, zero, 0);
    storeRow(acc, b, m, out, i * m);
  }
}

/** a sparse row's entries e0..e1−1 whose value lut[bytes[e]] is not ±0, in order: their columns into idx and values into val; how many */
function sparseNonzerosOf(
  cols: Uint16Array, bytes: Uint8Array, lut: Float32Array, e0: number, e1: number, idx: Int32Array, val: Float64Array,
): number {
  let cnt = 0;
  for (let e = e0; e < e1; e++) {
    const v = lut[bytes[e]];
    if (v === 0) continue;
    idx[cnt] = cols[e]; val[cnt++] = v;
  }
  return cnt;
}

/** the forward pass, or its first `upTo` hidden layers only (logits then empty); `sparse`: x's rows as sparse rows instead */
export function plainForward(net: PlainMlp, x: Float32Array, n: number, upTo = plainHidden(net) + 1, sparse?: SparseInput): PlainActs {
  const H = plainHidden(net), pre: Float32Array[] = [], post: Float32Array[] = [];
  let h = x;
  for (let k = 0; k < Math.min(upTo, H); k++) {
    const w = net.sizes[k + 1], z = new Float32Array(n * w), a = new Float32Array(n * w);
    if (k === 0 && sparse) sparseLinearRows(sparse, n, net.W[0], net.b[0], w, z, a);
    else linearRows(h, n, net.sizes[k], net.W[k], net.b[k], w, z, a);
    pre.push(z); post.push(a);
    h = a;
  }
  const C = net.sizes[H + 1], logits = new Float32Array(upTo > H ? n * C : 0);
  if (upTo > H) linearRows(h, n, net.sizes[H], net.W[H], net.b[H], C, logits);
  return { pre, post, logits };
}

/** softmaxCrossEntropy's cpu loop: the per-sample losses [n] of logits [n, c] */
export function plainLosses(logits: Float32Array, labels: ArrayLike<number>, n: number, c: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rowLoss(logits, i * c, c, labels[i]);
  return out;
}

/** the loss of the logits row logits[o..o+c) at class label (in f64: the caller rounds it as it stores it) */
function rowLoss(logits: Float32Array, o: number, c: number, label: number): number {
  let m = -Infinity;
  for (let j = 0; j < c; j++) m = Math.max(m, logits[o + j]);
  let s = 0;
  for (let j = 0; j < c; j++) s += Math.exp(logits[o + j] - m);
  return m + Math.log(s) - logits[o + label];
}

/** softmaxCrossEntropyGrad's cpu loop with dy = 1: d loss_i / d logits_i [n, c] */
function lossGrad(x: Float32Array, labels: ArrayLike<number>, n: number, c: number): Float32Array {
  const out = new Float32Array(n * c);
  softmaxCrossEntropyGradRows(x, labels, new Float32Array(n).fill(1), n, c, out);
  return out;
}

/** matmul's transB loop: dx [n, k] = dz [n, m] · Wᵀ (W [k, m]) */
function backRows(dz: Float32Array, n: number, W: Float32Array, k: number, m: number): Float32Array {
  const dx = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      let s = 0;
      for (let p = 0, ai = i * m, bj = j * m; p < m; p++) s += dz[ai + p] * W[bj + p];
      dx[i * k + j] = s;
    }
  }
  return dx;
}

/** d (true logit) / d logits: 1 at each row's label [n, c] */
function oneHotRows(labels: ArrayLike<number>, n: number, c: number): Float32Array {
  const dz = new Float32Array(n * c);
  for (let i = 0; i < n; i++) dz[i * c + labels[i]] = 1;
  return dz;
}

/** relu's backward over len values: dPost · step(pre), rounded to f32 */
function reluBackward(dPost: Float32Array, pre: Float32Array, len: number): Float32Array {
  const dPre = new Float32Array(len);
  for (let e = 0; e < len; e++) dPre[e] = dPost[e] * (pre[e] > 0 ? 1 : 0);
  return dPre;
}

/**
 * per-sample gradients of a target (forward-cache.ts GradTarget: the sample's own loss, or its true
 * logit) as gradRoot(…).backward() leaves them on every named tensor: name → [n, width] (loss: [n], under
 * the loss target only)
 */
export function plainGrads(
  net: PlainMlp, acts: PlainActs, labels: ArrayLike<number>, n: number, target: 'loss' | 'trueLogit',
): Partial<Record<ActName, Float32Array>> {
  const H = plainHidden(net), C = net.sizes[H + 1], out: Partial<Record<ActName, Float32Array>> = {};
  let dz: Float32Array;
  if (target === 'loss') {
    out.loss = new Float32Array(n).fill(1);
    dz = lossGrad(acts.logits, labels, n, C);
  } else dz = oneHotRows(labels, n, C);
  out.logits = dz;
  for (let k = H; k > 0; k--) {
    const w = net.sizes[k], dPost = backRows(dz, n, net.W[k], w, net.sizes[k + 1]);
    const dPre = reluBackward(dPost, acts.pre[k - 1], n * w);
    out[`layers.${k - 1}.post`] = dPost;
    out[`layers.${k - 1}.pre`] = dPre;
    dz = dPre;
  }
  return out;
}

/**
 * intervention.ts evaluateUnderScaling over a plain MLP: hidden layer `layer`'s tensor at `site` (its
 * values `src` [count, width]) scaled per variant by mask [variants, width] (as the oracle's mul: each
 * value times its scale, rounded to f32), then the layers after it; each variant's predicted class into
 * pred [variants, count] and its logits added, sample by sample in ascending order, into sums
 * [variants, classes (true), classes] at the sample's true class (the generic path's order of additions)
 */
export function plainScaled(
  net: PlainMlp, layer: number, site: 'pre' | 'post', src: Float32Array, count: number, labels: ArrayLike<number>,
  mask: Float32Array, V: number, pred: Uint8Array, sums: Float64Array,
): void {
  // Each variant's row differs from the unscaled row (mask 1: src·1 = src exactly) only where its mask ≠ 1,
  // and there only where the scaled value differs (a zero stays a skipped zero, 0·s = ±0). The first layer
  // after the tensor adds its terms p = 0..w−1 in order: the unscaled row's sums before term p (prefix[p])
  // are a variant's too up to its first differing p = d, so a variant starts there and adds terms d..w−1
  // (the same terms in the same order as the full sum); a variant that differs nowhere is the unscaled row.
  const H = plainHidden(net), w = net.sizes[layer + 1], C = net.sizes[H + 1];
  const widest = Math.max(...net.sizes.slice(layer + 1));
  const k1 = layer + 1, m1 = net.sizes[k1 + 1];
  const { off, cols } = changedColumns(mask, V, w);
  const st: ScaledState = {
    src, w, pre: site === 'pre', count, mask, V, pred, sums, C, off, cols, W1: net.W[k1], b1: net.b[k1], m1, last1: k1 === H,
    h: new Float32Array(w), hv: new Float32Array(w), nzIdx: new Int32Array(w), nzVal: new Float64Array(w),
    bIdx: new Int32Array(w), bVal: new Float64Array(w), next: new Int32Array(w), start: new Float64Array(m1),
    prefix: new Float64Array((w + 1) * m1), acc: new Float64Array(widest), zBase: new Float32Array(C), z: new Float32Array(C),
    later: { W: net.W, b: net.b, sizes: net.sizes, k1, H, cur: new Float32Array(widest), nx: new Float32Array(widest) },
  };
  for (let i = 0; i < count; i++) scaledSample(st, i, labels[i]);
}

/** plainScaled's inputs, outputs and scratch, for its sample by sample work */
interface ScaledState {
  src: Float32Array; w: number; pre: boolean; count: number; mask: Float32Array; V: number; pred: Uint8Array; sums: Float64Array; C: number;
  /** each variant's columns with mask ≠ 1: cols[off[v]..off[v + 1]) */
  off: Int32Array; cols: Int32Array;
  /** the first layer after the tensor */
  W1: Float32Array; b1: Float32Array; m1: number; last1: boolean;
  h: Float32Array; hv: Float32Array; nzIdx: Int32Array; nzVal: Float64Array; bIdx: Int32Array; bVal: Float64Array; next: Int32Array;
  start: Float64Array; prefix: Float64Array; acc: Float64Array; zBase: Float32Array; z: Float32Array; later: LaterLayers;
}

/** sample i (true class y) under every variant: its predicted classes into pred, its logits added into sums */
function scaledSample(st: ScaledState, i: number, y: number): void {
  const { src, w, pre, count, mask, V, pred, sums, C, off, cols, W1, b1, m1, last1, h, hv, nzIdx, nzVal, bIdx, bVal, next, start, prefix, acc, zBase, z, later } = st;
  const row = i * w;
  // the unscaled row and its first layer's prefix sums
  unscaledRow(src, row, w, pre, h);
  hv.set(h);
  prefixSums(h, w, W1, m1, prefix);
  // the unscaled row's nonzero inputs, and next[p]: the first of them at a column > p
  const bCnt = nonzerosAndNext(h, w, bIdx, bVal, next);
  copyRange(prefix, w * m1, m1, acc);
  finishRow(acc, b1, m1, last1, z, later);
  zBase.set(z);
  const bestBase = argmaxOf(zBase, C);
  for (let v = 0; v < V; v++) {
    const s = (v * C + y) * C, e0 = off[v], e1 = off[v + 1];
    const d = scaleColumns(src, row, mask, v * w, cols, e0, e1, pre, h, hv, w);
    if (d === w) {
      addInto(sums, s, zBase, C);
      pred[v * count + i] = bestBase;
      continue;
    }
    if (e1 - e0 === 1) {
      // one column changed: its term after the prefix, then the unscaled row's terms after it
      prefixAndTerm(prefix, d * m1, hv[d], W1, m1, start);
      rowTimesW(bIdx, bVal, next[d], bCnt, W1, m1, acc, start, 0);
    } else {
      const cnt = nonzerosOf(hv, 0, d, w, nzIdx, nzVal);
      rowTimesW(nzIdx, nzVal, 0, cnt, W1, m1, acc, prefix, d * m1);
    }
    restoreColumns(hv, h, cols, e0, e1);
    // (the last layer: the logits straight from the sums, the same f32 values as z's, its argmax as z's)
    pred[v * count + i] = last1 ? addLogitsOfSums(acc, b1, C, sums, s) : finishAndAdd(acc, b1, m1, z, later, C, sums, s);
  }
}

/** finishRow (not the last layer) and addAndArgmax of the logits it gives */
function finishAndAdd(acc: Float64Array, b1: Float32Array, m1: number, z: Float32Array, later: LaterLayers, C: number, sums: Float64Array, s: number): number {
  finishRow(acc, b1, m1, false, z, later);
  return addAndArgmax(z, C, sums, s);
}

/** each variant's columns with mask ≠ 1, ascending: cols[off[v]..off[v + 1]) */
function changedColumns(mask: Float32Array, V: number, w: number): { off: Int32Array; cols: Int32Array } {
  const off = new Int32Array(V + 1), cols = new Int32Array(countNotOne(mask, V * w));
  changedColumnsInto(mask, V, w, off, cols);
  return { off, cols };
}

/** how many of mask[0..len) are not 1 */
function countNotOne(mask: Float32Array, len: number): number {
  let total = 0;
  for (let e = 0; e < len; e++) if (!(mask[e] === 1)) total++;
  return total;
}

/** changedColumns' offsets and columns into off [V + 1] (off[0] = 0) and cols */
function changedColumnsInto(mask: Float32Array, V: number, w: number, off: Int32Array, cols: Int32Array): void {
  for (let v = 0, t = 0; v < V; v++) {
    for (let j = 0; j < w; j++) if (!(mask[v * w + j] === 1)) cols[t++] = j;
    off[v + 1] = t;
  }
}

/** the tensor's row src[row..row+w) as the next layer takes it into h: relu'd when it is the pre-activation */
function unscaledRow(src: Float32Array, row: number, w: number, pre: boolean, h: Float32Array): void {
  if (pre) for (let j = 0; j < w; j++) { const s = src[row + j]; h[j] = s > 0 ? s : 0; }
  else for (let j = 0; j < w; j++) h[j] = src[row + j];
}

/** prefix [w + 1, m]: row p + 1 = row p plus input p's terms (row 0: +0; a zero input adds none) */
function prefixSums(h: Float32Array, w: number, W: Float32Array, m: number, prefix: Float64Array): void {
  for (let j = 0; j < m; j++) prefix[j] = 0;
  for (let p = 0, q = 0; p < w; p++, q += m) {
    const x = h[p];
    if (x === 0) for (let j = 0; j < m; j++) prefix[q + m + j] = prefix[q + j];
    else for (let j = 0, wp = p * m; j < m; j++) prefix[q + m + j] = prefix[q + j] + x * W[wp + j];
  }
}

/** h's nonzero inputs into idx and val, and next[p] = how many of them are at columns ≤ p; how many in all */
function nonzerosAndNext(h: Float32Array, w: number, idx: Int32Array, val: Float64Array, next: Int32Array): number {
  let cnt = 0;
  for (let p = 0; p < w; p++) {
    const x = h[p];
    if (x !== 0) { idx[cnt] = p; val[cnt++] = x; }
    next[p] = cnt;
  }
  return cnt;
}

/** to[0..n) = from[o..o+n) */
function copyRange(from: Float64Array, o: number, n: number, to: Float64Array): void {
  for (let j = 0; j < n; j++) to[j] = from[o + j];
}

/**
 * variant v's changed columns cols[e0..e1) scaled (mask row at mv) into hv, relu'd when the tensor is the
 * pre-activation; the first of them whose value differs from the unscaled row h, or w when none does
 */
function scaleColumns(
  src: Float32Array, row: number, mask: Float32Array, mv: number, cols: Int32Array, e0: number, e1: number, pre: boolean,
  h: Float32Array, hv: Float32Array, w: number,
): number {
  const f = Math.fround;
  let d = w;
  for (let e = e0; e < e1; e++) {
    const j = cols[e];
    if (pre) { const t = f(src[row + j] * mask[mv + j]); hv[j] = t > 0 ? t : 0; } else hv[j] = src[row + j] * mask[mv + j];
    if (d === w && !(hv[j] === h[j])) d = j;
  }
  return d;
}

/** hv's columns cols[e0..e1) back to the unscaled row's */
function restoreColumns(hv: Float32Array, h: Float32Array, cols: Int32Array, e0: number, e1: number): void {
  for (let e = e0; e < e1; e++) hv[cols[e]] = h[cols[e]];
}

/** start[0..m) = the prefix row at q plus input x's terms (W's row at q; none when x is zero) */
function prefixAndTerm(prefix: Float64Array, q: number, x: number, W: Float32Array, m: number, start: Float64Array): void {
  if (x === 0) for (let j = 0; j < m; j++) start[j] = prefix[q + j];
  else for (let j = 0; j < m; j++) start[j] = prefix[q + j] + x * W[q + j];
}

/** sums[s..s+n) += z[0..n) */
function addInto(sums: Float64Array, s: number, z: Float32Array, n: number): void {
  for (let c = 0; c < n; c++) sums[s + c] += z[c];
}

/** the first index of z's largest value over [0, n) */
function argmaxOf(z: Float32Array, n: number): number {
  let best = 0;
  for (let c = 1; c < n; c++) if (z[c] > z[best]) best = c;
  return best;
}

/** addInto and argmaxOf in one pass */
function addAndArgmax(z: Float32Array, n: number, sums: Float64Array, s: number): number {
  let best = 0;
  for (let c = 0; c < n; c++) {
    sums[s + c] += z[c];
    if (z[c] > z[best]) best = c;
  }
  return best;
}

/** the logits from the last layer's sums acc and bias b added into sums[s..s+n); their argmax */
function addLogitsOfSums(acc: Float64Array, b: Float32Array, n: number, sums: Float64Array, s: number): number {
  const f = Math.fround;
  let best = 0, top = f(f(acc[0]) + b[0]);
  sums[s] += top;
  for (let c = 1; c < n; c++) {
    const zc = f(f(acc[c]) + b[c]);
    sums[s + c] += zc;
    if (zc > top) { best = c; top = zc; }
  }
  return best;
}

/** the layers after plainScaled's first one (k1): their parameters and two buffers for their rows */
interface LaterLayers { W: Float32Array[]; b: Float32Array[]; sizes: number[]; k1: number; H: number; cur: Float32Array; nx: Float32Array }

/** layer k1's sums acc[0..m1) → z (the last layer) or, relu'd, through the layers after it → z */
function finishRow(acc: Float64Array, b1: Float32Array, m1: number, last1: boolean, z: Float32Array, later: LaterLayers): void {
  if (last1) {
    storeRow(acc, b1, m1, z, 0);
    return;
  }
  let cur = later.cur, nx = later.nx, width = m1;
  reluRow(acc, b1, m1, cur);
  for (let k = later.k1 + 1; k <= later.H; k++) {
    const W = later.W[k], b = later.b[k], m = later.sizes[k + 1];
    denseRow(cur, width, W, m, acc);
    if (k === later.H) storeRow(acc, b, m, z, 0);
    else {
      reluRow(acc, b, m, nx);
      const t = cur; cur = nx; nx = t;
    }
    width = m;
  }
}

/** out[0..m) = relu of the sums acc rounded as matmul's output, + b rounded as add's */
function reluRow(acc: Float64Array, b: Float32Array, m: number, out: Float32Array): void {
  const f = Math.fround;
  for (let j = 0; j < m; j++) { const t = f(f(acc[j]) + b[j]); out[j] = t > 0 ? t : 0; }
}

/** acc[0..m) = x[0..width) · W [width, m], matmul's loop (f64 sums from +0, zero inputs skipped) */
function denseRow(x: Float32Array, width: number, W: Float32Array, m: number, acc: Float64Array): void {
  acc.fill(0, 0, m);
  for (let p = 0; p < width; p++) {
    const v = x[p];
    if (v === 0) continue;
    for (let j = 0, wp = p * m; j < m; j++) acc[j] += v * W[wp + j];
  }
}
