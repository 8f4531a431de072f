// orthogonal Procrustes (Schönemann 1966): the orthogonal map that best carries one point set onto
// another, R = U Vᵀ from the SVD U Σ Vᵀ of aᵀb, the SVD by one-sided (Hestenes) Jacobi rotations,
// which keeps small singular values accurate; pure.

const EPS = 2 ** -52;

/**
 * SVD of a square m [k, k] (row-major) by one-sided Jacobi: rotations on the right orthogonalise the
 * columns of m, so m V = W with orthogonal columns; σ_j = ‖w_j‖ → w [k, k] (column j = σ_j u_j), v [k, k]
 */
function jacobiSvd(m: Float64Array, k: number): { w: Float64Array; v: Float64Array } {
  const w = Float64Array.from(m); // [k, k]
  const v = new Float64Array(k * k); // [k, k]
  for (let i = 0; i < k; i++) v[i * k + i] = 1;
  for (let sweep = 0; sweep < 60; sweep++) {
    let rotated = false;
    for (let p = 0; p < k - 1; p++) {
      for (let q = p + 1; q < k; q++) {
        let alpha = 0, beta = 0, gamma = 0;
        for (let r = 0; r < k; r++) {
          const wp = w[r * k + p], wq = w[r * k + q];
          alpha += wp * wp;
          beta += wq * wq;
          gamma += wp * wq;
        }
        // columns p and q already orthogonal to working precision
        if (gamma === 0 || Math.abs(gamma) <= EPS * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = Math.sign(zeta || 1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t), s = c * t;
        for (let r = 0; r < k; r++) {
          const wp = w[r * k + p], wq = w[r * k + q];
          w[r * k + p] = c * wp - s * wq;
          w[r * k + q] = s * wp + c * wq;
          const vp = v[r * k + p], vq = v[r * k + q];
          v[r * k + p] = c * vp - s * vq;
          v[r * k + q] = s * vp + c * vq;
        }
      }
    }
    if (!rotated) break;
  }
  return { w, v };
}

/**
 * the orthogonal R [k, k] minimising ‖a R − b‖_F for row-major a, b [n, k] (rows are matched points):
 * R = U Vᵀ with U Σ Vᵀ the SVD of aᵀb. This is plain orthogonal Procrustes: R may be a reflection
 * (det R = −1) when that fits better; no scaling or translation (centre the inputs first if wanted).
 * Where aᵀb is rank deficient (a or b confined to fewer than k dimensions, or aᵀb = 0) the minimiser is
 * not unique: on the undetermined directions R is completed towards the identity (the remaining right
 * singular vectors are kept as their own left ones, made orthogonal to the determined left ones), so
 * b = a gives the identity even then and aᵀb = 0 gives the identity.
 */
export function procrustesRotation(a: ArrayLike<number>, b: ArrayLike<number>, n: number, k: number): number[][] {
  if (a.length !== n * k || b.length !== n * k) throw new RangeError(`procrustesRotation: a has ${a.length} and b ${b.length} values, expected ${n}·${k}`);
  const m = new Float64Array(k * k); // [k, k] = aᵀb
  for (let i = 0; i < n; i++) {
    for (let r = 0; r < k; r++) {
      const ar = a[i * k + r];
      if (ar === 0) continue;
      for (let c = 0; c < k; c++) m[r * k + c] += ar * b[i * k + c];
    }
  }
  const { w, v } = jacobiSvd(m, k);
  const sigma = Array.from({ length: k }, (_, j) => {
    let s = 0;
    for (let r = 0; r < k; r++) s += w[r * k + j] ** 2;
    return Math.sqrt(s);
  });
  const tol = Math.max(...sigma, 0) * k * 64 * EPS;
  const u = new Float64Array(k * k); // [k, k], columns are left singular vectors
  const done: number[] = [];
  for (let j = 0; j < k; j++) {
    if (!(sigma[j] > tol)) continue;
    for (let r = 0; r < k; r++) u[r * k + j] = w[r * k + j] / sigma[j];
    done.push(j);
  }
  // complete: each undetermined u_j is v_j projected off the columns already set (Gram–Schmidt, twice
  // for orthogonality), normalised; when v_j lies mostly in their span, the standard basis vector that
  // keeps most of its length instead (one keeps at least 1/√k of it)
  const project = (x: number[]): number => {
    for (let pass = 0; pass < 2; pass++) {
      for (const d of done) {
        let dot = 0;
        for (let r = 0; r < k; r++) dot += u[r * k + d] * x[r];
        for (let r = 0; r < k; r++) x[r] -= dot * u[r * k + d];
      }
    }
    return Math.sqrt(x.reduce((s, t) => s + t * t, 0));
  };
  for (let j = 0; j < k; j++) {
    if (done.includes(j)) continue;
    let x = Array.from({ length: k }, (_, r) => v[r * k + j]);
    let norm = project(x);
    for (let e = 0; e < k && norm < 0.5; e++) {
      const y = Array.from({ length: k }, (_, r) => (r === e ? 1 : 0));
      const ny = project(y);
      if (ny > norm) { x = y; norm = ny; }
    }
    for (let r = 0; r < k; r++) u[r * k + j] = x[r] / norm;
    done.push(j);
  }
  // R = U Vᵀ
  return Array.from({ length: k }, (_, r) => Array.from({ length: k }, (_, c) => {
    let s = 0;
    for (let j = 0; j < k; j++) s += u[r * k + j] * v[c * k + j];
    return s;
  }));
}

/** a R for row-major a [n, k] and r [k, k] → [n, k] row-major */
export function rotate(a: ArrayLike<number>, n: number, k: number, r: number[][]): Float64Array {
  if (a.length !== n * k) throw new RangeError(`rotate: a has ${a.length} values, expected ${n}·${k}`);
  if (r.length !== k || r.some((row) => row.length !== k)) throw new RangeError(`rotate: r must be ${k}×${k}`);
  const out = new Float64Array(n * k); // [n, k]
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < k; c++) {
      let s = 0;
      for (let j = 0; j < k; j++) s += a[i * k + j] * r[j][c];
      out[i * k + c] = s;
    }
  }
  return out;
}
