import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { header, main1d, sizeOf, WG, type GpuKernel } from './kernel.ts';

const layout = { size: 'u32', s: 'f32' } as const;

// s arrives as f32: the oracle multiplies by the double s and rounds once, so results may differ by 1 ulp
export const scaleKernel: GpuKernel<{ s: number }> = (_, out, { s }) => ({
  variant: '',
  source: () => wgsl`
${header(1, layout)}
${main1d}
  if (i >= params.size) { return; }
  out[i] = params.s * a[i];
}`,
  layout,
  params: { size: sizeOf(out), s },
  workgroups: Math.ceil(sizeOf(out) / WG),
});
