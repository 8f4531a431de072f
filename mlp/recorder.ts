// the recorder: one epoch-sized slot per named tensor (and one for its gradient), so each batch's
// activations and gradients land in their slice of the epoch, in the order samples were visited.
// On the CPU the slots are host arrays written in place; on a GPU they are device buffers filled by
// buffer copies in the step's command stream, read back once when the epoch ends.
import { mul, sum } from '../engine/ops/index.ts';
import { noGrad, Tensor } from '../engine/tensor.ts';
import { keep } from '../engine/webgpu.ts';
import type { Acts } from './model.ts';
import type { ActName, ParamName } from './names.ts';

/** [count, width] row-major: row r is the r-th sample visited in the epoch */
export interface Slot { width: number; data: Float32Array }

export interface EpochRecord {
  epoch: number;
  /** samples visited (the epoch's size, or fewer with --steps) */
  count: number;
  /** label of each visited sample [count] */
  labels: Uint8Array;
  /** dataset index of each visited sample [count] */
  indices: Uint32Array;
  acts: Partial<Record<ActName, Slot>>;
  /** same keys as acts: d(mean batch loss)/d(tensor), as PyTorch's retain_grad() gives it */
  grads: Partial<Record<ActName, Slot>>;
  /** first row of each recorded batch, then `count` [steps + 1] (absent in hand-made records) */
  batchOffsets?: Uint32Array;
  /** ||grad|| of each parameter after each step's backward (recordParamGrads); absent when never called */
  paramGrads?: ParamGrads;
}

/** per-step gradient norms of the parameters */
export interface ParamGrads {
  /** parameter names, in the order given to recordParamGrads */
  names: ParamName[];
  steps: number;
  /** [steps, params] row-major: sqrt(Σ g²) of parameter p's gradient at step s */
  norms: Float32Array;
}

export interface RecorderOptions {
  /** names to keep; `input` is the dataset itself (indices are kept), so it is left out by default */
  names: readonly ActName[];
  /** width of each name's rows */
  widths: Partial<Record<ActName, number>>;
  /** samples per epoch */
  count: number;
  grads?: boolean;
  /** steps per epoch: sizes the device slot of parameter-gradient norms (GPU backends) */
  steps?: number;
}

/** device-side slots of one epoch (non-cpu backends): flat [count · width] tensors, squared norms [steps · params] */
interface DeviceSlots { acts: Map<ActName, Tensor>; grads: Map<ActName, Tensor>; sq: Tensor | null }

export class Recorder {
  private rec: EpochRecord | null = null;
  private offsets: number[] = [];
  private paramNames: ParamName[] | null = null;
  private norms = new Float32Array(0);
  private steps = 0;
  private dev: DeviceSlots | null = null;

  constructor(readonly opts: RecorderOptions) {}

  beginEpoch(epoch: number): void {
    const { names, widths, count, grads = true } = this.opts;
    const slots = (): Partial<Record<ActName, Slot>> =>
      Object.fromEntries(names.map((n) => [n, { width: widths[n]!, data: new Float32Array(count * widths[n]!) }]));
    this.rec = {
      epoch, count: 0, labels: new Uint8Array(count), indices: new Uint32Array(count),
      acts: slots(), grads: grads ? slots() : {},
    };
    this.offsets = [];
    this.paramNames = null;
    this.steps = 0;
  }

  /**
   * copies one batch into rows [offset, offset + batch) of every slot; call after backward so the
   * gradients are there. CPU tensors are read in place.
   */
  recordBatch(offset: number, acts: Acts, labels: ArrayLike<number>, indices: ArrayLike<number>): void {
    const rec = this.rec;
    if (!rec) throw new Error('recorder: recordBatch before beginEpoch');
    for (const name of this.opts.names) {
      const t = acts[name];
      if (!t) continue;
      if (t.backend.name !== 'cpu') {
        this.copyToDevice(name, t, offset);
        continue;
      }
      const slot = rec.acts[name]!;
      slot.data.set(t.data(), offset * slot.width);
      const g = rec.grads[name];
      if (g && t.grad) g.data.set(t.grad.data(), offset * g.width);
    }
    for (let r = 0; r < labels.length; r++) {
      rec.labels[offset + r] = labels[r];
      rec.indices[offset + r] = indices[r];
    }
    rec.count = Math.max(rec.count, offset + labels.length);
    this.offsets.push(offset);
  }

  /**
   * keeps ||grad|| = sqrt(Σ g²) (float64 sum, stored as float32) of each parameter at `step`; call after
   * backward and before the optimiser step. Params are read in place on the CPU; a parameter without a
   * gradient counts as 0. Every call of an epoch must pass the same parameters in the same order.
   */
  recordParamGrads(step: number, params: readonly { name: ParamName; tensor: Tensor }[]): void {
    if (!this.rec) throw new Error('recorder: recordParamGrads before beginEpoch');
    if (!Number.isInteger(step) || step < 0) throw new Error(`recorder: step must be a non-negative integer, got ${step}`);
    const p = params.length;
    if (!this.paramNames) this.paramNames = params.map((q) => q.name);
    else if (this.paramNames.length !== p || params.some((q, i) => q.name !== this.paramNames![i])) {
      throw new Error(`recorder: recordParamGrads got [${params.map((q) => q.name)}], earlier steps [${this.paramNames}]`);
    }
    // grow by doubling: the number of steps is not known until the epoch ends
    if ((step + 1) * p > this.norms.length) {
      const grown = new Float32Array(Math.max(2 * this.norms.length, (step + 1) * p, 64 * p)); // [capacity, params]
      grown.set(this.norms);
      this.norms = grown;
    }
    if (params[0] && params[0].tensor.backend.name !== 'cpu') {
      this.squaredNormsOnDevice(step, params.map((q) => q.tensor));
      this.steps = Math.max(this.steps, step + 1);
      return;
    }
    params.forEach(({ tensor }, i) => {
      const g = tensor.grad ? tensor.grad.data() : null;
      let sq = 0;
      if (g) for (let k = 0; k < g.length; k++) sq += g[k] * g[k];
      this.norms[step * p + i] = Math.sqrt(sq);
    });
    this.steps = Math.max(this.steps, step + 1);
  }

  /** rows [offset, offset + batch) of a device slot ← t (a buffer copy, no read-back) */
  private copyToDevice(name: ActName, t: Tensor, offset: number): void {
    const width = this.opts.widths[name]!;
    const dev = (this.dev ??= { acts: new Map(), grads: new Map(), sq: null });
    const slot = (m: Map<ActName, Tensor>) => {
      let s = m.get(name);
      if (!s) {
        s = Tensor.zeros([this.opts.count * width], { backend: t.backend });
        // made inside a step's tidy(): it must outlive the step
        keep(s);
        m.set(name, s);
      }
      return s;
    };
    t.backend.copyInto(t.storage, slot(dev.acts).storage, offset * width, t.size);
    if ((this.opts.grads ?? true) && t.grad) t.backend.copyInto(t.grad.storage, slot(dev.grads).storage, offset * width, t.grad.size);
  }

  /** Σ g² of each parameter's gradient, computed and stored on the device; sqrt on the host at the end */
  private squaredNormsOnDevice(step: number, params: readonly Tensor[]): void {
    const p = params.length, steps = this.opts.steps;
    if (!steps) throw new Error('recorder: on a GPU backend the recorder needs opts.steps (slot size of the gradient norms)');
    const dev = (this.dev ??= { acts: new Map(), grads: new Map(), sq: null });
    if (!dev.sq) {
      dev.sq = Tensor.zeros([steps * p], { backend: params[0].backend });
      keep(dev.sq);
    }
    params.forEach((t, i) => {
      if (!t.grad) return;
      const g = t.grad;
      const sq = noGrad(() => {
        let s = mul(g, g);
        while (s.shape.length) s = sum(s, 0);
        return s;
      });
      t.backend.copyInto(sq.storage, dev.sq!.storage, step * p + i, 1);
    });
  }

  /** device slots → the host record (the epoch's one read-back), then the buffers go back to the pool */
  private async readDevice(rec: EpochRecord): Promise<void> {
    const dev = this.dev;
    if (!dev) return;
    this.dev = null;
    const fill = async (m: Map<ActName, Tensor>, into: Partial<Record<ActName, Slot>>) => {
      for (const [name, t] of m) {
        into[name]!.data.set(await t.read());
        t.backend.release(t.storage);
      }
    };
    await fill(dev.acts, rec.acts);
    await fill(dev.grads, rec.grads);
    if (dev.sq) {
      const sq = await dev.sq.read();
      dev.sq.backend.release(dev.sq.storage);
      if (this.norms.length < sq.length) this.norms = new Float32Array(sq.length);
      for (let k = 0; k < sq.length; k++) this.norms[k] = Math.sqrt(sq[k]);
    }
  }

  /** the finished epoch (slots trimmed to the samples visited); reads device slots back on GPU backends */
  async endEpoch(): Promise<EpochRecord> {
    const rec = this.rec;
    if (!rec) throw new Error('recorder: endEpoch before beginEpoch');
    await this.readDevice(rec);
    this.rec = null;
    // batches may be recorded in any order: sort their first rows
    const starts = [...new Set(this.offsets)].sort((a, b) => a - b);
    rec.batchOffsets = Uint32Array.from([...starts, rec.count]); // [steps + 1]
    if (this.paramNames) {
      rec.paramGrads = { names: this.paramNames, steps: this.steps, norms: this.norms.slice(0, this.steps * this.paramNames.length) };
    }
    if (rec.count === this.opts.count) return rec;
    const trim = (s: Partial<Record<ActName, Slot>>) => Object.fromEntries(Object.entries(s).map(
      ([n, v]) => [n, { width: v!.width, data: v!.data.subarray(0, rec.count * v!.width) }]));
    return { ...rec, labels: rec.labels.subarray(0, rec.count), indices: rec.indices.subarray(0, rec.count),
      acts: trim(rec.acts), grads: trim(rec.grads) };
  }
}
