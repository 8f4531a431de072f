// analysis/plain-mlp.ts's loops as they were before they were blocked and shared (test oracles): the
// forward pass's linear rows, dense and sparse, and the scaled evaluations, one accumulator at a time.
import type { PlainMlp, SparseInput } from '../../analysis/plain-mlp.ts';

const plainHidden = (net: PlainMlp): number => net.sizes.length - 2;

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

export function sparseLinearRows(x: SparseInput, n: number, W: Float32Array, b: Float32Array, m: number, out: Float32Array, post: Float32Array): void {
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

export function plainForward(net: PlainMlp, x: Float32Array, n: number, upTo = plainHidden(net) + 1, sparse?: SparseInput): { pre: Float32Array[]; post: Float32Array[]; logits: Float32Array } {
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
