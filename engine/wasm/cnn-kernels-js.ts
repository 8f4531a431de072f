// The kernels of engine/wasm/cnn-kernels.ts in plain JavaScript, over the same memory layout (byte offsets
// into one ArrayBuffer): the fallback where WebAssembly SIMD or wabt is missing. Same results bit for bit:
// each output element accumulates in f32 in the SIMD kernel's order (a product rounded to f32, the sum
// rounded by the Float32Array store), channel sums in f64 in the same order.
import type { CnnKernels } from './load.ts';

const f = Math.fround;

export function jsCnnKernels(buffer: ArrayBuffer): CnnKernels {
  const F = new Float32Array(buffer), I = new Int32Array(buffer), U = new Uint16Array(buffer), B8 = new Uint8Array(buffer);

  /** the first conv's walk over the stored pixels (conv_sparse_fwd / conv_sparse_bwd) */
  function sparseWalk(
    n: number, rows: number, rowptr: number, idx: number, val: number, lut: number, pyx: number,
    Ho: number, Wo: number, k: number, s: number, p: number,
    perSample: ((i: number) => void) | null, tap: (x: number, i: number, oy: number, ox: number, ky: number, kx: number) => void,
  ): void {
    for (let i = 0; i < n; i++) {
      perSample?.(i);
      const r = I[(rows >> 2) + i], e0 = I[(rowptr >> 2) + r], e1 = I[(rowptr >> 2) + r + 1];
      for (let e = e0; e < e1; e++) {
        const pix = U[(idx >> 1) + e], x = F[(lut >> 2) + B8[val + e]], pp = I[(pyx >> 2) + pix];
        const ty = (pp >>> 16) + p, tx = (pp & 65535) + p;
        let ky0 = Math.max(0, ty - (Ho - 1) * s);
        const ky1 = Math.min(k, ty + 1);
        if (ky0 >= ky1) continue;
        ky0 += (ty - ky0) % s;
        let kx0 = Math.max(0, tx - (Wo - 1) * s);
        const kx1 = Math.min(k, tx + 1);
        if (kx0 >= kx1) continue;
        kx0 += (tx - kx0) % s;
        let oy = ((ty - ky0) / s) | 0;
        const ox0 = ((tx - kx0) / s) | 0;
        for (let ky = ky0; ky < ky1; ky += s, oy--) {
          for (let kx = kx0, ox = ox0; kx < kx1; kx += s, ox--) tap(x, i, oy, ox, ky, kx);
        }
      }
    }
  }

  return {
    conv_sparse_fwd(n, rows, rowptr, idx, val, lut, pyx, W, bias, Z, Ho, Wo, Op, k, s, p) {
      const plane = Ho * Wo * Op, z0 = Z >> 2, w0 = W >> 2, b0 = bias >> 2;
      sparseWalk(n, rows, rowptr, idx, val, lut, pyx, Ho, Wo, k, s, p, (i) => {
        for (let q = 0; q < Ho * Wo; q++) F.copyWithin(z0 + i * plane + q * Op, b0, b0 + Op);
      }, (x, i, oy, ox, ky, kx) => {
        const z = z0 + i * plane + (oy * Wo + ox) * Op, w = w0 + (ky * k + k - 1 - kx) * Op;
        for (let o = 0; o < Op; o++) F[z + o] += f(x * F[w + o]);
      });
    },
    conv_sparse_bwd(n, rows, rowptr, idx, val, lut, pyx, dZ, Ho, Wo, Op, k, s, p, dW) {
      const plane = Ho * Wo * Op, z0 = dZ >> 2, w0 = dW >> 2;
      F.fill(0, w0, w0 + k * k * Op);
      sparseWalk(n, rows, rowptr, idx, val, lut, pyx, Ho, Wo, k, s, p, null, (x, i, oy, ox, ky, kx) => {
        const z = z0 + i * plane + (oy * Wo + ox) * Op, w = w0 + (ky * k + k - 1 - kx) * Op;
        for (let o = 0; o < Op; o++) F[w + o] += f(x * F[z + o]);
      });
    },
    conv_fwd(n, X, Hi, Wi, Ip, W, bias, Z, Ho, Wo, Op, k, s, p) {
      const x0 = X >> 2, w0 = W >> 2, b0 = bias >> 2;
      let z = Z >> 2;
      for (let i = 0; i < n; i++) {
        const xs = x0 + i * Hi * Wi * Ip;
        for (let oy = 0; oy < Ho; oy++) {
          const ky0 = Math.max(0, p - oy * s), ky1 = Math.min(k, Hi + p - oy * s);
          for (let ox = 0; ox < Wo; ox++, z += Op) {
            const kx0 = Math.max(0, p - ox * s), kx1 = Math.min(k, Wi + p - ox * s), seg = Math.max(0, kx1 - kx0) * Ip;
            for (let o = 0; o < Op; o++) {
              let acc = 0;
              for (let ky = ky0; ky < ky1; ky++) {
                const xp = xs + ((oy * s + ky - p) * Wi + ox * s + kx0 - p) * Ip, wp = w0 + (ky * k + kx0) * Ip * Op + o;
                for (let e = 0; e < seg; e++) acc = f(acc + f(F[xp + e] * F[wp + e * Op]));
              }
              F[z + o] = acc + F[b0 + o];
            }
          }
        }
      }
    },
    conv_bwd(n, X, Hi, Wi, Ip, Wb, dZ, Ho, Wo, Op, O, k, s, p, dW, dX) {
      const xsz = Hi * Wi * Ip, wos = k * k * Ip, x0 = X >> 2, wb0 = Wb >> 2, dw0 = dW >> 2, dx0 = dX >> 2;
      F.fill(0, dw0, dw0 + O * wos);
      if (dX) F.fill(0, dx0, dx0 + n * xsz);
      let z = dZ >> 2;
      for (let i = 0; i < n; i++) {
        for (let oy = 0; oy < Ho; oy++) {
          const ky0 = Math.max(0, p - oy * s), ky1 = Math.min(k, Hi + p - oy * s);
          for (let ox = 0; ox < Wo; ox++, z += Op) {
            const kx0 = Math.max(0, p - ox * s), kx1 = Math.min(k, Wi + p - ox * s), seg = Math.max(0, kx1 - kx0) * Ip;
            for (let o = 0; o < O; o++) {
              const dz = F[z + o];
              if (dz === 0) continue;
              for (let ky = ky0; ky < ky1; ky++) {
                const xo = i * xsz + ((oy * s + ky - p) * Wi + ox * s + kx0 - p) * Ip, wo = o * wos + (ky * k + kx0) * Ip;
                for (let b = 0; b < seg; b++) {
                  F[dw0 + wo + b] += f(dz * F[x0 + xo + b]);
                  if (dX) F[dx0 + xo + b] += f(dz * F[wb0 + wo + b]);
                }
              }
            }
          }
        }
      }
    },
    pool_fwd(n, X, Hi, Wi, C, k, s, Ho, Wo, P, arg) {
      const x0 = X >> 2;
      let out = P >> 2, a0 = arg >> 2;
      for (let i = 0; i < n; i++) {
        const xs = x0 + i * Hi * Wi * C;
        for (let oy = 0; oy < Ho; oy++) {
          for (let ox = 0; ox < Wo; ox++, out += C, a0 += C) {
            const base = xs + (oy * s * Wi + ox * s) * C;
            for (let ch = 0; ch < C; ch++) {
              let m = F[base + ch], a = 0;
              for (let ky = 0, t = 0; ky < k; ky++) {
                for (let kx = 0; kx < k; kx++, t++) {
                  const v = F[base + ch + (ky * Wi + kx) * C];
                  if (v > m || v !== v) { m = v; a = t; }
                }
              }
              F[out + ch] = m;
              I[a0 + ch] = a;
            }
          }
        }
      }
    },
    pool_bwd(n, dP, arg, Hi, Wi, C, k, s, Ho, Wo, dX) {
      const x0 = dX >> 2;
      F.fill(0, x0, x0 + n * Hi * Wi * C);
      let d0 = dP >> 2, a0 = arg >> 2;
      for (let i = 0; i < n; i++) {
        const xs = x0 + i * Hi * Wi * C;
        for (let oy = 0; oy < Ho; oy++) {
          for (let ox = 0; ox < Wo; ox++, d0 += C, a0 += C) {
            const base = xs + (oy * s * Wi + ox * s) * C;
            for (let ch = 0; ch < C; ch++) {
              const d = F[d0 + ch], a = I[a0 + ch];
              for (let ky = 0, t = 0; ky < k; ky++) {
                for (let kx = 0; kx < k; kx++, t++) {
                  const at = base + ch + (ky * Wi + kx) * C;
                  F[at] = F[at] + (a === t ? d : 0);
                }
              }
            }
          }
        }
      }
    },
    chan_sums(n, X, hw, C, Cr, out, div) {
      const o0 = out >> 2;
      let xp = X >> 2;
      for (let i = 0; i < n; i++, xp += hw * C) {
        for (let ch = 0; ch < Cr; ch++) {
          let acc = 0;
          for (let q = 0; q < hw; q++) acc += F[xp + q * C + ch];
          F[o0 + i * Cr + ch] = acc / div;
        }
      }
    },
  };
}
