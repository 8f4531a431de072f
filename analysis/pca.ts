// principal component analysis: covariance in double, symmetric eigen-decomposition by cyclic Jacobi
// rotations (exact enough and simple for the ≤ a few hundred columns analysed here); pure.
import type { HostTensor } from './forward-cache.ts';

/**
 * eigenvalues (descending) and unit eigenvectors of a symmetric matrix a [n, n] (row-major, not
 * modified), by cyclic Jacobi rotations → values [n], vectors [n, n] with vector i in row i
 */
export function symmetricEigen(a: ArrayLike<number>, n: number): { values: number[]; vectors: number[][] } {
  const m = Float64Array.from(a); // [n, n], rotated towards diagonal
  const v = new Float64Array(n * n); // [n, n], columns are eigenvectors
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  const sums = new Float64Array(2);
  for (let sweep = 0; sweep < 100; sweep++) {
    offAndDiagonal(m, n, sums);
    const off = sums[0], diag = sums[1];
    if (off <= 1e-30 * diag || off === 0) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q];
        if (apq === 0) continue;
        // rotation angle that zeroes m[p][q] (numerical recipes' stable form)
        const theta = (m[q * n + q] - m[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        rotate(m, v, n, p, q, c, s);
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => m[j * n + j] - m[i * n + i] || i - j);
  return {
    values: order.map((i) => m[i * n + i]),
    vectors: order.map((i) => Array.from({ length: n }, (_, k) => v[k * n + i])),
  };
}

// The loops below are functions of their own, as the ones in pca are: V8 compiles a hot loop inside a
// big function by compiling the whole function again for that loop (on-stack replacement), once per loop,
// per thread, and code compiled so stops (deoptimizes) at every call that reaches code after the loop
// that had not run yet. Small functions that end with their hot loop compile once, cheaply.

/** out[0] = Σ squares above the diagonal of m [n, n], out[1] = Σ squares on it (row by row) */
function offAndDiagonal(m: Float64Array, n: number, out: Float64Array): void {
  let off = 0, diag = 0;
  for (let p = 0; p < n; p++) {
    diag += m[p * n + p] ** 2;
    for (let q = p + 1; q < n; q++) off += m[p * n + q] ** 2;
  }
  out[0] = off;
  out[1] = diag;
}

/** the Jacobi rotation (c, s) in the plane (p, q): m's columns p, q, then its rows p, q, then v's columns p, q */
function rotate(m: Float64Array, v: Float64Array, n: number, p: number, q: number, c: number, s: number): void {
  for (let k = 0; k < n; k++) {
    const mkp = m[k * n + p], mkq = m[k * n + q];
    m[k * n + p] = c * mkp - s * mkq;
    m[k * n + q] = s * mkp + c * mkq;
  }
  for (let k = 0; k < n; k++) {
    const mpk = m[p * n + k], mqk = m[q * n + k];
    m[p * n + k] = c * mpk - s * mqk;
    m[q * n + k] = s * mpk + c * mqk;
  }
  for (let k = 0; k < n; k++) {
    const vkp = v[k * n + p], vkq = v[k * n + q];
    v[k * n + p] = c * vkp - s * vkq;
    v[k * n + q] = s * vkp + c * vkq;
  }
}

export interface Pca {
  /** column means [d] */
  mean: number[];
  /** principal axes [k, d], unit length; sign: each axis's largest-magnitude entry is positive (sklearn's svd_flip on Vᵀ) */
  components: number[][];
  /** variance along every axis, descending, with n − 1 in the denominator as sklearn [d] */
  explainedVariance: number[];
  /** explainedVariance / total variance [d] */
  explainedVarianceRatio: number[];
  /** centred data projected on the first k axes [n, k] */
  projected: HostTensor;
}

/** PCA of x [n, d] (rows are samples) keeping k components (sklearn's PCA(n_components=k).fit_transform) */
export function pca(x: HostTensor, k = 2): Pca {
  const n = x.shape[0], data = x.data, d = data.length / n;
  if (n < 2) throw new RangeError(`pca needs at least 2 samples, got ${n}`);
  if (k > d) throw new RangeError(`pca: ${k} components of ${d} columns`);
  const mean = columnMeans(data, n, d);
  const { values, vectors } = symmetricEigen(covariance(data, n, d, mean), d);
  const variance = values.map((v) => Math.max(v, 0));
  const total = variance.reduce((s, v) => s + v, 0);
  const components = vectors.slice(0, k).map((c) => {
    let big = 0;
    for (let j = 1; j < d; j++) if (Math.abs(c[j]) > Math.abs(c[big])) big = j;
    return c[big] < 0 ? c.map((v) => -v) : c;
  });
  const proj = new Float32Array(n * k); // [n, k]
  for (let c = 0; c < k; c++) projectOn(data, n, d, mean, Float64Array.from(components[c]), proj, k, c);
  return {
    mean: Array.from(mean), components, explainedVariance: variance,
    explainedVarianceRatio: variance.map((v) => (total > 0 ? v / total : 0)),
    projected: { shape: [n, k], data: proj },
  };
}

/** the column means of data [n, d]: each column's sum over the rows in order, / n */
function columnMeans(data: HostTensor['data'], n: number, d: number): Float64Array {
  const mean = new Float64Array(d); // [d]
  addRows(data, n, d, mean);
  for (let j = 0; j < d; j++) mean[j] /= n;
  return mean;
}

/** sum[j] += data[i, j] over the rows i of data [n, d] in order */
function addRows(data: HostTensor['data'], n: number, d: number, sum: Float64Array): void {
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) sum[j] += data[i * d + j];
}

/** the covariance [d, d] of data [n, d] about `mean`, / (n − 1): the upper triangle summed row by row (zeros skipped), then mirrored */
function covariance(data: HostTensor['data'], n: number, d: number, mean: Float64Array): Float64Array {
  const cov = new Float64Array(d * d); // [d, d]
  addOuterProducts(data, n, d, mean, cov);
  for (let a = 0; a < d; a++) for (let b = a; b < d; b++) cov[b * d + a] = cov[a * d + b] /= n - 1;
  return cov;
}

/** the upper triangle of cov [d, d] += each centred row of data [n, d] times itself, rows in order */
function addOuterProducts(data: HostTensor['data'], n: number, d: number, mean: Float64Array, cov: Float64Array): void {
  const row = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) row[j] = data[i * d + j] - mean[j];
    for (let a = 0; a < d; a++) {
      const ra = row[a];
      if (ra === 0) continue;
      for (let b = a; b < d; b++) cov[a * d + b] += ra * row[b];
    }
  }
}

/** column c of proj [n, k]: each centred row of data [n, d] · `axis` [d], summed in column order */
function projectOn(data: HostTensor['data'], n: number, d: number, mean: Float64Array, axis: Float64Array, proj: Float32Array, k: number, c: number): void {
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += (data[i * d + j] - mean[j]) * axis[j];
    proj[i * k + c] = s;
  }
}
