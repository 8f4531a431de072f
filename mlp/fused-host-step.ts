// The StepEngine of the fused CPU trainers — mlp/fused-cpu.ts (the MLP) and mlp/fused-cnn-cpu.ts (a CNN):
// the epoch's steps one by one, each step(), update(), record() and the finiteness check, the running loss
// read for free (host memory). The trainers differ in their kernels, not in how an epoch drives them.
import { checkOnHost } from './finite.ts';
import type { Split } from './mnist.ts';
import type { Recorder } from './recorder.ts';
import type { EpochTotals, StepEngine } from './step-engine.ts';
import type { StepInfo } from './train.ts';
import type { Tensor } from '../engine/tensor.ts';

/** what a fused CPU trainer offers its step engine */
export interface HostTrainer {
  readonly batch: number;
  /** forward, loss and backward of rows order[start, start + n): the batch's summed loss and right answers */
  step(order: ArrayLike<number>, start: number, n: number): { loss: number; correct: number };
  /** the SGD update (summing each gradient's squares for the recorder when `norms`); false if a parameter became non-finite */
  update(norms?: boolean): boolean;
  /** the last step into the recorder: every named activation and gradient, and the parameters' gradient norms */
  record(recorder: Recorder, step: number, order: Uint32Array, start: number, n: number): void;
  /** whether the last step's activations are all finite (a cheap probe) */
  actsFinite(n: number): boolean;
  /** the last step's tensors in `checkedNames` order, for the exact scan that names the first bad one */
  checked(n: number): Tensor[];
  readonly checkedNames: string[];
  velocity(): (Float32Array | null)[];
  /** the parameters get storage of their own again */
  detach(): void;
}

/** a fused step's share of the run: steps per epoch, where to record, whether to check finiteness */
export interface FusedRun { steps: number; recorder: Recorder | null; checkFinite: boolean }

export class FusedHostStep implements StepEngine {
  private readonly paramNames: ReadonlySet<string>;
  private epoch = 0;
  private order: Uint32Array = new Uint32Array(0);
  // the epoch's totals, summed in f32 as the generic step's tensors are
  private lossSum = 0;
  private correct = 0;
  private samples = 0;

  constructor(
    readonly trainer: HostTrainer, private readonly split: Split, private readonly run: FusedRun,
    readonly label: string, paramNames: Iterable<string>,
  ) {
    this.paramNames = new Set(paramNames);
  }

  get steps(): number { return this.run.steps; }

  beginEpoch(epoch: number, order: Uint32Array): void {
    this.epoch = epoch;
    this.order = order;
  }

  runSteps(onStep?: (info: StepInfo) => void, yieldEvery?: number): void | Promise<void> {
    this.lossSum = 0;
    this.correct = 0;
    this.samples = 0;
    const { steps } = this.run;
    if (!yieldEvery || yieldEvery >= steps) {
      this.stepRange(0, steps, onStep);
      return;
    }
    return this.runYielding(onStep, Math.max(1, Math.floor(yieldEvery)));
  }

  /** the epoch's steps in runs of `every`, the event loop given a turn after each run (the same steps, the same numbers) */
  private async runYielding(onStep: ((info: StepInfo) => void) | undefined, every: number): Promise<void> {
    const { steps } = this.run;
    for (let from = 0; from < steps; from += every) {
      if (from > 0) await nextTurn();
      this.stepRange(from, Math.min(steps, from + every), onStep);
    }
  }

  /** steps [from, to) of the epoch, their totals added to the epoch's */
  private stepRange(from: number, to: number, onStep?: (info: StepInfo) => void): void {
    const { trainer, epoch, order, split } = this, { steps, recorder, checkFinite } = this.run;
    const batch = trainer.batch;
    let { lossSum, correct, samples } = this;
    for (let step = from; step < to; step++) {
      const start = step * batch, n = Math.min(batch, split.count - start);
      const totals = trainer.step(order, start, n);
      // the update leaves activations and gradients as they were; it also sums each gradient's squares for the recorder
      const paramsFinite = trainer.update(!!recorder);
      if (recorder) trainer.record(recorder, step, order, start, n);
      if (checkFinite && !(trainer.actsFinite(n) && paramsFinite)) checkOnHost(trainer.checked(n), trainer.checkedNames, this.paramNames, epoch, step);
      lossSum = Math.fround(lossSum + totals.loss);
      correct += totals.correct;
      samples += n;
      onStep?.({ epoch, step, steps, samples, loss: lossSum / samples, batchLoss: totals.loss / n, accuracy: (100 * correct) / samples });
    }
    this.lossSum = lossSum;
    this.correct = correct;
    this.samples = samples;
  }

  // every step was checked as it ran
  async endEpoch(): Promise<EpochTotals> {
    return { lossSum: this.lossSum, correct: this.correct, samples: this.samples };
  }

  async velocity(): Promise<(Float32Array | null)[]> { return this.trainer.velocity(); }

  dispose(): void { this.trainer.detach(); }
}

/** a turn of the event loop: I/O callbacks and other threads' messages are handled before it resolves */
const nextTurn = (): Promise<void> =>
  new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));
