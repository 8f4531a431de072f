// The training loop: seeded epoch order, mini-batches (last partial batch kept, as DataLoader with
// drop_last=False), per-epoch metrics and evaluation, recording. One step engine does the steps, chosen once
// per run by pickStepEngine() (mlp/step-engine.ts) and driven the same way whichever it is:
//   generic autograd step   mlp/step-generic.ts  forward with every named tensor, backward, SGD (any model, backend)
//   fused CPU step          mlp/fused-cpu.ts     the plain MLP on the cpu backend, whole batch in preallocated buffers
//   fused GPU step          mlp/fused-gpu.ts     the plain MLP on webgpu, many whole steps per dispatch
// The finiteness check and DivergenceError are in mlp/finite.ts.
import type { Rng } from '../engine/rng.ts';
import { dispose, tidy } from '../engine/memory.ts';
import { argmax } from '../engine/ops/index.ts';
import { noGrad, Tensor } from '../engine/tensor.ts';
import { deviceSplit } from './device-split.ts';
import { fusedCpuApplies, fusedCpuForward, prepareSparse } from './fused-cpu.ts';
import { fusedCnnCpuApplies, fusedCnnCpuForward } from './fused-cnn-cpu.ts';
import type { Mnist, Split } from './mnist.ts';
import type { Net } from './net.ts';
import { unitWidths } from './net.ts';
import type { ActName } from './names.ts';
import { type EpochRecord, Recorder } from './recorder.ts';
import { epochSteps, pickStepEngine } from './step-engine.ts';

export { DivergenceError } from './finite.ts';

export interface TrainOptions {
  epochs: number;
  batch: number;
  lr: number;
  momentum?: number;
  weightDecay?: number;
  /** a fresh permutation every epoch (on by default) */
  shuffle?: boolean;
  /** stop each epoch after this many steps (quick runs); all steps when absent */
  steps?: number;
  /**
   * GPU backends: leave the epoch's slots on the device (statistics kernels read them there; the record's
   * acts/grads stay empty until `record.device.read()`), saving the raw read-back
   */
  recordOnDevice?: boolean;
  /**
   * the recorder overwrites the previous epoch's host slots (a record is valid only during its onEpoch);
   * 'double': two sets of slots in turn, so a record stays valid until the epoch after next begins
   * (RecorderOptions.reuseSlots)
   */
  reuseRecordSlots?: boolean | 'double';
  /** keep every named activation and gradient of each epoch in the recorder's slots */
  record?: boolean;
  /** the first epoch to run: a resumed run, whose earlier epochs are in its checkpoint (0 when absent) */
  startEpoch?: number;
  /** SGD momentum buffers to start from (a resumed run), one per parameter in model.params() order; null: none yet */
  velocity?: readonly (Float32Array | null)[];
  /**
   * stop at the first NaN or ±Inf in the loss, an activation or a parameter after its update (on by
   * default). cpu: checked after every step, training stops at that step; webgpu: a non-finite flag per
   * step and tensor accumulates on the device and is read with the epoch's totals, so the epoch runs to
   * its end (no read-back inside it) and then reports the first bad step. Either way DivergenceError.
   */
  checkFinite?: boolean;
  /**
   * the fused step engine where it applies: the plain MLP (no normalisation or dropout), SGD; on the cpu
   * backend mlp/fused-cpu.ts, on webgpu mlp/fused-gpu.ts (whole steps in one workgroup, many per dispatch).
   * true by default; false keeps the generic autograd step (mlp/step-generic.ts); 'js' takes the fused cpu
   * step with its JavaScript kernels instead of WebAssembly SIMD. evaluate() takes the same option.
   * The fused GPU step reads the model's parameters when an epoch starts and writes them back when its
   * steps are encoded: a hook that changes parameters between two steps of an epoch needs false.
   */
  fused?: boolean | 'js';
}

/** what a checkpoint needs from the training loop beyond the model's weights */
export interface TrainState {
  /** the SGD momentum buffers now, one per parameter in model.params() order (null where there is none, e.g. momentum 0) */
  velocity(): Promise<(Float32Array | null)[]>;
}

export interface EpochMetrics {
  epoch: number;
  /** Σ per-sample loss / samples: the notebooks' running_loss·batch_size / N */
  trainLoss: number;
  /** % of visited samples classified right by the weights of their step (before its update) */
  trainAccuracy: number;
  testLoss: number;
  testAccuracy: number;
  samples: number;
  steps: number;
  seconds: number;
}

export interface StepInfo {
  epoch: number; step: number; steps: number;
  /** samples seen so far this epoch */
  samples: number;
  /** running mean loss of the epoch so far, and this batch's mean loss (only where free to read: cpu) */
  loss?: number; batchLoss?: number;
  /** running % of the epoch's samples so far classified right (only where free to read: cpu) */
  accuracy?: number;
  /**
   * where the running values live on a device (webgpu): reads them as they are after this step. Call it
   * during onStep or not at all: the read is queued behind the work encoded so far, so it costs one small
   * copy and waits for nothing (the promise settles when the device gets there). The fused GPU step offers
   * it only at the end of a dispatch (its steps are encoded a dispatch at a time)
   */
  peek?: () => Promise<{ loss: number; accuracy: number }>;
}

export interface TrainHooks {
  onStep?(info: StepInfo): void;
  /** once, when the recorder's slots are made: the shared memory behind them (a 'double' recorder's; run/session.ts pages it in on its helper thread) */
  onRecordSlots?(buffers: SharedArrayBuffer[]): void;
  /** once, when the step engine is set up and the first epoch is next (the fused CPU step's sparse rows of the split are built by then) */
  onReady?(): void | Promise<void>;
  onEpoch?(metrics: EpochMetrics, record: EpochRecord | null, state: TrainState): void | Promise<void>;
}

export interface Evaluation {
  loss: number;
  accuracy: number;
  /** predicted class of each sample [count] */
  predictions: Uint8Array;
  /** % right per class [classes] (NaN for a class absent from the split) */
  perClass: number[];
}

/** trains `model` in place; returns one metrics row per epoch */
export async function train(model: Net, data: Mnist, rng: Rng, asked: TrainOptions, hooks: TrainHooks = {}): Promise<EpochMetrics[]> {
  const { train: split } = data;
  // a batch larger than the training set is the whole set, one step an epoch (as DataLoader gives it):
  // the step engines size their buffers by the batch, so they get no more rows than there are
  const opts: TrainOptions = { ...asked, batch: Math.min(asked.batch, split.count) };
  const { epochs } = opts;
  const steps = epochSteps(split, opts);
  const recordRows = Math.min(split.count, steps * opts.batch);
  const recorder = opts.record ? makeRecorder(model, recordRows, steps, opts.reuseRecordSlots ?? false) : null;
  // the slots made now, so that their memory can be paged in elsewhere while the step engine is set up
  recorder?.prepare();
  if (recorder) hooks.onRecordSlots?.(recorder.sharedBuffers());
  const engine = await pickStepEngine(model, split, opts, recorder);
  // the fused evaluation's sparse rows are built here, with the data loading, not in the first epoch
  prepareEvaluation(model, data.test, opts.fused);
  await hooks.onReady?.();
  const state: TrainState = { velocity: () => engine.velocity() };
  const identity = Uint32Array.from({ length: split.count }, (_, i) => i);
  const history: EpochMetrics[] = [];

  try {
    for (let epoch = opts.startEpoch ?? 0; epoch < epochs; epoch++) {
      const t0 = performance.now();
      // the generator is drawn every epoch even for --steps, so later epochs keep the reference order
      const order = opts.shuffle === false ? identity : rng.epochPermutation(split.count);
      engine.beginEpoch(epoch, order);
      recorder?.beginEpoch(epoch);
      // train mode for the steps (dropout on, BatchNorm on batch statistics), eval mode for the evaluation
      model.train();
      engine.runSteps((info) => hooks.onStep?.(info));
      model.eval();
      const totals = await engine.endEpoch();
      const test = await evaluate(model, data.test, { fused: opts.fused });
      const m: EpochMetrics = {
        epoch, trainLoss: totals.lossSum / totals.samples, trainAccuracy: (100 * totals.correct) / totals.samples,
        testLoss: test.loss, testAccuracy: test.accuracy, samples: totals.samples, steps,
        seconds: (performance.now() - t0) / 1000,
      };
      history.push(m);
      await hooks.onEpoch?.(m, recorder ? await recorder.endEpoch({ read: !opts.recordOnDevice }) : null, state);
    }
  } catch (e) {
    // a diverged or failed run: give the recorder's device buffers back (a page may train again)
    recorder?.dispose();
    throw e;
  } finally {
    engine.dispose();
  }
  return history;
}

function makeRecorder(model: Net, count: number, steps: number, reuseSlots: boolean | 'double'): Recorder {
  // every name of a training step (the reference names, plus layers.K.norm / layers.K.drop where the
  // model has them, layers.K.pool in a CNN); a feature map's row is its channels (mlp/units.ts)
  const names = model.actNames('train').filter((n) => n !== 'input');
  return new Recorder({ names, widths: unitWidths(model, names), count, steps, reuseSlots });
}

export interface EvaluateOptions {
  /** rows per batch (1000 by default) */
  batch?: number;
  /** classes of the per-class accuracy (default: the model's outputs) */
  classes?: number;
  /** the fused cpu forward pass (mlp/fused-cpu.ts) where it applies, as TrainOptions.fused (true by default) */
  fused?: boolean | 'js';
}

/**
 * loss, accuracy (%), predictions and per-class accuracy of `model` on a split, in batches; the fused
 * forward pass of mlp/fused-cpu.ts where it applies and opts.fused allows (the oracle's losses and
 * predictions to f32 rounding), else the generic forward on the model's backend
 */
export async function evaluate(model: Net, split: Split, opts: EvaluateOptions = {}): Promise<Evaluation> {
  const { batch = 1000, classes = model.classes, fused = true } = opts;
  const backend = model.backend;
  if (fused && model.kind === 'mlp' && fusedCpuApplies(model, split)) {
    const { lossSum, predictions } = await fusedCpuForward(model, split, batch, fused === 'js' ? 'js' : undefined);
    return summarize(split, lossSum, predictions, classes);
  }
  if (fused && model.kind === 'cnn' && fusedCnnCpuApplies(model, split)) {
    const { lossSum, predictions } = await fusedCnnCpuForward(model, split, batch, fused === 'js' ? 'js' : undefined);
    return summarize(split, lossSum, predictions, classes);
  }
  const onDevice = deviceSplit(split, backend);
  const order = Tensor.from(Float32Array.from({ length: split.count }, (_, i) => i), [split.count], { backend });
  const predictions = new Uint8Array(split.count);
  let lossSum = 0;
  // eval mode (no dropout, BatchNorm's running statistics), the caller's mode restored after
  const wasTraining = model.training;
  model.eval();
  for (let start = 0; start < split.count; start += batch) {
    const n = Math.min(batch, split.count - start);
    const { losses, pred } = tidy(() => noGrad(() => {
      const { x, y } = onDevice.batch(order, start, n);
      const acts = model.forward(x, y);
      return { losses: acts.loss!, pred: argmax(acts.logits!, 1) };
    }));
    const [l, p] = await Promise.all([losses.read(), pred.read()]);
    dispose(losses, pred);
    for (let i = 0; i < n; i++) { lossSum += l[i]; predictions[start + i] = p[i]; }
  }
  if (wasTraining) model.train();
  dispose(order);
  return summarize(split, lossSum, predictions, classes);
}

/** loss, accuracy and per-class accuracy from the summed per-sample loss and the predictions */
function summarize(split: Split, lossSum: number, predictions: Uint8Array, classes: number): Evaluation {
  const right = new Array<number>(classes).fill(0), total = new Array<number>(classes).fill(0);
  let correct = 0;
  for (let i = 0; i < split.count; i++) {
    const c = split.labels[i];
    total[c]++;
    if (predictions[i] === c) { right[c]++; correct++; }
  }
  return {
    loss: lossSum / split.count, accuracy: (100 * correct) / split.count, predictions,
    perClass: right.map((r, c) => (100 * r) / total[c]),
  };
}

/** builds now what evaluate() with this `fused` option will need for `split` (the fused forward's sparse rows) */
function prepareEvaluation(model: Net, split: Split, fused: boolean | 'js' = true): void {
  if (fused && (model.kind === 'mlp' ? fusedCpuApplies(model, split) : fusedCnnCpuApplies(model, split))) prepareSparse(split);
}
