// drift across epochs: the per-epoch statistics lined up as series, the numbers behind the notebooks'
// drift plots (items 9, 12, 21) and per-neuron mean-activation heatmaps (item 22). Pure.
import type { EpochStats, TensorStats } from './epoch-stats.ts';

/** series of one tensor (or its gradient) over the epochs */
export interface TensorDrift {
  /** over all values of each epoch, each [epochs]; std is ddof 1 (torch `.std()`) */
  mean: number[];
  std: number[];
  min: number[];
  max: number[];
  /** per class, each [epochs][classes] (item 12; NaN where a class is absent) */
  perClassMean: number[][];
  perClassStd: number[][];
  /** mean over the epoch's samples of each neuron, [epochs][width]: the item-22 heatmap */
  neuronMean: number[][];
  /** the first mini-batch of each epoch, each [epochs] (items 6, 8, 9), when it was kept */
  firstBatch?: { mean: number[]; std: number[] };
  /** activations: fraction of samples > 0 per neuron [epochs][width] */
  positiveFraction?: number[][];
  /** gradients: sqrt(Σ g²) over each epoch's slot [epochs], and the mean step norm [epochs] */
  norm?: number[];
  meanStepNorm?: number[];
}

/** ReLU health of one hidden layer over the epochs */
export interface HealthDrift {
  layer: number;
  tensor: string;
  /** counts per epoch, each [epochs] */
  dead: number[];
  rare: number[];
  always: number[];
}

export interface Drift {
  /** epoch numbers, in order [epochs] */
  epochs: number[];
  classes: number;
  /** per tensor present in every epoch */
  acts: Record<string, TensorDrift>;
  grads: Record<string, TensorDrift>;
  health: HealthDrift[];
  /** mean ||∂loss/∂p|| over each epoch's steps, [epochs][params], when recorded in every epoch */
  params?: { names: string[]; meanNorm: number[][] };
}

/**
 * lines up per-epoch statistics [epochs] (sorted by epoch here) into series. Tensors, layers and
 * parameters missing from any epoch are left out; the epochs must agree on the class count.
 */
export function drift(stats: readonly EpochStats[]): Drift {
  const s = [...stats].sort((a, b) => a.epoch - b.epoch);
  const classes = s.length ? s[0].classes : 0;
  for (const e of s) if (e.classes !== classes) throw new Error(`drift: epoch ${e.epoch} has ${e.classes} classes, epoch ${s[0].epoch} has ${classes}`);
  const series = (pick: (e: EpochStats) => Record<string, TensorStats>): Record<string, TensorDrift> => {
    const out: Record<string, TensorDrift> = {};
    if (!s.length) return out;
    for (const name of Object.keys(pick(s[0]))) {
      const ts = s.map((e) => pick(e)[name]);
      if (ts.some((t) => !t)) continue;
      out[name] = tensorDrift(ts);
    }
    return out;
  };
  const health: HealthDrift[] = [];
  for (const h of s[0]?.health ?? []) {
    const hs = s.map((e) => e.health.find((x) => x.layer === h.layer && x.tensor === h.tensor));
    if (hs.some((x) => !x)) continue;
    health.push({
      layer: h.layer, tensor: h.tensor,
      dead: hs.map((x) => x!.dead.length), rare: hs.map((x) => x!.rare.length), always: hs.map((x) => x!.always.length),
    });
  }
  const d: Drift = { epochs: s.map((e) => e.epoch), classes, acts: series((e) => e.acts), grads: series((e) => e.grads), health };
  const p0 = s[0]?.params;
  if (p0 && s.every((e) => e.params && e.params.names.join() === p0.names.join())) {
    d.params = { names: [...p0.names], meanNorm: s.map((e) => [...e.params!.mean]) };
  }
  return d;
}

function tensorDrift(ts: TensorStats[]): TensorDrift {
  const d: TensorDrift = {
    mean: ts.map((t) => t.all.mean), std: ts.map((t) => t.all.std),
    min: ts.map((t) => t.all.min), max: ts.map((t) => t.all.max),
    perClassMean: ts.map((t) => [...t.perClass.mean]), perClassStd: ts.map((t) => [...t.perClass.std]),
    neuronMean: ts.map((t) => [...t.perNeuron.mean]),
  };
  if (ts.every((t) => t.firstBatch)) d.firstBatch = { mean: ts.map((t) => t.firstBatch!.all.mean), std: ts.map((t) => t.firstBatch!.all.std) };
  if (ts.every((t) => t.positiveFraction)) d.positiveFraction = ts.map((t) => [...t.positiveFraction!]);
  if (ts.every((t) => t.norm !== undefined)) d.norm = ts.map((t) => t.norm!);
  if (ts.every((t) => t.stepNorm)) d.meanStepNorm = ts.map((t) => (t.stepNorm!.length ? t.stepNorm!.reduce((a, b) => a + b, 0) / t.stepNorm!.length : NaN));
  return d;
}

/** the neurons with the largest values of a row (e.g. the last epoch of neuronMean), largest first: [k] of { neuron, value } */
export function topNeurons(row: readonly number[], k: number): { neuron: number; value: number }[] {
  return row.map((value, neuron) => ({ neuron, value }))
    .filter((x) => !Number.isNaN(x.value))
    .sort((a, b) => b.value - a.value || a.neuron - b.neuron)
    .slice(0, k);
}

/** the index of the largest value of a series (first on ties; -1 when all NaN) */
export function argmaxOf(series: readonly number[]): number {
  let best = -1;
  series.forEach((v, i) => { if (!Number.isNaN(v) && (best < 0 || v > series[best])) best = i; });
  return best;
}
