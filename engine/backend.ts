// what a backend does: hold tensor storage, run a primitive on it, and read it back.
import type { CpuArray, Primitive } from './primitive.ts';
import type { Shape } from './shape.ts';

export type DType = 'f32' | 'f64';

export interface Backend {
  readonly name: 'cpu' | 'webgpu';
  /** storage for a tensor filled from host data (copied) */
  upload(data: ArrayLike<number>, dtype: DType): unknown;
  /** runs one primitive and returns the output's storage */
  run(prim: Primitive<any>, inputs: readonly { storage: unknown; shape: Shape }[],
      outShape: Shape, dtype: DType, attrs: unknown): unknown;
  /** copies a tensor's storage to the host: the one asynchronous boundary */
  read(storage: unknown, size: number, dtype: DType): Promise<CpuArray>;
  /** host view without waiting, where the backend's storage is host memory (cpu); else throws */
  readSync(storage: unknown, size: number, dtype: DType): CpuArray;
  /** copies n elements of `src` (from element `srcOffset`, default 0) into `dst` at element `dstOffset`, on the device */
  copyInto(src: unknown, dst: unknown, dstOffset: number, n: number, srcOffset?: number): void;
  /** gives the storage back (to a pool); the tensor must not be used after */
  release(storage: unknown): void;
}

export const arrayFor = (dtype: DType, n: number): CpuArray =>
  dtype === 'f64' ? new Float64Array(n) : new Float32Array(n);
