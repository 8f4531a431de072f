// tensor storage for the WebGPU backend: f32 storage buffers from a pool by byte size (a training loop
// makes the same sizes every step, so after the first it creates none), uploads through the queue, and
// read-backs through pooled MAP_READ staging buffers. Release is tracked by engine/memory.ts (tidy).
import type { DType } from '../backend.ts';
import { track } from '../memory.ts';
import type { CpuArray } from '../primitive.ts';
import { GpuDeviceError, type DeviceErrors } from './errors.ts';
import type { Batch, WebGpuStats } from './submit.ts';

/** a tensor's storage: one pooled buffer; `released` makes release idempotent (views share it) */
export class GpuStorage {
  released = false;
  constructor(readonly buffer: GPUBuffer, readonly bytes: number) {}
}

export const checkDtype = (dtype: DType, what: string) => {
  if (dtype !== 'f32') throw new Error(`webgpu: ${what}: dtype ${dtype} is not supported (f32 only; use the cpu backend for f64)`);
};

/** the live GPU storage of a tensor, or a named error for a tensor of another backend or a released one */
export const storageOf = (s: unknown, what: string): GpuStorage => {
  if (!(s instanceof GpuStorage)) throw new Error(`webgpu: ${what}: storage is not a GPU buffer (a tensor of another backend?)`);
  if (s.released) throw new Error(`webgpu: ${what}: the tensor's buffer was already released`);
  return s;
};

export interface Buffers {
  /** a storage of `bytes` (rounded up to 4), from the pool when it has one; `what` names it in a limit error */
  acquire(bytes: number, what: string): GpuStorage;
  /** gives a storage's buffer back to the pool (idempotent) */
  release(storage: GpuStorage): void;
  /** a storage filled from host data */
  upload(data: ArrayLike<number>): GpuStorage;
  /** submits the pending work with a copy of the first `size` floats of `s`, waits, and returns them */
  readBack(s: GpuStorage, size: number): Promise<CpuArray>;
  /** destroys the pooled and staging buffers (buffers held by tensors stay) */
  trim(): void;
}

export function bufferPool(device: GPUDevice, stats: WebGpuStats, errors: DeviceErrors, batch: Batch): Buffers {
  const limits = device.limits;
  // the pool: released buffers by byte size. A released buffer may still be used by unsubmitted commands;
  // batch.touches() says when an upload must submit them first (see engine/webgpu/submit.ts)
  const pool = new Map<number, GPUBuffer[]>();
  const USAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  // read-back buffers (MAP_READ), pooled by size; one goes back only once unmapped
  const staging = new Map<number, GPUBuffer[]>();

  function acquire(bytes: number, what: string): GpuStorage {
    const size = Math.max(4, Math.ceil(bytes / 4) * 4);
    // over the binding limit a kernel could not bind it: fail here, naming the tensor, not at the submit
    if (size > limits.maxStorageBufferBindingSize) {
      throw new GpuDeviceError('out-of-memory', `webgpu: ${what} needs ${size} bytes, over maxStorageBufferBindingSize ${limits.maxStorageBufferBindingSize}`);
    }
    let buffer = pool.get(size)?.pop();
    if (buffer) { stats.buffersReused++; stats.buffersPooled--; } else {
      buffer = device.createBuffer({ label: `tensor:${size}`, size, usage: USAGE });
      stats.buffersCreated++;
    }
    stats.buffersLive++;
    const s = new GpuStorage(buffer, bytes);
    track(s, release);
    return s;
  }

  function release(storage: GpuStorage): void {
    if (storage.released) return;
    storage.released = true;
    stats.buffersLive--;
    stats.buffersPooled++;
    const size = storage.buffer.size;
    const list = pool.get(size);
    if (list) list.push(storage.buffer); else pool.set(size, [storage.buffer]);
  }

  return {
    acquire,
    release,

    upload(data) {
      const host = data instanceof Float32Array ? data : Float32Array.from(data);
      const s = acquire(host.byteLength, `upload of ${host.length} values`);
      // writeBuffer runs before any unsubmitted command: submit those first if they use this buffer
      if (batch.touches(s.buffer)) batch.flush();
      if (host.byteLength) device.queue.writeBuffer(s.buffer, 0, host.buffer, host.byteOffset, host.byteLength);
      stats.uploads++;
      return s;
    },

    async readBack(s, size) {
      const bytes = size * 4;
      // nothing to copy, but a read is still where errors surface
      if (bytes === 0) { await errors.check(); return new Float32Array(0); }
      let buf = staging.get(bytes)?.pop();
      buf ??= device.createBuffer({ label: `read:${bytes}`, size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      batch.copy(s.buffer, 0, buf, 0, bytes);
      batch.flush();
      stats.readBacks++;
      try {
        await errors.unlessLost(buf.mapAsync(GPUMapMode.READ, 0, bytes), 'a read-back');
        await errors.check();
        return new Float32Array(buf.getMappedRange(0, bytes).slice(0)) as CpuArray;
      } finally {
        if (buf.mapState === 'mapped') buf.unmap();
        // a buffer whose mapping never settled (lost device) is not reused
        if (buf.mapState === 'unmapped' && !errors.lost) {
          const list = staging.get(bytes);
          if (list) list.push(buf); else staging.set(bytes, [buf]);
        }
      }
    },

    trim() {
      for (const list of pool.values()) for (const b of list) b.destroy();
      stats.buffersPooled = 0;
      pool.clear();
      for (const list of staging.values()) for (const b of list) b.destroy();
      staging.clear();
    },
  };
}
