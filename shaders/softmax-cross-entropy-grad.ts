import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { ceilDiv, header, main1d, WG, type GpuKernel } from './kernel.ts';

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
  let base = i * params.cols;
  var m = a[base];
  for (var j = 1u; j < params.cols; j++) { m = max(m, a[base + j]); }
  var s = 0.0;
  for (var j = 0u; j < params.cols; j++) { s += exp(a[base + j] - m); }
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
