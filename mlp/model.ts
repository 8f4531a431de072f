// the MLP: d_in → hidden… → n_classes with ReLU, weights stored [d_in, d_out] so the forward pass
// reads x.matmul(W).add(b). forward() returns every named intermediate; backward fills their grads.
import type { Backend } from '../engine/backend.ts';
import { cpu } from '../engine/cpu.ts';
import { mean } from '../engine/composite.ts';
import { softmaxCrossEntropy } from '../engine/ops/index.ts';
import type { Rng } from '../engine/rng.ts';
import { Tensor } from '../engine/tensor.ts';
import { mlpInit } from './init.ts';
import { type ActName, type ParamName, postName, preName } from './names.ts';
import type { LayerParams } from './weights.ts';

export interface Layer { W: Tensor /* [d_in, d_out] */; b: Tensor /* [d_out] */ }

/** the named tensors of one forward pass, in model order; `loss` is per sample [batch] */
export type Acts = Partial<Record<ActName, Tensor>>;

/** replaces a named tensor as soon as it is computed (ablation, scaling): the only intervention mechanism */
export type Replacements = Partial<Record<ActName, (t: Tensor) => Tensor>>;

export class Mlp {
  private constructor(readonly sizes: readonly number[], readonly layers: Layer[]) {}

  /** PyTorch's nn.Linear default initialisation, drawn in the notebooks' construction order */
  static init(sizes: readonly number[], rng: Rng, backend: Backend = cpu): Mlp {
    return Mlp.fromParams(mlpInit(rng, [...sizes]).map(({ weight, bias }, k) => ({
      W: transpose(weight, sizes[k + 1], sizes[k]), b: bias, dIn: sizes[k], dOut: sizes[k + 1],
    })), backend);
  }

  /** a model holding copies of the given parameters (e.g. from model.safetensors) */
  static fromParams(params: readonly LayerParams[], backend: Backend = cpu): Mlp {
    const sizes = [params[0].dIn, ...params.map((p) => p.dOut)];
    return new Mlp(sizes, params.map((p, k) => ({
      W: Tensor.from(p.W, [p.dIn, p.dOut], { backend, requiresGrad: true, name: `layers.${k}.W` }),
      b: Tensor.from(p.b, [p.dOut], { backend, requiresGrad: true, name: `layers.${k}.b` }),
    })));
  }

  get hidden(): number { return this.layers.length - 1; }

  /** parameters in construction order, with their canonical names */
  params(): { name: ParamName; tensor: Tensor }[] {
    return this.layers.flatMap((l, k) => [
      { name: `layers.${k}.W` as ParamName, tensor: l.W },
      { name: `layers.${k}.b` as ParamName, tensor: l.b },
    ]);
  }

  /**
   * x [batch, d_in] (and labels y [batch], for the loss) → every named intermediate.
   * `replace` swaps a named tensor for a function of it before the next layer reads it.
   */
  forward(x: Tensor, y: Tensor | null = null, replace: Replacements = {}): Acts {
    const acts: Acts = {};
    const put = (name: ActName, t: Tensor): Tensor => {
      const r = replace[name];
      return (acts[name] = (r ? r(t) : t).named(name));
    };
    let h = put('input', x);                                       // [batch, d_in]
    this.layers.forEach(({ W, b }, k) => {
      const last = k === this.layers.length - 1;
      const z = put(last ? 'logits' : preName(k), h.matmul(W).add(b)); // [batch, d_out]
      if (!last) h = put(postName(k), z.relu());                   // [batch, d_out]
    });
    if (y) put('loss', softmaxCrossEntropy(acts.logits!, y));      // [batch]
    return acts;
  }

  /** mean loss of a forward pass (the training objective) → [] */
  static meanLoss(acts: Acts): Tensor { return mean(acts.loss!); }

  /** a host copy of the parameters, W as [d_in, d_out] */
  async export(): Promise<LayerParams[]> {
    return Promise.all(this.layers.map(async ({ W, b }) => ({
      W: Float32Array.from(await W.read()), b: Float32Array.from(await b.read()), dIn: W.shape[0], dOut: W.shape[1],
    })));
  }
}

/** [rows, cols] row-major → [cols, rows] */
function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(a.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = a[i * cols + j];
  return t;
}
