import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { ceilDiv, header, main1d, WG, type GpuKernel } from './kernel.ts';
import { poolLayout, poolParams, windowArgmax, type PoolAttrs } from './max-pool2d.ts';

/**
 * dx of maxPool2d as a gather (WGSL has no float atomics): one invocation per x element visits the windows
 * that contain it, at most ⌈k/s⌉² (rows i with i·s − p ≤ h < i·s − p + k), recomputes each one's argmax
 * from x (a = x) and adds its dy (b = dy) when the argmax is this element: overlapping windows sum, in
 * output order as PyTorch's scatter adds them. Loop steps per invocation ≈ ⌈k/s⌉²·(k² + k).
 */
export const maxPool2dGradKernel: GpuKernel<PoolAttrs> = ([x, dy], _dx, attrs) => {
  const size = x[0] * x[1] * x[2] * x[3];
  return {
    variant: '',
    source: () => wgsl`
${header(2, poolLayout)}
${windowArgmax}

${main1d}
  if (i >= params.size) { return; }
  let v = i % params.w;
  let h = (i / params.w) % params.h;
  let plane = i / (params.w * params.h);
  let base = plane * params.h * params.w;
  let s = i32(params.stride);
  let here = h * params.w + v;
  // windows i0 … i1 (inclusive) contain row h: i·s ≤ h + p and i·s > h + p − k
  let hp = i32(h) + i32(params.pad);
  let vp = i32(v) + i32(params.pad);
  let k = i32(params.k);
  let i0 = u32(max(hp - k + s, 0) / s);
  let i1 = min(hp / s, i32(params.oh) - 1);
  let j0 = u32(max(vp - k + s, 0) / s);
  let j1 = min(vp / s, i32(params.ow) - 1);
  var acc = 0.0;
  for (var oi = i0; i32(oi) <= i1; oi++) {
    for (var oj = j0; i32(oj) <= j1; oj++) {
      if (argmax(base, oi, oj).y == here) { acc += b[(plane * params.oh + oi) * params.ow + oj]; }
    }
  }
  out[i] = acc;
}`,
    layout: poolLayout,
    params: poolParams(x, dy, size, attrs),
    workgroups: ceilDiv(size, WG),
  };
};
