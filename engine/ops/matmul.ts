import { apply, type Tensor } from '../tensor.ts';
import type { Primitive } from '../primitive.ts';
import { fmt } from '../shape.ts';

export interface MatmulAttrs { transA: boolean; transB: boolean }

/** op(A) [m, k] · op(B) [k, n] → [m, n]; op transposes a stored operand when asked ([k, m] / [n, k] in memory) */
export const matmulOp: Primitive<MatmulAttrs> = {
  name: 'matmul',
  arity: 2,
  shape: ([a, b], { transA, transB }) => {
    if (a.length !== 2 || b.length !== 2) throw new Error(`matmul: operands must be 2-D, got ${fmt(a)} and ${fmt(b)}`);
    const [m, k] = transA ? [a[1], a[0]] : a;
    const [k2, n] = transB ? [b[1], b[0]] : b;
    if (k !== k2) {
      throw new Error(`matmul: inner sizes differ: ${fmt(a)}${transA ? 'ᵀ' : ''} · ${fmt(b)}${transB ? 'ᵀ' : ''}`);
    }
    return [m, n];
  },
  // sums run in double (JS numbers) and round once on store
  cpu: ([a, b], [sa, sb], out, { transA, transB }) => {
    const m = transA ? sa[1] : sa[0], k = transA ? sa[0] : sa[1], n = transB ? sb[0] : sb[1];
    // element (i, p) of op(A) is a[i·sAi + p·sAp]; (p, j) of op(B) is b[p·sBp + j·sBj]
    const sAi = transA ? 1 : k, sAp = transA ? m : 1, sBp = transB ? 1 : n, sBj = transB ? k : 1;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let p = 0; p < k; p++) acc += a[i * sAi + p * sAp] * b[p * sBp + j * sBj];
        out[i * n + j] = acc;
      }
    }
  },
  // C = A·B: dA = dC·Bᵀ, dB = Aᵀ·dC, with the stored layouts folded into the transpose flags
  backward: ({ inputs: [a, b], dy, attrs: { transA, transB } }) => [
    transA ? matmul(b, dy, { transA: transB, transB: true }) : matmul(dy, b, { transB: !transB }),
    transB ? matmul(dy, a, { transA: true, transB: transA }) : matmul(a, dy, { transA: !transA }),
  ],
};

export const matmul = (a: Tensor, b: Tensor, opts: { transA?: boolean; transB?: boolean } = {}): Tensor =>
  apply(matmulOp, [a, b], { transA: !!opts.transA, transB: !!opts.transB });
