// the record every primitive op is: shape rule, CPU oracle loop, backward rule in terms of other ops.
// the WebGPU backend adds a kernel per primitive (shaders/<name>.ts) under the same name.
import type { GpuKernel } from '../shaders/kernel.ts';
import type { Shape } from './shape.ts';
import type { Tensor } from './tensor.ts';

export type CpuArray = Float32Array | Float64Array;

export interface BackwardContext<A> {
  inputs: readonly Tensor[];
  out: Tensor;
  /** gradient of the loss w.r.t. `out`, same shape as `out` */
  dy: Tensor;
  attrs: A;
}

export interface Primitive<A = Record<string, never>> {
  readonly name: string;
  /** number of tensor inputs */
  readonly arity: number;
  /** output shape, or a clear error naming the op when the inputs do not fit */
  shape(inputs: readonly Shape[], attrs: A): number[];
  /** the oracle: a plain loop over typed arrays, writing every element of `out` */
  cpu(inputs: readonly CpuArray[], shapes: readonly Shape[], out: CpuArray, attrs: A): void;
  /**
   * one gradient rule per input, written with other ops so it runs on any backend. Rules are thunks:
   * autograd calls only those whose input requires a gradient (no dX for the data). null: the input
   * never gets a gradient. Absent: the op is not differentiable (its output is a constant).
   */
  backward?(ctx: BackwardContext<A>): ((() => Tensor) | null)[];
  /** the WebGPU kernel (shaders/<name>.ts): plans one call's dispatch (variant, uniforms, workgroups) */
  readonly gpu?: GpuKernel<A>;
}
