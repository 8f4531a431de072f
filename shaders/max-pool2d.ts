import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { ceilDiv, f32bits, header, main1d, WG, type GpuKernel } from './kernel.ts';

// planes = N·C images of h×w, pooled to oh×ow by a k×k window moving by `stride`, −inf padding `pad`
export const poolLayout = { size: 'u32', planes: 'u32', h: 'u32', w: 'u32', oh: 'u32', ow: 'u32', k: 'u32', stride: 'u32', pad: 'u32' } as const;

export interface PoolAttrs { kernel: number; stride: number; padding: number }

export const poolParams = (x: readonly number[], y: readonly number[], size: number, { kernel, stride, padding }: PoolAttrs) => ({
  size, planes: x[0] * x[1], h: x[2], w: x[3], oh: y[2], ow: y[3], k: kernel, stride, pad: padding,
});

/**
 * WGSL argmax(base, i, j) -> vec2<u32>: (the max's bits, its index within the plane) of window (i, j) of
 * the plane at base, as PyTorch's CPU kernel picks it: the window clipped to the image, scanned row by row, a value
 * replaces the running max when greater or NaN (ties keep the first; the last NaN wins), an all −inf
 * window gives its first element.
 */
/**
 * WGSL isNan(v): by its bits, not v != v — WGSL lets an implementation assume there are no NaNs, and
 * lavapipe (Deno's adapter) folds v != v to false
 */
export const nanTest = `fn isNan(v: f32) -> bool { return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u; }`;

export const windowArgmax = `
${nanTest}

fn argmax(base: u32, i: u32, j: u32) -> vec2<u32> {
  let s = i32(params.stride);
  let h0 = i32(i) * s - i32(params.pad);
  let v0 = i32(j) * s - i32(params.pad);
  let h1 = u32(min(h0 + i32(params.k), i32(params.h)));
  let v1 = u32(min(v0 + i32(params.k), i32(params.w)));
  let hs = u32(max(h0, 0));
  let vs = u32(max(v0, 0));
  var best = ${f32bits(0xff800000, 'k')};
  var at = hs * params.w + vs;
  for (var h = hs; h < h1; h++) {
    for (var v = vs; v < v1; v++) {
      let val = a[base + h * params.w + v];
      if (val > best || isNan(val)) { best = val; at = h * params.w + v; }
    }
  }
  return vec2<u32>(bitcast<u32>(best), at);
}`;

/** one invocation per output: its window's max (argmax above) */
export const maxPool2dKernel: GpuKernel<PoolAttrs> = ([x], y, attrs) => {
  const size = y[0] * y[1] * y[2] * y[3];
  return {
    variant: '',
    source: () => wgsl`
${header(1, poolLayout)}
${windowArgmax}

${main1d}
  if (i >= params.size) { return; }
  let ow = i % params.ow;
  let oh = (i / params.ow) % params.oh;
  let plane = i / (params.ow * params.oh);
  out[i] = bitcast<f32>(argmax(plane * params.h * params.w, oh, ow).x);
}`,
    layout: poolLayout,
    params: poolParams(x, y, size, attrs),
    workgroups: ceilDiv(size, WG),
  };
};
