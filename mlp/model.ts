// the MLP: d_in → hidden… → n_classes with ReLU, weights stored [d_in, d_out] so the forward pass
// reads x.matmul(W).add(b). forward() returns every named intermediate; backward fills their grads.
// Optional normalisation (mlp/norm.ts): input standardisation, LayerNorm or BatchNorm1d before or after
// a hidden layer's ReLU, dropout after it. The model has a mode, as torch modules do: train() (dropout on,
// BatchNorm on batch statistics, updating its running ones) and eval() (dropout off, BatchNorm on the
// running statistics). NOTE: unlike torch, a model starts in eval mode: analyses call forward()
// directly, and the training loop switches to train mode for its steps.
import type { Backend } from '../engine/backend.ts';
import { cpu } from '../engine/cpu.ts';
import { batchNormEval, batchNormTrain, dropout, layerNorm, mean } from '../engine/composite.ts';
import { add, linear, scale, softmaxCrossEntropy } from '../engine/ops/index.ts';
import type { Rng } from '../engine/rng.ts';
import { noGrad, Tensor } from '../engine/tensor.ts';
import { keep } from '../engine/memory.ts';
import { mlpInit } from './init.ts';
import { type ActName, dropName, normName, type ParamName, postName, preName } from './names.ts';
import { isNormPlan, type NormConfig, type NormKind, type NormPlan, resolveNorm } from './norm.ts';
import { transpose, type LayerParams, type NormParams } from './weights.ts';

export interface Layer { W: Tensor /* [d_in, d_out] */; b: Tensor /* [d_out] */ }

/** a hidden layer's LayerNorm or BatchNorm1d: affine weight and bias [d]; BatchNorm's running statistics [d] */
export interface NormLayer {
  kind: NormKind;
  weight: Tensor;
  bias: Tensor;
  runningMean?: Tensor;
  runningVar?: Tensor;
  /** BatchNorm: training forward passes so far (torch's num_batches_tracked) */
  batches: number;
}

/** the named tensors of one forward pass, in model order; `loss` is per sample [batch] */
export type Acts = Partial<Record<ActName, Tensor>>;

/** replaces a named tensor as soon as it is computed (ablation, scaling): the only intervention mechanism */
export type Replacements = Partial<Record<ActName, (t: Tensor) => Tensor>>;

/** the normalisation of a model being built: a config or a resolved plan, and saved parameters for its layers */
export interface NormSpec { plan?: NormConfig | NormPlan; norms?: readonly NormParams[] }

export class Mlp {
  readonly kind = 'mlp';
  /** train mode: dropout on, BatchNorm on batch statistics (see train()/eval()) */
  training = false;
  /** training forward passes with dropout so far: the `step` of the dropout masks' key */
  dropoutStep = 0;
  /** input standardisation as x·(1/std) + shift, shift = −mean/std [d_in]; null without */
  private readonly inputShift: Tensor | null;

  private constructor(
    readonly sizes: readonly number[], readonly layers: Layer[],
    /** the resolved normalisation (every field defaulted; plainPlan for the reference model) */
    readonly plan: NormPlan,
    /** per hidden layer, its normalisation layer or null [hidden] */
    readonly norms: (NormLayer | null)[],
    backend: Backend,
  ) {
    const s = plan.input;
    this.inputShift = s ? Tensor.from(new Float32Array(sizes[0]).fill(-s.mean / s.std), [sizes[0]], { backend }) : null;
    // a constant of the model: it outlives any tidy() the model is built in
    if (this.inputShift) keep(this.inputShift);
  }

  /** PyTorch's nn.Linear default initialisation, drawn in the notebooks' construction order; norms start at γ 1, β 0 (no draws) */
  static init(sizes: readonly number[], rng: Rng, backend: Backend = cpu, norm: NormConfig | NormPlan = {}): Mlp {
    return Mlp.fromParams(mlpInit(rng, [...sizes]).map(({ weight, bias }, k) => ({
      W: transpose(weight, sizes[k + 1], sizes[k]), b: bias, dIn: sizes[k], dOut: sizes[k + 1],
    })), backend, { plan: norm });
  }

  /**
   * a model holding copies of the given parameters (e.g. from model.safetensors). `norm.plan` places
   * the normalisation; `norm.norms` gives values for its layers (the others start at γ 1, β 0, running
   * mean 0 and variance 1); a saved layer the plan does not have is an error.
   */
  static fromParams(params: readonly LayerParams[], backend: Backend = cpu, norm: NormSpec = {}): Mlp {
    const sizes = [params[0].dIn, ...params.map((p) => p.dOut)];
    const hidden = params.length - 1;
    const plan = norm.plan && isNormPlan(norm.plan) ? norm.plan : resolveNorm(norm.plan ?? {}, hidden);
    if (plan.layers.length !== hidden) throw new RangeError(`normalisation plan for ${plan.layers.length} hidden layers, model has ${hidden}`);
    const saved = new Map((norm.norms ?? []).map((n) => [n.layer, n]));
    for (const n of saved.values()) {
      const want = plan.layers[n.layer]?.norm;
      if (want !== n.kind) throw new RangeError(`saved ${n.kind} for hidden layer ${n.layer}, but the plan has ${want ?? 'no normalisation'} there`);
    }
    const vec = (data: ArrayLike<number>, name: string, grad: boolean) =>
      Tensor.from(data, [data.length], { backend, requiresGrad: grad, name });
    const norms = plan.layers.map((l, k): NormLayer | null => {
      if (!l.norm) return null;
      const d = sizes[k + 1], s = saved.get(k);
      if (s && s.weight.length !== d) throw new RangeError(`saved ${s.kind} of hidden layer ${k} has ${s.weight.length} values, the layer ${d}`);
      const layer: NormLayer = {
        kind: l.norm, batches: s?.numBatchesTracked ?? 0,
        weight: vec(s?.weight ?? new Float32Array(d).fill(1), `layers.${k}.norm.w`, true),
        bias: vec(s?.bias ?? new Float32Array(d), `layers.${k}.norm.b`, true),
      };
      if (l.norm === 'batchnorm') {
        layer.runningMean = vec(s?.runningMean ?? new Float32Array(d), `layers.${k}.norm.mean`, false);
        layer.runningVar = vec(s?.runningVar ?? new Float32Array(d).fill(1), `layers.${k}.norm.var`, false);
      }
      return layer;
    });
    return new Mlp(sizes, params.map((p, k) => ({
      W: Tensor.from(p.W, [p.dIn, p.dOut], { backend, requiresGrad: true, name: `layers.${k}.W` }),
      b: Tensor.from(p.b, [p.dOut], { backend, requiresGrad: true, name: `layers.${k}.b` }),
    })), plan, norms, backend);
  }

  get hidden(): number { return this.layers.length - 1; }
  get backend(): Backend { return this.layers[0].W.backend; }
  /** outputs of the last layer */
  get classes(): number { return this.sizes[this.sizes.length - 1]; }
  /** the flat input's width */
  get inputSize(): number { return this.sizes[0]; }

  /** a named activation's shape per sample ([width]: every MLP tensor is a vector; loss [1]) */
  unitShape(name: ActName): number[] {
    if (name === 'input') return [this.sizes[0]];
    if (name === 'logits') return [this.classes];
    if (name === 'loss') return [1];
    const m = /^layers\.(\d+)\.(pre|post|norm|drop)$/.exec(name);
    if (!m || Number(m[1]) >= this.hidden) throw new RangeError(`the ${this.sizes.join('-')} model has no tensor named ${name}`);
    return [this.sizes[Number(m[1]) + 1]];
  }

  /** train mode: dropout on, BatchNorm normalises with batch statistics and updates its running ones */
  train(): this { this.training = true; return this; }
  /** eval mode: dropout is the identity, BatchNorm uses its running statistics */
  eval(): this { this.training = false; return this; }

  /** parameters in construction order (each layer's W, b, then its norm's w, b), with their canonical names */
  params(): { name: ParamName; tensor: Tensor }[] {
    return this.layers.flatMap((l, k) => {
      const out = [
        { name: `layers.${k}.W` as ParamName, tensor: l.W },
        { name: `layers.${k}.b` as ParamName, tensor: l.b },
      ];
      const n = this.norms[k];
      if (n) out.push({ name: `layers.${k}.norm.w`, tensor: n.weight }, { name: `layers.${k}.norm.b`, tensor: n.bias });
      return out;
    });
  }

  /**
   * the names forward() returns in `mode` (default the current one), in model order: the reference
   * names plus `layers.K.norm` where a layer is normalised and `layers.K.drop` (train mode only) where
   * dropout follows it
   */
  actNames(mode: 'train' | 'eval' = this.training ? 'train' : 'eval'): ActName[] {
    const names: ActName[] = ['input'];
    this.plan.layers.forEach((l, k) => {
      names.push(preName(k));
      if (l.norm && l.site === 'before-relu') names.push(normName(k));
      names.push(postName(k));
      if (l.norm && l.site === 'after-relu') names.push(normName(k));
      if (l.dropout > 0 && mode === 'train') names.push(dropName(k));
    });
    names.push('logits', 'loss');
    return names;
  }

  /**
   * x [batch, d_in] (and labels y [batch], for the loss) → every named intermediate.
   * `replace` swaps a named tensor for a function of it before the next layer reads it. `input` is x as
   * given; the standardisation, when planned, applies after it (it has no name of its own).
   */
  forward(x: Tensor, y: Tensor | null = null, replace: Replacements = {}): Acts {
    const acts: Acts = {};
    const put = (name: ActName, t: Tensor): Tensor => {
      const r = replace[name];
      return (acts[name] = (r ? r(t) : t).named(name));
    };
    let h = put('input', x);                                       // [batch, d_in]
    if (this.plan.input) h = add(scale(h, 1 / this.plan.input.std), this.inputShift!); // [batch, d_in]
    const dropping = this.training && this.plan.layers.some((l) => l.dropout > 0);
    this.layers.forEach(({ W, b }, k) => {
      const last = k === this.layers.length - 1;
      // x·W + b as one fused op (engine/ops/linear.ts, bit-identical to matmul then add on the CPU); the
      // ReLU stays its own op so `pre` keeps its own tensor and gradient
      const z = put(last ? 'logits' : preName(k), linear(h, W, b)); // [batch, d_out]
      if (last) return;
      const l = this.plan.layers[k];
      let a = z;
      if (l.norm && l.site === 'before-relu') a = put(normName(k), this.normalize(k, a)); // [batch, d_out]
      a = put(postName(k), a.relu());                              // [batch, d_out]
      if (l.norm && l.site === 'after-relu') a = put(normName(k), this.normalize(k, a)); // [batch, d_out]
      if (l.dropout > 0 && this.training) {
        const key = { seed: this.plan.dropoutSeed >>> 0, step: this.dropoutStep >>> 0, stream: k };
        a = put(dropName(k), dropout(a, l.dropout, key, true));   // [batch, d_out]
      }
      h = a;
    });
    if (dropping) this.dropoutStep++;
    if (y) put('loss', softmaxCrossEntropy(acts.logits!, y));      // [batch]
    return acts;
  }

  /** hidden layer k's LayerNorm, or BatchNorm on batch statistics (train mode, updating the running ones) or running ones (eval) */
  private normalize(k: number, x: Tensor): Tensor {
    const n = this.norms[k]!, { eps, momentum } = this.plan;
    if (n.kind === 'layernorm') return layerNorm(x, n.weight, n.bias, eps);
    if (!this.training) return batchNormEval(x, n.weight, n.bias, n.runningMean!, n.runningVar!, eps);
    const rows = x.shape[0];
    if (rows < 2) throw new Error(`layers.${k}.norm: BatchNorm in train mode needs more than 1 sample per batch (as torch), got ${rows}`);
    const { y, mean: mu, variance } = batchNormTrain(x, n.weight, n.bias, eps);
    // torch: running ← (1 − momentum)·running + momentum·batch, with the unbiased batch variance
    noGrad(() => {
      const rm = add(scale(n.runningMean!, 1 - momentum), scale(mu, momentum));               // [d]
      const rv = add(scale(n.runningVar!, 1 - momentum), scale(variance, (momentum * rows) / (rows - 1))); // [d]
      n.runningMean!.assign(rm);
      n.runningVar!.assign(rv);
    });
    // the new statistics outlive the training step's tidy()
    keep(n.runningMean!, n.runningVar!);
    n.batches++;
    return y;
  }

  /** mean loss of a forward pass (the training objective) → [] */
  static meanLoss(acts: Acts): Tensor { return mean(acts.loss!); }

  /** a host copy of the parameters, W as [d_in, d_out] */
  async export(): Promise<LayerParams[]> {
    return Promise.all(this.layers.map(async ({ W, b }) => ({
      W: Float32Array.from(await W.read()), b: Float32Array.from(await b.read()), dIn: W.shape[0], dOut: W.shape[1],
    })));
  }

  /** a host copy of the normalisation layers' parameters and running statistics, in layer order */
  async exportNorms(): Promise<NormParams[]> {
    const out: NormParams[] = [];
    for (const [layer, n] of this.norms.entries()) {
      if (!n) continue;
      const p: NormParams = { kind: n.kind, layer, weight: Float32Array.from(await n.weight.read()), bias: Float32Array.from(await n.bias.read()) };
      if (n.kind === 'batchnorm') {
        p.runningMean = Float32Array.from(await n.runningMean!.read());
        p.runningVar = Float32Array.from(await n.runningVar!.read());
        p.numBatchesTracked = n.batches;
      }
      out.push(p);
    }
    return out;
  }
}

