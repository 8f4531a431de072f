// One training run, wherever it runs: settings + data + backend → a model, trained with the epoch
// loop of mlp/train.ts, its per-epoch statistics and checkpoints handed to a sink. No file and no
// process here: the run directory (run/run.ts) and the page's worker (web/src/worker.ts) are two sinks.
//
//   prepareSession   the generator, the normalisation plan and the model (fresh, from --init weights,
//                    or from a checkpoint), so the caller can describe the run before it starts
//   trainSession     the epochs: train() with the step engine it picks, then per epoch the statistics
//                    (WGSL kernels on the device's slots, or loops on the host), the checkpoint and the
//                    metrics, each to the sink; then the final evaluation on the test split
import type { Backend } from '../engine/backend.ts';
import { createRng, type Rng, type RngKind } from '../engine/rng.ts';
import { computeEpochStatsTimed, epochStatsFileTimed, type EpochStats } from '../analysis/epoch-stats.ts';
import { computeEpochStatsOnDevice } from '../analysis/epoch-stats-gpu.ts';
import { computeInputStats, type InputStats } from '../analysis/input-stats.ts';
import { measureProbe, type ProbeStats } from '../analysis/position-stats.ts';
import type { Checkpoint, RunIdentity } from '../mlp/checkpoint.ts';
import { InputError } from '../mlp/errors.ts';
import type { EpochRecord } from '../mlp/recorder.ts';
import type { Mnist } from '../mlp/mnist.ts';
import { Mlp } from '../mlp/model.ts';
import { Cnn } from '../mlp/cnn.ts';
import type { Net } from '../mlp/net.ts';
import { type ArchSpec, cnnMacs, cnnParamCount, type LayerSpec, parseArch, resolveCnn, type ResolvedLayer } from '../mlp/arch.ts';
import { isPlain, pixelStats, resolveNorm, type NormConfig, type NormPlan } from '../mlp/norm.ts';
import { evaluate, train, type EpochMetrics, type Evaluation, type StepInfo } from '../mlp/train.ts';
import { MAX_HIDDEN_LAYERS, type LayerParams, type NormParams } from '../mlp/weights.ts';
import { ConfigError } from './errors.ts';
import { taskModule, type HelperThread } from '../engine/threads.ts';
import { touchPages } from '../engine/pages.ts';

/** what a training run is: the model's shape, the optimiser, the order, what is recorded */
export interface TrainSettings {
  /** layer sizes, input to classes: [784, 32, 16, 10] for the reference model; a CNN's: [pixels, classes] */
  sizes: number[];
  /**
   * a CNN instead of the MLP: its --arch text (mlp/arch.ts), e.g. 'cnn' or 'cnn:conv8x5,pool2,32'; the
   * images are its one-channel input map. Absent: the MLP of `sizes`.
   */
  arch?: string;
  epochs: number;
  batch: number;
  lr: number;
  momentum: number;
  weightDecay: number;
  seed: number;
  /** torch: PyTorch's MT19937 streams (the notebooks' weights and order); mlp-lens: xoshiro128** */
  rng: RngKind;
  /** a fresh permutation of the training set every epoch (false: file order) */
  shuffle: boolean;
  /** stop each epoch after this many steps (quick runs) */
  steps?: number;
  /** keep every named activation and gradient of each epoch, and compute its statistics */
  record: boolean;
  /** the fused step where it applies (false: the generic autograd step; 'js': the fused cpu step's JavaScript kernels) */
  fused: boolean | 'js';
  /** input standardisation, LayerNorm/BatchNorm, dropout (mlp/norm.ts); empty: the plain MLP */
  norm: NormConfig;
  /** webgpu: compute the statistics with host loops on a raw read-back instead of WGSL kernels on the device */
  statsOnHost?: boolean;
}

/** the reference run: the notebooks' model, optimiser and order */
export const REFERENCE_SETTINGS: Readonly<TrainSettings> = {
  sizes: [784, 32, 16, 10], epochs: 20, batch: 64, lr: 0.01, momentum: 0, weightDecay: 0, seed: 31416, rng: 'torch',
  shuffle: true, record: true, fused: true, norm: {},
};

/** throws a ConfigError naming the first setting that cannot work */
export function checkSettings(s: TrainSettings): void {
  const whole = (name: string, v: unknown, min: number) => {
    if (!(typeof v === 'number' && Number.isSafeInteger(v) && v >= min)) throw new ConfigError(`${name} must be a whole number ≥ ${min}, got ${String(v)}`);
  };
  const number = (name: string, v: unknown, strict: boolean) => {
    if (!(typeof v === 'number' && Number.isFinite(v) && (strict ? v > 0 : v >= 0))) throw new ConfigError(`${name} must be a number ${strict ? '>' : '≥'} 0, got ${String(v)}`);
  };
  if (!Array.isArray(s.sizes) || s.sizes.length < 2) throw new ConfigError('sizes: give the input size, the hidden sizes and the classes');
  s.sizes.forEach((n, i) => whole(`layer size ${i}`, n, 1));
  // what a checkpoint and model.safetensors can hold (mlp/weights.ts): a deeper model could not be resumed or loaded
  if (s.sizes.length - 2 > MAX_HIDDEN_LAYERS) throw new ConfigError(`--hidden: at most ${MAX_HIDDEN_LAYERS} hidden layers, got ${s.sizes.length - 2}`);
  whole('epochs', s.epochs, 1);
  whole('batch', s.batch, 1);
  if (s.steps !== undefined) whole('steps', s.steps, 1);
  whole('seed', s.seed, 0);
  number('lr', s.lr, true);
  number('momentum', s.momentum, false);
  number('weight decay', s.weightDecay, false);
  if (s.rng !== 'torch' && s.rng !== 'mlp-lens') throw new ConfigError(`rng must be torch or mlp-lens, got ${String(s.rng)}`);
  if (s.arch !== undefined) {
    cnnSpec(s);
    if (s.sizes.length !== 2) throw new ConfigError(`a cnn's sizes are [pixels, classes], got [${s.sizes.join(', ')}]`);
    if (!isPlainConfig(s.norm)) throw new ConfigError('--layernorm, --batchnorm, --dropout and --standardize apply to the MLP only, not to --arch cnn');
  }
}

/** a CNN run's layer specs (ConfigError for an --arch that does not parse or is not a cnn) */
function cnnSpec(s: TrainSettings): LayerSpec[] {
  let spec: ArchSpec;
  try { spec = parseArch(s.arch!); } catch (e) { throw new ConfigError((e as Error).message); }
  if (spec.kind !== 'cnn') throw new ConfigError(`arch: a CNN's spec, got '${s.arch}' (an MLP is given by its sizes)`);
  return spec.layers;
}

/** a CNN run's layers resolved on images of rows×cols (ConfigError where a layer does not fit) */
export function cnnLayersFor(s: TrainSettings, rows: number, cols: number): ResolvedLayer[] {
  try { return resolveCnn(cnnSpec(s), [1, rows, cols], s.sizes[s.sizes.length - 1]); } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError((e as Error).message);
  }
}

/** a NormConfig that asks for nothing: no input standardisation, LayerNorm, BatchNorm or dropout */
function isPlainConfig(n: NormConfig): boolean {
  return (n.input ?? 'none') === 'none' && n.layernorm === undefined && n.batchnorm === undefined && !(n.dropout ?? 0);
}

/** above this a run is refused before anything is allocated: the arrays it would need, in bytes */
export const MAX_RUN_BYTES = 6 * 2 ** 30;
/** above this a run starts with a warning of the memory it will take */
export const WARN_RUN_BYTES = 2 ** 30;
/** above this many floating-point operations an epoch, a warning of the time it will take */
export const WARN_EPOCH_FLOPS = 1e12;

/** what a run's arrays take, by what holds them, and the arithmetic of one epoch: the basis of the checks before a run */
export interface RunEstimate {
  /** the parameters, their gradients, the momentum buffers and the fused steps' copies */
  weights: number;
  /** one step's batch, activations and their gradients */
  step: number;
  /** every named activation and gradient of an epoch (recording on) */
  recording: number;
  total: number;
  /** multiply-adds ×2, forward and backward (×3), over the epoch's samples */
  epochFlops: number;
}

export function estimateRun(s: TrainSettings, trainCount: number, image: readonly [number, number] = [28, 28]): RunEstimate {
  if (s.arch !== undefined) return estimateCnnRun(s, trainCount, image);
  const F = 4, sizes = s.sizes, classes = sizes[sizes.length - 1];
  let params = 0, macs = 0;
  for (let k = 0; k + 1 < sizes.length; k++) { params += sizes[k] * sizes[k + 1] + sizes[k + 1]; macs += sizes[k] * sizes[k + 1]; }
  const hidden = sizes.slice(1, -1).reduce((a, b) => a + b, 0);
  const rows = Math.min(s.batch, trainCount), samples = Math.min(trainCount, (s.steps ?? Infinity) * s.batch);
  const weights = 4 * params * F;
  const step = 2 * rows * (sizes[0] + 4 * (hidden + classes)) * F;
  // per hidden layer pre and post, the logits and the loss; each with its gradient
  const recording = s.record ? 2 * samples * (2 * hidden + classes + 1) * F : 0;
  return { weights, step, recording, total: weights + step + recording, epochFlops: 6 * samples * macs };
}

/** a CNN's estimate: the step holds every map and its gradient; the recording one value per channel */
function estimateCnnRun(s: TrainSettings, trainCount: number, [rows, cols]: readonly [number, number]): RunEstimate {
  const F = 4, layers = cnnLayersFor(s, rows, cols);
  const params = cnnParamCount(layers), macs = cnnMacs(layers);
  const batch = Math.min(s.batch, trainCount), samples = Math.min(trainCount, (s.steps ?? Infinity) * s.batch);
  let mapValues = rows * cols, units = 0;
  for (const l of layers) {
    const [c, ...rest] = l.outShape;
    // pre and post of a conv or linear layer, the pooled map; a feature map is recorded by its channels
    const n = l.kind === 'pool' ? 1 : 2;
    mapValues += n * l.outShape.reduce((a, b) => a * b, 1);
    units += n * (rest.length ? c : l.outShape[0]);
  }
  const weights = 4 * params * F;
  const step = 2 * batch * mapValues * F;
  const recording = s.record ? 2 * samples * (units + 1) * F : 0;
  return { weights, step, recording, total: weights + step + recording, epochFlops: 6 * samples * macs };
}

/** what a run is called in messages: 784-32-16-10, or the CNN's --arch text */
export const modelLabel = (s: TrainSettings): string => s.arch ?? s.sizes.join('-');

const gb = (bytes: number) => `${(bytes / 1e9).toFixed(bytes < 1e9 ? 2 : 1)} GB`;

/**
 * refuses (ConfigError) a run whose arrays would exceed MAX_RUN_BYTES, with the figure and what to
 * change; returns warnings for a run that will take much memory or time
 */
export function checkRunSize(s: TrainSettings, trainCount: number, image: readonly [number, number] = [28, 28]): string[] {
  const e = estimateRun(s, trainCount, image);
  const shape = modelLabel(s);
  if (e.total > MAX_RUN_BYTES) {
    const parts = [`weights ${gb(e.weights)}`, `a step ${gb(e.step)}`, ...(s.record ? [`recording ${gb(e.recording)}`] : [])];
    const fix = s.record && e.recording > e.total / 2 ? '--no-record keeps no activations' : e.step > e.total / 2 ? 'use a smaller --batch' : 'use smaller --hidden layers';
    throw new ConfigError(`a ${shape} model with batch ${s.batch} needs about ${gb(e.total)} (${parts.join(', ')}), over the limit of ${gb(MAX_RUN_BYTES)}: ${fix}`);
  }
  const warnings: string[] = [];
  if (e.total > WARN_RUN_BYTES) warnings.push(`warning: this run needs about ${gb(e.total)} of memory (${shape}, batch ${s.batch}${s.record ? ', recording on' : ''})`);
  if (e.epochFlops > WARN_EPOCH_FLOPS) {
    warnings.push(`warning: about ${(e.epochFlops / 1e12).toFixed(1)} TFLOP an epoch (${shape}): minutes per epoch on a CPU (the reference model is 0.01 TFLOP)`);
  }
  return warnings;
}

/** what identifies a run's training for its checkpoint: a checkpoint continues only the run it belongs to */
export function runIdentity(s: TrainSettings, trainCount: number, image: readonly [number, number] = [28, 28]): RunIdentity {
  const id: RunIdentity = {
    sizes: s.sizes, epochs: s.epochs, batch: s.batch, lr: s.lr, momentum: s.momentum, weightDecay: s.weightDecay,
    seed: s.seed, rng: s.rng, shuffle: s.shuffle, steps: s.steps ?? null, trainCount,
  };
  if (s.arch !== undefined) { id.arch = s.arch; id.inputShape = [1, image[0], image[1]]; }
  return id;
}

/** where the weights come from when not from the generator */
export interface StartFrom {
  /** weights to start from (a model.safetensors, PyTorch names); `file` names them in errors */
  init?: { layers: LayerParams[]; norms: NormParams[]; file: string };
  /** a checkpoint to continue: its weights, generator state, momentum and metrics */
  resume?: Checkpoint;
}

export interface Session {
  settings: TrainSettings;
  data: Mnist;
  model: Net;
  rng: Rng;
  plan: NormPlan;
  /** the first epoch to train (after a checkpoint's) */
  startEpoch: number;
  resume?: Checkpoint;
  /** what the user should know before it starts (memory, time): see checkRunSize */
  warnings: string[];
}

/**
 * the generator, the normalisation plan and the model. The model is always built from the generator (as
 * the notebooks do before load_state_dict), so the shuffling stream is the same with or without init
 * weights (normalisation layers draw nothing); a checkpoint then replaces weights and generator state.
 */
export function prepareSession(settings: TrainSettings, data: Mnist, backend: Backend, from: StartFrom = {}): Session {
  checkSettings(settings);
  // nothing is allocated for a run that cannot fit
  const image = [data.train.rows, data.train.cols] as const;
  const warnings = checkRunSize(settings, data.train.count, image);
  const pixels = data.train.rows * data.train.cols;
  if (settings.sizes[0] !== pixels) {
    throw new ConfigError(`the model takes ${settings.sizes[0]} inputs; the images have ${pixels} pixels (${data.train.rows}×${data.train.cols})`);
  }
  const rng = createRng(settings.rng, settings.seed);
  if (settings.arch !== undefined) return prepareCnn(settings, data, backend, from, rng, warnings);
  const norm = settings.norm;
  let plan: NormPlan;
  try {
    // 'computed' standardises with the training set's own pixel mean and std
    plan = resolveNorm({ ...norm, inputStats: norm.input === 'computed' ? pixelStats(data.train.images) : undefined }, settings.sizes.length - 2);
  } catch (e) { throw new ConfigError((e as Error).message); }
  let model = Mlp.init(settings.sizes, rng, backend, plan);
  if (from.resume) {
    // as they were when the checkpoint's epoch ended
    model = Mlp.fromParams(from.resume.layers, backend);
    rng.restore(from.resume.rng.state);
  } else if (from.init) {
    const { layers, norms, file } = from.init;
    const sizes = [layers[0].dIn, ...layers.map((l) => l.dOut)];
    if (sizes.join() !== settings.sizes.join()) {
      throw new InputError(file, `holds a ${sizes.join('-')} model; this run is ${settings.sizes.join('-')} (set --hidden ${sizes.slice(1, -1).join(',')})`);
    }
    try { model = Mlp.fromParams(layers, backend, { plan, norms }); } catch (e) {
      throw new InputError(file, `${(e as Error).message} (set --layernorm/--batchnorm as the file was trained)`);
    }
  }
  return { settings, data, model, rng, plan, startEpoch: from.resume ? from.resume.epoch + 1 : 0, resume: from.resume, warnings };
}

/** prepareSession for a CNN: PyTorch's initialisation, or --init weights (already checked against the spec), or a checkpoint */
function prepareCnn(settings: TrainSettings, data: Mnist, backend: Backend, from: StartFrom, rng: Rng, warnings: string[]): Session {
  const image = [1, data.train.rows, data.train.cols] as const, classes = settings.sizes[settings.sizes.length - 1];
  const spec = cnnSpec(settings);
  cnnLayersFor(settings, data.train.rows, data.train.cols);
  let model = Cnn.init(spec, image, classes, rng, backend);
  if (from.resume) {
    model = Cnn.fromParams(spec, image, classes, from.resume.layers, backend);
    rng.restore(from.resume.rng.state);
  } else if (from.init) {
    try { model = Cnn.fromParams(spec, image, classes, from.init.layers, backend); } catch (e) {
      throw new InputError(from.init.file, `${(e as Error).message} (this run is --arch ${settings.arch})`);
    }
  }
  return { settings, data, model, rng, plan: resolveNorm({}, 0), startEpoch: from.resume ? from.resume.epoch + 1 : 0, resume: from.resume, warnings };
}

/**
 * an epoch's metrics as the run keeps them, with (recording runs) the time its statistics took and what
 * the training thread waited for them, and the epoch's wall time on the training thread:
 * - statsSeconds: computing the statistics, where they ran (the helper thread's clock when they ran
 *   there, else this thread's; the device's kernels and read-back on webgpu), plus a CNN's probe (this thread)
 * - statsWaitSeconds: what the training thread spent on them: all of the computing when they run inline;
 *   off the thread, the time it waited for the result (0 when it came while the next epoch trained)
 * - wallSeconds: the training thread from the end of the previous epoch to the end of this one (the
 *   steps, the evaluation, the statistics or the wait for them, the files saved meanwhile)
 */
export type EpochRow = EpochMetrics & { statsSeconds?: number; statsWaitSeconds?: number; wallSeconds?: number };

/** where a run's products go as they are made: files in a run directory, or messages to a page */
export interface RunSink {
  /** the training set's pixel statistics (recording runs, before the first epoch) */
  inputStats?(stats: InputStats): void | Promise<void>;
  /**
   * an epoch's statistics of every recorded tensor; `file`, when given, is their file's bytes: the UTF-8 of
   * JSON.stringify(stats) and a newline (made on the helper thread)
   */
  epochStats?(stats: EpochStats, file?: Uint8Array): void | Promise<void>;
  /**
   * the same file's bytes alone, for a sink that only writes them: where the statistics are made on a
   * helper thread, this is called instead of epochStats, and only the bytes come across
   */
  epochStatsFile?(epoch: number, file: Uint8Array): void | Promise<void>;
  /** everything needed to continue after this epoch bit for bit (plain models only: normalisation state is not in it) */
  checkpoint?(ckpt: Checkpoint): void | Promise<void>;
  /** the weights after `epoch` (−1: before the first; not again when resuming), for the analyses through training */
  snapshot?(epoch: number, layers: LayerParams[], norms: NormParams[]): void | Promise<void>;
  /** the epoch is complete (its statistics and checkpoint handed over first); `history` is every epoch so far */
  epochDone?(row: EpochRow, history: readonly EpochRow[]): void | Promise<void>;
}

export interface SessionEvents {
  /** every step (the fused GPU step reports its steps as they are encoded); loss only where reading it is free */
  onStep?(info: StepInfo): void;
  /** an epoch's metrics, as soon as it is evaluated (before its statistics and checkpoint are saved) */
  onEpoch?(row: EpochRow): void;
  /** the epoch's products are with the sink */
  onEpochSaved?(epoch: number): void;
  /** checked when an epoch ends: when aborted, training stops there (that epoch kept) and the run is evaluated as it is */
  signal?: AbortSignal;
}

export interface SessionResult {
  /** every epoch's metrics, those of a checkpoint's run first */
  history: EpochRow[];
  /** the trained model on the test split (null when not asked for) */
  final: Evaluation | null;
  /** stopped early by the signal */
  cancelled: boolean;
}

/** thrown from onEpoch to leave train() at an epoch's end when the caller aborts */
class StopAtEpochEnd extends Error {}

/**
 * what computes an epoch's statistics off the training thread: a HelperThread (engine/threads.ts). One whose
 * `fallback` says its calls run here (MLP_LENS_THREADS=1) changes nothing: each epoch is saved at its end.
 */
export type StatsThread = Pick<HelperThread, 'call'> & { readonly fallback?: string | null };

/** analysis/epoch-stats.ts as the helper thread imports it */
const epochStatsModule = (): string => taskModule(import.meta.url, '../analysis/epoch-stats');
const TOUCH_TASK = { url: taskModule(import.meta.url, '../engine/pages'), fn: 'touchPages', local: touchPages };

/** the host record alone, as it crosses to a worker (a webgpu record's `device` handle does not) */
const hostRecord = (r: EpochRecord): EpochRecord => {
  const { device: _device, ...host } = r;
  return host;
};

/**
 * trains the session's model in place. A DivergenceError (mlp/train.ts) or GpuDeviceError propagates:
 * the sink has had every completed epoch and checkpoint by then.
 *
 * With `opts.statsThread` (a recording run on the cpu, or webgpu with the statistics on the host) epoch
 * e's statistics are computed there while epoch e+1 trains: the recorder keeps two sets of slots (shared
 * memory, read in place by the worker) and the epoch's products go to the sink when its statistics are
 * back, at the end of epoch e+1 or of the run, in the same order as without one (statistics, checkpoint,
 * snapshot, metrics; the weights and generator state read at epoch e's end). A failure in the statistics
 * is thrown from there. So the files lag one epoch behind the training: a run killed during epoch e+1
 * resumes after epoch e−1 (epoch e's checkpoint never goes out without its statistics), and
 * onEpochSaved(e) comes at the end of epoch e+1 (an abort it signals stops the run after epoch e+1).
 * Without it (the page, MLP_LENS_THREADS=1) each epoch's statistics are computed and saved at its end.
 */
export async function trainSession(
  session: Session, sink: RunSink = {}, events: SessionEvents = {},
  /** evaluate: false leaves `final` null (the page evaluates its host copy of the weights instead); statsThread: see above */
  opts: { evaluate?: boolean; statsThread?: StatsThread } = {},
): Promise<SessionResult> {
  const { settings: s, data, model, rng, plan } = session;
  const backend = model.backend;
  const classes = model.classes;
  // statistics kernels read the slots where they are: no raw read-back unless the host loops are asked for
  const statsOnDevice = backend.name === 'webgpu' && !s.statsOnHost;
  const thread = s.record && !statsOnDevice && !opts.statsThread?.fallback ? opts.statsThread : undefined;
  const statsTask = { url: epochStatsModule(), fn: 'computeEpochStatsTimed', local: computeEpochStatsTimed };
  const statsFileTask = { url: epochStatsModule(), fn: 'epochStatsFileTimed', local: epochStatsFileTimed };
  // (a CNN's probe is added to the statistics here: then they come across whole)
  const bytesOnly = !!thread && !!sink.epochStatsFile && model.kind !== 'cnn';
  // the worker starts and loads the statistics' module now, while this thread computes the input
  // statistics and trains the first epoch (a call with an empty record)
  if (thread) thread.call(statsTask, [{ epoch: 0, count: 0, labels: new Uint8Array(0), indices: new Uint32Array(0), acts: {}, grads: {} }, { classes }]).catch(() => {});
  const history: EpochRow[] = session.resume ? [...session.resume.history] : [];
  if (sink.snapshot && !session.resume) await sink.snapshot(-1, await model.export(), await model.exportNorms());
  const identity = runIdentity(s, data.train.count, [data.train.rows, data.train.cols]);
  const checkpointing = isPlain(plan) && !!sink.checkpoint;
  // end of the previous epoch (its saving, inline): wallSeconds spans the whole epoch, recording and statistics included
  let epochMark = performance.now();
  // the saving of the epoch whose statistics are on the helper thread (at most one: its slots are
  // recorded into again by the epoch after next)
  let unsaved: (() => Promise<void>) | null = null;
  const saveUnsaved = async () => {
    const save = unsaved;
    unsaved = null;
    await save?.();
  };
  let cancelled = false;
  try {
    await train(model, data, rng, {
      epochs: s.epochs, batch: s.batch, lr: s.lr, momentum: s.momentum, weightDecay: s.weightDecay,
      shuffle: s.shuffle, steps: s.steps, record: s.record, fused: s.fused,
      startEpoch: session.startEpoch, velocity: session.resume?.velocity,
      recordOnDevice: statsOnDevice,
      // inline, each record is done with (statistics saved) before the next epoch begins; on the helper
      // thread it is read while the next epoch records into the other set
      reuseRecordSlots: thread ? 'double' : true,
    }, {
      onStep: events.onStep,
      // the slots' page faults taken on the helper thread, not in the first epochs here (engine/pages.ts)
      onRecordSlots: thread ? (buffers) => { if (buffers.length) thread.call(TOUCH_TASK, [buffers]).catch(() => {}); } : undefined,
      // the input statistics once the step engine is set up: the fused CPU step has the split's sparse
      // rows built by then, which computeInputStats reads instead of the ≈ 5× as many bytes (0.15 → 0.05 s)
      onReady: s.record && !session.resume ? async () => { await sink.inputStats?.(computeInputStats(data.train, { firstN: 1000, bins: 30 })); } : undefined,
      onEpoch: async (m, record, state) => {
        const row: EpochRow = m;
        events.onEpoch?.(row);
        history.push(row);
        const upTo = history.length;
        // the statistics: on the helper thread (started now, awaited when the epoch is saved), WGSL kernels
        // and one read-back on webgpu (analysis/epoch-stats-gpu.ts), or loops here
        let result: Promise<{ stats: EpochStats; seconds: number; file?: Uint8Array }> | null = null;
        let bytes: Promise<{ epoch: number; seconds: number; file: Uint8Array }> | null = null;
        let probe: ProbeStats | undefined, probeSeconds = 0, inlineSeconds = 0;
        if (record) {
          const t0 = performance.now(), statsOpts = { classes, firstBatch: s.batch };
          if (bytesOnly) {
            bytes = thread!.call(statsFileTask, [hostRecord(record), statsOpts]);
            // failures are thrown where the result is awaited
            bytes.catch(() => {});
          } else if (thread) {
            // the file's bytes made there too (a CNN's probe is added here, after: then they are made again)
            result = thread.call(statsTask, [hostRecord(record), { ...statsOpts, file: !!sink.epochStats && model.kind !== 'cnn' }]);
            result.catch(() => {});
          } else {
            const stats = record.device && statsOnDevice ? await computeEpochStatsOnDevice(record.device, statsOpts) : (await computeEpochStatsTimed(record, statsOpts)).stats;
            inlineSeconds = (performance.now() - t0) / 1000;
            result = Promise.resolve({ stats, seconds: inlineSeconds });
          }
          record.device?.release();
          // a CNN's maps position by position, on the fixed probe through this epoch's weights
          if (model.kind === 'cnn') {
            const t1 = performance.now();
            probe = await measureProbe(model, data.train);
            probeSeconds = (performance.now() - t1) / 1000;
          }
        }
        // one read of the weights for the checkpoint and the snapshot, now: the next epoch changes them
        const layers = checkpointing || sink.snapshot ? await model.export() : [];
        const velocity = checkpointing ? await state.velocity() : [];
        const rngState = checkpointing ? rng.state() : null;
        const norms = sink.snapshot ? await model.exportNorms() : [];
        const save = async () => {
          if (bytes) {
            const t0 = performance.now();
            const { epoch, seconds, file } = await bytes;
            row.statsSeconds = seconds;
            row.statsWaitSeconds = (performance.now() - t0) / 1000;
            await sink.epochStatsFile!(epoch, file);
          }
          if (result) {
            const t0 = performance.now();
            const { stats, seconds, file } = await result;
            if (probe) stats.probe = probe;
            row.statsSeconds = seconds + probeSeconds;
            row.statsWaitSeconds = thread ? (performance.now() - t0) / 1000 : inlineSeconds + probeSeconds;
            await sink.epochStats?.(stats, probe ? undefined : file);
          }
          const saved = history.slice(0, upTo);
          if (checkpointing) {
            await sink.checkpoint!({ epoch: m.epoch, layers, velocity, rng: { kind: s.rng, state: rngState! }, history: saved, run: identity });
          }
          if (sink.snapshot) await sink.snapshot(m.epoch, layers, norms);
          if (!thread) row.wallSeconds = (performance.now() - epochMark) / 1000;
          await sink.epochDone?.(row, saved);
          if (!thread) epochMark = performance.now();
          events.onEpochSaved?.(m.epoch);
        };
        if (thread) {
          // the previous epoch's statistics came in while this one trained (or are waited for now)
          await saveUnsaved();
          unsaved = save;
          row.wallSeconds = (performance.now() - epochMark) / 1000;
          epochMark = performance.now();
        } else {
          await save();
        }
        if (events.signal?.aborted && m.epoch < s.epochs - 1) {
          await saveUnsaved();
          throw new StopAtEpochEnd();
        }
      },
    });
  } catch (e) {
    if (!(e instanceof StopAtEpochEnd)) {
      // the sink gets every completed epoch before the error propagates (the error that stopped the run
      // wins over one in saving the last epoch)
      await saveUnsaved().catch(() => {});
      throw e;
    }
    cancelled = true;
  }
  // the final evaluation while the helper thread computes the last epoch's statistics, then they are saved
  let final: Evaluation | null;
  try {
    final = opts.evaluate === false ? null : await evaluate(model, data.test, { fused: s.fused });
  } catch (e) {
    await saveUnsaved().catch(() => {});
    throw e;
  }
  await saveUnsaved();
  return { history, final, cancelled };
}
