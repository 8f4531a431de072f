import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { header, main1d, sizeOf, WG, type GpuKernel } from './kernel.ts';

const layout = { size: 'u32', value: 'f32' } as const;

// the input only gives the shape: nothing is bound but the output
export const fillKernel: GpuKernel<{ value: number }> = (_, out, { value }) => ({
  variant: '',
  source: () => wgsl`
${header(0, layout)}
${main1d}
  if (i >= params.size) { return; }
  out[i] = params.value;
}`,
  layout,
  params: { size: sizeOf(out), value },
  workgroups: Math.ceil(sizeOf(out) / WG),
  bind: [],
});
