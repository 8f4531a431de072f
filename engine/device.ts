// device acquisition, one function for every runtime: navigator.gpu in browsers and Deno, Dawn (the
// `webgpu` npm package) in Node. Everything Node-only is in engine/device-node.ts, imported dynamically
// and only under Node, so browsers and Deno never load it (engine/ imports no `node:` module elsewhere).

export type DeviceMode = 'auto' | 'webgpu';
export type Runtime = 'node' | 'deno' | 'browser';

export interface DeviceInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** 'vulkan' | 'opengl' | 'opengles' | 'metal' | 'd3d12' | 'unknown' (inferred where the API does not say) */
  backend: string;
  /** a CPU rasteriser (llvmpipe, lavapipe, SwiftShader): correct, slow */
  software: boolean;
  featureLevel: 'core' | 'compatibility';
  runtime: Runtime;
}

export interface AcquiredDevice { device: GPUDevice; info: DeviceInfo }

// what each device acquired here runs on, so a backend can tune its defaults without being told
const infos = new WeakMap<GPUDevice, DeviceInfo>();

/** the info acquireDevice() returned for `device`, if it made it */
export const deviceInfo = (device: GPUDevice): DeviceInfo | undefined => infos.get(device);

/** what the engine's kernels need beyond the defaults (compatibility mode allows 128 invocations) */
const NEEDS = { maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupSizeX: 64, maxComputeWorkgroupSizeY: 16 };

export function runtime(): Runtime {
  const g = globalThis as any;
  if (g.Deno?.version) return 'deno';
  if (g.process?.versions?.node) return 'node';
  return 'browser';
}

/**
 * the fault-injection hooks of the tests: MLP_LENS_TEST_HOOK is a comma-separated list (e.g.
 * `webgpu-fail`, `pause@1:5`); here only `webgpu-fail` (acquireDevice throws, as a broken driver would)
 */
export function testHooks(): string[] {
  let v: string | undefined;
  try {
    const g = globalThis as any;
    v = g.Deno ? g.Deno.env.get('MLP_LENS_TEST_HOOK') : g.process?.env?.MLP_LENS_TEST_HOOK;
  } catch { /* deno without --allow-env */ }
  return (v ?? '').split(',').map((h) => h.trim()).filter(Boolean);
}

const SOFTWARE = /llvmpipe|lavapipe|swiftshader|softpipe|software|basic render/i;

/** an adapter acquireDevice() may open (engine/device-node.ts finds Node's) */
export interface Candidate { adapter: GPUAdapter; backend: string; compat: boolean }

function inferBackend(rt: Runtime, info: GPUAdapterInfo): string {
  const d = info.description ?? '';
  if (/opengl es/i.test(d)) return 'opengles';
  if (/opengl/i.test(d)) return 'opengl';
  if (rt === 'browser') return 'unknown';
  // Dawn's and wgpu's default backend per platform
  const p = (globalThis as any).Deno?.build?.os ?? (globalThis as any).process?.platform;
  return p === 'darwin' ? 'metal' : p === 'windows' || p === 'win32' ? 'd3d12' : p === 'linux' ? 'vulkan' : 'unknown';
}

/** a CPU rasteriser (SwiftShader, llvmpipe, lavapipe) or an adapter that says it is a fallback: correct, slow */
export const isSoftware = (a: GPUAdapter): boolean => {
  const i = a.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  return !!(i.isFallbackAdapter || (a as any).isFallbackAdapter) ||
    SOFTWARE.test(`${i.vendor} ${i.device} ${i.description}`);
};

/**
 * a GPUDevice and what it runs on, or null when `mode` is 'auto' and there is no hardware adapter (the
 * caller then uses the CPU backend). 'auto' accepts only a hardware GPU; 'webgpu' also accepts a software
 * one (Mesa llvmpipe through Dawn's OpenGL backend in Node, lavapipe in Deno) and throws, naming
 * everything it tried, when there is none. Node: call releaseDevice() when done (see there).
 */
export async function acquireDevice(opts: { mode: DeviceMode }): Promise<AcquiredDevice | null> {
  if (testHooks().includes('webgpu-fail')) {
    throw new Error('acquireDevice: WebGPU failed to start (simulated by MLP_LENS_TEST_HOOK=webgpu-fail)');
  }
  const rt = runtime(), allowSoftware = opts.mode === 'webgpu';
  const tried: string[] = [];
  const candidates: Candidate[] = [];
  const note = (what: string, a: GPUAdapter | null) =>
    tried.push(`${what}: ${a ? `${a.info.device || a.info.description}${isSoftware(a) ? ' (software)' : ''}` : 'no adapter'}`);

  // imported only under Node: a browser bundle never runs it, Deno never loads it
  const node = rt === 'node' ? await import('./device-node.ts') : undefined;
  const gpuNode = !node || (await node.mayHaveGpu());
  if (!allowSoftware && !gpuNode) {
    // 'auto' on a machine with no GPU device node: skip loading Dawn, which would only find (and
    // loudly reject) the software rasterisers
    return null;
  }
  if (node) {
    candidates.push(...await node.dawnCandidates({ gpuNode, allowSoftware, tried, note, isSoftware }));
  } else {
    // Mesa (lavapipe) complains on stderr when this is unset
    const deno = (globalThis as any).Deno;
    if (deno && !deno.env.get('XDG_RUNTIME_DIR')) deno.env.set('XDG_RUNTIME_DIR', deno.makeTempDirSync({ prefix: 'mlp-lens-xdg-' }));
    const gpu = (globalThis as any).navigator?.gpu as GPU | undefined;
    if (!gpu) {
      tried.push(`navigator.gpu (${rt}): absent${rt === 'browser' ? ' (needs a secure page; Chromium: --enable-unsafe-webgpu)' : ''}`);
    } else {
      const a = await gpu.requestAdapter({ powerPreference: 'high-performance' });
      note(`navigator.gpu (${rt}), core`, a);
      if (a) candidates.push({ adapter: a, backend: 'unknown', compat: false });
      if (!a && allowSoftware) {
        const c = await gpu.requestAdapter({ featureLevel: 'compatibility' });
        note(`navigator.gpu (${rt}), compatibility`, c);
        if (c) candidates.push({ adapter: c, backend: 'unknown', compat: true });
      }
    }
  }

  const pick = candidates.find((c) => !isSoftware(c.adapter)) ?? (allowSoftware ? candidates[0] : undefined);
  if (!pick) {
    if (opts.mode === 'auto') return null;
    throw new Error(`acquireDevice: no WebGPU adapter. Tried:\n  ${tried.join('\n  ')}\n` +
      'Without a GPU, install Mesa (apt-get install mesa-vulkan-drivers libvulkan1 libegl1 libegl-mesa0 ' +
      'libgles2 libgl1-mesa-dri) or use the CPU backend.');
  }
  return open(pick, rt);
}

/** features requested whenever the adapter has them */
export const OPTIONAL_FEATURES = ['timestamp-query', 'subgroups'] as GPUFeatureName[];

/**
 * a device on an adapter the caller found itself (bench/kernels.js's Dawn-on-Vulkan SwiftShader run), opened
 * as acquireDevice() opens its own: the engine's limits, the optional features, deviceInfo() registered
 */
export const openAdapter = (adapter: GPUAdapter, backend: string, compat = false): Promise<AcquiredDevice> =>
  open({ adapter, backend, compat }, runtime());

async function open({ adapter, backend, compat }: Candidate, rt: Runtime): Promise<AcquiredDevice> {
  const have = adapter.limits;
  const short = Object.entries(NEEDS).filter(([k, v]) => (have as any)[k] < v);
  if (short.length) {
    throw new Error(`acquireDevice: adapter ${adapter.info.device || adapter.info.description} lacks limits ` +
      short.map(([k, v]) => `${k} ≥ ${v} (has ${(have as any)[k]})`).join(', '));
  }
  const requiredLimits: Record<string, number> = {
    ...NEEDS,
    // as large as allowed: compatibility mode caps bindings at 128 MiB
    maxStorageBufferBindingSize: have.maxStorageBufferBindingSize,
    maxBufferSize: have.maxBufferSize,
    maxStorageBuffersPerShaderStage: Math.min(8, have.maxStorageBuffersPerShaderStage),
  };
  // a compatibility adapter that can do core: ask for core (fewer restrictions)
  const core = 'core-features-and-limits' as GPUFeatureName;
  const requiredFeatures: GPUFeatureName[] = compat && adapter.features.has(core) ? [core] : [];
  // optional, taken where the adapter offers them: GPU-side kernel timing (bench/kernels.js) and the
  // subgroup matmul variant (shaders/matmul.ts); nothing else changes with them
  for (const f of OPTIONAL_FEATURES) if (adapter.features.has(f)) requiredFeatures.push(f);
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures, label: 'mlp-lens' });
  const i = adapter.info;
  const info: DeviceInfo = {
    vendor: i.vendor ?? '',
    architecture: i.architecture ?? '',
    device: i.device ?? '',
    description: i.description ?? '',
    backend: backend === 'unknown' ? inferBackend(rt, i) : backend,
    software: isSoftware(adapter),
    featureLevel: compat && !device.features.has(core) ? 'compatibility' : 'core',
    runtime: rt,
  };
  infos.set(device, info);
  return { device, info };
}

/**
 * destroys the device (its buffers go with it). Node: Dawn keeps the process alive while a device
 * has work in flight; after the last read a script exits by itself, but calling this makes it certain.
 */
export function releaseDevice(device: GPUDevice): void {
  device.destroy();
}
