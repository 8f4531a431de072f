import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { ceilDiv, f32bits, header, main1d, WG, type GpuKernel } from './kernel.ts';

const layout = { rows: 'u32', cols: 'u32' } as const;

/**
 * WGSL shared with the loss's gradient kernel: for row i of logits `a` [rows, cols], `base` (its first
 * element), `m` (its max: keeps exp from overflowing) and `s` = Σ exp(a − m)
 */
export const rowMaxAndSumExp = `  let base = i * params.cols;
  var m = a[base];
  for (var j = 1u; j < params.cols; j++) { m = max(m, a[base + j]); }
  var s = 0.0;
  for (var j = 0u; j < params.cols; j++) { s += exp(a[base + j] - m); }`;

// one invocation per row: loss = max + log Σ exp(x − max) − x[label]; the row max keeps exp from
// overflowing. A label that is not an integer in [0, cols) gives NaN: the oracle throws, but the GPU
// cannot without a read-back, and a NaN loss is loud.
export const softmaxCrossEntropyKernel: GpuKernel = ([[n, c]]) => ({
  variant: '',
  source: () => wgsl`
${header(2, layout)}
${main1d}
  if (i >= params.rows) { return; }
${rowMaxAndSumExp}
  let y = b[i];
  var picked = ${f32bits(0x7fc00000, 'cols')}; // NaN
  if (y >= 0.0 && y < f32(params.cols) && floor(y) == y) { picked = a[base + u32(y)]; }
  out[i] = m + log(s) - picked;
}`,
  layout,
  params: { rows: n, cols: c },
  workgroups: ceilDiv(n, WG),
});
