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

/**
 * acc[0..m) = Σ_e val[e] · W[idx[e] · m + j] over e = e0..cnt−1 in that order, each column's sum in f64 from
 * +0 (matmul's loop over a row's nonzero inputs), or from init[io + j] onwards when given: the columns
 * eight (then four, then one) at a time in locals, each column's terms still added one by one in ascending e
 */
function rowTimesW(
  idx: Int32Array, val: Float64Array, cnt: number, W: Float32Array, m: number, acc: Float64Array, init?: Float64Array, io = 0, e0 = 0,
): void {
  let j = 0;
  for (; j + 8 <= m; j += 8) {
    let a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
    if (init) {
      const q = io + j;
      a0 = init[q]; a1 = init[q + 1]; a2 = init[q + 2]; a3 = init[q + 3]; a4 = init[q + 4]; a5 = init[q + 5]; a6 = init[q + 6]; a7 = init[q + 7];
    }
    for (let e = e0; e < cnt; e++) {
      const v = val[e], wp = idx[e] * m + j;
      a0 += v * W[wp]; a1 += v * W[wp + 1]; a2 += v * W[wp + 2]; a3 += v * W[wp + 3];
      a4 += v * W[wp + 4]; a5 += v * W[wp + 5]; a6 += v * W[wp + 6]; a7 += v * W[wp + 7];
    }
    acc[j] = a0; acc[j + 1] = a1; acc[j + 2] = a2; acc[j + 3] = a3; acc[j + 4] = a4; acc[j + 5] = a5; acc[j + 6] = a6; acc[j + 7] = a7;
  }
  for (; j + 4 <= m; j += 4) {
    let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    if (init) { const q = io + j; a0 = init[q]; a1 = init[q + 1]; a2 = init[q + 2]; a3 = init[q + 3]; }
    for (let e = e0; e < cnt; e++) {
      const v = val[e], wp = idx[e] * m + j;
      a0 += v * W[wp]; a1 += v * W[wp + 1]; a2 += v * W[wp + 2]; a3 += v * W[wp + 3];
    }
    acc[j] = a0; acc[j + 1] = a1; acc[j + 2] = a2; acc[j + 3] = a3;
  }
  for (; j + 2 <= m; j += 2) {
    let a0 = 0, a1 = 0;
    if (init) { a0 = init[io + j]; a1 = init[io + j + 1]; }
    for (let e = e0; e < cnt; e++) {
      const v = val[e], wp = idx[e] * m + j;
      a0 += v * W[wp]; a1 += v * W[wp + 1];
    }
    acc[j] = a0; acc[j + 1] = a1;
  }
  for (; j < m; j++) {
    let a0 = init ? init[io + j] : 0;
    for (let e = e0; e < cnt; e++) a0 += val[e] * W[idx[e] * m + j];
    acc[j] = a0;
  }
}

/** scratch for rowTimesW: a row's nonzero inputs (their columns and values) and the sums */
interface RowScratch { idx: Int32Array; val: Float64Array; acc: Float64Array }
const rowScratch = (k: number, m: number): RowScratch => ({ idx: new Int32Array(k), val: new Float64Array(k), acc: new Float64Array(m) });

/** row o's sums acc rounded as matmul's output, + b rounded as add's, into out (and relu into post) */
function storeRow(acc: Float64Array, b: Float32Array, m: number, out: Float32Array, o: number, post?: Float32Array): void {
  const f = Math.fround;
  if (post) {
    for (let j = 0; j < m; j++) {
      const z = f(f(acc[j]) + b[j]);
      out[o + j] = z;
      post[o + j] = z > 0 ? z : 0;
    }
  } else for (let j = 0; j < m; j++) out[o + j] = f(f(acc[j]) + b[j]);
}

/**
 * the linear op's cpu loop: out [n, m] = x [n, k] · W [k, m] + b, f64 sums skipping zero inputs, rounded
 * as matmul's output and add's; `relu` applies max(·, 0) to the stored result into `post` (when given)
 */
export function linearRows(
  x: Float32Array, n: number, k: number, W: Float32Array, b: Float32Array, m: number, out: Float32Array, post?: Float32Array,
): void {
  const { idx, val, acc } = rowScratch(k, m);
  for (let i = 0; i < n; i++) {
    const xi = i * k;
    let cnt = 0;
    for (let p = 0; p < k; p++) {
      const v = x[xi + p];
      if (v === 0) continue;
      idx[cnt] = p; val[cnt++] = v;
    }
    rowTimesW(idx, val, cnt, W, m, acc);
    storeRow(acc, b, m, out, i * m, post);
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
  const { rowptr, idx: cols, val: bytes, lut } = x;
  let most = 0;
  for (let i = 0; i < n; i++) most = Math.max(most, rowptr[x.start + i + 1] - rowptr[x.start + i]);
  const { idx, val, acc } = rowScratch(most, m);
  for (let i = 0; i < n; i++) {
    let cnt = 0;
    for (let e = rowptr[x.start + i], end = rowptr[x.start + i + 1]; e < end; e++) {
      const v = lut[bytes[e]];
      if (v === 0) continue;
      idx[cnt] = cols[e]; val[cnt++] = v;
    }
    rowTimesW(idx, val, cnt, W, m, acc);
    storeRow(acc, b, m, out, i * m, post);
  }
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
  for (let i = 0; i < n; i++) {
    const label = labels[i];
    let m = -Infinity;
    for (let j = 0; j < c; j++) m = Math.max(m, logits[i * c + j]);
    let s = 0;
    for (let j = 0; j < c; j++) s += Math.exp(logits[i * c + j] - m);
    out[i] = m + Math.log(s) - logits[i * c + label];
  }
  return out;
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
  } else {
    dz = new Float32Array(n * C);
    for (let i = 0; i < n; i++) dz[i * C + labels[i]] = 1;
  }
  out.logits = dz;
  for (let k = H; k > 0; k--) {
    const w = net.sizes[k], dPost = backRows(dz, n, net.W[k], w, net.sizes[k + 1]), pre = acts.pre[k - 1];
    const dPre = new Float32Array(n * w);
    for (let e = 0; e < n * w; e++) dPre[e] = dPost[e] * (pre[e] > 0 ? 1 : 0);
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
  const H = plainHidden(net), w = net.sizes[layer + 1], C = net.sizes[H + 1], f = Math.fround, pre = site === 'pre';
  const widest = Math.max(...net.sizes.slice(layer + 1));
  const k1 = layer + 1, W1 = net.W[k1], b1 = net.b[k1], m1 = net.sizes[k1 + 1], last1 = k1 === H;
  // each variant's columns with mask ≠ 1, ascending: cols[off[v]..off[v + 1])
  const off = new Int32Array(V + 1);
  let total = 0;
  for (let v = 0; v < V; v++) for (let j = 0; j < w; j++) if (!(mask[v * w + j] === 1)) total++;
  const cols = new Int32Array(total);
  for (let v = 0, t = 0; v < V; v++) {
    for (let j = 0; j < w; j++) if (!(mask[v * w + j] === 1)) cols[t++] = j;
    off[v + 1] = t;
  }
  const h = new Float32Array(w), hv = new Float32Array(w), nzIdx = new Int32Array(w), nzVal = new Float64Array(w), bIdx = new Int32Array(w), bVal = new Float64Array(w), next = new Int32Array(w), start = new Float64Array(m1), prefix = new Float64Array((w + 1) * m1), acc = new Float64Array(widest);
  let cur = new Float32Array(widest), nx = new Float32Array(widest);
  const zBase = new Float32Array(C), z = new Float32Array(C);
  // the layers after k1 (k1's output in cur, relu'd) → z
  const rest = () => {
    let width = m1;
    for (let k = k1 + 1; k <= H; k++) {
      const W = net.W[k], b = net.b[k], m = net.sizes[k + 1], last = k === H;
      acc.fill(0, 0, m);
      for (let p = 0; p < width; p++) {
        const x = cur[p];
        if (x === 0) continue;
        for (let j = 0, wp = p * m; j < m; j++) acc[j] += x * W[wp + j];
      }
      if (last) for (let j = 0; j < m; j++) z[j] = f(f(acc[j]) + b[j]);
      else {
        for (let j = 0; j < m; j++) { const t = f(f(acc[j]) + b[j]); nx[j] = t > 0 ? t : 0; }
        const t = cur; cur = nx; nx = t;
      }
      width = m;
    }
  };
  // layer k1's sums acc[0..m1) → z (the last layer) or cur and the layers after it → z
  const finish = () => {
    if (last1) for (let j = 0; j < m1; j++) z[j] = f(f(acc[j]) + b1[j]);
    else {
      for (let j = 0; j < m1; j++) { const t = f(f(acc[j]) + b1[j]); cur[j] = t > 0 ? t : 0; }
      rest();
    }
  };
  for (let i = 0; i < count; i++) {
    const row = i * w, y = labels[i];
    // the unscaled row and its first layer's prefix sums
    if (pre) for (let j = 0; j < w; j++) { const s = src[row + j]; h[j] = s > 0 ? s : 0; }
    else for (let j = 0; j < w; j++) h[j] = src[row + j];
    hv.set(h);
    for (let j = 0; j < m1; j++) prefix[j] = 0;
    for (let p = 0, q = 0; p < w; p++, q += m1) {
      const x = h[p];
      if (x === 0) for (let j = 0; j < m1; j++) prefix[q + m1 + j] = prefix[q + j];
      else for (let j = 0, wp = p * m1; j < m1; j++) prefix[q + m1 + j] = prefix[q + j] + x * W1[wp + j];
    }
    // the unscaled row's nonzero inputs, and next[p]: the first of them at a column > p
    let bCnt = 0;
    for (let p = 0; p < w; p++) {
      const x = h[p];
      if (x !== 0) { bIdx[bCnt] = p; bVal[bCnt++] = x; }
      next[p] = bCnt;
    }
    for (let j = 0, q = w * m1; j < m1; j++) acc[j] = prefix[q + j];
    finish();
    zBase.set(z);
    let bestBase = 0;
    for (let c = 1; c < C; c++) if (zBase[c] > zBase[bestBase]) bestBase = c;
    for (let v = 0; v < V; v++) {
      const mv = v * w, s = (v * C + y) * C, e0 = off[v], e1 = off[v + 1];
      let d = w;
      for (let e = e0; e < e1; e++) {
        const j = cols[e];
        if (pre) { const t = f(src[row + j] * mask[mv + j]); hv[j] = t > 0 ? t : 0; } else hv[j] = src[row + j] * mask[mv + j];
        if (d === w && !(hv[j] === h[j])) d = j;
      }
      if (d === w) {
        for (let c = 0; c < C; c++) sums[s + c] += zBase[c];
        pred[v * count + i] = bestBase;
        continue;
      }
      if (e1 - e0 === 1) {
        // one column changed: its term after the prefix, then the unscaled row's terms after it
        const x = hv[d], q = d * m1;
        if (x === 0) for (let j = 0; j < m1; j++) start[j] = prefix[q + j];
        else for (let j = 0; j < m1; j++) start[j] = prefix[q + j] + x * W1[q + j];
        rowTimesW(bIdx, bVal, bCnt, W1, m1, acc, start, 0, next[d]);
      } else {
        let cnt = 0;
        for (let p = d; p < w; p++) {
          const x = hv[p];
          if (x === 0) continue;
          nzIdx[cnt] = p; nzVal[cnt++] = x;
        }
        rowTimesW(nzIdx, nzVal, cnt, W1, m1, acc, prefix, d * m1);
      }
      for (let e = e0; e < e1; e++) hv[cols[e]] = h[cols[e]];
      let best = 0;
      if (last1) {
        // (the logits straight from the sums: the same f32 values as z's, its argmax as z's)
        let top = f(f(acc[0]) + b1[0]);
        sums[s] += top;
        for (let c = 1; c < C; c++) {
          const zc = f(f(acc[c]) + b1[c]);
          sums[s + c] += zc;
          if (zc > top) { best = c; top = zc; }
        }
      } else {
        finish();
        for (let c = 0; c < C; c++) {
          sums[s + c] += z[c];
          if (z[c] > z[best]) best = c;
        }
      }
      pred[v * count + i] = best;
    }
  }
}
