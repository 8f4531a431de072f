import { apply, type Tensor } from '../tensor.ts';
import type { Primitive } from '../primitive.ts';
import { fmt } from '../shape.ts';
import { matmulKernel, MATMUL_VARIANTS, type MatmulVariant } from '../../shaders/matmul.ts';
import type { GpuKernel } from '../../shaders/kernel.ts';

export interface MatmulAttrs { transA: boolean; transB: boolean }

/**
 * the matmul variant for one product (docs/kernels.md has the measurements behind it). 'software': a CPU
 * rasteriser (llvmpipe, lavapipe): 'tiled4' (32×32 workgroup tiles, 4×4 per invocation) ran
 * 1.3–2.1× faster than 'blocked' at 1024×784·784×32 and 1024³ in every llvmpipe and lavapipe run, so it takes products of
 * at least 2²⁴ multiply-adds; below that the two swapped places from run to run on this loaded machine, and
 * the MLP's products keep 'blocked' (no workgroup memory, no barriers; the training default until now).
 * 'gpu': a hardware GPU, not measured by bench/kernels.js yet (no GPU in this project's runs); H100 figures seen
 * through Dawn/Vulkan (64×64 tiles, 4×4 per thread: 28 TFLOP/s; naive 1.5) favour register tiling by far at large sizes: 'tiled4' from 64×64 outputs with k ≥ 16, else 'tiled'.
 */
export function pickMatmulVariant(
  m: number, n: number, k: number, device: 'software' | 'swiftshader' | 'gpu', features: ReadonlySet<string> = new Set(),
): MatmulVariant {
  // NOTE: Chromium's SwiftShader ran 'tiled4' 1.3–6× slower than 'blocked' at every shape: 'blocked',
  // but 'subgroup' from 1024³ where the device has subgroups (1.4–1.8× 'blocked' there in Chromium and
  // through Dawn/Vulkan; below that Chromium's 'blocked' won, docs/kernels.md)
  if (device === 'swiftshader') return features.has('subgroups') && m * n * k >= 2 ** 30 ? 'subgroup' : 'blocked';
  if (device === 'software') return m * n * k >= 2 ** 24 ? 'tiled4' : 'blocked';
  return m >= 64 && n >= 64 && k >= 16 ? 'tiled4' : 'tiled';
}

/**
 * the op's kernel: a named variant is used as is; 'auto:software' / 'auto:swiftshader' / 'auto:gpu' (engine/webgpu/pipelines.ts's
 * default, by adapter) picks one per product with pickMatmulVariant
 */
const matmulGpu: GpuKernel<MatmulAttrs> = (inputs, out, attrs, ctx) => {
  const v = ctx.variant ?? 'auto:gpu';
  if (!v.startsWith('auto')) return matmulKernel(inputs, out, attrs, ctx);
  const [m, n] = out, k = attrs.transA ? inputs[0][0] : inputs[0][1];
  const device = v === 'auto:software' ? 'software' : v === 'auto:swiftshader' ? 'swiftshader' : 'gpu';
  return matmulKernel(inputs, out, attrs, { ...ctx, variant: pickMatmulVariant(m, n, k, device, ctx.features) });
};
export { MATMUL_VARIANTS };

/** op(A) [m, k] · op(B) [k, n] → [m, n]; op transposes a stored operand when asked ([k, m] / [n, k] in memory) */
export const matmulOp: Primitive<MatmulAttrs> = {
  name: 'matmul',
  arity: 2,
  gpu: matmulGpu,
  shape: ([a, b], { transA, transB }) => {
    if (a.length !== 2 || b.length !== 2) throw new Error(`matmul: operands must be 2-D, got ${fmt(a)} and ${fmt(b)}`);
    const [m, k] = transA ? [a[1], a[0]] : a;
    const [k2, n] = transB ? [b[1], b[0]] : b;
    if (k !== k2) {
      throw new Error(`matmul: inner sizes differ: ${fmt(a)}${transA ? 'ᵀ' : ''} · ${fmt(b)}${transB ? 'ᵀ' : ''}`);
    }
    return [m, n];
  },
  // sums run in double (JS numbers, or a Float64Array row) and round once on store. Each layout gets
  // the loop order that walks memory contiguously. Like the reference BLAS sgemm, a zero element of A
  // skips its row of B (MNIST pixels are mostly 0), so 0·Inf and 0·NaN count as 0 there.
  cpu: ([a, b], [sa, sb], out, { transA, transB }) => {
    const m = transA ? sa[1] : sa[0], k = transA ? sa[0] : sa[1], n = transB ? sb[0] : sb[1];
    if (!transA && !transB) {
      const acc = scratch(n);
      for (let i = 0; i < m; i++) {
        acc.fill(0, 0, n);
        for (let p = 0; p < k; p++) {
          const aip = a[i * k + p];
          if (aip === 0) continue;
          for (let j = 0, bp = p * n; j < n; j++) acc[j] += aip * b[bp + j];
        }
        for (let j = 0; j < n; j++) out[i * n + j] = acc[j];
      }
    } else if (transA && !transB) {
      // a is [k, m]: accumulate outer products of row p of a and row p of b
      const acc = scratch(m * n);
      acc.fill(0, 0, m * n);
      for (let p = 0; p < k; p++) {
        for (let i = 0; i < m; i++) {
          const api = a[p * m + i];
          if (api === 0) continue;
          for (let j = 0, bp = p * n, o = i * n; j < n; j++) acc[o + j] += api * b[bp + j];
        }
      }
      for (let q = 0; q < m * n; q++) out[q] = acc[q];
    } else if (!transA && transB) {
      // b is [n, k]: each output is a dot product of two contiguous rows
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let p = 0, ai = i * k, bj = j * k; p < k; p++) s += a[ai + p] * b[bj + p];
          out[i * n + j] = s;
        }
      }
    } else {
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let p = 0; p < k; p++) s += a[p * m + i] * b[j * k + p];
          out[i * n + j] = s;
        }
      }
    }
  },
  // C = A·B: dA = dC·Bᵀ, dB = Aᵀ·dC, with the stored layouts folded into the transpose flags
  backward: ({ inputs: [a, b], dy, attrs: { transA, transB } }) => [
    () => (transA ? matmul(b, dy, { transA: transB, transB: true }) : matmul(dy, b, { transB: !transB })),
    () => (transB ? matmul(dy, a, { transA: true, transB: transA }) : matmul(a, dy, { transA: !transA })),
  ],
};

let scratchBuf = new Float64Array(1024);
/** a reusable double accumulator of at least n elements */
function scratch(n: number): Float64Array {
  if (scratchBuf.length < n) scratchBuf = new Float64Array(n);
  return scratchBuf;
}

export const matmul = (a: Tensor, b: Tensor, opts: { transA?: boolean; transB?: boolean } = {}): Tensor =>
  apply(matmulOp, [a, b], { transA: !!opts.transA, transB: !!opts.transB });
