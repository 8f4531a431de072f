// One training step engine per run, chosen once by pickStepEngine() from the model, its backend and the
// options; the epoch loop (mlp/train.ts) drives whichever it got through StepEngine and never asks which:
//   generic  mlp/step-generic.ts  autograd: forward with every named tensor, backward, Sgd; any model, any backend
//   fused    mlp/fused-cpu.ts     the plain ReLU MLP on the cpu backend: forward, loss, backward and update of a
//                                batch in buffers allocated once (WebAssembly SIMD or the same kernels in JS)
//   fused    mlp/fused-gpu.ts     the plain ReLU MLP on webgpu: whole steps in one workgroup, many per dispatch,
//                                the epoch encoded in a few dispatches (engine/fused-train-steps.ts)
//   fused    mlp/fused-cnn-cpu.ts a CNN on the cpu backend: channel-last maps, sparse first-layer convolutions,
//                                WebAssembly SIMD kernels (or the same in JS) in buffers allocated once
// The fused engines are tested against the generic one (test/mlp/fused-cpu.test.ts, fused-gpu.test.ts).
import type { Mlp } from './model.ts';
import type { Net } from './net.ts';
import type { Split } from './mnist.ts';
import type { Recorder } from './recorder.ts';
import { Sgd } from './sgd.ts';
import type { StepInfo, TrainOptions } from './train.ts';
import { fusedCpuApplies, fusedCpuLabel, FusedCpuStep } from './fused-cpu.ts';
import { fusedGpuApplies, fusedGpuLabel, FusedGpuStep } from './fused-gpu.ts';
import { GenericStep } from './step-generic.ts';
import type { Cnn } from './cnn.ts';
import { fusedCnnCpuApplies, fusedCnnCpuLabel, FusedCnnCpuStep } from './fused-cnn-cpu.ts';

/** an epoch's totals over its steps, after the finiteness check */
export interface EpochTotals {
  /** Σ per-sample loss (f32 sums, as the generic step's tensors hold it) */
  lossSum: number;
  /** right answers, each by the weights of its step (before its update) */
  correct: number;
  /** samples visited */
  samples: number;
}

/**
 * the steps of a run. Per epoch: beginEpoch, runSteps, endEpoch. Each engine writes every named activation
 * and gradient of its steps into the recorder it was made with (if any), and checks finiteness as
 * TrainOptions.checkFinite says, throwing DivergenceError (mlp/finite.ts) from runSteps (cpu: at the bad
 * step) or from endEpoch (webgpu: read with the totals).
 */
export interface StepEngine {
  /** what runs, for logs: 'generic autograd step', 'fused step, WebAssembly SIMD', … */
  readonly label: string;
  /** steps per epoch */
  readonly steps: number;
  /** an epoch begins: its sample order (a permutation of the split, or the identity) */
  beginEpoch(epoch: number, order: Uint32Array): void;
  /**
   * runs (cpu) or encodes (webgpu) the epoch's steps, updating the model's parameters; onStep after each,
   * with the running loss where reading it is free (cpu)
   */
  runSteps(onStep?: (info: StepInfo) => void): void;
  /** the epoch's totals: one read on a GPU; throws DivergenceError for the first NaN or ±Inf flagged */
  endEpoch(): Promise<EpochTotals>;
  /** the SGD momentum buffers now, one per parameter in model.params() order (null where there is none): for checkpoints */
  velocity(): Promise<(Float32Array | null)[]>;
  /** gives back what the engine holds (device buffers; the fused cpu step's memory) once training ends */
  dispose(): void;
}

/** what a step engine needs of the training options */
export type StepOptions = Pick<TrainOptions, 'batch' | 'lr' | 'momentum' | 'weightDecay' | 'velocity' | 'checkFinite' | 'fused' | 'steps' | 'record'>;

/** steps per epoch: every batch of the split (the last one partial), or opts.steps if fewer */
export const epochSteps = (split: Split, opts: Pick<StepOptions, 'batch' | 'steps'>): number =>
  Math.min(Math.ceil(split.count / opts.batch), opts.steps ?? Infinity);

type StepKind = 'generic' | 'fused-cpu' | 'fused-gpu' | 'fused-cnn-cpu';

/** the engine for `model` (on its backend) training on `split` with these options */
function stepKind(model: Net, split: Split, opts: StepOptions): StepKind {
  if (!(opts.fused ?? true)) return 'generic';
  if (model.kind === 'cnn') return fusedCnnCpuApplies(model, split) ? 'fused-cnn-cpu' : 'generic';
  if (fusedCpuApplies(model, split)) return 'fused-cpu';
  if (fusedGpuApplies(model, split, gpuOptions(split, opts))) return 'fused-gpu';
  return 'generic';
}

/** the model a fused MLP engine was picked for (stepKind picks one only for an MLP) */
function mlpOf(model: Net): Mlp {
  if (model.kind !== 'mlp') throw new Error(`a fused MLP step for a ${model.kind}`);
  return model;
}

/** the model the fused CNN engine was picked for */
function cnnOf(model: Net): Cnn {
  if (model.kind !== 'cnn') throw new Error(`a fused CNN step for a ${model.kind}`);
  return model;
}

const gpuOptions = (split: Split, opts: StepOptions) => {
  const steps = epochSteps(split, opts);
  return {
    batch: opts.batch, lr: opts.lr, momentum: opts.momentum, weightDecay: opts.weightDecay, velocity: opts.velocity,
    record: !!opts.record, recordRows: Math.min(split.count, steps * opts.batch), steps,
  };
};

/**
 * the step engine of a run: fused where it applies (TrainOptions.fused, on by default), else the generic
 * autograd step. `recorder`: where the steps write every named activation and gradient (opts.record)
 */
export async function pickStepEngine(model: Net, split: Split, opts: StepOptions, recorder: Recorder | null = null): Promise<StepEngine> {
  const named = model.params();
  // the optimiser first, whichever step runs: it validates lr and the momentum buffers given (throws)
  const sgd = new Sgd(named.map((p) => p.tensor), { lr: opts.lr, momentum: opts.momentum, weightDecay: opts.weightDecay });
  if (opts.velocity) sgd.restoreMomentum(opts.velocity);
  const steps = epochSteps(split, opts), checkFinite = opts.checkFinite ?? true;
  switch (stepKind(model, split, opts)) {
    case 'fused-cpu':
      return FusedCpuStep.create(mlpOf(model), split, {
        batch: opts.batch, lr: opts.lr, momentum: opts.momentum, weightDecay: opts.weightDecay, velocity: opts.velocity,
        kind: opts.fused === 'js' ? 'js' : undefined,
      }, { steps, recorder, checkFinite });
    case 'fused-gpu': {
      const step = new FusedGpuStep(mlpOf(model), split, gpuOptions(split, opts), { recorder, checkFinite });
      // its kernel compiled before the first step, not inside the epoch's first dispatch
      await step.warm();
      return step;
    }
    case 'fused-cnn-cpu':
      return FusedCnnCpuStep.create(cnnOf(model), split, {
        batch: opts.batch, lr: opts.lr, momentum: opts.momentum, weightDecay: opts.weightDecay, velocity: opts.velocity,
        kind: opts.fused === 'js' ? 'js' : undefined,
      }, { steps, recorder, checkFinite });
    case 'generic':
      return new GenericStep(model, split, sgd, { batch: opts.batch, steps, recorder, checkFinite });
  }
}

/**
 * what the CLI's first line says about the engine pickStepEngine would choose: ' (fused step, WebAssembly
 * SIMD)', ' (fused step, JavaScript kernels: <why>)', ' (fused step, N steps a dispatch)' (webgpu); '' for
 * the generic autograd step (the reference, left unmarked)
 */
export async function stepEngineNote(model: Net, split: Split, opts: StepOptions): Promise<string> {
  switch (stepKind(model, split, opts)) {
    case 'fused-cpu': return ` (${await fusedCpuLabel(opts.fused === 'js' ? 'js' : undefined)})`;
    case 'fused-gpu': return ` (${fusedGpuLabel(mlpOf(model), split, gpuOptions(split, opts))})`;
    case 'fused-cnn-cpu': return ` (${await fusedCnnCpuLabel(opts.fused === 'js' ? 'js' : undefined)})`;
    case 'generic': return '';
  }
}
