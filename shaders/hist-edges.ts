import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { numpyEdges, orderKeys, softFloat } from './f32-exact.ts';
import type { GpuKernel } from './kernel.ts';

const WGS = 128;
// `joint`: the shared range spans groups 0 .. joint-1 ('shared' is a WGSL reserved word)
const layout = { width: 'u32', groups: 'u32', joint: 'u32', bins: 'u32' } as const;

// one workgroup: invocation b ≤ G finds range b (group b's own extremes; b = G: over groups 0 .. shared-1)
// as order keys, then every invocation computes edges (b, i) in integer float32 arithmetic (f32-exact.ts).
// an empty or non-finite range gets NaN edges, as analysis/histogram.ts's Binner.
export const histEdgesKernel: GpuKernel<{ width: number; groups: number; shared: number; bins: number }> =
  (_, __, { width, groups, shared, bins }) => ({
    variant: '',
    source: () => wgsl`
@group(0) @binding(0) var<storage, read> sums: array<f32>;
@group(0) @binding(1) var<storage, read> idx: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;
struct Params { width: u32, groups: u32, joint: u32, bins: u32, }
@group(0) @binding(3) var<uniform> params: Params;
${orderKeys}
${softFloat}
${numpyEdges}
const WGS = ${WGS}u;
const NAN_BITS = 0x7fc00000u;
var<workgroup> lo: array<u32, ${WGS}>;
var<workgroup> hi: array<u32, ${WGS}>;

// folds group g's column extremes (rows 1 and 2 of sums [G, 4, w]) into keys
fn extremes(g: u32, keys: vec2<u32>) -> vec2<u32> {
  var k = keys;
  if (u32(idx[g + 1u]) == u32(idx[g])) { return k; }
  let w = params.width;
  for (var j = 0u; j < w; j++) {
    let a = bitcast<u32>(sums[(g * 4u + 1u) * w + j]);
    let b = bitcast<u32>(sums[(g * 4u + 2u) * w + j]);
    if (!isNanBits(a)) { k.x = min(k.x, orderKey(a)); }
    if (!isNanBits(b)) { k.y = max(k.y, orderKey(b)); }
  }
  return k;
}

@compute @workgroup_size(${WGS})
fn main(@builtin(local_invocation_index) lid: u32) {
  let G = params.groups;
  let B = params.bins;
  for (var b = lid; b <= G; b += WGS) {
    var k = vec2<u32>(0xffffffffu, 0u);
    if (b < G) {
      k = extremes(b, k);
    } else {
      for (var g = 0u; g < params.joint; g++) { k = extremes(g, k); }
    }
    lo[b % WGS] = k.x;
    hi[b % WGS] = k.y;
  }
  workgroupBarrier();
  // G + 1 ≤ WGS ranges (checked on the host), (G + 1)·(B + 1) edges
  for (var e = lid; e < (G + 1u) * (B + 1u); e += WGS) {
    let b = e / (B + 1u);
    let mn = fromKey(lo[b]);
    let mx = fromKey(hi[b]);
    var bits = NAN_BITS;
    if (lo[b] <= hi[b] && isFiniteBits(mn) && isFiniteBits(mx)) {
      bits = histEdge(histRange(mn, mx, B), e % (B + 1u), B);
    }
    out[e] = bits;
  }
}`,
    layout,
    params: { width, groups, joint: shared, bins },
    workgroups: 1,
  });

/** most ranges one hist-edges dispatch computes (groups + 1) */
export const HIST_EDGES_MAX_RANGES = WGS;
