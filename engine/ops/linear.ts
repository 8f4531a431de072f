import { apply, type Tensor } from '../tensor.ts';
import type { Primitive } from '../primitive.ts';
import { fmt } from '../shape.ts';
import { matmul } from './matmul.ts';
import { mul } from './mul.ts';
import { step } from './step.ts';
import { sumTo } from './sum.ts';
import { linearKernel } from '../../shaders/linear.ts';

export interface LinearAttrs { relu: boolean }

/**
 * x [batch, d_in] · W [d_in, d_out] + b [d_out] → [batch, d_out] in one op (one dispatch instead of
 * matmul + add), and max(·, 0) of that with `relu`. The same numbers as add(matmul(x, W), b) (and relu
 * of it) on the CPU, bit for bit; composite.ts's `linear` is that composition.
 */
export const linearOp: Primitive<LinearAttrs> = {
  name: 'linear',
  arity: 3,
  gpu: linearKernel,
  shape: ([x, w, b]) => {
    if (x.length !== 2 || w.length !== 2 || b.length !== 1 || x[1] !== w[0] || b[0] !== w[1]) {
      throw new Error(`linear: expects x [n, k], W [k, m] and b [m], got ${fmt(x)}, ${fmt(w)} and ${fmt(b)}`);
    }
    return [x[0], w[1]];
  },
  // matmul's oracle loop (double sums, a zero element of x skips its row of W), rounded as matmul's
  // output was, then + b rounded as add's output was (and relu: v > 0 ? v : 0)
  cpu: ([x, w, b], [[n, k], [, m]], out, { relu }) => {
    const r = out instanceof Float32Array ? Math.fround : (v: number): number => v;
    const acc = new Float64Array(m);
    for (let i = 0; i < n; i++) {
      acc.fill(0);
      for (let p = 0; p < k; p++) {
        const xip = x[i * k + p];
        if (xip === 0) continue;
        for (let j = 0, wp = p * m; j < m; j++) acc[j] += xip * w[wp + j];
      }
      for (let j = 0; j < m; j++) {
        const z = r(r(acc[j]) + b[j]);
        out[i * m + j] = relu ? (z > 0 ? z : 0) : z;
      }
    }
  },
  // dz = dy (· step(out) with relu: relu'(0) = 0, and out > 0 exactly where z > 0);
  // dx = dz · Wᵀ, dW = xᵀ · dz, db = Σ over the batch of dz
  backward: ({ inputs: [x, w, b], out, dy, attrs: { relu } }) => {
    let memo: Tensor | undefined;
    const dz = (): Tensor => (memo ??= relu ? mul(dy, step(out)) : dy);
    return [
      () => matmul(dz(), w, { transB: true }),
      () => matmul(x, dz(), { transA: true }),
      () => sumTo(dz(), b.shape),
    ];
  },
};

export const linear = (x: Tensor, W: Tensor, b: Tensor, opts: { relu?: boolean } = {}): Tensor =>
  apply(linearOp, [x, W, b], { relu: !!opts.relu });
