// The fused GPU step engine of the plain ReLU MLP (no normalisation, no dropout, SGD): whole steps run
// inside one workgroup, many per dispatch (engine/fused-train-steps.ts, the WGSL in shaders/train-steps.ts),
// on one state buffer that holds the parameters, momentum buffers, gradients, the epoch's loss/accuracy
// totals and finiteness flags, plus one record buffer for every named activation and gradient. Nothing is
// read back inside an epoch: at its end the parameters are copied into the model's tensors, the record
// regions into the recorder's device slots, and the totals and flags come back in one read.
// pickStepEngine() (mlp/step-engine.ts) takes this engine on the webgpu backend where it applies, as it
// takes mlp/fused-cpu.ts on the cpu; TrainOptions.fused = false (`--no-fused`, MLP_LENS_FAST=0 in the CLI)
// keeps the generic autograd step, the reference this one is tested against (test/mlp/fused-gpu.test.ts).
import type { Backend } from '../engine/backend.ts';
import { keep } from '../engine/memory.ts';
import type { WebGpuBackend } from '../engine/webgpu.ts';
import { Tensor } from '../engine/tensor.ts';
import { deviceInfo } from '../engine/device.ts';
import {
  dispatchTrainSteps, warmTrainSteps, loopIterationsPerStep, rowTableWords, type TrainStepsConfig, type TrainStepsLayout, trainStepsLayout,
} from '../engine/fused-train-steps.ts';
import type { Mlp } from './model.ts';
import type { Split } from './mnist.ts';
import type { ActName, ParamName } from './names.ts';
import { isPlain } from './norm.ts';
import { deviceSplit } from './device-split.ts';
import { firstFlaggedMask } from './finite.ts';
import type { Recorder } from './recorder.ts';
import type { EpochTotals, StepEngine } from './step-engine.ts';
import type { StepInfo } from './train.ts';
import { sparseRows } from './fused-cpu.ts';

/**
 * invocations of the one workgroup: 256 on a GPU (the engine asks every device for that many); 64 on
 * Mesa's rasterisers, which run a workgroup on one CPU thread in 8-lane chunks, so fewer chunks idle
 * through short loops (4.6 vs 5.2 ms a reference step on llvmpipe, docs in README "Speed")
 */
const threadsFor = (backend: WebGpuBackend): number => (gallivm(backend) ? 64 : 256);
/** finiteness bits per step: the mask travels as an f32 integer, exact below 2^24 */
const MAX_CHECKED = 24;
/** steps per dispatch at most: few enough that no dispatch runs long (browsers kill a GPU task after seconds) */
export const STEPS_PER_DISPATCH = 64;
/** loop iterations one invocation may run per dispatch on Mesa's llvmpipe/lavapipe (65 535, less a margin) */
const GALLIVM_LOOP_LIMIT = 60000;

/** whether the adapter is one of Mesa's gallivm rasterisers, whose loop limiter ends long invocations */
function gallivm(backend: WebGpuBackend): boolean {
  const i = deviceInfo(backend.device);
  const text = i ? `${i.vendor} ${i.architecture} ${i.device} ${i.description}` : '';
  // unknown devices (made outside acquireDevice) are treated as limited: the cost is a few more dispatches
  return !i || /llvmpipe|lavapipe|mesa|softpipe/i.test(text) || (i.software && !/swiftshader/i.test(text));
}

/** steps one dispatch may run on `backend` (0: not even one step fits the loop limiter); `rowNonzeros`: the split's most nonzero pixels in a row */
export function stepsPerDispatch(config: TrainStepsConfig, backend: WebGpuBackend, wanted = STEPS_PER_DISPATCH, rowNonzeros?: number): number {
  if (!gallivm(backend)) return wanted;
  return Math.min(wanted, Math.floor(GALLIVM_LOOP_LIMIT / loopIterationsPerStep(config, rowNonzeros)));
}

/** the most nonzero pixels in one row of the split */
function maxRowNonzeros(split: Split): number {
  const { rowptr } = sparseRows(split);
  let most = 0;
  for (let r = 0; r + 1 < rowptr.length; r++) most = Math.max(most, rowptr[r + 1] - rowptr[r]);
  return most;
}

export interface FusedGpuOptions {
  batch: number;
  lr: number;
  momentum?: number;
  weightDecay?: number;
  /** momentum buffers to start from, one per parameter in model.params() order (null: none yet) */
  velocity?: readonly (Float32Array | null)[];
  /** fill the record buffer (every named activation and gradient, Σ g² per step and parameter) */
  record: boolean;
  /** rows of each record slot (the samples of an epoch) */
  recordRows: number;
  /** steps per epoch */
  steps: number;
  /** steps per dispatch (default STEPS_PER_DISPATCH; fewer where the adapter's loop limiter needs it) */
  stepsPerDispatch?: number;
}

const isWebGpu = (b: Backend): b is WebGpuBackend => b.name === 'webgpu';

/** the fused step's shape for `model` at `batch` on its device, or a reason it does not apply */
function configFor(model: Mlp, split: Split, opts: Pick<FusedGpuOptions, 'batch' | 'momentum' | 'weightDecay' | 'record' | 'recordRows' | 'steps'>): TrainStepsConfig | string {
  const backend = model.layers[0].W.backend;
  if (!isWebGpu(backend)) return 'not the webgpu backend';
  if (!isPlain(model.plan)) return 'normalisation or dropout';
  if (model.layers.some((l) => l.W.dtype !== 'f32' || l.b.dtype !== 'f32')) return 'not f32';
  if (model.sizes[0] !== split.rows * split.cols) return 'input width differs from the images';
  const limits = backend.device.limits;
  const config: TrainStepsConfig = {
    sizes: model.sizes, batch: opts.batch, threads: threadsFor(backend),
    momentum: !!opts.momentum, weightDecay: !!opts.weightDecay, record: opts.record,
    recordRows: opts.recordRows, steps: opts.steps, workgroupBytes: limits.maxComputeWorkgroupStorageSize,
    count: split.count,
  };
  const lay = trainStepsLayout(config);
  if (stepsPerDispatch(config, backend, STEPS_PER_DISPATCH, maxRowNonzeros(split)) < 1) return 'a step runs more loop iterations than the adapter allows one invocation';
  if (lay.checked.length > MAX_CHECKED) return `more than ${MAX_CHECKED} checked tensors`;
  // the per-step row tables live in workgroup memory
  if (4 * rowTableWords(opts.batch) > limits.maxComputeWorkgroupStorageSize) return 'batch too large for workgroup memory';
  // the epoch table's entries keep the row of the batch in 8 bits
  if (opts.batch > 256) return 'batch over 256';
  // the sparse rows' words: a column in 16 bits
  if (model.sizes[0] > 65536) return 'more than 65 536 input columns';
  // the epoch table holds at most every stored pixel of the split once (epochTable)
  const table = split.count + opts.steps * (model.sizes[0] + 1) + sparseRows(split).idx.length;
  if (4 * Math.max(lay.words, lay.recordWords, table) > limits.maxStorageBufferBindingSize) return 'state, record or epoch table over the binding limit';
  return config;
}

/** whether the fused GPU step can train `model` on `split` with these options */
export function fusedGpuApplies(model: Mlp, split: Split, opts: Pick<FusedGpuOptions, 'batch' | 'momentum' | 'weightDecay' | 'record' | 'recordRows' | 'steps'>): boolean {
  return typeof configFor(model, split, opts) !== 'string';
}

export interface FusedGpuTotals {
  /** Σ per-sample loss over the epoch's steps (f32) */
  loss: number;
  correct: number;
  /** per step, the bits of the tensors (lay.checked order) that held a NaN or ±Inf */
  masks: Float32Array;
}

// a split's sparse rows on a device, uploaded once (the split keeps them while it lives)
const sparseOnDevice = new WeakMap<Split, Map<Backend, Tensor>>();

/** the split's images as one u32 table: N + 1 row starts, then column | byte << 16 per nonzero pixel */
function deviceSparse(split: Split, backend: Backend): Tensor {
  let perBackend = sparseOnDevice.get(split);
  const cached = perBackend?.get(backend);
  if (cached) return cached;
  const { rowptr, idx, val } = sparseRows(split);
  const words = new Uint32Array(rowptr.length + idx.length);
  words.set(rowptr);
  for (let e = 0, at = rowptr.length; e < idx.length; e++) words[at + e] = idx[e] | (val[e] << 16);
  // the words travel as f32 bits (at most 24 bits set: small denormals, never a NaN to canonicalise)
  const t = Tensor.from(new Float32Array(words.buffer), [words.length], { backend });
  keep(t);
  if (!perBackend) sparseOnDevice.set(split, (perBackend = new Map()));
  perBackend.set(backend, t);
  return t;
}

/**
 * the epoch's table for the kernel's binding 3, u32 words: the order [N]; then per step (`steps` slots)
 * the batch's first-layer input by columns, d0 + 1 column starts into the entries; then the entries,
 * row in the batch | byte << 8, each column's rows ascending. Built on the host with the permutation
 * (≈ 9 M entries an epoch for MNIST), so the weight gradient needs no scatter on the device.
 */
export function epochTable(split: Split, order: Uint32Array, steps: number, batch: number, d0: number): Uint32Array {
  const { rowptr, idx, val } = sparseRows(split);
  const N = order.length, rows = Math.min(N, steps * batch);
  let total = 0;
  for (let i = 0; i < rows; i++) total += rowptr[order[i] + 1] - rowptr[order[i]];
  const colBase = N, entBase = N + steps * (d0 + 1);
  const words = new Uint32Array(entBase + total);
  words.set(order);
  const cursor = new Uint32Array(d0 + 1);
  let at = 0;
  for (let s = 0; s * batch < rows; s++) {
    const start = s * batch, n = Math.min(batch, N - start), cp = colBase + s * (d0 + 1);
    cursor.fill(0);
    for (let r = 0; r < n; r++) {
      const row = order[start + r];
      for (let p = rowptr[row]; p < rowptr[row + 1]; p++) cursor[idx[p] + 1]++;
    }
    words[cp] = at;
    for (let k = 0; k < d0; k++) words[cp + k + 1] = words[cp + k] + cursor[k + 1];
    for (let k = 0; k < d0; k++) cursor[k] = words[cp + k];
    for (let r = 0; r < n; r++) {
      const row = order[start + r];
      for (let p = rowptr[row]; p < rowptr[row + 1]; p++) words[entBase + cursor[idx[p]]++] = r | (val[p] << 8);
    }
    at = words[cp + d0];
  }
  return words;
}

export class FusedGpuTrainer {
  readonly layout: TrainStepsLayout;
  /** names of the finiteness bits: activations in model order, then the parameters */
  readonly checkedNames: string[];
  private readonly backend: WebGpuBackend;
  private readonly state: Tensor;
  private readonly rec: Tensor | null;
  private readonly sparse: Tensor;
  private readonly labels: Tensor;
  private readonly lut: Tensor;
  private vReady: boolean;
  private readonly rowNonzeros: number;
  /** the epoch table (epochTable) on the device */
  private order: Tensor | null = null;
  /** steps each dispatch of encodeEpoch runs */
  readonly stepsPerDispatch: number;

  private constructor(
    private readonly model: Mlp, private readonly config: TrainStepsConfig, private readonly opts: FusedGpuOptions,
    private readonly split: Split, data: { labels: Tensor; lut: Tensor },
  ) {
    this.backend = model.layers[0].W.backend as WebGpuBackend;
    this.layout = trainStepsLayout(config);
    this.checkedNames = this.layout.checked;
    ({ labels: this.labels, lut: this.lut } = data);
    const backend = this.backend;
    this.sparse = deviceSparse(split, backend);
    this.rowNonzeros = maxRowNonzeros(split);
    this.stepsPerDispatch = stepsPerDispatch(config, backend, opts.stepsPerDispatch, this.rowNonzeros);
    this.state = Tensor.zeros([this.layout.words], { backend });
    this.rec = config.record ? Tensor.zeros([Math.max(1, this.layout.recordWords)], { backend }) : null;
    keep(this.state, ...(this.rec ? [this.rec] : []));
    const v = opts.velocity;
    this.vReady = !!v && v.some((x) => x);
    if (v && this.layout.params.some((q) => q.v < 0) && this.vReady) throw new Error('fused-gpu: momentum buffers given without momentum');
    if (this.vReady) {
      // every buffer or none: the kernel starts all of them together
      if (v!.some((x) => !x)) throw new Error('fused-gpu: some momentum buffers missing (all parameters step together)');
      v!.forEach((x, k) => {
        const up = Tensor.from(x!, [x!.length], { backend });
        backend.copyInto(up.storage, this.state.storage, this.layout.params[k].v, x!.length);
        backend.release(up.storage);
      });
    }
  }

  /** the trainer for `model` on `split`; `data`: the split's labels and pixel table on the device (mlp/device-split.ts) */
  static create(model: Mlp, split: Split, data: { labels: Tensor; lut: Tensor }, opts: FusedGpuOptions): FusedGpuTrainer {
    const config = configFor(model, split, opts);
    if (typeof config === 'string') throw new Error(`fused-gpu: does not apply: ${config}`);
    return new FusedGpuTrainer(model, config, opts, split, data);
  }

  /**
   * encodes steps [0, steps) of an epoch in `order` (the parameters are copied in from the model's
   * tensors first: a parameter assigned between epochs counts); calls onStep after each step is encoded
   */
  encodeEpoch(order: Uint32Array, steps: number, onStep?: (step: number, samples: number) => void): void {
    const { backend } = this;
    this.copyParams('in');
    this.order?.backend.release(this.order.storage);
    const table = epochTable(this.split, order, this.config.steps, this.opts.batch, this.config.sizes[0]);
    // u32 words as f32 bits: every word is below 2^24 (a small float, never a NaN to canonicalise)
    this.order = Tensor.from(new Float32Array(table.buffer), [table.length], { backend });
    keep(this.order);
    const per = this.stepsPerDispatch;
    const bound = [this.sparse, this.labels, this.lut, this.order, this.state, ...(this.rec ? [this.rec] : [])].map((t) => t.storage);
    for (let s0 = 0; s0 < steps; s0 += per) {
      const k = Math.min(per, steps - s0);
      dispatchTrainSteps(backend, this.config, {
        step0: s0, steps: k, count: order.length, vReady: this.vReady, first: s0 === 0,
        lr: this.opts.lr, momentum: this.opts.momentum ?? 0, weightDecay: this.opts.weightDecay ?? 0,
      }, bound);
      this.vReady ||= !!this.opts.momentum;
      backend.flush();
      for (let s = s0; s < s0 + k; s++) onStep?.(s, Math.min(order.length, (s + 1) * this.opts.batch));
    }
    this.copyParams('out');
  }

  /**
   * the epoch's running loss sum and right answers as they will be after the work encoded so far: a read
   * of the state's first words queued behind it, so nothing waits (the promise settles when the device gets
   * there). For live updates within an epoch, a few per epoch (see FusedGpuStep.runSteps)
   */
  peek(): Promise<{ lossSum: number; correct: number }> {
    const lay = this.layout;
    return this.state.backend.read(this.state.storage, Math.max(lay.loss, lay.correct) + 1, 'f32')
      .then((head) => ({ lossSum: head[lay.loss], correct: head[lay.correct] }));
  }

  /** the step kernel built before the first step (off the GPU's main thread where the browser can): the page keeps painting */
  warm(): Promise<void> {
    return warmTrainSteps(this.backend, this.config);
  }

  /** the epoch's totals and flags: one read */
  async totals(steps: number): Promise<FusedGpuTotals> {
    const lay = this.layout;
    const head = await this.state.backend.read(this.state.storage, lay.flags + steps, 'f32');
    return { loss: head[lay.loss], correct: head[lay.correct], masks: Float32Array.from(head.subarray(lay.flags, lay.flags + steps)) };
  }

  /** hands the epoch's record to the recorder: its slots filled on the device, labels and indices on the host */
  record(recorder: Recorder, split: Split, order: Uint32Array, steps: number): void {
    if (!this.rec) throw new Error('fused-gpu: record() of a trainer made without record');
    const rows = Math.min(order.length, steps * this.opts.batch);
    for (let start = 0; start < rows; start += this.opts.batch) {
      const idx = order.subarray(start, Math.min(rows, start + this.opts.batch));
      recorder.recordRows(start, Array.from(idx, (i) => split.labels[i]), idx);
    }
    for (const e of this.layout.record) {
      recorder.copySlot(e.name as ActName, 'acts', this.rec, e.act, rows);
      recorder.copySlot(e.name as ActName, 'grads', this.rec, e.grad, rows);
    }
    const names = this.model.params().map((p) => p.name as ParamName);
    recorder.copyParamSquares(names, steps, this.state, this.layout.squares);
  }

  /** the momentum buffers now (null for every parameter before the first step, or without momentum) */
  async velocity(): Promise<(Float32Array | null)[]> {
    if (!this.vReady || this.layout.params[0].v < 0) return this.layout.params.map(() => null);
    const all = await this.state.read();
    return this.layout.params.map((q) => Float32Array.from(all.subarray(q.v, q.v + q.size)));
  }

  /** gives the trainer's device buffers back */
  dispose(): void {
    for (const t of [this.state, this.rec, this.order]) if (t) t.backend.release(t.storage);
    this.order = null;
  }

  private copyParams(dir: 'in' | 'out'): void {
    const { backend } = this;
    this.model.params().forEach(({ tensor }, k) => {
      const q = this.layout.params[k];
      if (dir === 'in') backend.copyInto(tensor.storage, this.state.storage, q.at, q.size);
      else backend.copyInto(this.state.storage, tensor.storage, 0, q.size, q.at);
    });
  }
}

// --- the step engine

/** the label of the fused GPU step for `model` on `split` (fusedGpuApplies must hold): how many steps a dispatch runs */
export function fusedGpuLabel(model: Mlp, split: Split, opts: FusedGpuOptions): string {
  const config = configFor(model, split, opts);
  if (typeof config === 'string') throw new Error(`fused-gpu: does not apply: ${config}`);
  const per = stepsPerDispatch(config, model.layers[0].W.backend as WebGpuBackend, opts.stepsPerDispatch, maxRowNonzeros(split));
  return `fused step, ${per} steps a dispatch`;
}

/** FusedGpuStep's share of the run: where to record, whether to check finiteness */
export interface FusedGpuRun { recorder: Recorder | null; checkFinite: boolean }

/**
 * the fused GPU step as a StepEngine (mlp/step-engine.ts): the whole epoch encoded in a few dispatches by
 * runSteps (onStep as each step is encoded, without a loss: reading it would stall), then the record handed
 * to the recorder; the totals and the finiteness masks in endEpoch's one read
 */
export class FusedGpuStep implements StepEngine {
  readonly label: string;
  readonly steps: number;
  private readonly trainer: FusedGpuTrainer;
  private readonly paramNames: ReadonlySet<string>;
  private epoch = 0;
  private order: Uint32Array = new Uint32Array(0);
  /** an error a live read (StepInfo.peek) met: thrown by endEpoch */
  private peekError: unknown = null;

  constructor(model: Mlp, private readonly split: Split, private readonly opts: FusedGpuOptions, private readonly run: FusedGpuRun) {
    this.label = fusedGpuLabel(model, split, opts);
    this.steps = opts.steps;
    this.paramNames = new Set<string>(model.params().map((p) => p.name));
    this.trainer = FusedGpuTrainer.create(model, split, deviceSplit(split, model.layers[0].W.backend), opts);
  }

  beginEpoch(epoch: number, order: Uint32Array): void {
    this.epoch = epoch;
    this.order = order;
  }

  runSteps(onStep?: (info: StepInfo) => void): void {
    const { epoch, order, steps, trainer } = this;
    const per = trainer.stepsPerDispatch;
    this.peekError = null;
    trainer.encodeEpoch(order, steps, (step, seen) => {
      // the last step of a dispatch (already flushed): the running totals may be read there, queued behind
      // it — never per step; the caller decides how often (the page: every ≈ 50 steps)
      const boundary = (step + 1) % per === 0 || step === steps - 1;
      onStep?.({
        epoch, step, steps, samples: seen,
        peek: boundary ? () => trainer.peek().then(
          (t) => ({ loss: t.lossSum / seen, accuracy: (100 * t.correct) / seen }),
          // a device error seen by this read is the epoch's: endEpoch throws it
          (e: unknown) => { this.peekError ??= e; throw e; },
        ) : undefined,
      });
    });
    if (this.run.recorder) trainer.record(this.run.recorder, this.split, order, steps);
  }

  async endEpoch(): Promise<EpochTotals> {
    const totals = await this.trainer.totals(this.steps);
    // the live reads were queued before this one: settled by now
    if (this.peekError) throw this.peekError;
    if (this.run.checkFinite) firstFlaggedMask(totals.masks, this.trainer.checkedNames, this.paramNames, this.epoch);
    return { lossSum: totals.loss, correct: totals.correct, samples: Math.min(this.split.count, this.steps * this.opts.batch) };
  }

  velocity(): Promise<(Float32Array | null)[]> { return this.trainer.velocity(); }

  /** builds the step kernel before the first step (pickStepEngine waits for it) */
  warm(): Promise<void> { return this.trainer.warm(); }

  dispose(): void { this.trainer.dispose(); }
}
