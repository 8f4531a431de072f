// interventions: scale (or ablate: scale 0) some columns of one named tensor during the forward pass,
// through the model's replacement mechanism. Batched: the layers before the named tensor run once per
// chunk of samples; the replacement stacks every variant ([variants·n, width]) so only the layers
// after it run once per variant. A CNN's unit is a channel: the replacement scales that channel's whole
// map; given the tensor's values already computed (`cached`), the layers before it are not run at all.
import { mul, reshape } from '../engine/ops/index.ts';
import { noGrad, Tensor } from '../engine/tensor.ts';
import type { ActName } from '../mlp/names.ts';
import type { Net } from '../mlp/net.ts';
import { fusedCnnCpuActs } from '../mlp/fused-cnn-cpu.ts';
import {
  forwardFrom, layerName, linearHead, sizeOf, sliceImages, widthOf, type HeadLayer, type HostTensor, type LabelledImages, type Site,
} from './forward-cache.ts';
import { isPlainMlp, plainMlpOf, type PlainMlp } from './plain-mlp.ts';
import {
  evaluatePlain, layerSweepWith, neuronAnalysisWith, neuronSweepWith, plainSite, plainTarget, scaleMask, variantResults,
  type LayerSweep, type NeuronAnalysis, type NeuronSweep, type ScaleVariant, type VariantResult,
} from './scaling.ts';

export { linspace, scalesWithOne, type LayerSweep, type NeuronAnalysis, type NeuronSweep, type ScaleVariant, type VariantResult } from './scaling.ts';

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
  model: Net | PlainMlp, data: LabelledImages, target: ActName, variants: readonly ScaleVariant[], opts: InterventionOptions = {},
): Promise<VariantResult[]> {
  if (target === 'loss') throw new RangeError('cannot scale the loss: pick an activation');
  // the plain MLP on the cpu backend: its layers by hand (plain-mlp.ts, the oracle's numbers)
  const plain = isPlainMlp(model) ? model : plainMlpOf(model);
  if (plain && plainSite(plain, target)) return evaluatePlain(plain, data, target, variants, opts.cached);
  if (isPlainMlp(model)) throw new RangeError(`cannot scale ${target} of a plain MLP's weights: pick a hidden layer's pre or post`);
  const backend = model.layers[0].W.backend;
  const w = widthOf(model, target), classes = model.classes, V = variants.length;
  // a map's unit is a channel: its positions share the channel's scale
  const size = sizeOf(model, target), pos = size / w, shape = model.unitShape(target);
  const cached = opts.cached;
  if (cached && cached.data.length !== data.count * size) throw new RangeError(`cached ${target}: expected ${data.count}×${size} values, got ${cached.data.length}`);
  const mask = scaleMask(variants, target, w); // [variants, 1, width] (a map's: [variants, 1, channels, 1])
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
  return variantResults(variants, pred, sums, data.labels, data.count, classes);
}

/** the name of hidden layer `layer`'s tensor at `site` (layerName), for a model or a plain MLP's weights */
function targetOf(model: Net | PlainMlp, layer: number, site?: Site): ActName {
  return isPlainMlp(model) ? plainTarget(model, layer, site) : layerName(model, layer, site);
}

/** units of a hidden tensor (widthOf), for a model or a plain MLP's weights */
const unitsOf = (model: Net | PlainMlp, name: ActName): number =>
  isPlainMlp(model) ? model.sizes[Number(name.split('.')[1]) + 1] : widthOf(model, name);

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

/**
 * NB02's `analyze_neuron` (cells 60–72), batched: scales `neuron` (one index or several, scaled
 * together) of hidden layer `layer` (post-ReLU by default) by every scale of
 * linspace(a, b, steps) ∪ {1}; per-class accuracy and mean logits at each scale; confusion matrices at
 * scale 0, 1 and b (computed even when 0 is not in the sweep).
 */
export async function analyzeNeuron(
  model: Net | PlainMlp, layer: number, neuron: number | readonly number[], data: LabelledImages,
  interval: readonly [number, number] = [0, 3], steps = 30, opts: { site?: Site } & InterventionOptions = {},
): Promise<NeuronAnalysis> {
  const target = targetOf(model, layer, opts.site);
  return neuronAnalysisWith((t, v) => evaluateUnderScaling(model, data, t, v, opts), target, neuron, interval, steps);
}

/**
 * every neuron of hidden layer `layer` scaled alone by each of `scales` (default: ablation 0 and 3×):
 * per-class accuracy, its change from the unmodified model, and the confusion matrix, in one batched
 * pass per chunk of samples.
 */
export async function sweepLayer(
  model: Net | PlainMlp, layer: number, data: LabelledImages,
  opts: { scales?: readonly number[]; site?: Site } & InterventionOptions = {},
): Promise<LayerSweep> {
  const target = targetOf(model, layer, opts.site);
  return layerSweepWith((t, v) => evaluateUnderScaling(model, data, t, v, opts), target, unitsOf(model, target), opts.scales ?? [0, 3]);
}

/**
 * NB02 cells 60–67 as the notebook ran them (not through `analyze_neuron`): `neuron` of hidden layer
 * `layer` (post-ReLU by default) scaled by each of `scales` exactly (no 1.0 inserted), per-class accuracy
 * at each; the confusion matrices of the unmodified model and of the ablation (scale 0), and their
 * difference (cells 63–67), whether or not 0 and 1 are among the scales.
 */
export async function sweepNeuron(
  model: Net | PlainMlp, layer: number, neuron: number | readonly number[], data: LabelledImages,
  scales: readonly number[], opts: { site?: Site } & InterventionOptions = {},
): Promise<NeuronSweep> {
  const target = targetOf(model, layer, opts.site);
  return neuronSweepWith((t, v) => evaluateUnderScaling(model, data, t, v, opts), target, neuron, scales);
}
