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
 * Mesa's 65 535-step limit for any C·KH·KW up to ~50 000).
 */
export const conv2dKernel: GpuKernel<{ stride: number; padding: number }> = ([x, w], y, { stride, padding }) => {
  const params = convParams(x, w, y, stride, padding);
  const invocations = y[0] * ceilDiv(y[1], BO) * y[2] * ceilDiv(y[3], BJ);
  return {
    variant: '',
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
