// Kernel timings (`node bench/kernels.js`, `deno run -A bench/kernels.js`): every matmul variant and a set
// of other primitives on the WebGPU backend, the same ops on the CPU backend, and TensorFlow.js's WebGPU
// backend on the same device as a peer, each against the adapter's measured ceilings (a large buffer copy
// for bandwidth, the best matmul for compute). Results as a table and as JSON (--out FILE).
// Timing: GPU timestamps (a querySet written at the start and end of every compute pass the calls ran in)
// where the device has 'timestamp-query', else submit + onSubmittedWorkDone around N calls; each row says which.
import { cpu } from '../engine/cpu.ts';
import { acquireDevice, openAdapter, type AcquiredDevice, type DeviceInfo } from '../engine/device.ts';
import { add, conv2d, conv2dInputGrad, conv2dWeightGrad, exp, matmul, max, maxPool2d, maxPool2dGrad, relu, scale, softmaxCrossEntropy, sum } from '../engine/ops/index.ts';
import { Tensor } from '../engine/tensor.ts';
import { dispose, tidy } from '../engine/memory.ts';
import { createWebGpuBackend, type WebGpuBackend } from '../engine/webgpu.ts';
import type { Backend } from '../engine/backend.ts';
import { MATMUL_FEATURES, MATMUL_VARIANTS } from '../shaders/matmul.ts';

export interface KernelOptions {
  /** tiny shapes, 1 iteration (tests) */
  quick?: boolean;
  /** timed iterations per repeat (default 5) */
  iters?: number;
  /** repeats; the median is reported (default 3) */
  repeats?: number;
  /** include 4096³ (minutes on a software adapter) */
  big?: boolean;
  cpu?: boolean;
  tfjs?: boolean;
  /** only the tfjs rows (the child process runKernels starts for them) */
  tfjsOnly?: boolean;
  /** matmul variants to time (default all the device can run) */
  variants?: string[];
  /**
   * 'wall': submit + onSubmittedWorkDone even where the device has timestamp-query (to compare the two);
   * 'auto' (default): timestamps where the device has them
   */
  timing?: 'auto' | 'wall';
  /**
   * Node only: the adapter. 'default': engine/device.ts's (llvmpipe through Dawn's GL backend here);
   * 'vulkan-swiftshader': Dawn's Vulkan backend on the SwiftShader Vulkan driver that Debian's chromium
   * ships (VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json), which offers timestamp-query and subgroups
   */
  adapter?: 'default' | 'vulkan-swiftshader';
  log?: (line: string) => void;
}

export interface KernelRow {
  /** e.g. 'matmul', 'add' */
  op: string;
  /** kernel variant ('naive', 'tiled', …; '' for ops with one) */
  variant: string;
  /** 'webgpu' | 'cpu' | 'tfjs-webgpu' */
  impl: string;
  /** e.g. '64×784·784×32', 'Aᵀ' marks a transposed operand */
  shape: string;
  /** median milliseconds per call */
  ms: number;
  /**
   * how `ms` was measured: 'timestamp' (GPU time from timestamp queries: the compute passes the calls
   * ran in, start to end), 'wall' (submit + onSubmittedWorkDone around N calls; for cpu rows
   * performance.now() around N calls; for tfjs a read-back after N calls)
   */
  timing?: 'timestamp' | 'wall';
  /** timestamp rows: the wall-clock ms per call of the same repeats (encoding + submit + wait included) */
  wallMs?: number;
  flops?: number;
  bytes?: number;
  gflops?: number;
  gbps?: number;
  /** of the measured ceiling: compute for matmul, bandwidth for the rest */
  ofCeiling?: number;
  /** why there is no time */
  skipped?: string;
}

export interface KernelResults {
  schema: 'mlp-lens/kernels@1';
  date: string;
  runtime: { name: string; version: string };
  versions: Record<string, string>;
  adapter: (DeviceInfo & { features: string[] }) | null;
  timing: string;
  ceilings: { copyGBps: number | null; matmulGFlops: number | null; matmulBest: string | null };
  rows: KernelRow[];
  notes: string[];
}

interface MatmulShape { m: number; k: number; n: number; transA?: boolean; transB?: boolean; what: string }

export function matmulShapes(o: KernelOptions): MatmulShape[] {
  if (o.quick) return [{ m: 5, k: 7, n: 3, what: 'tiny' }, { m: 17, k: 33, n: 9, transA: true, what: 'tiny, Aᵀ' }];
  const s: MatmulShape[] = [
    { m: 64, k: 784, n: 32, what: 'MLP layer 1 forward' },
    { m: 784, k: 64, n: 32, transA: true, what: 'MLP layer 1 dW = xᵀ·dy' },
    { m: 64, k: 32, n: 16, what: 'MLP layer 2 forward' },
    { m: 64, k: 16, n: 10, what: 'MLP layer 3 forward' },
    { m: 1024, k: 784, n: 32, what: 'large batch, layer 1' },
    { m: 1024, k: 1024, n: 1024, what: 'square 1024³' },
  ];
  if (o.big) s.push({ m: 4096, k: 4096, n: 4096, what: 'square 4096³' });
  return s;
}

export const shapeLabel = (s: MatmulShape): string =>
  `${s.m}×${s.k}${s.transA ? 'ᵀ' : ''}·${s.k}×${s.n}${s.transB ? 'ᵀ' : ''}`;

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

function rand(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; a[i] = ((x >>> 0) / 4294967296) - 0.5; }
  return a;
}

/**
 * GPU timestamps for the engine's own dispatches: `device` is a stand-in for the real device (a Proxy) whose
 * command encoders begin every compute pass with timestampWrites while the timer is armed, one pair of
 * queries per pass. The backend keeps its batching (one pass per batch of dispatches); the time of N calls
 * is the sum of the passes they ran in, start of pass to end of pass.
 */
export class PassTimer {
  static readonly PAIRS = 512;
  readonly device: GPUDevice;
  private readonly querySet: GPUQuerySet;
  private readonly resolve: GPUBuffer;
  private readonly readBack: GPUBuffer;
  private used = 0;
  private armed = false;
  /** passes that got no queries (over PAIRS in one measurement): that measurement is invalid */
  private missed = 0;

  constructor(private readonly real: GPUDevice) {
    this.querySet = real.createQuerySet({ type: 'timestamp', count: 2 * PassTimer.PAIRS, label: 'kernels timer' });
    this.resolve = real.createBuffer({ size: 16 * PassTimer.PAIRS, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
    this.readBack = real.createBuffer({ size: 16 * PassTimer.PAIRS, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    // methods and getters run on the real objects (native bindings check their receiver)
    const through = <T extends object>(t: T, k: string | symbol) => { const v = Reflect.get(t, k, t); return typeof v === 'function' ? v.bind(t) : v; };
    const self = this;
    this.device = new Proxy(real, {
      get(t, k) {
        if (k !== 'createCommandEncoder') return through(t, k);
        return (desc?: GPUCommandEncoderDescriptor) => {
          const enc = t.createCommandEncoder(desc);
          return new Proxy(enc, {
            get(e, k2) {
              if (k2 !== 'beginComputePass') return through(e, k2);
              return (d: GPUComputePassDescriptor = {}) => e.beginComputePass({ ...d, ...self.next() });
            },
          });
        };
      },
    });
  }

  /** the timestampWrites of the next pass, while armed */
  next(): { timestampWrites?: GPUComputePassTimestampWrites } {
    if (!this.armed) return {};
    if (this.used === PassTimer.PAIRS) { this.missed++; return {}; }
    const i = this.used++;
    return { timestampWrites: { querySet: this.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } };
  }

  arm(): void { this.armed = true; this.used = 0; this.missed = 0; }

  /** stops, resolves the queries of the passes since arm(), and returns their summed ns (null if none or invalid) */
  async collect(): Promise<{ ns: number; passes: number } | null> {
    this.armed = false;
    const n = this.used;
    if (!n || this.missed) return null;
    const enc = this.real.createCommandEncoder({ label: 'kernels timer resolve' });
    enc.resolveQuerySet(this.querySet, 0, 2 * n, this.resolve, 0);
    enc.copyBufferToBuffer(this.resolve, 0, this.readBack, 0, 16 * n);
    this.real.queue.submit([enc.finish()]);
    await this.readBack.mapAsync(GPUMapMode.READ, 0, 16 * n);
    const t = new BigUint64Array(this.readBack.getMappedRange(0, 16 * n).slice(0));
    this.readBack.unmap();
    let ns = 0;
    for (let i = 0; i < n; i++) {
      // an implementation that writes nothing (0s) or runs its clock backwards gives no time
      if (t[2 * i] === 0n || t[2 * i + 1] < t[2 * i]) return null;
      ns += Number(t[2 * i + 1] - t[2 * i]);
    }
    // all zero-length: a clock too coarse for these calls (browsers round timestamps to 100 µs by default)
    return ns > 0 ? { ns, passes: n } : null;
  }

  /**
   * ns the GPU took for `encode`'s copies: two empty compute passes around them, timestamped at the start
   * of the first and the end of the second (copies are not in passes; WebGPU has no timestamp between commands)
   */
  async bracket(encode: (enc: GPUCommandEncoder) => void): Promise<number | null> {
    const enc = this.real.createCommandEncoder({ label: 'kernels timer bracket' });
    enc.beginComputePass({ timestampWrites: { querySet: this.querySet, beginningOfPassWriteIndex: 0 } }).end();
    encode(enc);
    enc.beginComputePass({ timestampWrites: { querySet: this.querySet, endOfPassWriteIndex: 1 } }).end();
    enc.resolveQuerySet(this.querySet, 0, 2, this.resolve, 0);
    enc.copyBufferToBuffer(this.resolve, 0, this.readBack, 0, 16);
    this.real.queue.submit([enc.finish()]);
    await this.readBack.mapAsync(GPUMapMode.READ, 0, 16);
    const t = new BigUint64Array(this.readBack.getMappedRange(0, 16).slice(0));
    this.readBack.unmap();
    return t[0] === 0n || t[1] <= t[0] ? null : Number(t[1] - t[0]);
  }

  destroy(): void { this.querySet.destroy(); this.resolve.destroy(); this.readBack.destroy(); }
}

interface GpuTime { ms: number; timing: 'timestamp' | 'wall'; wallMs?: number }

/**
 * median ms per call of `run` over `repeats` repeats of `iters` calls (sync after each), one warm-up call
 * first. With a timer (the backend built on timer.device): GPU time from the timestamps of those passes;
 * a repeat whose timestamps are unusable (none, zeros, more than its wall time) makes the row 'wall'.
 */
async function timeGpu(b: WebGpuBackend, run: () => void, iters: number, repeats: number, timer: PassTimer | null): Promise<GpuTime> {
  tidy(run);
  await b.sync();
  const wall: number[] = [], gpu: number[] = [];
  let stampsOk = !!timer;
  for (let r = 0; r < repeats; r++) {
    timer?.arm();
    const t0 = performance.now();
    for (let i = 0; i < iters; i++) tidy(run);
    await b.sync();
    const w = (performance.now() - t0) / iters;
    wall.push(w);
    if (timer) {
      const got = await timer.collect();
      // a GPU time longer than the wall clock around it is a clock we cannot read (e.g. ticks, not ns)
      if (!got || got.ns / 1e6 / iters > 1.05 * w + 0.01) stampsOk = false; else gpu.push(got.ns / 1e6 / iters);
    }
  }
  return stampsOk ? { ms: median(gpu), timing: 'timestamp', wallMs: median(wall) } : { ms: median(wall), timing: 'wall' };
}

function timeCpu(run: () => void, iters: number, repeats: number): number {
  run();
  const ts: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    for (let i = 0; i < iters; i++) run();
    ts.push((performance.now() - t0) / iters);
  }
  return median(ts);
}

/** the other primitives: one representative call each, with the bytes it must move (inputs + output) */
interface OpCase { op: string; variant: string; shape: string; bytes: number; make(b: Backend): () => void }

function opCases(o: KernelOptions): OpCase[] {
  const N = o.quick ? 1000 : 1 << 20;
  const rows = o.quick ? 10 : 1024, cols = o.quick ? 7 : 784;
  const on = (b: Backend, n: number, shape: number[], seed: number) => Tensor.from(rand(n, seed), shape, { backend: b });
  return [
    { op: 'add', variant: 'same', shape: `${N}`, bytes: 12 * N, make: (b) => { const x = on(b, N, [N], 1), y = on(b, N, [N], 2); return () => { add(x, y); }; } },
    { op: 'add', variant: 'row', shape: `${rows}×${cols} + ${cols}`, bytes: 4 * (2 * rows * cols + cols),
      make: (b) => { const x = on(b, rows * cols, [rows, cols], 3), y = on(b, cols, [cols], 4); return () => { add(x, y); }; } },
    { op: 'relu', variant: '', shape: `${N}`, bytes: 8 * N, make: (b) => { const x = on(b, N, [N], 5); return () => { relu(x); }; } },
    { op: 'exp', variant: '', shape: `${N}`, bytes: 8 * N, make: (b) => { const x = on(b, N, [N], 6); return () => { exp(x); }; } },
    { op: 'scale', variant: '', shape: `${N}`, bytes: 8 * N, make: (b) => { const x = on(b, N, [N], 7); return () => { scale(x, 0.5); }; } },
    { op: 'sum', variant: 'axis 1', shape: `${rows}×${cols} → ${rows}`, bytes: 4 * (rows * cols + rows),
      make: (b) => { const x = on(b, rows * cols, [rows, cols], 8); return () => { sum(x, 1); }; } },
    { op: 'sum', variant: 'axis 0', shape: `${rows}×${cols} → ${cols}`, bytes: 4 * (rows * cols + cols),
      make: (b) => { const x = on(b, rows * cols, [rows, cols], 9); return () => { sum(x, 0); }; } },
    { op: 'max', variant: 'axis 1', shape: `${rows}×${cols} → ${rows}`, bytes: 4 * (rows * cols + rows),
      make: (b) => { const x = on(b, rows * cols, [rows, cols], 10); return () => { max(x, 1); }; } },
    { op: 'softmaxCrossEntropy', variant: '', shape: `${rows * 16}×10`, bytes: 4 * (rows * 16 * 11 + rows * 16),
      make: (b) => {
        const n = rows * 16, x = on(b, n * 10, [n, 10], 11);
        const y = Tensor.from(Float32Array.from({ length: n }, (_, i) => i % 10), [n], { backend: b });
        return () => { softmaxCrossEntropy(x, y); };
      } },
  ];
}

/**
 * the CNN primitives at the reference CNN's shapes (conv 1→8 5×5 on 28×28, pool 2, conv 8→16 5×5, pool 2;
 * batch 64): conv2d forward and its input and weight gradients with 2·N·O·OH·OW·C·KH·KW flops each, and
 * max pooling forward and backward with the bytes they must move
 */
interface CnnCase { op: string; variant: string; shape: string; flops?: number; bytes?: number; make(b: Backend): () => void }

export function cnnCases(o: KernelOptions): CnnCase[] {
  const on = (b: Backend, shape: number[], seed: number) => Tensor.from(rand(shape.reduce((p, q) => p * q, 1), seed), shape, { backend: b });
  const convs: [number[], number[]][] = o.quick
    ? [[[2, 1, 8, 8], [3, 1, 3, 3]], [[3, 5, 7, 6], [6, 5, 3, 2]]]
    : [[[64, 1, 28, 28], [8, 1, 5, 5]], [[64, 8, 12, 12], [16, 8, 5, 5]]];
  const pools: number[][] = o.quick ? [[2, 3, 8, 8], [3, 2, 5, 7]] : [[64, 8, 24, 24], [64, 16, 8, 8]];
  const cases: CnnCase[] = [];
  for (const [x, w] of convs) {
    const [n, c, h, wd] = x, [oc, , kh, kw] = w, oh = h - kh + 1, ow = wd - kw + 1;
    const flops = 2 * n * oc * oh * ow * c * kh * kw, dy = [n, oc, oh, ow];
    const shape = `[${x}]·[${w}]`;
    cases.push(
      { op: 'conv2d', variant: 'forward', shape, flops, make: (b) => { const X = on(b, x, 21), W = on(b, w, 22), B = on(b, [oc], 23); return () => { conv2d(X, W, B); }; } },
      { op: 'conv2d', variant: 'input grad', shape, flops,
        make: (b) => { const D = on(b, dy, 24), W = on(b, w, 22); return () => { conv2dInputGrad(D, W, { stride: 1, padding: 0, height: h, width: wd }); }; } },
      { op: 'conv2d', variant: 'weight grad', shape, flops,
        make: (b) => { const X = on(b, x, 21), D = on(b, dy, 24); return () => { conv2dWeightGrad(X, D, { stride: 1, padding: 0, kh, kw }); }; } },
    );
  }
  for (const x of pools) {
    const n = x.reduce((p, q) => p * q, 1), y = [x[0], x[1], Math.floor(x[2] / 2), Math.floor(x[3] / 2)], ny = y.reduce((p, q) => p * q, 1);
    cases.push(
      { op: 'max_pool2d', variant: 'forward', shape: `[${x}] k2`, bytes: 4 * (n + ny), make: (b) => { const X = on(b, x, 25); return () => { maxPool2d(X); }; } },
      { op: 'max_pool2d', variant: 'backward', shape: `[${x}] k2`, bytes: 4 * (2 * n + ny),
        make: (b) => { const X = on(b, x, 25), D = on(b, y, 26); return () => { maxPool2dGrad(X, D, { kernel: 2, stride: 2, padding: 0 }); }; } },
    );
  }
  return cases;
}

/** a row of a CNN case from its time: GFLOP/s for the convolutions, GB/s for pooling */
const cnnRow = (c: CnnCase, impl: string, t: { ms: number; timing: 'timestamp' | 'wall'; wallMs?: number }): KernelRow => ({
  op: c.op, variant: c.variant, impl, shape: c.shape, ...t,
  ...(c.flops ? { flops: c.flops, gflops: c.flops / (t.ms * 1e6) } : { bytes: c.bytes, gbps: c.bytes! / (t.ms * 1e6) }),
});

/**
 * device-to-device copies of a large buffer: the bandwidth ceiling (read + write bytes per second). With a
 * timer, the GPU time between two empty timestamped passes around the copies
 */
async function copyCeiling(device: GPUDevice, quick: boolean, iters: number, repeats: number, timer: PassTimer | null): Promise<{ gbps: number; timing: 'timestamp' | 'wall' }> {
  const bytes = quick ? 1 << 16 : 64 << 20;
  const use = GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST | GPUBufferUsage.STORAGE;
  const src = device.createBuffer({ size: bytes, usage: use }), dst = device.createBuffer({ size: bytes, usage: use });
  const copies = (enc: GPUCommandEncoder, n: number) => { for (let i = 0; i < n; i++) enc.copyBufferToBuffer(src, 0, dst, 0, bytes); };
  const go = async (n: number) => {
    const enc = device.createCommandEncoder();
    copies(enc, n);
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
  };
  await go(1);
  const ts: number[] = [], gpu: number[] = [];
  let stampsOk = !!timer;
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    if (timer) {
      const ns = await timer.bracket((enc) => copies(enc, iters));
      const w = (performance.now() - t0) / iters;
      ts.push(w);
      if (ns === null || ns / 1e6 / iters > 1.05 * w + 0.01) stampsOk = false; else gpu.push(ns / 1e6 / iters);
    } else { await go(iters); ts.push((performance.now() - t0) / iters); }
  }
  src.destroy(); dst.destroy();
  return { gbps: (2 * bytes) / (median(stampsOk ? gpu : ts) * 1e6), timing: stampsOk ? 'timestamp' : 'wall' };
}

/** the Chromium package's SwiftShader Vulkan driver (Debian): Dawn's Vulkan backend accepts it, unlike lavapipe */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/**
 * Node: a device on Dawn's Vulkan backend over the SwiftShader Vulkan driver of Debian's chromium package
 * (offers timestamp-query and subgroups; llvmpipe through Dawn's GL backend offers neither). Opened as
 * engine/device.ts opens its own (limits, optional features, deviceInfo).
 */
export async function acquireVulkanSwiftShader(): Promise<AcquiredDevice> {
  const g = globalThis as any;
  if (!g.process?.versions?.node || g.Deno) throw new Error('the vulkan-swiftshader adapter is for Node (Dawn) only');
  const { existsSync } = await import('node:fs');
  const env = g.process.env;
  env.VK_ICD_FILENAMES ??= SWIFTSHADER_ICD;
  if (!existsSync(env.VK_ICD_FILENAMES)) throw new Error(`${env.VK_ICD_FILENAMES} not found (apt-get install chromium)`);
  if (!env.XDG_RUNTIME_DIR) {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    env.XDG_RUNTIME_DIR = mkdtempSync(join(tmpdir(), 'mlp-lens-xdg-'));
  }
  const m = await import('webgpu') as any;
  Object.assign(globalThis, m.globals);
  // unrounded timestamps (Dawn rounds them to 16.384 µs by default), as engine/device.ts asks too
  vulkanGpu ??= m.create(['backend=vulkan', 'disable-dawn-features=timestamp_quantization']) as GPU;
  const adapter = await vulkanGpu.requestAdapter();
  if (!adapter) throw new Error(`Dawn's Vulkan backend found no adapter with VK_ICD_FILENAMES=${env.VK_ICD_FILENAMES}`);
  return openAdapter(adapter, 'vulkan');
}
// one Dawn instance for the process (creating several is slow and leaks)
let vulkanGpu: GPU | undefined;

async function versionOf(pkg: string): Promise<string> {
  try {
    const { readFile } = await import('node:fs/promises');
    const url = new URL(`../node_modules/${pkg}/package.json`, import.meta.url);
    return JSON.parse(await readFile(url, 'utf8')).version;
  } catch { return 'absent'; }
}

/** TensorFlow.js's WebGPU backend on our device: the same matmul shapes (its kernels, its dispatch) */
/**
 * a device for tfjs on the adapter ours runs on, with the adapter's own workgroup limits (tfjs's kernels
 * use up to 256 invocations in x; ours ask for 64): Dawn's GL backend in compatibility mode in Node (as
 * engine/device.ts), navigator.gpu elsewhere
 */
export async function peerDevice(which: KernelOptions['adapter']): Promise<GPUDevice> {
  const g = globalThis as any;
  let gpu: GPU | undefined = g.navigator?.gpu?.requestAdapter ? g.navigator.gpu : undefined;
  let adapter: GPUAdapter | null = null;
  if (!gpu && g.process?.versions?.node && which === 'vulkan-swiftshader') {
    // the adapter of ours with --vulkan-swiftshader: Dawn/Vulkan on Chromium's SwiftShader driver
    g.process.env.VK_ICD_FILENAMES ??= SWIFTSHADER_ICD;
    const m = await import('webgpu') as any;
    Object.assign(globalThis, m.globals);
    gpu = m.create(['backend=vulkan']) as GPU;
    Object.defineProperty(globalThis, 'navigator', { value: { ...(g.navigator ?? {}), gpu }, configurable: true });
    adapter = await gpu.requestAdapter();
  } else if (!gpu && g.process?.versions?.node) {
    // as engine/device.ts: Mesa's EGL without a display, Dawn's GL backend; tfjs uses the WebGPU globals
    g.process.env.EGL_PLATFORM ??= 'surfaceless';
    const m = await import('webgpu') as any;
    Object.assign(globalThis, m.globals);
    gpu = m.create(['backend=opengl']) as GPU;
    // tfjs checks navigator.gpu (Node 20 has no navigator): the Dawn instance tfjs runs on
    Object.defineProperty(globalThis, 'navigator', { value: { ...(g.navigator ?? {}), gpu }, configurable: true });
    adapter = await gpu.requestAdapter({ featureLevel: 'compatibility' } as GPURequestAdapterOptions);
  } else if (gpu) {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' }) ?? await gpu.requestAdapter({ featureLevel: 'compatibility' } as GPURequestAdapterOptions);
  }
  if (!adapter) throw new Error('no adapter for tfjs');
  const l = adapter.limits as any;
  const requiredLimits: Record<string, number> = {};
  for (const k of ['maxComputeWorkgroupSizeX', 'maxComputeWorkgroupSizeY', 'maxComputeWorkgroupSizeZ', 'maxComputeInvocationsPerWorkgroup',
    'maxComputeWorkgroupStorageSize', 'maxStorageBufferBindingSize', 'maxBufferSize', 'maxStorageBuffersPerShaderStage']) requiredLimits[k] = l[k];
  return adapter.requestDevice({ requiredLimits, label: 'tfjs peer' });
}

async function tfjsRows(shapes: MatmulShape[], iters: number, repeats: number, log: (l: string) => void, which: KernelOptions['adapter']): Promise<KernelRow[]> {
  const rows: KernelRow[] = [];
  let tf: any;
  try {
    log('tfjs: opening its device');
    const peer = await peerDevice(which);
    log('tfjs: device open');
    tf = await import('@tensorflow/tfjs-core');
    const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu') as any;
    // tfjs asks navigator.gpu for its own device; registering a backend on our GPUDevice puts both on one adapter
    // its kernels are registered under the name 'webgpu': replace that backend's factory with one on our device
    if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
    tf.registerBackend('webgpu', () => new WebGPUBackend(peer, (peer as any).adapterInfo));
    if (!(await tf.setBackend('webgpu'))) throw new Error('setBackend returned false');
    await tf.ready();
  } catch (e) {
    const why = `tfjs-webgpu did not start: ${(e as Error).message.split('\n')[0]}`;
    log(why);
    for (const s of shapes) rows.push({ op: 'matmul', variant: 'tfjs', impl: 'tfjs-webgpu', shape: shapeLabel(s), ms: NaN, skipped: why });
    return rows;
  }
  for (const s of shapes) {
    log(`tfjs matmul ${shapeLabel(s)}`);
    const a = tf.tensor2d(rand(s.m * s.k, 1), s.transA ? [s.k, s.m] : [s.m, s.k]);
    const b = tf.tensor2d(rand(s.k * s.n, 2), s.transB ? [s.n, s.k] : [s.k, s.n]);
    const once = async (n: number) => {
      let c: any;
      for (let i = 0; i < n; i++) { c?.dispose(); c = tf.matMul(a, b, !!s.transA, !!s.transB); }
      await c.data(); // one small read-back after n products: tfjs has no public "wait for the queue"
      c.dispose();
    };
    const ts: number[] = [];
    try {
      await once(1);
      for (let r = 0; r < repeats; r++) { const t0 = performance.now(); await once(iters); ts.push((performance.now() - t0) / iters); }
    } catch (e) {
      rows.push({ op: 'matmul', variant: 'tfjs', impl: 'tfjs-webgpu', shape: shapeLabel(s), ms: NaN, skipped: `failed: ${(e as Error).message.split('\n')[0]}` });
      continue;
    } finally { a.dispose(); b.dispose(); }
    const ms = median(ts), flops = 2 * s.m * s.n * s.k;
    rows.push({ op: 'matmul', variant: 'tfjs', impl: 'tfjs-webgpu', shape: shapeLabel(s), ms, timing: 'wall', flops, gflops: flops / (ms * 1e6) });
  }
  return rows;
}

/**
 * the tfjs rows, measured by `kernels.js --tfjs-only` in a child process: two Dawn instances in one Node
 * process (ours and the peer's, which needs larger workgroup limits) abort it (std::system_error) on
 * llvmpipe, and one process per measured stack keeps them apart in every runtime
 */
async function tfjsInChild(o: KernelOptions, log: (l: string) => void): Promise<KernelRow[]> {
  const { execFile } = await import('node:child_process');
  const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { fileURLToPath } = await import('node:url');
  const g = globalThis as any;
  const dir = mkdtempSync(join(tmpdir(), 'mlp-lens-tfjs-')), out = join(dir, 'tfjs.json');
  const script = fileURLToPath(new URL('./kernels.js', import.meta.url));
  const args = [script, '--tfjs-only', '--out', out, ...(o.quick ? ['--quick'] : []), ...(o.big ? ['--big'] : []),
    ...(o.iters ? ['--iters', String(o.iters)] : []), ...(o.adapter === 'vulkan-swiftshader' ? ['--vulkan-swiftshader'] : [])];
  const [cmd, argv] = g.Deno ? [g.Deno.execPath(), ['run', '-A', ...args]] : [g.process.execPath, args];
  try {
    await new Promise<void>((resolve, reject) => execFile(cmd, argv, { maxBuffer: 1 << 24 }, (err, _so, se) => {
      if (err) reject(new Error(`${err.message.split('\n')[0]}; ${String(se).split('\n').filter((l) => l && !/Warning/.test(l)).slice(-2).join(' ')}`)); else resolve();
    }));
    return (JSON.parse(readFileSync(out, 'utf8')) as KernelResults).rows;
  } catch (e) {
    const why = `tfjs-webgpu run failed: ${(e as Error).message}`;
    log(why);
    return matmulShapes(o).map((s) => ({ op: 'matmul', variant: 'tfjs', impl: 'tfjs-webgpu', shape: shapeLabel(s), ms: NaN, skipped: why }));
  } finally { rmSync(dir, { recursive: true, force: true }); }
}

export async function runKernels(o: KernelOptions = {}): Promise<KernelResults> {
  const log = o.log ?? (() => {});
  const iters = o.iters ?? (o.quick ? 1 : 5), repeats = o.repeats ?? (o.quick ? 1 : 3);
  if (o.tfjsOnly) {
    const rows = await tfjsRows(matmulShapes(o), iters, repeats, log, o.adapter);
    return { schema: 'mlp-lens/kernels@1', date: new Date().toISOString(), runtime: { name: '', version: '' }, versions: {}, adapter: null,
      timing: '', ceilings: { copyGBps: null, matmulGFlops: null, matmulBest: null }, rows, notes: [] };
  }
  const g = globalThis as any;
  const rt = g.Deno ? { name: 'deno', version: g.Deno.version.deno } : g.process?.versions?.node ? { name: 'node', version: g.process.versions.node } : { name: 'browser', version: g.navigator?.userAgent ?? '' };
  const notes: string[] = [];
  const rows: KernelRow[] = [];
  const shapes = matmulShapes(o);
  // the cpu backend first: Dawn in Node has aborted (std::system_error) while the main thread sat in a
  // seconds-long synchronous loop with a device open
  if (o.cpu !== false) {
    for (const s of shapes) {
      const flops = 2 * s.m * s.n * s.k;
      if (s.m >= 4096) { rows.push({ op: 'matmul', variant: 'cpu', impl: 'cpu', shape: shapeLabel(s), ms: NaN, skipped: 'minutes on the CPU backend' }); continue; }
      const A = Tensor.from(rand(s.m * s.k, 1), s.transA ? [s.k, s.m] : [s.m, s.k]);
      const B = Tensor.from(rand(s.k * s.n, 2), s.transB ? [s.n, s.k] : [s.k, s.n]);
      const big = flops > 1e9;
      const ms = timeCpu(() => { matmul(A, B, s); }, big ? 1 : iters, big ? 1 : repeats);
      rows.push({ op: 'matmul', variant: 'cpu', impl: 'cpu', shape: shapeLabel(s), ms, timing: 'wall', flops, gflops: flops / (ms * 1e6) });
      log(`cpu matmul ${shapeLabel(s)}: ${ms.toFixed(3)} ms`);
    }
    for (const c of opCases(o)) {
      const ms = timeCpu(c.make(cpu), iters, repeats);
      rows.push({ op: c.op, variant: c.variant, impl: 'cpu', shape: c.shape, ms, timing: 'wall', bytes: c.bytes, gbps: c.bytes / (ms * 1e6) });
    }
    for (const c of cnnCases(o)) {
      const r = cnnRow(c, 'cpu', { ms: timeCpu(c.make(cpu), iters, repeats), timing: 'wall' });
      rows.push(r);
      log(`cpu ${c.op} ${c.variant} ${c.shape}: ${r.ms.toFixed(3)} ms ${r.gflops ? `${r.gflops.toFixed(2)} GFLOP/s` : `${r.gbps!.toFixed(2)} GB/s`}`);
    }
  }

  let got: AcquiredDevice | null = null;
  try {
    got = o.adapter === 'vulkan-swiftshader' ? await acquireVulkanSwiftShader() : await acquireDevice({ mode: 'webgpu' });
  } catch (e) { notes.push(`no WebGPU: ${(e as Error).message.split('\n')[0]}`); }
  // the device's features: engine/device.ts asks for timestamp-query and subgroups wherever the adapter has them
  const features = got ? [...got.device.features].map(String).sort() : [];
  const useTimestamps = features.includes('timestamp-query') && o.timing !== 'wall';
  const timer = got && useTimestamps ? new PassTimer(got.device) : null;
  const WALL = 'submit + onSubmittedWorkDone around N calls (wall clock, includes encoding and submit overhead)';
  let timing = !got ? WALL
    : useTimestamps ? 'GPU timestamps (timestamp-query: the compute passes the N calls ran in, start to end; wallMs has the wall clock of the same calls); ' +
      `a row marked 'wall' fell back to ${WALL}`
    : features.includes('timestamp-query') ? `${WALL}; the device has timestamp-query, not used (--wall)`
    : `${WALL}; the device has no timestamp-query`;
  if (got && !features.includes('subgroups')) notes.push("the adapter has no 'subgroups': no subgroup matmul variant");
  const ceilings: KernelResults['ceilings'] = { copyGBps: null, matmulGFlops: null, matmulBest: null };

  if (got) {
    const { device } = got;
    // the backends run on the timer's stand-in for the device (it adds timestampWrites to their passes)
    const on = timer ? timer.device : device;
    const copy = await copyCeiling(device, !!o.quick, iters, repeats, timer);
    ceilings.copyGBps = copy.gbps;
    if (timer && copy.timing === 'wall') notes.push('the copy ceiling is wall-clock (its timestamps were unusable)');
    log(`copy ceiling: ${ceilings.copyGBps.toFixed(2)} GB/s (${copy.timing})`);
    // the matmul variants: the staircase; one needing a feature the device lacks gets a skipped row
    for (const v of MATMUL_VARIANTS.filter((x) => !o.variants || o.variants.includes(x))) {
      const need = MATMUL_FEATURES[v];
      if (need && !features.includes(need)) {
        for (const s of shapes) rows.push({ op: 'matmul', variant: v, impl: 'webgpu', shape: shapeLabel(s), ms: NaN, skipped: `needs the device feature '${need}', which this adapter lacks` });
        continue;
      }
      // the named variant, forced (also keeps the timer's stand-in device from changing the pick)
      const b = createWebGpuBackend(on, { variants: { matmul: v } });
      for (const s of shapes) {
        const flops = 2 * s.m * s.n * s.k;
        // on a software adapter, one naive or tiled 4096³ product is minutes: skipped there
        if (s.m >= 4096 && got.info.software && (v === 'naive' || v === 'tiled')) {
          rows.push({ op: 'matmul', variant: v, impl: 'webgpu', shape: shapeLabel(s), ms: NaN, skipped: 'over 20 s per call on a software adapter' });
          continue;
        }
        const A = Tensor.from(rand(s.m * s.k, 1), s.transA ? [s.k, s.m] : [s.m, s.k], { backend: b });
        const B = Tensor.from(rand(s.k * s.n, 2), s.transB ? [s.n, s.k] : [s.k, s.n], { backend: b });
        const big = flops > 1e9;
        try {
          const t = await timeGpu(b, () => { matmul(A, B, s); }, big ? 1 : iters, big ? Math.min(repeats, 2) : repeats, timer);
          rows.push({ op: 'matmul', variant: v, impl: 'webgpu', shape: shapeLabel(s), ...t, flops, gflops: flops / (t.ms * 1e6) });
          log(`webgpu matmul ${v.padEnd(8)} ${shapeLabel(s).padEnd(20)} ${t.ms.toFixed(3)} ms  ${(flops / (t.ms * 1e6)).toFixed(2)} GFLOP/s (${t.timing})`);
        } catch (e) {
          // e.g. a shader translator that rejects the variant's WGSL
          const why = `failed: ${(e as Error).message.split('\n')[0]}`;
          rows.push({ op: 'matmul', variant: v, impl: 'webgpu', shape: shapeLabel(s), ms: NaN, skipped: why });
          log(`webgpu matmul ${v} ${shapeLabel(s)}: ${why}`);
        } finally { dispose(A, B); }
      }
      b.trim();
    }
    const b = createWebGpuBackend(on, { variants: { matmul: got.info.software ? 'auto:software' : 'auto:gpu' } });
    for (const c of opCases(o)) {
      const t = await timeGpu(b, c.make(b), iters * 4, repeats, timer);
      rows.push({ op: c.op, variant: c.variant, impl: 'webgpu', shape: c.shape, ...t, bytes: c.bytes, gbps: c.bytes / (t.ms * 1e6) });
      log(`webgpu ${c.op} ${c.variant} ${c.shape}: ${t.ms.toFixed(3)} ms ${(c.bytes / (t.ms * 1e6)).toFixed(2)} GB/s (${t.timing})`);
    }
    for (const c of cnnCases(o)) {
      const r = cnnRow(c, 'webgpu', await timeGpu(b, c.make(b), iters, repeats, timer));
      rows.push(r);
      log(`webgpu ${c.op} ${c.variant} ${c.shape}: ${r.ms.toFixed(3)} ms ${r.gflops ? `${r.gflops.toFixed(2)} GFLOP/s` : `${r.gbps!.toFixed(2)} GB/s`} (${r.timing})`);
    }
    b.trim();
    const walls = rows.filter((r) => r.impl === 'webgpu' && r.timing === 'wall').length;
    if (timer && walls) timing += ` (${walls} rows did)`;
  }

  if (got && o.tfjs !== false) rows.push(...await tfjsInChild(o, log));

  // the compute ceiling: the best of our matmuls (any shape); then every row as a fraction of its ceiling
  for (const r of rows) {
    if (r.impl === 'webgpu' && r.op === 'matmul' && r.gflops && r.gflops > (ceilings.matmulGFlops ?? 0)) {
      ceilings.matmulGFlops = r.gflops; ceilings.matmulBest = `${r.variant} ${r.shape}`;
    }
  }
  for (const r of rows) {
    if (r.impl === 'cpu') continue;
    if (r.gflops && ceilings.matmulGFlops) r.ofCeiling = r.gflops / ceilings.matmulGFlops;
    if (r.gbps && ceilings.copyGBps) r.ofCeiling = r.gbps / ceilings.copyGBps;
  }
  const versions: Record<string, string> = {};
  for (const p of ['webgpu', '@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-webgpu', 'deno']) versions[p] = await versionOf(p);
  try { versions['mlp-lens'] = (await versionOf('..')); } catch { /* */ }
  const results: KernelResults = {
    schema: 'mlp-lens/kernels@1', date: new Date().toISOString(), runtime: rt, versions,
    adapter: got ? { ...got.info, features } : null, timing, ceilings, rows, notes,
  };
  timer?.destroy();
  got?.device.destroy();
  return results;
}

/** the adapter's most telling name (Deno reports device '0'; Chromium's SwiftShader only vendor and architecture) */
export const adapterName = (a: { device: string; description: string; vendor: string; architecture: string }): string =>
  (!/^\d*$/.test(a.device) && a.device) || a.description || `${a.vendor} ${a.architecture}`.trim();

const fmtN = (x: number | undefined, d = 2) => (x === undefined || !Number.isFinite(x) ? '' : x.toFixed(d));

/** a Markdown table of the results */
export function formatResults(r: KernelResults): string {
  const a = r.adapter;
  const head = [
    `adapter: ${a ? `${adapterName(a)} (${a.backend}, ${a.featureLevel}${a.software ? ', software' : ''}, ${a.runtime})` : 'none'}; ${r.runtime.name} ${r.runtime.version}; ${r.date}`,
    `timing: ${r.timing}`,
    `ceilings: copy ${fmtN(r.ceilings.copyGBps ?? undefined)} GB/s; matmul ${fmtN(r.ceilings.matmulGFlops ?? undefined)} GFLOP/s (${r.ceilings.matmulBest ?? '-'})`,
    ...r.notes.map((n) => `note: ${n}`),
    '',
    '| op | variant | impl | shape | ms | timed by | GFLOP/s | GB/s | of ceiling |',
    '| --- | --- | --- | --- | ---: | --- | ---: | ---: | ---: |',
  ];
  const by = (x: KernelRow) => x.skipped ? '' : x.timing === 'timestamp' ? `timestamps (wall ${fmtN(x.wallMs, 3)} ms)` : x.timing ?? '';
  const body = r.rows.map((x) => `| ${x.op} | ${x.variant} | ${x.impl} | ${x.shape} | ${x.skipped ? `skipped: ${x.skipped}` : fmtN(x.ms, 3)} | ${by(x)} | ${fmtN(x.gflops)} | ${fmtN(x.gbps)} | ${x.ofCeiling === undefined ? '' : `${(x.ofCeiling * 100).toFixed(0)} %`} |`);
  return [...head, ...body].join('\n');
}

/** `bench/kernels.js [--quick] [--big] [--iters N] [--no-cpu] [--no-tfjs] [--wall] [--vulkan-swiftshader] [--out FILE]` */
export async function main(argv: string[]): Promise<number> {
  const o: KernelOptions = { log: (l) => console.error(l) };
  let out: string | undefined, browser: '' | 'swiftshader' | 'angle' = '';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') o.quick = true;
    else if (a === '--big') o.big = true;
    else if (a === '--no-cpu') o.cpu = false;
    else if (a === '--no-tfjs') o.tfjs = false;
    else if (a === '--tfjs-only') o.tfjsOnly = true;
    else if (a === '--wall') o.timing = 'wall';
    else if (a === '--vulkan-swiftshader') o.adapter = 'vulkan-swiftshader';
    else if (a === '--browser') browser = 'swiftshader';
    else if (a === '--browser-angle') browser = 'angle';
    else if (a === '--iters') o.iters = Number(argv[++i]);
    else if (a === '--variants') o.variants = argv[++i].split(',');
    else if (a === '--out') out = argv[++i];
    else if (a === '--help') { console.log('bench/kernels.js [--quick] [--big] [--iters N] [--variants A,B] [--no-cpu] [--no-tfjs] [--wall] [--vulkan-swiftshader | --browser | --browser-angle] [--out FILE.json]'); return 0; }
    else { console.error(`error: unknown option ${a}`); return 2; }
  }
  const r = browser ? await (await import('./kernels-browser.ts')).runInChromium({ ...o, angle: browser === 'angle' }) : await runKernels(o);
  console.log(formatResults(r));
  if (out) {
    const { writeFile } = await import('node:fs/promises');
    await writeFile(out, JSON.stringify(r, null, 2) + '\n');
    console.log(`\nwrote ${out}`);
  }
  return 0;
}
