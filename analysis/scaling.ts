// Scaling interventions without the engine: the variants of NB02's sweeps, their results assembled from
// each variant's predictions and logit sums, and the plain MLP's evaluation (plain-mlp.ts). intervention.ts
// runs the same sweeps over any model; this module imports nothing of the engine, so that a helper thread
// (engine/threads.ts, suite-tasks.ts) loads little to run a plain MLP's.
import type { ActName } from '../mlp/names.ts';
import { accuracyPerClass, type ClassAccuracy } from './accuracy.ts';
import { confusionMatrix, matrixDiff } from './confusion.ts';
import type { HostTensor, Site } from './forward-cache.ts';
import { plainForward, plainHidden, plainScaled, type PlainMlp, type SparseInput } from './plain-mlp.ts';

/** multiply columns `neurons` of the named tensor by `scale` (0: ablation; [] leaves the model as is) */
export interface ScaleVariant { neurons: readonly number[]; scale: number }

export interface VariantResult extends ClassAccuracy {
  variant: ScaleVariant;
  /** [classes, classes], rows = true class */
  confusion: number[][];
  /** mean logits over all samples [classes] */
  meanLogits: number[];
  /** mean logits over the samples of each true class [classes (true), classes] */
  meanLogitsByClass: number[][];
}

/** the results of each variant of `target`'s scaling, in variant order (evaluateUnderScaling over some samples) */
export type Evaluate = (target: ActName, variants: readonly ScaleVariant[]) => Promise<VariantResult[]> | VariantResult[];

/** the scales of each variant per unit [variants, width] (1 where not scaled), f32 */
export function scaleMask(variants: readonly ScaleVariant[], target: ActName, w: number): Float32Array {
  const mask = new Float32Array(variants.length * w).fill(1);
  variants.forEach((v, r) => v.neurons.forEach((j) => {
    if (!(Number.isInteger(j) && j >= 0 && j < w)) throw new RangeError(`${target} has neurons 0..${w - 1}, got ${j}`);
    mask[r * w + j] = v.scale;
  }));
  return mask;
}

/** each variant's results from its predictions pred [variants, count] and logit sums [variants, classes (true), classes] */
export function variantResults(
  variants: readonly ScaleVariant[], pred: Uint8Array, sums: Float64Array, labels: Uint8Array, count: number, classes: number,
): VariantResult[] {
  return variants.map((variant, v) => {
    const p = pred.subarray(v * count, (v + 1) * count);
    const acc = accuracyPerClass(p, labels, classes);
    const byClass = Array.from({ length: classes }, (_, t) =>
      Array.from({ length: classes }, (_, c) => sums[(v * classes + t) * classes + c] / acc.counts[t]));
    const meanLogits = Array.from({ length: classes }, (_, c) =>
      byClass.reduce((s, row, t) => s + row[c] * acc.counts[t], 0) / count);
    return { variant, ...acc, confusion: confusionMatrix(p, labels, classes), meanLogits, meanLogitsByClass: byClass };
  });
}

/** the name of a plain MLP's hidden layer `layer` tensor at `site` (forward-cache.ts layerName) */
export function plainTarget(net: PlainMlp, layer: number, site?: Site): ActName {
  const hidden = plainHidden(net);
  if (!Number.isInteger(layer) || layer < 0 || layer >= hidden) throw new RangeError(`layer ${layer}: the model has hidden layers 0..${hidden - 1}`);
  if (site === 'pool') throw new RangeError(`layer ${layer} is not followed by a pooling`);
  return `layers.${layer}.${site ?? 'post'}`;
}

/** hidden layer and site of a plain MLP's tensor name, or null (input, logits, loss) */
export function plainSite(net: PlainMlp, target: ActName): { layer: number; site: 'pre' | 'post' } | null {
  const m = /^layers\.(\d+)\.(pre|post)$/.exec(target);
  return m && Number(m[1]) < plainHidden(net) ? { layer: Number(m[1]), site: m[2] as 'pre' | 'post' } : null;
}

/**
 * evaluateUnderScaling for a plain MLP: `target` (a hidden layer's pre or post) scaled per variant on the
 * samples (x [count, d_in], or their rows as `sparse` (x then empty); read only without `cached`: the
 * target's values [count, width])
 */
export function evaluatePlain(
  net: PlainMlp, data: { x: Float32Array; labels: Uint8Array; count: number; sparse?: SparseInput }, target: ActName, variants: readonly ScaleVariant[],
  cached?: HostTensor,
): VariantResult[] {
  const at = plainSite(net, target);
  if (!at) throw new RangeError(`cannot scale ${target} of a plain MLP's weights: pick a hidden layer's pre or post`);
  const w = net.sizes[at.layer + 1], classes = net.sizes[net.sizes.length - 1], V = variants.length;
  const mask = scaleMask(variants, target, w);
  if (cached && cached.data.length !== data.count * w) throw new RangeError(`cached ${target}: expected ${data.count}×${w} values, got ${cached.data.length}`);
  let src = cached?.data;
  if (!src) {
    if (!data.sparse && data.x.length !== data.count * net.sizes[0]) throw new RangeError(`expected ${data.count} samples of ${net.sizes[0]} inputs, got ${data.x.length} values`);
    if (data.sparse && data.sparse.rowptr.length < data.sparse.start + data.count + 1) throw new RangeError(`expected ${data.count} sparse rows, got ${data.sparse.rowptr.length - 1 - data.sparse.start}`);
    const fw = plainForward(net, data.x, data.count, at.layer + 1, data.sparse);
    src = at.site === 'pre' ? fw.pre[at.layer] : fw.post[at.layer];
  }
  const pred = new Uint8Array(V * data.count), sums = new Float64Array(V * classes * classes);
  plainScaled(net, at.layer, at.site, src, data.count, data.labels, mask, V, pred, sums);
  return variantResults(variants, pred, sums, data.labels, data.count, classes);
}

/** torch.linspace(a, b, steps) in double, with 1.0 inserted (sorted) when absent (NB02 `analyze_neuron`) */
export function scalesWithOne(a: number, b: number, steps: number): number[] {
  const s = linspace(a, b, steps);
  if (!s.includes(1)) s.push(1);
  return s.sort((x, y) => x - y);
}

export interface NeuronAnalysis {
  target: ActName;
  neurons: number[];
  interval: [number, number];
  /** linspace(a, b, steps) ∪ {1}, sorted */
  scales: number[];
  /** overall accuracy % at each scale [scales] */
  accuracy: number[];
  /** accuracy % of each true class at each scale [scales, classes] */
  perClassAccuracy: number[][];
  /** mean logits at each scale [scales, classes] */
  meanLogits: number[][];
  /** mean logits per true class at each scale [scales, classes (true), classes] */
  meanLogitsByClass: number[][][];
  /** samples per class [classes] */
  counts: number[];
  /** confusion matrices [classes, classes] (rows = true) at scale 0, 1 and b, and the differences */
  confusion: {
    ablation: number[][]; baseline: number[][]; max: number[][];
    ablationMinusBaseline: number[][]; maxMinusBaseline: number[][];
  };
}

export interface LayerSweep {
  target: ActName;
  scales: number[];
  baseline: { accuracy: number; perClass: number[]; confusion: number[][] };
  /** one entry per neuron of the layer */
  neurons: {
    neuron: number;
    /** [scales] */
    accuracy: number[];
    /** [scales, classes] */
    perClassAccuracy: number[][];
    /** per-class accuracy change from the baseline, percentage points [scales, classes] */
    perClassDelta: number[][];
    /** [scales, classes, classes] */
    confusion: number[][][];
  }[];
}

/** torch.linspace(a, b, steps) in double, ends exact → [steps] */
export function linspace(a: number, b: number, steps: number): number[] {
  if (!(Number.isInteger(steps) && steps >= 1)) throw new RangeError(`steps must be a positive integer, got ${steps}`);
  return steps === 1 ? [a] : Array.from({ length: steps }, (_, i) => (i === steps - 1 ? b : a + ((b - a) * i) / (steps - 1)));
}

export interface NeuronSweep {
  target: ActName;
  neurons: number[];
  /** the scales as given (NB02 cells 60–61: linspace(0, 3, 20), which does not hold 1) */
  scales: number[];
  /** overall accuracy % at each scale [scales] */
  accuracy: number[];
  /** accuracy % of each true class at each scale [scales, classes] */
  perClassAccuracy: number[][];
  /** samples per class [classes] */
  counts: number[];
  /** the unmodified model (scale 1): accuracy %, per class [classes] */
  baseline: { accuracy: number; perClass: number[] };
  /** confusion matrices [classes, classes] (rows = true): unmodified, ablated (scale 0), ablation − baseline */
  confusion: { baseline: number[][]; ablation: number[][]; ablationMinusBaseline: number[][] };
}

/**
 * NB02's `analyze_neuron` (cells 60–72), batched: scales `neuron` (one index or several, scaled
 * together) of the tensor `target` by every scale of
 * linspace(a, b, steps) ∪ {1}; per-class accuracy and mean logits at each scale; confusion matrices at
 * scale 0, 1 and b (computed even when 0 is not in the sweep).
 */
export async function neuronAnalysisWith(
  evaluate: Evaluate, target: ActName, neuron: number | readonly number[], interval: readonly [number, number] = [0, 3], steps = 30,
): Promise<NeuronAnalysis> {
  const neurons = typeof neuron === 'number' ? [neuron] : [...neuron];
  const [a, b] = interval;
  const scales = scalesWithOne(a, b, steps);
  const all = [...new Set([...scales, 0, 1, b])];
  const res = await evaluate(target, all.map((scale) => ({ neurons, scale })));
  const at = (s: number) => res[all.indexOf(s)];
  const sweep = scales.map(at);
  return {
    target, neurons, interval: [a, b], scales,
    accuracy: sweep.map((r) => r.accuracy), perClassAccuracy: sweep.map((r) => r.perClass),
    meanLogits: sweep.map((r) => r.meanLogits), meanLogitsByClass: sweep.map((r) => r.meanLogitsByClass),
    counts: at(1).counts,
    confusion: {
      ablation: at(0).confusion, baseline: at(1).confusion, max: at(b).confusion,
      ablationMinusBaseline: matrixDiff(at(0).confusion, at(1).confusion),
      maxMinusBaseline: matrixDiff(at(b).confusion, at(1).confusion),
    },
  };
}

/**
 * every unit (of `width`) of the tensor `target` scaled alone by each of `scales` (default: ablation 0 and 3×):
 * per-class accuracy, its change from the unmodified model, and the confusion matrix, in one batched
 * pass per chunk of samples.
 */
export async function layerSweepWith(evaluate: Evaluate, target: ActName, w: number, scaleList: readonly number[] = [0, 3]): Promise<LayerSweep> {
  const scales = [...scaleList];
  const variants: ScaleVariant[] = [{ neurons: [], scale: 1 }];
  for (let j = 0; j < w; j++) for (const scale of scales) variants.push({ neurons: [j], scale });
  const [base, ...rest] = await evaluate(target, variants);
  return {
    target, scales,
    baseline: { accuracy: base.accuracy, perClass: base.perClass, confusion: base.confusion },
    neurons: Array.from({ length: w }, (_, j) => {
      const rs = rest.slice(j * scales.length, (j + 1) * scales.length);
      return {
        neuron: j, accuracy: rs.map((r) => r.accuracy), perClassAccuracy: rs.map((r) => r.perClass),
        perClassDelta: rs.map((r) => r.perClass.map((a, c) => a - base.perClass[c])),
        confusion: rs.map((r) => r.confusion),
      };
    }),
  };
}

/**
 * NB02 cells 60–67 as the notebook ran them (not through `analyze_neuron`): `neuron` of the tensor
 * `target` scaled by each of `scales` exactly (no 1.0 inserted), per-class accuracy
 * at each; the confusion matrices of the unmodified model and of the ablation (scale 0), and their
 * difference (cells 63–67), whether or not 0 and 1 are among the scales.
 */
export async function neuronSweepWith(
  evaluate: Evaluate, target: ActName, neuron: number | readonly number[], scales: readonly number[],
): Promise<NeuronSweep> {
  if (!scales.length) throw new RangeError('sweepNeuron: give at least one scale');
  const neurons = typeof neuron === 'number' ? [neuron] : [...neuron];
  const all = [...new Set([...scales, 0, 1])];
  const res = await evaluate(target, all.map((scale) => ({ neurons, scale })));
  const at = (s: number) => res[all.indexOf(s)];
  const sweep = scales.map(at), base = at(1), abl = at(0);
  return {
    target, neurons, scales: [...scales],
    accuracy: sweep.map((r) => r.accuracy), perClassAccuracy: sweep.map((r) => r.perClass), counts: base.counts,
    baseline: { accuracy: base.accuracy, perClass: base.perClass },
    confusion: { baseline: base.confusion, ablation: abl.confusion, ablationMinusBaseline: matrixDiff(abl.confusion, base.confusion) },
  };
}
