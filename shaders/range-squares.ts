import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import type { GpuKernel } from './kernel.ts';

const WGS = 128;
const layout = { width: 'u32', ranges: 'u32' } as const;

// one workgroup per range s: its values x[o_s·w .. o_{s+1}·w) are contiguous; each invocation sums the
// squares of every WGS-th value in f32 blocks of 32, then a tree in workgroup memory
export const rangeSquaresKernel: GpuKernel<{ width: number }> = ([, offsets], __, { width }) => ({
  variant: '',
  source: () => wgsl`
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> offsets: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
struct Params { width: u32, ranges: u32, }
@group(0) @binding(3) var<uniform> params: Params;
const WGS = ${WGS}u;
var<workgroup> part: array<f32, ${WGS}>;

@compute @workgroup_size(${WGS})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let s = wid.x + wid.y * nwg.x;
  let live = s < params.ranges;
  var acc = 0.0;
  if (live) {
    let end = u32(offsets[s + 1u]) * params.width;
    var p = u32(offsets[s]) * params.width + lid;
    loop {
      if (p >= end) { break; }
      var block = 0.0;
      for (var k = 0u; k < 32u && p < end; k++) {
        let v = x[p];
        block += v * v;
        p += WGS;
      }
      acc += block;
    }
  }
  part[lid] = acc;
  workgroupBarrier();
  for (var half = WGS / 2u; half > 0u; half >>= 1u) {
    if (lid < half) { part[lid] += part[lid + half]; }
    workgroupBarrier();
  }
  if (live && lid == 0u) { out[s] = part[0]; }
}`,
  layout,
  params: { width, ranges: offsets[0] - 1 },
  workgroups: offsets[0] - 1,
});
