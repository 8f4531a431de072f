// the recorder: one epoch-sized slot per named tensor (and one for its gradient), so each batch's
// activations and gradients land in their slice of the epoch, in the order samples were visited.
import type { Acts } from './model.ts';
import type { ActName } from './names.ts';

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
}

export interface RecorderOptions {
  /** names to keep; `input` is the dataset itself (indices are kept), so it is left out by default */
  names: readonly ActName[];
  /** width of each name's rows */
  widths: Partial<Record<ActName, number>>;
  /** samples per epoch */
  count: number;
  grads?: boolean;
}

export class Recorder {
  private rec: EpochRecord | null = null;

  constructor(readonly opts: RecorderOptions) {}

  beginEpoch(epoch: number): void {
    const { names, widths, count, grads = true } = this.opts;
    const slots = (): Partial<Record<ActName, Slot>> =>
      Object.fromEntries(names.map((n) => [n, { width: widths[n]!, data: new Float32Array(count * widths[n]!) }]));
    this.rec = {
      epoch, count: 0, labels: new Uint8Array(count), indices: new Uint32Array(count),
      acts: slots(), grads: grads ? slots() : {},
    };
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
  }

  /** the finished epoch (slots trimmed to the samples visited) */
  endEpoch(): EpochRecord {
    const rec = this.rec;
    if (!rec) throw new Error('recorder: endEpoch before beginEpoch');
    this.rec = null;
    if (rec.count === this.opts.count) return rec;
    const trim = (s: Partial<Record<ActName, Slot>>) => Object.fromEntries(Object.entries(s).map(
      ([n, v]) => [n, { width: v!.width, data: v!.data.subarray(0, rec.count * v!.width) }]));
    return { ...rec, labels: rec.labels.subarray(0, rec.count), indices: rec.indices.subarray(0, rec.count),
      acts: trim(rec.acts), grads: trim(rec.grads) };
  }
}
