// batched runWithCache over labelled images: every named activation and, with the same keys, its
// per-sample gradient, copied to the host as plain {shape, data} records. A model is an MLP or a CNN (a
// Net): the tables are [samples, units], a conv map [B, C, H, W] entering as its channels' spatial means
// and its gradient as the per-channel sums over positions (mlp/units.ts), so the neuron analyses carry over.
import { mul, oneHot, sum } from '../engine/ops/index.ts';
import { noGrad, Tensor } from '../engine/tensor.ts';
import { pixel } from '../mlp/batch.ts';
import type { Split } from '../mlp/mnist.ts';
import type { Acts, Replacements } from '../mlp/model.ts';
import { actNames, type ActName } from '../mlp/names.ts';
import type { Net } from '../mlp/net.ts';
import { channelReduce, unitCount } from '../mlp/units.ts';

/** a plain row-major array and its shape: what analysis functions read */
export interface HostTensor { shape: number[]; data: Float32Array }

/** labelled inputs: x [count, dim] row-major, labels [count]; `indices` are the rows' positions in the source split */
export interface LabelledImages {
  x: Float32Array;
  labels: Uint8Array;
  indices: Uint32Array;
  count: number;
  dim: number;
}

/**
 * what a per-sample gradient differentiates: `loss` is the sample's own cross-entropy (NB02 cells
 * 35–37), `trueLogit` the logit of its true class (cells 41–44)
 */
export type GradTarget = 'loss' | 'trueLogit';

/** named activations (and gradients: same keys) of a set of samples, rows in sample order */
export type NamedHost = Partial<Record<ActName, HostTensor>>;

/** the record of `cacheImages`: labels [count], acts, and per gradient target the gradients of the same names */
export interface ImageCache {
  labels: Uint8Array;
  acts: NamedHost;
  grads: Partial<Record<GradTarget, NamedHost>>;
}

export interface ImageOptions {
  /**
   * `unit`: bytes / 255 (ToTensor, what the model was trained on). `raw`: the bytes 0..255 as
   * floats, as NB02 cells 53–57 feed `test_dataset.data` (a notebook mistake, kept as an option)
   */
  pixels?: 'unit' | 'raw';
  /** keep only samples with these labels (in split order) */
  classes?: readonly number[];
  /** keep at most this many samples (after the class filter) */
  limit?: number;
}

/** a split's images as floats [count, rows·cols] with their labels, optionally filtered to some classes */
export function imagesFromSplit(split: Split, opts: ImageOptions = {}): LabelledImages {
  const d = split.rows * split.cols, raw = opts.pixels === 'raw';
  const keep = opts.classes ? new Set(opts.classes) : null;
  const picked: number[] = [];
  for (let i = 0; i < split.count && picked.length < (opts.limit ?? Infinity); i++) {
    if (!keep || keep.has(split.labels[i])) picked.push(i);
  }
  const x = new Float32Array(picked.length * d); // [count, d_in]
  picked.forEach((s, r) => {
    for (let j = 0; j < d; j++) {
      const b = split.images[s * d + j];
      x[r * d + j] = raw ? b : pixel(b);
    }
  });
  return {
    x, labels: Uint8Array.from(picked, (s) => split.labels[s]), indices: Uint32Array.from(picked),
    count: picked.length, dim: d,
  };
}

/** rows [start, start + n) of a labelled set */
export function sliceImages(data: LabelledImages, start: number, n: number): LabelledImages {
  return {
    x: data.x.subarray(start * data.dim, (start + n) * data.dim), labels: data.labels.subarray(start, start + n),
    indices: data.indices.subarray(start, start + n), count: n, dim: data.dim,
  };
}

/** units of a named activation of `model` (rows are samples): neurons, or a conv map's channels */
export function widthOf(model: Net, name: ActName): number {
  if (model.kind === 'cnn') return unitCount(model.unitShape(name));
  if (name === 'input') return model.sizes[0];
  if (name === 'logits') return model.sizes[model.sizes.length - 1];
  if (name === 'loss') return 1;
  const k = Number(name.split('.')[1]);
  if (!(k >= 0 && k < model.hidden)) throw new RangeError(`${name}: the model has hidden layers 0..${model.hidden - 1}`);
  return model.sizes[k + 1];
}

/** values per sample of a named activation (C·H·W for a map, its width for a vector) */
export function sizeOf(model: Net, name: ActName): number {
  return model.kind === 'cnn' ? model.unitShape(name).reduce((a, b) => a * b, 1) : widthOf(model, name);
}

/** hidden (weighted, not output) layers of a model */
export const hiddenCount = (model: Net): number => model.layers.length - 1;

/** the tensor of a layer an analysis reads: before the ReLU, after it, or (a pooled conv layer) after the pooling */
export type Site = 'pre' | 'post' | 'pool';

/** checks a hidden layer index and returns the name of its pre-activation, post-activation or pooled map */
export function layerName(model: Net, layer: number, site: Site = 'post'): ActName {
  const hidden = hiddenCount(model);
  if (!Number.isInteger(layer) || layer < 0 || layer >= hidden) {
    throw new RangeError(`layer ${layer}: the model has hidden layers 0..${hidden - 1}`);
  }
  if (site === 'pool' && !(model.kind === 'cnn' && model.layers[layer].pool)) throw new RangeError(`layer ${layer} is not followed by a pooling`);
  return `layers.${layer}.${site}`;
}

/**
 * units per layer as the analyses' tables see them: the input size, each hidden layer's units (neurons,
 * or a conv layer's channels) and the classes (an MLP's sizes)
 */
export function unitSizes(model: Net): number[] {
  if (model.kind === 'mlp') return [...model.sizes];
  return [model.inputSize, ...model.layers.slice(0, -1).map((l) => l.spec.out), model.classes];
}

/** every name the model's forward pass returns, in model order */
export function namesOf(model: Net): ActName[] {
  return model.kind === 'cnn' ? model.actNames() : actNames(model.hidden);
}

/**
 * the layers of `model` after the tensor `name`, fed with `t` in its place (any batch size: the
 * replacement mechanism with a one-image input that nothing reads): what an intervention or a gradient
 * of a later tensor needs, without recomputing the layers before it. `replace` adds other replacements.
 */
export function forwardFrom(model: Net, name: ActName, t: Tensor, y: Tensor | null = null, replace: Replacements = {}): Acts {
  const backend = model.layers[0].W.backend, d = model.inputSize;
  const own = replace[name];
  return model.forward(Tensor.from(new Float32Array(d), [1, d], { backend }), y, { ...replace, [name]: () => (own ? own(t) : t) });
}

/** the scalar whose gradient gives each sample's own gradient: Σ_i loss_i, or Σ_i logits[i, y_i] → [] */
export function gradRoot(acts: Acts, labels: Tensor, target: GradTarget): Tensor {
  if (target === 'loss') return sum(acts.loss!, 0); // []
  const logits = acts.logits!;
  return sum(sum(mul(logits, oneHot(labels, logits.shape[1])), 1), 0); // []
}

async function toHost(t: Tensor): Promise<HostTensor> {
  return { shape: [...t.shape], data: Float32Array.from(await t.read()) };
}

/**
 * runWithCache: one forward pass of x [n, d_in] (labels [n]) and, when `grad` is set, one backward
 * pass of the sum over samples of the target, so row i of each gradient is sample i's own gradient
 * (the notebooks' batch-size-1 loop, batched). `replace` is the model's intervention mechanism.
 * Returns `acts` and `grads` with the same keys (default: every name but `input`).
 */
export async function runWithCache(
  model: Net, x: HostTensor, labels: ArrayLike<number>,
  opts: { names?: readonly ActName[]; grad?: GradTarget; replace?: Replacements } = {},
): Promise<{ acts: NamedHost; grads: NamedHost }> {
  const backend = model.layers[0].W.backend;
  const names = opts.names ?? namesOf(model).filter((n) => n !== 'input');
  const xt = Tensor.from(x.data, x.shape, { backend }); // [batch, d_in]
  const yt = Tensor.from(Float32Array.from(labels), [x.shape[0]], { backend }); // [batch]
  const run = () => model.forward(xt, yt, opts.replace);
  const acts = opts.grad ? run() : noGrad(run);
  if (opts.grad) gradRoot(acts, yt, opts.grad).backward();
  const hostActs: NamedHost = {}, hostGrads: NamedHost = {};
  for (const name of names) {
    const t = acts[name];
    if (!t) continue;
    hostActs[name] = await toHost(t);
    if (opts.grad && t.grad) hostGrads[name] = await toHost(t.grad);
  }
  return { acts: hostActs, grads: hostGrads };
}

/** the options of cacheImages */
export interface CacheOptions {
  names?: readonly ActName[];
  grads?: readonly GradTarget[];
  batch?: number;
  replace?: Replacements;
  /** names whose whole per-sample values are kept too (a map flattened: [count, C·H·W]), in `maps` */
  keep?: readonly ActName[];
  /**
   * per-sample gradients from this tensor on: the forward pass runs once without gradients, then the
   * layers after `gradFrom` run again from its (detached) values once per gradient target, so the
   * backward pass never enters the layers before it (a CNN's convolutions); gradients exist for
   * `gradFrom` and the names after it only
   */
  gradFrom?: ActName;
  /** each chunk's raw activations (maps [n, C, H, W]) of these names, for what needs more than units */
  onChunk?: { names: readonly ActName[]; fn: (start: number, acts: NamedHost) => void };
}

/**
 * activations of every named tensor over a labelled set, and per-sample gradients for each target in
 * `grads`, in chunks of `batch` samples (one forward per chunk, plus one forward+backward per target).
 * Every record is [count, units], rows in data order: a conv map's units are its channels' spatial means
 * (its gradient's: the per-channel sums over positions, mlp/units.ts).
 */
export async function cacheImages(model: Net, data: LabelledImages, opts: CacheOptions = {}): Promise<ImageCache & { maps: NamedHost }> {
  const batch = opts.batch ?? 2500, targets = opts.grads ?? [];
  const order = namesOf(model);
  const names = opts.names ?? order.filter((n) => n !== 'input');
  const from = opts.gradFrom, fromAt = from ? order.indexOf(from) : -1;
  if (from && fromAt < 0) throw new RangeError(`gradFrom: the model has no tensor named ${from}`);
  const gradNames = from ? names.filter((n) => order.indexOf(n) >= fromAt) : names;
  const keep = opts.keep ?? [], chunkNames = opts.onChunk?.names ?? [];
  const read = [...new Set([...names, ...keep, ...chunkNames, ...(from ? [from] : [])])];
  const alloc = (of: readonly ActName[]): NamedHost => Object.fromEntries(of.map((n) => {
    const w = widthOf(model, n);
    return [n, { shape: n === 'loss' ? [data.count] : [data.count, w], data: new Float32Array(data.count * w) }];
  }));
  const acts = alloc(names);
  const grads: Partial<Record<GradTarget, NamedHost>> = Object.fromEntries(targets.map((t) => [t, alloc(gradNames)]));
  const maps: NamedHost = Object.fromEntries(keep.map((n) => {
    const s = sizeOf(model, n);
    return [n, { shape: [data.count, s], data: new Float32Array(data.count * s) }];
  }));
  // a record's rows into its table at row `start`: a map [n, C, H, W] as per-channel means (acts) or sums (grads)
  const store = (dst: NamedHost, src: NamedHost, of: readonly ActName[], start: number, mean: boolean) => {
    for (const n of of) {
      const t = src[n];
      if (!t) continue;
      const w = widthOf(model, n);
      if (t.shape.length === 4) channelReduce(t.data, t.shape[0], t.shape[1], t.shape[2] * t.shape[3], mean, dst[n]!.data, start * w);
      else dst[n]!.data.set(t.data, start * w);
    }
  };
  for (let start = 0; start < data.count; start += batch) {
    const part = sliceImages(data, start, Math.min(batch, data.count - start));
    const x = { shape: [part.count, data.dim], data: part.x };
    const first = (r: { acts: NamedHost }) => {
      store(acts, r.acts, names, start, true);
      for (const n of keep) maps[n]!.data.set(r.acts[n]!.data, start * sizeOf(model, n));
      opts.onChunk?.fn(start, r.acts);
    };
    if (!from) {
      const passes = targets.length ? targets.map((g) => ({ grad: g as GradTarget | undefined })) : [{ grad: undefined }];
      for (const [p, { grad }] of passes.entries()) {
        const r = await runWithCache(model, x, part.labels, { names: read, grad, replace: opts.replace });
        if (p === 0) first(r);
        if (grad) store(grads[grad]!, r.grads, gradNames, start, false);
      }
      continue;
    }
    const r = await runWithCache(model, x, part.labels, { names: read, replace: opts.replace });
    first(r);
    // (a replacement of `from` itself is in src already)
    const backend = model.layers[0].W.backend, src = r.acts[from]!, { [from]: _own, ...later } = opts.replace ?? {};
    const yt = Tensor.from(Float32Array.from(part.labels), [part.count], { backend }); // [batch]
    for (const g of targets) {
      const leaf = Tensor.from(src.data, src.shape, { backend, requiresGrad: true });
      const a = forwardFrom(model, from, leaf, yt, later);
      gradRoot(a, yt, g).backward();
      const host: NamedHost = {};
      for (const n of gradNames) {
        const gt = n === from ? (a[n]?.grad ?? leaf.grad) : a[n]?.grad;
        if (gt) host[n] = await toHost(gt);
      }
      store(grads[g]!, host, gradNames, start, false);
    }
  }
  return { labels: Uint8Array.from(data.labels), acts, grads, maps };
}
