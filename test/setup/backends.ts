// the backends every op suite runs on. adding one is one entry in `factories`: a name and an async
// factory that returns the backend, or { skip: reason } when this machine cannot have it (no WebGPU
// adapter); its suites then print the reason and count their tests as skipped.
import type { Backend } from '../../engine/backend.ts';
import { cpu } from '../../engine/cpu.ts';

export interface TestBackend { name: string; backend: Backend | null; skipReason?: string }

type Factory = () => Promise<Backend | { skip: string }>;

const factories: [name: string, make: Factory][] = [
  ['cpu', async () => cpu],
  // software adapters too (Mesa llvmpipe/lavapipe): CI has no GPU; test/setup/gpu.ts shares one device
  ['webgpu', async () => { const g = await (await import('./gpu.ts')).testGpu(); return 'skip' in g ? g : g.backend; }],
];

// one device per process: `npm test` imports every test file into the same process
let cached: Promise<TestBackend[]> | undefined;

export async function testBackends(): Promise<TestBackend[]> {
  cached ??= Promise.all(factories.map(async ([name, make]): Promise<TestBackend> => {
    const made = await make();
    return 'skip' in made ? { name, backend: null, skipReason: made.skip } : { name, backend: made };
  }));
  return cached;
}
