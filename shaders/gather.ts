import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { ceilDiv, main1d, sizeOf, WG, type GpuKernel } from './kernel.ts';

const layout = { size: 'u32', cols: 'u32', start: 'u32' } as const;

// one invocation per output element. `bytes`: the table is a dataset of u8 values packed four to a
// 32-bit word (bound as u32, so no float load can touch the bits) and each byte is decoded through a
// 256-entry table (float32(b / 255), computed on the host: WGSL division is not correctly rounded).
export const gatherKernel: GpuKernel<{ start: number; count: number; bytes: boolean }> = (_, out, { start, bytes }) => ({
  variant: bytes ? 'bytes' : 'f32',
  source: () => wgsl`
#if ${bytes}
@group(0) @binding(0) var<storage, read> table: array<u32>;
@group(0) @binding(1) var<storage, read> order: array<f32>;
@group(0) @binding(2) var<storage, read> lut: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
struct Params { size: u32, cols: u32, start: u32, }
@group(0) @binding(4) var<uniform> params: Params;
#else
@group(0) @binding(0) var<storage, read> table: array<f32>;
@group(0) @binding(1) var<storage, read> order: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
struct Params { size: u32, cols: u32, start: u32, }
@group(0) @binding(3) var<uniform> params: Params;
#endif
${main1d}
  if (i >= params.size) { return; }
  let row = u32(order[params.start + i / params.cols]);
  let at = row * params.cols + i % params.cols;
#if ${bytes}
  out[i] = lut[(table[at / 4u] >> (8u * (at % 4u))) & 0xffu];
#else
  out[i] = table[at];
#endif
}`,
  layout,
  params: { size: sizeOf(out), cols: out[1], start },
  workgroups: ceilDiv(sizeOf(out), WG),
  bind: bytes ? [0, 1, 2] : [0, 1],
});
