// silhouette scores (euclidean), exact: every pair distance once, O(n² d). Points are regrouped by
// label so the sum over each cluster is a contiguous run; pure. Four rows of a cluster go against the
// later points at once (in WebAssembly SIMD when pair-kernels.ts has loaded, else in the JS quad*
// kernels), every sum still adding its terms in the one-row loop's order: the same numbers bit for bit
// (test/analysis/silhouette-rows4.test.ts, silhouette-fast.test.ts).
import type { Rng } from '../engine/rng.ts';
import type { HostTensor } from './forward-cache.ts';
import { pairKernels, type PairKernelExports } from './pair-kernels.ts';

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
  const classes = classCount(labels, n);
  // counting sort by label: cluster c occupies rows [start[c], start[c + 1])
  const start = new Int32Array(classes + 1), rowOf = new Int32Array(n), lab = new Int32Array(n);
  countLabels(labels, n, start);
  sortByLabel(labels, n, classes, start, rowOf, lab);
  // the four-row groups' kernels: WebAssembly SIMD when loaded (pair-kernels.ts: xs, sums, acc4 and ends
  // in its memory at these byte offsets), else the JS quad* below; the same numbers either way
  const XS = 0, SUMS = XS + 8 * n * d, ACC4 = SUMS + 8 * S * classes * n, ENDS = ACC4 + 32 * S, T = ENDS + 16 * Math.ceil(S / 4);
  const kernels = n >= 4 ? pairKernels() : null, mem = kernels ? kernels.buffer(T + 32 * d) : null, k = mem && kernels ? kernels.k : null;
  const xs = mem ? new Float64Array(mem, XS, n * d) : new Float64Array(n * d); // [n, d]: the ordered columns, rows grouped by label
  gatherColumns(x.data, w, order, rowOf, n, d, xs);
  const ends = mem ? new Int32Array(mem, ENDS, S) : new Int32Array(S), byTwo = sizes.every((e, t) => e === 2 * (t + 1));
  ends.set(sizes);
  // sums[(t·classes + c)·n + r]: total distance, in prefix t, from sorted point r to the members of cluster c
  const sums = mem ? new Float64Array(mem, SUMS, S * classes * n).fill(0) : new Float64Array(S * classes * n);
  const acc = new Float64Array(S), acc4 = mem ? new Float64Array(mem, ACC4, 4 * S) : new Float64Array(4 * S); // acc4[t·4 + k]: prefix t, row r + k
  if (S === 1) pairSums(xs, d, n, classes, start, lab, sums, acc4, k, XS, SUMS, ACC4, T);
  else prefixPairSums(xs, d, n, classes, start, lab, sums, ends, byTwo, acc, acc4, k, XS, SUMS, ENDS, ACC4, T);
  return Array.from({ length: S }, (_, t) => {
    const out = new Float64Array(n); // [n], in the caller's order
    silhouettes(sums, t, classes, n, start, lab, rowOf, out);
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

// prefixSilhouetteSamples's loops, each in a function of its own taking typed arrays and numbers: the
// JIT then optimises each small loop once, rather than the whole glue once per hot loop (on-stack
// replacement), and nothing in a loop calls a closure made per call or reads a property of the caller's
// objects. Nothing follows a hot loop in its function: code compiled on stack replacement, entered again
// on each call, would stop (deoptimise) at every call on code that had not yet run when it was compiled

/** the number of clusters: the largest label + 1 (0 for no rows) */
function classCount(labels: ArrayLike<number>, n: number): number {
  let classes = 0;
  for (let i = 0; i < n; i++) classes = Math.max(classes, labels[i] + 1);
  return classes;
}

/** start[c + 1] += the number of rows with label c */
function countLabels(labels: ArrayLike<number>, n: number, start: Int32Array): void {
  for (let i = 0; i < n; i++) start[labels[i] + 1]++;
}

/**
 * the counts in start [classes + 1] → the clusters' first rows, in place; then rowOf [n] (sorted row →
 * row) and lab [n] (its label)
 */
function sortByLabel(labels: ArrayLike<number>, n: number, classes: number, start: Int32Array, rowOf: Int32Array, lab: Int32Array): void {
  for (let c = 0; c < classes; c++) start[c + 1] += start[c];
  const fill = start.slice(0, classes);
  for (let i = 0; i < n; i++) { const c = labels[i]; rowOf[fill[c]] = i; lab[fill[c]++] = c; }
}

/** xs [n, d] ← columns order[0..d) of the rows rowOf of data [·, w] */
function gatherColumns(data: Float32Array, w: number, order: readonly number[], rowOf: Int32Array, n: number, d: number, xs: Float64Array): void {
  for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) xs[r * d + j] = data[rowOf[r] * w + order[j]];
}

/**
 * the one-prefix pass (all d columns): sums[c·n + r] for every sorted row r and cluster c, rows alone
 * where fewer than four of their cluster remain, else four at a time (pairSums4); k the WebAssembly
 * kernels (xs, sums and acc4 in its memory at byte offsets XS, SUMS, ACC4) or null for the JS ones
 */
function pairSums(
  xs: Float64Array, d: number, n: number, classes: number, start: Int32Array, lab: Int32Array, sums: Float64Array,
  acc4: Float64Array, k: PairKernelExports | null, XS: number, SUMS: number, ACC4: number, T: number,
): void {
  for (let r = 0; r < n;) {
    const cr = lab[r];
    if (start[cr + 1] - r < 4) {
      pairSums1(xs, d, n, classes, start, sums, r, cr);
      r++;
    } else {
      pairSums4(xs, d, n, classes, start, sums, r, cr, acc4, k, XS, SUMS, ACC4, T);
      r += 4;
    }
  }
}

/** one row r (of cluster cr): its pairs with the later rows, cluster by cluster */
function pairSums1(xs: Float64Array, d: number, n: number, classes: number, start: Int32Array, sums: Float64Array, r: number, cr: number): void {
  const o = r * d, back = cr * n;
  for (let c = cr; c < classes; c++) {
    const lo = Math.max(start[c], r + 1), end = start[c + 1];
    sums[c * n + r] += block(xs, d, o, lo, end, sums, back);
  }
}

/**
 * four rows r..r+3 of one cluster at once, each row's sums in the order the one-row loop adds them
 * (bit for bit): first the pairs among the four (row r's with r+1..r+3, then row r+1's, then row
 * r+2's), then the later points q, each row's total over q in increasing q, and each sums[back + q]
 * gaining row r's distance, then row r+1's, r+2's and r+3's
 */
function pairSums4(
  xs: Float64Array, d: number, n: number, classes: number, start: Int32Array, sums: Float64Array, r: number, cr: number,
  acc4: Float64Array, k: PairKernelExports | null, XS: number, SUMS: number, ACC4: number, T: number,
): void {
  const o = r * d, back = cr * n;
  for (let c = cr; c < classes; c++) {
    const lo = c === cr ? r + 4 : start[c], end = start[c + 1];
    let a0 = 0, a1 = 0, a2 = 0;
    if (c === cr) { a0 = block(xs, d, o, r + 1, r + 4, sums, back); a1 = block(xs, d, o + d, r + 2, r + 4, sums, back); a2 = block(xs, d, o + 2 * d, r + 3, r + 4, sums, back); }
    acc4[0] = a0; acc4[1] = a1; acc4[2] = a2; acc4[3] = 0;
    if (k) {
      if (d === 2) k.sil4d2(XS, o, lo, end, SUMS, back, ACC4, T);
      else k.sil4(XS, d, o, lo, end, SUMS, back, ACC4, T);
    }
    else if (d === 2) quad2(xs, o, lo, end, sums, back, acc4);
    else if (d === 5) quad5(xs, o, lo, end, sums, back, acc4);
    else quadD(xs, d, o, lo, end, sums, back, acc4);
    for (let q = 0; q < 4; q++) sums[c * n + r + q] += acc4[q];
  }
}

/**
 * pairSums for several prefixes (ends [S], the prefixes' column counts; byTwo: they are 2, 4, 6, …):
 * sums[(t·classes + c)·n + r]; acc [S] the one-row kernels' totals, acc4 [S, 4] the four-row ones'
 * (and ends in the WebAssembly memory at byte offset ENDS)
 */
function prefixPairSums(
  xs: Float64Array, d: number, n: number, classes: number, start: Int32Array, lab: Int32Array, sums: Float64Array,
  ends: Int32Array, byTwo: boolean, acc: Float64Array, acc4: Float64Array,
  k: PairKernelExports | null, XS: number, SUMS: number, ENDS: number, ACC4: number, T: number,
): void {
  for (let r = 0; r < n;) {
    const cr = lab[r];
    if (start[cr + 1] - r < 4) {
      prefixPairSums1(xs, d, n, classes, start, sums, r, cr, ends, byTwo, acc);
      r++;
    } else {
      prefixPairSums4(xs, d, n, classes, start, sums, r, cr, ends, byTwo, acc, acc4, k, XS, SUMS, ENDS, ACC4, T);
      r += 4;
    }
  }
}

/** pairSums1 for every prefix */
function prefixPairSums1(
  xs: Float64Array, d: number, n: number, classes: number, start: Int32Array, sums: Float64Array, r: number, cr: number,
  ends: Int32Array, byTwo: boolean, acc: Float64Array,
): void {
  const o = r * d, back = cr * n, S = ends.length;
  for (let c = cr; c < classes; c++) {
    const lo = Math.max(start[c], r + 1), end = start[c + 1];
    if (byTwo) blockPrefix2(xs, d, o, lo, end, sums, back, classes * n, ends, acc);
    else blockPrefix(xs, d, o, lo, end, sums, back, classes * n, ends, acc);
    for (let t = 0; t < S; t++) sums[(t * classes + c) * n + r] += acc[t];
  }
}

/** pairSums4 for every prefix */
function prefixPairSums4(
  xs: Float64Array, d: number, n: number, classes: number, start: Int32Array, sums: Float64Array, r: number, cr: number,
  ends: Int32Array, byTwo: boolean, acc: Float64Array, acc4: Float64Array,
  k: PairKernelExports | null, XS: number, SUMS: number, ENDS: number, ACC4: number, T: number,
): void {
  const o = r * d, back = cr * n, S = ends.length;
  for (let c = cr; c < classes; c++) {
    const lo = c === cr ? r + 4 : start[c], end = start[c + 1];
    acc4.fill(0);
    if (c === cr) {
      for (let q = 0; q < 3; q++) {
        if (byTwo) blockPrefix2(xs, d, o + q * d, r + q + 1, r + 4, sums, back, classes * n, ends, acc);
        else blockPrefix(xs, d, o + q * d, r + q + 1, r + 4, sums, back, classes * n, ends, acc);
        for (let t = 0; t < S; t++) acc4[t * 4 + q] = acc[t];
      }
    }
    if (k) k.sil4prefix(XS, d, o, lo, end, SUMS, back, classes * n, ENDS, S, ACC4, T);
    else if (byTwo) quadPrefix2(xs, d, o, lo, end, sums, back, classes * n, ends, acc4);
    else quadPrefix(xs, d, o, lo, end, sums, back, classes * n, ends, acc4);
    for (let t = 0; t < S; t++) for (let q = 0; q < 4; q++) sums[(t * classes + c) * n + r + q] += acc4[t * 4 + q];
  }
}

/** out [n] ← prefix t's silhouettes from the sums, in the caller's order (rowOf); 0 stays for a cluster of one */
function silhouettes(
  sums: Float64Array, t: number, classes: number, n: number, start: Int32Array, lab: Int32Array, rowOf: Int32Array, out: Float64Array,
): void {
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
}

// the pair kernels, small so that the JIT optimises each on its own: the distances from point `o` (an
// offset into xs [n, d]) to points lo..end−1, added to sums[back + q] and returned as a total. block2 and
// block5 (the suite's subsets: 5 neurons, and their PCA 2-D) hold point o in registers, the columns
// unrolled: each squared distance summed in column order from 0 as blockD's loop does, bit for bit
// (test/analysis/silhouette-fast.test.ts); ≈ 1.6× faster than blockD on 5 columns

// d's kernel: block2 or block5 where they apply, else blockD
function block(xs: Float64Array, d: number, o: number, lo: number, end: number, sums: Float64Array, back: number): number {
  return d === 2 ? block2(xs, o, lo, end, sums, back) : d === 5 ? block5(xs, o, lo, end, sums, back) : blockD(xs, d, o, lo, end, sums, back);
}

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

// the four-row kernels: rows at o, o + d, o + 2d, o + 3d of xs against points lo..end−1, each row's
// distance summed in column order from 0 as the one-row kernels do; acc[k] (row k's running total,
// prefix t's at acc[t·4 + k]) continues in increasing q, and sums[back + q] gains the four distances in
// row order: (((sums + d0) + d1) + d2) + d3, as four one-row passes would add them

function quadD(xs: Float64Array, d: number, o: number, lo: number, end: number, sums: Float64Array, back: number, acc: Float64Array): void {
  let a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
  const o1 = o + d, o2 = o1 + d, o3 = o2 + d;
  for (let q = lo, p = q * d; q < end; q++, p += d) {
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0, j = 0;
    for (; j + 2 <= d; j += 2) {
      const x = xs[p + j], y = xs[p + j + 1];
      const v0 = xs[o + j] - x, v1 = xs[o1 + j] - x, v2 = xs[o2 + j] - x, v3 = xs[o3 + j] - x;
      const w0 = xs[o + j + 1] - y, w1 = xs[o1 + j + 1] - y, w2 = xs[o2 + j + 1] - y, w3 = xs[o3 + j + 1] - y;
      s0 = s0 + v0 * v0 + w0 * w0; s1 = s1 + v1 * v1 + w1 * w1; s2 = s2 + v2 * v2 + w2 * w2; s3 = s3 + v3 * v3 + w3 * w3;
    }
    if (j < d) {
      const x = xs[p + j];
      const v0 = xs[o + j] - x, v1 = xs[o1 + j] - x, v2 = xs[o2 + j] - x, v3 = xs[o3 + j] - x;
      s0 += v0 * v0; s1 += v1 * v1; s2 += v2 * v2; s3 += v3 * v3;
    }
    const d0 = Math.sqrt(s0), d1 = Math.sqrt(s1), d2 = Math.sqrt(s2), d3 = Math.sqrt(s3);
    a0 += d0; a1 += d1; a2 += d2; a3 += d3;
    sums[back + q] = sums[back + q] + d0 + d1 + d2 + d3;
  }
  acc[0] = a0; acc[1] = a1; acc[2] = a2; acc[3] = a3;
}

function quad2(xs: Float64Array, o: number, lo: number, end: number, sums: Float64Array, back: number, acc: Float64Array): void {
  let a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
  const x00 = xs[o], x01 = xs[o + 1], x10 = xs[o + 2], x11 = xs[o + 3];
  const x20 = xs[o + 4], x21 = xs[o + 5], x30 = xs[o + 6], x31 = xs[o + 7];
  for (let q = lo, p = 2 * lo; q < end; q++, p += 2) {
    const y0 = xs[p], y1 = xs[p + 1];
    const e00 = x00 - y0, e01 = x01 - y1, e10 = x10 - y0, e11 = x11 - y1;
    const e20 = x20 - y0, e21 = x21 - y1, e30 = x30 - y0, e31 = x31 - y1;
    const d0 = Math.sqrt(e00 * e00 + e01 * e01), d1 = Math.sqrt(e10 * e10 + e11 * e11);
    const d2 = Math.sqrt(e20 * e20 + e21 * e21), d3 = Math.sqrt(e30 * e30 + e31 * e31);
    a0 += d0; a1 += d1; a2 += d2; a3 += d3;
    sums[back + q] = sums[back + q] + d0 + d1 + d2 + d3;
  }
  acc[0] = a0; acc[1] = a1; acc[2] = a2; acc[3] = a3;
}

function quad5(xs: Float64Array, o: number, lo: number, end: number, sums: Float64Array, back: number, acc: Float64Array): void {
  let a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
  for (let q = lo, p = 5 * lo; q < end; q++, p += 5) {
    const y0 = xs[p], y1 = xs[p + 1], y2 = xs[p + 2], y3 = xs[p + 3], y4 = xs[p + 4];
    let e0 = xs[o] - y0, e1 = xs[o + 1] - y1, e2 = xs[o + 2] - y2, e3 = xs[o + 3] - y3, e4 = xs[o + 4] - y4;
    const d0 = Math.sqrt(e0 * e0 + e1 * e1 + e2 * e2 + e3 * e3 + e4 * e4);
    e0 = xs[o + 5] - y0; e1 = xs[o + 6] - y1; e2 = xs[o + 7] - y2; e3 = xs[o + 8] - y3; e4 = xs[o + 9] - y4;
    const d1 = Math.sqrt(e0 * e0 + e1 * e1 + e2 * e2 + e3 * e3 + e4 * e4);
    e0 = xs[o + 10] - y0; e1 = xs[o + 11] - y1; e2 = xs[o + 12] - y2; e3 = xs[o + 13] - y3; e4 = xs[o + 14] - y4;
    const d2 = Math.sqrt(e0 * e0 + e1 * e1 + e2 * e2 + e3 * e3 + e4 * e4);
    e0 = xs[o + 15] - y0; e1 = xs[o + 16] - y1; e2 = xs[o + 17] - y2; e3 = xs[o + 18] - y3; e4 = xs[o + 19] - y4;
    const d3 = Math.sqrt(e0 * e0 + e1 * e1 + e2 * e2 + e3 * e3 + e4 * e4);
    a0 += d0; a1 += d1; a2 += d2; a3 += d3;
    sums[back + q] = sums[back + q] + d0 + d1 + d2 + d3;
  }
  acc[0] = a0; acc[1] = a1; acc[2] = a2; acc[3] = a3;
}

function quadPrefix(
  xs: Float64Array, d: number, o: number, lo: number, end: number, sums: Float64Array, back: number,
  stride: number, ends: Int32Array, acc: Float64Array,
): void {
  const S = ends.length, o1 = o + d, o2 = o1 + d, o3 = o2 + d;
  for (let q = lo; q < end; q++) {
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0, j = 0;
    const p = q * d;
    for (let t = 0, at = back + q; t < S; t++, at += stride) {
      for (const e = ends[t]; j < e; j++) {
        const x = xs[p + j];
        const v0 = xs[o + j] - x, v1 = xs[o1 + j] - x, v2 = xs[o2 + j] - x, v3 = xs[o3 + j] - x;
        s0 += v0 * v0; s1 += v1 * v1; s2 += v2 * v2; s3 += v3 * v3;
      }
      const d0 = Math.sqrt(s0), d1 = Math.sqrt(s1), d2 = Math.sqrt(s2), d3 = Math.sqrt(s3), a = 4 * t;
      acc[a] += d0; acc[a + 1] += d1; acc[a + 2] += d2; acc[a + 3] += d3;
      sums[at] = sums[at] + d0 + d1 + d2 + d3;
    }
  }
}

function quadPrefix2(
  xs: Float64Array, d: number, o: number, lo: number, end: number, sums: Float64Array, back: number,
  stride: number, ends: Int32Array, acc: Float64Array,
): void {
  const S = ends.length, o1 = o + d, o2 = o1 + d, o3 = o2 + d;
  for (let q = lo; q < end; q++) {
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    const p = q * d;
    for (let t = 0, j = 0, at = back + q; t < S; t++, j += 2, at += stride) {
      const x = xs[p + j], y = xs[p + j + 1];
      const e00 = xs[o + j] - x, e01 = xs[o + j + 1] - y, e10 = xs[o1 + j] - x, e11 = xs[o1 + j + 1] - y;
      const e20 = xs[o2 + j] - x, e21 = xs[o2 + j + 1] - y, e30 = xs[o3 + j] - x, e31 = xs[o3 + j + 1] - y;
      s0 = s0 + e00 * e00 + e01 * e01; s1 = s1 + e10 * e10 + e11 * e11;
      s2 = s2 + e20 * e20 + e21 * e21; s3 = s3 + e30 * e30 + e31 * e31;
      const d0 = Math.sqrt(s0), d1 = Math.sqrt(s1), d2 = Math.sqrt(s2), d3 = Math.sqrt(s3), a = 4 * t;
      acc[a] += d0; acc[a + 1] += d1; acc[a + 2] += d2; acc[a + 3] += d3;
      sums[at] = sums[at] + d0 + d1 + d2 + d3;
    }
  }
}
