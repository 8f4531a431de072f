// batched runWithCache over labelled images: every named activation and, with the same keys, its
// per-sample gradient, copied to the host as plain {shape, data} records.
import { mul, oneHot, sum } from '../engine/ops/index.ts';
import { noGrad, Tensor } from '../engine/tensor.ts';
import { pixel } from '../mlp/batch.ts';
import type { Split } from '../mlp/mnist.ts';
import type { Acts, Mlp, Replacements } from '../mlp/model.ts';
import { actNames, type ActName } from '../mlp/names.ts';

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

/** width of a named activation of `model` (rows are samples) */
export function widthOf(model: Mlp, name: ActName): number {
  if (name === 'input') return model.sizes[0];
  if (name === 'logits') return model.sizes[model.sizes.length - 1];
  if (name === 'loss') return 1;
  const k = Number(name.split('.')[1]);
  if (!(k >= 0 && k < model.hidden)) throw new RangeError(`${name}: the model has hidden layers 0..${model.hidden - 1}`);
  return model.sizes[k + 1];
}

/** checks a hidden layer index and returns the name of its pre- or post-activation */
export function layerName(model: Mlp, layer: number, site: 'pre' | 'post' = 'post'): ActName {
  if (!Number.isInteger(layer) || layer < 0 || layer >= model.hidden) {
    throw new RangeError(`layer ${layer}: the model has hidden layers 0..${model.hidden - 1}`);
  }
  return `layers.${layer}.${site}`;
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
  model: Mlp, x: HostTensor, labels: ArrayLike<number>,
  opts: { names?: readonly ActName[]; grad?: GradTarget; replace?: Replacements } = {},
): Promise<{ acts: NamedHost; grads: NamedHost }> {
  const backend = model.layers[0].W.backend;
  const names = opts.names ?? actNames(model.hidden).filter((n) => n !== 'input');
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

/**
 * activations of every named tensor over a labelled set, and per-sample gradients for each target in
 * `grads`, in chunks of `batch` samples (one forward per chunk, plus one forward+backward per target).
 * Every record is [count, width], rows in data order.
 */
export async function cacheImages(
  model: Mlp, data: LabelledImages,
  opts: { names?: readonly ActName[]; grads?: readonly GradTarget[]; batch?: number; replace?: Replacements } = {},
): Promise<ImageCache> {
  const batch = opts.batch ?? 2500, targets = opts.grads ?? [];
  const names = opts.names ?? actNames(model.hidden).filter((n) => n !== 'input');
  const alloc = (): NamedHost => Object.fromEntries(names.map((n) => {
    const w = widthOf(model, n);
    return [n, { shape: n === 'loss' ? [data.count] : [data.count, w], data: new Float32Array(data.count * w) }];
  }));
  const acts = alloc();
  const grads: Partial<Record<GradTarget, NamedHost>> = Object.fromEntries(targets.map((t) => [t, alloc()]));
  for (let start = 0; start < data.count; start += batch) {
    const part = sliceImages(data, start, Math.min(batch, data.count - start));
    const x = { shape: [part.count, data.dim], data: part.x };
    const passes = targets.length ? targets.map((g) => ({ grad: g as GradTarget | undefined })) : [{ grad: undefined }];
    for (const [p, { grad }] of passes.entries()) {
      const r = await runWithCache(model, x, part.labels, { names, grad, replace: opts.replace });
      for (const n of names) {
        const w = widthOf(model, n);
        if (p === 0) acts[n]!.data.set(r.acts[n]!.data, start * w);
        if (grad && r.grads[n]) grads[grad]![n]!.data.set(r.grads[n]!.data, start * w);
      }
    }
  }
  return { labels: Uint8Array.from(data.labels), acts, grads };
}
