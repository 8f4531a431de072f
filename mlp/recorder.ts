// the recorder: one epoch-sized slot per named tensor (and one for its gradient), so each batch's
// activations and gradients land in their slice of the epoch, in the order samples were visited.
// On the CPU the slots are host arrays written in place; on a GPU they are device buffers filled by
// buffer copies in the step's command stream. At the end of an epoch they are either read back
// (endEpoch) or handed over where they are (endEpochOnDevice), for the statistics kernels of
// analysis/epoch-stats-gpu.ts and an export only when asked for.
import type { Backend } from '../engine/backend.ts';
import { cpu } from '../engine/cpu.ts';
import { rangeSquares } from '../engine/ops/index.ts';
import { Tensor } from '../engine/tensor.ts';
import { keep } from '../engine/memory.ts';
import type { Acts } from './model.ts';
import type { ActName, ParamName } from './names.ts';
import { channelMeans, channelReduce, channelSums } from './units.ts';

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
  /**
   * GPU backends, from Recorder.endEpoch: the same epoch's slots, still on the device (statistics kernels
   * can run on them without another upload) until `device.release()` or the recorder's next beginEpoch
   */
  device?: DeviceEpoch;
}

/** one slot still on the device: a flat [capacity · width] tensor whose rows [0, count) hold the epoch */
export interface DeviceSlot { width: number; tensor: Tensor }

/**
 * an ended epoch whose slots stay where the recorder filled them (Recorder.endEpochOnDevice). On a GPU
 * backend nothing was read back: the statistics kernels run on the slots (analysis/epoch-stats-gpu.ts)
 * and read() exports the host record on request. On the cpu the slots are host memory already:
 * `onDevice` is false, acts/grads are empty and read() returns the record.
 */
export interface DeviceEpoch {
  readonly backend: Backend;
  readonly onDevice: boolean;
  readonly epoch: number;
  /** samples visited; labels, indices [count] as in EpochRecord */
  readonly count: number;
  readonly labels: Uint8Array;
  readonly indices: Uint32Array;
  /** first row of each recorded batch, then count [steps + 1] (absent for a hand-made record without them) */
  readonly batchOffsets?: Uint32Array;
  /** every recorded name (the keys of the host record's acts/grads) */
  readonly acts: Partial<Record<ActName, DeviceSlot>>;
  readonly grads: Partial<Record<ActName, DeviceSlot>>;
  /** Σ g² per step and parameter [capacity · params] on the device; ParamGrads.norms = sqrt of the first steps · params */
  readonly paramSquares?: { names: ParamName[]; steps: number; squares: Tensor };
  /** parameter gradient norms known on the host instead (an uploaded record: deviceEpochOf) */
  readonly paramGrads?: ParamGrads;
  /** the host EpochRecord, as endEpoch returns it (one read per slot on a GPU; without `device`) */
  read(): Promise<EpochRecord>;
  /** gives the device buffers back to the pool (idempotent); read() fails after it */
  release(): void;
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
  /**
   * write each epoch into the previous epoch's host arrays instead of fresh ones (no 50 MB of new,
   * untouched pages per epoch); then a record is only valid until the next beginEpoch. 'double': two
   * sets of host arrays, epochs alternating between them, on SharedArrayBuffer where there is one (a
   * worker reads them without a copy): a record stays valid while the next epoch records, until the
   * beginEpoch after that (its statistics are computed on another thread meanwhile, run/session.ts)
   */
  reuseSlots?: boolean | 'double';
}

/** the host arrays an epoch is recorded into */
type HostSet = Pick<EpochRecord, 'labels' | 'indices' | 'acts' | 'grads'>;

/** device-side slots of one epoch (non-cpu backends): flat [count · width] tensors, squared norms [steps · params] */
interface DeviceSlots { acts: Map<ActName, Tensor>; grads: Map<ActName, Tensor>; sq: Tensor | null }

export class Recorder {
  private rec: EpochRecord | null = null;
  private offsets: number[] = [];
  private paramNames: ParamName[] | null = null;
  private norms = new Float32Array(0);
  private steps = 0;
  private dev: DeviceSlots | null = null;
  /** the host arrays of the last epochs begun, to write into again (RecorderOptions.reuseSlots): one set, or two alternating */
  private hostSets: HostSet[] = [];
  /** epochs begun (picks the set of a 'double' recorder) */
  private begun = 0;
  /** the last epoch endEpoch returned with its device slots, released when the next one begins */
  private kept: DeviceEpoch | null = null;

  constructor(readonly opts: RecorderOptions) {}

  /** frees every device buffer the recorder holds: the epoch being filled and the last one kept (an aborted run) */
  dispose(): void {
    this.kept?.release();
    this.kept = null;
    const dev = this.dev;
    this.dev = null;
    if (!dev) return;
    for (const t of [...dev.acts.values(), ...dev.grads.values(), ...(dev.sq ? [dev.sq] : [])]) t.backend.release(t.storage);
  }

  /** makes a 'double' recorder's two sets of host slots now, not at the first beginEpoch (their memory can be paged in meanwhile: sharedBuffers) */
  prepare(): void {
    if (this.opts.reuseSlots !== 'double' || this.hostSets.length) return;
    for (let k = 0; k < 2; k++) this.hostSets.push(this.hostSet());
  }

  /** one set of host arrays, on SharedArrayBuffer for a 'double' recorder where there is one */
  private hostSet(): HostSet {
    const { names, widths, count, grads = true, reuseSlots = false } = this.opts;
    // a 'double' recorder's arrays are shared memory where the runtime has it (a worker reads them in place)
    const shared = reuseSlots === 'double' && typeof SharedArrayBuffer === 'function';
    const bytes = (n: number): ArrayBuffer => (shared ? new SharedArrayBuffer(n) as unknown as ArrayBuffer : new ArrayBuffer(n));
    const slots = (): Partial<Record<ActName, Slot>> =>
      Object.fromEntries(names.map((n) => [n, { width: widths[n]!, data: new Float32Array(bytes(4 * count * widths[n]!)) }]));
    return { labels: new Uint8Array(bytes(count)), indices: new Uint32Array(bytes(4 * count)), acts: slots(), grads: grads ? slots() : {} };
  }

  beginEpoch(epoch: number): void {
    const { reuseSlots = false } = this.opts;
    this.kept?.release();
    this.kept = null;
    const sets = reuseSlots === 'double' ? 2 : reuseSlots ? 1 : 0, which = this.begun++ % Math.max(sets, 1);
    if (sets === 2) this.prepare();
    const prev = sets ? this.hostSets[which] : undefined;
    this.rec = { epoch, count: 0, ...(prev ?? this.hostSet()) };
    if (sets) this.hostSets[which] = { labels: this.rec.labels, indices: this.rec.indices, acts: this.rec.acts, grads: this.rec.grads };
    this.offsets = [];
    this.paramNames = null;
    this.steps = 0;
  }

  /** the shared memory behind the host slots made so far (a 'double' recorder's, after prepare() or its first beginEpoch; else none) */
  sharedBuffers(): SharedArrayBuffer[] {
    const out: SharedArrayBuffer[] = [];
    for (const set of this.hostSets) {
      for (const a of [set.labels, set.indices, ...Object.values(set.acts).map((s) => s!.data), ...Object.values(set.grads).map((s) => s!.data)]) {
        if (typeof SharedArrayBuffer === 'function' && a.buffer instanceof SharedArrayBuffer) out.push(a.buffer);
      }
    }
    return out;
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
      const slot = rec.acts[name]!, g = rec.grads[name];
      if (t.shape.length === 4) {
        // a feature map is recorded by its channels (mlp/units.ts): spatial means, gradient sums over positions
        const [b, c, h, w] = t.shape;
        channelReduce(t.data(), b, c, h * w, true, slot.data, offset * slot.width);
        if (g && t.grad) channelReduce(t.grad.data(), b, c, h * w, false, g.data, offset * g.width);
        continue;
      }
      slot.data.set(t.data(), offset * slot.width);
      if (g && t.grad) g.data.set(t.grad.data(), offset * g.width);
    }
    this.recordRows(offset, labels, indices);
  }

  /**
   * a batch's bookkeeping without its tensors: labels and dataset indices of rows [offset, offset + n).
   * recordBatch calls it; a fused step that fills the slots itself (copySlot) calls it per batch.
   */
  recordRows(offset: number, labels: ArrayLike<number>, indices: ArrayLike<number>): void {
    const rec = this.rec;
    if (!rec) throw new Error('recorder: recordRows before beginEpoch');
    const n = labels.length;
    if (ArrayBuffer.isView(labels) && ArrayBuffer.isView(indices) && indices.length === n && offset + n <= rec.labels.length) {
      // typed arrays of one batch (the fused steps'): two block copies, the same element conversions as the loop below
      rec.labels.set(labels, offset);
      rec.indices.set(indices, offset);
    } else {
      for (let r = 0; r < labels.length; r++) {
        rec.labels[offset + r] = labels[r];
        rec.indices[offset + r] = indices[r];
      }
    }
    rec.count = Math.max(rec.count, offset + labels.length);
    this.offsets.push(offset);
  }

  /**
   * rows [0, rows) of `name`'s activation or gradient slot copied on the device from `src` at element
   * `srcOffset` (the fused GPU step keeps the whole epoch in one buffer, mlp/fused-gpu.ts)
   */
  copySlot(name: ActName, kind: 'acts' | 'grads', src: Tensor, srcOffset: number, rows: number): void {
    if (!this.rec) throw new Error('recorder: copySlot before beginEpoch');
    if (!this.opts.names.includes(name)) throw new Error(`recorder: copySlot of '${name}', not a recorded name`);
    if (kind === 'grads' && !(this.opts.grads ?? true)) return;
    const width = this.opts.widths[name]!;
    if (src.backend.name === 'cpu') {
      const slot = (kind === 'acts' ? this.rec.acts : this.rec.grads)[name]!;
      slot.data.set(src.data().subarray(srcOffset, srcOffset + rows * width));
      return;
    }
    src.backend.copyInto(src.storage, this.deviceSlot(name, kind, src.backend).storage, 0, rows * width, srcOffset);
  }

  /** Σ g² per step and parameter, [steps, params] row-major, copied on the device from `src` at `srcOffset` */
  copyParamSquares(names: readonly ParamName[], steps: number, src: Tensor, srcOffset: number): void {
    if (!this.rec) throw new Error('recorder: copyParamSquares before beginEpoch');
    if (src.backend.name === 'cpu') throw new Error('recorder: copyParamSquares is for device buffers');
    if (!this.opts.steps || steps > this.opts.steps) throw new Error(`recorder: ${steps} steps of squared norms, room for ${this.opts.steps ?? 0}`);
    this.paramNames = [...names];
    const dev = (this.dev ??= { acts: new Map(), grads: new Map(), sq: null });
    if (!dev.sq) {
      dev.sq = Tensor.zeros([this.opts.steps * names.length], { backend: src.backend });
      keep(dev.sq);
    }
    src.backend.copyInto(src.storage, dev.sq.storage, 0, steps * names.length, srcOffset);
    this.steps = Math.max(this.steps, steps);
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
    // a feature map goes in by its channels (mlp/units.ts), reduced on the device; the step's tidy() frees the reductions
    const a = channelMeans(t), g = t.grad ? channelSums(t.grad) : null;
    t.backend.copyInto(a.storage, this.deviceSlot(name, 'acts', t.backend).storage, offset * width, a.size);
    if ((this.opts.grads ?? true) && g) t.backend.copyInto(g.storage, this.deviceSlot(name, 'grads', t.backend).storage, offset * width, g.size);
  }

  /** the epoch's device slot of `name` (made on first use) */
  private deviceSlot(name: ActName, kind: 'acts' | 'grads', backend: Backend): Tensor {
    const dev = (this.dev ??= { acts: new Map(), grads: new Map(), sq: null });
    const m = dev[kind];
    let s = m.get(name);
    if (!s) {
      s = Tensor.zeros([this.opts.count * this.opts.widths[name]!], { backend });
      // made inside a step's tidy(): it must outlive the step
      keep(s);
      m.set(name, s);
    }
    return s;
  }

  /** offsets [0, size] of a whole tensor as one row range, per size (kept for the recorder's life) */
  private ranges = new Map<number, Tensor>();
  private wholeRange(t: Tensor): Tensor {
    let r = this.ranges.get(t.size);
    if (!r || r.backend !== t.backend) {
      r = Tensor.from([0, t.size], [2], { backend: t.backend });
      keep(r);
      this.ranges.set(t.size, r);
    }
    return r;
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
      // one dispatch: Σ g² over the whole gradient as a single range of width 1
      const sq = rangeSquares(t.grad, this.wholeRange(t.grad), 1); // [1]
      t.backend.copyInto(sq.storage, dev.sq!.storage, step * p + i, 1);
    });
  }

  /**
   * the finished epoch with its slots where they are: on a GPU backend nothing is read back (the caller
   * runs statistics kernels on them, exports with read() if asked, and must release() them); on the cpu
   * the host record, wrapped. Names recorded on no step get zero slots, as the host record has.
   */
  endEpochOnDevice(): DeviceEpoch {
    const rec = this.rec;
    if (!rec) throw new Error('recorder: endEpochOnDevice before beginEpoch');
    this.rec = null;
    const dev = this.dev;
    this.dev = null;
    // batches may be recorded in any order: sort their first rows
    const starts = [...new Set(this.offsets)].sort((a, b) => a - b);
    rec.batchOffsets = Uint32Array.from([...starts, rec.count]); // [steps + 1]
    const names = this.paramNames, steps = this.steps;
    if (names && !dev?.sq) rec.paramGrads = { names, steps, norms: this.norms.slice(0, steps * names.length) };
    return new EndedEpoch(rec, this.opts.count, dev, names && dev?.sq ? { names, steps, squares: dev.sq } : undefined);
  }

  /**
   * the finished epoch (slots trimmed to the samples visited), on the host: GPU backends read their
   * slots back here, and the record keeps them on the device as `record.device` until it is released or
   * the next epoch begins. `read: false` (GPU backends) skips the read-back: acts and grads are empty and
   * paramGrads absent until `await record.device.read()`; statistics come from the device slots
   * (analysis/epoch-stats-gpu.ts). On the cpu it changes nothing.
   */
  async endEpoch(opts: { read?: boolean } = {}): Promise<EpochRecord> {
    const ended = this.endEpochOnDevice();
    if (!ended.onDevice) return ended.read();
    this.kept = ended;
    if (opts.read === false) {
      const { epoch, count, labels, indices, batchOffsets } = ended;
      return { epoch, count, labels, indices, batchOffsets, acts: {}, grads: {}, device: ended };
    }
    return { ...(await ended.read()), device: ended };
  }
}

/**
 * a host record's slots uploaded to `backend` as a DeviceEpoch: statistics on the device of a saved or
 * hand-made record (tests). Rows past record.count are left out; release() frees the uploads.
 */
export function deviceEpochOf(record: EpochRecord, backend: Backend): DeviceEpoch {
  if (backend.name === 'cpu') return new EndedEpoch(record, record.count, null);
  const up = (slots: Partial<Record<ActName, Slot>>) => new Map(Object.entries(slots).map(([name, s]) => {
    const n = record.count * s!.width;
    return [name as ActName, Tensor.from(s!.data.subarray(0, n), [n], { backend })];
  }));
  return new EndedEpoch(record, record.count, { acts: up(record.acts), grads: up(record.grads), sq: null });
}

class EndedEpoch implements DeviceEpoch {
  readonly backend: Backend;
  readonly onDevice: boolean;
  readonly epoch: number;
  readonly count: number;
  readonly labels: Uint8Array;
  readonly indices: Uint32Array;
  readonly batchOffsets?: Uint32Array;
  readonly paramGrads?: ParamGrads;
  readonly acts: Partial<Record<ActName, DeviceSlot>> = {};
  readonly grads: Partial<Record<ActName, DeviceSlot>> = {};
  private released = false;

  constructor(
    /** the host record, slots not yet read (untrimmed: `capacity` rows) */
    private readonly rec: EpochRecord,
    private readonly capacity: number,
    dev: DeviceSlots | null,
    readonly paramSquares?: { names: ParamName[]; steps: number; squares: Tensor },
  ) {
    this.onDevice = !!dev;
    this.epoch = rec.epoch;
    this.count = rec.count;
    this.labels = rec.labels.subarray(0, rec.count);
    this.indices = rec.indices.subarray(0, rec.count);
    this.batchOffsets = rec.batchOffsets;
    this.paramGrads = rec.paramGrads;
    const first = dev && [...dev.acts.values(), ...dev.grads.values(), dev.sq].find((t) => t);
    this.backend = first ? first.backend : cpu;
    if (!dev) return;
    const wrap = (m: Map<ActName, Tensor>, host: Partial<Record<ActName, Slot>>, out: Partial<Record<ActName, DeviceSlot>>) => {
      for (const [name, slot] of Object.entries(host) as [ActName, Slot][]) {
        let t = m.get(name);
        if (!t) {
          t = Tensor.zeros([capacity * slot.width], { backend: this.backend });
          keep(t);
        }
        out[name] = { width: slot.width, tensor: t };
      }
    };
    wrap(dev.acts, rec.acts, this.acts);
    wrap(dev.grads, rec.grads, this.grads);
  }

  async read(): Promise<EpochRecord> {
    if (this.released) throw new Error('recorder: read() of an epoch whose device slots were released');
    const rec = this.rec;
    // one read per slot, into the host arrays beginEpoch made
    const fill = async (from: Partial<Record<ActName, DeviceSlot>>, into: Partial<Record<ActName, Slot>>) => {
      for (const [name, s] of Object.entries(from) as [ActName, DeviceSlot][]) into[name]!.data.set(await s.tensor.read());
    };
    await fill(this.acts, rec.acts);
    await fill(this.grads, rec.grads);
    let paramGrads = rec.paramGrads;
    if (this.paramSquares) {
      const { names, steps, squares } = this.paramSquares;
      const sq = await squares.read();
      paramGrads = { names, steps, norms: Float32Array.from(sq.subarray(0, steps * names.length), Math.sqrt) };
    }
    const out: EpochRecord = { ...rec, paramGrads };
    if (!paramGrads) delete out.paramGrads;
    if (rec.count === this.capacity) return out;
    const trim = (s: Partial<Record<ActName, Slot>>) => Object.fromEntries(Object.entries(s).map(
      ([n, v]) => [n, { width: v!.width, data: v!.data.subarray(0, rec.count * v!.width) }]));
    return { ...out, labels: rec.labels.subarray(0, rec.count), indices: rec.indices.subarray(0, rec.count),
      acts: trim(rec.acts), grads: trim(rec.grads) };
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    for (const s of [...Object.values(this.acts), ...Object.values(this.grads)]) s!.tensor.backend.release(s!.tensor.storage);
    const sq = this.paramSquares?.squares;
    if (sq) sq.backend.release(sq.storage);
  }
}
