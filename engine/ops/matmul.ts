import { apply, type Tensor } from '../tensor.ts';
import type { Primitive } from '../primitive.ts';
import { fmt } from '../shape.ts';
import { matmulKernel } from '../../shaders/matmul.ts';

export interface MatmulAttrs { transA: boolean; transB: boolean }

/** op(A) [m, k] · op(B) [k, n] → [m, n]; op transposes a stored operand when asked ([k, m] / [n, k] in memory) */
export const matmulOp: Primitive<MatmulAttrs> = {
  name: 'matmul',
  arity: 2,
  gpu: matmulKernel,
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
