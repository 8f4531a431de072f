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
import { fusedCnnCpuActs } from '../mlp/fused-cnn-cpu.ts';
import { channelReduce, unitCount } from '../mlp/units.ts';
import { plainForward, plainGrads, plainLosses, plainMlpOf } from './plain-mlp.ts';
import { sparseRows } from '../mlp/fused-cpu.ts';

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
  const lut = Float32Array.from({ length: 256 }, (_, b) => (raw ? b : pixel(b))), img = split.images;
  for (let r = 0; r < picked.length; r++) {
    for (let j = 0, o = r * d, i = picked[r] * d; j < d; j++) x[o + j] = lut[img[i + j]];
  }
  return {
    x, labels: Uint8Array.from(picked, (s) => split.labels[s]), indices: Uint32Array.from(picked),
    count: picked.length, dim: d,
  };
}

/** the split each lazyImages set reads, so that cacheImages can read its pixels as sparse rows */
const lazySources = new WeakMap<LabelledImages, Split>();

/**
 * imagesFromSplit(split) (every image, unit pixels) with `x` made only when first read: what the plain MLP's
 * forward cache reads as the split's sparse rows (mlp/fused-cpu.ts sparseRows) instead, the same values
 */
export function lazyImages(split: Split): LabelledImages {
  let x: Float32Array | null = null;
  const data: LabelledImages = {
    get x() { return (x ??= imagesFromSplit(split).x); },
    labels: Uint8Array.from(split.labels.subarray(0, split.count)), indices: Uint32Array.from({ length: split.count }, (_, i) => i),
    count: split.count, dim: split.rows * split.cols,
  };
  lazySources.set(data, split);
  return data;
}

/** image `i` of a split as imagesFromSplit gives its row (unit pixels) → [rows·cols] */
export function imageRow(split: Split, i: number): Float32Array {
  const d = split.rows * split.cols;
  return Float32Array.from(split.images.subarray(i * d, (i + 1) * d), (b) => pixel(b));
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
  // the plain MLP on the cpu backend: its passes by hand (plain-mlp.ts: the oracle's numbers, no graph)
  // (inputs of another width: the generic pass, which says so)
  const generic = from || keep.length || opts.onChunk || (opts.replace && Object.keys(opts.replace).length) || model.inputSize !== data.dim;
  const plain = generic ? null : plainMlpOf(model);
  // (a lazyImages set: its split's pixels as sparse rows, the dense rows never made)
  const source = plain && plain.sizes.length > 2 && data.dim <= 65536 ? lazySources.get(data) : undefined, rows = source ? sparseRows(source) : null;
  const lut = rows ? Float32Array.from({ length: 256 }, (_, b) => pixel(b)) : null;
  for (let start = 0; plain && start < data.count; start += batch) {
    const n = Math.min(batch, data.count - start);
    const part = rows ? { x: new Float32Array(0), labels: data.labels.subarray(start, start + n) } : sliceImages(data, start, n);
    const fw = plainForward(plain, part.x, n, undefined, rows ? { ...rows, lut: lut!, start } : undefined);
    const host = (of: Partial<Record<ActName, Float32Array>>): NamedHost =>
      Object.fromEntries(Object.entries(of).map(([k, v]) => [k, { shape: [n, v!.length / n], data: v! }])) as NamedHost;
    const H = fw.pre.length, own: Partial<Record<ActName, Float32Array>> = {
      ...(names.includes('input') ? { input: rows ? data.x.subarray(start * data.dim, (start + n) * data.dim) : part.x } : {}), logits: fw.logits, loss: plainLosses(fw.logits, part.labels, n, plain.sizes[H + 1]),
    };
    for (let k = 0; k < H; k++) { own[`layers.${k}.pre`] = fw.pre[k]; own[`layers.${k}.post`] = fw.post[k]; }
    store(acts, host(own), names, start, true);
    for (const g of targets) store(grads[g]!, host(plainGrads(plain, fw, part.labels, n, g)), gradNames, start, false);
  }
  if (plain) return { labels: Uint8Array.from(data.labels), acts, grads, maps };
  // (the fast CNN forward: the tables' names as channel means, whole maps only where they are read whole)
  const split = { names, full: [...new Set([...keep, ...chunkNames, ...(from ? [from] : [])])] };
  for (let start = 0; start < data.count; start += batch) {
    const part = sliceImages(data, start, Math.min(batch, data.count - start));
    const x = { shape: [part.count, data.dim], data: part.x };
    const first = (r: { acts: NamedHost; units?: NamedHost }) => {
      store(acts, r.units ?? r.acts, names, start, true);
      for (const n of keep) maps[n]!.data.set(r.acts[n]!.data, start * sizeOf(model, n));
      opts.onChunk?.fn(start, r.acts);
    };
    if (!from) {
      const passes = targets.length ? targets.map((g) => ({ grad: g as GradTarget | undefined })) : [{ grad: undefined }];
      for (const [p, { grad }] of passes.entries()) {
        const r = grad ? await runWithCache(model, x, part.labels, { names: read, grad, replace: opts.replace }) : await forwardOnly(model, x, part.labels, read, opts.replace, split);
        if (p === 0) first(r);
        if (grad) store(grads[grad]!, r.grads, gradNames, start, false);
      }
      continue;
    }
    const r = await forwardOnly(model, x, part.labels, read, opts.replace, split);
    first(r);
    // (a replacement of `from` itself is in src already)
    const backend = model.layers[0].W.backend, src = r.acts[from]!, { [from]: _own, ...later } = opts.replace ?? {};
    // a CNN on the cpu backend whose later layers are linear: their gradients by hand (f32 data, f64 sums)
    const head = targets.length && !Object.keys(later).length ? linearHead(model, from) : null;
    if (head) {
      const byTarget = headGrads(model, head, from, src.data, part.count, part.labels, targets);
      for (const g of targets) store(grads[g]!, byTarget[g]!, gradNames, start, false);
      continue;
    }
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

/**
 * runWithCache without gradients; a CNN on the cpu backend (no replacement) through the fused CNN step's
 * kernels (mlp/fused-cnn-cpu.ts fusedCnnCpuActs: the same values to f32 rounding), else the generic forward
 */
async function forwardOnly(
  model: Net, x: HostTensor, labels: ArrayLike<number>, names: readonly ActName[], replace?: Replacements,
  units?: { names: readonly ActName[]; full: readonly ActName[] },
): Promise<{ acts: NamedHost; grads: NamedHost; units?: NamedHost }> {
  if (model.kind === 'cnn' && !(replace && Object.keys(replace).length)) {
    // `units`: the tables' names straight as channel means, whole maps only for `full`
    const r = await fusedCnnCpuActs(model, x.data, x.shape[0], units ? units.full : names, { labels, means: units?.names });
    if (r) {
      const { means, ...acts } = r;
      return { acts, grads: {}, units: means };
    }
  }
  return runWithCache(model, x, labels, { names, replace });
}

/** a linear layer of the head: weight [din, dout] and bias [dout] (host arrays), and the names of its outputs */
export interface HeadLayer { W: Float32Array; b: Float32Array; din: number; dout: number; pre: ActName; post: ActName | null }

/**
 * the layers of a CNN on the cpu backend (f32) after the tensor `name` when they are all linear and the
 * first reads `name` itself (the last conv layer's map, flattened: its pooling's output when pooled, else
 * its ReLU's; or a hidden linear layer's post): host views of their parameters, in order, the last one
 * giving the logits. Null otherwise (an MLP always: its analyses keep the generic ops).
 */
export function linearHead(model: Net, name: ActName): HeadLayer[] | null {
  if (model.kind !== 'cnn') return null;
  if (!model.layers.every((l) => l.W.backend.name === 'cpu' && l.W.dtype === 'f32' && l.b.dtype === 'f32')) return null;
  const m = /^layers\.(\d+)\.(post|pool)$/.exec(name), K = m ? Number(m[1]) : -1, l = model.layers[K];
  if (!m || !l || K >= model.layers.length - 1 || m[2] !== (l.pool ? 'pool' : 'post')) return null;
  const rest = model.layers.slice(K + 1), last = model.layers.length - 1;
  if (rest.some((x) => x.spec.kind !== 'linear')) return null;
  return rest.map((x, q) => {
    const k = K + 1 + q;
    return {
      W: x.W.data() as Float32Array, b: x.b.data() as Float32Array, din: x.spec.inShape[0], dout: x.spec.out,
      pre: k === last ? 'logits' : `layers.${k}.pre`, post: k === last ? null : `layers.${k}.post`,
    };
  });
}

/**
 * per-sample gradients of each target (GradTarget) of the head's layers and of its input `from` (values
 * `x` [n, din], PyTorch's flatten order), as gradRoot(…).backward() leaves them, in the tables' units: the
 * head's forward pass again from x, then its backward pass, by hand (f32 storage, f64 sums). A map's
 * gradient comes as its per-channel sums over positions [n, C] (mlp/units.ts), straight from the weights
 * summed over each channel's rows: Σ_p dx[c, p] = Σ_o dz[o] · Σ_p W[c·HW + p, o]. `loss` gets its gradient
 * (1) under the loss target only, as in the autograd graph.
 */
export function headGrads(
  model: Net, head: readonly HeadLayer[], from: ActName, x: Float32Array, n: number, labels: ArrayLike<number>, targets: readonly GradTarget[],
): Partial<Record<GradTarget, NamedHost>> {
  const L = head.length, classes = head[L - 1].dout, din = head[0].din;
  // forward: the pre-activation of each layer (the last: the logits) [n, dout]
  const Z: Float32Array[] = head.map((l) => new Float32Array(n * l.dout));
  for (let q = 0; q < L; q++) affine(q === 0 ? x : Z[q - 1], q > 0, n, head[q], Z[q]);
  // the input's units: a map's channels (the first layer's weight rows summed over each channel's positions), or itself
  const shape = model.kind === 'cnn' ? model.unitShape(from) : [din];
  const C = shape.length === 3 ? shape[0] : din, hw = din / C, H0 = head[0].dout;
  let W0 = head[0].W;
  if (hw > 1) {
    const sum = new Float64Array(C * H0);
    for (let r = 0; r < din; r++) for (let o = 0, c = Math.floor(r / hw) * H0; o < H0; o++) sum[c + o] += W0[r * H0 + o];
    W0 = Float32Array.from(sum);
  }
  const logits = Z[L - 1], out: Partial<Record<GradTarget, NamedHost>> = {};
  for (const g of targets) {
    const host: NamedHost = {};
    // d logits: softmax − one-hot (the sample's own loss), or the one-hot (its true logit)
    let dz = new Float32Array(n * classes);
    for (let i = 0; i < n; i++) {
      const y = labels[i], row = i * classes;
      if (g === 'trueLogit') { dz[row + y] = 1; continue; }
      let mx = -Infinity, s = 0;
      for (let c = 0; c < classes; c++) mx = Math.max(mx, logits[row + c]);
      for (let c = 0; c < classes; c++) s += Math.exp(logits[row + c] - mx);
      for (let c = 0; c < classes; c++) dz[row + c] = Math.exp(logits[row + c] - mx) / s - (c === y ? 1 : 0);
    }
    if (g === 'loss') host.loss = { shape: [n], data: new Float32Array(n).fill(1) };
    for (let q = L - 1; q >= 0; q--) {
      const { pre } = head[q];
      host[pre] = { shape: [n, head[q].dout], data: dz };
      if (q === 0) { host[from] = { shape: [n, C], data: backThrough(dz, n, W0, C, H0) }; break; }
      // d input = dz · Wᵀ [n, k]; then through the previous layer's ReLU
      const prev = head[q - 1], k = head[q].din, dx = backThrough(dz, n, head[q].W, k, head[q].dout), zp = Z[q - 1];
      host[prev.post!] = { shape: [n, k], data: dx };
      dz = new Float32Array(n * k);
      for (let e = 0; e < n * k; e++) dz[e] = zp[e] > 0 ? dx[e] : 0;
    }
    out[g] = host;
  }
  return out;
}

/** out [n, dout] = relu?(x) [n, din] · W [din, dout] + b, f64 sums (zeros skipped; the ReLU: NaN → 0) */
function affine(x: Float32Array, relu: boolean, n: number, l: HeadLayer, out: Float32Array): void {
  const { W, b, din, dout } = l, acc = new Float64Array(dout);
  for (let i = 0; i < n; i++) {
    acc.fill(0);
    for (let r = 0; r < din; r++) {
      let v = x[i * din + r];
      if (relu && !(v > 0)) v = 0;
      if (v === 0) continue;
      for (let o = 0, w = r * dout; o < dout; o++) acc[o] += v * W[w + o];
    }
    for (let o = 0; o < dout; o++) out[i * dout + o] = acc[o] + b[o];
  }
}

/** dx [n, k] = dz [n, m] · Wᵀ (W [k, m]), f64 sums */
function backThrough(dz: Float32Array, n: number, W: Float32Array, k: number, m: number): Float32Array {
  const dx = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    for (let r = 0; r < k; r++) {
      let s = 0;
      for (let o = 0, w = r * m, z = i * m; o < m; o++) s += dz[z + o] * W[w + o];
      dx[i * k + r] = s;
    }
  }
  return dx;
}
