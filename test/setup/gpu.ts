// one WebGPU device per test process (npm test imports every test file into one process), software
// adapters included: this is how CI, which has no GPU, runs the WGSL kernels on Mesa. No adapter at all:
// { skip: reason }, so suites print why and count as skipped; MLP_LENS_REQUIRE_WEBGPU=1 makes that an error.
import { acquireDevice, type DeviceInfo } from '../../engine/device.ts';
import { createWebGpuBackend, type WebGpuBackend, type WebGpuOptions } from '../../engine/webgpu.ts';

export interface TestGpu { backend: WebGpuBackend; device: GPUDevice; info: DeviceInfo }

let cached: Promise<TestGpu | { skip: string }> | undefined;

function required(): boolean {
  const g = globalThis as any;
  try {
    return (g.Deno ? g.Deno.env.get('MLP_LENS_REQUIRE_WEBGPU') : g.process?.env?.MLP_LENS_REQUIRE_WEBGPU) === '1';
  } catch { return false; }
}

export function testGpu(): Promise<TestGpu | { skip: string }> {
  cached ??= acquireDevice({ mode: 'webgpu' }).then(
    (got) => {
      const { device, info } = got!;
      return { backend: createWebGpuBackend(device), device, info };
    },
    (e: Error) => {
      if (required()) throw e;
      const tried = e.message.split('\n').slice(1, -1).map((l) => l.trim()).join('; ');
      return { skip: `no WebGPU adapter on this machine (${tried || e.message})` };
    });
  return cached;
}

/** a second backend on the shared device (own pool, counters and options) */
export async function extraBackend(opts: WebGpuOptions): Promise<WebGpuBackend | null> {
  const g = await testGpu();
  return 'skip' in g ? null : createWebGpuBackend(g.device, opts);
}

/** one line naming the adapter, for test logs */
export const describeGpu = (i: DeviceInfo): string =>
  `${/^\d*$/.test(i.device) ? i.description : i.device} (${i.backend}, ${i.featureLevel}${i.software ? ', software' : ''}, ${i.runtime})`;
