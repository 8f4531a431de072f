// the training loop: seeded epoch order, mini-batches (last partial batch kept, as DataLoader with
// drop_last=False), forward with every named tensor, backward, SGD, recording, per-epoch metrics.
import { add, argmax, eq, sum } from '../engine/ops/index.ts';
import type { Rng } from '../engine/rng.ts';
import { noGrad, Tensor } from '../engine/tensor.ts';
import { gatherBatch } from './batch.ts';
import type { Mnist, Split } from './mnist.ts';
import { Mlp } from './model.ts';
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
  /** keep every named activation and gradient of each epoch in the recorder's slots */
  record?: boolean;
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
  onEpoch?(metrics: EpochMetrics, record: EpochRecord | null): void | Promise<void>;
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
  const params = model.params().map((p) => p.tensor);
  const sgd = new Sgd(params, { lr: opts.lr, momentum: opts.momentum, weightDecay: opts.weightDecay });
  const stepsPerEpoch = Math.min(Math.ceil(split.count / batch), opts.steps ?? Infinity);
  const recorder = opts.record ? makeRecorder(model, Math.min(split.count, stepsPerEpoch * batch)) : null;
  const d = split.rows * split.cols;
  const identity = Uint32Array.from({ length: split.count }, (_, i) => i);
  const history: EpochMetrics[] = [];

  for (let epoch = 0; epoch < epochs; epoch++) {
    const t0 = performance.now();
    // the generator is drawn every epoch even for --steps, so later epochs keep the reference order
    const order = opts.shuffle === false ? identity : rng.epochPermutation(split.count);
    recorder?.beginEpoch(epoch);
    // loss and accuracy accumulate on the device: no read-back until the epoch ends
    let lossSum = Tensor.zeros([], { backend }), correct = Tensor.zeros([], { backend }), samples = 0;
    const hostVisible = backend.name === 'cpu';
    for (let step = 0; step < stepsPerEpoch; step++) {
      const start = step * batch, n = Math.min(batch, split.count - start);
      const { x, y } = gatherBatch(split, order, start, n);
      const xs = Tensor.from(x, [n, d], { backend });
      const ys = Tensor.from(y, [n], { backend });
      sgd.zeroGrad();
      const acts = model.forward(xs, ys);
      Mlp.meanLoss(acts).backward();
      recorder?.recordBatch(start, acts, y, order.subarray(start, start + n));
      const totals = noGrad(() => ({ loss: sum(acts.loss!, 0), correct: sum(eq(argmax(acts.logits!, 1), ys), 0) }));
      sgd.step();
      noGrad(() => { lossSum = add(lossSum, totals.loss); correct = add(correct, totals.correct); });
      samples += n;
      hooks.onStep?.({
        epoch, step, steps: stepsPerEpoch, samples,
        // values only where reading them is free (cpu); a GPU read here would stall every step
        loss: hostVisible ? lossSum.data()[0] / samples : undefined,
        batchLoss: hostVisible ? totals.loss.data()[0] / n : undefined,
      });
    }
    const [lossTotal, correctTotal] = await Promise.all([lossSum.read(), correct.read()]);
    const test = await evaluate(model, data.test);
    const m: EpochMetrics = {
      epoch, trainLoss: lossTotal[0] / samples, trainAccuracy: (100 * correctTotal[0]) / samples,
      testLoss: test.loss, testAccuracy: test.accuracy, samples, steps: stepsPerEpoch,
      seconds: (performance.now() - t0) / 1000,
    };
    history.push(m);
    await hooks.onEpoch?.(m, recorder ? recorder.endEpoch() : null);
  }
  return history;
}

function makeRecorder(model: Mlp, count: number): Recorder {
  const names = actNames(model.hidden).filter((n) => n !== 'input');
  const widths: Partial<Record<ActName, number>> = { logits: model.sizes[model.sizes.length - 1], loss: 1 };
  for (let k = 0; k < model.hidden; k++) widths[`layers.${k}.pre`] = widths[`layers.${k}.post`] = model.sizes[k + 1];
  return new Recorder({ names, widths, count });
}

/** loss, accuracy (%), predictions and per-class accuracy of `model` on a split, in batches */
export async function evaluate(model: Mlp, split: Split, batch = 1000, classes = model.sizes[model.sizes.length - 1]): Promise<Evaluation> {
  const backend = model.layers[0].W.backend;
  const d = split.rows * split.cols;
  const identity = Uint32Array.from({ length: split.count }, (_, i) => i);
  const predictions = new Uint8Array(split.count);
  let lossSum = 0;
  for (let start = 0; start < split.count; start += batch) {
    const n = Math.min(batch, split.count - start);
    const { x, y } = gatherBatch(split, identity, start, n);
    const { losses, pred } = noGrad(() => {
      const acts = model.forward(Tensor.from(x, [n, d], { backend }), Tensor.from(y, [n], { backend }));
      return { losses: acts.loss!, pred: argmax(acts.logits!, 1) };
    });
    const [l, p] = await Promise.all([losses.read(), pred.read()]);
    for (let i = 0; i < n; i++) { lossSum += l[i]; predictions[start + i] = p[i]; }
  }
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
