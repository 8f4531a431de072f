import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { ceilDiv, header, main1d, WG, type GpuKernel } from './kernel.ts';
import { axisParams } from './sum.ts';

const layout = { size: 'u32', len: 'u32', inner: 'u32' } as const;

// one invocation per output, scanning in order with a strict > so the first index wins ties (torch.argmax)
export const argmaxKernel: GpuKernel<{ axis: number }> = ([s], _, { axis }) => {
  const params = axisParams(s, axis);
  return {
    variant: '',
    source: () => wgsl`
${header(1, layout)}
${main1d}
  if (i >= params.size) { return; }
  let base = (i / params.inner) * params.len * params.inner + i % params.inner;
  var best = 0u;
  var m = a[base];
  for (var k = 1u; k < params.len; k++) {
    let v = a[base + k * params.inner];
    if (v > m) { m = v; best = k; }
  }
  out[i] = f32(best);
}`,
    layout,
    params,
    workgroups: ceilDiv(params.size, WG),
  };
};
