// interventions: scale (or ablate: scale 0) some columns of one named tensor during the forward pass,
// through the model's replacement mechanism. Batched: the layers before the named tensor run once per
// chunk of samples; the replacement stacks every variant ([variants·n, width]) so only the layers
// after it run once per variant. A CNN's unit is a channel: the replacement scales that channel's whole
// map; given the tensor's values already computed (`cached`), the layers before it are not run at all.
import { mul, reshape } from '../engine/ops/index.ts';
import { noGrad, Tensor } from '../engine/tensor.ts';
import type { ActName } from '../mlp/names.ts';
import type { Net } from '../mlp/net.ts';
import { accuracyPerClass, type ClassAccuracy } from './accuracy.ts';
import { confusionMatrix, matrixDiff } from './confusion.ts';
import { fusedCnnCpuActs } from '../mlp/fused-cnn-cpu.ts';
import {
  forwardFrom, layerName, linearHead, sizeOf, sliceImages, widthOf, type HeadLayer, type HostTensor, type LabelledImages, type Site,
} from './forward-cache.ts';

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

/** rows per forward pass (variants × samples) */
const MAX_ROWS = 1 << 17;
/** values of a stacked map per forward pass (variants × samples × C·H·W) */
const MAX_VALUES = 1 << 23;

/** what the interventions take besides the samples: the scaled tensor's values on them, when already computed */
export interface InterventionOptions {
  /**
   * `target`'s values on the samples [count, values per sample] (a map flattened), e.g. cacheImages'
   * `maps`: the layers before it are then not run
   */
  cached?: HostTensor;
}

/**
 * the model on `data` once per variant, with `target`'s columns scaled as the variant says: per-class
 * accuracy, confusion matrix and mean logits of each variant. `target` is any named tensor but `loss`
 * (`layers.K.post` for a neuron's output, `layers.K.pre` before its ReLU).
 */
export async function evaluateUnderScaling(
  model: Net, data: LabelledImages, target: ActName, variants: readonly ScaleVariant[], opts: InterventionOptions = {},
): Promise<VariantResult[]> {
  if (target === 'loss') throw new RangeError('cannot scale the loss: pick an activation');
  const backend = model.layers[0].W.backend;
  const w = widthOf(model, target), classes = model.classes, V = variants.length;
  // a map's unit is a channel: its positions share the channel's scale
  const size = sizeOf(model, target), pos = size / w, shape = model.unitShape(target);
  const cached = opts.cached;
  if (cached && cached.data.length !== data.count * size) throw new RangeError(`cached ${target}: expected ${data.count}×${size} values, got ${cached.data.length}`);
  const mask = new Float32Array(V * w).fill(1); // [variants, 1, width] (a map's: [variants, 1, channels, 1])
  variants.forEach((v, r) => v.neurons.forEach((j) => {
    if (!(Number.isInteger(j) && j >= 0 && j < w)) throw new RangeError(`${target} has neurons 0..${w - 1}, got ${j}`);
    mask[r * w + j] = v.scale;
  }));
  const maskT = Tensor.from(mask, pos === 1 ? [V, 1, w] : [V, 1, w, 1], { backend });
  const pred = new Uint8Array(V * data.count); // [variants, n]
  const sums = new Float64Array(V * classes * classes); // [variants, classes (true), classes]
  // a CNN on the cpu backend whose layers after `target` are linear: every variant from each sample's channel contributions
  const head = linearHead(model, target);
  if (head) await scaledThroughHead(model, data, target, head, mask, V, opts.cached, pred, sums);
  const chunk = Math.max(1, pos === 1 ? Math.floor(MAX_ROWS / V) : Math.floor(MAX_VALUES / (V * size)));
  for (let start = 0; start < (head ? 0 : data.count); start += chunk) {
    const part = sliceImages(data, start, Math.min(chunk, data.count - start)), n = part.count;
    // the cached values stacked once per variant, each unit scaled, on the host ([variants·n, units·positions])
    const stackHost = (src: Float32Array, start: number, n: number) => {
      const out = new Float32Array(V * n * size);
      for (let v = 0; v < V; v++) {
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < w; j++) {
            const sc = mask[v * w + j], o = ((v * n + i) * w + j) * pos, q = ((start + i) * w + j) * pos;
            if (sc === 1) out.set(src.subarray(q, q + pos), o);
            else for (let p = 0; p < pos; p++) out[o + p] = src[q + p] * sc;
          }
        }
      }
      return out;
    };
    const stack = pos === 1
      ? (t: Tensor) => reshape(mul(reshape(t, [1, n, w]), maskT), [V * n, w]) // [variants·n, width]
      : (t: Tensor) => reshape(mul(reshape(t, [1, n, w, pos]), maskT), [V * n, ...shape]); // [variants·n, C, H, W]
    const logits = await noGrad(() => {
      if (cached) return forwardFrom(model, target, Tensor.from(stackHost(cached.data, start, n), [V * n, ...shape], { backend })).logits!;
      const xt = Tensor.from(part.x, [n, data.dim], { backend }); // [n, d_in]
      return model.forward(xt, null, { [target]: stack }).logits!;
    }).read(); // [variants·n, classes]
    for (let v = 0; v < V; v++) {
      for (let i = 0; i < n; i++) {
        const o = (v * n + i) * classes, y = part.labels[i], s = (v * classes + y) * classes;
        let best = 0;
        for (let c = 0; c < classes; c++) {
          sums[s + c] += logits[o + c];
          if (logits[o + c] > logits[o + best]) best = c;
        }
        pred[v * data.count + start + i] = best;
      }
    }
  }
  return variants.map((variant, v) => {
    const p = pred.subarray(v * data.count, (v + 1) * data.count);
    const acc = accuracyPerClass(p, data.labels, classes);
    const byClass = Array.from({ length: classes }, (_, t) =>
      Array.from({ length: classes }, (_, c) => sums[(v * classes + t) * classes + c] / acc.counts[t]));
    const meanLogits = Array.from({ length: classes }, (_, c) =>
      byClass.reduce((s, row, t) => s + row[c] * acc.counts[t], 0) / data.count);
    return { variant, ...acc, confusion: confusionMatrix(p, data.labels, classes), meanLogits, meanLogitsByClass: byClass };
  });
}

/** samples per pass of scaledThroughHead when the target's values are computed (not cached) */
const HEAD_CHUNK = 1000;

/**
 * evaluateUnderScaling's variants through a linear head (forward-cache.ts linearHead: the layers after
 * `target` all linear, the first reading it): the first layer's pre-activation is linear in the target's
 * units, so per sample each unit's contribution c_j = Σ_positions x · W (f64) is computed once, and a
 * variant's pre-activation is b + Σ_j c_j + Σ_{j scaled} (scale − 1) · c_j; then the ReLU and the other
 * layers. Instead of stacking the map once per variant (a CNN's ≈ 1 M rows of 256 values through the
 * oracle's linear op): the same numbers to f32 rounding. The target's values: `cached`, else the fused
 * CNN forward (mlp/fused-cnn-cpu.ts), else the generic one. Fills pred [variants, count] and sums.
 */
async function scaledThroughHead(
  model: Net, data: LabelledImages, target: ActName, head: readonly HeadLayer[], mask: Float32Array, V: number,
  cached: HostTensor | undefined, pred: Uint8Array, sums: Float64Array,
): Promise<void> {
  const w = widthOf(model, target), size = sizeOf(model, target), pos = size / w, classes = model.classes;
  const first = head[0], H = first.dout, L = head.length;
  // per variant: the scaled units and their scale − 1
  const scaled = Array.from({ length: V }, (_, v) => {
    const js: number[] = [], ds: number[] = [];
    for (let j = 0; j < w; j++) if (mask[v * w + j] !== 1) { js.push(j); ds.push(mask[v * w + j] - 1); }
    return { js, ds };
  });
  const contrib = new Float64Array(w * H), base = new Float64Array(H);
  const widest = Math.max(...head.map((l) => l.dout));
  const h = new Float64Array(widest), nxt = new Float64Array(widest);
  const step = cached ? data.count : HEAD_CHUNK;
  for (let start = 0; start < data.count; start += step) {
    const n = Math.min(step, data.count - start);
    let src: Float32Array, off: number;
    if (cached) { src = cached.data; off = start; } else {
      const part = sliceImages(data, start, n);
      const fast = model.kind === 'cnn' ? await fusedCnnCpuActs(model, part.x, n, [target]) : null;
      src = fast ? fast[target]!.data : Float32Array.from(await noGrad(() => model.forward(Tensor.from(part.x, [n, data.dim], { backend: model.layers[0].W.backend })))[target]!.read());
      off = 0;
    }
    for (let i = 0; i < n; i++) {
      const row = (off + i) * size, y = data.labels[start + i];
      contrib.fill(0);
      for (let j = 0; j < w; j++) {
        for (let p = 0; p < pos; p++) {
          const r = j * pos + p, v = src[row + r];
          if (v === 0) continue;
          for (let o = 0, q = r * H, c = j * H; o < H; o++) contrib[c + o] += v * first.W[q + o];
        }
      }
      for (let o = 0; o < H; o++) {
        let s = first.b[o];
        for (let j = 0; j < w; j++) s += contrib[j * H + o];
        base[o] = s;
      }
      for (let v = 0; v < V; v++) {
        const { js, ds } = scaled[v];
        for (let o = 0; o < H; o++) h[o] = base[o];
        for (let t = 0; t < js.length; t++) for (let o = 0, c = js[t] * H; o < H; o++) h[o] += ds[t] * contrib[c + o];
        // the ReLU and the next layers (each as f32 values)
        let width = H;
        for (let q = 1; q < L; q++) {
          const { W, b, dout } = head[q];
          for (let o = 0; o < dout; o++) nxt[o] = 0;
          for (let r = 0; r < width; r++) {
            const x = Math.fround(h[r]);
            if (!(x > 0)) continue;
            for (let o = 0, k = r * dout; o < dout; o++) nxt[o] += x * W[k + o];
          }
          for (let o = 0; o < dout; o++) h[o] = nxt[o] + b[o];
          width = dout;
        }
        const s = (v * classes + y) * classes;
        let best = 0, top = -Infinity;
        for (let c = 0; c < classes; c++) {
          const z = Math.fround(h[c]);
          sums[s + c] += z;
          if (z > top || c === 0) { top = z; best = c; }
        }
        pred[v * data.count + start + i] = best;
      }
    }
  }
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

/**
 * NB02's `analyze_neuron` (cells 60–72), batched: scales `neuron` (one index or several, scaled
 * together) of hidden layer `layer` (post-ReLU by default) by every scale of
 * linspace(a, b, steps) ∪ {1}; per-class accuracy and mean logits at each scale; confusion matrices at
 * scale 0, 1 and b (computed even when 0 is not in the sweep).
 */
export async function analyzeNeuron(
  model: Net, layer: number, neuron: number | readonly number[], data: LabelledImages,
  interval: readonly [number, number] = [0, 3], steps = 30, opts: { site?: Site } & InterventionOptions = {},
): Promise<NeuronAnalysis> {
  const target = layerName(model, layer, opts.site);
  const neurons = typeof neuron === 'number' ? [neuron] : [...neuron];
  const [a, b] = interval;
  const scales = scalesWithOne(a, b, steps);
  const all = [...new Set([...scales, 0, 1, b])];
  const res = await evaluateUnderScaling(model, data, target, all.map((scale) => ({ neurons, scale })), opts);
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

/**
 * every neuron of hidden layer `layer` scaled alone by each of `scales` (default: ablation 0 and 3×):
 * per-class accuracy, its change from the unmodified model, and the confusion matrix, in one batched
 * pass per chunk of samples.
 */
export async function sweepLayer(
  model: Net, layer: number, data: LabelledImages,
  opts: { scales?: readonly number[]; site?: Site } & InterventionOptions = {},
): Promise<LayerSweep> {
  const target = layerName(model, layer, opts.site), w = widthOf(model, target);
  const scales = [...(opts.scales ?? [0, 3])];
  const variants: ScaleVariant[] = [{ neurons: [], scale: 1 }];
  for (let j = 0; j < w; j++) for (const scale of scales) variants.push({ neurons: [j], scale });
  const [base, ...rest] = await evaluateUnderScaling(model, data, target, variants, opts);
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
 * NB02 cells 60–67 as the notebook ran them (not through `analyze_neuron`): `neuron` of hidden layer
 * `layer` (post-ReLU by default) scaled by each of `scales` exactly (no 1.0 inserted), per-class accuracy
 * at each; the confusion matrices of the unmodified model and of the ablation (scale 0), and their
 * difference (cells 63–67), whether or not 0 and 1 are among the scales.
 */
export async function sweepNeuron(
  model: Net, layer: number, neuron: number | readonly number[], data: LabelledImages,
  scales: readonly number[], opts: { site?: Site } & InterventionOptions = {},
): Promise<NeuronSweep> {
  if (!scales.length) throw new RangeError('sweepNeuron: give at least one scale');
  const target = layerName(model, layer, opts.site);
  const neurons = typeof neuron === 'number' ? [neuron] : [...neuron];
  const all = [...new Set([...scales, 0, 1])];
  const res = await evaluateUnderScaling(model, data, target, all.map((scale) => ({ neurons, scale })), opts);
  const at = (s: number) => res[all.indexOf(s)];
  const sweep = scales.map(at), base = at(1), abl = at(0);
  return {
    target, neurons, scales: [...scales],
    accuracy: sweep.map((r) => r.accuracy), perClassAccuracy: sweep.map((r) => r.perClass), counts: base.counts,
    baseline: { accuracy: base.accuracy, perClass: base.perClass },
    confusion: { baseline: base.confusion, ablation: abl.confusion, ablationMinusBaseline: matrixDiff(abl.confusion, base.confusion) },
  };
}
