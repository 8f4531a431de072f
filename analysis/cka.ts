// linear centred kernel alignment (Kornblith, Norouzi, Lee & Hinton, "Similarity of neural network
// representations revisited", ICML 2019, eq. 5): computed through the feature Gram matrices, never the
// n × n sample Gram, in double; pure.
import type { HostTensor } from './forward-cache.ts';

/**
 * a representation with its columns centred, in double, stored feature-major: cols [d, n] (column j of
 * the representation is cols[j·n … j·n + n − 1]); `finite`: no NaN or ±Infinity in it
 */
export interface CentredRep { n: number; d: number; cols: Float64Array; selfNorm: number; finite: boolean }

/** a representation t [n, d] centred for linear CKA (share one across the pairs it is in: ckaMatrixCentred) */
export function centreRep(t: HostTensor, what = 'linearCka'): CentredRep {
  const n = t.shape[0], d = n ? t.data.length / n : 0;
  if (!Number.isInteger(d)) throw new RangeError(`${what}: ${t.data.length} values do not make ${n} rows`);
  const mean = new Float64Array(d); // [d]
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += t.data[i * d + j];
  for (let j = 0; j < d; j++) mean[j] /= n;
  const cols = new Float64Array(n * d); // [d, n]
  let finite = true;
  for (let j = 0; j < d; j++) {
    const m = mean[j], o = j * n;
    for (let i = 0; i < n; i++) {
      const v = t.data[i * d + j] - m;
      cols[o + i] = v;
      if (!Number.isFinite(v)) finite = false;
    }
  }
  // NOTE: a constant float32 column centres to exactly 0 (its sum and the division are exact in double)
  const c = { n, d, cols, selfNorm: 0, finite };
  c.selfNorm = Math.sqrt(frobenius2(cross(c, c, true), d, d));
  return c;
}

/**
 * aᵀb of centred a [n, da] and b [n, db] → [da, db] row-major: each entry the sum over the rows in row
 * order, from 0, of a[i, r]·b[i, c], the rows where a[i, r] = 0 left out (what adding their ±0 products
 * gives as well, unless b holds ±Infinity or NaN: then those rows are skipped one by one, as the sum was
 * always defined). `symmetric`: a = b, the upper triangle computed and mirrored (products commute).
 * Entries are computed 4 × 4 at a time, each its own sum in row order, so the blocking changes no bit.
 */
function cross(a: CentredRep, b: CentredRep, symmetric = false): Float64Array {
  const n = a.n, da = a.d, db = b.d, A = a.cols, B = b.cols;
  const g = new Float64Array(da * db); // [da, db]
  if (!(a.finite && b.finite)) {
    for (let r = 0; r < da; r++) {
      for (let c = symmetric ? r : 0; c < db; c++) {
        let s = 0;
        for (let i = 0; i < n; i++) { const v = A[r * n + i]; if (v !== 0) s += v * B[c * n + i]; }
        g[r * db + c] = s;
      }
    }
  } else {
    for (let r = 0; r < da; r += 4) {
      for (let c = symmetric ? r : 0; c < db; c += 4) {
        if (r + 4 <= da && c + 4 <= db) block4(A, B, n, r, c, g, db);
        else {
          for (let x = r; x < Math.min(r + 4, da); x++) {
            for (let y = c; y < Math.min(c + 4, db); y++) {
              let s = 0;
              const ao = x * n, bo = y * n;
              for (let i = 0; i < n; i++) s += A[ao + i] * B[bo + i];
              g[x * db + y] = s;
            }
          }
        }
      }
    }
  }
  if (symmetric) for (let r = 0; r < da; r++) for (let c = 0; c < r; c++) g[r * db + c] = g[c * db + r];
  return g;
}

/** g[r..r+3][c..c+3] = the 16 sums over i in order of A[r + x][i]·B[c + y][i] (feature-major columns of n) */
function block4(A: Float64Array, B: Float64Array, n: number, r: number, c: number, g: Float64Array, db: number): void {
  const a0 = r * n, a1 = a0 + n, a2 = a1 + n, a3 = a2 + n;
  const b0 = c * n, b1 = b0 + n, b2 = b1 + n, b3 = b2 + n;
  let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
  let s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
  for (let i = 0; i < n; i++) {
    const x0 = A[a0 + i], x1 = A[a1 + i], x2 = A[a2 + i], x3 = A[a3 + i];
    const y0 = B[b0 + i], y1 = B[b1 + i], y2 = B[b2 + i], y3 = B[b3 + i];
    s00 += x0 * y0; s01 += x0 * y1; s02 += x0 * y2; s03 += x0 * y3;
    s10 += x1 * y0; s11 += x1 * y1; s12 += x1 * y2; s13 += x1 * y3;
    s20 += x2 * y0; s21 += x2 * y1; s22 += x2 * y2; s23 += x2 * y3;
    s30 += x3 * y0; s31 += x3 * y1; s32 += x3 * y2; s33 += x3 * y3;
  }
  let o = r * db + c;
  g[o] = s00; g[o + 1] = s01; g[o + 2] = s02; g[o + 3] = s03; o += db;
  g[o] = s10; g[o + 1] = s11; g[o + 2] = s12; g[o + 3] = s13; o += db;
  g[o] = s20; g[o + 1] = s21; g[o + 2] = s22; g[o + 3] = s23; o += db;
  g[o] = s30; g[o + 1] = s31; g[o + 2] = s32; g[o + 3] = s33;
}

function frobenius2(g: Float64Array, rows: number, cols: number): number {
  let s = 0;
  for (let i = 0; i < rows * cols; i++) s += g[i] * g[i];
  return s;
}

function ckaCentred(x: CentredRep, y: CentredRep): number {
  if (x.n !== y.n) throw new RangeError(`linear CKA needs the same samples in both representations: ${x.n} rows vs ${y.n}`);
  // ‖YᵀX‖²_F: the same sum as ‖XᵀY‖²_F
  const num = frobenius2(cross(x, y), x.d, y.d);
  const den = x.selfNorm * y.selfNorm;
  return den > 0 ? num / den : NaN;
}

/**
 * linear CKA of two representations of the same n samples, x [n, p] and y [n, q] (row i of both is
 * sample i): with every column centred, ‖YᵀX‖²_F / (‖XᵀX‖_F · ‖YᵀY‖_F), in [0, 1]. Invariant to
 * orthogonal transforms and isotropic scaling of either side (and to adding a constant row), not to
 * other invertible linear maps. O(n·(p + q)²) time, O(p·q + p² + q²) beyond the centred copies.
 * NaN when either representation has zero variance in every column (e.g. a layer whose units are all
 * dead on these samples, or n < 2): similarity to a point is undefined.
 */
export function linearCka(x: HostTensor, y: HostTensor): number {
  return ckaCentred(centreRep(x, 'linearCka x'), centreRep(y, 'linearCka y'));
}

/**
 * linear CKA between every pair of representations of the same n samples, reps [m] of [n, d_k] →
 * [m, m], symmetric (each pair computed once), 1 on the diagonal, NaN in the row and column of a
 * representation with zero variance (the diagonal included)
 */
export function ckaMatrix(reps: HostTensor[]): number[][] {
  return ckaMatrixCentred(reps.map((r, k) => centreRep(r, `ckaMatrix reps[${k}]`)));
}

/** ckaMatrix of representations already centred (centreRep): one centring shared by every matrix a representation is in */
export function ckaMatrixCentred(cs: readonly CentredRep[]): number[][] {
  const m = cs.length;
  const out = Array.from({ length: m }, () => new Array<number>(m).fill(NaN)); // [m, m]
  for (let a = 0; a < m; a++) {
    if (cs[a].n !== cs[0].n) throw new RangeError(`ckaMatrix needs the same samples in every representation: reps[${a}] has ${cs[a].n} rows, reps[0] ${cs[0].n}`);
    out[a][a] = cs[a].selfNorm > 0 ? 1 : NaN;
    for (let b = 0; b < a; b++) out[a][b] = out[b][a] = ckaCentred(cs[b], cs[a]);
  }
  return out;
}
