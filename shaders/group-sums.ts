import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { orderKeys } from './f32-exact.ts';
import type { GpuKernel } from './kernel.ts';

/** invocations per workgroup of the group kernels (group-sums, group-spread) */
export const GROUP_WG = 128;

const layout = { width: 'u32', groups: 'u32' } as const;

/**
 * the column split of one group's rows over a workgroup, shared by group-sums and group-spread: a width
 * w ≤ GROUP_WG gives lanes = ⌊GROUP_WG / w⌋ invocations per column, invocation t reading column t % w at
 * every lanes-th row from lane t / w; a wider slot gives each invocation columns t, t + GROUP_WG, …
 * alone. Sums are taken in blocks of 32 values (the block's f32 sum is added to the running one), so a
 * column's partial sum carries ~(32 + n / 32) roundings instead of n.
 */
export const groupColumns = `
const WGS = ${GROUP_WG}u;
fn groupStart(g: u32) -> u32 { return u32(idx[g]); }
fn groupEnd(g: u32) -> u32 { return u32(idx[g + 1u]); }
// the row of the p-th position of the group lists
fn rowAt(p: u32) -> u32 { return u32(idx[params.groups + 1u + p]); }`;

// one workgroup per group g (the row lists of idx, see engine/ops/group-sums.ts); per column: Σx in f32
// blocks, min and max as order keys (exact; NaN skipped), and the count of x > 0
export const groupSumsKernel: GpuKernel<{ width: number; groups: number }> = (_, __, { width, groups }) => ({
  variant: '',
  source: () => wgsl`
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> idx: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
struct Params { width: u32, groups: u32, }
@group(0) @binding(3) var<uniform> params: Params;
${orderKeys}
${groupColumns}
struct Acc { s: f32, lo: u32, hi: u32, pos: u32 }
var<workgroup> pS: array<f32, ${GROUP_WG}>;
var<workgroup> pLo: array<u32, ${GROUP_WG}>;
var<workgroup> pHi: array<u32, ${GROUP_WG}>;
var<workgroup> pPos: array<u32, ${GROUP_WG}>;

// column j over positions first, first + stride, … < end
fn column(j: u32, first: u32, stride: u32, end: u32) -> Acc {
  let w = params.width;
  var a = Acc(0.0, 0xffffffffu, 0u, 0u);
  var p = first;
  loop {
    if (p >= end) { break; }
    var block = 0.0;
    for (var k = 0u; k < 32u && p < end; k++) {
      let v = x[rowAt(p) * w + j];
      let b = bitcast<u32>(v);
      block += v;
      if (!isNanBits(b)) {
        let key = orderKey(b);
        a.lo = min(a.lo, key);
        a.hi = max(a.hi, key);
        if (key > 0x80000000u) { a.pos += 1u; }
      }
      p += stride;
    }
    a.s += block;
  }
  return a;
}

fn write(g: u32, j: u32, a: Acc) {
  let w = params.width;
  let at = g * 4u * w + j;
  out[at] = a.s;
  // an empty group has no extremes: NaN (fromKey of the initial keys)
  out[at + w] = bitcast<f32>(fromKey(a.lo));
  out[at + 2u * w] = bitcast<f32>(fromKey(a.hi));
  out[at + 3u * w] = f32(a.pos);
}

@compute @workgroup_size(${GROUP_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let g = wid.x + wid.y * nwg.x;
  let live = g < params.groups;
  let w = params.width;
  var start = 0u;
  var end = 0u;
  if (live) { start = groupStart(g); end = groupEnd(g); }
  if (w <= WGS) {
    let lanes = WGS / w;
    var a = Acc(0.0, 0xffffffffu, 0u, 0u);
    if (live && lid < lanes * w) { a = column(lid % w, start + lid / w, lanes, end); }
    pS[lid] = a.s;
    pLo[lid] = a.lo;
    pHi[lid] = a.hi;
    pPos[lid] = a.pos;
  }
  workgroupBarrier();
  if (w <= WGS) {
    if (live && lid < w) {
      var a = Acc(0.0, 0xffffffffu, 0u, 0u);
      for (var l = 0u; l < WGS / w; l++) {
        let k = l * w + lid;
        a.s += pS[k];
        a.lo = min(a.lo, pLo[k]);
        a.hi = max(a.hi, pHi[k]);
        a.pos += pPos[k];
      }
      write(g, lid, a);
    }
  } else if (live) {
    for (var j = lid; j < w; j += WGS) { write(g, j, column(j, start, 1u, end)); }
  }
}`,
  layout,
  params: { width, groups },
  workgroups: groups,
});
