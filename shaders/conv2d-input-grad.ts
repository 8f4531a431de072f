import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { ceilDiv, header, WG, type GpuKernel } from './kernel.ts';
import { convLayout, convParams, header4, splitGrid, Vec4Reader } from './conv2d.ts';

/**
 * dx = the transposed convolution of dy with w: dx[n, c, h, v] = Σ dy[n, o, i, j]·w[o, c, kh, kw] over
 * i·s + kh − p = h, j·s + kw − p = v. A gather (each dx element sums its own taps), so no atomics and a
 * fixed order. One invocation: 4 input channels × 4 neighbouring columns of one dx row, four vec4
 * accumulators (one per column, lanes over the channels). For each (o, kh) the dy row i = (h + p − kh)/s
 * is skipped when it is not a whole row inside dy (uniform over the invocation); for each kw, 4 weights
 * (channels c … c+3, clamped past C, never stored) and 4 dy values (0 where j is not whole or outside dy)
 * for 16 multiply-adds. a = dy, b = w. Numbered with the column block fastest, a 1-D count the backend
 * splits past 65 535 workgroups. Per invocation O·KH·(KW + 1) + O loop steps. Variant 's1' (stride 1):
 * the column test without the division and remainder.
 * This is variant 'loops'; 'v4' below is the default where it applies (much faster on CPU rasterisers).
 */
export const conv2dInputGradKernel: GpuKernel<{ stride: number; padding: number }> = ([dy, w], dx, { stride, padding }, ctx) => {
  const params = convParams(dx, w, dy, stride, padding);
  if (ctx.variant !== 'loops' && stride === 1 && padding === 0 && dx[3] % 4 === 0 && dy[3] % 4 === 0 && w[3] % 4 === 1 && (w[1] * w[2] * w[3]) % 4 === 0 && w[1] % 4 === 0) {
    return conv2dInputGradV4(dy, w, dx, ctx.maxWorkgroupsPerDimension);
  }
  const invocations = dx[0] * ceilDiv(dx[1], 4) * dx[2] * ceilDiv(dx[3], 4);
  return {
    variant: stride === 1 ? 'loops:s1' : 'loops',
    source: () => wgsl`
${header(2, convLayout)}

// dy[row + j] for the output column j whose tap kw lands on column t + p − kw = j·s: 0 when none does
fn tap(row: u32, t: i32) -> f32 {
#if ${stride === 1}
  let hit = t >= 0 && t < i32(params.ow);
  return select(0.0, a[row + u32(clamp(t, 0, i32(params.ow) - 1))], hit);
#else
  let s = i32(params.stride);
  let tc = max(t, 0);
  let j = u32(tc / s);
  let hit = t >= 0 && tc % s == 0 && j < params.ow;
  return select(0.0, a[row + min(j, params.ow - 1u)], hit);
#endif
}

// columns v of dx row (n, c0 … c0+3, h) from the lanes of x; guarded
fn store(n: u32, c0: u32, h: u32, v: u32, x: vec4<f32>) {
  if (v >= params.w) { return; }
  let plane = params.h * params.w;
  let at = ((n * params.c + c0) * params.h + h) * params.w + v;
  out[at] = x.x;
  if (c0 + 1u < params.c) { out[at + plane] = x.y; }
  if (c0 + 2u < params.c) { out[at + 2u * plane] = x.z; }
  if (c0 + 3u < params.c) { out[at + 3u * plane] = x.w; }
}

@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let id = gid.x + gid.y * nwg.x * ${WG}u;
  let vbs = (params.w + 3u) / 4u;
  let cbs = (params.c + 3u) / 4u;
  if (id >= params.n * cbs * params.h * vbs) { return; }
  let v0 = (id % vbs) * 4u;
  var t = id / vbs;
  let h = t % params.h;
  t = t / params.h;
  let c0 = (t % cbs) * 4u;
  let n = t / cbs;
  let cl = params.c - 1u;
  let kk = params.kh * params.kw;
  // weight index of (o = 0, channel c0 + q, 0, 0); channel stride within one o: kk
  let wc0 = min(c0, cl) * kk; let wc1 = min(c0 + 1u, cl) * kk;
  let wc2 = min(c0 + 2u, cl) * kk; let wc3 = min(c0 + 3u, cl) * kk;
  let s = i32(params.stride);
  let hp = i32(h) + i32(params.pad);
  let vp = i32(v0) + i32(params.pad);
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  for (var o = 0u; o < params.o; o++) {
    let wo = o * params.c * kk;
    for (var ky = 0u; ky < params.kh; ky++) {
      let ti = hp - i32(ky);
      if (ti < 0 || ti % s != 0 || ti / s >= i32(params.oh)) { continue; }
      let row = ((n * params.o + o) * params.oh + u32(ti / s)) * params.ow;
      let wr = wo + ky * params.kw;
      for (var kx = 0u; kx < params.kw; kx++) {
        let wi = wr + kx;
        let wv = vec4<f32>(b[wc0 + wi], b[wc1 + wi], b[wc2 + wi], b[wc3 + wi]);
        let tj = vp - i32(kx);
        acc0 += tap(row, tj) * wv;
        acc1 += tap(row, tj + 1) * wv;
        acc2 += tap(row, tj + 2) * wv;
        acc3 += tap(row, tj + 3) * wv;
      }
    }
  }
  store(n, c0, h, v0, acc0);
  store(n, c0, h, v0 + 1u, acc1);
  store(n, c0, h, v0 + 2u, acc2);
  store(n, c0, h, v0 + 3u, acc3);
}`,
    layout: convLayout,
    params,
    workgroups: ceilDiv(invocations, WG),
  };
};


/**
 * the 'v4' input gradient (the default for stride 1, no padding, dx and dy rows in whole vec4s, KW ≡ 1
 * mod 4, C a multiple of 4): for CPU rasterisers, where a storage load costs a loop over the SIMD lanes
 * whether it reads 1 float or 4 (see conv2d.ts's 'v4'). One invocation: 4 input channels (a block from
 * the workgroup's z index) × 4 neighbouring columns of one dx row, four vec4 accumulators (lanes over the
 * columns). Per output channel o: the 4 channels' KH·KW weights (aligned: 4·KH·KW/4 vec4 loads) and, per
 * kernel row, the dy row's (KW + 3)/4 vec4s that the taps reach (zero where the row or the vec4 lies
 * outside dy), for 16·KH·KW multiply-adds, unrolled (the geometry is compiled in). The sum per element is
 * over o, kh, kw in order, as the 'loops' kernel's. Per invocation O loop steps.
 */
function conv2dInputGradV4(dy: readonly number[], w: readonly number[], dx: readonly number[], maxDim: number) {
  const [N, O, OH, OW] = dy, [, C, KH, KW] = w, [, , H, W] = dx;
  const KK = KH * KW, VB = W / 4, DV = (KW + 3) / 4;
  return {
    variant: `v4:${[C, H, W, O, KH, KW].join(',')}`,
    source: () => {
      const body: string[] = [];
      const wr = new Vec4Reader('b', 'wa', 'w', body);
      for (let ky = 0; ky < KH; ky++) {
        body.push(`let ti${ky} = i32(h) - ${ky};`);
        body.push(`let rok${ky} = ti${ky} >= 0 && ti${ky} < ${OH};`);
        body.push(`let dr${ky} = (i32(n * ${O}u + o) * ${OH} + ti${ky}) * ${OW / 4} + vb - ${DV - 1};`);
        for (let m = 0; m < DV; m++) {
          // vec4 m covers dy columns v0 − (KW − 1) + 4m … + 3
          body.push(`let d${ky}_${m} = select(vec4<f32>(0.0), a[u32(max(dr${ky} + ${m}, 0))], rok${ky} && vb + ${m} >= ${DV - 1} && vb + ${m} < ${OW / 4 + DV - 1});`);
        }
        const de = (t: number) => `d${ky}_${Math.floor(t / 4)}.${'xyzw'[t % 4]}`;
        for (let kx = 0; kx < KW; kx++) {
          // column v0 + j − kx is element j − kx + KW − 1 of the loaded run
          const t0 = KW - 1 - kx;
          const dv = t0 % 4 === 0 ? `d${ky}_${t0 / 4}` : `vec4<f32>(${[0, 1, 2, 3].map((j) => de(t0 + j)).join(', ')})`;
          for (let r = 0; r < 4; r++) body.push(`acc${r} += ${dv} * ${wr.at(r * KK + ky * KW + kx)};`);
        }
      }
      return `
${header4(2, [true, true, true], convLayout)}

@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let id = (wid.x + wid.y * nwg.x) * ${WG}u + lid;
  if (id >= params.n * ${H * VB}u) { return; }
  let vb = i32(id % ${VB}u);
  let t = id / ${VB}u;
  let h = t % ${H}u;
  let n = t / ${H}u;
  let c0 = wid.z * 4u;
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  for (var o = 0u; o < ${O}u; o++) {
    let wa = ((o * ${C}u + c0) * ${KK}u) / 4u;
    ${body.join('\n    ')}
  }
  let at = ((n * ${C}u + c0) * ${H}u + h) * ${VB}u + u32(vb);
  out[at] = acc0;
  out[at + ${H * VB}u] = acc1;
  out[at + ${2 * H * VB}u] = acc2;
  out[at + ${3 * H * VB}u] = acc3;
}`;
    },
    layout: convLayout,
    params: convParams(dx, w, dy, 1, 0),
    workgroups: splitGrid(Math.ceil((N * H * VB) / WG), C / 4, maxDim),
  };
}
