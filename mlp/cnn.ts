// A convolutional network built from an architecture spec (mlp/arch.ts): conv+ReLU layers, each
// optionally followed by a max pooling, then linear+ReLU layers and the output layer. Like the MLP
// (mlp/model.ts), forward() returns every named intermediate and backward fills their gradients:
// `layers.K.pre` / `layers.K.post` for weighted layer K (conv maps [B, C, H, W], linear [B, D]),
// `layers.K.pool` after a conv that is pooled, `logits`, `loss`. Parameters are named `layers.K.W` /
// `layers.K.b`: a conv weight in PyTorch's layout [out, in, kh, kw], a linear weight [d_in, d_out] as the
// MLP keeps it. The reference CNN is mlp/arch.ts's REFERENCE_CNN, PyTorch's
//   conv1 = Conv2d(1, 8, 5) → relu → max_pool2d(2) → conv2 = Conv2d(8, 16, 5) → relu → max_pool2d(2)
//   → flatten → linear1 = Linear(256, 32) → relu → output = Linear(32, 10).
import type { Backend } from '../engine/backend.ts';
import { cpu } from '../engine/cpu.ts';
import { mean } from '../engine/composite.ts';
import { conv2d, linear, maxPool2d, reshape, softmaxCrossEntropy } from '../engine/ops/index.ts';
import type { Rng } from '../engine/rng.ts';
import { Tensor } from '../engine/tensor.ts';
import { cnnParamShapes, formatArch, type LayerSpec, resolveCnn, type ResolvedLayer } from './arch.ts';
import { linearInit } from './init.ts';
import type { Acts, Replacements } from './model.ts';
import { type ActName, type ParamName, poolName, postName, preName } from './names.ts';
import { transpose, type LayerParams, type NormParams } from './weights.ts';


/** a weighted layer of the network: its spec, shapes and parameter tensors; `pool` is the pooling after it */
export interface CnnLayer {
  spec: Extract<ResolvedLayer, { kind: 'conv' | 'linear' }>;
  pool: Extract<ResolvedLayer, { kind: 'pool' }> | null;
  W: Tensor;
  b: Tensor;
}

export class Cnn {
  readonly kind = 'cnn';
  /** the CNN has no dropout or BatchNorm: train and eval modes compute the same thing (kept for the training loop) */
  training = false;
  readonly layers: CnnLayer[];

  private constructor(
    /** the spec's layers, as given (conv, pool, linear; the output layer implicit) */
    readonly spec: readonly LayerSpec[],
    /** the input map [C, H, W] and the class count */
    readonly input: readonly [number, number, number], readonly classes: number,
    layers: CnnLayer[],
  ) {
    this.layers = layers;
  }

  /**
   * PyTorch's default initialisation of the spec's Conv2d and Linear layers, drawn in construction order
   * (conv1, conv2, …, linear1, …, output): kaiming-uniform weights with fan_in = in·k·k (a conv) or d_in
   * (a linear), then the bias, as nn.Conv2d and nn.Linear's reset_parameters draw them
   */
  static init(spec: readonly LayerSpec[], input: readonly [number, number, number], classes: number, rng: Rng, backend: Backend = cpu): Cnn {
    const resolved = resolveCnn(spec, input, classes);
    const params = resolved.filter((l) => l.kind !== 'pool').map((l): LayerParams => {
      if (l.kind === 'conv') {
        const fanIn = l.inShape[0] * l.kernel * l.kernel;
        // a conv weight [out, in, k, k] is drawn exactly as a Linear(fanIn, out) weight [out, fanIn]: same bounds, same count, same order
        const { weight, bias } = linearInit(rng, fanIn, l.out);
        return { W: weight, b: bias, dIn: fanIn, dOut: l.out, shape: weightShape(l) };
      }
      const { weight, bias } = linearInit(rng, l.inShape[0], l.out);
      return { W: transpose(weight, l.out, l.inShape[0]), b: bias, dIn: l.inShape[0], dOut: l.out };
    });
    return Cnn.fromParams(spec, input, classes, params, backend);
  }

  /** a model holding copies of the given parameters, one entry per weighted layer in order (value counts checked) */
  static fromParams(spec: readonly LayerSpec[], input: readonly [number, number, number], classes: number, params: readonly LayerParams[], backend: Backend = cpu): Cnn {
    const resolved = resolveCnn(spec, input, classes);
    const weighted = resolved.filter((l): l is CnnLayer['spec'] => l.kind !== 'pool');
    if (params.length !== weighted.length) throw new RangeError(`${formatArch({ kind: 'cnn', layers: [...spec] })} has ${weighted.length} weighted layers, got parameters for ${params.length}`);
    const layers = weighted.map((l, k): CnnLayer => {
      const wShape = weightShape(l), p = params[k];
      const wCount = wShape.reduce((a, b) => a * b, 1);
      if (p.W.length !== wCount) throw new RangeError(`layers.${k}.W has ${p.W.length} values, [${wShape.join(', ')}] needs ${wCount}`);
      if (p.b.length !== l.out) throw new RangeError(`layers.${k}.b has ${p.b.length} values, expected ${l.out}`);
      const at = resolved.indexOf(l), next = resolved[at + 1];
      return {
        spec: l,
        pool: next?.kind === 'pool' ? next : null,
        W: Tensor.from(p.W, wShape, { backend, requiresGrad: true, name: `layers.${k}.W` }),
        b: Tensor.from(p.b, [l.out], { backend, requiresGrad: true, name: `layers.${k}.b` }),
      };
    });
    return new Cnn(spec, input, classes, layers);
  }

  /** the spec as --arch writes it */
  get arch(): string { return formatArch({ kind: 'cnn', layers: [...this.spec] }); }
  get backend(): Backend { return this.layers[0].W.backend; }
  /** pixels per image: the flat input's width */
  get inputSize(): number { return this.input[0] * this.input[1] * this.input[2]; }

  train(): this { this.training = true; return this; }
  eval(): this { this.training = false; return this; }

  /** parameters in construction order (each weighted layer's W, then b), with their canonical names */
  params(): { name: ParamName; tensor: Tensor }[] {
    return this.layers.flatMap((l, k) => [
      { name: `layers.${k}.W` as ParamName, tensor: l.W },
      { name: `layers.${k}.b` as ParamName, tensor: l.b },
    ]);
  }

  /** the names forward() returns, in model order (the same in both modes) */
  actNames(): ActName[] {
    const names: ActName[] = ['input'];
    this.layers.forEach((l, k) => {
      if (k === this.layers.length - 1) return;
      names.push(preName(k), postName(k));
      if (l.pool) names.push(poolName(k));
    });
    names.push('logits', 'loss');
    return names;
  }

  /** a named activation's shape per sample: [C, H, W] for a map, [D] for a vector (input: the flat image) */
  unitShape(name: ActName): number[] {
    if (name === 'input') return [this.inputSize];
    if (name === 'loss') return [1];
    if (name === 'logits') return [this.classes];
    const m = /^layers\.(\d+)\.(pre|post|pool)$/.exec(name);
    const l = m ? this.layers[Number(m[1])] : undefined;
    if (!m || !l || (m[2] === 'pool' && !l.pool) || Number(m[1]) === this.layers.length - 1) throw new RangeError(`${this.arch} has no tensor named ${name}`);
    return [...(m[2] === 'pool' ? l.pool!.outShape : l.spec.outShape)];
  }

  /**
   * x [batch, pixels] (and labels y [batch], for the loss) → every named intermediate. `replace` swaps a
   * named tensor for a function of it (same shape) before the next layer reads it.
   */
  forward(x: Tensor, y: Tensor | null = null, replace: Replacements = {}): Acts {
    const acts: Acts = {};
    const put = (name: ActName, t: Tensor): Tensor => {
      const r = replace[name];
      return (acts[name] = (r ? r(t) : t).named(name));
    };
    const n = x.shape[0];
    let h = reshape(put('input', x), [n, ...this.input]);         // [batch, C, H, W]
    this.layers.forEach((l, k) => {
      const s = l.spec;
      if (s.kind === 'conv') {
        const z = put(preName(k), conv2d(h, l.W, l.b, { stride: s.stride, padding: s.padding })); // [batch, C', H', W']
        h = put(postName(k), z.relu());
        if (l.pool) h = put(poolName(k), maxPool2d(h, { kernel: l.pool.kernel, stride: l.pool.stride })); // [batch, C', H'', W'']
        return;
      }
      if (s.flatten) h = reshape(h, [h.shape[0], s.inShape[0]]); // [batch, C·H·W], PyTorch's flatten(1) order (a replacement may have stacked the batch)
      if (k === this.layers.length - 1) { put('logits', linear(h, l.W, l.b)); return; } // [batch, classes]
      h = put(postName(k), put(preName(k), linear(h, l.W, l.b)).relu()); // [batch, d_out]
    });
    if (y) put('loss', softmaxCrossEntropy(acts.logits!, y));      // [batch]
    return acts;
  }

  /** mean loss of a forward pass (the training objective) → [] */
  static meanLoss(acts: Acts): Tensor { return mean(acts.loss!); }

  /** a host copy of the parameters, one entry per weighted layer (a conv's with its `shape`) */
  async export(): Promise<LayerParams[]> {
    return Promise.all(this.layers.map(async ({ spec, W, b }) => {
      const p: LayerParams = { W: Float32Array.from(await W.read()), b: Float32Array.from(await b.read()), dIn: 0, dOut: spec.out };
      if (spec.kind === 'conv') { p.shape = [...W.shape]; p.dIn = W.shape[1] * W.shape[2] * W.shape[3]; } else p.dIn = spec.inShape[0];
      return p;
    }));
  }

  /** no normalisation layers in a CNN (the MLP's exportNorms, for the same callers) */
  async exportNorms(): Promise<NormParams[]> { return []; }
}

/** a weighted layer's weight shape: [out, in, k, k] (conv, PyTorch's layout) or [d_in, d_out] (linear) */
export function weightShape(l: Extract<ResolvedLayer, { kind: 'conv' | 'linear' }>): number[] {
  return cnnParamShapes([l])[0].W;
}


