// stochastic gradient descent as torch.optim.SGD does it (no dampening, no Nesterov).
import { add, scale, sgdUpdate } from '../engine/ops/index.ts';
import { noGrad, Tensor } from '../engine/tensor.ts';

export interface SgdOptions {
  lr: number;
  /** 0 = plain SGD (the reference run) */
  momentum?: number;
  /** L2 penalty added to the gradient: g + weightDecay·p */
  weightDecay?: number;
}

export class Sgd {
  private readonly velocity = new Map<Tensor, Tensor>();

  constructor(readonly params: readonly Tensor[], readonly opts: SgdOptions) {
    if (!(opts.lr > 0) || !Number.isFinite(opts.lr)) throw new Error(`sgd: lr must be a positive number, got ${opts.lr}`);
  }

  /** the momentum buffer of each parameter, in parameter order (null before its first step), as host copies: for checkpoints */
  async momentum(): Promise<(Float32Array | null)[]> {
    return Promise.all(this.params.map(async (p) => {
      const v = this.velocity.get(p);
      return v ? Float32Array.from(await v.read()) : null;
    }));
  }

  /** puts momentum buffers back (a resumed run), one per parameter in order, null for none yet */
  restoreMomentum(buffers: readonly (Float32Array | null)[]): void {
    if (buffers.length !== this.params.length) throw new RangeError(`sgd: ${buffers.length} momentum buffers for ${this.params.length} parameters`);
    this.params.forEach((p, k) => {
      const v = buffers[k];
      if (!v) return;
      if (v.length !== p.size) throw new RangeError(`sgd: momentum buffer ${k} has ${v.length} values, its parameter ${p.size}`);
      this.velocity.set(p, Tensor.from(v, p.shape, { backend: p.backend }));
    });
  }

  /** every tensor the optimiser carries to the next step (parameters, momentum buffers): a step's tidy() keeps them */
  state(): Tensor[] {
    return [...this.params, ...this.velocity.values()];
  }

  /** NOTE: grads accumulate across backward calls; clear them before each step's backward */
  zeroGrad(): void {
    for (const p of this.params) p.grad = null;
  }

  /** p ← p − lr·d, d = g + wd·p, with momentum d ← μ·v + d (v starts as the first d) */
  step(): void {
    const { lr, momentum = 0, weightDecay = 0 } = this.opts;
    noGrad(() => {
      for (const p of this.params) {
        if (!p.grad) continue;
        let d = weightDecay ? add(p.grad, scale(p, weightDecay)) : p.grad;
        if (momentum) {
          const v = this.velocity.get(p);
          d = v ? add(scale(v, momentum), d) : d;
          this.velocity.set(p, d);
          if (v) v.backend.release(v.storage);
        }
        // one fused op (one dispatch), the same arithmetic as add(p, scale(d, -lr))
        p.assign(sgdUpdate(p, d, lr));
      }
    });
  }
}
