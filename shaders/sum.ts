import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { ceilDiv, header, main1d, WG, type GpuKernel, type Shape } from './kernel.ts';

// the reduced axis seen as [outer, len, inner] (engine/shape.ts splitAxis): output i = (o, j) reads
// x[(o·len + k)·inner + j] for k < len; size = outer·inner outputs
const layout = { size: 'u32', len: 'u32', inner: 'u32' } as const;

export function axisParams(s: Shape, axis: number): { size: number; len: number; inner: number } {
  const outer = s.slice(0, axis).reduce((a, b) => a * b, 1), inner = s.slice(axis + 1).reduce((a, b) => a * b, 1);
  return { size: outer * inner, len: s[axis], inner };
}

/**
 * variants: 'seq' (one invocation per output, summing k in order, like the oracle) and 'wide' (one
 * workgroup per output: strided partial sums, then a tree in workgroup memory; for few long sums,
 * e.g. a mean over the batch). Both accumulate in f32, the oracle in double: sums differ slightly.
 */
export const sumKernel: GpuKernel<{ axis: number }> = ([s], _, { axis }, ctx) => {
  const params = axisParams(s, axis);
  const wide = ctx.variant ? ctx.variant === 'wide' : params.len >= 2 * WG && params.size <= 4096;
  return {
    variant: wide ? 'wide' : 'seq',
    source: () => wide ? wgsl`
${header(1, layout)}
var<workgroup> part: array<f32, ${WG}>;

@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  // one output per workgroup; \`live\` is uniform over the workgroup, so the barriers below are too
  let i = wid.x + wid.y * nwg.x;
  let live = i < params.size;
  var acc = 0.0;
  if (live) {
    let base = (i / params.inner) * params.len * params.inner + i % params.inner;
    for (var k = lid; k < params.len; k += ${WG}u) { acc += a[base + k * params.inner]; }
  }
  part[lid] = acc;
  workgroupBarrier();
  for (var half = ${WG / 2}u; half > 0u; half >>= 1u) {
    if (lid < half) { part[lid] += part[lid + half]; }
    workgroupBarrier();
  }
  if (live && lid == 0u) { out[i] = part[0]; }
}` : wgsl`
${header(1, layout)}
${main1d}
  if (i >= params.size) { return; }
  let base = (i / params.inner) * params.len * params.inner + i % params.inner;
  var acc = 0.0;
  for (var k = 0u; k < params.len; k++) { acc += a[base + k * params.inner]; }
  out[i] = acc;
}`,
    layout,
    params,
    workgroups: wide ? params.size : ceilDiv(params.size, WG),
  };
};
