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
    conv_bwd_dx(n, X, Hi, Wi, Ip, Wb, dZ, Ho, Wo, Op, O, k, s, p, dX, cnt, ent, tmp, pat) {
      const xsz = Hi * Wi * Ip, wos = k * k * Ip, seg = k * Ip, chs = n * Ho * Wo * 3, x0 = X >> 2, wb0 = Wb >> 2, dx0 = dX >> 2;
      const c0 = cnt >> 2, e0 = ent >> 2, t0 = tmp >> 2;
      if (dX) F.fill(0, dx0, dx0 + n * xsz);
      I.fill(0, c0, c0 + O);
      let z = dZ >> 2, pp = pat >> 2;
      for (let i = 0; i < n; i++) {
        for (let oy = 0; oy < Ho; oy++) {
          const ky0 = Math.max(0, p - oy * s), ky1 = Math.min(k, Hi + p - oy * s);
          for (let ox = 0; ox < Wo; ox++, z += Op) {
            const kx0 = Math.max(0, p - ox * s), kx1 = Math.min(k, Wi + p - ox * s);
            const xo = x0 + i * xsz + ((oy * s - p) * Wi + ox * s - p) * Ip;
            let xoff = xo, rs = Wi * Ip;
            if (!(ky0 === 0 && ky1 === k && kx0 === 0 && kx1 === k)) {
              xoff = pp; rs = seg;
              F.fill(0, pp, pp + k * seg);
              if (kx0 < kx1) for (let ky = ky0; ky < ky1; ky++) F.copyWithin(pp + ky * seg + kx0 * Ip, xo + ky * Wi * Ip + kx0 * Ip, xo + ky * Wi * Ip + kx1 * Ip);
              pp += k * seg;
            }
            let m = 0;
            for (let o = 0; o < O; o++) {
              const dz = F[z + o];
              if (dz === 0) continue;
              const ep = e0 + o * chs + 3 * I[c0 + o]++;
              F[ep] = dz; I[ep + 1] = xoff; I[ep + 2] = rs;
              F[t0 + 2 * m] = dz; I[t0 + 2 * m + 1] = o * wos;
              m++;
            }
            if (!dX || m === 0) continue;
            for (let ky = ky0; ky < ky1; ky++) {
              const dxp = dx0 + (xo - x0) + ky * Wi * Ip + kx0 * Ip, wo = wb0 + (ky * k + kx0) * Ip, len = Math.max(0, kx1 - kx0) * Ip;
              for (let b = 0; b < len; b++) {
                let acc = F[dxp + b];
                for (let q = 0; q < m; q++) acc = f(acc + f(F[t0 + 2 * q] * F[wo + I[t0 + 2 * q + 1] + b]));
                F[dxp + b] = acc;
              }
            }
          }
        }
      }
    },
    conv_bwd_dw(n, Ho, Wo, O, k, Ip, dW, cnt, ent) {
      const wos = k * k * Ip, seg = k * Ip, chs = n * Ho * Wo * 3, dw0 = dW >> 2, c0 = cnt >> 2, e0 = ent >> 2;
      for (let o = 0; o < O; o++) {
        const eb = e0 + o * chs, ee = eb + 3 * I[c0 + o];
        for (let ky = 0; ky < k; ky++) {
          const w = dw0 + o * wos + ky * seg;
          for (let b = 0; b < seg; b++) {
            let acc = 0;
            for (let ep = eb; ep < ee; ep += 3) acc = f(acc + f(F[ep] * F[I[ep + 1] + ky * I[ep + 2] + b]));
            F[w + b] = acc;
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
    pool_relu_bwd(n, dP, arg, C, k, Ho, Wo, dH, Z, dZ) {
      const Wi = Wo * k, h0 = dH >> 2, z0 = Z >> 2, g0 = dZ >> 2;
      let d0 = dP >> 2, a0 = arg >> 2;
      for (let i = 0; i < n; i++) {
        for (let oy = 0; oy < Ho; oy++) {
          for (let ox = 0; ox < Wo; ox++, d0 += C, a0 += C) {
            const base = ((i * Ho + oy) * k * Wi + ox * k) * C;
            for (let ch = 0; ch < C; ch++) {
              const d = F[d0 + ch], a = I[a0 + ch];
              for (let ky = 0, t = 0; ky < k; ky++) {
                for (let kx = 0; kx < k; kx++, t++) {
                  const at = base + ch + (ky * Wi + kx) * C, h = 0 + (a === t ? d : 0);
                  F[h0 + at] = h;
                  F[g0 + at] = h * (F[z0 + at] > 0 ? 1 : 0);
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
