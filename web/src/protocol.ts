// the messages between the page (main.ts) and its worker (worker.ts). The page sends requests with an
// id and gets one reply per id; the worker also sends events (status lines, step progress, each
// finished epoch's metrics and statistics) while it works. Everything is structured-clonable.
import type { EpochStats } from '../../analysis/epoch-stats.ts';
import type { ThroughTraining } from '../../analysis/through-training-types.ts';
import type { InputStats } from '../../analysis/input-stats.ts';
import type { NeuronAnalysis } from '../../analysis/intervention.ts';
import type { Projection } from '../../analysis/projection.ts';
import type { Saliency } from '../../analysis/saliency.ts';
import type { RngKind } from '../../engine/rng.ts';
import type { InputNorm } from '../../mlp/norm.ts';
import type { EpochMetrics } from '../../mlp/train.ts';
import type { KernelResults } from '../../bench/kernels-run.ts';
import type { LivePoint } from './live-steps.ts';
import type { NetworkView } from './network-data.ts';

/** what the page lets the user set: the CLI's options of the same names (bench/train.js --help) */
export interface WebConfig {
  /** hidden layer sizes (--hidden); ignored for a CNN */
  hidden: number[];
  /**
   * a CNN instead of the MLP: its --arch text (mlp/arch.ts), 'cnn' for the reference CNN or a cnn:… spec;
   * absent: the MLP of `hidden`. A CNN trains without the normalisation options (`norm` is ignored)
   */
  arch?: string;
  lr: number;
  momentum: number;
  weightDecay: number;
  batch: number;
  epochs: number;
  /** steps per epoch (--steps); absent: all */
  steps?: number;
  seed: number;
  rng: RngKind;
  shuffle: boolean;
  /** keep every activation and gradient, for the per-epoch statistics (the live histograms and drift) */
  record: boolean;
  /** webgpu: any WebGPU adapter (software ones too), the CPU backend when there is none; cpu: the CPU backend */
  device: 'webgpu' | 'cpu';
  /** --input-norm, --layernorm, --batchnorm, --dropout (after the first hidden layer) */
  norm: {
    input: InputNorm;
    layernorm: 'none' | 'after-relu' | 'before-relu' | 'final';
    batchnorm: 'none' | 'before-relu' | 'after-relu';
    dropout: number;
  };
}

export const DEFAULT_CONFIG: WebConfig = {
  hidden: [32, 16], lr: 0.01, momentum: 0, weightDecay: 0, batch: 64, epochs: 20, seed: 31416, rng: 'torch',
  shuffle: true, record: true, device: 'webgpu', norm: { input: 'none', layernorm: 'none', batchnorm: 'none', dropout: 0 },
};

/** what trains: the backend and, for WebGPU, the adapter */
export interface DeviceDescription {
  backend: 'webgpu' | 'cpu';
  /** one line for the page, e.g. "WebGPU: llvmpipe (software, compatibility)" or "CPU: no WebGPU adapter (…)" */
  text: string;
  software?: boolean;
  adapter?: Record<string, unknown>;
}

export interface TestResult { loss: number; accuracy: number; perClass: number[] }

/** a model ready for the explorer (trained here or uploaded) */
export interface ModelSummary {
  source: 'trained' | 'uploaded';
  /** the MLP (the neuron explorer) or a CNN (the filters and feature maps) */
  kind: 'mlp' | 'cnn';
  /** the architecture as --arch writes it: mlp:32,16 or cnn:conv8x5,pool2,conv16x5,pool2,32 */
  arch: string;
  name: string;
  /** layer sizes, input to classes (a CNN's: [pixels, classes]) */
  sizes: number[];
  /** hidden layer widths [hidden] (an MLP's; [] for a CNN) */
  widths: number[];
  /** normalisation in words ("none" for the reference model) */
  norm: string;
  test: TestResult;
  history: EpochMetrics[];
  /** epochs were stopped early by the user */
  stopped?: boolean;
  /**
   * the epochs whose weights the worker kept (−1: the initial weights, then 0…), ascending; the explorer
   * and the analyses through training can look at each. Empty for an uploaded model, or when the weights
   * were too large to keep every epoch (`snapshotsNote` says so)
   */
  snapshots: number[];
  snapshotsNote?: string;
  seconds: number;
}

/** play: train to the last epoch (unless paused or stopped); step: one epoch, then paused */
export type TrainMode = 'play' | 'step';

/**
 * a run paused at an epoch's end: the worker keeps its checkpoint (weights, momentum, generator state,
 * history), and `resume` continues it bit for bit
 */
export interface PausedRun {
  paused: true;
  /** the last epoch trained (0-based) */
  epoch: number;
  epochs: number;
  history: EpochMetrics[];
  /** seconds of training so far */
  seconds: number;
}

export interface DataSummary {
  trainCount: number;
  testCount: number;
  rows: number;
  cols: number;
  /** the test split, for drawing digits in the page */
  testImages: Uint8Array;
  testLabels: Uint8Array;
  seconds: number;
}

/** the explorer's answer for one neuron */
export interface NeuronReport {
  /** the snapshot's epoch the answer is for (−1: the initial weights); null: the model as trained or uploaded */
  epoch: number | null;
  layer: number;
  neuron: number;
  target: string;
  /** selectivity of this neuron for each class [classes] (analysis/selectivity.ts) */
  selectivity: number[];
  /** mean activation on each class's test images [classes] */
  classMeans: number[];
  /** classes by selectivity, most selective first [3] */
  topClasses: number[];
  /** the layer's most selective neuron for each class [classes] */
  mostSelective: number[];
  /** analyzeNeuron: accuracy per class vs the neuron's scale, confusion matrices */
  analysis: NeuronAnalysis;
  /** saliency of the chosen test image for this neuron */
  saliency: Saliency & { index: number; label: number; predicted: number };
  /**
   * the neuron's health on the test images: the share on which it fires (activation > 0), its mean and
   * extremes; dead when its activation is the same on every image (a ReLU that never fires)
   */
  health: { images: number; active: number; mean: number; min: number; max: number; dead: boolean };
  /** one-hot pixel map of this neuron [d_in] */
  oneHot: { target: string; value: number; map: Float32Array };
  seconds: number;
}

/** one named map of one image: [C, H, W], values row-major */
export interface FeatureMapData { name: string; shape: number[]; data: Float32Array }

/** the CNN explorer's answer for one test image: the first conv layer's filters and every feature map */
export interface CnnReport {
  /** the snapshot's epoch the answer is for (−1: the initial weights); null: the model as trained or uploaded */
  epoch: number | null;
  image: number;
  label: number;
  predicted: number;
  /** softmax of the logits [classes] */
  probabilities: number[];
  /** the first conv layer's weights (layers.0.W) [out, in, k, k] and biases [out] */
  filters: { name: string; shape: number[]; weights: Float32Array; bias: Float32Array };
  /** each conv layer's pre, post and pool maps (model order) */
  maps: FeatureMapData[];
  seconds: number;
}

export interface FileResult { name: string; mime: string; bytes: Uint8Array; seconds: number }

export type Request =
  | { op: 'load' }
  /** a new run (a paused one is discarded); mode step: its first epoch, then paused */
  | { op: 'train'; config: WebConfig; mode?: TrainMode }
  /** the running training ends at the current epoch's end, its model kept */
  | { op: 'stop' }
  /** the running training pauses at the current epoch's end (MLPs without normalisation and CNNs: they have a checkpoint) */
  | { op: 'pause' }
  /** the paused run continues from its checkpoint: to the end (play) or for one epoch (step) */
  | { op: 'resume'; mode: TrainMode }
  /** back to the untrained state: the paused run and the model are discarded */
  | { op: 'reset' }
  | { op: 'upload'; name: string; bytes: Uint8Array }
  /** epoch: a kept snapshot's (ModelSummary.snapshots); absent: the model as trained or uploaded */
  | { op: 'neuron'; layer: number; neuron: number; image: number; epoch?: number }
  | { op: 'pca'; layer: number; epoch?: number }
  /** a CNN: the first conv layer's filters and the feature maps of test image `image` (model.forward on it) */
  | { op: 'cnn'; image: number; epoch?: number }
  /** the network view: test image `image` through the weights (a run's latest while it trains or is paused); it also becomes the image of the `network` events */
  | { op: 'network'; image: number; epoch?: number }
  /** analyzeThroughTraining on the kept snapshots (computed once per trained model) */
  | { op: 'through' }
  /** epoch (model only): that snapshot's weights, named as RUN/snapshots/ names them */
  | { op: 'file'; kind: 'model' | 'results' | 'report'; epoch?: number }
  /** bench/kernels.js's benchmark (runKernels) on the worker's WebGPU adapter and the CPU backend; no tfjs */
  | { op: 'kernels'; quick: boolean };

export interface Replies {
  load: DataSummary;
  train: ModelSummary | PausedRun;
  stop: { stopping: boolean };
  pause: { stopping: boolean };
  resume: ModelSummary | PausedRun;
  reset: { reset: boolean };
  upload: ModelSummary;
  neuron: NeuronReport;
  cnn: CnnReport;
  network: NetworkView;
  pca: { epoch: number | null; layer: number; target: string; projection: Projection; seconds: number };
  through: ThroughTraining;
  file: FileResult;
  kernels: KernelResults;
}

export type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

export type WorkerEvent =
  | { event: 'status'; text: string }
  /** one progress line of the kernel benchmark */
  | { event: 'kernels'; text: string }
  | { event: 'device'; device: DeviceDescription }
  | { event: 'progress'; epoch: number; step: number; steps: number; samples: number; epochs: number }
  | { event: 'epoch'; metrics: EpochMetrics; stats: EpochStats | null; input: InputStats | null }
  /** a few times a second while an epoch trains: the running training loss and accuracy since its start (web/src/live.ts) */
  | { event: 'live'; point: LivePoint }
  /** at each epoch's end while training: the network view's test image through that epoch's weights */
  | { event: 'network'; view: NetworkView };
