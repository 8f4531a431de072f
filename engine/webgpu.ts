// the WebGPU backend: storage is a pooled GPUBuffer of f32; run() only encodes a dispatch, read() is the
// one asynchronous boundary. Kernels come from each primitive's `gpu` field (shaders/<name>.ts).
import type { Backend, DType } from './backend.ts';
import { deviceInfo } from './device.ts';
import type { CpuArray, Primitive } from './primitive.ts';
import type { Shape } from './shape.ts';
import type { Dispatch, Layout } from '../shaders/kernel.ts';

/** a tensor's storage: one pooled buffer; `released` makes release idempotent (views share it) */
export class GpuStorage {
  released = false;
  constructor(readonly buffer: GPUBuffer, readonly bytes: number) {}
}

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

export interface WebGpuStats {
  dispatches: number;
  submits: number;
  readBacks: number;
  uploads: number;
  /** buffers created (a steady training loop stops creating them) */
  buffersCreated: number;
  /** buffers handed out again from the pool */
  buffersReused: number;
  /** buffers held by tensors now */
  buffersLive: number;
  /** released buffers waiting in the pool */
  buffersPooled: number;
  pipelines: number;
}

export interface WebGpuBackend extends Backend {
  readonly name: 'webgpu';
  readonly device: GPUDevice;
  stats(): WebGpuStats;
  /** submits the encoded work now (e.g. at the end of a step, so the GPU starts while JS encodes the next) */
  flush(): void;
  /** submits and waits until the GPU is done, then throws any validation error seen so far (timing) */
  sync(): Promise<void>;
  /** destroys the pooled buffers (after a submit; buffers held by tensors stay) */
  trim(): void;
  /**
   * encodes one dispatch of a kernel that binds the caller's storages itself (at 0..n-1, its params
   * uniform at n) and writes into them: a fused kernel with several read-write buffers (mlp/fast-gpu.ts).
   * Ordered with every op and copy encoded before and after it.
   */
  dispatch(op: string, plan: Dispatch, storages: readonly unknown[]): void;
}

/**
 * the device failed under the run: `lost` (driver reset, GPU removed, destroy()), `out-of-memory` (an
 * allocation the device could not make, or a tensor over its binding limit), `internal` (the driver gave
 * up). Surfaces at the next op, read or sync, never as a hang; the CLI reports it in one line.
 */
export class GpuDeviceError extends Error {
  constructor(readonly kind: 'lost' | 'out-of-memory' | 'internal', message: string) {
    super(message);
    this.name = 'GpuDeviceError';
  }
}

/** an uncaptured GPUError as an Error: out-of-memory and internal errors are device faults, the rest (validation) bugs */
function uncapturedError(error: GPUError): Error {
  const kind = error?.constructor?.name ?? '';
  const message = error?.message ?? String(error);
  if (/OutOfMemory/i.test(kind)) return new GpuDeviceError('out-of-memory', `webgpu: out of GPU memory: ${message}`);
  if (/Internal/i.test(kind)) return new GpuDeviceError('internal', `webgpu: internal device error: ${message}`);
  return new Error(`webgpu: uncaptured error: ${message}`);
}

// --- release scopes

const scopes: Set<GpuStorage>[] = [];

/**
 * runs `fn` (synchronous) and releases every GPU buffer created inside it, except those of the tensors
 * in its return value (a Tensor, or arrays / plain objects of them, searched deeply). Kept buffers move to
 * the enclosing tidy, if any. Anything else holding a tensor made inside (a parameter after assign(), a
 * .grad) must be returned or passed to keep(), or it is left pointing at a released buffer. CPU tensors
 * are ignored (the GC has them), so a training loop can call tidy() on either backend.
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<GpuStorage>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    for (const s of scope) releaseStorage(s);
    throw e;
  }
  scopes.pop();
  if (result instanceof Promise) {
    for (const s of scope) releaseStorage(s);
    throw new Error('tidy: fn must be synchronous (await reads outside tidy)');
  }
  const kept = new Set<GpuStorage>();
  collect(result, kept, new Set());
  const parent = scopes[scopes.length - 1];
  for (const s of scope) {
    if (!kept.has(s)) releaseStorage(s);
    else parent?.add(s);
  }
  return result;
}

/** exempts tensors from every enclosing tidy (a parameter after assign(), a running sum) */
export function keep<T extends { storage: unknown }>(...tensors: T[]): void {
  for (const t of tensors) if (t.storage instanceof GpuStorage) for (const s of scopes) s.delete(t.storage);
}

/** releases tensors now (their buffers go back to the pool); the tensors must not be used after */
export function dispose(...tensors: { storage: unknown; backend: Backend }[]): void {
  for (const t of tensors) t.backend.release(t.storage);
}

function collect(v: unknown, out: Set<GpuStorage>, seen: Set<object>): void {
  if (!v || typeof v !== 'object' || seen.has(v)) return;
  seen.add(v);
  const storage = (v as { storage?: unknown }).storage;
  if (storage instanceof GpuStorage) { out.add(storage); return; }
  if (Array.isArray(v)) { for (const x of v) collect(x, out, seen); return; }
  if (v instanceof Map) { for (const x of v.values()) collect(x, out, seen); return; }
  if (Object.getPrototypeOf(v) === Object.prototype) for (const x of Object.values(v)) collect(x, out, seen);
}

// the pool a storage goes back to, set by the backend that made it (a tidy may span backends)
const owner = new WeakMap<GpuStorage, (s: GpuStorage) => void>();
const releaseStorage = (s: GpuStorage) => owner.get(s)?.(s);

// one uncapturederror listener per device, shared by the backends on it (tests make many)
const errorSinks = new WeakMap<GPUDevice, Set<(e: Error) => void>>();
function onDeviceError(device: GPUDevice, sink: (e: Error) => void): void {
  let sinks = errorSinks.get(device);
  if (!sinks) {
    const all = sinks = new Set();
    errorSinks.set(device, sinks);
    device.addEventListener?.('uncapturederror', (e) => {
      const err = uncapturedError((e as GPUUncapturedErrorEvent).error);
      for (const s of all) s(err);
    });
  }
  sinks.add(sink);
}

// --- shader compilation

/** MLP_LENS_DEBUG=shaders:matmul,relu (or shaders:*) prints the WGSL of matching ops */
function debugShaders(): (op: string) => boolean {
  let v: string | undefined;
  try {
    const g = globalThis as any;
    v = g.Deno ? g.Deno.env.get('MLP_LENS_DEBUG') : g.process?.env?.MLP_LENS_DEBUG ?? g.MLP_LENS_DEBUG;
  } catch { /* deno without --allow-env */ }
  const m = /(?:^|;)\s*shaders(?::([^;]*))?/.exec(v ?? '');
  if (!m) return () => false;
  const ops = (m[1] ?? '*').split(',').map((s) => s.trim());
  return (op) => ops.includes('*') || ops.includes(op);
}

/**
 * creates a labelled shader module and compute pipeline inside a validation error scope. The pipeline is
 * usable at once; `checked` settles when the scope does, rejecting with an Error that names `label` and
 * carries the compiler's messages (WebGPU reports creation errors only asynchronously).
 */
export function compileKernel(device: GPUDevice, label: string, code: string): { pipeline: GPUComputePipeline; checked: Promise<void> } {
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ label, code });
  const pipeline = device.createComputePipeline({ label, layout: 'auto', compute: { module, entryPoint: 'main' } });
  const checked = device.popErrorScope().then(async (err) => {
    if (!err) return;
    const info = await module.getCompilationInfo();
    const lines = code.split('\n');
    const msgs = info.messages.map((m) =>
      `  ${m.type} at ${m.lineNum}:${m.linePos}: ${m.message}\n    ${lines[m.lineNum - 1]?.trim() ?? ''}`);
    throw new Error(`webgpu: kernel '${label}' failed to build: ${err.message}` +
      (msgs.length ? `\n${msgs.join('\n')}` : ''));
  });
  // callers may look only at read(); keep the rejection from counting as unhandled meanwhile
  checked.catch(() => {});
  return { pipeline, checked };
}

// --- uniforms

const ALIGN = { u32: 4, f32: 4, vec4u: 16 } as const;

/** writes `params` into `view` at `at` with WGSL uniform layout (fields in declaration order); returns the byte size */
function packParams(layout: Layout, params: Record<string, number | readonly number[]>, view: DataView, at: number): number {
  let off = 0;
  for (const [name, type] of Object.entries(layout)) {
    off = Math.ceil(off / ALIGN[type]) * ALIGN[type];
    const v = params[name];
    if (type === 'vec4u') {
      const xs = v as readonly number[];
      for (let k = 0; k < 4; k++) view.setUint32(at + off + 4 * k, xs[k] ?? 0, true);
      off += 16;
    } else {
      if (type === 'u32') view.setUint32(at + off, v as number, true);
      else view.setFloat32(at + off, v as number, true);
      off += 4;
    }
  }
  // a struct's size rounds up to its largest alignment (16 once a vec4 is in it)
  return Math.max(16, Math.ceil(off / 16) * 16);
}

// --- the backend

export function createWebGpuBackend(device: GPUDevice, opts: WebGpuOptions = {}): WebGpuBackend {
  const limits = device.limits;
  // matmul: a variant per product, by the rule in engine/ops/matmul.ts (pickMatmulVariant)
  const info = deviceInfo(device);
  const auto = !info?.software ? 'auto:gpu'
    : /swiftshader/i.test(`${info.vendor} ${info.architecture} ${info.device} ${info.description}`) ? 'auto:swiftshader' : 'auto:software';
  const variants: Record<string, string> = { matmul: auto, ...opts.variants };
  const flushEvery = opts.flushEvery ?? 256;
  const features = new Set<string>([...device.features]);
  const printShader = debugShaders();
  const stats: WebGpuStats = {
    dispatches: 0, submits: 0, readBacks: 0, uploads: 0,
    buffersCreated: 0, buffersReused: 0, buffersLive: 0, buffersPooled: 0, pipelines: 0,
  };

  // validation errors, reported by the next read()/sync(): pipeline builds and whole submits
  let pendingChecks: Promise<void>[] = [];
  let deviceError: Error | null = null;
  onDeviceError(device, (e) => { deviceError ??= e; });
  // a lost device (destroy() included: nothing here destroys a device that is still in use) fails every
  // later op, upload and read with the same error, and wins any wait on the GPU, so nothing hangs on it
  let lost: GpuDeviceError | null = null;
  const whenLost: Promise<never> = device.lost.then((l) => {
    lost ??= new GpuDeviceError('lost', `webgpu: the device was lost (${l.reason}${l.message ? `: ${l.message}` : ''})`);
    throw lost;
  });
  whenLost.catch(() => {});
  const throwIfLost = () => { if (lost) throw lost; };
  /** waits for `p`, or fails as soon as the device is lost */
  async function unlessLost<T>(p: Promise<T>, what: string): Promise<T> {
    try {
      return await Promise.race([p, whenLost]);
    } catch (e) {
      if (lost) throw lost;
      // a read that fails (AbortError) may come just before the loss is announced: give it a moment
      const timer = new Promise<'timeout'>((r) => setTimeout(r, 200, 'timeout'));
      try { await Promise.race([whenLost, timer]); } catch { throw lost!; }
      throw new GpuDeviceError('lost', `webgpu: ${what} failed (${(e as Error).name}: ${(e as Error).message}); the device stopped answering`);
    }
  }
  async function check(): Promise<void> {
    throwIfLost();
    const checks = pendingChecks;
    pendingChecks = [];
    // in order: a kernel that failed to build is the cause of the submit that failed after it
    for (const c of checks) await c;
    throwIfLost();
    if (deviceError) { const e = deviceError; deviceError = null; throw e; }
  }

  // pipelines, one per op and variant
  const pipelines = new Map<string, GPUComputePipeline>();
  function pipelineFor(op: string, plan: Dispatch): GPUComputePipeline {
    const label = plan.variant ? `${op}:${plan.variant}` : op;
    let p = pipelines.get(label);
    if (!p) {
      const code = plan.source();
      if (printShader(op)) console.error(`// --- ${label}\n${code}`);
      const built = compileKernel(device, label, code);
      p = built.pipeline;
      pendingChecks.push(built.checked);
      pipelines.set(label, p);
      stats.pipelines++;
    }
    return p;
  }

  // the pool: released buffers by byte size. A buffer may go back to the pool while an unsubmitted
  // command still reads it. That is safe: its next user is either a later dispatch or copy, encoded after
  // those commands and so executed after them (dispatches and copies run in encoding order, each a
  // separate usage scope), or an upload through queue.writeBuffer, which the queue runs *before* the
  // pending commands; upload() therefore submits them first when the buffer is in `touched`.
  const pool = new Map<number, GPUBuffer[]>();
  const touched = new Set<GPUBuffer>();
  const USAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

  function acquire(bytes: number, what: string): GpuStorage {
    const size = Math.max(4, Math.ceil(bytes / 4) * 4);
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
    owner.set(s, release);
    scopes[scopes.length - 1]?.add(s);
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

  // read-back buffers (MAP_READ), pooled by size; one goes back only once unmapped
  const staging = new Map<number, GPUBuffer[]>();

  // the open batch: one encoder, one compute pass, one uniform slot per dispatch. The slots are written
  // with one writeBuffer just before the submit; a later batch rewriting them is ordered after this
  // submit by the queue, so one ring buffer serves every batch.
  const slot = Math.max(256, limits.minUniformBufferOffsetAlignment);
  const ring = device.createBuffer({ label: 'params', size: slot * flushEvery, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  const ringHost = new ArrayBuffer(slot * flushEvery), ringView = new DataView(ringHost);
  let encoder: GPUCommandEncoder | null = null;
  let pass: GPUComputePassEncoder | null = null;
  let slots = 0;
  let batchOps = new Set<string>();

  function ensureEncoder(): GPUCommandEncoder {
    if (!encoder) {
      // the scope catches what the batch's bind groups, dispatches and submit get wrong
      device.pushErrorScope('validation');
      encoder = device.createCommandEncoder({ label: 'mlp-lens' });
    }
    return encoder;
  }

  function flush(): void {
    if (!encoder) return;
    pass?.end();
    pass = null;
    if (slots) device.queue.writeBuffer(ring, 0, ringHost, 0, slots * slot);
    device.queue.submit([encoder.finish()]);
    stats.submits++;
    const ops = [...batchOps].join(', ');
    pendingChecks.push(device.popErrorScope().then((err) => {
      if (err) throw new Error(`webgpu: a submit of ops [${ops}] failed validation: ${err.message}`);
    }));
    pendingChecks[pendingChecks.length - 1].catch(() => {});
    encoder = null;
    slots = 0;
    batchOps = new Set();
    touched.clear();
  }

  /** encodes one dispatch of `plan` with `buffers` bound at 0..n-1 and its params uniform at n */
  function encode(op: string, plan: Dispatch, buffers: readonly GpuStorage[], wg: readonly number[]): void {
    const pipeline = pipelineFor(op, plan);
    if (slots === flushEvery) flush();
    const enc = ensureEncoder();
    const at = slots++ * slot;
    const bytes = packParams(plan.layout, plan.params, ringView, at);
    const entries: GPUBindGroupEntry[] = buffers.map((s, k) => ({ binding: k, resource: { buffer: s.buffer } }));
    entries.push({ binding: entries.length, resource: { buffer: ring, offset: at, size: bytes } });
    const bindGroup = device.createBindGroup({ label: op, layout: pipeline.getBindGroupLayout(0), entries });
    pass ??= enc.beginComputePass({ label: 'mlp-lens' });
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(wg[0], wg[1] ?? 1, wg[2] ?? 1);
    stats.dispatches++;
    batchOps.add(op);
    for (const s of buffers) touched.add(s.buffer);
  }

  const checkDtype = (dtype: DType, what: string) => {
    if (dtype !== 'f32') throw new Error(`webgpu: ${what}: dtype ${dtype} is not supported (f32 only; use the cpu backend for f64)`);
  };

  const storageOf = (s: unknown, what: string): GpuStorage => {
    if (!(s instanceof GpuStorage)) throw new Error(`webgpu: ${what}: storage is not a GPU buffer (a tensor of another backend?)`);
    if (s.released) throw new Error(`webgpu: ${what}: the tensor's buffer was already released`);
    return s;
  };

  const backend: WebGpuBackend = {
    name: 'webgpu',
    device,

    upload(data, dtype) {
      checkDtype(dtype, 'upload');
      throwIfLost();
      const host = data instanceof Float32Array ? data : Float32Array.from(data);
      const s = acquire(host.byteLength, `upload of ${host.length} values`);
      // writeBuffer runs before any unsubmitted command: submit those first if they use this buffer
      if (touched.has(s.buffer)) flush();
      if (host.byteLength) device.queue.writeBuffer(s.buffer, 0, host.buffer, host.byteOffset, host.byteLength);
      stats.uploads++;
      return s;
    },

    run(prim: Primitive<any>, inputs, outShape: Shape, dtype, attrs) {
      checkDtype(dtype, prim.name);
      throwIfLost();
      if (!prim.gpu) throw new Error(`webgpu: op '${prim.name}' has no kernel`);
      const ins = inputs.map((t, k) => storageOf(t.storage, `${prim.name} input ${k}`));
      const plan = prim.gpu(inputs.map((t) => t.shape), outShape, attrs, {
        maxWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
        variant: variants[prim.name],
        features,
      });
      if ('alias' in plan) return ins[plan.alias];
      const size = outShape.reduce((a, b) => a * b, 1);
      const out = acquire(size * 4, `${prim.name} output ${JSON.stringify(outShape)}`);
      const wg = typeof plan.workgroups === 'number' ? grid(plan.workgroups, limits.maxComputeWorkgroupsPerDimension, prim.name) : plan.workgroups;
      if (wg.some((n) => n > limits.maxComputeWorkgroupsPerDimension)) {
        throw new Error(`webgpu: ${prim.name}: dispatch ${wg.join('×')} exceeds maxComputeWorkgroupsPerDimension ${limits.maxComputeWorkgroupsPerDimension}`);
      }
      if (size === 0 || wg[0] * wg[1] * wg[2] === 0) return out;

      encode(prim.name, plan, [...(plan.bind ?? ins.map((_, k) => k)).map((k) => ins[k]), out], wg);
      return out;
    },

    async read(storage, size, dtype) {
      checkDtype(dtype, 'read');
      throwIfLost();
      const s = storageOf(storage, 'read');
      const bytes = size * 4;
      if (bytes === 0) { await check(); return new Float32Array(0); }
      let buf = staging.get(bytes)?.pop();
      buf ??= device.createBuffer({ label: `read:${bytes}`, size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      pass?.end();
      pass = null;
      ensureEncoder().copyBufferToBuffer(s.buffer, 0, buf, 0, bytes);
      flush();
      stats.readBacks++;
      try {
        await unlessLost(buf.mapAsync(GPUMapMode.READ, 0, bytes), 'a read-back');
        await check();
        return new Float32Array(buf.getMappedRange(0, bytes).slice(0)) as CpuArray;
      } finally {
        if (buf.mapState === 'mapped') buf.unmap();
        // a buffer whose mapping never settled (lost device) is not reused
        if (buf.mapState === 'unmapped' && !lost) {
          const list = staging.get(bytes);
          if (list) list.push(buf); else staging.set(bytes, [buf]);
        }
      }
    },

    readSync() {
      throw new Error('webgpu: tensor values live on the GPU; use `await tensor.read()`');
    },

    dispatch(op, plan, storages) {
      throwIfLost();
      const bufs = storages.map((t, k) => storageOf(t, `${op} binding ${k}`));
      const wg = typeof plan.workgroups === 'number' ? grid(plan.workgroups, limits.maxComputeWorkgroupsPerDimension, op) : plan.workgroups;
      if (wg[0] * wg[1] * wg[2] === 0) return;
      encode(op, plan, bufs, wg);
    },

    // a buffer copy in the same command stream (the recorder fills its epoch slots this way)
    copyInto(src, dst, dstOffset, n, srcOffset = 0) {
      throwIfLost();
      const s = storageOf(src, 'copyInto source'), d = storageOf(dst, 'copyInto target');
      if (n === 0) return;
      if ((dstOffset + n) * 4 > d.buffer.size || (srcOffset + n) * 4 > s.buffer.size) {
        throw new Error(`webgpu: copyInto: ${n} values from ${srcOffset} to ${dstOffset} do not fit (${s.buffer.size} → ${d.buffer.size} bytes)`);
      }
      pass?.end();
      pass = null;
      ensureEncoder().copyBufferToBuffer(s.buffer, srcOffset * 4, d.buffer, dstOffset * 4, n * 4);
      touched.add(s.buffer);
      touched.add(d.buffer);
    },

    release(storage) {
      if (storage instanceof GpuStorage) release(storage);
    },

    stats: () => ({ ...stats }),
    flush,

    async sync() {
      throwIfLost();
      flush();
      await unlessLost(device.queue.onSubmittedWorkDone(), 'waiting for the GPU');
      await check();
    },

    trim() {
      flush();
      for (const list of pool.values()) for (const b of list) b.destroy();
      stats.buffersPooled = 0;
      pool.clear();
      for (const list of staging.values()) for (const b of list) b.destroy();
      staging.clear();
    },
  };
  return backend;
}

function grid(count: number, maxDim: number, op: string): [number, number, number] {
  if (count <= maxDim) return [count, 1, 1];
  const y = Math.ceil(count / maxDim);
  if (y > maxDim) throw new Error(`webgpu: ${op}: ${count} workgroups exceed ${maxDim}² (maxComputeWorkgroupsPerDimension)`);
  return [Math.ceil(count / y), y, 1];
}
