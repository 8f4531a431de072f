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
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0, diag = 0;
    for (let p = 0; p < n; p++) {
      diag += m[p * n + p] ** 2;
      for (let q = p + 1; q < n; q++) off += m[p * n + q] ** 2;
    }
    if (off <= 1e-30 * diag || off === 0) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q];
        if (apq === 0) continue;
        // rotation angle that zeroes m[p][q] (numerical recipes' stable form)
        const theta = (m[q * n + q] - m[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
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
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => m[j * n + j] - m[i * n + i] || i - j);
  return {
    values: order.map((i) => m[i * n + i]),
    vectors: order.map((i) => Array.from({ length: n }, (_, k) => v[k * n + i])),
  };
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
  const n = x.shape[0], d = x.data.length / n;
  if (n < 2) throw new RangeError(`pca needs at least 2 samples, got ${n}`);
  if (k > d) throw new RangeError(`pca: ${k} components of ${d} columns`);
  const mean = new Float64Array(d); // [d]
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += x.data[i * d + j];
  for (let j = 0; j < d; j++) mean[j] /= n;
  const cov = new Float64Array(d * d); // [d, d]
  const row = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) row[j] = x.data[i * d + j] - mean[j];
    for (let a = 0; a < d; a++) {
      const ra = row[a];
      if (ra === 0) continue;
      for (let b = a; b < d; b++) cov[a * d + b] += ra * row[b];
    }
  }
  for (let a = 0; a < d; a++) for (let b = a; b < d; b++) cov[b * d + a] = cov[a * d + b] /= n - 1;
  const { values, vectors } = symmetricEigen(cov, d);
  const variance = values.map((v) => Math.max(v, 0));
  const total = variance.reduce((s, v) => s + v, 0);
  const components = vectors.slice(0, k).map((c) => {
    let big = 0;
    for (let j = 1; j < d; j++) if (Math.abs(c[j]) > Math.abs(c[big])) big = j;
    return c[big] < 0 ? c.map((v) => -v) : c;
  });
  const proj = new Float32Array(n * k); // [n, k]
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < k; c++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += (x.data[i * d + j] - mean[j]) * components[c][j];
      proj[i * k + c] = s;
    }
  }
  return {
    mean: Array.from(mean), components, explainedVariance: variance,
    explainedVarianceRatio: variance.map((v) => (total > 0 ? v / total : 0)),
    projected: { shape: [n, k], data: proj },
  };
}
