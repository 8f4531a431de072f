import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { ceilDiv, header, WG, type GpuKernel } from './kernel.ts';

/**
 * the geometry every conv kernel shares: x [n, c, h, w], w [o, c, kh, kw], y/dy [n, o, oh, ow], zero
 * padding `pad` on each side, `stride` in both directions
 */
export const convLayout = {
  n: 'u32', c: 'u32', h: 'u32', w: 'u32', o: 'u32', oh: 'u32', ow: 'u32', kh: 'u32', kw: 'u32', stride: 'u32', pad: 'u32',
} as const;

export const convParams = (x: readonly number[], w: readonly number[], y: readonly number[], stride: number, pad: number) => ({
  n: x[0], c: x[1], h: x[2], w: x[3], o: w[0], oh: y[2], ow: y[3], kh: w[2], kw: w[3], stride, pad,
});

/** outputs per invocation along the output's rows (columns j … j+3) and across its channels (o … o+3) */
const BJ = 4, BO = 4;

/**
 * y = conv2d(x, w) + b. One invocation: 4 output channels × 4 neighbouring columns of one output row, in
 * four vec4 accumulators (one per column, lanes over the channels): each tap (c, kh, kw) loads 4 weights
 * and 4 x values for 16 multiply-adds. a = x, b = w, c = bias. Rows of taps in the padding are skipped
 * (uniform over the invocation's 16 outputs), column taps in it read 0; weights of channels past `o`
 * are clamped loads whose sums are never stored. Invocations are numbered with the column block fastest
 * (neighbours read neighbouring x), then the row, the channel block and the image; a 1-D count the
 * backend splits over x and y past 65 535 workgroups. Per invocation C·KH·(KW + 1) + C loop steps (under
 * Mesa's 65 535-step limit for any C·KH·KW up to ~50 000). This is variant 'loops'; where conv2dV4Fits
 * (stride 1, no padding, rows of whole vec4s) the default is 'v4' below, much faster on CPU rasterisers.
 */
export const conv2dKernel: GpuKernel<{ stride: number; padding: number }> = ([x, w], y, { stride, padding }, ctx) => {
  const params = convParams(x, w, y, stride, padding);
  if (ctx.variant !== 'loops' && conv2dV4Fits(x, w, y, stride, padding)) return conv2dV4(x, w, y, ctx.maxWorkgroupsPerDimension);
  const invocations = y[0] * ceilDiv(y[1], BO) * y[2] * ceilDiv(y[3], BJ);
  return {
    variant: 'loops',
    source: () => wgsl`
${header(3, convLayout)}

// x[row + v] for column v of an image row, 0 in the padding
fn tap(row: u32, v: i32) -> f32 {
  let inside = v >= 0 && v < i32(params.w);
  return select(0.0, a[row + u32(clamp(v, 0, i32(params.w) - 1))], inside);
}

// columns j of output row (n, o0 … o0+3, i) from the lanes of v, plus the bias; guarded
fn store(nb: u32, o0: u32, i: u32, j: u32, v: vec4<f32>) {
  if (j >= params.ow) { return; }
  let at = ((nb + o0) * params.oh + i) * params.ow + j;
  let plane = params.oh * params.ow;
  out[at] = v.x + c[o0];
  if (o0 + 1u < params.o) { out[at + plane] = v.y + c[o0 + 1u]; }
  if (o0 + 2u < params.o) { out[at + 2u * plane] = v.z + c[o0 + 2u]; }
  if (o0 + 3u < params.o) { out[at + 3u * plane] = v.w + c[o0 + 3u]; }
}

@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let id = gid.x + gid.y * nwg.x * ${WG}u;
  let jbs = (params.ow + ${BJ - 1}u) / ${BJ}u;
  let obs = (params.o + ${BO - 1}u) / ${BO}u;
  if (id >= params.n * obs * params.oh * jbs) { return; }
  let j0 = (id % jbs) * ${BJ}u;
  var t = id / jbs;
  let i = t % params.oh;
  t = t / params.oh;
  let o0 = (t % obs) * ${BO}u;
  let n = t / obs;
  let ol = params.o - 1u;
  let taps = params.c * params.kh * params.kw;
  let w0 = min(o0, ol) * taps; let w1 = min(o0 + 1u, ol) * taps;
  let w2 = min(o0 + 2u, ol) * taps; let w3 = min(o0 + 3u, ol) * taps;
  let s = i32(params.stride);
  let top = i32(i) * s - i32(params.pad);
  let left = i32(j0) * s - i32(params.pad);
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  for (var ci = 0u; ci < params.c; ci++) {
    let plane = (n * params.c + ci) * params.h;
    for (var ky = 0u; ky < params.kh; ky++) {
      let yy = top + i32(ky);
      if (yy < 0 || yy >= i32(params.h)) { continue; }
      let row = (plane + u32(yy)) * params.w;
      let wr = (ci * params.kh + ky) * params.kw;
      for (var kx = 0u; kx < params.kw; kx++) {
        let wi = wr + kx;
        let wv = vec4<f32>(b[w0 + wi], b[w1 + wi], b[w2 + wi], b[w3 + wi]);
        let v = left + i32(kx);
        acc0 += tap(row, v) * wv;
        acc1 += tap(row, v + s) * wv;
        acc2 += tap(row, v + 2 * s) * wv;
        acc3 += tap(row, v + 3 * s) * wv;
      }
    }
  }
  let nb = n * params.o;
  store(nb, o0, i, j0, acc0);
  store(nb, o0, i, j0 + 1u, acc1);
  store(nb, o0, i, j0 + 2u, acc2);
  store(nb, o0, i, j0 + 3u, acc3);
}`,
    layout: convLayout,
    params,
    workgroups: ceilDiv(invocations, WG),
  };
};


/**
 * the bindings of a 'v4' kernel: `vec4s` says which bindings (0 … inputs, the output last) are read or
 * written as array<vec4<f32>>, the rest as array<f32>; then the Params struct of `layout`
 */
export function header4(inputs: number, vec4s: readonly boolean[], layout: Parameters<typeof header>[1]): string {
  const names = ['a', 'b', 'c', 'd'];
  const t = (k: number) => (vec4s[k] ? 'array<vec4<f32>>' : 'array<f32>');
  const plain = header(inputs, layout).split('\n').filter((l) => !/var<storage/.test(l));
  return [
    ...Array.from({ length: inputs }, (_, k) => `@group(0) @binding(${k}) var<storage, read> ${names[k]}: ${t(k)};`),
    `@group(0) @binding(${inputs}) var<storage, read_write> out: ${t(inputs)};`,
    ...plain,
  ].join('\n');
}

/**
 * element `k` (a compile-time offset) of a vec4 array read from an aligned base: the generator of the
 * 'v4' kernels asks for scalars by offset and gets `w3.y` style expressions; each vec4 is loaded once
 * (its `let` line goes into `loads` just before its first use)
 */
export class Vec4Reader {
  private seen = new Set<number>();
  /** `loads`: where the `let` lines go, each just before the first line that uses it */
  constructor(private readonly array: string, private readonly base: string, private readonly prefix: string, readonly loads: string[] = []) {}
  at(k: number): string {
    const v = Math.floor(k / 4);
    if (!this.seen.has(v)) { this.seen.add(v); this.loads.push(`let ${this.prefix}${v} = ${this.array}[${this.base} + ${v}u];`); }
    return `${this.prefix}${v}.${'xyzw'[k % 4]}`;
  }
}

/** `count` workgroups as [x, y, z] with x, y ≤ maxDim (the kernel's linear index: wid.x + wid.y·nwg.x) */
export function splitGrid(count: number, z: number, maxDim: number): [number, number, number] {
  if (count <= maxDim) return [count, 1, z];
  const y = Math.ceil(count / maxDim);
  return [Math.ceil(count / y), y, z];
}

/** input channels a 'v4' forward step takes together so that every weight offset is a multiple of 4 from an aligned base */
const channelGroup = (C: number, KK: number): number => { const g = 4 / gcd(KK, 4); return C <= g ? C : g; };
const gcd = (a: number, b: number): number => (b ? gcd(b, a % b) : a);

/** the 'v4' forward kernel's conditions: stride 1, no padding, rows and weights in whole vec4s */
export function conv2dV4Fits(x: readonly number[], w: readonly number[], y: readonly number[], stride: number, padding: number): boolean {
  const [, C, , W] = x, [O, , KH, KW] = w, KK = KH * KW;
  return stride === 1 && padding === 0 && W % 4 === 0 && y[3] % 4 === 0 && (O * C * KK) % 4 === 0 && C % channelGroup(C, KK) === 0;
}

/**
 * the 'v4' forward kernel (the default where conv2dV4Fits): made for CPU rasterisers (llvmpipe, lavapipe),
 * where every storage load is a loop over the 8 lanes of a SIMD instruction whether it reads 1 or 4
 * floats, so the cost is the number of load instructions. x, w and y are read and written as vec4s. One
 * invocation: 4 output channels (a block from the workgroup's z index) × 4 neighbouring columns of one
 * output row, in four vec4 accumulators (lanes over the columns). The geometry is compiled in: the
 * kernel rows, the taps and the channels of a group (so that every weight sits at a known offset from a
 * 16-byte aligned base) are unrolled into straight-line code; per group of G input channels and kernel
 * row, 2 vec4 loads of x, and the group's 4·G·KH·KW weights in G·KH·KW vec4 loads, for 16·G·KH·KW
 * multiply-adds (the 'loops' kernel: 8 scalar loads per 16). The sum per output is over c, kh, kw in
 * order, as the 'loops' kernel's. Weights of channels past O are loads past the end (clamped by the
 * implementation's bounds checks) that are never stored. Per invocation C / G loop steps.
 */
function conv2dV4(x: readonly number[], w: readonly number[], y: readonly number[], maxDim: number) {
  const [, C, H, W] = x, [O, , KH, KW] = w, [N, , OH, OW] = y;
  const KK = KH * KW, G = channelGroup(C, KK), JB = OW / 4, XV = Math.ceil((3 + KW) / 4);
  return {
    variant: `v4:${[C, H, W, O, KH, KW].join(',')}`,
    source: () => {
      const body: string[] = [];
      const wr = new Vec4Reader('b', 'wa', 'w', body);
      for (let r = 0; r < G; r++) {
        for (let ky = 0; ky < KH; ky++) {
          const off = (r * H * W + ky * W) / 4;
          const xs = Array.from({ length: XV }, (_, m) => `let x${r}_${ky}_${m} = a[xa + ${off + m}u];`);
          body.push(...xs);
          const xe = (u: number) => `x${r}_${ky}_${Math.floor(u / 4)}.${'xyzw'[u % 4]}`;
          for (let kx = 0; kx < KW; kx++) {
            const xv = kx % 4 === 0 ? `x${r}_${ky}_${kx / 4}` : `vec4<f32>(${[0, 1, 2, 3].map((j) => xe(j + kx)).join(', ')})`;
            for (let q = 0; q < 4; q++) {
              const wk = wr.at(q * C * KK + r * KK + ky * KW + kx);
              body.push(`acc${q} += ${xv} * ${wk};`);
            }
          }
        }
      }
      return `
${header4(3, [true, true, false, true], convLayout)}

@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let id = (wid.x + wid.y * nwg.x) * ${WG}u + lid;
  if (id >= params.n * ${OH * JB}u) { return; }
  let j0 = (id % ${JB}u) * 4u;
  let t = id / ${JB}u;
  let i = t % ${OH}u;
  let n = t / ${OH}u;
  let o0 = wid.z * 4u;
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  for (var c0 = 0u; c0 < ${C}u; c0 += ${G}u) {
    let wa = ((o0 * ${C}u + c0) * ${KK}u) / 4u;
    let xa = (((n * ${C}u + c0) * ${H}u + i) * ${W}u + j0) / 4u;
    ${body.join('\n    ')}
  }
  let at = ((n * ${O}u + o0) * ${OH}u + i) * ${OW / 4}u + j0 / 4u;
  out[at] = acc0 + c[o0];
  if (o0 + 1u < ${O}u) { out[at + ${OH * OW / 4}u] = acc1 + c[o0 + 1u]; }
  if (o0 + 2u < ${O}u) { out[at + ${2 * OH * OW / 4}u] = acc2 + c[o0 + 2u]; }
  if (o0 + 3u < ${O}u) { out[at + ${3 * OH * OW / 4}u] = acc3 + c[o0 + 3u]; }
}`;
    },
    layout: convLayout,
    params: convParams(x, w, y, 1, 0),
    workgroups: splitGrid(ceilDiv(N * OH * JB, WG), ceilDiv(O, 4), maxDim),
  };
}
