import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { ceilDiv, header, main1d, sizeOf, WG, type GpuKernel } from './kernel.ts';

const layout = { size: 'u32', cols: 'u32' } as const;

// one invocation per output element: 1 where the row's label equals the column index. A label that is
// not an integer in [0, cols) matches no column, so its row stays 0, as in the oracle.
export const oneHotKernel: GpuKernel<{ depth: number }> = (_, out, { depth }) => ({
  variant: '',
  source: () => wgsl`
${header(1, layout)}
${main1d}
  if (i >= params.size) { return; }
  out[i] = select(0.0, 1.0, a[i / params.cols] == f32(i % params.cols));
}`,
  layout,
  params: { size: sizeOf(out), cols: depth },
  workgroups: ceilDiv(sizeOf(out), WG),
});
