// The fused CPU step engine of a CNN (mlp/cnn.ts): forward, loss, backward and the SGD update of a whole
// batch in buffers allocated once, with no autograd graph and no allocation per step, the counterpart of
// mlp/fused-cpu.ts for `--arch cnn`. Any spec resolveCnn accepts runs (conv stride and padding, pool
// kernel and stride, several convs, several linear layers) on a single-channel input.
//
// How it is fast:
// - Feature maps live channel-last (NHWC per sample, channels padded to a multiple of 4 with zeros), so an
//   f32x4 is 4 channels of one position: ReLU, pooling, its gradient and the recorder's per-channel sums
//   are plain vector loops, and a convolution's taps over one kernel row are one contiguous run of floats.
// - The first conv reads the images as sparse rows (MNIST is ≈81 % zeros, mlp/fused-cpu.ts sparseRows):
//   its forward pass and weight gradient scatter each stored pixel into the outputs it touches.
// - A later conv's backward reads only the non-zero output gradients dz: behind a max pooling at most one
//   position of a window carries a gradient and the ReLU zeroes more (conv2 of the reference CNN sees
//   ≈ 15–25 % non-zero dz). One pass lists each channel's dz and adds the input gradient position by
//   position (a tap row of dX held in registers over the position's dz's); a second builds the weight
//   gradient channel by channel, a tap row of it in registers over the channel's list. Nothing is
//   read-modify-written per dz, and every sum keeps the order of the plain scatter (bit for bit the same).
// - A pooling that tiles its map exactly takes the ReLU's gradient along in its backward pass.
// - The conv forward is a register-blocked matmul over contiguous tap runs (16 output channels a pass).
// - The linear layers, biases, ReLUs and the SGD update are the MLP's kernels (engine/wasm/mlp-kernels.ts).
// All of it is WebAssembly SIMD (engine/wasm/cnn-kernels.ts beside the MLP's module, over one memory), or
// the same kernels in JavaScript (bit for bit) where SIMD is missing.
//
// Parameters stay in the model's layout (conv W [out, in, k, k], linear W [d_in, d_out]) in this path's
// memory, and the model's tensors are pointed at it while it trains (as FusedCpuTrainer does); each step
// packs the conv weights into the kernels' layouts and unpacks their gradients (a few thousand floats).
// The first linear layer after a map reads it channel-last: its weight rows are permuted the same way.
//
// Numerics: f32 products and sums in a fixed order (not the oracle's f64 sums: results agree with the
// generic autograd step to f32 rounding); the loss and its gradient in f64 per row as the MLP's fused step;
// the recorder's per-channel means and gradient sums in f64 over positions, as Recorder.recordBatch does.
import { cpu } from '../engine/cpu.ts';
import { type CnnKernelInstance, cnnWasmModule, instantiateCnnKernels, type KernelKind, wantedKind, wasmModule, wasmUnavailable } from '../engine/wasm/load.ts';
import { Tensor } from '../engine/tensor.ts';
import { pixel } from './batch.ts';
import type { Cnn } from './cnn.ts';
import { forwardSplit, fusedCrossEntropy, type SparseRows, sparseRows } from './fused-cpu.ts';
import type { Split } from './mnist.ts';
import { type ActName, type ParamName, poolName, postName, preName } from './names.ts';
import type { Recorder } from './recorder.ts';
import { FusedHostStep, type FusedRun } from './fused-host-step.ts';

/**
 * whether the fused CNN path can run `model` on `split`: a CNN on the cpu backend in f32, one input
 * channel of the split's image size (at most 65536 pixels: the sparse rows' u16 columns)
 */
export function fusedCnnCpuApplies(model: Cnn, split: Split): boolean {
  if (model.kind !== 'cnn') return false;
  const d = split.rows * split.cols;
  return model.layers.every((l) => l.W.backend.name === 'cpu' && l.W.dtype === 'f32' && l.b.dtype === 'f32') &&
    model.input[0] === 1 && model.input[1] === split.rows && model.input[2] === split.cols && d <= 65536 &&
    model.layers[0]?.spec.kind === 'conv';
}

// --- memory layout: one buffer, 16-byte aligned regions, offset 0 never used (the kernels' "none")

class Layout {
  private off = 16;
  f32(count: number): number { return this.take(4 * count); }
  f64(count: number): number { return this.take(8 * count); }
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

const pad4 = (c: number) => Math.ceil(c / 4) * 4;

/** one conv layer (with its ReLU and pooling): shapes and byte offsets */
interface ConvBuf {
  K: number; first: boolean;
  /** channels out (real, padded), in (real, padded; the image's 1 for the first conv) */
  O: number; Op: number; I: number; Ip: number;
  k: number; s: number; p: number;
  Hi: number; Wi: number; Ho: number; Wo: number;
  /** model layout (the parameter tensors' storage), gradients, momentum */
  W: number; b: number; dW: number; db: number; vW: number; vb: number;
  /** packed: forward weights [k, k, Ip, Op], backward weights [O, k, k, Ip] (not for the first conv), padded bias [Op] */
  Wf: number; Wb: number; bp: number;
  /** packed weight gradient ([k, k, Op] for the first conv, else [O, k, k, Ip]) and the padded bias gradient [Op] */
  dWp: number; dbp: number;
  /** pre-activation, post-activation and their gradients [cap, Ho, Wo, Op] */
  Z: number; H: number; dZ: number; dH: number;
  pool: null | { k: number; s: number; Ho: number; Wo: number; P: number; arg: number; dP: number };
  /** the map this conv reads (the previous layer's output) and where its gradient goes (0 for the first conv) */
  X: number; dX: number;
  /** the recorder's per-channel rows [cap, O]: means of pre, post, pool; gradient sums of the same */
  rec: { pre: number; post: number; pool: number; dpre: number; dpost: number; dpool: number };
  /** conv_bwd_dx / conv_bwd_dw's scratch (not for the first conv): per-channel counts [O], lists of non-zero dz [O, cap·Ho·Wo, 3], a position's (dz, channel) pairs [O, 2] */
  cnt: number; ent: number; tmp: number;
  /** conv_bwd_dx's zero-padded copies of the windows that cross the input's edge (padding > 0 only) */
  pat: number;
  /** element offsets (into the f32 view) to copy: W → Wf, W → Wb, dWp → dW */
  packF: Int32Array; packB: Int32Array; unpack: Int32Array;
}

/** one linear layer: the MLP's buffers, with the first one after a map reading it channel-last */
interface LinBuf {
  K: number; last: boolean;
  din: number; dout: number;
  /** rows of the packed weight (din, or the map's H·W·Cp after a flatten) */
  Dp: number;
  W: number; b: number; dW: number; db: number; vW: number; vb: number;
  /** the weight and its gradient as the kernels read them: W / dW themselves, or row-permuted copies after a flatten */
  Wp: number; dWp: number; WT: number;
  Z: number; H: number; dZ: number; dH: number;
  X: number; dX: number;
  /** after a flatten: the packed row of each model row (its weights copied row by row each step) */
  rowOf: Int32Array | null;
}

interface Data { rows: number; rowptr: number; idx: number; val: number; lut: number; pyx: number }

/** the fused CNN on its own memory, for batches of up to `cap` rows */
class FusedCnn {
  readonly convs: ConvBuf[] = [];
  readonly lins: LinBuf[] = [];
  readonly loss: number;
  readonly dloss: number;
  /** Σ g² per parameter, f64 */
  readonly squares: number;
  readonly data: Data;
  readonly F: Float32Array;
  readonly I: Int32Array;
  readonly labels: Uint8Array;
  readonly classes: number;
  private readonly expScratch: Float64Array;

  private constructor(readonly model: Cnn, readonly cap: number, readonly split: Split, readonly kernels: CnnKernelInstance, build: Built, sparse: SparseRows, readonly requested: KernelKind) {
    this.convs = build.convs;
    this.lins = build.lins;
    this.loss = build.loss;
    this.dloss = build.dloss;
    this.squares = build.squares;
    this.data = build.data;
    this.F = new Float32Array(kernels.buffer);
    this.I = new Int32Array(kernels.buffer);
    this.labels = new Uint8Array(cap);
    this.classes = model.classes;
    this.expScratch = new Float64Array(this.classes);
    const d = this.data;
    this.I.set(sparse.rowptr, d.rowptr >> 2);
    new Uint16Array(kernels.buffer).set(sparse.idx, d.idx >> 1);
    new Uint8Array(kernels.buffer).set(sparse.val, d.val);
    for (let b = 0; b < 256; b++) this.F[(d.lut >> 2) + b] = pixel(b);
    for (let q = 0; q < split.rows * split.cols; q++) this.I[(d.pyx >> 2) + q] = (Math.floor(q / split.cols) << 16) | (q % split.cols);
  }

  static async create(model: Cnn, cap: number, split: Split, o: { training: boolean; momentum: boolean; kind?: KernelKind }): Promise<FusedCnn> {
    const sparse = sparseRows(split);
    const build = layout(model, cap, sparse, o.training, o.momentum);
    return new FusedCnn(model, cap, split, await instantiateCnnKernels(build.bytes, o.kind), build, sparse, wantedKind(o.kind));
  }

  get kind(): KernelKind { return this.kernels.kind; }

  view(at: number, count: number): Float32Array { return new Float32Array(this.kernels.buffer, at, count); }

  /** the batch of split rows order[start .. start+n) */
  gather(order: ArrayLike<number>, start: number, n: number): void {
    const q0 = this.data.rows >> 2, classes = this.split.labels;
    for (let r = 0; r < n; r++) {
      const s = order[start + r];
      this.I[q0 + r] = s;
      this.labels[r] = classes[s];
    }
  }

  /** the batch of split rows [start, start+n) (evaluation, file order) */
  gatherRange(start: number, n: number): void {
    const q0 = this.data.rows >> 2;
    for (let r = 0; r < n; r++) this.I[q0 + r] = start + r;
    this.labels.set(this.split.labels.subarray(start, start + n));
  }

  /** the model-layout weights into the kernels' layouts (each step: the parameters change) */
  pack(): void {
    const F = this.F;
    for (const c of this.convs) {
      for (let q = 0; q < c.packF.length; q += 2) F[c.packF[q]] = F[c.packF[q + 1]];
      for (let q = 0; q < c.packB.length; q += 2) F[c.packB[q]] = F[c.packB[q + 1]];
      F.copyWithin(c.bp >> 2, c.b >> 2, (c.b >> 2) + c.O);
    }
    for (const l of this.lins) {
      if (!l.rowOf) continue;
      const w = l.W >> 2, wp = l.Wp >> 2;
      for (let r = 0; r < l.din; r++) F.copyWithin(wp + l.rowOf[r] * l.dout, w + r * l.dout, w + (r + 1) * l.dout);
    }
  }

  /** the packed gradients back into the model layout */
  unpack(): void {
    const F = this.F;
    for (const c of this.convs) {
      for (let q = 0; q < c.unpack.length; q += 2) F[c.unpack[q]] = F[c.unpack[q + 1]];
      F.copyWithin(c.db >> 2, c.dbp >> 2, (c.dbp >> 2) + c.O);
    }
    for (const l of this.lins) {
      if (!l.rowOf) continue;
      const g = l.dW >> 2, gp = l.dWp >> 2;
      for (let r = 0; r < l.din; r++) F.copyWithin(g + r * l.dout, gp + l.rowOf[r] * l.dout, gp + (l.rowOf[r] + 1) * l.dout);
    }
  }

  /** every named activation of the batch's n rows */
  forward(n: number): void {
    const { k, c } = this.kernels, d = this.data;
    this.pack();
    for (const v of this.convs) {
      if (v.first) c.conv_sparse_fwd(n, d.rows, d.rowptr, d.idx, d.val, d.lut, d.pyx, v.Wf, v.bp, v.Z, v.Ho, v.Wo, v.Op, v.k, v.s, v.p);
      else c.conv_fwd(n, v.X, v.Hi, v.Wi, v.Ip, v.Wf, v.bp, v.Z, v.Ho, v.Wo, v.Op, v.k, v.s, v.p);
      k.relu(v.Z, v.H, n * v.Ho * v.Wo * v.Op);
      const pl = v.pool;
      if (pl) c.pool_fwd(n, v.H, v.Ho, v.Wo, v.Op, pl.k, pl.s, pl.Ho, pl.Wo, pl.P, pl.arg);
    }
    for (const l of this.lins) {
      k.mm(n, l.X, l.Dp, l.Wp, l.b, l.Z, l.dout, 1);
      if (!l.last) k.relu(l.Z, l.H, n * l.dout);
    }
  }

  /** the MLP fused step's loss (mlp/fused-cpu.ts fusedCrossEntropy): f64 per row, d logits of the mean loss */
  crossEntropy(n: number, grads: boolean): { sum: number; correct: number } {
    const last = this.lins[this.lins.length - 1];
    return fusedCrossEntropy(this.F, { logits: last.Z, dLogits: last.dZ, loss: this.loss, dLoss: this.dloss }, n, last.dout, this.labels, this.expScratch, grads);
  }

  /** every gradient from d logits (crossEntropy with grads), in the model layout */
  backward(n: number): void {
    const { k, c } = this.kernels, d = this.data;
    for (let q = this.lins.length - 1; q >= 0; q--) {
      const l = this.lins[q];
      k.mm_tn(n, l.X, l.Dp, l.dZ, l.dout, l.dWp);
      k.colsum(n, l.dZ, l.dout, l.db);
      k.transpose(l.Wp, l.Dp, l.dout, l.WT);
      k.mm(n, l.dZ, l.dout, l.WT, 0, l.dX, l.Dp, 0);
      if (q > 0) { const prev = this.lins[q - 1]; k.relu_back(prev.dH, prev.Z, prev.dZ, n * prev.dout); }
    }
    for (let q = this.convs.length - 1; q >= 0; q--) {
      const v = this.convs[q], pl = v.pool, count = n * v.Ho * v.Wo;
      // a pooling that tiles the map exactly (stride = kernel, no rows or columns left over): its gradient
      // and the ReLU's in one pass, every position written once; else the two passes
      if (pl && pl.s === pl.k && pl.Ho * pl.k === v.Ho && pl.Wo * pl.k === v.Wo) c.pool_relu_bwd(n, pl.dP, pl.arg, v.Op, pl.k, pl.Ho, pl.Wo, v.dH, v.Z, v.dZ);
      else {
        if (pl) c.pool_bwd(n, pl.dP, pl.arg, v.Ho, v.Wo, v.Op, pl.k, pl.s, pl.Ho, pl.Wo, v.dH);
        k.relu_back(v.dH, v.Z, v.dZ, count * v.Op);
      }
      k.colsum(count, v.dZ, v.Op, v.dbp);
      if (v.first) c.conv_sparse_bwd(n, d.rows, d.rowptr, d.idx, d.val, d.lut, d.pyx, v.dZ, v.Ho, v.Wo, v.Op, v.k, v.s, v.p, v.dWp);
      else {
        c.conv_bwd_dx(n, v.X, v.Hi, v.Wi, v.Ip, v.Wb, v.dZ, v.Ho, v.Wo, v.Op, v.O, v.k, v.s, v.p, v.dX, v.cnt, v.ent, v.tmp, v.pat);
        c.conv_bwd_dw(n, v.Ho, v.Wo, v.O, v.k, v.Ip, v.dWp, v.cnt, v.ent);
      }
    }
    this.unpack();
  }

  /** the recorder's rows: per-channel means of every conv map and the sums of their gradients */
  channelRows(n: number, grads: boolean): void {
    const { c } = this.kernels;
    for (const v of this.convs) {
      const hw = v.Ho * v.Wo, r = v.rec;
      c.chan_sums(n, v.Z, hw, v.Op, v.O, r.pre, hw);
      c.chan_sums(n, v.H, hw, v.Op, v.O, r.post, hw);
      if (grads) {
        c.chan_sums(n, v.dZ, hw, v.Op, v.O, r.dpre, 1);
        c.chan_sums(n, v.dH, hw, v.Op, v.O, r.dpost, 1);
      }
      const pl = v.pool;
      if (pl) {
        const phw = pl.Ho * pl.Wo;
        c.chan_sums(n, pl.P, phw, v.Op, v.O, r.pool, phw);
        if (grads) c.chan_sums(n, pl.dP, phw, v.Op, v.O, r.dpool, 1);
      }
    }
  }

  /** Σ 0·x over the pre-activations and the loss: NaN iff a named activation holds a NaN or ±Inf (ReLU and max keep finite values finite) */
  probeActs(n: number): number {
    const { k } = this.kernels;
    let p = k.probe(this.loss, n);
    for (const v of this.convs) p += k.probe(v.Z, n * v.Ho * v.Wo * v.Op);
    for (const l of this.lins) p += k.probe(l.Z, n * l.dout);
    return p;
  }
}

interface Built { convs: ConvBuf[]; lins: LinBuf[]; loss: number; dloss: number; squares: number; data: Data; bytes: number }

function layout(model: Cnn, cap: number, sparse: SparseRows, training: boolean, momentum: boolean): Built {
  const at = new Layout();
  const grad = (count: number) => (training ? at.f32(count) : 0);
  const convs: ConvBuf[] = [], lins: LinBuf[] = [];
  /** the map the next layer reads: [H, W, Cp] at X (gradient at dX), C real channels */
  let map: { H: number; W: number; C: number; Cp: number; X: number; dX: number } | null = null;
  let vecX = 0, vecDX = 0;
  model.layers.forEach((layer, K) => {
    const s = layer.spec, last = K === model.layers.length - 1;
    if (s.kind === 'conv') {
      const [I, Hi, Wi] = s.inShape, [O, Ho, Wo] = s.outShape, k = s.kernel, first = map === null;
      const Ip = first ? 1 : map!.Cp, Op = pad4(O);
      const v: ConvBuf = {
        K, first, O, Op, I, Ip, k, s: s.stride, p: s.padding, Hi, Wi, Ho, Wo,
        W: at.f32(O * I * k * k), b: at.f32(O), dW: grad(O * I * k * k), db: grad(O),
        vW: momentum ? at.f32(O * I * k * k) : 0, vb: momentum ? at.f32(O) : 0,
        Wf: at.f32(k * k * Ip * Op), Wb: training && !first ? at.f32(O * k * k * Ip) : 0, bp: at.f32(Op),
        dWp: grad(first ? k * k * Op : O * k * k * Ip), dbp: grad(Op),
        Z: at.f32(cap * Ho * Wo * Op), H: at.f32(cap * Ho * Wo * Op), dZ: grad(cap * Ho * Wo * Op), dH: grad(cap * Ho * Wo * Op),
        pool: null, X: first ? 0 : map!.X, dX: first ? 0 : map!.dX,
        rec: { pre: at.f32(cap * O), post: at.f32(cap * O), pool: 0, dpre: grad(cap * O), dpost: grad(cap * O), dpool: 0 },
        cnt: training && !first ? at.i32(O) : 0, ent: training && !first ? at.i32(O * cap * Ho * Wo * 3) : 0,
        tmp: training && !first ? at.f32(2 * O) : 0,
        pat: training && !first && s.padding > 0 ? at.f32(cap * edgeWindows(Hi, Wi, Ho, Wo, k, s.stride, s.padding) * k * k * Ip) : 0,
        packF: new Int32Array(0), packB: new Int32Array(0), unpack: new Int32Array(0),
      };
      if (layer.pool) {
        const [, pH, pW] = layer.pool.outShape;
        v.pool = { k: layer.pool.kernel, s: layer.pool.stride, Ho: pH, Wo: pW, P: at.f32(cap * pH * pW * Op), arg: at.i32(cap * pH * pW * Op), dP: grad(cap * pH * pW * Op) };
        v.rec.pool = at.f32(cap * O);
        v.rec.dpool = grad(cap * O);
        map = { H: pH, W: pW, C: O, Cp: Op, X: v.pool.P, dX: v.pool.dP };
      } else map = { H: Ho, W: Wo, C: O, Cp: Op, X: v.H, dX: v.dH };
      packIndices(v);
      convs.push(v);
      return;
    }
    const din = s.inShape[0], dout = s.out;
    const flat = s.flatten && map ? map : null;
    const Dp = flat ? flat.H * flat.W * flat.Cp : din;
    const W = at.f32(din * dout), dW = grad(din * dout);
    const l: LinBuf = {
      K, last, din, dout, Dp,
      W, b: at.f32(dout), dW, db: grad(dout), vW: momentum ? at.f32(din * dout) : 0, vb: momentum ? at.f32(dout) : 0,
      Wp: flat ? at.f32(Dp * dout) : W, dWp: flat ? grad(Dp * dout) : dW, WT: training ? at.f32(Dp * dout) : 0,
      Z: at.f32(cap * dout), H: last ? 0 : at.f32(cap * dout), dZ: grad(cap * dout), dH: last ? 0 : grad(cap * dout),
      X: flat ? flat.X : vecX, dX: flat ? flat.dX : vecDX,
      rowOf: null,
    };
    if (flat) {
      // the model's row c·H·W + y·W + x (PyTorch's flatten of [C, H, W]) is the packed row (y·W + x)·Cp + c
      const hw = flat.H * flat.W;
      l.rowOf = Int32Array.from({ length: din }, (_, r) => (r % hw) * flat.Cp + Math.floor(r / hw));
    }
    vecX = l.H;
    vecDX = l.dH;
    map = null;
    lins.push(l);
  });
  const loss = at.f32(cap), dloss = grad(cap), squares = at.f64(2 * (convs.length + lins.length));
  const d = model.inputSize;
  const data: Data = { rows: at.i32(cap), lut: at.f32(256), pyx: at.i32(d), rowptr: at.i32(sparse.rowptr.length), idx: at.u16(sparse.idx.length), val: at.u8(sparse.val.length) };
  return { convs, lins, loss, dloss, squares, data, bytes: at.bytes };
}

/** how many output positions of a conv have a window that crosses the input's edge (padding) */
function edgeWindows(Hi: number, Wi: number, Ho: number, Wo: number, k: number, s: number, p: number): number {
  const whole = (o: number, len: number) => o * s >= p && o * s - p + k <= len;
  let count = 0;
  for (let oy = 0; oy < Ho; oy++) for (let ox = 0; ox < Wo; ox++) if (!(whole(oy, Hi) && whole(ox, Wi))) count++;
  return count;
}

/** the element pairs (destination, source) of a conv's packings: W → Wf, W → Wb, dWp → dW */
function packIndices(v: ConvBuf): void {
  const { O, I, Ip, Op, k } = v;
  const f: number[] = [], b: number[] = [], u: number[] = [];
  for (let o = 0; o < O; o++) {
    for (let i = 0; i < I; i++) {
      for (let ky = 0; ky < k; ky++) {
        for (let kx = 0; kx < k; kx++) {
          const w = (v.W >> 2) + ((o * I + i) * k + ky) * k + kx;
          // the first conv's weights are flipped along kx (engine/wasm/cnn-kernels.ts)
          const f0 = v.first ? (ky * k + k - 1 - kx) * Op + o : ((ky * k + kx) * Ip + i) * Op + o;
          f.push((v.Wf >> 2) + f0, w);
          const packed = v.first ? f0 : ((o * k + ky) * k + kx) * Ip + i;
          if (v.Wb) b.push((v.Wb >> 2) + packed, w);
          if (v.dW) u.push((v.dW >> 2) + ((o * I + i) * k + ky) * k + kx, (v.dWp >> 2) + packed);
        }
      }
    }
  }
  v.packF = Int32Array.from(f);
  v.packB = Int32Array.from(b);
  v.unpack = Int32Array.from(u);
}

// --- training

export interface FusedCnnCpuOptions {
  batch: number;
  lr: number;
  momentum?: number;
  weightDecay?: number;
  /** momentum buffers to start from, one per parameter in model.params() order (a resumed run) */
  velocity?: readonly (Float32Array | null)[];
  /** kernels: WebAssembly SIMD (default, where available) or the JS ones */
  kind?: KernelKind;
}


interface Param { name: ParamName; tensor: Tensor; at: number; grad: number; v: number; size: number }

/**
 * trains a CNN with the fused step: the model's parameter tensors are pointed at the trainer's memory
 * (their values are always the current ones); call step(), update(), record() per batch
 */
export class FusedCnnCpuTrainer {
  /** activation names in model order (as the generic forward returns them, `input` left out), then parameter names */
  readonly checkedNames: string[];
  private readonly actNames: ActName[];
  private readonly params: Param[];
  private readonly hasVelocity: boolean[];
  private readonly views: Float32Array[];
  private readonly squares: Float64Array;
  private readonly normHolders: { name: ParamName; tensor: Tensor }[];
  private readonly recorded = new Map<number, Partial<Record<ActName, Tensor>>>();

  private constructor(model: Cnn, /** the fused network (benchmarks time its phases) */ readonly net: FusedCnn, private readonly opts: FusedCnnCpuOptions) {
    const bufs: { W: number; b: number; dW: number; db: number; vW: number; vb: number }[] = [];
    let ci = 0, li = 0;
    for (const l of model.layers) bufs.push(l.spec.kind === 'conv' ? net.convs[ci++] : net.lins[li++]);
    this.params = model.params().map(({ name, tensor }, q) => {
      const B = bufs[q >> 1], isW = (q & 1) === 0;
      return { name, tensor, at: isW ? B.W : B.b, grad: isW ? B.dW : B.db, v: isW ? B.vW : B.vb, size: tensor.size };
    });
    this.hasVelocity = this.params.map(() => false);
    opts.velocity?.forEach((v, q) => {
      if (!v) return;
      const p = this.params[q];
      if (v.length !== p.size) throw new RangeError(`sgd: momentum buffer ${q} has ${v.length} values, its parameter ${p.size}`);
      net.view(p.v, p.size).set(v);
      this.hasVelocity[q] = true;
    });
    this.actNames = model.actNames().filter((n) => n !== 'input');
    this.checkedNames = [...this.actNames, ...this.params.map((p) => p.name)];
    this.views = this.params.map((p) => net.view(p.at, p.size));
    this.squares = new Float64Array(net.kernels.buffer, net.squares, this.params.length);
    this.normHolders = this.params.map((p) => {
      const holder = new Tensor([1], 'f64', cpu, new Float64Array(1));
      holder.grad = new Tensor([1], 'f64', cpu, new Float64Array(1));
      return { name: p.name, tensor: holder };
    });
    this.attach();
  }

  static async create(model: Cnn, split: Split, opts: FusedCnnCpuOptions): Promise<FusedCnnCpuTrainer> {
    if (!fusedCnnCpuApplies(model, split)) throw new Error('fused cnn step: the model is not an f32 CNN on the cpu backend for this data');
    if (!(opts.lr > 0) || !Number.isFinite(opts.lr)) throw new Error(`sgd: lr must be a positive number, got ${opts.lr}`);
    const momentum = !!opts.momentum || !!opts.velocity?.some((v) => v);
    const net = await FusedCnn.create(model, opts.batch, split, { training: true, momentum, kind: opts.kind });
    return new FusedCnnCpuTrainer(model, net, opts);
  }

  /** which kernels run: 'wasm-simd' or 'js' */
  get kind(): KernelKind { return this.net.kind; }
  get batch(): number { return this.opts.batch; }

  private attach(): void {
    this.params.forEach((p, q) => {
      const view = this.views[q];
      if (p.tensor.storage === view) return;
      view.set(p.tensor.data());
      p.tensor.storage = view;
    });
  }

  private attachIfReplaced(): void {
    for (let q = 0; q < this.params.length; q++) {
      if (this.params[q].tensor.storage !== this.views[q]) { this.attach(); return; }
    }
  }

  /** forward, loss, backward of rows order[start .. start+n) (parameters not yet updated): Σ loss (f32) and right answers */
  step(order: ArrayLike<number>, start: number, n: number): { loss: number; correct: number } {
    if (n > this.net.cap) throw new RangeError(`fused cnn step: batch of ${n} rows, buffers for ${this.net.cap}`);
    this.attachIfReplaced();
    this.net.gather(order, start, n);
    this.net.forward(n);
    const { sum, correct } = this.net.crossEntropy(n, true);
    this.net.backward(n);
    return { loss: sum, correct };
  }

  /** the SGD update of every parameter (torch.optim.SGD, f32); false when one became non-finite. `norms`: Σ g² too */
  update(norms = false): boolean {
    const { lr, momentum = 0, weightDecay = 0 } = this.opts;
    const { k } = this.net.kernels;
    let probe = 0;
    this.params.forEach((p, q) => {
      probe += k.sgd(p.at, p.grad, p.v, p.size, lr, momentum, weightDecay, this.hasVelocity[q] ? 0 : 1, norms ? this.net.squares + 8 * q : 0);
      if (momentum) this.hasVelocity[q] = true;
    });
    return Number.isFinite(probe);
  }

  actsFinite(n: number): boolean { return Number.isFinite(this.net.probeActs(n)); }

  /**
   * the last step into the recorder (after update(true), which leaves activations and gradients as they
   * were): conv maps as their channels' means and gradient sums, the rest as rows, the gradient norms
   */
  record(recorder: Recorder, step: number, order: Uint32Array, start: number, n: number): void {
    this.net.channelRows(n, recorder.opts.grads ?? true);
    recorder.recordBatch(start, this.recordedTensors(n), this.net.labels.subarray(0, n), order.subarray(start, start + n));
    this.normHolders.forEach((h, q) => { (h.tensor.grad!.storage as Float64Array)[0] = Math.sqrt(this.squares[q]); });
    recorder.recordParamGrads(step, this.normHolders);
  }

  /** [n, units] tensors over the memory, with their gradients, per name (made once per batch size) */
  private recordedTensors(n: number): Partial<Record<ActName, Tensor>> {
    let acts = this.recorded.get(n);
    if (acts) return acts;
    acts = {};
    const net = this.net, out = acts;
    const wrap = (name: ActName, at: number, gradAt: number, width: number) => {
      const shape = name === 'loss' ? [n] : [n, width];
      const t = new Tensor(shape, 'f32', cpu, net.view(at, n * width));
      if (gradAt) t.grad = new Tensor(shape, 'f32', cpu, net.view(gradAt, n * width));
      out[name] = t.named(name);
    };
    for (const v of net.convs) {
      wrap(preName(v.K), v.rec.pre, v.rec.dpre, v.O);
      wrap(postName(v.K), v.rec.post, v.rec.dpost, v.O);
      if (v.pool) wrap(poolName(v.K), v.rec.pool, v.rec.dpool, v.O);
    }
    for (const l of net.lins) {
      if (l.last) wrap('logits', l.Z, l.dZ, l.dout);
      else { wrap(preName(l.K), l.Z, l.dZ, l.dout); wrap(postName(l.K), l.H, l.dH, l.dout); }
    }
    wrap('loss', net.loss, net.dloss, 1);
    this.recorded.set(n, acts);
    return acts;
  }

  /**
   * the last step's activations ([n, C, H, W] copies of the maps, in the generic step's layout) then the
   * parameters, in checkedNames order: for the exact scan that names the first bad one
   */
  checked(n: number): Tensor[] {
    const net = this.net, F = net.F, byName = new Map<string, Tensor>();
    const nchw = (at: number, H: number, W: number, C: number, Cp: number) => {
      const out = new Float32Array(n * C * H * W);
      for (let i = 0; i < n; i++) for (let ch = 0; ch < C; ch++) for (let q = 0; q < H * W; q++) out[(i * C + ch) * H * W + q] = F[(at >> 2) + (i * H * W + q) * Cp + ch];
      return new Tensor([n, C, H, W], 'f32', cpu, out);
    };
    const rows = (at: number, width: number, shape: number[]) => new Tensor(shape, 'f32', cpu, Float32Array.from(net.view(at, n * width)));
    for (const v of net.convs) {
      byName.set(preName(v.K), nchw(v.Z, v.Ho, v.Wo, v.O, v.Op));
      byName.set(postName(v.K), nchw(v.H, v.Ho, v.Wo, v.O, v.Op));
      if (v.pool) byName.set(poolName(v.K), nchw(v.pool.P, v.pool.Ho, v.pool.Wo, v.O, v.Op));
    }
    for (const l of net.lins) {
      if (l.last) byName.set('logits', rows(l.Z, l.dout, [n, l.dout]));
      else { byName.set(preName(l.K), rows(l.Z, l.dout, [n, l.dout])); byName.set(postName(l.K), rows(l.H, l.dout, [n, l.dout])); }
    }
    byName.set('loss', rows(net.loss, 1, [n]));
    return [...this.actNames.map((name) => byName.get(name)!), ...this.params.map((p) => p.tensor)];
  }

  /** the parameters get storage of their own again (copies), so the trainer's memory can be collected */
  detach(): void {
    this.params.forEach((p, q) => {
      if (p.tensor.storage === this.views[q]) p.tensor.storage = Float32Array.from(p.tensor.data());
    });
  }

  /** host copies of the momentum buffers, one per parameter in model.params() order (null before its first step) */
  velocity(): (Float32Array | null)[] {
    return this.params.map((p, q) => (this.hasVelocity[q] ? Float32Array.from(this.net.view(p.v, p.size)) : null));
  }
}

/** the label of the fused CNN step with kernels `kind` */
export async function fusedCnnCpuLabel(kind?: KernelKind): Promise<string> {
  const js = kind === 'js' ? "fused: 'js'" : wantedKind() === 'js' ? 'MLP_LENS_WASM=0'
    : (await wasmModule()) && (await cnnWasmModule()) ? null : wasmUnavailable();
  return js === null ? 'fused CNN step, WebAssembly SIMD' : `fused CNN step, JavaScript kernels: ${js}`;
}

/** the fused CNN step as a StepEngine: FusedCnnCpuTrainer driven by mlp/fused-host-step.ts, as the MLP's is */
export const FusedCnnCpuStep = {
  async create(model: Cnn, split: Split, opts: FusedCnnCpuOptions, run: FusedRun): Promise<FusedHostStep> {
    const trainer = await FusedCnnCpuTrainer.create(model, split, opts);
    return new FusedHostStep(trainer, split, run, await fusedCnnCpuLabel(opts.kind), model.params().map((p) => p.name));
  },
};

// --- evaluation

const evalNets = new WeakMap<Split, FusedCnn>();
/** rows per forward call in evaluation (the per-row results do not depend on it; the maps' memory does) */
const EVAL_ROWS = 256;

/**
 * the forward pass of a CNN over a whole split in file order: per-sample loss summed (f64) and the
 * predicted class of each row (the first maximal logit). The model's weights are copied, never changed.
 */
export async function fusedCnnCpuForward(model: Cnn, split: Split, batch: number, kind?: KernelKind): Promise<{ lossSum: number; predictions: Uint8Array; losses: Float32Array }> {
  if (!fusedCnnCpuApplies(model, split)) throw new Error('fused cnn forward: the model is not an f32 CNN on the cpu backend for this data');
  const cap = Math.max(1, Math.min(batch, split.count, EVAL_ROWS));
  let net = evalNets.get(split);
  const want = wantedKind(kind);
  if (!net || net.cap !== cap || net.model.arch !== model.arch || net.requested !== want) {
    net = await FusedCnn.create(model, cap, split, { training: false, momentum: false, kind: want });
    evalNets.set(split, net);
  }
  let ci = 0, li = 0;
  for (const l of model.layers) {
    const B = l.spec.kind === 'conv' ? net.convs[ci++] : net.lins[li++];
    net.view(B.W, l.W.size).set(l.W.data());
    net.view(B.b, l.b.size).set(l.b.data());
  }
  const last = net.lins[net.lins.length - 1];
  return forwardSplit(net, split, cap, last.Z, last.dout);
}

// --- analyses: the named maps of any images

/** a named activation of n images as the generic forward returns it: a map [n, C, H, W], a vector [n, D], the loss [n] */
export interface NamedMap { shape: number[]; data: Float32Array }

/**
 * images given as floats [n, rows·cols] as a split of byte codes: each distinct non-zero value one code
 * 1..255 (0 stays 0, never stored by the sparse rows), its value in `lut`; null past 255 distinct values
 */
function codedImages(x: Float32Array, n: number, rows: number, cols: number): { split: Split; lut: Float32Array } | null {
  const d = rows * cols, images = new Uint8Array(n * d), lut = new Float32Array(256), codes = new Map<number, number>();
  let last = NaN, lastCode = 0;
  for (let q = 0; q < n * d; q++) {
    const v = x[q];
    if (v === 0) continue;
    if (v !== last) {
      let code = codes.get(v);
      if (code === undefined) {
        if (codes.size === 255) return null;
        code = codes.size + 1;
        codes.set(v, code);
        lut[code] = v;
      }
      last = v;
      lastCode = code;
    }
    images[q] = lastCode;
  }
  return { split: { images, labels: new Uint8Array(n), count: n, rows, cols }, lut };
}

/**
 * the forward pass of a CNN on n images x [n, rows·cols] with the fused step's kernels: the named
 * activations asked for, maps in the generic forward's layout [n, C, H, W] (copied out of the kernels'
 * channel-last memory), vectors [n, D], the loss [n] (only with `labels`). What the analyses read
 * (analysis/forward-cache.ts cacheImages, analysis/intervention.ts) in place of model.forward: the same
 * numbers to f32 rounding (f32 sums in the kernels' order, not the oracle's f64 ones). Null where the
 * path does not apply: not an f32 CNN on the cpu backend with one input channel and a first conv, or
 * images with more than 255 distinct non-zero values (the sparse first conv reads bytes through a table).
 * The model's weights are copied, never changed.
 */
export async function fusedCnnCpuActs(
  model: Cnn, x: Float32Array, n: number, names: readonly ActName[],
  opts: { labels?: ArrayLike<number>; kind?: KernelKind; means?: readonly ActName[] } = {},
): Promise<(Partial<Record<ActName, NamedMap>> & { means?: Partial<Record<ActName, NamedMap>> }) | null> {
  if (model.kind !== 'cnn' || n < 1) return null;
  const [, rows, cols] = model.input;
  if (x.length < n * rows * cols) throw new RangeError(`fusedCnnCpuActs: ${n} images of ${rows * cols} pixels need ${n * rows * cols} values, got ${x.length}`);
  const coded = codedImages(x, n, rows, cols);
  if (!coded || !fusedCnnCpuApplies(model, coded.split)) return null;
  const cap = Math.min(n, EVAL_ROWS);
  const net = await FusedCnn.create(model, cap, coded.split, { training: false, momentum: false, kind: opts.kind });
  const F = net.F;
  F.set(coded.lut, net.data.lut >> 2);
  let ci = 0, li = 0;
  for (const l of model.layers) {
    const B = l.spec.kind === 'conv' ? net.convs[ci++] : net.lins[li++];
    net.view(B.W, l.W.size).set(l.W.data());
    net.view(B.b, l.b.size).set(l.b.data());
  }
  // each name: where it lives in the kernels' memory, as [positions, Cp] rows per image (a vector: 1 position)
  const src = new Map<ActName, { at: number; hw: number; C: number; Cp: number }>();
  for (const v of net.convs) {
    const hw = v.Ho * v.Wo;
    src.set(preName(v.K), { at: v.Z, hw, C: v.O, Cp: v.Op });
    src.set(postName(v.K), { at: v.H, hw, C: v.O, Cp: v.Op });
    if (v.pool) src.set(poolName(v.K), { at: v.pool.P, hw: v.pool.Ho * v.pool.Wo, C: v.O, Cp: v.Op });
  }
  for (const l of net.lins) {
    if (l.last) src.set('logits', { at: l.Z, hw: 1, C: l.dout, Cp: l.dout });
    else { src.set(preName(l.K), { at: l.Z, hw: 1, C: l.dout, Cp: l.dout }); src.set(postName(l.K), { at: l.H, hw: 1, C: l.dout, Cp: l.dout }); }
  }
  const labels = opts.labels;
  if (labels) src.set('loss', { at: net.loss, hw: 1, C: 1, Cp: 1 });
  const out: Partial<Record<ActName, NamedMap>> & { means?: Partial<Record<ActName, NamedMap>> } = {};
  const wanted = [...new Set(names)].filter((name) => name === 'input' || src.has(name));
  for (const name of wanted) {
    const shape = name === 'loss' ? [n] : [n, ...model.unitShape(name)];
    out[name] = { shape, data: name === 'input' ? Float32Array.from(x.subarray(0, n * rows * cols)) : new Float32Array(shape.reduce((a, b) => a * b, 1)) };
  }
  // `means`: a map as its channels' spatial means [n, C] (the recorder's rows: f64 sums, positions ascending,
  // as mlp/units.ts channelReduce), a vector as itself
  const rec = new Map<ActName, number>();
  for (const v of net.convs) {
    rec.set(preName(v.K), v.rec.pre);
    rec.set(postName(v.K), v.rec.post);
    if (v.pool) rec.set(poolName(v.K), v.rec.pool);
  }
  const reduced = [...new Set(opts.means ?? [])].filter((name) => rec.has(name) || src.has(name));
  if (opts.means) {
    out.means = {};
    if (opts.means.includes('input')) out.means.input = { shape: [n, rows * cols], data: Float32Array.from(x.subarray(0, n * rows * cols)) };
    for (const name of reduced) {
      const w = rec.has(name) ? model.unitShape(name)[0] : src.get(name)!.C;
      out.means[name] = { shape: name === 'loss' ? [n] : [n, w], data: new Float32Array(n * w) };
    }
  }
  const byMean = reduced.some((name) => rec.has(name));
  for (let start = 0; start < n; start += cap) {
    const m = Math.min(cap, n - start);
    net.gatherRange(start, m);
    net.forward(m);
    if (labels && (out.loss || out.means?.loss)) {
      for (let r = 0; r < m; r++) net.labels[r] = labels[start + r];
      net.crossEntropy(m, false);
    }
    if (byMean) net.channelRows(m, false);
    for (const name of reduced) {
      const dst = out.means![name]!, w = dst.data.length / n, at = rec.get(name) ?? src.get(name)!.at;
      dst.data.set(net.view(at, m * w), start * w);
    }
    for (const name of wanted) {
      const s = src.get(name);
      if (!s) continue;
      const dst = out[name]!.data, { hw, C, Cp } = s, from = s.at >> 2;
      if (hw === 1 && C === Cp) { dst.set(F.subarray(from, from + m * C), start * C); continue; }
      // channel-last [m, hw, Cp] → [m, C, hw]
      for (let i = 0; i < m; i++) {
        for (let ch = 0; ch < C; ch++) {
          const o = ((start + i) * C + ch) * hw, p = from + i * hw * Cp + ch;
          for (let q = 0; q < hw; q++) dst[o + q] = F[p + q * Cp];
        }
      }
    }
  }
  return out;
}
