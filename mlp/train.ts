// the training loop: seeded epoch order, mini-batches (last partial batch kept, as DataLoader with
// drop_last=False), forward with every named tensor, backward, SGD, recording, per-epoch metrics.
import type { Backend } from '../engine/backend.ts';
import { add, argmax, eq, gatherBytes, gatherRows, packBytes, reshape, scale, sum } from '../engine/ops/index.ts';
import { dispose, keep, tidy } from '../engine/webgpu.ts';
import type { Rng } from '../engine/rng.ts';
import { noGrad, Tensor } from '../engine/tensor.ts';
import { pixel } from './batch.ts';
import { FastCpuTrainer, fastCpuApplies, fastCpuDefault, fastCpuForward, prepareSparse } from './fast-cpu.ts';
import { fastGpuApplies, FastGpuTrainer } from './fast-gpu.ts';
import type { Mnist, Split } from './mnist.ts';
import { type Acts, Mlp } from './model.ts';
import { actNames, type ActName } from './names.ts';
import { type EpochRecord, Recorder } from './recorder.ts';
import { Sgd } from './sgd.ts';

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
  /** the recorder overwrites the previous epoch's host slots (a record is valid only during its onEpoch) */
  reuseRecordSlots?: boolean;
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
   * the fused step where it applies: the plain MLP (no normalisation or dropout), SGD; on the cpu backend
   * mlp/fast-cpu.ts, on webgpu mlp/fast-gpu.ts (whole steps in one workgroup, many per dispatch). On by
   * default (MLP_LENS_FAST=0 or setFastCpuDefault(false) turn the default off); false keeps the generic
   * autograd step; 'js' takes the fused cpu step with its JavaScript kernels instead of WebAssembly SIMD.
   * The fused GPU step reads the model's parameters when an epoch starts and writes them back when its
   * steps are encoded: a hook that changes parameters between two steps of an epoch needs false.
   */
  fast?: boolean | 'js';
}

/** what a checkpoint needs from the training loop beyond the model's weights */
export interface TrainState {
  /** the SGD momentum buffers now, one per parameter in model.params() order (null where there is none, e.g. momentum 0) */
  velocity(): Promise<(Float32Array | null)[]>;
}

/**
 * a NaN or ±Inf appeared: `tensor` is the first in model order (activations of the forward pass, then
 * the parameters after the update) that held one, in `step` (0-based) of `epoch`. The epoch did not end:
 * onEpoch was not called for it, so its weights were never saved.
 */
export class DivergenceError extends Error {
  constructor(readonly epoch: number, readonly step: number, readonly tensor: string, readonly detail: string) {
    super(`training diverged in epoch ${epoch}, step ${step}: ${tensor} ${detail}`);
    this.name = 'DivergenceError';
  }
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
}

export interface TrainHooks {
  onStep?(info: StepInfo): void;
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
export async function train(model: Mlp, data: Mnist, rng: Rng, opts: TrainOptions, hooks: TrainHooks = {}): Promise<EpochMetrics[]> {
  const { train: split } = data;
  const { epochs, batch } = opts;
  const backend = model.layers[0].W.backend;
  const named = model.params();
  const params = named.map((p) => p.tensor);
  const sgd = new Sgd(params, { lr: opts.lr, momentum: opts.momentum, weightDecay: opts.weightDecay });
  if (opts.velocity) sgd.restoreMomentum(opts.velocity);
  // the fused cpu step where it applies; the sparse input rows are built here, with the data loading
  const fast = (opts.fast ?? fastCpuDefault()) && fastCpuApplies(model, split)
    ? await FastCpuTrainer.create(model, split, {
      batch, lr: opts.lr, momentum: opts.momentum, weightDecay: opts.weightDecay, velocity: opts.velocity, kind: opts.fast === 'js' ? 'js' : undefined,
    })
    : null;
  if (fast && fastCpuApplies(model, data.test)) prepareSparse(data.test);
  const stepsPerEpoch = Math.min(Math.ceil(split.count / batch), opts.steps ?? Infinity);
  const recordRows = Math.min(split.count, stepsPerEpoch * batch);
  const recorder = opts.record ? makeRecorder(model, recordRows, stepsPerEpoch, !!opts.reuseRecordSlots) : null;
  const onDevice = fast ? null : deviceSplit(split, backend);
  // the fused GPU step where it applies
  const gpuOpts = {
    batch, lr: opts.lr, momentum: opts.momentum, weightDecay: opts.weightDecay, velocity: opts.velocity,
    record: !!recorder, recordRows, steps: stepsPerEpoch,
  };
  const fused = !fast && onDevice && (opts.fast ?? fastCpuDefault()) && fastGpuApplies(model, split, gpuOpts)
    ? FastGpuTrainer.create(model, split, onDevice, gpuOpts)
    : null;
  const state: TrainState = fast ? { velocity: async () => fast.velocity() }
    : fused ? { velocity: () => fused.velocity() } : { velocity: () => sgd.momentum() };
  const identity = Uint32Array.from({ length: split.count }, (_, i) => i);
  const history: EpochMetrics[] = [];
  // the tensors the finiteness check looks at, in model order: the forward pass (every named activation
  // but the input, as the first forward returns them), then each parameter after its update
  const checkFinite = opts.checkFinite ?? true;
  const paramNames = new Set<string>(named.map((p) => p.name));
  let checkedActs: ActName[] | null = null, checkedNames: string[] = [], probed: number[] = [];
  const listChecked = (acts: Acts) => {
    checkedActs = (Object.keys(acts) as ActName[]).filter((n) => n !== 'input');
    checkedNames = [...checkedActs, ...named.map((p) => p.name)];
    // on the device a ReLU output is not probed: it can only be non-finite where its input (checked just
    // before it, in model order) already was, so the first bad tensor is the same; fewer dispatches a step
    probed = checkedNames.flatMap((n, k) => (/\.post$/.test(n) ? [] : [k]));
  };

  try {
    for (let epoch = opts.startEpoch ?? 0; epoch < epochs; epoch++) {
      const t0 = performance.now();
      // the generator is drawn every epoch even for --steps, so later epochs keep the reference order
      const order = opts.shuffle === false ? identity : rng.epochPermutation(split.count);
      // the epoch's order goes to the device once; each step gathers its batch there
      const orderT = fast || fused ? Tensor.zeros([0]) : Tensor.from(Float32Array.from(order), [split.count], { backend });
      recorder?.beginEpoch(epoch);
      // train mode for the steps (dropout on, BatchNorm on batch statistics), eval mode for the evaluation
      model.train();
      // loss and accuracy accumulate on the device: no read-back until the epoch ends
      let lossSum = Tensor.zeros([], { backend }), correct = Tensor.zeros([], { backend }), samples = 0;
      const hostVisible = backend.name === 'cpu';
      // on the device: one slot per step and probed tensor, NaN where that tensor held a NaN or ±Inf (made at step 0)
      let flags: Tensor | null = null;
      // the fused step's totals, summed in f32 as the generic step's tensors are
      let fastLoss = 0, fastCorrect = 0;
      if (fused) {
        // the whole epoch in a few dispatches; totals, flags and the record at its end
        fused.encodeEpoch(order, stepsPerEpoch, (step, seen) => hooks.onStep?.({ epoch, step, steps: stepsPerEpoch, samples: seen }));
        if (recorder) fused.record(recorder, split, order, stepsPerEpoch);
        const totals = await fused.totals(stepsPerEpoch);
        if (checkFinite) firstFlaggedMask(totals.masks, fused.checkedNames, paramNames, epoch);
        fastLoss = totals.loss;
        fastCorrect = totals.correct;
        samples = recordRows;
      }
      for (let step = 0; step < (fused ? 0 : stepsPerEpoch); step++) {
        const start = step * batch, n = Math.min(batch, split.count - start);
        if (fast) {
          const totals = fast.step(order, start, n);
          // the update leaves activations and gradients as they were; it also sums each gradient's squares for the recorder
          const paramsFinite = fast.update(!!recorder);
          if (recorder) fast.record(recorder, step, order, start, n);
          if (checkFinite && !(fast.actsFinite(n) && paramsFinite)) checkOnHost(fast.checked(n), fast.checkedNames, paramNames, epoch, step);
          fastLoss = Math.fround(fastLoss + totals.loss);
          fastCorrect += totals.correct;
          samples += n;
          hooks.onStep?.({ epoch, step, steps: stepsPerEpoch, samples, loss: fastLoss / samples, batchLoss: totals.loss / n });
          continue;
        }
        const prev = [lossSum, correct];
        // every buffer made in the step goes back to the pool except what the next step needs
        const kept = tidy(() => {
          const { x, y } = onDevice!.batch(orderT, start, n);
          sgd.zeroGrad();
          const acts = model.forward(x, y);
          Mlp.meanLoss(acts).backward();
          if (recorder) {
            const idx = order.subarray(start, start + n);
            recorder.recordBatch(start, acts, Array.from(idx, (i) => split.labels[i]), idx);
            recorder.recordParamGrads(step, named);
          }
          const totals = noGrad(() => ({ loss: sum(acts.loss!, 0), correct: sum(eq(argmax(acts.logits!, 1), y), 0) }));
          sgd.step();
          sgd.zeroGrad();
          if (checkFinite) {
            if (!checkedActs) listChecked(acts);
            const checked = [...checkedActs!.map((n) => acts[n]!), ...params];
            if (hostVisible) checkOnHost(checked, checkedNames, paramNames, epoch, step);
            else {
              if (!flags) keep(flags = Tensor.zeros([stepsPerEpoch * probed.length], { backend }));
              flagNonFinite(probed.map((k) => checked[k]), flags, step * probed.length);
            }
          }
          return {
            lossSum: noGrad(() => add(lossSum, totals.loss)), correct: noGrad(() => add(correct, totals.correct)),
            batchLoss: totals.loss, state: sgd.state(),
          };
        });
        lossSum = kept.lossSum;
        correct = kept.correct;
        dispose(...prev);
        samples += n;
        hooks.onStep?.({
          epoch, step, steps: stepsPerEpoch, samples,
          // values only where reading them is free (cpu); a GPU read here would stall every step
          loss: hostVisible ? lossSum.data()[0] / samples : undefined,
          batchLoss: hostVisible ? kept.batchLoss.data()[0] / n : undefined,
        });
        dispose(kept.batchLoss);
      }
      model.eval();
      const flagged = flags as Tensor | null; // set inside the steps' closures
      const [lossTotal, correctTotal, flagValues] = fast || fused
        ? [[fastLoss], [fastCorrect], undefined]
        : await Promise.all([lossSum.read(), correct.read(), flagged?.read()]);
      dispose(lossSum, correct, orderT, ...(flagged ? [flagged] : []));
      if (flagValues) firstFlagged(flagValues, probed.map((k) => checkedNames[k]), paramNames, epoch);
      const test = await evaluate(model, data.test, undefined, undefined, opts.fast ?? fastCpuDefault());
      const m: EpochMetrics = {
        epoch, trainLoss: lossTotal[0] / samples, trainAccuracy: (100 * correctTotal[0]) / samples,
        testLoss: test.loss, testAccuracy: test.accuracy, samples, steps: stepsPerEpoch,
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
    fast?.detach();
    fused?.dispose();
  }
  return history;
}

// --- the finiteness check (see TrainOptions.checkFinite)

// parameters are checked after their update
const afterUpdate = (name: string, params: ReadonlySet<string>) => (params.has(name) ? ' after the SGD update' : '');

/** cpu: throws DivergenceError for the first of `tensors` holding a NaN or ±Inf, naming the element */
function checkOnHost(tensors: readonly Tensor[], names: readonly string[], params: ReadonlySet<string>, epoch: number, step: number): void {
  tensors.forEach((t, k) => {
    const d = t.data();
    for (let i = 0; i < d.length; i++) {
      if (!Number.isFinite(d[i])) {
        throw new DivergenceError(epoch, step, names[k], `holds ${d[i]} (element ${i} of [${t.shape.join(', ')}])${afterUpdate(names[k], params)}`);
      }
    }
  });
}

/**
 * webgpu: for each tensor, Σ 0·x over its elements is 0 when every element is finite and NaN otherwise
 * (0·±Inf and 0·NaN are NaN); that one value is copied into its slot of `flags` on the device. Only IEEE
 * propagation through a multiply and a sum is relied on, no comparison with NaN (which WGSL may fold away).
 */
function flagNonFinite(tensors: readonly Tensor[], flags: Tensor, at: number): void {
  const probes = noGrad(() => tensors.map((t) => sum(reshape(scale(t, 0), [t.size]), 0)));
  probes.forEach((p, k) => p.backend.copyInto(p.storage, flags.storage, at + k, 1));
}

/** the fused GPU step's flags: per step a mask of the tensors (in `names` order) that held a NaN or ±Inf */
function firstFlaggedMask(masks: ArrayLike<number>, names: readonly string[], params: ReadonlySet<string>, epoch: number): void {
  for (let step = 0; step < masks.length; step++) {
    const m = masks[step];
    if (!m) continue;
    const k = names.findIndex((_, b) => Math.floor(m / 2 ** b) % 2 === 1);
    throw new DivergenceError(epoch, step, names[k], `holds a NaN or ±Inf${afterUpdate(names[k], params)} (flagged on the device)`);
  }
}

/** webgpu, at the end of the epoch: throws DivergenceError for the first flagged step, and its first flagged tensor */
function firstFlagged(values: ArrayLike<number>, names: readonly string[], params: ReadonlySet<string>, epoch: number): void {
  for (let i = 0; i < values.length; i++) {
    if (Number.isFinite(values[i])) continue;
    const step = Math.floor(i / names.length), k = i % names.length;
    throw new DivergenceError(epoch, step, names[k], `holds a NaN or ±Inf${afterUpdate(names[k], params)} (flagged on the device)`);
  }
}

function makeRecorder(model: Mlp, count: number, steps: number, reuseSlots: boolean): Recorder {
  // every name of a training step (the reference names, plus layers.K.norm / layers.K.drop where the model has them)
  const names = model.actNames('train').filter((n) => n !== 'input');
  const widths: Partial<Record<ActName, number>> = { logits: model.sizes[model.sizes.length - 1], loss: 1 };
  for (const n of names) if (n.startsWith('layers.')) widths[n] = model.sizes[Number(n.split('.')[1]) + 1];
  return new Recorder({ names, widths, count, steps, reuseSlots });
}

/**
 * loss, accuracy (%), predictions and per-class accuracy of `model` on a split, in batches; `fast`: the
 * fused forward pass of mlp/fast-cpu.ts where it applies (the oracle's losses and predictions to f32 rounding),
 * as TrainOptions.fast
 */
export async function evaluate(
  model: Mlp, split: Split, batch = 1000, classes = model.sizes[model.sizes.length - 1], fast: boolean | 'js' = fastCpuDefault(),
): Promise<Evaluation> {
  const backend = model.layers[0].W.backend;
  if (fast && fastCpuApplies(model, split)) {
    const { lossSum, predictions } = await fastCpuForward(model, split, batch, fast === 'js' ? 'js' : undefined);
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

/** a split uploaded once to the model's device: images as packed bytes, labels as [N, 1] floats */
export interface DeviceSplit {
  /** the images as packed bytes (packBytes), the labels [N, 1] and the byte → pixel table [256] */
  images: Tensor; labels: Tensor; lut: Tensor;
  /** rows order[start .. start+n) as x [n, d] (pixels/255) and labels y [n] */
  batch(order: Tensor, start: number, n: number): { x: Tensor; y: Tensor };
}

// a split keeps its device copy while the split lives (evaluation runs every epoch)
const deviceSplits = new WeakMap<Split, Map<Backend, DeviceSplit>>();

export function deviceSplit(split: Split, backend: Backend): DeviceSplit {
  let perBackend = deviceSplits.get(split);
  const cached = perBackend?.get(backend);
  if (cached) return cached;
  const d = split.rows * split.cols;
  const images = Tensor.from(packBytes(split.images), [Math.ceil((split.count * d) / 4)], { backend });
  const labels = Tensor.from(Float32Array.from(split.labels), [split.count, 1], { backend });
  const lut = Tensor.from(Float32Array.from({ length: 256 }, (_, b) => pixel(b)), [256], { backend });
  keep(images, labels, lut);
  const ds: DeviceSplit = {
    images, labels, lut,
    batch: (order, start, n) => ({
      x: gatherBytes(images, order, lut, d, start, n),                  // [n, d]
      y: reshape(gatherRows(labels, order, start, n), [n]),             // [n]
    }),
  };
  if (!perBackend) deviceSplits.set(split, (perBackend = new Map()));
  perBackend.set(backend, ds);
  return ds;
}
