// the WebGPU backend: storage is a pooled GPUBuffer of f32; run() only encodes a dispatch, read() is the
// one asynchronous boundary. Kernels come from each primitive's `gpu` field (shaders/<name>.ts).
// This file assembles the backend from its parts, one concern each, so each can be read on its own:
// engine/webgpu/errors.ts (errors and device loss), pipelines.ts (kernels), submit.ts (the command
// stream and counters), buffers.ts (storage, uploads, read-backs). Memory helpers (tidy, keep, dispose)
// are in engine/memory.ts. Importers use this path; the parts are private to the backend.
import type { Backend } from './backend.ts';
import type { Primitive } from './primitive.ts';
import type { Shape } from './shape.ts';
import type { Dispatch } from '../shaders/kernel.ts';
import { bufferPool, checkDtype, GpuStorage, storageOf } from './webgpu/buffers.ts';
import { watchDevice } from './webgpu/errors.ts';
import { kernelVariants, pipelineCache } from './webgpu/pipelines.ts';
import { grid, newStats, openBatch, type WebGpuStats } from './webgpu/submit.ts';

export { GpuStorage } from './webgpu/buffers.ts';
export { GpuDeviceError } from './webgpu/errors.ts';
export { compileKernel } from './webgpu/pipelines.ts';
export type { WebGpuStats } from './webgpu/submit.ts';

export interface WebGpuOptions {
  /**
   * a kernel variant per op, e.g. { matmul: 'naive' } (benchmarks). Default: matmul 'auto:gpu' on a GPU,
   * 'auto:software' on a CPU rasteriser (llvmpipe, lavapipe; 'auto:swiftshader' on SwiftShader): a variant per shape, pickMatmulVariant in
   * engine/ops/matmul.ts ('blocked' at the MLP's shapes on a rasteriser, docs/kernels.md)
   */
  variants?: Record<string, string>;
  /** dispatches per submit when no read comes first (default 256) */
  flushEvery?: number;
}

export interface WebGpuBackend extends Backend {
  readonly name: 'webgpu';
  readonly device: GPUDevice;
  stats(): WebGpuStats;
  /** submits the encoded work now (e.g. at the end of a step, so the GPU starts while JS encodes the next) */
  flush(): void;
  /** builds the pipeline of `op` for `plan` ahead of its first dispatch, off the GPU's main thread where it can (pipelines.ts) */
  warm(op: string, plan: Dispatch): Promise<void>;
  /** submits and waits until the GPU is done, then throws any validation error seen so far (timing) */
  sync(): Promise<void>;
  /** destroys the pooled buffers (after a submit; buffers held by tensors stay) */
  trim(): void;
  /**
   * encodes one dispatch of a kernel that binds the caller's storages itself (at 0..n-1, its params
   * uniform at n) and writes into them: a fused kernel with several read-write buffers (mlp/fused-gpu.ts).
   * Ordered with every op and copy encoded before and after it.
   */
  dispatch(op: string, plan: Dispatch, storages: readonly unknown[]): void;
}

export function createWebGpuBackend(device: GPUDevice, opts: WebGpuOptions = {}): WebGpuBackend {
  const limits = device.limits;
  // matmul: a variant per product, by the rule in engine/ops/matmul.ts (pickMatmulVariant)
  const variants = kernelVariants(device, opts.variants);
  const features = new Set<string>([...device.features]);
  const stats = newStats();
  const errors = watchDevice(device);
  const pipelineFor = pipelineCache(device, errors, () => { stats.pipelines++; });
  const batch = openBatch(device, stats, errors, pipelineFor, opts.flushEvery ?? 256);
  const buffers = bufferPool(device, stats, errors, batch);

  const backend: WebGpuBackend = {
    name: 'webgpu',
    device,

    upload(data, dtype) {
      checkDtype(dtype, 'upload');
      errors.throwIfLost();
      return buffers.upload(data);
    },

    run(prim: Primitive<any>, inputs, outShape: Shape, dtype, attrs) {
      checkDtype(dtype, prim.name);
      errors.throwIfLost();
      if (!prim.gpu) throw new Error(`webgpu: op '${prim.name}' has no kernel`);
      const ins = inputs.map((t, k) => storageOf(t.storage, `${prim.name} input ${k}`));
      const plan = prim.gpu(inputs.map((t) => t.shape), outShape, attrs, {
        maxWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
        variant: variants[prim.name],
        features,
      });
      if ('alias' in plan) return ins[plan.alias];
      const size = outShape.reduce((a, b) => a * b, 1);
      const out = buffers.acquire(size * 4, `${prim.name} output ${JSON.stringify(outShape)}`);
      const wg = typeof plan.workgroups === 'number' ? grid(plan.workgroups, limits.maxComputeWorkgroupsPerDimension, prim.name) : plan.workgroups;
      if (wg.some((n) => n > limits.maxComputeWorkgroupsPerDimension)) {
        throw new Error(`webgpu: ${prim.name}: dispatch ${wg.join('×')} exceeds maxComputeWorkgroupsPerDimension ${limits.maxComputeWorkgroupsPerDimension}`);
      }
      if (size === 0 || wg[0] * wg[1] * wg[2] === 0) return out;

      const bound = [...(plan.bind ?? ins.map((_, k) => k)).map((k) => ins[k]), out];
      batch.encode(prim.name, plan, bound.map((s) => s.buffer), wg);
      return out;
    },

    async read(storage, size, dtype) {
      checkDtype(dtype, 'read');
      errors.throwIfLost();
      return buffers.readBack(storageOf(storage, 'read'), size);
    },

    readSync() {
      throw new Error('webgpu: tensor values live on the GPU; use `await tensor.read()`');
    },

    warm(op, plan) {
      return pipelineFor.warm(op, plan);
    },

    dispatch(op, plan, storages) {
      errors.throwIfLost();
      const bufs = storages.map((t, k) => storageOf(t, `${op} binding ${k}`));
      const wg = typeof plan.workgroups === 'number' ? grid(plan.workgroups, limits.maxComputeWorkgroupsPerDimension, op) : plan.workgroups;
      if (wg[0] * wg[1] * wg[2] === 0) return;
      batch.encode(op, plan, bufs.map((s) => s.buffer), wg);
    },

    // a buffer copy in the same command stream (the recorder fills its epoch slots this way)
    copyInto(src, dst, dstOffset, n, srcOffset = 0) {
      errors.throwIfLost();
      const s = storageOf(src, 'copyInto source'), d = storageOf(dst, 'copyInto target');
      if (n === 0) return;
      if ((dstOffset + n) * 4 > d.buffer.size || (srcOffset + n) * 4 > s.buffer.size) {
        throw new Error(`webgpu: copyInto: ${n} values from ${srcOffset} to ${dstOffset} do not fit (${s.buffer.size} → ${d.buffer.size} bytes)`);
      }
      batch.copy(s.buffer, srcOffset * 4, d.buffer, dstOffset * 4, n * 4);
    },

    release(storage) {
      if (storage instanceof GpuStorage) buffers.release(storage);
    },

    stats: () => ({ ...stats }),
    flush: batch.flush,

    async sync() {
      errors.throwIfLost();
      batch.flush();
      await errors.unlessLost(device.queue.onSubmittedWorkDone(), 'waiting for the GPU');
      await errors.check();
    },

    trim() {
      // after a submit: a pooled buffer that unsubmitted commands still use must not be destroyed yet
      batch.flush();
      buffers.trim();
    },
  };
  return backend;
}
