// the shared shapes of the elementwise kernels: a unary map, and a broadcasting binary with three variants.
import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { header, main1d, plan, sizeOf, WG, type GpuKernel, type Shape } from './kernel.ts';

const unaryLayout = { size: 'u32' } as const;

/** out[i] = expr, where expr reads `x` (relu, step, exp, log, reciprocal) */
export const unary = (expr: string): GpuKernel => (_, out) => ({
  variant: '',
  source: () => wgsl`
${header(1, unaryLayout)}
${main1d}
  if (i >= params.size) { return; }
  let x = a[i];
  out[i] = ${expr};
}`,
  layout: unaryLayout,
  params: { size: sizeOf(out) },
  workgroups: Math.ceil(sizeOf(out) / WG),
});

// vec4s first: the uniform packer and the WGSL struct then agree with no padding between fields
const stridedLayout = { shape: 'vec4u', sa: 'vec4u', sb: 'vec4u', size: 'u32' } as const;
const sameLayout = { size: 'u32', rowLen: 'u32' } as const;

/** row-major strides of `s` seen from `out` (0 on broadcast dims), padded on the left to rank 4 */
function strides4(s: Shape, out: Shape): number[] {
  const st = [0, 0, 0, 0];
  let acc = 1;
  for (let i = s.length - 1; i >= 0; i--) {
    const o = 4 - s.length + i;
    st[o] = s[i] === 1 && out[out.length - s.length + i] !== 1 ? 0 : acc;
    acc *= s[i];
  }
  return st;
}

const isSuffix = (b: Shape, a: Shape): boolean =>
  b.length <= a.length && b.every((d, i) => d === a[a.length - b.length + i]);

/**
 * out[i] = expr(a, b) with numpy broadcasting. Variants: 'same' (same shape: one index),
 * 'row' (b is a suffix of a, a bias row: b[i % rowLen]), 'strided' (anything else up to rank 4:
 * the output index is split over the shape and dotted with each input's broadcast strides).
 */
export const binary = (op: string, expr: string): GpuKernel => ([sa, sb], out) => {
  const size = sizeOf(out), workgroups = Math.ceil(size / WG);
  const same = sizeOf(sa) === size && sizeOf(sb) === size;
  if (same || (sizeOf(sa) === size && isSuffix(sb, sa))) {
    const row = !same;
    return plan({
      variant: row ? 'row' : 'same',
      source: () => wgsl`
${header(2, sameLayout)}
${main1d}
  if (i >= params.size) { return; }
  let x = a[i];
#if ${row}
  let y = b[i % params.rowLen];
#else
  let y = b[i];
#endif
  out[i] = ${expr};
}`,
      layout: sameLayout,
      params: { size, rowLen: Math.max(1, sizeOf(sb)) },
      workgroups,
    });
  }
  if (out.length > 4) throw new Error(`${op}: broadcasting over rank ${out.length} > 4 has no webgpu kernel`);
  return plan({
    variant: 'strided',
    source: () => wgsl`
${header(2, stridedLayout)}
${main1d}
  if (i >= params.size) { return; }
  // split i over the (left-padded) output shape, innermost dim last
  var rem = i;
  var ia = 0u;
  var ib = 0u;
  for (var d = 3; d >= 0; d--) {
    let n = params.shape[d];
    let k = rem % n;
    rem = rem / n;
    ia += k * params.sa[d];
    ib += k * params.sb[d];
  }
  let x = a[ia];
  let y = b[ib];
  out[i] = ${expr};
}`,
    layout: stridedLayout,
    params: { shape: [...Array(4 - out.length).fill(1), ...out], sa: strides4(sa, out), sb: strides4(sb, out), size },
    workgroups,
  });
};
