// The kernels of engine/wasm/mlp-kernels.ts in plain JavaScript, over the same memory layout (byte
// offsets into one ArrayBuffer): the fallback where WebAssembly SIMD or wabt is missing (a browser
// bundle, MLP_LENS_WASM=0). Same results bit for bit: each output element accumulates in f32 in the same
// order, a product rounded to f32 (Math.fround) and the sum rounded to f32 (stored into a Float32Array,
// or fround); an f64 sum of two f32 values rounds to the same f32 as an f32 add (53 ≥ 2·24 + 2 bits).
import type { MlpKernels } from './load.ts';

const f = Math.fround;

export function jsKernels(buffer: ArrayBuffer): MlpKernels {
  const F = new Float32Array(buffer), I = new Int32Array(buffer), U = new Uint16Array(buffer), B8 = new Uint8Array(buffer);
  return {
    // a row of C accumulates in place (a Float32Array rounds every sum), over p ascending as the SIMD lanes do
    mm(n, A, k, B, bias, C, m, skip) {
      const a0 = A >> 2, b0 = B >> 2, c0 = C >> 2, bi = bias >> 2;
      for (let i = 0; i < n; i++) {
        const c = c0 + i * m;
        F.fill(0, c, c + m);
        for (let p = 0; p < k; p++) {
          const x = F[a0 + i * k + p];
          if (skip && x === 0) continue;
          for (let j = 0, b = b0 + p * m; j < m; j++) F[c + j] += f(x * F[b + j]);
        }
        if (bias) for (let j = 0; j < m; j++) F[c + j] += F[bi + j];
      }
    },
    mm_sparse(n, rows, rowptr, idx, val, lut, B, bias, C, m) {
      const q0 = rows >> 2, r0 = rowptr >> 2, x0 = idx >> 1, l0 = lut >> 2, b0 = B >> 2, c0 = C >> 2, bi = bias >> 2;
      for (let i = 0; i < n; i++) {
        const c = c0 + i * m;
        F.fill(0, c, c + m);
        for (let e = I[r0 + I[q0 + i]], e1 = I[r0 + I[q0 + i] + 1]; e < e1; e++) {
          const x = F[l0 + B8[val + e]];
          for (let j = 0, b = b0 + U[x0 + e] * m; j < m; j++) F[c + j] += f(x * F[b + j]);
        }
        if (bias) for (let j = 0; j < m; j++) F[c + j] += F[bi + j];
      }
    },
    mm_tn(n, A, k, D, m, G) {
      const a0 = A >> 2, d0 = D >> 2, g0 = G >> 2;
      F.fill(0, g0, g0 + k * m);
      for (let i = 0; i < n; i++) {
        for (let p = 0; p < k; p++) {
          const x = F[a0 + i * k + p];
          if (x === 0) continue;
          for (let j = 0, g = g0 + p * m, d = d0 + i * m; j < m; j++) F[g + j] += f(x * F[d + j]);
        }
      }
    },
    mm_tn_sparse(n, rows, rowptr, idx, val, lut, k, D, m, G) {
      const q0 = rows >> 2, r0 = rowptr >> 2, x0 = idx >> 1, l0 = lut >> 2, d0 = D >> 2, g0 = G >> 2;
      F.fill(0, g0, g0 + k * m);
      for (let i = 0; i < n; i++) {
        for (let e = I[r0 + I[q0 + i]], e1 = I[r0 + I[q0 + i] + 1]; e < e1; e++) {
          const x = F[l0 + B8[val + e]];
          for (let j = 0, g = g0 + U[x0 + e] * m, d = d0 + i * m; j < m; j++) F[g + j] += f(x * F[d + j]);
        }
      }
    },
    colsum(n, D, m, out) {
      const d0 = D >> 2, o0 = out >> 2;
      for (let j = 0; j < m; j++) {
        let s = 0;
        for (let i = 0; i < n; i++) s = f(s + F[d0 + i * m + j]);
        F[o0 + j] = s;
      }
    },
    transpose(A, rows, cols, out) {
      const a0 = A >> 2, o0 = out >> 2;
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) F[o0 + c * rows + r] = F[a0 + r * cols + c];
    },
    relu(Z, H, count) {
      const z0 = Z >> 2, h0 = H >> 2;
      for (let q = 0; q < count; q++) { const z = F[z0 + q]; F[h0 + q] = z > 0 ? z : 0; }
    },
    relu_back(dH, Z, dZ, count) {
      const g0 = dH >> 2, z0 = Z >> 2, o0 = dZ >> 2;
      for (let q = 0; q < count; q++) F[o0 + q] = F[g0 + q] * (F[z0 + q] > 0 ? 1 : 0);
    },
    sgd(p, g, v, count, lr, mu, wd, first, sq) {
      const p0 = p >> 2, g0 = g >> 2, v0 = v >> 2;
      const nlr = -f(lr), muf = f(mu), wdf = f(wd);
      // Σ g² in f64 in the SIMD kernel's order: lanes 0, 1, 2, 3 of each vector, then the tail
      if (sq) {
        const lanes = [0, 0, 0, 0], vec = count & ~3;
        let tail = 0;
        for (let q = 0; q < count; q++) {
          const gq = F[g0 + q];
          if (q < vec) lanes[q & 3] += gq * gq; else tail += gq * gq;
        }
        new Float64Array(buffer, sq, 1)[0] = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + tail;
      }
      let probe = 0;
      for (let q = 0; q < count; q++) {
        const pq = F[p0 + q];
        let d = F[g0 + q];
        if (wdf !== 0) d = f(d + f(wdf * pq));
        if (muf !== 0) {
          if (!first) d = f(f(muf * F[v0 + q]) + d);
          F[v0 + q] = d;
        }
        const np = f(pq + f(nlr * d));
        F[p0 + q] = np;
        probe += np * 0;
      }
      return probe;
    },
    probe(x, count) {
      const x0 = x >> 2;
      let probe = 0;
      for (let q = 0; q < count; q++) probe += F[x0 + q] * 0;
      return probe;
    },
  };
}
