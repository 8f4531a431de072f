import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { ceilDiv, header, main1d, WG, type GpuKernel } from './kernel.ts';
import { rowMaxAndSumExp } from './softmax-cross-entropy.ts';

const layout = { rows: 'u32', cols: 'u32' } as const;

// one invocation per row: out[i, j] = (exp(x − max − log Σ exp(x − max)) − [j = label]) · dy[i], the
// steps of the composed backward (softmax as exp of logSoftmax) in one pass. a = logits, b = labels, c = dy.
// A label outside [0, cols) matches no column (as oneHot), so that row's gradient is softmax · dy.
export const softmaxCrossEntropyGradKernel: GpuKernel = ([[n, c]]) => ({
  variant: '',
  source: () => wgsl`
${header(3, layout)}
${main1d}
  if (i >= params.rows) { return; }
${rowMaxAndSumExp}
  let ls = log(s);
  let y = b[i];
  let g = c[i];
  for (var j = 0u; j < params.cols; j++) {
    let p = exp((a[base + j] - m) - ls);
    out[base + j] = (p - select(0.0, 1.0, f32(j) == y)) * g;
  }
}`,
  layout,
  params: { rows: n, cols: c },
  workgroups: ceilDiv(n, WG),
});
