// the finiteness check of training (TrainOptions.checkFinite): DivergenceError, and how each step engine
// finds the first NaN or ±Inf — scanned on the host (cpu), flagged on the device and read with the epoch's
// totals (webgpu), or a bit mask per step written by the fused GPU kernel.
import { reshape, scale, sum } from '../engine/ops/index.ts';
import { noGrad, type Tensor } from '../engine/tensor.ts';

/**
 * a NaN or ±Inf appeared: `tensor` is the first in model order (activations of the forward pass, then
 * the parameters after the update) that held one, in `step` (0-based) of `epoch`. The epoch did not end:
 * onEpoch was not called for it, so its weights were never saved.
 */
export class DivergenceError extends Error {
  constructor(readonly epoch: number, readonly step: number, readonly tensor: string, readonly detail: string) {
    super(`training diverged in epoch ${epoch}, step ${step}: ${tensor} ${detail}`);
    this.name = 'DivergenceError';
  }
}

// parameters are checked after their update
const afterUpdate = (name: string, params: ReadonlySet<string>) => (params.has(name) ? ' after the SGD update' : '');

/** cpu: throws DivergenceError for the first of `tensors` holding a NaN or ±Inf, naming the element */
export function checkOnHost(tensors: readonly Tensor[], names: readonly string[], params: ReadonlySet<string>, epoch: number, step: number): void {
  tensors.forEach((t, k) => {
    const d = t.data();
    for (let i = 0; i < d.length; i++) {
      if (!Number.isFinite(d[i])) {
        throw new DivergenceError(epoch, step, names[k], `holds ${d[i]} (element ${i} of [${t.shape.join(', ')}])${afterUpdate(names[k], params)}`);
      }
    }
  });
}

/**
 * webgpu: for each tensor, Σ 0·x over its elements is 0 when every element is finite and NaN otherwise
 * (0·±Inf and 0·NaN are NaN); that one value is copied into its slot of `flags` on the device. Only IEEE
 * propagation through a multiply and a sum is relied on, no comparison with NaN (which WGSL may fold away).
 */
export function flagNonFinite(tensors: readonly Tensor[], flags: Tensor, at: number): void {
  const probes = noGrad(() => tensors.map((t) => sum(reshape(scale(t, 0), [t.size]), 0)));
  probes.forEach((p, k) => p.backend.copyInto(p.storage, flags.storage, at + k, 1));
}

/** the fused GPU step's flags: per step a mask of the tensors (in `names` order) that held a NaN or ±Inf */
export function firstFlaggedMask(masks: ArrayLike<number>, names: readonly string[], params: ReadonlySet<string>, epoch: number): void {
  for (let step = 0; step < masks.length; step++) {
    const m = masks[step];
    if (!m) continue;
    const k = names.findIndex((_, b) => Math.floor(m / 2 ** b) % 2 === 1);
    throw new DivergenceError(epoch, step, names[k], `holds a NaN or ±Inf${afterUpdate(names[k], params)} (flagged on the device)`);
  }
}

/** webgpu, at the end of the epoch: throws DivergenceError for the first flagged step, and its first flagged tensor */
export function firstFlagged(values: ArrayLike<number>, names: readonly string[], params: ReadonlySet<string>, epoch: number): void {
  for (let i = 0; i < values.length; i++) {
    if (Number.isFinite(values[i])) continue;
    const step = Math.floor(i / names.length), k = i % names.length;
    throw new DivergenceError(epoch, step, names[k], `holds a NaN or ±Inf${afterUpdate(names[k], params)} (flagged on the device)`);
  }
}
