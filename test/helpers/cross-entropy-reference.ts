// the reference: mlp/fused-cpu.ts fusedCrossEntropy as it was before the loss moved to WebAssembly
// (engine/wasm/mlp-kernels.ts xent): the oracle of test/mlp/fused-xent.test.ts and bench/fused-xent-ab.ts.
// Below, that function's comment:
// the fused steps' loss (FusedMlp's and mlp/fused-cnn-cpu.ts's): per-sample loss as the softmaxCrossEntropy
// oracle computes it (max + log Σ exp(x − max) − x[label], in f64) into `loss` [n] and, when `grads`, the
// gradient of the mean loss: d loss_i = f32(1/n), d logits = (softmax − onehot)·f32(1/n). Returns Σ loss as
// the oracle's sum gives it (f64 over the f32 values, rounded to f32) and the rows whose first maximal logit
// is the label. `e`: scratch of `c` doubles.
import type { LossBuffers } from '../../mlp/fused-cpu.ts';

export function fusedCrossEntropy(
  F: Float32Array, at: LossBuffers, n: number, c: number, labels: ArrayLike<number>, e: Float64Array, grads: boolean,
): { sum: number; correct: number } {
  const z0 = at.logits >> 2, g0 = at.dLogits >> 2, l0 = at.loss >> 2, dl0 = at.dLoss >> 2;
  const dy = Math.fround(1 / n);
  let sum = 0, correct = 0;
  for (let i = 0; i < n; i++) {
    const row = z0 + i * c, label = labels[i];
    if (label >= c) throw new Error(`softmaxCrossEntropy: label ${label} of row ${i} is not a class index in [0, ${c})`);
    let m = -Infinity, best = 0, top = F[row];
    for (let j = 0; j < c; j++) {
      const v = F[row + j];
      m = Math.max(m, v);
      if (v > top) { top = v; best = j; }
    }
    let s = 0;
    for (let j = 0; j < c; j++) s += (e[j] = Math.exp(F[row + j] - m));
    F[l0 + i] = m + Math.log(s) - F[row + label];
    sum += F[l0 + i];
    if (best === label) correct++;
    if (!grads) continue;
    F[dl0 + i] = dy;
    for (let j = 0; j < c; j++) F[g0 + i * c + j] = (e[j] / s - (j === label ? 1 : 0)) * dy;
  }
  return { sum: Math.fround(sum), correct };
}
