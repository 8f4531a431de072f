import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { header, main1d, sizeOf, WG, type GpuKernel } from './kernel.ts';

const layout = { size: 'u32', seed: 'u32', step: 'u32', stream: 'u32', threshold: 'u32', scale: 'f32' } as const;

// the same integer hash as engine/ops/dropout-mask.ts (pcg4d, Jarzynski & Olano 2020): u32 arithmetic
// wraps in WGSL as Math.imul does, so the masks are bit-identical. The input only gives the shape.
export const dropoutMaskKernel: GpuKernel<{ p: number; seed: number; step: number; stream: number }> =
  (_, out, { p, seed, step, stream }) => ({
    variant: '',
    source: () => wgsl`
${header(0, layout)}
fn pcg4d(v0: vec4<u32>) -> vec4<u32> {
  var v = v0 * 1664525u + 1013904223u;
  v.x += v.y * v.w; v.y += v.z * v.x; v.z += v.x * v.y; v.w += v.y * v.z;
  v ^= v >> vec4<u32>(16u);
  v.x += v.y * v.w; v.y += v.z * v.x; v.z += v.x * v.y; v.w += v.y * v.z;
  return v;
}
${main1d}
  if (i >= params.size) { return; }
  let h = pcg4d(vec4<u32>(i, params.step, params.seed, params.stream)).x;
  out[i] = select(0.0, params.scale, (h >> 8u) >= params.threshold);
}`,
    layout,
    // threshold and scale as the oracle computes them (dropThreshold, keepScale)
    params: { size: sizeOf(out), seed, step, stream, threshold: Math.round(p * 2 ** 24), scale: Math.fround(1 / (1 - p)) },
    workgroups: Math.ceil(sizeOf(out) / WG),
    bind: [],
  });
