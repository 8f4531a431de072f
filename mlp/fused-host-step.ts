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

  runSteps(onStep?: (info: StepInfo) => void): void {
    const { trainer, epoch, order, split } = this, { steps, recorder, checkFinite } = this.run;
    const batch = trainer.batch;
    let lossSum = 0, correct = 0, samples = 0;
    for (let step = 0; step < steps; step++) {
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
