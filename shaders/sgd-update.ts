import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { header, main1d, sizeOf, WG, type GpuKernel } from './kernel.ts';

const layout = { size: 'u32', s: 'f32' } as const;

// p + s·d with s = −lr, one dispatch per parameter (scale then add before). a = p, b = d. s arrives as
// f32 and the compiler may contract to a fused multiply-add: the oracle rounds s·d first, so results may
// differ by 1 ulp
export const sgdUpdateKernel: GpuKernel<{ lr: number }> = (_, out, { lr }) => ({
  variant: '',
  source: () => wgsl`
${header(2, layout)}
${main1d}
  if (i >= params.size) { return; }
  out[i] = a[i] + params.s * b[i];
}`,
  layout,
  params: { size: sizeOf(out), s: -lr },
  workgroups: Math.ceil(sizeOf(out) / WG),
});
