// `bench/train.js --profile`: time per kernel per training step and dispatches per step. It wraps the
// backend and counts every op's calls by kernel (op name, plus the output shape for matmul). On the CPU
// each run() is timed where it happens. On WebGPU nothing is timed inside the run (waiting per dispatch
// would serialise the GPU, and onSubmittedWorkDone resolves in batches under Dawn, so gaps between
// completions do not measure kernels): at the end each distinct call (op, shapes, attributes) is replayed
// on its own, with zero-filled inputs, in batches of 20 between two syncs, and its time per call times
// its calls per step gives ms/step. Timestamp queries could time the run itself (bench/kernels-run.ts's
// PassTimer does for the kernel benchmark, on Deno's lavapipe, Chromium's SwiftShader and Dawn/Vulkan on
// SwiftShader); the profile does not use them yet: its replays are wall-clock.
import type { Backend } from '../engine/backend.ts';
import type { WebGpuBackend } from '../engine/webgpu.ts';

export interface KernelProfile {
  /** op name, with the matmul output shape (e.g. 'matmul 64×32') */
  kernel: string;
  calls: number;
  ms: number;
}

export interface Profiler {
  backend: Backend;
  /** call once per training step (onStep) */
  step(): void;
  /** waits for the GPU, then the per-kernel totals, most expensive first */
  report(): Promise<{ steps: number; method: string; kernels: KernelProfile[] }>;
}

export function profileBackend(inner: Backend): Profiler {
  const totals = new Map<string, KernelProfile>();
  const add = (kernel: string, calls: number, ms: number) => {
    const k = totals.get(kernel) ?? { kernel, calls: 0, ms: 0 };
    k.calls += calls; k.ms += ms;
    totals.set(kernel, k);
  };
  let steps = 0;
  const gpu = inner.name === 'webgpu' ? inner as WebGpuBackend : null;
  // webgpu: each distinct call, counted, replayed at the end
  const seen = new Map<string, { kernel: string; calls: number; prim: any; shapes: number[][]; outShape: number[]; dtype: any; attrs: unknown }>();
  const wrapped: Backend = Object.create(inner);
  wrapped.run = (prim, inputs, outShape, dtype, attrs) => {
    const kernel = prim.name === 'matmul' ? `matmul ${outShape.join('×')}` : prim.name;
    if (!gpu) {
      const t0 = performance.now();
      const out = inner.run(prim, inputs, outShape, dtype, attrs);
      add(kernel, 1, performance.now() - t0);
      return out;
    }
    const before = gpu.stats().dispatches;
    const out = inner.run(prim, inputs, outShape, dtype, attrs);
    if (gpu.stats().dispatches === before) return out; // an alias (reshape) or an empty output: nothing ran
    const shapes = inputs.map((t) => [...t.shape]);
    const key = `${prim.name} ${JSON.stringify(shapes)} ${JSON.stringify(outShape)} ${JSON.stringify(attrs)}`;
    const e = seen.get(key);
    if (e) e.calls++; else seen.set(key, { kernel, calls: 1, prim, shapes, outShape: [...outShape], dtype, attrs });
    return out;
  };
  return {
    backend: wrapped,
    step: () => { steps++; },
    async report() {
      if (gpu) {
        await gpu.sync();
        const reps = 20;
        for (const c of seen.values()) {
          const ins = c.shapes.map((sh) => ({ shape: sh, storage: inner.upload(new Float32Array(sh.reduce((a, b) => a * b, 1)), 'f32') }));
          const once = () => { const o = inner.run(c.prim, ins, c.outShape, c.dtype, c.attrs); inner.release(o); };
          once();
          await gpu.sync();
          const t0 = performance.now();
          for (let i = 0; i < reps; i++) once();
          await gpu.sync();
          add(c.kernel, c.calls, c.calls * (performance.now() - t0) / reps);
          for (const i of ins) inner.release(i.storage);
        }
      }
      return {
        steps, method: gpu ? 'webgpu: each distinct call replayed alone (zero inputs, 20 per sync), × its calls' : 'cpu: performance.now() around each op',
        kernels: [...totals.values()].sort((a, b) => b.ms - a.ms),
      };
    },
  };
}

/** the report as a table: ms and dispatches per step for each kernel */
export function formatProfile(r: Awaited<ReturnType<Profiler['report']>>): string {
  const n = Math.max(1, r.steps);
  const total = r.kernels.reduce((s, k) => s + k.ms, 0);
  const lines = [`profile over ${r.steps} steps (${r.method}); includes evaluation and statistics kernels run between steps`,
    '| kernel | ms/step | calls/step | share |', '| --- | ---: | ---: | ---: |'];
  for (const k of r.kernels) lines.push(`| ${k.kernel} | ${(k.ms / n).toFixed(3)} | ${(k.calls / n).toFixed(2)} | ${(100 * k.ms / (total || 1)).toFixed(1)} % |`);
  lines.push(`| total | ${(total / n).toFixed(3)} | ${(r.kernels.reduce((s, k) => s + k.calls, 0) / n).toFixed(2)} | |`);
  return lines.join('\n');
}
