import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { ceilDiv, header, type GpuKernel } from './kernel.ts';
import { storeRow } from './matmul.ts';

const layout = { rows: 'u32', cols: 'u32', inner: 'u32' } as const;

/**
 * x [rows, inner] · W [inner, cols] + b [cols], then max(·, 0) in the 'relu' variant: matmul's 'blocked'
 * scheme (4×4 outputs per invocation in four vec4 accumulators, no workgroup memory, clamped loads,
 * guarded stores) with the bias added to the finished sum and the ReLU applied on store. a = x, b = W,
 * c = bias. Sums run over the inner index in order, like matmul's kernels.
 */
export const linearKernel: GpuKernel<{ relu: boolean }> = ([[n, k], [, m]], _out, { relu }) => ({
  variant: relu ? 'relu' : '',
  source: () => wgsl`
${header(3, layout)}

fn finish(v: f32, j: u32) -> f32 {
  let z = v + c[j];
#if ${relu}
  // select, not max(): relu(NaN) = 0 as the oracle (and relu's kernel) give it
  return select(0.0, z, z > 0.0);
#else
  return z;
#endif
}

${storeRow(4, (x, col) => `finish(${x}, ${col})`)}

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let r = gid.y * 4u;
  let col = gid.x * 4u;
  let rl = params.rows - 1u;
  let cl = params.cols - 1u;
  let i0 = min(r, rl) * params.inner; let i1 = min(r + 1u, rl) * params.inner;
  let i2 = min(r + 2u, rl) * params.inner; let i3 = min(r + 3u, rl) * params.inner;
  let j0 = min(col, cl); let j1 = min(col + 1u, cl); let j2 = min(col + 2u, cl); let j3 = min(col + 3u, cl);
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  for (var p = 0u; p < params.inner; p++) {
    let bp = p * params.cols;
    let bv = vec4<f32>(b[bp + j0], b[bp + j1], b[bp + j2], b[bp + j3]);
    acc0 += a[i0 + p] * bv;
    acc1 += a[i1 + p] * bv;
    acc2 += a[i2 + p] * bv;
    acc3 += a[i3 + p] * bv;
  }
  store(r, col, acc0);
  store(r + 1u, col, acc1);
  store(r + 2u, col, acc2);
  store(r + 3u, col, acc3);
}`,
  layout,
  params: { rows: n, cols: m, inner: k },
  workgroups: [ceilDiv(m, 32), ceilDiv(n, 32), 1],
});
