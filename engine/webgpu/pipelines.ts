// shader compilation for the WebGPU backend: one labelled module and pipeline per op and variant, built
// once and cached, so a WGSL or validation error names the op (docs: STYLE.md lesson 6) and a training
// loop stops compiling after its first step. Also which kernel variant each op uses on this device.
import { deviceInfo } from '../device.ts';
import type { Dispatch } from '../../shaders/kernel.ts';
import type { DeviceErrors } from './errors.ts';

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

/**
 * the kernel variant per op: `overrides` (benchmarks) over the default, which is matmul 'auto:gpu' on a
 * GPU and 'auto:software' / 'auto:swiftshader' on a CPU rasteriser, resolved per product shape by
 * pickMatmulVariant (engine/ops/matmul.ts): the fastest kernel differs between the two kinds of device
 */
export function kernelVariants(device: GPUDevice, overrides?: Record<string, string>): Record<string, string> {
  const info = deviceInfo(device);
  const auto = !info?.software ? 'auto:gpu'
    : /swiftshader/i.test(`${info.vendor} ${info.architecture} ${info.device} ${info.description}`) ? 'auto:swiftshader' : 'auto:software';
  return { matmul: auto, ...overrides };
}

/**
 * the pipeline cache of one backend: `pipelineFor(op, plan)` builds a plan's kernel on first use, labelled
 * `op` or `op:variant`, and queues its build check on `errors` (so the next read() names a kernel that
 * failed to compile); `onBuilt` counts builds for stats()
 */
/** a backend's pipelines: built on first use, or ahead of it by warm() */
export type PipelineCache = ((op: string, plan: Dispatch) => GPUComputePipeline) & {
  /**
   * builds a plan's pipeline ahead of its first dispatch with createComputePipelineAsync, which compiles
   * off the GPU process's main thread where the browser can (a software adapter's compile of a large
   * kernel takes seconds there, and a page sharing that thread paints no frame meanwhile). A failure is
   * left to the synchronous build at first use, which names the kernel
   */
  warm(op: string, plan: Dispatch): Promise<void>;
};

export function pipelineCache(device: GPUDevice, errors: DeviceErrors, onBuilt: () => void): PipelineCache {
  const printShader = debugShaders();
  // keyed by label: a plan's `variant` names everything its WGSL depends on (shaders/kernel.ts), so
  // shapes never add a pipeline; they reach the kernel through its params uniform
  const pipelines = new Map<string, GPUComputePipeline>();
  const warm = async (op: string, plan: Dispatch): Promise<void> => {
    const label = plan.variant ? `${op}:${plan.variant}` : op;
    if (pipelines.has(label)) return;
    const code = plan.source();
    if (printShader(op)) console.error(`// --- ${label}\n${code}`);
    try {
      const module = device.createShaderModule({ label, code });
      const p = await device.createComputePipelineAsync({ label, layout: 'auto', compute: { module, entryPoint: 'main' } });
      if (!pipelines.has(label)) { pipelines.set(label, p); onBuilt(); }
    } catch { /* built again at first use, where its error names the kernel */ }
  };
  return Object.assign((op: string, plan: Dispatch) => {
    const label = plan.variant ? `${op}:${plan.variant}` : op;
    let p = pipelines.get(label);
    if (!p) {
      const code = plan.source();
      if (printShader(op)) console.error(`// --- ${label}\n${code}`);
      const built = compileKernel(device, label, code);
      p = built.pipeline;
      errors.defer(built.checked);
      pipelines.set(label, p);
      onBuilt();
    }
    return p;
  }, { warm });
}
