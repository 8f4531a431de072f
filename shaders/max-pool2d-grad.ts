import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { ceilDiv, f32bits, header, main1d, WG, type GpuKernel } from './kernel.ts';
import { header4 } from './conv2d.ts';
import { nanTest, poolLayout, poolParams, windowArgmax, type PoolAttrs } from './max-pool2d.ts';

/**
 * dx of maxPool2d as a gather (WGSL has no float atomics): one invocation per x element visits the windows
 * that contain it, at most ⌈k/s⌉² (rows i with i·s − p ≤ h < i·s − p + k), recomputes each one's argmax
 * from x (a = x) and adds its dy (b = dy) when the argmax is this element: overlapping windows sum, in
 * output order as PyTorch's scatter adds them. Loop steps per invocation ≈ ⌈k/s⌉²·(k² + k).
 * This is variant 'loops'; 'v4' below is the default where it applies (much faster on CPU rasterisers).
 */
export const maxPool2dGradKernel: GpuKernel<PoolAttrs> = ([x, dy], _dx, attrs, ctx) => {
  const size = x[0] * x[1] * x[2] * x[3];
  if (ctx.variant !== 'loops' && attrs.kernel === 2 && attrs.stride === 2 && attrs.padding === 0 && x[2] % 2 === 0 && x[3] % 4 === 0) {
    return maxPool2dGradV4(x, dy, attrs);
  }
  return {
    variant: 'loops',
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


/**
 * the 'v4' gradient (the default for 2×2 windows, stride 2, no padding, an even H and W a multiple of
 * 4): windows that tile the image, so each x element has one window and a scatter needs no sums. One
 * invocation: 2 neighbouring windows (x rows 2i, 2i + 1, columns 4m … 4m + 3 as two vec4 loads, x read
 * as vec4s), their argmax by windowArgmax's rule (row by row, greater or NaN replaces, ties keep the
 * first), and the two dx rows stored as vec4s: 2 + 2 loads and 2 stores for 8 elements (the 'loops'
 * kernel: 5 loads and 1 store per element; on CPU rasterisers each is a loop over the SIMD lanes).
 */
function maxPool2dGradV4(x: readonly number[], dy: readonly number[], attrs: PoolAttrs) {
  const [N, C, H, W] = x;
  const count = N * C * (H / 2) * (W / 4);
  return {
    variant: `v4:${H},${W}`,
    source: () => `
${header4(2, [true, false, true], poolLayout)}

${nanTest}

// the index (0 … 3: row by row) of the max of a 2×2 window (r0c0, r0c1, r1c0, r1c1), as windowArgmax picks it
fn pick(p: vec4<f32>) -> u32 {
  var best = ${f32bits(0xff800000, 'k')};
  var at = 0u;
  if (p.x > best || isNan(p.x)) { best = p.x; at = 0u; }
  if (p.y > best || isNan(p.y)) { best = p.y; at = 1u; }
  if (p.z > best || isNan(p.z)) { best = p.z; at = 2u; }
  if (p.w > best || isNan(p.w)) { best = p.w; at = 3u; }
  return at;
}

${main1d}
  if (i >= ${count}u) { return; }
  let mb = i % ${W / 4}u;
  let t = i / ${W / 4}u;
  let oi = t % ${H / 2}u;
  let plane = t / ${H / 2}u;
  let r0 = (plane * ${H}u + 2u * oi) * ${W / 4}u + mb;
  let top = a[r0];
  let bottom = a[r0 + ${W / 4}u];
  let d = (plane * params.oh + oi) * params.ow + 2u * mb;
  let d0 = b[d];
  let d1 = b[d + 1u];
  let p0 = pick(vec4<f32>(top.x, top.y, bottom.x, bottom.y));
  let p1 = pick(vec4<f32>(top.z, top.w, bottom.z, bottom.w));
  let z = 0.0;
  out[r0] = vec4<f32>(select(z, d0, p0 == 0u), select(z, d0, p0 == 1u), select(z, d1, p1 == 0u), select(z, d1, p1 == 1u));
  out[r0 + ${W / 4}u] = vec4<f32>(select(z, d0, p0 == 2u), select(z, d0, p0 == 3u), select(z, d1, p1 == 2u), select(z, d1, p1 == 3u));
}`,
    layout: poolLayout,
    params: poolParams(x, dy, x[0] * x[1] * x[2] * x[3], attrs),
    workgroups: ceilDiv(count, WG),
  };
}
