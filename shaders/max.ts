import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { ceilDiv, f32bits, header, main1d, WG, type GpuKernel } from './kernel.ts';
import { axisParams } from './sum.ts';

const layout = { size: 'u32', len: 'u32', inner: 'u32' } as const;

// one invocation per output, scanning the axis in order as the oracle does: a NaN wins and stops the scan
export const maxKernel: GpuKernel<{ axis: number }> = ([s], _, { axis }) => {
  const params = axisParams(s, axis);
  return {
    variant: '',
    source: () => wgsl`
${header(1, layout)}
${main1d}
  if (i >= params.size) { return; }
  let base = (i / params.inner) * params.len * params.inner + i % params.inner;
  var m = ${f32bits(0xff800000, 'len')}; // -inf
  for (var k = 0u; k < params.len; k++) {
    let v = a[base + k * params.inner];
    if (v != v) { m = v; break; }
    if (v > m) { m = v; }
  }
  out[i] = m;
}`,
    layout,
    params,
    workgroups: ceilDiv(params.size, WG),
  };
};
