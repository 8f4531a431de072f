// linear centred kernel alignment (Kornblith, Norouzi, Lee & Hinton, "Similarity of neural network
// representations revisited", ICML 2019, eq. 5): computed through the feature Gram matrices, never the
// n × n sample Gram, in double; pure.
import type { HostTensor } from './forward-cache.ts';

/** a representation with its columns centred, in double: data [n, d] row-major */
interface Centred { n: number; d: number; data: Float64Array; selfNorm: number }

function centre(t: HostTensor, what: string): Centred {
  const n = t.shape[0], d = n ? t.data.length / n : 0;
  if (!Number.isInteger(d)) throw new RangeError(`${what}: ${t.data.length} values do not make ${n} rows`);
  const mean = new Float64Array(d); // [d]
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += t.data[i * d + j];
  for (let j = 0; j < d; j++) mean[j] /= n;
  const data = new Float64Array(n * d); // [n, d]
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) data[i * d + j] = t.data[i * d + j] - mean[j];
  // NOTE: a constant float32 column centres to exactly 0 (its sum and the division are exact in double)
  return { n, d, data, selfNorm: Math.sqrt(frobenius2(cross(data, data, n, d, d, true), d, d)) };
}

/**
 * aᵀb of centred a [n, da] and b [n, db] → [da, db] row-major, accumulated row by row (outer products);
 * `symmetric`: a = b, only the upper triangle is accumulated and then mirrored
 */
function cross(a: Float64Array, b: Float64Array, n: number, da: number, db: number, symmetric = false): Float64Array {
  const g = new Float64Array(da * db); // [da, db]
  for (let i = 0; i < n; i++) {
    const ao = i * da, bo = i * db;
    for (let r = 0; r < da; r++) {
      const v = a[ao + r];
      if (v === 0) continue;
      const go = r * db;
      for (let c = symmetric ? r : 0; c < db; c++) g[go + c] += v * b[bo + c];
    }
  }
  if (symmetric) for (let r = 0; r < da; r++) for (let c = 0; c < r; c++) g[r * db + c] = g[c * db + r];
  return g;
}

function frobenius2(g: Float64Array, rows: number, cols: number): number {
  let s = 0;
  for (let i = 0; i < rows * cols; i++) s += g[i] * g[i];
  return s;
}

function ckaCentred(x: Centred, y: Centred): number {
  if (x.n !== y.n) throw new RangeError(`linear CKA needs the same samples in both representations: ${x.n} rows vs ${y.n}`);
  // ‖YᵀX‖²_F: the same sum as ‖XᵀY‖²_F
  const num = frobenius2(cross(x.data, y.data, x.n, x.d, y.d), x.d, y.d);
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
  return ckaCentred(centre(x, 'linearCka x'), centre(y, 'linearCka y'));
}

/**
 * linear CKA between every pair of representations of the same n samples, reps [m] of [n, d_k] →
 * [m, m], symmetric (each pair computed once), 1 on the diagonal, NaN in the row and column of a
 * representation with zero variance (the diagonal included)
 */
export function ckaMatrix(reps: HostTensor[]): number[][] {
  const cs = reps.map((r, k) => centre(r, `ckaMatrix reps[${k}]`));
  const m = cs.length;
  const out = Array.from({ length: m }, () => new Array<number>(m).fill(NaN)); // [m, m]
  for (let a = 0; a < m; a++) {
    if (cs[a].n !== cs[0].n) throw new RangeError(`ckaMatrix needs the same samples in every representation: reps[${a}] has ${cs[a].n} rows, reps[0] ${cs[0].n}`);
    out[a][a] = cs[a].selfNorm > 0 ? 1 : NaN;
    for (let b = 0; b < a; b++) out[a][b] = out[b][a] = ckaCentred(cs[b], cs[a]);
  }
  return out;
}
