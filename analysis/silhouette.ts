// silhouette scores (euclidean), exact: every pair distance once, O(n² d). Points are regrouped by
// label so the sum over each cluster is a contiguous run; pure.
import type { Rng } from '../engine/rng.ts';
import type { HostTensor } from './forward-cache.ts';

/**
 * silhouette of each sample of x [n, d] with cluster labels [n] (sklearn's silhouette_samples,
 * metric 'euclidean'): s = (b − a) / max(a, b), a the mean distance to the other members of its
 * cluster, b the smallest mean distance to another cluster; 0 for a cluster of one → [n]
 */
export function silhouetteSamples(x: HostTensor, labels: ArrayLike<number>): Float64Array {
  const d = x.shape[0] ? x.data.length / x.shape[0] : 0;
  return prefixSilhouetteSamples(x, labels, Array.from({ length: d }, (_, j) => j), [d])[0];
}

/**
 * silhouette samples of several neuron subspaces in one pass over the pairs: the subspaces are the
 * prefixes of `order` (columns of x [n, width]) of the given increasing `sizes`; the squared distance of
 * a prefix extends the previous one → [sizes][n]
 */
export function prefixSilhouetteSamples(
  x: HostTensor, labels: ArrayLike<number>, order: readonly number[], sizes: readonly number[],
): Float64Array[] {
  const n = x.shape[0], w = n ? x.data.length / n : 0, S = sizes.length, d = sizes[S - 1] ?? 0;
  sizes.forEach((s, t) => {
    if (!(s >= 1 && s <= order.length && (t === 0 || s > sizes[t - 1]))) throw new RangeError(`sizes must increase within 1..${order.length}, got [${sizes}]`);
  });
  let classes = 0;
  for (let i = 0; i < n; i++) classes = Math.max(classes, labels[i] + 1);
  // counting sort by label: cluster c occupies rows [start[c], start[c + 1])
  const start = new Int32Array(classes + 1);
  for (let i = 0; i < n; i++) start[labels[i] + 1]++;
  for (let c = 0; c < classes; c++) start[c + 1] += start[c];
  const fill = start.slice(0, classes), rowOf = new Int32Array(n), lab = new Int32Array(n);
  for (let i = 0; i < n; i++) { const c = labels[i]; rowOf[fill[c]] = i; lab[fill[c]++] = c; }
  const xs = new Float64Array(n * d); // [n, d]: the ordered columns, rows grouped by label
  for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) xs[r * d + j] = x.data[rowOf[r] * w + order[j]];
  const ends = Int32Array.from(sizes), byTwo = sizes.every((e, t) => e === 2 * (t + 1));
  // sums[(t·classes + c)·n + r]: total distance, in prefix t, from sorted point r to the members of cluster c
  const sums = new Float64Array(S * classes * n);
  const acc = new Float64Array(S);
  for (let r = 0; r < n; r++) {
    const cr = lab[r], o = r * d;
    for (let c = cr; c < classes; c++) {
      const lo = Math.max(start[c], r + 1), end = start[c + 1];
      if (S === 1) {
        sums[c * n + r] += d === 2 ? block2(xs, o, lo, end, sums, cr * n) : d === 5 ? block5(xs, o, lo, end, sums, cr * n) : blockD(xs, d, o, lo, end, sums, cr * n);
      } else {
        (byTwo ? blockPrefix2 : blockPrefix)(xs, d, o, lo, end, sums, cr * n, classes * n, ends, acc);
        for (let t = 0; t < S; t++) sums[(t * classes + c) * n + r] += acc[t];
      }
    }
  }
  return Array.from({ length: S }, (_, t) => {
    const out = new Float64Array(n); // [n], in the caller's order
    for (let r = 0; r < n; r++) {
      const cr = lab[r], size = start[cr + 1] - start[cr];
      if (size < 2) continue;
      const a = sums[(t * classes + cr) * n + r] / (size - 1);
      let b = Infinity;
      for (let c = 0; c < classes; c++) {
        const m = start[c + 1] - start[c];
        if (c !== cr && m > 0) b = Math.min(b, sums[(t * classes + c) * n + r] / m);
      }
      out[rowOf[r]] = b === Infinity ? 0 : (b - a) / Math.max(a, b) || 0;
    }
    return out;
  });
}

/**
 * mean silhouette of each prefix subspace of `order` (see prefixSilhouetteSamples) → [sizes]; NaN when
 * fewer than two clusters are present
 */
export function prefixSilhouetteScores(
  x: HostTensor, labels: ArrayLike<number>, order: readonly number[], sizes: readonly number[],
): number[] {
  if (new Set(Array.from(labels)).size < 2) return sizes.map(() => NaN);
  return prefixSilhouetteSamples(x, labels, order, sizes).map((s) => s.reduce((a, b) => a + b, 0) / s.length);
}

/**
 * mean silhouette of x [n, d] with labels [n] (sklearn's silhouette_score, euclidean); with `sample`
 * < n, of a random subset of that size drawn with `rng` (sklearn's sample_size). NaN when fewer than
 * two clusters are present.
 */
export function silhouetteScore(
  x: HostTensor, labels: ArrayLike<number>, opts: { sample?: number; rng?: Rng } = {},
): number {
  let pts = x, lab = labels;
  const n = x.shape[0];
  if (opts.sample !== undefined && opts.sample < n) {
    if (!opts.rng) throw new Error('silhouetteScore: a sample needs an rng');
    const pick = opts.rng.epochPermutation(n).subarray(0, opts.sample).sort();
    ({ x: pts, labels: lab } = takeRows(x, labels, pick));
  }
  if (new Set(Array.from(lab)).size < 2) return NaN;
  const s = silhouetteSamples(pts, lab);
  let sum = 0;
  for (let i = 0; i < s.length; i++) sum += s[i];
  return sum / s.length;
}

/** rows `rows` of x [n, d] and of labels [n] → x [rows, d], labels [rows] */
export function takeRows(x: HostTensor, labels: ArrayLike<number>, rows: ArrayLike<number>): { x: HostTensor; labels: Uint8Array } {
  const d = x.data.length / x.shape[0];
  const out = new Float32Array(rows.length * d); // [rows, d]
  for (let r = 0; r < rows.length; r++) out.set(x.data.subarray(rows[r] * d, (rows[r] + 1) * d), r * d);
  return { x: { shape: [rows.length, d], data: out }, labels: Uint8Array.from(rows, (i) => labels[i]) };
}

/** columns `cols` of x [n, width] → [n, cols] (a neuron subspace) */
export function takeColumns(x: HostTensor, cols: readonly number[]): HostTensor {
  const n = x.shape[0], w = x.data.length / n, k = cols.length;
  const out = new Float32Array(n * k); // [n, cols]
  for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) out[i * k + c] = x.data[i * w + cols[c]];
  return { shape: [n, k], data: out };
}

// the pair kernels, small so that the JIT optimises each on its own: the distances from point `o` (an
// offset into xs [n, d]) to points lo..end−1, added to sums[back + q] and returned as a total. block2 and
// block5 (the suite's subsets: 5 neurons, and their PCA 2-D) hold point o in registers, the columns
// unrolled: each squared distance summed in column order from 0 as blockD's loop does, bit for bit
// (test/analysis/silhouette-fast.test.ts); ≈ 1.6× faster than blockD on 5 columns

function block2(xs: Float64Array, o: number, lo: number, end: number, sums: Float64Array, back: number): number {
  const a0 = xs[o], a1 = xs[o + 1];
  let a = 0;
  for (let q = lo; q < end; q++) {
    const e0 = a0 - xs[2 * q], e1 = a1 - xs[2 * q + 1];
    const dist = Math.sqrt(e0 * e0 + e1 * e1);
    a += dist;
    sums[back + q] += dist;
  }
  return a;
}

function blockD(xs: Float64Array, d: number, o: number, lo: number, end: number, sums: Float64Array, back: number): number {
  let a = 0;
  for (let q = lo; q < end; q++) {
    let s = 0;
    for (let j = 0, p = q * d; j < d; j++) { const v = xs[o + j] - xs[p + j]; s += v * v; }
    const dist = Math.sqrt(s);
    a += dist;
    sums[back + q] += dist;
  }
  return a;
}

// every prefix of the columns at once: prefix t adds to sums[t·stride + back + q] and acc[t]
function blockPrefix(
  xs: Float64Array, d: number, o: number, lo: number, end: number, sums: Float64Array, back: number,
  stride: number, ends: Int32Array, acc: Float64Array,
): void {
  const S = ends.length;
  acc.fill(0);
  for (let q = lo; q < end; q++) {
    let s = 0, j = 0;
    const p = q * d;
    for (let t = 0; t < S; t++) {
      for (const e = ends[t]; j < e; j++) { const v = xs[o + j] - xs[p + j]; s += v * v; }
      const dist = Math.sqrt(s);
      acc[t] += dist;
      sums[t * stride + back + q] += dist;
    }
  }
}

function block5(xs: Float64Array, o: number, lo: number, end: number, sums: Float64Array, back: number): number {
  const a0 = xs[o], a1 = xs[o + 1], a2 = xs[o + 2], a3 = xs[o + 3], a4 = xs[o + 4];
  let a = 0;
  for (let q = lo, p = 5 * lo; q < end; q++, p += 5) {
    const e0 = a0 - xs[p], e1 = a1 - xs[p + 1], e2 = a2 - xs[p + 2], e3 = a3 - xs[p + 3], e4 = a4 - xs[p + 4];
    const dist = Math.sqrt(e0 * e0 + e1 * e1 + e2 * e2 + e3 * e3 + e4 * e4);
    a += dist;
    sums[back + q] += dist;
  }
  return a;
}

// blockPrefix for the sizes 2, 4, 6, … (item 34's): two columns a prefix, unrolled (the same sums, ≈ 1.3× faster)
function blockPrefix2(
  xs: Float64Array, d: number, o: number, lo: number, end: number, sums: Float64Array, back: number,
  stride: number, ends: Int32Array, acc: Float64Array,
): void {
  const S = ends.length;
  acc.fill(0);
  for (let q = lo; q < end; q++) {
    let s = 0;
    const p = q * d;
    for (let t = 0, j = 0, at = back + q; t < S; t++, j += 2, at += stride) {
      const e0 = xs[o + j] - xs[p + j], e1 = xs[o + j + 1] - xs[p + j + 1];
      s = s + e0 * e0 + e1 * e1;
      const dist = Math.sqrt(s);
      acc[t] += dist;
      sums[at] += dist;
    }
  }
}
