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
 * the linear op's cpu loop: out [n, m] = x [n, k] · W [k, m] + b, f64 sums skipping zero inputs, rounded
 * as matmul's output and add's; `relu` applies max(·, 0) to the stored result into `post` (when given)
 */
export function linearRows(
  x: Float32Array, n: number, k: number, W: Float32Array, b: Float32Array, m: number, out: Float32Array, post?: Float32Array,
): void {
  const acc = new Float64Array(m), f = Math.fround;
  for (let i = 0; i < n; i++) {
    acc.fill(0);
    const xi = i * k;
    for (let p = 0; p < k; p++) {
      const v = x[xi + p];
      if (v === 0) continue;
      for (let j = 0, wp = p * m; j < m; j++) acc[j] += v * W[wp + j];
    }
    const o = i * m;
    for (let j = 0; j < m; j++) {
      const z = f(f(acc[j]) + b[j]);
      out[o + j] = z;
      if (post) post[o + j] = z > 0 ? z : 0;
    }
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
  const acc = new Float64Array(m), f = Math.fround, { rowptr, idx, val, lut } = x;
  for (let i = 0; i < n; i++) {
    acc.fill(0);
    for (let e = rowptr[x.start + i], end = rowptr[x.start + i + 1]; e < end; e++) {
      const v = lut[val[e]];
      if (v === 0) continue;
      for (let j = 0, wp = idx[e] * m; j < m; j++) acc[j] += v * W[wp + j];
    }
    const o = i * m;
    for (let j = 0; j < m; j++) {
      const z = f(f(acc[j]) + b[j]);
      out[o + j] = z;
      post[o + j] = z > 0 ? z : 0;
    }
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
  const H = plainHidden(net), w = net.sizes[layer + 1], C = net.sizes[H + 1], f = Math.fround;
  const widest = Math.max(...net.sizes.slice(layer + 1));
  let h = new Float32Array(widest), nx = new Float32Array(widest);
  const acc = new Float64Array(widest), z = new Float32Array(C);
  for (let i = 0; i < count; i++) {
    const row = i * w, y = labels[i];
    for (let v = 0; v < V; v++) {
      const mv = v * w;
      if (site === 'pre') for (let j = 0; j < w; j++) { const s = f(src[row + j] * mask[mv + j]); h[j] = s > 0 ? s : 0; }
      else for (let j = 0; j < w; j++) h[j] = src[row + j] * mask[mv + j];
      let width = w;
      for (let k = layer + 1; k <= H; k++) {
        const W = net.W[k], b = net.b[k], m = net.sizes[k + 1], last = k === H;
        acc.fill(0, 0, m);
        for (let p = 0; p < width; p++) {
          const x = h[p];
          if (x === 0) continue;
          for (let j = 0, wp = p * m; j < m; j++) acc[j] += x * W[wp + j];
        }
        if (last) for (let j = 0; j < m; j++) z[j] = f(f(acc[j]) + b[j]);
        else {
          for (let j = 0; j < m; j++) { const t = f(f(acc[j]) + b[j]); nx[j] = t > 0 ? t : 0; }
          const t = h; h = nx; nx = t;
        }
        width = m;
      }
      const s = (v * C + y) * C;
      let best = 0;
      for (let c = 0; c < C; c++) {
        sums[s + c] += z[c];
        if (z[c] > z[best]) best = c;
      }
      pred[v * count + i] = best;
    }
  }
}
