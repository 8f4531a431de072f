import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { ceilDiv, header, WG, type GpuKernel } from './kernel.ts';
import { convLayout, convParams, header4, splitGrid } from './conv2d.ts';

/**
 * dw[o, c, kh, kw] = Σ_{n, i, j} dy[n, o, i, j]·x[n, c, i·s + kh − p, j·s + kw − p]: few outputs, long sums
 * (N·OH·OW terms, 36 864 for the reference CNN's first layer), so one workgroup of 64 per block of
 * 4 output channels × 4 neighbouring kw of one (c, kh): invocation l takes the dy rows (n, i) = l, l + 64, …,
 * and for each column j loads 4 x values (kw … kw+3) and 4 dy values (o … o+3) for 16 multiply-adds into
 * four vec4 accumulators (one per o, lanes over kw); then a tree over the 64 in workgroup memory, and
 * invocations 0 … 3 store one o each (lanes past KW or channels past O are computed, never stored).
 * a = x, b = dy. Workgroups numbered kw block fastest, then kh, c and the o block; a 1-D count the
 * backend splits past 65 535 (workgroups past the end return at once: uniform, before any barrier).
 * Per invocation about N·OH/64·(OW + 1) loop steps: under Mesa's 65 535-step limit while N·OH·OW < ~4 M.
 * This is variant 'loops'; 'v4' below is the default where it applies (much faster on CPU rasterisers).
 */
export const conv2dWeightGradKernel: GpuKernel<{ stride: number; padding: number }> = ([x, dy], dw, { stride, padding }, ctx) => {
  const params = convParams(x, dw, dy, stride, padding);
  if (ctx.variant !== 'loops' && stride === 1 && padding === 0 && x[3] % 4 === 0 && dy[3] % 4 === 0 && dy[3] <= 64 && dw[3] <= 8) {
    return conv2dWeightGradV4(x, dy, dw, ctx.maxWorkgroupsPerDimension);
  }
  const groups = ceilDiv(dw[0], 4) * dw[1] * dw[2] * ceilDiv(dw[3], 4);
  return {
    variant: 'loops',
    source: () => wgsl`
${header(2, convLayout)}

var<workgroup> part: array<vec4<f32>, ${4 * WG}>;

// x[row + v] for column v of an image row, 0 in the padding
fn tap(row: u32, v: i32) -> f32 {
  let inside = v >= 0 && v < i32(params.w);
  return select(0.0, a[row + u32(clamp(v, 0, i32(params.w) - 1))], inside);
}

@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let g = wid.x + wid.y * nwg.x;
  let kbs = (params.kw + 3u) / 4u;
  let obs = (params.o + 3u) / 4u;
  if (g >= obs * params.c * params.kh * kbs) { return; }
  let kx0 = (g % kbs) * 4u;
  var t = g / kbs;
  let ky = t % params.kh;
  t = t / params.kh;
  let ci = t % params.c;
  let o0 = (t / params.c) * 4u;
  let ol = params.o - 1u;
  let dyPlane = params.oh * params.ow;
  let s = i32(params.stride);
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  let rows = params.n * params.oh;
  for (var r = lid; r < rows; r += ${WG}u) {
    let n = r / params.oh;
    let i = r % params.oh;
    let yy = i32(i) * s + i32(ky) - i32(params.pad);
    if (yy < 0 || yy >= i32(params.h)) { continue; }
    let row = ((n * params.c + ci) * params.h + u32(yy)) * params.w;
    let d0 = ((n * params.o + min(o0, ol)) * params.oh + i) * params.ow;
    let d1 = ((n * params.o + min(o0 + 1u, ol)) * params.oh + i) * params.ow;
    let d2 = ((n * params.o + min(o0 + 2u, ol)) * params.oh + i) * params.ow;
    let d3 = ((n * params.o + min(o0 + 3u, ol)) * params.oh + i) * params.ow;
    var v = i32(kx0) - i32(params.pad);
    for (var j = 0u; j < params.ow; j++) {
      let xv = vec4<f32>(tap(row, v), tap(row, v + 1), tap(row, v + 2), tap(row, v + 3));
      acc0 += b[d0 + j] * xv;
      acc1 += b[d1 + j] * xv;
      acc2 += b[d2 + j] * xv;
      acc3 += b[d3 + j] * xv;
      v += s;
    }
  }
  part[4u * lid] = acc0;
  part[4u * lid + 1u] = acc1;
  part[4u * lid + 2u] = acc2;
  part[4u * lid + 3u] = acc3;
  workgroupBarrier();
  for (var half = ${WG / 2}u; half > 0u; half >>= 1u) {
    if (lid < half) {
      let there = 4u * (lid + half);
      part[4u * lid] += part[there];
      part[4u * lid + 1u] += part[there + 1u];
      part[4u * lid + 2u] += part[there + 2u];
      part[4u * lid + 3u] += part[there + 3u];
    }
    workgroupBarrier();
  }
  if (lid < 4u && o0 + lid < params.o) {
    let sum = part[lid];
    let at = (((o0 + lid) * params.c + ci) * params.kh + ky) * params.kw + kx0;
    out[at] = sum.x;
    if (kx0 + 1u < params.kw) { out[at + 1u] = sum.y; }
    if (kx0 + 2u < params.kw) { out[at + 2u] = sum.z; }
    if (kx0 + 3u < params.kw) { out[at + 3u] = sum.w; }
  }
}`,
    layout: convLayout,
    params,
    workgroups: groups,
  };
};


/**
 * the 'v4' weight gradient (the default for stride 1, no padding, x and dy rows in whole vec4s, OW ≤ 64
 * (a row is unrolled), KW ≤ 8):
 * for CPU rasterisers, where a storage load costs a loop over the SIMD lanes whether it reads 1 float or
 * 4 (see conv2d.ts's 'v4'). One workgroup of 64 per 4 output channels × one (c, kh): KW vec4
 * accumulators (one per kw, lanes over the 4 channels); invocation l takes the rows (n, i) = l, l + 64, …
 * and per row loads x's row (W/4 vec4s) and the 4 channels' dy rows (OW/4 vec4s each), for 4·OW·KW
 * multiply-adds, unrolled (the geometry is compiled in); then a tree over the 64 in workgroup memory and
 * invocations 0 … KW−1 store one kw each. dy rows of channels past O are loads past the end (clamped),
 * never stored. Per invocation ≈ N·OH/64 + 7 loop steps.
 */
function conv2dWeightGradV4(x: readonly number[], dy: readonly number[], dw: readonly number[], maxDim: number) {
  const [N, C, H, W] = x, [, O, OH, OW] = dy, [, , KH, KW] = dw;
  const OBS = Math.ceil(O / 4);
  const xe = (u: number) => `x${Math.floor(u / 4)}.${'xyzw'[u % 4]}`;
  const de = (q: number, j: number) => `d${q}_${Math.floor(j / 4)}.${'xyzw'[j % 4]}`;
  const body: string[] = [];
  for (let m = 0; m < W / 4; m++) body.push(`let x${m} = a[xr + ${m}u];`);
  for (let q = 0; q < 4; q++) for (let m = 0; m < OW / 4; m++) body.push(`let d${q}_${m} = b[dr + ${(q * OH * OW) / 4 + m}u];`);
  for (let j = 0; j < OW; j++) {
    body.push(`let dv${j} = vec4<f32>(${[0, 1, 2, 3].map((q) => de(q, j)).join(', ')});`);
    for (let kx = 0; kx < KW; kx++) body.push(`acc${kx} += dv${j} * ${xe(j + kx)};`);
  }
  return {
    variant: `v4:${[C, H, W, O, KH, KW].join(',')}`,
    source: () => `
${header4(2, [true, true, false], convLayout)}

var<workgroup> part: array<vec4<f32>, ${KW * WG}>;

@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let g = wid.x + wid.y * nwg.x;
  if (g >= ${OBS * C * KH}u) { return; }
  let ky = g % ${KH}u;
  let ci = (g / ${KH}u) % ${C}u;
  let o0 = (g / ${KH * C}u) * 4u;
${Array.from({ length: KW }, (_, k) => `  var acc${k} = vec4<f32>(0.0);`).join('\n')}
  let rows = params.n * ${OH}u;
  for (var r = lid; r < rows; r += ${WG}u) {
    let n = r / ${OH}u;
    let i = r % ${OH}u;
    let xr = ((n * ${C}u + ci) * ${H}u + i + ky) * ${W / 4}u;
    let dr = ((n * ${O}u + o0) * ${OH}u + i) * ${OW / 4}u;
    ${body.join('\n    ')}
  }
${Array.from({ length: KW }, (_, k) => `  part[${k * WG}u + lid] = acc${k};`).join('\n')}
  workgroupBarrier();
  for (var half = ${WG / 2}u; half > 0u; half >>= 1u) {
    if (lid < half) {
${Array.from({ length: KW }, (_, k) => `      part[${k * WG}u + lid] += part[${k * WG}u + lid + half];`).join('\n')}
    }
    workgroupBarrier();
  }
  if (lid < ${KW}u) {
    let sum = part[lid * ${WG}u];
    let at = ((o0 * ${C}u + ci) * ${KH}u + ky) * ${KW}u + lid;
    out[at] = sum.x;
    if (o0 + 1u < ${O}u) { out[at + ${C * KH * KW}u] = sum.y; }
    if (o0 + 2u < ${O}u) { out[at + ${2 * C * KH * KW}u] = sum.z; }
    if (o0 + 3u < ${O}u) { out[at + ${3 * C * KH * KW}u] = sum.w; }
  }
}`,
    layout: convLayout,
    params: convParams(x, dw, dy, 1, 0),
    workgroups: splitGrid(OBS * C * KH, 1, maxDim),
  };
}
