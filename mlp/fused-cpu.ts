// The fused CPU step engine of the plain ReLU MLP (no normalisation, no dropout, SGD): forward, loss,
// backward and the SGD update of a whole batch in buffers allocated once, with no autograd graph and no
// allocation per step. The first layer reads the input as sparse rows (MNIST is ≈81 % zeros): its forward
// pass and weight gradient touch only the stored pixels. The dense parts run as WebAssembly f32x4 kernels
// (engine/wasm/mlp-kernels.ts), or as the same kernels in plain JavaScript where WebAssembly SIMD is
// missing (same results bit for bit). pickStepEngine() (mlp/step-engine.ts) takes this engine, and
// evaluate() (mlp/train.ts) its forward pass, on the cpu backend when it applies; TrainOptions.fused =
// false (`--no-fused`, MLP_LENS_FAST=0 in the CLI) keeps the generic autograd step, which stays the
// reference the tests compare this one against (test/mlp/fused-cpu.test.ts).
//
// Numerics: products and sums in f32 (the autograd oracle sums in f64 and rounds once), accumulated in
// ascending order of the inner index; the per-sample loss and its gradient in f64 per row, rounded to f32.
// The loss runs in WebAssembly too (mlp-kernels.ts xent, on V8's own exp and log ported: engine/wasm/fdlibm.ts)
// where the SIMD kernels do and engine/wasm/math-kernels.ts found those ports to be this engine's Math.exp and
// Math.log; fusedCrossEntropy below otherwise, the same numbers (test/mlp/fused-xent.test.ts).
// The model's parameter tensors are pointed at this path's memory while it trains (no copies either way);
// a parameter replaced from outside between steps (Tensor.assign) is copied in before the next step.
import { cpu } from '../engine/cpu.ts';
import { instantiateKernels, type KernelInstance, type KernelKind, wantedKind, wasmModule, wasmUnavailable } from '../engine/wasm/load.ts';
import { mathKernels, mathKernelsReady } from '../engine/wasm/math-kernels.ts';
import { Tensor } from '../engine/tensor.ts';
import { pixel } from './batch.ts';
import type { Mlp } from './model.ts';
import type { Split } from './mnist.ts';
import { type ActName, type ParamName, postName, preName } from './names.ts';
import { isPlain } from './norm.ts';
import type { Recorder } from './recorder.ts';
import { FusedHostStep, type FusedRun } from './fused-host-step.ts';

/** whether the fused path can run `model` on `split`: the cpu backend, f32, the plain MLP, rows that fit the kernels' u16 columns */
export function fusedCpuApplies(model: Mlp, split: Split): boolean {
  const d = split.rows * split.cols;
  return model.layers.every((l) => l.W.backend.name === 'cpu' && l.W.dtype === 'f32' && l.b.dtype === 'f32') &&
    isPlain(model.plan) && model.sizes[0] === d && d <= 65536;
}

// --- the input as sparse rows, built once per split

/** a split's images as CSR rows: the column and the byte of every nonzero pixel (its value is pixel(byte)) */
export interface SparseRows { rowptr: Int32Array; idx: Uint16Array; val: Uint8Array }

const sparseSplits = new WeakMap<Split, SparseRows>();
const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** the split's sparse rows, built on the first call and kept (a FusedMlp may build them in its own memory) */
export function sparseRows(split: Split): SparseRows {
  const cached = sparseSplits.get(split);
  if (cached) return cached;
  // room for a quarter of the pixels (MNIST: 19 % are nonzero); denser images are counted first
  let room = sparseRoom(split);
  const rowptr = new Int32Array(split.count + 1);
  let idx = new Uint16Array(room), val = new Uint8Array(room);
  let e = fillSparse(split, rowptr, idx, val);
  if (e < 0) {
    room = storedPixels(split) + split.rows * split.cols;
    idx = new Uint16Array(room);
    val = new Uint8Array(room);
    e = fillSparse(split, rowptr, idx, val);
  }
  const rows = { rowptr, idx: idx.subarray(0, e), val: val.subarray(0, e) };
  sparseSplits.set(split, rows);
  return rows;
}

/** a split's sparse rows where they are already built, else null */
export function cachedSparseRows(split: Split): SparseRows | null {
  return sparseSplits.get(split) ?? null;
}

/** the elements sparseRows first makes room for: a quarter of the pixels, and one image more (fillSparse's margin) */
function sparseRoom(split: Split): number {
  const d = split.rows * split.cols;
  return Math.max(d, (split.count * d) >> 2) + d;
}

/** the count of nonzero pixels of a split */
function storedPixels(split: Split): number {
  const img = split.images.subarray(0, split.count * split.rows * split.cols);
  let n = 0;
  for (let i = 0; i < img.length; i++) n += (img[i] + 255) >> 8;
  return n;
}

/**
 * writes the split's sparse rows into rowptr [count + 1], idx and val (as many elements as they hold) in
 * one pass; returns the element count, or −1 when the elements might not fit (a row starts only with room
 * for a whole image after it: each 4-pixel word writes all four places before moving on past the nonzero ones)
 */
function fillSparse(split: Split, rowptr: Int32Array, idx: Uint16Array, val: Uint8Array): number {
  const d = split.rows * split.cols, img = split.images, count = split.count, room = Math.min(idx.length, val.length);
  // blank pixels come in runs: skip them four at a time where the rows are 4-byte aligned
  const words = littleEndian && img.byteOffset % 4 === 0 && d % 4 === 0 ? new Uint32Array(img.buffer, img.byteOffset, (count * d) >> 2) : null;
  let e = 0;
  rowptr[0] = 0;
  for (let r = 0; r < count; r++) {
    if (e + d > room) return -1;
    e = words ? fillWords(words, (r * d) >> 2, ((r + 1) * d) >> 2, idx, val, e) : fillBytes(img, r * d, d, idx, val, e);
    rowptr[r + 1] = e;
  }
  return e;
}

/** one image's words [w, end) (4 pixels each, from column 0) appended at e; the new e */
function fillWords(words: Uint32Array, w: number, end: number, idx: Uint16Array, val: Uint8Array, e: number): number {
  for (let c = 0; w < end; w++, c += 4) {
    const x = words[w];
    if (x === 0) continue;
    // branch-free: each byte is written at e, which moves on only past a nonzero one (room: e + d ≤ length)
    const b0 = x & 255, b1 = (x >>> 8) & 255, b2 = (x >>> 16) & 255, b3 = x >>> 24;
    idx[e] = c; val[e] = b0; e += (b0 + 255) >> 8;
    idx[e] = c + 1; val[e] = b1; e += (b1 + 255) >> 8;
    idx[e] = c + 2; val[e] = b2; e += (b2 + 255) >> 8;
    idx[e] = c + 3; val[e] = b3; e += (b3 + 255) >> 8;
  }
  return e;
}

/** one image's d bytes from `base` appended at e; the new e */
function fillBytes(img: Uint8Array, base: number, d: number, idx: Uint16Array, val: Uint8Array, e: number): number {
  for (let c = 0; c < d; c++) {
    const b = img[base + c];
    if (b !== 0) { idx[e] = c; val[e] = b; e++; }
  }
  return e;
}

// --- memory layout: one buffer, 16-byte aligned regions, offset 0 never used (the kernels' "none")

class Layout {
  private off = 16;
  f32(count: number): number { return this.take(4 * count); }
  i32(count: number): number { return this.take(4 * count); }
  u16(count: number): number { return this.take(2 * count); }
  u8(count: number): number { return this.take(count); }
  get bytes(): number { return this.off; }
  private take(bytes: number): number {
    const at = this.off;
    this.off += Math.ceil(bytes / 16) * 16;
    return at;
  }
}

/** byte offsets of one layer's buffers; dH/H only for hidden layers, WT only past the first layer, v* only with momentum */
interface LayerBuffers {
  din: number; dout: number;
  W: number; b: number; dW: number; db: number; vW: number; vb: number; WT: number;
  /** pre-activation (logits for the last layer) and post-activation [cap, dout] */
  Z: number; H: number;
  /** their gradients */
  dZ: number; dH: number;
}

/**
 * the fused MLP on its own memory, sized for batches of up to `cap` rows: parameters, gradients and momentum
 * buffers, every named activation and its gradient, and a whole split's images as sparse rows (a batch
 * names its rows, nothing is copied per step)
 */
class FusedMlp {
  readonly layers: LayerBuffers[];
  readonly loss: number;
  readonly dloss: number;
  /** Σ g² per parameter, f64 [2 · layers] */
  readonly squares: number;
  /** the batch: the CSR row of each of its rows [cap] */
  readonly rows: number;
  readonly rowptr: number;
  readonly idx: number;
  readonly val: number;
  readonly lut: number;
  readonly F: Float32Array;
  readonly I: Int32Array;
  /** the class of each row of the batch [cap] (in the kernels' memory, for xent) */
  readonly labels: Uint8Array;
  private readonly expScratch: Float64Array;
  /** the loss kernel (mlp-kernels.ts xent), or null: fusedCrossEntropy */
  private readonly xent: XentKernel | null;

  private constructor(
    readonly sizes: readonly number[], readonly cap: number, readonly kernels: KernelInstance, private readonly layout: FusedLayout,
    readonly split: Split, data: SparseRows,
    /** the kernels asked for (kind says which run) */
    readonly requested: KernelKind,
    exactExpLog: boolean,
  ) {
    ({ layers: this.layers, loss: this.loss, dloss: this.dloss, squares: this.squares, rows: this.rows, rowptr: this.rowptr, idx: this.idx, val: this.val, lut: this.lut } = layout);
    const buf = kernels.buffer;
    this.F = new Float32Array(buf);
    this.I = new Int32Array(buf);
    this.labels = new Uint8Array(buf, layout.labels, cap);
    this.xent = kernels.kind === 'wasm-simd' && exactExpLog ? kernels.k as unknown as XentKernel : null;
    this.expScratch = new Float64Array(sizes[sizes.length - 1]);
    if (data.idx.buffer !== buf) {
      this.I.set(data.rowptr, this.rowptr >> 2);
      new Uint16Array(buf).set(data.idx, this.idx >> 1);
      new Uint8Array(buf).set(data.val, this.val);
    }
    for (let b = 0; b < 256; b++) this.F[(this.lut >> 2) + b] = pixel(b);
  }

  /** the fused MLP of `sizes` for batches of up to `cap` rows of `split` */
  static async create(sizes: readonly number[], cap: number, split: Split, o: { training: boolean; momentum: boolean; kind?: KernelKind }): Promise<FusedMlp> {
    // the first net of a split builds its sparse rows in its own memory, where the kernels read them (no
    // copy of ≈ 27 MB for MNIST's training set, and no second set of pages touched), and keeps them for
    // sparseRows()'s other callers; later nets copy them in
    const cached = cachedSparseRows(split);
    const stored = cached ? cached.idx.length : sparseRoom(split);
    const layout = fusedLayout(sizes, cap, split.count, stored, o.training, o.momentum);
    const kernels = await instantiateKernels(layout.bytes, o.kind);
    let data = cached;
    if (!data) {
      const buf = kernels.buffer, rowptr = new Int32Array(buf, layout.rowptr, split.count + 1);
      const idx = new Uint16Array(buf, layout.idx, stored), val = new Uint8Array(buf, layout.val, stored);
      const e = fillSparse(split, rowptr, idx, val);
      // denser than a quarter of the pixels: sparseRows() counts them, and they are copied in
      if (e < 0) {
        sparseRows(split);
        return FusedMlp.create(sizes, cap, split, o);
      }
      data = { rowptr, idx: idx.subarray(0, e), val: val.subarray(0, e) };
      sparseSplits.set(split, data);
    }
    // (mathKernels() is null when switched off: tests, benchmarks)
    const exact = kernels.kind === 'wasm-simd' && (await mathKernelsReady()) && mathKernels() !== null;
    return new FusedMlp(sizes, cap, kernels, layout, split, data, wantedKind(o.kind), exact);
  }

  get kind(): KernelKind { return this.kernels.kind; }

  /** a Float32Array over `count` floats at byte offset `at` */
  view(at: number, count: number): Float32Array { return new Float32Array(this.kernels.buffer, at, count); }

  /** the batch of split rows order[start .. start+n): their indices and classes */
  gather(order: ArrayLike<number>, start: number, n: number): void {
    const { I } = this, q0 = this.rows >> 2, classes = this.split.labels;
    for (let r = 0; r < n; r++) {
      const s = order[start + r];
      I[q0 + r] = s;
      this.labels[r] = classes[s];
    }
  }

  /** the batch of split rows [start, start+n) (evaluation, file order) */
  gatherRange(start: number, n: number): void {
    const { I } = this, q0 = this.rows >> 2;
    for (let r = 0; r < n; r++) I[q0 + r] = start + r;
    this.labels.set(this.split.labels.subarray(start, start + n));
  }

  /** every named activation of the batch's n rows, from the sparse input in memory */
  forward(n: number): void {
    const { k } = this.kernels, L = this.layers;
    const first = L[0];
    k.mm_sparse(n, this.rows, this.rowptr, this.idx, this.val, this.lut, first.W, first.b, first.Z, first.dout);
    for (let l = 1; l < L.length; l++) {
      const prev = L[l - 1], cur = L[l];
      k.relu(prev.Z, prev.H, n * prev.dout);
      k.mm(n, prev.H, cur.din, cur.W, cur.b, cur.Z, cur.dout, 1);
    }
  }

  /** the batch's per-sample loss and (with `grads`) d logits of the mean loss: crossEntropyKernel below */
  crossEntropy(n: number, grads: boolean): { sum: number; correct: number } {
    const last = this.layers[this.layers.length - 1], L = this.layout;
    const at = { logits: last.Z, dLogits: last.dZ, loss: this.loss, dLoss: this.dloss, labels: L.labels, e: L.xentScratch, out: L.xentOut };
    return crossEntropyKernel(this.xent, this.F, at, n, last.dout, this.labels, this.expScratch, grads);
  }

  /** gradients of every parameter and named activation from d logits (crossEntropy with grads) */
  backward(n: number): void {
    const { k } = this.kernels, L = this.layers;
    for (let l = L.length - 1; l > 0; l--) {
      const cur = L[l], prev = L[l - 1];
      k.mm_tn(n, prev.H, cur.din, cur.dZ, cur.dout, cur.dW);
      k.colsum(n, cur.dZ, cur.dout, cur.db);
      k.transpose(cur.W, cur.din, cur.dout, cur.WT);
      k.mm(n, cur.dZ, cur.dout, cur.WT, 0, prev.dH, cur.din, 0);
      k.relu_back(prev.dH, prev.Z, prev.dZ, n * prev.dout);
    }
    const first = L[0];
    k.mm_tn_sparse(n, this.rows, this.rowptr, this.idx, this.val, this.lut, first.din, first.dZ, first.dout, first.dW);
    k.colsum(n, first.dZ, first.dout, first.db);
  }

  /** Σ 0·x over every named activation of the batch: NaN iff one holds a NaN or ±Inf */
  probeActs(n: number): number {
    const { k } = this.kernels;
    let p = k.probe(this.loss, n);
    for (const l of this.layers) {
      p += k.probe(l.Z, n * l.dout);
      if (l.H) p += k.probe(l.H, n * l.dout);
    }
    return p;
  }
}

/** byte offsets of the loss's operands in a fused trainer's memory */
export interface LossBuffers { logits: number; dLogits: number; loss: number; dLoss: number }

/** mlp-kernels.ts xent (fusedCrossEntropy's numbers for finite logits: Σ loss in f64 returned, the correct count i32 stored at `out`) and probe */
export interface XentKernel {
  xent(Z: number, dZ: number, loss: number, dloss: number, labels: number, n: number, c: number, e: number, grads: number, out: number): number;
  probe(x: number, count: number): number;
}

/** the loss kernel's operands besides fusedCrossEntropy's: the labels u8 [n], its scratch f64 [c] and its count i32 */
export interface XentBuffers extends LossBuffers { labels: number; e: number; out: number }

/**
 * fusedCrossEntropy in the loss kernel `k` where that gives the same numbers: WebAssembly SIMD on V8's
 * exp and log ported (null: always fusedCrossEntropy). `labels` is the array at byte offset at.labels of
 * F's buffer. Not for a label out of range (fusedCrossEntropy throws its error), nor a logit NaN or ±Inf
 * (probe: Σ 0·z is NaN): those make NaNs, and which NaN an operation on two NaNs gives is up to the
 * compilers (x64 keeps the first operand's, V8 may swap the operands of a + b), so the JS keeps its own.
 */
export function crossEntropyKernel(
  k: XentKernel | null, F: Float32Array, at: XentBuffers, n: number, c: number, labels: Uint8Array, e: Float64Array, grads: boolean,
): { sum: number; correct: number } {
  let fits = k !== null;
  for (let i = 0; fits && i < n; i++) fits = labels[i] < c;
  if (!k || !fits || k.probe(at.logits, n * c) !== 0) return fusedCrossEntropy(F, at, n, c, labels, e, grads);
  const sum = k.xent(at.logits, at.dLogits, at.loss, at.dLoss, at.labels, n, c, at.e, grads ? 1 : 0, at.out);
  return { sum: Math.fround(sum), correct: new Int32Array(F.buffer, at.out, 1)[0] };
}

/**
 * the fused steps' loss (FusedMlp's and mlp/fused-cnn-cpu.ts's): per-sample loss as the softmaxCrossEntropy
 * oracle computes it (max + log Σ exp(x − max) − x[label], in f64) into `loss` [n] and, when `grads`, the
 * gradient of the mean loss: d loss_i = f32(1/n), d logits = (softmax − onehot)·f32(1/n). Returns Σ loss as
 * the oracle's sum gives it (f64 over the f32 values, rounded to f32) and the rows whose first maximal logit
 * is the label. `e`: scratch of `c` doubles.
 */
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

interface FusedLayout {
  layers: LayerBuffers[]; loss: number; dloss: number; squares: number; rows: number; rowptr: number; idx: number; val: number; lut: number; bytes: number;
  /** the batch's classes u8 [cap], xent's exp scratch f64 [classes] and its correct count i32 */
  labels: number; xentScratch: number; xentOut: number;
}

function fusedLayout(sizes: readonly number[], cap: number, rowCount: number, stored: number, training: boolean, momentum: boolean): FusedLayout {
  const at = new Layout(), L = sizes.length - 1;
  const grad = (count: number) => (training ? at.f32(count) : 0);
  const layers = Array.from({ length: L }, (_, l): LayerBuffers => {
    const din = sizes[l], dout = sizes[l + 1], hidden = l < L - 1;
    return {
      din, dout, W: at.f32(din * dout), b: at.f32(dout), dW: grad(din * dout), db: grad(dout),
      vW: momentum ? at.f32(din * dout) : 0, vb: momentum ? at.f32(dout) : 0,
      WT: training && l > 0 ? at.f32(din * dout) : 0,
      Z: at.f32(cap * dout), H: hidden ? at.f32(cap * dout) : 0,
      dZ: grad(cap * dout), dH: hidden ? grad(cap * dout) : 0,
    };
  });
  const loss = at.f32(cap), dloss = grad(cap), squares = at.f32(4 * L);
  const labels = at.u8(cap), xentScratch = at.f32(2 * sizes[L]), xentOut = at.i32(1);
  // the sparse rows last: room a net leaves unused at the end is never touched
  const rows = at.i32(cap), lut = at.f32(256), rowptr = at.i32(rowCount + 1), idx = at.u16(stored), val = at.u8(stored);
  return { layers, loss, dloss, squares, rows, rowptr, idx, val, lut, bytes: at.bytes, labels, xentScratch, xentOut };
}

// --- training

export interface FusedCpuOptions {
  batch: number;
  lr: number;
  momentum?: number;
  weightDecay?: number;
  /** momentum buffers to start from, one per parameter in model.params() order (a resumed run) */
  velocity?: readonly (Float32Array | null)[];
  /** kernels: WebAssembly SIMD (default, where available) or the JS ones */
  kind?: KernelKind;
}

/** the tensors of one batch size: every named activation (its gradient as .grad) over the trainer memory */
interface Exposed {
  acts: Partial<Record<ActName, Tensor>>;
  /** for the finiteness check, in model order (activations, then parameters) */
  checked: Tensor[];
}

/**
 * trains a plain MLP with the fused step. The model's parameter tensors are pointed at the trainer's
 * memory (their values are always the current ones); call step() per batch.
 */
export class FusedCpuTrainer {
  /** activation names in model order (as the generic forward returns them, `input` left out), then parameter names */
  readonly checkedNames: string[];
  private readonly params: { name: ParamName; tensor: Tensor; at: number; grad: number; v: number; size: number }[];
  private readonly hasVelocity: boolean[];
  private readonly exposed = new Map<number, Exposed>();
  /** each parameter's storage in the trainer's memory */
  private readonly views: Float32Array[];
  /** Σ g² of each parameter's gradient, written by the update (f64, in the trainer's memory) */
  private readonly squares: Float64Array;
  private readonly squaresAt: number;
  /**
   * what recordParamGrads reads: per parameter a holder whose .grad is the one-element vector [‖g‖], so the
   * recorder's sqrt(Σ g²) over it is ‖g‖ itself (computed in the update's pass over g, not again in JS)
   */
  private readonly normHolders: { name: ParamName; tensor: Tensor }[];

  private constructor(model: Mlp, private readonly net: FusedMlp, private readonly opts: FusedCpuOptions) {
    const named = model.params();
    this.params = named.map(({ name, tensor }, q) => {
      const l = net.layers[q >> 1], isW = (q & 1) === 0;
      return { name, tensor, at: isW ? l.W : l.b, grad: isW ? l.dW : l.db, v: isW ? l.vW : l.vb, size: tensor.size };
    });
    this.hasVelocity = this.params.map(() => false);
    opts.velocity?.forEach((v, q) => {
      if (!v) return;
      const p = this.params[q];
      if (v.length !== p.size) throw new RangeError(`sgd: momentum buffer ${q} has ${v.length} values, its parameter ${p.size}`);
      net.view(p.v, p.size).set(v);
      this.hasVelocity[q] = true;
    });
    const acts: ActName[] = [];
    for (let l = 0; l < net.layers.length - 1; l++) acts.push(preName(l), postName(l));
    acts.push('logits', 'loss');
    this.checkedNames = [...acts, ...named.map((p) => p.name)];
    this.views = this.params.map((p) => net.view(p.at, p.size));
    this.squaresAt = net.squares;
    this.squares = new Float64Array(net.kernels.buffer, net.squares, this.params.length);
    this.normHolders = this.params.map((p) => {
      const holder = new Tensor([1], 'f64', cpu, new Float64Array(1));
      holder.grad = new Tensor([1], 'f64', cpu, new Float64Array(1));
      return { name: p.name, tensor: holder };
    });
    this.attach();
  }

  /** a trainer for `model` on `split`; throws where fusedCpuApplies() is false */
  static async create(model: Mlp, split: Split, opts: FusedCpuOptions): Promise<FusedCpuTrainer> {
    if (!fusedCpuApplies(model, split)) throw new Error('fused cpu step: the model is not a plain f32 MLP on the cpu backend for this data');
    const momentum = !!opts.momentum || !!opts.velocity?.some((v) => v);
    const net = await FusedMlp.create(model.sizes, opts.batch, split, { training: true, momentum, kind: opts.kind });
    return new FusedCpuTrainer(model, net, opts);
  }

  /** which kernels run: 'wasm-simd' or 'js' */
  get kind(): KernelKind { return this.net.kind; }

  /** rows per step (the last step of an epoch may have fewer) */
  get batch(): number { return this.opts.batch; }

  /** points every parameter tensor at the trainer's copy, copying in a value replaced from outside (Tensor.assign) */
  private attach(): void {
    this.params.forEach((p, q) => {
      const view = this.views[q];
      if (p.tensor.storage === view) return;
      view.set(p.tensor.data());
      p.tensor.storage = view;
    });
  }

  /**
   * one training step on rows order[start .. start+n): forward, loss, backward (every gradient in memory,
   * parameters not yet updated). Returns the batch's Σ loss (f32) and right answers.
   */
  step(order: ArrayLike<number>, start: number, n: number): { loss: number; correct: number } {
    if (n > this.net.cap) throw new RangeError(`fused cpu step: batch of ${n} rows, buffers for ${this.net.cap}`);
    this.attachIfReplaced();
    this.net.gather(order, start, n);
    this.net.forward(n);
    const { sum, correct } = this.net.crossEntropy(n, true);
    this.net.backward(n);
    return { loss: sum, correct };
  }

  /**
   * the SGD update of every parameter (torch.optim.SGD semantics, in f32); false when a parameter became
   * non-finite. `norms`: also Σ g² of each gradient, in the same pass, for record()
   */
  update(norms = false): boolean {
    const { lr, momentum = 0, weightDecay = 0 } = this.opts;
    const { k } = this.net.kernels;
    let probe = 0;
    this.params.forEach((p, q) => {
      probe += k.sgd(p.at, p.grad, p.v, p.size, lr, momentum, weightDecay, this.hasVelocity[q] ? 0 : 1, norms ? this.squaresAt + 8 * q : 0);
      if (momentum) this.hasVelocity[q] = true;
    });
    return Number.isFinite(probe);
  }

  /** whether every named activation of the last step's n rows is finite */
  actsFinite(n: number): boolean { return Number.isFinite(this.net.probeActs(n)); }

  /** the last step's activations then the parameters, in checkedNames order (for the exact scan that names the first bad one) */
  checked(n: number): Tensor[] { return this.expose(n).checked; }

  /**
   * the last step into the recorder: every named activation and gradient at rows [start, start+n), and the
   * parameter gradient norms; after update(true) (which leaves the activations and gradients as they were)
   */
  record(recorder: Recorder, step: number, order: Uint32Array, start: number, n: number): void {
    recorder.recordBatch(start, this.expose(n).acts, this.net.labels.subarray(0, n), order.subarray(start, start + n));
    this.normHolders.forEach((h, q) => { (h.tensor.grad!.storage as Float64Array)[0] = Math.sqrt(this.squares[q]); });
    recorder.recordParamGrads(step, this.normHolders);
  }

  /**
   * gives the parameter tensors storage of their own again (copies of their values), so the trainer's
   * memory, which holds the whole training split, can be collected; call when training ends
   */
  detach(): void {
    this.params.forEach((p, q) => {
      if (p.tensor.storage === this.views[q]) p.tensor.storage = Float32Array.from(p.tensor.data());
    });
  }

  /** host copies of the momentum buffers, one per parameter in model.params() order (null before its first step) */
  velocity(): (Float32Array | null)[] {
    return this.params.map((p, q) => (this.hasVelocity[q] ? Float32Array.from(this.net.view(p.v, p.size)) : null));
  }

  private attachIfReplaced(): void {
    for (let q = 0; q < this.params.length; q++) {
      if (this.params[q].tensor.storage !== this.views[q]) { this.attach(); return; }
    }
  }

  /** tensors over the memory for a batch of n rows (made once per batch size) */
  private expose(n: number): Exposed {
    let e = this.exposed.get(n);
    if (e) return e;
    const net = this.net, acts: Partial<Record<ActName, Tensor>> = {};
    const wrap = (name: ActName, at: number, gradAt: number, width: number) => {
      const shape = width === 1 && name === 'loss' ? [n] : [n, width];
      const t = new Tensor(shape, 'f32', cpu, net.view(at, n * width));
      t.grad = new Tensor(shape, 'f32', cpu, net.view(gradAt, n * width));
      acts[name] = t.named(name);
    };
    net.layers.forEach((l, q) => {
      if (q === net.layers.length - 1) wrap('logits', l.Z, l.dZ, l.dout);
      else { wrap(preName(q), l.Z, l.dZ, l.dout); wrap(postName(q), l.H, l.dH, l.dout); }
    });
    wrap('loss', net.loss, net.dloss, 1);
    const names = this.checkedNames.slice(0, this.checkedNames.length - this.params.length) as ActName[];
    e = { acts, checked: [...names.map((name) => acts[name]!), ...this.params.map((p) => p.tensor)] };
    this.exposed.set(n, e);
    return e;
  }
}

// --- the step engine

/** the label of the fused cpu step with kernels `kind` (undefined: WebAssembly SIMD unless MLP_LENS_WASM=0 or it cannot be had) */
export async function fusedCpuLabel(kind?: KernelKind): Promise<string> {
  const js = kind === 'js' ? "fused: 'js'" : wantedKind() === 'js' ? 'MLP_LENS_WASM=0' : (await wasmModule()) ? null : wasmUnavailable();
  return js === null ? 'fused step, WebAssembly SIMD' : `fused step, JavaScript kernels: ${js}`;
}


/** the fused cpu step as a StepEngine: FusedCpuTrainer driven by mlp/fused-host-step.ts */
export const FusedCpuStep = {
  async create(model: Mlp, split: Split, opts: FusedCpuOptions, run: FusedRun): Promise<FusedHostStep> {
    const trainer = await FusedCpuTrainer.create(model, split, opts);
    return new FusedHostStep(trainer, split, run, await fusedCpuLabel(opts.kind), model.params().map((p) => p.name));
  },
};

// --- evaluation

// the evaluation engine of a split, kept between epochs (its memory holds the split as sparse rows)
const evalNets = new WeakMap<Split, FusedMlp>();

/**
 * the forward pass of a plain MLP over a whole split in file order, `batch` rows at a time: per-sample
 * loss summed (f64, as evaluate() sums the oracle's f32 losses) and the predicted class of each row
 * (the first maximal logit). The model's weights are copied, never changed.
 */
export async function fusedCpuForward(model: Mlp, split: Split, batch: number, kind?: KernelKind): Promise<{ lossSum: number; predictions: Uint8Array; losses: Float32Array }> {
  const cap = Math.max(1, Math.min(batch, split.count));
  let net = evalNets.get(split);
  const want = wantedKind(kind);
  if (!net || net.cap !== cap || net.sizes.join() !== model.sizes.join() || net.requested !== want) {
    net = await FusedMlp.create(model.sizes, cap, split, { training: false, momentum: false, kind: want });
    evalNets.set(split, net);
  }
  model.layers.forEach((l, q) => {
    net.view(net.layers[q].W, l.W.size).set(l.W.data());
    net.view(net.layers[q].b, l.b.size).set(l.b.data());
  });
  const last = net.layers[net.layers.length - 1];
  return forwardSplit(net, split, cap, last.Z, last.dout);
}

/** what forwardSplit needs of a fused net (FusedMlp, mlp/fused-cnn-cpu.ts's FusedCnn) */
export interface SplitForward {
  readonly loss: number;
  gatherRange(start: number, n: number): void;
  forward(n: number): void;
  crossEntropy(n: number, grads: boolean): unknown;
  view(at: number, count: number): Float32Array;
}

/**
 * a fused net's forward pass over a whole split in file order, `cap` rows at a time (its weights already
 * in place): per-sample loss, its sum (f64 over the f32 losses, as evaluate() sums the oracle's), and the
 * predicted class of each row (the first maximal of the `c` logits at `logitsAt`)
 */
export function forwardSplit(net: SplitForward, split: Split, cap: number, logitsAt: number, c: number): { lossSum: number; predictions: Uint8Array; losses: Float32Array } {
  const predictions = new Uint8Array(split.count), losses = new Float32Array(split.count);
  let lossSum = 0;
  for (let start = 0; start < split.count; start += cap) {
    const n = Math.min(cap, split.count - start);
    net.gatherRange(start, n);
    net.forward(n);
    net.crossEntropy(n, false);
    const logits = net.view(logitsAt, n * c), loss = net.view(net.loss, n);
    for (let i = 0; i < n; i++) {
      let best = 0, top = logits[i * c];
      for (let j = 1; j < c; j++) if (logits[i * c + j] > top) { top = logits[i * c + j]; best = j; }
      predictions[start + i] = best;
      losses[start + i] = loss[i];
      lossSum += loss[i];
    }
  }
  return { lossSum, predictions, losses };
}

/** builds the sparse rows of the splits now (data loading), so the first epoch does not pay for them */
export function prepareSparse(...splits: Split[]): void {
  for (const s of splits) sparseRows(s);
}
