// softmaxCrossEntropyGrad's cpu loop on plain arrays, in a module of its own (no engine import): the
// primitive's oracle (softmax-cross-entropy-grad.ts) and the analyses' hand-written MLP pass
// (analysis/plain-mlp.ts, which a helper thread loads without the engine) run this same code.
//
// It rounds after every step exactly where the composition it replaced did (f32 tensors: each op stored
// its result as f32), so CPU training is bit-identical with or without the fusion:
// shifted = x − max, lse = log Σ exp(shifted), p = exp(shifted − lse), (p − onehot)·dy

/** out[n, c] = d loss_i / d x_i · dy_i for logits x [n, c] and labels y [n]; f32 rounding when out is a Float32Array */
export function softmaxCrossEntropyGradRows(
  x: ArrayLike<number>, y: ArrayLike<number>, dy: ArrayLike<number>, n: number, c: number, out: Float32Array | Float64Array | number[],
): void {
  const r = out instanceof Float32Array ? Math.fround : (v: number): number => v;
  for (let i = 0; i < n; i++) {
    const base = i * c;
    let m = -Infinity;
    for (let j = 0; j < c; j++) {
      const v = x[base + j];
      if (v > m || Number.isNaN(v)) m = v;
      if (Number.isNaN(v)) break;
    }
    let s = 0;
    for (let j = 0; j < c; j++) s += r(Math.exp(r(x[base + j] + -m)));
    const nls = -r(Math.log(r(s)));
    for (let j = 0; j < c; j++) {
      const p = r(Math.exp(r(r(x[base + j] + -m) + nls)));
      out[base + j] = r(p + (j === y[i] ? -1 : -0)) * dy[i];
    }
  }
}
