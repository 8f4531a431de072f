// the page's worker: MNIST, the model, training, statistics and every analysis live here, off the main
// thread, so the page stays responsive while an epoch runs. Training is the run layer's session
// (run/session.ts: the CLI's training, statistics and stopping, with this worker as its sink) on WebGPU
// (navigator.gpu in the worker, software adapters accepted; run/backend.ts) or on the CPU backend when
// there is no adapter; each finished epoch posts its metrics and statistics (computed on the device on
// WebGPU, one read-back per epoch), and within an epoch a few running points of the training loss and
// accuracy (live-steps.ts: on WebGPU an 8-byte read every ≈ 50 steps, none per step). The weights before training and after
// every epoch are kept in memory (the session's snapshot hook; a few hundred KB each for the reference
// model); after training, analyzeThroughTraining looks at them all. The explorer's questions are answered
// on a CPU copy of the trained weights, or of any kept epoch's (the same numbers as the command line's analyses).
import type { Backend } from '../../engine/backend.ts';
import { cpu } from '../../engine/cpu.ts';
import { dispose } from '../../engine/memory.ts';
import { GpuDeviceError } from '../../engine/webgpu.ts';
import { meanPerClass } from '../../analysis/class-means.ts';
import type { EpochStats } from '../../analysis/epoch-stats.ts';
import { cacheImages, imagesFromSplit, layerName, widthOf, type LabelledImages, type NamedHost } from '../../analysis/forward-cache.ts';
import { buildFigures, type RunResults } from '../../analysis/figures/index.ts';
import type { InputStats } from '../../analysis/input-stats.ts';
import { analyzeNeuron } from '../../analysis/intervention.ts';
import { oneHotMaps } from '../../analysis/onehot-maps.ts';
import { pca } from '../../analysis/pca.ts';
import type { Projection } from '../../analysis/projection.ts';
import { analyzeThroughTraining } from '../../analysis/through-training.ts';
import type { ThroughTraining } from '../../analysis/through-training-types.ts';
import { compactSvg, renderSvg, reportHtml, scopeSvgIds } from '../../analysis/report.ts';
import { saliencyMaps } from '../../analysis/saliency.ts';
import { selectivityPerClass } from '../../analysis/selectivity.ts';
import {
  NOTEBOOK_ORDERINGS, NOTEBOOK_SUBSETS, runPostTrainingSuite, toJsonValue, type PostTrainingResults,
} from '../../analysis/suite.ts';
import type { Checkpoint } from '../../mlp/checkpoint.ts';
import { InputError } from '../../mlp/errors.ts';
import type { Mnist } from '../../mlp/mnist.ts';
import { Mlp } from '../../mlp/model.ts';
import { Cnn } from '../../mlp/cnn.ts';
import { mlpOnly, type Net } from '../../mlp/net.ts';
import { decodeNet, encodeNet } from '../../mlp/net-file.ts';
import { noGrad, Tensor } from '../../engine/tensor.ts';
import {
  describeNorm, isPlain, NORM_METADATA_KEY, planToJson, resolveNorm, type NormPlan,
} from '../../mlp/norm.ts';
import { evaluate } from '../../mlp/train.ts';
import { adapterName, pickBackend } from '../../run/backend.ts';
import { checkSettings, prepareSession, trainSession, type EpochRow, type TrainSettings } from '../../run/session.ts';
import { encodeModel, encodeModelWithNorm, type LayerParams, type NormParams } from '../../mlp/weights.ts';
import { runKernels } from '../../bench/kernels-run.ts';
import { fetchMnist } from './data.ts';
import { liveSampler } from './live-steps.ts';
import { networkView, viewBuffers, type NetworkView } from './network-data.ts';
import type {
  CnnReport, DataSummary, DeviceDescription, FileResult, ModelSummary, NeuronReport, PausedRun, Replies, Reply, Request, TrainMode,
  WebConfig, WorkerEvent,
} from './protocol.ts';

const scope = globalThis as unknown as {
  postMessage(m: unknown, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent) => void) | null;
};
const emit = (e: WorkerEvent, transfer: Transferable[] = []) => scope.postMessage(e, transfer);
const status = (text: string) => emit({ event: 'status', text });

// ---------- state

let data: Promise<Mnist> | null = null;
let gpu: Promise<{ backend: Backend; device: DeviceDescription }> | null = null;

/** one set of weights the explorer answers for, with what it computed on them */
interface ModelView {
  /** the weights on the CPU backend (the MLP's neuron explorer, or a CNN's filters and maps) */
  model: Net;
  /** the test split's images as floats, and every named activation of them (made on first use) */
  cache?: Promise<{ images: LabelledImages; acts: NamedHost }>;
  oneHot: Map<number, Promise<{ target: string; value: number; maps: { shape: number[]; data: Float32Array } }>>;
}

/** the weights after one epoch (−1: before training), as the session's snapshot hook hands them over */
interface Snapshot { epoch: number; layers: LayerParams[]; norms: NormParams[] }

interface Current extends ModelView {
  summary: ModelSummary;
  plan: NormPlan;
  config: WebConfig | null;
  device: DeviceDescription | null;
  stats: EpochStats[];
  input: InputStats | null;
  suite?: Promise<PostTrainingResults>;
  /** every epoch's weights, ascending ([] for an uploaded model or when too large to keep) */
  snapshots: Snapshot[];
  /** the explorer's models of earlier epochs, built on first use (the last epoch is `model` itself) */
  views: Map<number, ModelView>;
  through?: Promise<ThroughTraining>;
}

/** the most memory the kept weights of a run may take; a larger run keeps none (and says so) */
const SNAPSHOT_BUDGET_BYTES = 256 * 2 ** 20;
/** the explorer's models of earlier epochs kept at once (each with its test-set activations, ≈ 1–5 MB for small models) */
const MAX_VIEWS = 6;
let current: Current | null = null;
let busy: string | null = null;
/** the running training's stop: it ends at the current epoch's end (run/session.ts), the model kept */
let stopping: AbortController | null = null;
/**
 * what the page asked of the running training: end it (stop) or pause it at the current epoch's end. Set by
 * a request that comes while training, even before the session has started (its controller is aborted then)
 */
let halt: 'stop' | 'pause' | null = null;

/**
 * a run paused at an epoch's end: everything to continue it bit for bit (the session's checkpoint of that
 * epoch: weights, momentum, generator state, history) and what the page has of it so far
 */
interface Paused {
  cfg: WebConfig;
  settings: TrainSettings;
  ckpt: Checkpoint;
  stats: EpochStats[];
  input: InputStats | null;
  snapshots: Snapshot[];
  /** seconds of training so far */
  seconds: number;
}
let paused: Paused | null = null;

/** the network view: the latest epoch's weights while a run trains or is paused (a CPU copy), and its chosen test image */
let liveWeights: { model: Net; epoch: number } | null = null;
let liveImage = 0;

// ---------- data and device

function ensureData(): Promise<Mnist> {
  data ??= (async () => {
    const t0 = performance.now();
    let last = 0;
    const m = await fetchMnist(undefined, (loaded, total) => {
      const now = performance.now();
      if (now - last > 150 || loaded === total) {
        last = now;
        status(`loading MNIST: ${(loaded / 1e6).toFixed(1)} of ${(total / 1e6).toFixed(1)} MB`);
      }
    });
    status(`MNIST loaded: ${m.train.count} training and ${m.test.count} test images in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return m;
  })();
  data.catch(() => { data = null; });
  return data;
}

/** WebGPU on any adapter (software ones too), else the CPU backend, saying why (run/backend.ts) */
function webBackend(mode: WebConfig['device']): Promise<{ backend: Backend; device: DeviceDescription }> {
  if (mode === 'cpu') return Promise.resolve({ backend: cpu, device: { backend: 'cpu', text: 'CPU backend (chosen in the configuration)' } });
  gpu ??= (async () => {
    const picked = await pickBackend('webgpu', { fallback: true });
    if (!picked.device) {
      // acquireDevice's message: a first line, "Tried:", one line per attempt, then install advice for Node
      const lines = (picked.fellBack ?? '').split('\n').map((l) => l.trim()).filter(Boolean);
      const tried = lines.filter((l) => /^navigator\.gpu/.test(l));
      const why = tried.length ? tried.join('; ') : lines[0];
      return { backend: cpu, device: { backend: 'cpu', text: `CPU backend: this browser offers no WebGPU adapter (${why})` } as DeviceDescription };
    }
    const { info, device } = picked.device;
    // a lost device (driver reset, tab in the background for long) is acquired again next time
    device.lost.then(() => { gpu = null; });
    return {
      backend: picked.backend,
      device: {
        backend: 'webgpu', software: info.software, adapter: { ...info },
        text: `WebGPU: ${adapterName(info)} (${info.featureLevel}, ${info.software ? 'software adapter: correct but slow' : 'hardware'})`,
      },
    } as { backend: Backend; device: DeviceDescription };
  })();
  return gpu;
}

// ---------- training

/** the page's settings as the run layer's (run/session.ts checks them); the page's own limits first */
function trainSettings(c: WebConfig, m: Mnist): TrainSettings {
  if (c.arch !== undefined) {
    // a CNN: its spec (checked by the run layer), no normalisation options (the page disables them)
    const settings: TrainSettings = {
      sizes: [m.train.rows * m.train.cols, 10], arch: c.arch, epochs: c.epochs, batch: c.batch, lr: c.lr, momentum: c.momentum,
      weightDecay: c.weightDecay, seed: c.seed, rng: c.rng, shuffle: c.shuffle, steps: c.steps, record: c.record, fused: true, norm: {},
    };
    checkSettings(settings);
    return settings;
  }
  if (!Array.isArray(c.hidden) || c.hidden.length < 1 || c.hidden.length > 8) throw new RangeError('hidden sizes: give 1 to 8 layer sizes, e.g. 32,16');
  if (c.hidden.some((h) => h > 4096)) throw new RangeError('hidden sizes above 4096 are not supported in the page');
  const n = c.norm;
  const settings: TrainSettings = {
    sizes: [m.train.rows * m.train.cols, ...c.hidden, 10], epochs: c.epochs, batch: c.batch, lr: c.lr, momentum: c.momentum,
    weightDecay: c.weightDecay, seed: c.seed, rng: c.rng, shuffle: c.shuffle, steps: c.steps, record: c.record, fused: true,
    norm: {
      input: n.input, layernorm: n.layernorm === 'none' ? undefined : n.layernorm,
      batchnorm: n.batchnorm === 'none' ? undefined : n.batchnorm, dropout: n.dropout, seed: c.seed,
    },
  };
  checkSettings(settings);
  return settings;
}

/**
 * trains a new run (from: null) or continues a paused one from its checkpoint (prepareSession's resume: the
 * same weights, momentum, generator state and history, so the result is the uninterrupted run's bit for
 * bit). mode 'step': one epoch, then paused again. A run paused by the page (halt 'pause') answers a
 * PausedRun and is kept in `paused`; one that ends answers its ModelSummary.
 */
async function doTrain(cfg: WebConfig, mode: TrainMode, from: Paused | null): Promise<ModelSummary | PausedRun> {
  const m = await ensureData();
  const settings = from ? from.settings : trainSettings(cfg, m);
  const { backend, device } = await webBackend(cfg.device);
  emit({ event: 'device', device });
  const session = prepareSession(settings, m, backend, from ? { resume: from.ckpt } : {});
  const { model, plan, settings: { sizes } } = session;
  const stats: EpochStats[] = from ? from.stats : [];
  let input: InputStats | null = from ? from.input : null, epochStats: EpochStats | null = null;
  // every epoch's weights (and the initial ones), when all of them fit the budget
  const params = model.params().reduce((sum, p) => sum + p.tensor.size, 0);
  const keep = 4 * params * (cfg.epochs + 1) <= SNAPSHOT_BUDGET_BYTES;
  const snapshots: Snapshot[] = from ? from.snapshots : [];
  const snapshotsNote = keep ? undefined
    : `the weights of every epoch are not kept: ${cfg.epochs + 1} × ${(4 * params / 2 ** 20).toFixed(1)} MiB is over the page's ${SNAPSHOT_BUDGET_BYTES / 2 ** 20} MiB`;
  stopping = new AbortController();
  // a step pauses after its epoch; a stop or pause asked before the session started ends its first epoch
  if (mode === 'step') halt = 'pause';
  if (halt) stopping.abort();
  // the last epoch's checkpoint (plain models: the session hands one over after every epoch)
  let ckpt: Checkpoint | null = from ? from.ckpt : null;
  let lastProgress = 0, stopped = false, history: EpochRow[] = [];
  const live = liveSampler((point) => emit({ event: 'live', point }));
  const t0 = performance.now(), before = from ? from.seconds : 0;
  const label = model.kind === 'cnn' ? model.arch : sizes.join('-');
  status(from
    ? `continuing ${label} after epoch ${from.ckpt.epoch + 1} of ${cfg.epochs}${mode === 'step' ? ': one epoch' : ''}…`
    : `training ${label}, ${mode === 'step' ? `one epoch of ${cfg.epochs}` : `${cfg.epochs} epoch${cfg.epochs === 1 ? '' : 's'}`}…`);
  try {
    const result = await trainSession(session, {
      inputStats: (s) => { input = s; },
      epochStats: (s) => { stats.push(s); epochStats = s; },
      checkpoint: (c) => { ckpt = c; },
      // export() gives fresh host copies: kept as they are
      snapshot: keep ? (epoch, layers, norms) => { snapshots.push({ epoch, layers, norms }); } : undefined,
      epochDone: async (metrics) => {
        emit({ event: 'epoch', metrics, stats: epochStats, input: metrics.epoch === 0 ? input : null });
        epochStats = null;
        await liveNetwork(model, plan, metrics.epoch, keep ? snapshots[snapshots.length - 1] : null);
        // a turn of the event loop before the session looks at the signal: a Pause or Stop sent during the
        // epoch is received here even where the epoch never yields (the CPU backend's steps are synchronous)
        await new Promise((ok) => setTimeout(ok, 0));
      },
    }, {
      // step counts, and a few running points an epoch (live-steps.ts: on WebGPU a small read every ≈ 50 steps, none per step)
      onStep: (info) => {
        const { epoch, step, steps, samples } = info, now = performance.now();
        if (step === 0 || step === steps - 1 || now - lastProgress > 100) {
          lastProgress = now;
          emit({ event: 'progress', epoch, step: step + 1, steps, samples, epochs: cfg.epochs });
        }
        live.onStep(info);
      },
      signal: stopping.signal,
    }, { evaluate: false });
    stopped = result.cancelled;
    history = result.history;
  } catch (e) {
    if (e instanceof GpuDeviceError) gpu = null;
    else if (backend !== cpu) dispose(...model.params().map((p) => p.tensor));
    throw e;
  } finally {
    stopping = null;
  }
  const pausedCkpt = ckpt as Checkpoint | null;
  if (stopped && halt === 'pause' && pausedCkpt) {
    // paused: the checkpoint is all a continuation needs; the device copy is given back
    if (backend !== cpu) dispose(...model.params().map((p) => p.tensor));
    const seconds = before + (performance.now() - t0) / 1000;
    paused = { cfg, settings, ckpt: pausedCkpt, stats, input, snapshots, seconds };
    // the page's model is this run now (its explorer comes when the run ends)
    current = null;
    status(`paused after epoch ${pausedCkpt.epoch + 1} of ${cfg.epochs}: Play continues the run, Step trains one more epoch`);
    return { paused: true, epoch: pausedCkpt.epoch, epochs: cfg.epochs, history, seconds };
  }
  // the analyses and exports work on a CPU copy; the device copy is given back
  const host = hostCopy(model, await model.export(), plan, await model.exportNorms());
  if (backend !== cpu) dispose(...model.params().map((p) => p.tensor));
  const test = await evaluate(host, m.test);
  const summary: ModelSummary = {
    source: 'trained', kind: host.kind, arch: archOf(host), name: `mlp-lens ${label} seed ${cfg.seed}`, sizes,
    widths: host.kind === 'mlp' ? cfg.hidden : [], norm: describePlan(plan),
    test: { loss: test.loss, accuracy: test.accuracy, perClass: test.perClass }, history, stopped,
    snapshots: snapshots.map((s) => s.epoch), snapshotsNote, seconds: before + (performance.now() - t0) / 1000,
  };
  current = { summary, model: host, plan, config: cfg, device, stats, input, oneHot: new Map(), snapshots, views: new Map() };
  status(`trained: test accuracy ${test.accuracy.toFixed(2)} % after ${history.length} epoch${history.length === 1 ? '' : 's'} (${summary.seconds.toFixed(1)} s)`);
  return summary;
}

const describePlan = (plan: NormPlan) => (isPlain(plan) ? 'none' : describeNorm(plan));

/** a CPU model of `model`'s kind holding `layers` (and, for an MLP, its normalisation) */
function hostCopy(model: Net, layers: LayerParams[], plan: NormPlan, norms: NormParams[]): Net {
  return model.kind === 'cnn' ? Cnn.fromParams(model.spec, model.input, model.classes, layers, cpu) : Mlp.fromParams(layers, cpu, { plan, norms });
}

/** the architecture as --arch writes it */
const archOf = (model: Net) => (model.kind === 'cnn' ? model.arch : `mlp:${model.sizes.slice(1, -1).join(',')}`);

// ---------- an uploaded model.safetensors

async function doUpload(name: string, bytes: Uint8Array): Promise<ModelSummary> {
  const m = await ensureData();
  const t0 = performance.now();
  // either kind: a CNN is told by its tensors (conv layers) and its architecture by the file's metadata (mlp/net-file.ts)
  let model: Net;
  try { model = decodeNet(bytes, name).model; } catch (e) { throw e instanceof InputError ? e : new InputError(name, (e as Error).message); }
  const d = m.test.rows * m.test.cols;
  if (model.inputSize !== d) throw new InputError(name, `takes ${model.inputSize} inputs; MNIST images have ${d} pixels`);
  if (model.kind === 'cnn' && model.input.join() !== `1,${m.test.rows},${m.test.cols}`) {
    throw new InputError(name, `takes ${model.input.join('×')} input maps; MNIST images are 1×${m.test.rows}×${m.test.cols}`);
  }
  if (model.classes !== 10) throw new InputError(name, `has ${model.classes} outputs; MNIST has 10 classes`);
  const sizes = model.kind === 'cnn' ? [d, model.classes] : model.sizes.slice();
  const plan = model.kind === 'cnn' ? resolveNorm({}, 0) : model.plan;
  const test = await evaluate(model, m.test);
  const summary: ModelSummary = {
    source: 'uploaded', kind: model.kind, arch: archOf(model), name, sizes, widths: model.kind === 'mlp' ? sizes.slice(1, -1) : [], norm: describePlan(plan),
    test: { loss: test.loss, accuracy: test.accuracy, perClass: test.perClass }, history: [], snapshots: [],
    seconds: (performance.now() - t0) / 1000,
  };
  current = { summary, model, plan, config: null, device: null, stats: [], input: null, oneHot: new Map(), snapshots: [], views: new Map() };
  status(`${name}: ${model.kind === 'cnn' ? model.arch : sizes.join('-')} model, test accuracy ${test.accuracy.toFixed(2)} %`);
  return summary;
}

// ---------- the explorer

function need(): Current {
  if (!current) throw new Error('no model yet: train one or upload a model.safetensors');
  return current;
}

function snapshotOf(c: Current, epoch: number): Snapshot {
  const s = c.snapshots.find((x) => x.epoch === epoch);
  if (!s) {
    const kept = c.snapshots.map((x) => x.epoch);
    throw new RangeError(`no weights of epoch ${epoch}: ${kept.length ? `this model kept epochs ${kept[0]}…${kept[kept.length - 1]} (−1: before training)` : 'this model kept none'}`);
  }
  return s;
}

/**
 * the weights the explorer answers for: the model as trained (epoch absent, or the last kept epoch,
 * which holds the same weights) or a CPU model built from that epoch's snapshot, cached per epoch
 */
function viewAt(c: Current, epoch: number | undefined): ModelView {
  if (epoch === undefined || epoch === c.snapshots[c.snapshots.length - 1]?.epoch) return c;
  let v = c.views.get(epoch);
  if (v) {
    // most recently used last
    c.views.delete(epoch);
    c.views.set(epoch, v);
    return v;
  }
  const s = snapshotOf(c, epoch);
  v = { model: hostCopy(c.model, s.layers, c.plan, s.norms), oneHot: new Map() };
  c.views.set(epoch, v);
  while (c.views.size > MAX_VIEWS) c.views.delete(c.views.keys().next().value!);
  return v;
}

async function testCache(c: ModelView) {
  c.cache ??= (async () => {
    const m = await ensureData();
    const images = imagesFromSplit(m.test);
    const { acts } = await cacheImages(c.model, images, { grads: [] });
    return { images, acts };
  })();
  return c.cache;
}

const order = (v: readonly number[]) => v.map((x, i) => [x, i] as const).sort((a, b) => (Number.isFinite(b[0]) ? b[0] : -Infinity) - (Number.isFinite(a[0]) ? a[0] : -Infinity)).map(([, i]) => i);

async function doNeuron(layer: number, neuron: number, image: number, epoch?: number): Promise<NeuronReport> {
  const t0 = performance.now(), c = viewAt(need(), epoch);
  const model = mlpOnly(c.model, 'the neuron explorer'), target = layerName(model, layer, 'post'), width = widthOf(model, target);
  if (!Number.isInteger(neuron) || neuron < 0 || neuron >= width) throw new RangeError(`neuron ${neuron}: ${target} has neurons 0..${width - 1}`);
  const { images, acts } = await testCache(c);
  if (!Number.isInteger(image) || image < 0 || image >= images.count) throw new RangeError(`test image ${image}: the test set has images 0..${images.count - 1}`);
  const classes = model.sizes[model.sizes.length - 1];
  const means = meanPerClass(acts[target]!, images.labels, classes);
  const scores = selectivityPerClass(means, 1e-3);
  const selectivity = scores.map((row) => row[neuron]);
  const mostSelective = scores.map((row) => order(row)[0]);
  const analysis = await analyzeNeuron(model, layer, neuron, images, [0, 3], 30);
  const d = images.dim;
  const sal = await saliencyMaps(model, layer, images.x.subarray(image * d, (image + 1) * d), { neurons: [neuron] });
  const logits = acts.logits!.data.subarray(image * classes, (image + 1) * classes);
  let predicted = 0;
  for (let k = 1; k < classes; k++) if (logits[k] > logits[predicted]) predicted = k;
  let maps = c.oneHot.get(layer);
  if (!maps) c.oneHot.set(layer, (maps = oneHotMaps(model, layer)));
  const oh = await maps;
  return {
    epoch: epoch ?? null, layer, neuron, target, selectivity, classMeans: means.map((row) => row[neuron]), topClasses: order(selectivity).slice(0, 3), mostSelective,
    health: health(acts[target]!.data, width, neuron),
    analysis, saliency: { ...sal, index: image, label: images.labels[image], predicted },
    oneHot: { target: oh.target, value: oh.value, map: oh.maps.data.slice(neuron * d, (neuron + 1) * d) },
    seconds: (performance.now() - t0) / 1000,
  };
}

/** one neuron's column of a [rows, width] activation: how often it fires, its mean and extremes, dead when constant */
function health(data: ArrayLike<number>, width: number, neuron: number): NeuronReport['health'] {
  const rows = Math.floor(data.length / width);
  let active = 0, sum = 0, min = Infinity, max = -Infinity;
  for (let i = 0; i < rows; i++) {
    const v = data[i * width + neuron];
    if (v > 0) active++;
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { images: rows, active: rows ? active / rows : 0, mean: rows ? sum / rows : 0, min, max, dead: rows > 0 && max === min };
}

async function doPca(layer: number, epoch?: number): Promise<Replies['pca']> {
  const t0 = performance.now(), c = viewAt(need(), epoch);
  mlpOnly(c.model, 'the PCA of a layer');
  const target = layerName(c.model, layer, 'post'), width = widthOf(c.model, target);
  const { images, acts } = await testCache(c);
  const p = pca(acts[target]!, 2);
  const projection: Projection = {
    method: 'pca', neurons: Array.from({ length: width }, (_, j) => j), rows: Uint32Array.from({ length: images.count }, (_, i) => i),
    labels: images.labels, embedding: p.projected, explainedVarianceRatio: p.explainedVarianceRatio, seconds: (performance.now() - t0) / 1000,
  };
  return { epoch: epoch ?? null, layer, target, projection, seconds: (performance.now() - t0) / 1000 };
}

/**
 * a CNN on one test image: the first conv layer's filters (layers.0.W) and every feature map (each conv
 * layer's pre, post and pool), from model.forward on that image alone, on the CPU copy of the weights
 */
async function doCnn(image: number, epoch?: number): Promise<CnnReport> {
  const t0 = performance.now(), c = viewAt(need(), epoch), model = c.model;
  if (model.kind !== 'cnn') throw new Error(`feature maps take a CNN; this is an MLP (${model.sizes.join('-')})`);
  const m = await ensureData(), split = m.test, d = model.inputSize;
  if (!Number.isInteger(image) || image < 0 || image >= split.count) throw new RangeError(`test image ${image}: the test set has images 0..${split.count - 1}`);
  const x = Float32Array.from(split.images.subarray(image * d, (image + 1) * d), (v) => v / 255);
  const acts = noGrad(() => model.forward(Tensor.from(x, [1, d], { backend: model.backend })));
  // the feature maps: every name whose per-sample shape is [C, H, W], in model order
  const names = model.actNames().filter((n) => n !== 'input' && n !== 'logits' && n !== 'loss' && model.unitShape(n).length === 3);
  const maps = [];
  for (const name of names) maps.push({ name, shape: model.unitShape(name), data: Float32Array.from(await acts[name]!.read()) });
  const logits = Array.from(await acts.logits!.read());
  const top = Math.max(...logits), e = logits.map((v) => Math.exp(v - top)), z = e.reduce((a, b) => a + b, 0);
  const first = model.layers[0];
  return {
    epoch: epoch ?? null, image, label: split.labels[image], predicted: logits.indexOf(top), probabilities: e.map((v) => v / z),
    filters: { name: 'layers.0.W', shape: [...first.W.shape], weights: Float32Array.from(await first.W.read()), bias: Float32Array.from(await first.b.read()) },
    maps, seconds: (performance.now() - t0) / 1000,
  };
}

// ---------- the network view (web/src/network-data.ts)

/**
 * at an epoch's end while training: the chosen test image through this epoch's weights (a CPU copy, from the
 * snapshot's host copy when kept, else one read of the weights), sent as a `network` event
 */
async function liveNetwork(model: Net, plan: NormPlan, epoch: number, s: Snapshot | null): Promise<void> {
  try {
    const layers = s ? s.layers : await model.export(), norms = s ? s.norms : await model.exportNorms();
    liveWeights = { model: hostCopy(model, layers, plan, norms), epoch };
    const v = await networkView(liveWeights.model, (await ensureData()).test, liveImage, { epoch, live: true });
    emit({ event: 'network', view: v }, viewBuffers(v));
  } catch (e) {
    status(`network view: ${(e as Error).message}`);
  }
}

/** the network view on request: the running (or paused) run's latest weights, else the model's (or a kept epoch's) */
async function doNetwork(image: number, epoch?: number): Promise<NetworkView> {
  liveImage = image;
  const split = (await ensureData()).test;
  if ((busy === 'training' || paused || !current) && liveWeights) return networkView(liveWeights.model, split, image, { epoch: liveWeights.epoch, live: true });
  return networkView(viewAt(need(), epoch).model, split, image, { epoch: epoch ?? null, live: false });
}

// ---------- through training

/** analyzeThroughTraining on every kept epoch's weights, once per trained model */
function throughTraining(c: Current): Promise<ThroughTraining> {
  c.through ??= (async () => {
    if (c.model.kind === 'cnn') throw new Error('the analyses through training take an MLP; this is a CNN');
    if (c.snapshots.length < 2) {
      throw new Error(c.summary.source === 'uploaded' ? 'an uploaded model has no weights of earlier epochs'
        : c.summary.snapshotsNote ?? 'fewer than two epochs\' weights were kept');
    }
    const m = await ensureData();
    const t0 = performance.now();
    status(`analysing the weights of ${c.snapshots.length} epochs (init and ${c.snapshots.length - 1} after training epochs)…`);
    // each epoch's own CPU model: the same Mlp the command line builds from RUN/snapshots/
    const snapshots = c.snapshots.map((s) => ({ epoch: s.epoch, model: Mlp.fromParams(s.layers, cpu, { plan: c.plan, norms: s.norms }) }));
    const r = await analyzeThroughTraining(snapshots, m.test, { log: (line) => status(line.trim()) });
    status(`through training: ${r.epochs.length} epochs analysed on ${r.sample.rows.length} test images in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return r;
  })();
  c.through.catch(() => { c.through = undefined; });
  return c.through;
}

// ---------- downloads

/** the post-training suite of the CLI (same defaults), run once per model */
async function suiteOf(c: Current): Promise<PostTrainingResults> {
  c.suite ??= (async () => {
    const m = await ensureData(), model = mlpOnly(c.model, 'the page\'s post-training analyses');
    const layer = model.hidden - 1, notebookLayer = model.sizes[layer + 1] === 16;
    status('running the post-training analyses (the command line\'s suite)…');
    const r = await runPostTrainingSuite(model, m.test, {
      layer, subsets: notebookLayer ? NOTEBOOK_SUBSETS : undefined, orderings: notebookLayer ? NOTEBOOK_ORDERINGS : undefined,
      log: (line) => status(`analyses: ${line}`),
    });
    status(`post-training analyses done (${Object.values(r.timings).reduce((a, b) => a + b, 0).toFixed(1)} s)`);
    return r;
  })();
  c.suite.catch(() => { c.suite = undefined; });
  return c.suite;
}

function runConfig(c: Current): Record<string, unknown> {
  const cfg = c.config;
  return {
    sizes: c.summary.sizes, ...(c.summary.kind === 'cnn' ? { arch: c.summary.arch } : {}), normPlan: c.plan, ...(cfg ? {
      epochs: cfg.epochs, batch: cfg.batch, lr: cfg.lr, momentum: cfg.momentum, weightDecay: cfg.weightDecay, seed: cfg.seed,
      rng: cfg.rng, shuffle: cfg.shuffle, steps: cfg.steps ?? null, record: cfg.record, deviceOption: cfg.device,
    } : { source: `uploaded ${c.summary.name}` }),
    device: c.device, runtime: { runtime: 'browser', userAgent: (globalThis as { navigator?: { userAgent?: string } }).navigator?.userAgent ?? '' },
  };
}

async function doFile(kind: 'model' | 'results' | 'report', epoch?: number): Promise<FileResult> {
  const c = need(), t0 = performance.now();
  const enc = new TextEncoder();
  const done = (name: string, mime: string, bytes: Uint8Array): FileResult => ({ name, mime, bytes, seconds: (performance.now() - t0) / 1000 });
  if (kind === 'model' && epoch !== undefined) {
    // a kept epoch's weights, named as the command line's RUN/snapshots/ names them (run/snapshots.ts)
    const s = snapshotOf(c, epoch);
    const meta: Record<string, string> = { epoch: String(epoch), ...(c.config ? { seed: String(c.config.seed), rng: c.config.rng } : {}) };
    const bytes = c.model.kind === 'cnn' ? encodeNet(c.model, s.layers, [], meta) : isPlain(c.plan) ? encodeModel(s.layers, meta) : encodeModelWithNorm(s.layers, s.norms, { ...meta, [NORM_METADATA_KEY]: planToJson(c.plan) });
    return done(epoch < 0 ? 'init.safetensors' : `epoch-${String(epoch).padStart(3, '0')}.safetensors`, 'application/octet-stream', bytes);
  }
  if (kind === 'model') {
    const params = await c.model.export();
    const meta: Record<string, string> = c.config ? { seed: String(c.config.seed), rng: c.config.rng } : {};
    // a CNN: PyTorch's conv1/conv2/linear1/output names and the architecture in the metadata (mlp/net-file.ts)
    const bytes = c.model.kind === 'cnn' ? encodeNet(c.model, params, [], meta) : isPlain(c.plan)
      ? encodeModel(params, meta)
      : encodeModelWithNorm(params, await c.model.exportNorms(), { ...meta, [NORM_METADATA_KEY]: planToJson(c.plan) });
    return done('model.safetensors', 'application/octet-stream', bytes);
  }
  if (c.model.kind === 'cnn') throw new Error(`${kind === 'results' ? 'results.json' : 'report.html'} is made for an MLP in the page; for a CNN run use the command line's analyses`);
  const m = await ensureData();
  const results = await suiteOf(c);
  const { activations: _acts, ...saved } = results;
  const metrics = { status: 'done', epochs: c.summary.history, test: c.summary.test };
  if (kind === 'results') {
    const json = {
      format: 'mlp-lens/web-results', version: 1, name: c.summary.name, stopped: !!c.summary.stopped,
      config: runConfig(c), metrics, stats: { input: c.input, epochs: c.stats }, analysis: toJsonValue(saved),
    };
    return done('results.json', 'application/json', enc.encode(JSON.stringify(json) + '\n'));
  }
  status('drawing the report…');
  const r: RunResults = {
    name: c.summary.name, config: runConfig(c), metrics, stats: c.stats.length ? c.stats : undefined,
    input: c.input ?? undefined, analysis: saved, test: m.test,
  };
  const set = buildFigures(r);
  const svgs = new Map<string, string>();
  for (const f of set.figures) svgs.set(f.id, scopeSvgIds(compactSvg(await renderSvg(f.spec)), `f-${f.id}`));
  const notes = ['Made in the browser page: the figures\' data links point to the files of a run directory, which this download does not include (results.json holds the same data).'];
  const html = reportHtml(r, set, svgs, { notes, generated: new Date().toISOString().slice(0, 19).replace('T', ' ') });
  status(`report: ${set.figures.length} figures`);
  return done('report.html', 'text/html', enc.encode(html));
}

// ---------- dispatch

async function handle(req: Request): Promise<{ result: unknown; transfer?: Transferable[] }> {
  switch (req.op) {
    case 'load': {
      const t0 = performance.now();
      const m = await ensureData();
      const testImages = m.test.images.slice(), testLabels = m.test.labels.slice();
      const r: DataSummary = {
        trainCount: m.train.count, testCount: m.test.count, rows: m.test.rows, cols: m.test.cols, testImages, testLabels,
        seconds: (performance.now() - t0) / 1000,
      };
      return { result: r, transfer: [testImages.buffer, testLabels.buffer] };
    }
    case 'stop':
    case 'pause': {
      // at the current epoch's end; asked before the session has started, at its first epoch's end
      if (busy !== 'training') return { result: { stopping: false } };
      halt = req.op;
      stopping?.abort();
      return { result: { stopping: true } };
    }
    case 'train':
    case 'resume':
    case 'upload': {
      if (busy) throw new Error(`busy: ${busy}`);
      const from = req.op === 'resume' ? paused : null;
      if (req.op === 'resume' && !from) throw new Error('no paused run to continue');
      busy = req.op === 'upload' ? 'reading the model' : 'training';
      halt = null;
      try {
        if (req.op === 'upload') return { result: await doUpload(req.name, req.bytes) };
        // a new run discards a paused one; a continued one is paused again only if asked
        paused = null;
        if (req.op === 'train') liveWeights = null;
        const cfg = req.op === 'train' ? req.config : from!.cfg;
        return { result: await doTrain(cfg, req.mode ?? 'play', from) };
      } finally { busy = null; halt = null; }
    }
    case 'reset':
      // the untrained state: the paused run and the model are discarded
      if (busy) throw new Error(`busy: ${busy}`);
      paused = null;
      current = null;
      liveWeights = null;
      status('reset: no model; the settings apply to the next run');
      return { result: { reset: true } };
    case 'neuron': return { result: await doNeuron(req.layer, req.neuron, req.image, req.epoch) };
    case 'pca': return { result: await doPca(req.layer, req.epoch) };
    case 'network': {
      const v = await doNetwork(req.image, req.epoch);
      return { result: v, transfer: viewBuffers(v) };
    }
    case 'cnn': {
      const r = await doCnn(req.image, req.epoch);
      return { result: r, transfer: [r.filters.weights.buffer as ArrayBuffer, r.filters.bias.buffer as ArrayBuffer, ...r.maps.map((x) => x.data.buffer as ArrayBuffer)] };
    }
    case 'through': return { result: await throughTraining(need()) };
    case 'kernels': {
      // the same code as `node bench/kernels.js [--quick] --no-tfjs`, on its own device from this worker's adapter
      if (busy) throw new Error(`busy: ${busy}`);
      busy = 'timing kernels';
      try {
        return { result: await runKernels({ quick: req.quick, tfjs: false, log: (text) => emit({ event: 'kernels', text }) }) };
      } finally { busy = null; }
    }
    case 'file': {
      const f = await doFile(req.kind, req.epoch);
      return { result: f, transfer: [f.bytes.buffer as ArrayBuffer] };
    }
  }
}

scope.onmessage = (e: MessageEvent) => {
  const { id, ...req } = e.data as Request & { id: number };
  handle(req as Request).then(
    ({ result, transfer }) => scope.postMessage({ id, ok: true, result } satisfies Reply, transfer ?? []),
    (err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      scope.postMessage({ id, ok: false, error: message } satisfies Reply);
    },
  );
};
status('worker ready');
