// the WebGPU backend's command stream: ops only encode, so dispatches and copies collect in one open
// command encoder (one compute pass, one uniform slot per dispatch) and go to the queue together, at a
// read, a flush() or every `flushEvery` dispatches. Submits are few because each costs far more on the
// CPU than encoding a dispatch. Also the counters stats() reports, shared by the backend's modules.
import type { Dispatch, Layout } from '../../shaders/kernel.ts';
import type { DeviceErrors } from './errors.ts';

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

export const newStats = (): WebGpuStats => ({
  dispatches: 0, submits: 0, readBacks: 0, uploads: 0,
  buffersCreated: 0, buffersReused: 0, buffersLive: 0, buffersPooled: 0, pipelines: 0,
});

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

/** a workgroup count as [x, y, z] within maxComputeWorkgroupsPerDimension (split over x and y) */
export function grid(count: number, maxDim: number, op: string): [number, number, number] {
  if (count <= maxDim) return [count, 1, 1];
  const y = Math.ceil(count / maxDim);
  if (y > maxDim) throw new Error(`webgpu: ${op}: ${count} workgroups exceed ${maxDim}² (maxComputeWorkgroupsPerDimension)`);
  return [Math.ceil(count / y), y, 1];
}

/** the open batch of one backend */
export interface Batch {
  /** encodes one dispatch of `plan` with `buffers` bound at 0..n-1 and its params uniform at n */
  encode(op: string, plan: Dispatch, buffers: readonly GPUBuffer[], wg: readonly number[]): void;
  /** encodes a buffer copy, ordered with the dispatches around it (byte offsets and size) */
  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void;
  /** submits the encoded work (nothing when there is none) */
  flush(): void;
  /** whether an unsubmitted command uses `buffer`: queue.writeBuffer into it must then flush first */
  touches(buffer: GPUBuffer): boolean;
}

export function openBatch(
  device: GPUDevice,
  stats: WebGpuStats,
  errors: DeviceErrors,
  pipelineFor: (op: string, plan: Dispatch) => GPUComputePipeline,
  flushEvery: number,
): Batch {
  // the open batch: one encoder, one compute pass, one uniform slot per dispatch. The slots are written
  // with one writeBuffer just before the submit; a later batch rewriting them is ordered after this
  // submit by the queue, so one ring buffer serves every batch.
  const slot = Math.max(256, device.limits.minUniformBufferOffsetAlignment);
  const ring = device.createBuffer({ label: 'params', size: slot * flushEvery, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  const ringHost = new ArrayBuffer(slot * flushEvery), ringView = new DataView(ringHost);
  let encoder: GPUCommandEncoder | null = null;
  let pass: GPUComputePassEncoder | null = null;
  let slots = 0;
  let batchOps = new Set<string>();
  // buffers the unsubmitted commands use. A buffer may go back to the pool while an unsubmitted command
  // still reads it. That is safe: its next user is either a later dispatch or copy, encoded after those
  // commands and so executed after them (dispatches and copies run in encoding order, each a separate
  // usage scope), or an upload through queue.writeBuffer, which the queue runs *before* the pending
  // commands; an upload therefore submits them first when the buffer is in here (touches()).
  const touched = new Set<GPUBuffer>();

  function ensureEncoder(): GPUCommandEncoder {
    if (!encoder) {
      // the scope catches what the batch's bind groups, dispatches and submit get wrong
      errors.openScope();
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
    // the ops of the batch name a submit that fails validation (one scope covers the whole batch)
    errors.closeScope(`a submit of ops [${[...batchOps].join(', ')}]`);
    encoder = null;
    slots = 0;
    batchOps = new Set();
    touched.clear();
  }

  return {
    encode(op, plan, buffers, wg) {
      // compiled first, so its build check queues ahead of the submit checks after it: check() reports in
      // queue order, and a kernel that failed to build is the cause of the submit that fails with it
      const pipeline = pipelineFor(op, plan);
      if (slots === flushEvery) flush();
      const enc = ensureEncoder();
      const at = slots++ * slot;
      const bytes = packParams(plan.layout, plan.params, ringView, at);
      const entries: GPUBindGroupEntry[] = buffers.map((buffer, k) => ({ binding: k, resource: { buffer } }));
      entries.push({ binding: entries.length, resource: { buffer: ring, offset: at, size: bytes } });
      const bindGroup = device.createBindGroup({ label: op, layout: pipeline.getBindGroupLayout(0), entries });
      pass ??= enc.beginComputePass({ label: 'mlp-lens' });
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(wg[0], wg[1] ?? 1, wg[2] ?? 1);
      stats.dispatches++;
      batchOps.add(op);
      for (const b of buffers) touched.add(b);
    },

    copy(src, srcOffset, dst, dstOffset, bytes) {
      // copies are encoder commands, not pass commands: end the pass (the next dispatch opens another)
      pass?.end();
      pass = null;
      ensureEncoder().copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
      touched.add(src);
      touched.add(dst);
    },

    flush,

    touches: (buffer) => touched.has(buffer),
  };
}
