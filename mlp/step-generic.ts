// The generic step engine: the autograd step every model and backend can take, and the reference the
// fused engines are tested against. Per step, inside one tidy(): gather the batch on the device, forward
// with every named tensor, backward of the mean loss, record, SGD, the finiteness check; loss and right
// answers accumulate on the device, so a GPU epoch reads nothing back until endEpoch.
import type { Backend } from '../engine/backend.ts';
import { dispose, keep, tidy } from '../engine/memory.ts';
import { add, argmax, eq, sum } from '../engine/ops/index.ts';
import { noGrad, Tensor } from '../engine/tensor.ts';
import { type DeviceSplit, deviceSplit } from './device-split.ts';
import { checkOnHost, firstFlagged, flagNonFinite } from './finite.ts';
import type { Acts } from './model.ts';
import { meanLoss, type Net } from './net.ts';
import type { Split } from './mnist.ts';
import type { ActName } from './names.ts';
import type { Recorder } from './recorder.ts';
import type { Sgd } from './sgd.ts';
import type { EpochTotals, StepEngine } from './step-engine.ts';
import type { StepInfo } from './train.ts';

export interface GenericStepOptions {
  batch: number;
  /** steps per epoch */
  steps: number;
  recorder: Recorder | null;
  checkFinite: boolean;
}

export class GenericStep implements StepEngine {
  readonly label = 'generic autograd step';
  readonly steps: number;
  private readonly backend: Backend;
  private readonly named: ReturnType<Net['params']>;
  private readonly onDevice: DeviceSplit;
  private readonly paramNames: ReadonlySet<string>;
  // the tensors the finiteness check looks at, in model order: the forward pass (every named activation
  // but the input, as the first forward returns them), then each parameter after its update
  private checkedActs: ActName[] | null = null;
  private checkedNames: string[] = [];
  private probed: number[] = [];
  // the epoch under way
  private epoch = 0;
  private order: Uint32Array = new Uint32Array(0);
  private orderT: Tensor | null = null;
  private lossSum: Tensor | null = null;
  private correct: Tensor | null = null;
  private samples = 0;
  /** on the device: one slot per step and probed tensor, NaN where that tensor held a NaN or ±Inf (made at step 0) */
  private flags: Tensor | null = null;

  constructor(private readonly model: Net, private readonly split: Split, private readonly sgd: Sgd, private readonly opts: GenericStepOptions) {
    this.steps = opts.steps;
    this.backend = model.backend;
    this.named = model.params();
    this.paramNames = new Set<string>(this.named.map((p) => p.name));
    this.onDevice = deviceSplit(split, this.backend);
  }

  beginEpoch(epoch: number, order: Uint32Array): void {
    this.epoch = epoch;
    this.order = order;
    // the epoch's order goes to the device once; each step gathers its batch there
    this.orderT = Tensor.from(Float32Array.from(order), [this.split.count], { backend: this.backend });
  }

  runSteps(onStep?: (info: StepInfo) => void): void {
    const { model, sgd, split, backend, named, epoch, order } = this;
    const { batch, steps, checkFinite, recorder } = this.opts;
    const params = named.map((p) => p.tensor);
    const orderT = this.orderT!;
    // loss and accuracy accumulate on the device: no read-back until the epoch ends
    let lossSum = Tensor.zeros([], { backend }), correct = Tensor.zeros([], { backend }), samples = 0;
    const hostVisible = backend.name === 'cpu';
    this.flags = null;
    for (let step = 0; step < steps; step++) {
      const start = step * batch, n = Math.min(batch, split.count - start);
      const prev = [lossSum, correct];
      // every buffer made in the step goes back to the pool except what the next step needs
      const kept = tidy(() => {
        const { x, y } = this.onDevice.batch(orderT, start, n);
        sgd.zeroGrad();
        const acts = model.forward(x, y);
        meanLoss(acts).backward();
        if (recorder) {
          const idx = order.subarray(start, start + n);
          recorder.recordBatch(start, acts, Array.from(idx, (i) => split.labels[i]), idx);
          recorder.recordParamGrads(step, named);
        }
        const totals = noGrad(() => ({ loss: sum(acts.loss!, 0), correct: sum(eq(argmax(acts.logits!, 1), y), 0) }));
        sgd.step();
        sgd.zeroGrad();
        if (checkFinite) {
          if (!this.checkedActs) this.listChecked(acts);
          const checked = [...this.checkedActs!.map((name) => acts[name]!), ...params];
          if (hostVisible) checkOnHost(checked, this.checkedNames, this.paramNames, epoch, step);
          else {
            if (!this.flags) keep(this.flags = Tensor.zeros([steps * this.probed.length], { backend }));
            flagNonFinite(this.probed.map((k) => checked[k]), this.flags, step * this.probed.length);
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
      onStep?.({
        epoch, step, steps, samples,
        // values only where reading them is free (cpu); a GPU read here would stall every step
        loss: hostVisible ? lossSum.data()[0] / samples : undefined,
        batchLoss: hostVisible ? kept.batchLoss.data()[0] / n : undefined,
        accuracy: hostVisible ? (100 * correct.data()[0]) / samples : undefined,
        // on a device: the two sums read when asked, queued behind this step (both reads are encoded before the sums are released)
        peek: hostVisible ? undefined : peekSums(lossSum, correct, samples),
      });
      dispose(kept.batchLoss);
    }
    this.lossSum = lossSum;
    this.correct = correct;
    this.samples = samples;
  }

  async endEpoch(): Promise<EpochTotals> {
    const lossSum = this.lossSum!, correct = this.correct!, flagged = this.flags;
    const [lossTotal, correctTotal, flagValues] = await Promise.all([lossSum.read(), correct.read(), flagged?.read()]);
    dispose(lossSum, correct, this.orderT!, ...(flagged ? [flagged] : []));
    this.lossSum = this.correct = this.orderT = this.flags = null;
    if (flagValues) firstFlagged(flagValues, this.probed.map((k) => this.checkedNames[k]), this.paramNames, this.epoch);
    return { lossSum: lossTotal[0], correct: correctTotal[0], samples: this.samples };
  }

  velocity(): Promise<(Float32Array | null)[]> {
    return this.sgd.momentum();
  }

  // the optimiser's buffers stay with the model's run; nothing else outlives an epoch
  dispose(): void {}

  private listChecked(acts: Acts): void {
    this.checkedActs = (Object.keys(acts) as ActName[]).filter((n) => n !== 'input');
    this.checkedNames = [...this.checkedActs, ...this.named.map((p) => p.name)];
    // on the device a ReLU output is not probed: it can only be non-finite where its input (checked just
    // before it, in model order) already was, so the first bad tensor is the same; fewer dispatches a step
    this.probed = this.checkedNames.flatMap((n, k) => (/\.post$/.test(n) ? [] : [k]));
  }
}

/** a StepInfo.peek of the running sums on a device: both reads queued when called, during onStep (before the step's sums are released) */
function peekSums(lossSum: Tensor, correct: Tensor, samples: number): () => Promise<{ loss: number; accuracy: number }> {
  return () => Promise.all([lossSum.read(), correct.read()]).then(([l, c]) => ({ loss: l[0] / samples, accuracy: (100 * c[0]) / samples }));
}
