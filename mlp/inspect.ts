// One batch through the model, looked at: every named activation and the gradient of the batch's
// mean loss with respect to it, read back to the host under the canonical names (mlp/names.ts).
// It is what a training step computes before its update — the update itself is not made, and the
// parameters' gradients are left as they were.
import { dispose, tidy } from '../engine/memory.ts';
import { Tensor } from '../engine/tensor.ts';
import { gatherBatch } from './batch.ts';
import type { Split } from './mnist.ts';
import { Mlp } from './model.ts';
import type { ActName } from './names.ts';

/** a plain row-major array and its shape */
export interface NamedArray { shape: number[]; data: Float32Array }

export interface BatchInspection {
  /** the split's rows in the batch, in batch order */
  indices: Uint32Array;
  labels: Uint8Array;
  /** the names forward() returned, in model order (`input` … `logits`, `loss`) */
  names: ActName[];
  /** each named activation [batch, width] (`loss`: per sample [batch]) */
  acts: Partial<Record<ActName, NamedArray>>;
  /** ∂(mean loss)/∂ each named activation, same shapes (the `input`'s gradient too) */
  grads: Partial<Record<ActName, NamedArray>>;
  /** the batch's mean loss */
  loss: number;
}

/**
 * every named activation of a batch of `split` and its gradient, on the model's backend, in the model's
 * current mode (eval unless train() was called: no dropout, BatchNorm on running statistics).
 * The batch is rows [start, start + count) of the split, or the given `indices`.
 */
export async function inspectBatch(
  model: Mlp, split: Split, opts: { start?: number; count?: number; indices?: ArrayLike<number> } = {},
): Promise<BatchInspection> {
  const start = opts.start ?? 0;
  const indices = opts.indices ? Uint32Array.from(opts.indices) : Uint32Array.from({ length: Math.min(opts.count ?? 64, split.count - start) }, (_, i) => start + i);
  if (!indices.length) throw new RangeError(`inspectBatch: no rows (start ${start} of a split of ${split.count})`);
  for (const i of indices) {
    if (!Number.isInteger(i) || i >= split.count) throw new RangeError(`inspectBatch: row ${i} is not in a split of ${split.count}`);
  }
  const backend = model.layers[0].W.backend;
  const { x, y } = gatherBatch(split, indices, 0, indices.length);
  const params = model.params().map((p) => p.tensor);
  // the parameters' gradients as they were (a training loop may own them): put back after
  const before = params.map((p) => p.grad);
  const { names, tensors } = tidy(() => {
    const input = Tensor.from(x, [indices.length, split.rows * split.cols], { backend, requiresGrad: true });
    const acts = model.forward(input, Tensor.from(y, [indices.length], { backend }));
    Mlp.meanLoss(acts).backward();
    const names = (Object.keys(acts) as ActName[]).filter((n) => acts[n]);
    const kept: Tensor[] = [];
    for (const n of names) kept.push(acts[n]!, acts[n]!.grad ?? acts[n]!);
    return { names, tensors: kept };
  });
  params.forEach((p, k) => { p.grad = before[k]; });
  const values = await Promise.all(tensors.map((t) => t.read()));
  const result: BatchInspection = { indices, labels: Uint8Array.from(indices, (i) => split.labels[i]), names, acts: {}, grads: {}, loss: 0 };
  names.forEach((n, k) => {
    const act = tensors[2 * k], grad = tensors[2 * k + 1];
    result.acts[n] = { shape: [...act.shape], data: Float32Array.from(values[2 * k]) };
    if (grad !== act) result.grads[n] = { shape: [...grad.shape], data: Float32Array.from(values[2 * k + 1]) };
  });
  const losses = result.acts.loss!.data;
  result.loss = losses.reduce((a, b) => a + b, 0) / losses.length;
  dispose(...new Set(tensors));
  return result;
}
