// Loads the fused MLP kernels: WebAssembly SIMD assembled from engine/wasm/mlp-kernels.ts by wabt's
// wat2wasm (the `wabt` npm package) on first use, the compiled module cached for the process; or the
// plain-JavaScript kernels (engine/wasm/mlp-kernels-js.ts, same results bit for bit) where that is not
// possible: no SIMD in this WebAssembly, wabt not importable (a browser bundle), or MLP_LENS_WASM=0.
// The fused CNN step adds a second module (engine/wasm/cnn-kernels.ts, its JS twin cnn-kernels-js.ts),
// instantiated over the same memory as the first: instantiateCnnKernels. The epoch statistics' passes
// (engine/wasm/stats-kernels.ts) are a third, on their own growable memory: instantiateStatsKernels (their
// JS twin is analysis/epoch-stats.ts's loops).
import { jsCnnKernels } from './cnn-kernels-js.ts';
import { cnnKernelsWat } from './cnn-kernels.ts';
import { jsKernels } from './mlp-kernels-js.ts';
import { mlpKernelsWat } from './mlp-kernels.ts';
import type { BinaryCache } from './binary-cache-node.ts';
import { statsKernelsWat } from './stats-kernels.ts';

/** the kernels' signatures (pointers are byte offsets into the instance's memory; see mlp-kernels.ts) */
export interface MlpKernels {
  mm(n: number, A: number, k: number, B: number, bias: number, C: number, m: number, skip: number): void;
  mm_sparse(n: number, rows: number, rowptr: number, idx: number, val: number, lut: number, B: number, bias: number, C: number, m: number): void;
  mm_tn(n: number, A: number, k: number, D: number, m: number, G: number): void;
  mm_tn_sparse(n: number, rows: number, rowptr: number, idx: number, val: number, lut: number, k: number, D: number, m: number, G: number): void;
  colsum(n: number, D: number, m: number, out: number): void;
  transpose(A: number, rows: number, cols: number, out: number): void;
  relu(Z: number, H: number, count: number): void;
  relu_back(dH: number, Z: number, dZ: number, count: number): void;
  sgd(p: number, g: number, v: number, count: number, lr: number, mu: number, wd: number, first: number, sq: number): number;
  probe(x: number, count: number): number;
}

/** the CNN kernels' signatures (see cnn-kernels.ts) */
export interface CnnKernels {
  conv_sparse_fwd(n: number, rows: number, rowptr: number, idx: number, val: number, lut: number, pyx: number,
    W: number, bias: number, Z: number, Ho: number, Wo: number, Op: number, k: number, s: number, p: number): void;
  conv_sparse_bwd(n: number, rows: number, rowptr: number, idx: number, val: number, lut: number, pyx: number,
    dZ: number, Ho: number, Wo: number, Op: number, k: number, s: number, p: number, dW: number): void;
  conv_fwd(n: number, X: number, Hi: number, Wi: number, Ip: number, W: number, bias: number, Z: number,
    Ho: number, Wo: number, Op: number, k: number, s: number, p: number): void;
  conv_bwd_dx(n: number, X: number, Hi: number, Wi: number, Ip: number, Wb: number, dZ: number,
    Ho: number, Wo: number, Op: number, O: number, k: number, s: number, p: number, dX: number,
    cnt: number, ent: number, tmp: number, pat: number): void;
  conv_bwd_dw(n: number, Ho: number, Wo: number, O: number, k: number, Ip: number, dW: number, cnt: number, ent: number): void;
  pool_fwd(n: number, X: number, Hi: number, Wi: number, C: number, k: number, s: number, Ho: number, Wo: number, P: number, arg: number): void;
  pool_bwd(n: number, dP: number, arg: number, Hi: number, Wi: number, C: number, k: number, s: number, Ho: number, Wo: number, dX: number): void;
  pool_relu_bwd(n: number, dP: number, arg: number, C: number, k: number, Ho: number, Wo: number, dH: number, Z: number, dZ: number): void;
  chan_sums(n: number, X: number, hw: number, C: number, Cr: number, out: number, div: number): void;
}

export type KernelKind = 'wasm-simd' | 'js';

/** kernels bound to their own memory of a fixed size (never grown: views into it stay valid) */
export interface KernelInstance {
  readonly kind: KernelKind;
  readonly buffer: ArrayBuffer;
  readonly k: MlpKernels;
}

let compiled: Promise<WebAssembly.Module | null> | null = null;
let compiledCnn: Promise<WebAssembly.Module | null> | null = null;
let compiledStats: Promise<WebAssembly.Module | null> | null = null;
let why = '';

/** the env variable `name`, in Node, Deno (with --allow-env) and nowhere else */
export function envVar(name: string): string | undefined {
  const g = globalThis as { Deno?: { env: { get(n: string): string | undefined } }; process?: { env?: Record<string, string | undefined> } };
  try {
    return g.Deno ? g.Deno.env.get(name) : g.process?.env?.[name];
  } catch {
    return undefined; // deno without --allow-env
  }
}

/**
 * WAT text → a compiled module (wabt's wat2wasm with SIMD and bulk memory), or null with the reason in
 * `why`. The binary is kept on disk where there is one (node_modules/.cache/mlp-lens-wasm/, keyed by a
 * hash of the text): loading wabt and assembling cost ≈ 0.1–0.25 s of CPU in every thread that needs a
 * module, and a run has three. A cache that cannot be read or written is passed over.
 */
async function assemble(name: string, wat: () => string): Promise<WebAssembly.Module | null> {
  try {
    if (typeof WebAssembly !== 'object') throw new Error('no WebAssembly');
    return await WebAssembly.compile(await assembleWat(name, wat()));
  } catch (e) {
    why = e instanceof Error ? e.message.split('\n')[0] : String(e);
    return null;
  }
}

/** the binary of WAT text `text` (`name` for wabt's messages), from the disk cache or assembled by wabt; throws where wabt cannot load */
export async function assembleWat(name: string, text: string): Promise<Uint8Array<ArrayBuffer>> {
  const cache = await binaryCache();
  const key = cache ? cache.key(text) : '';
  const kept = cache ? await cache.read(key) : null;
  // (a file cut short or damaged is assembled again and replaced)
  if (kept && WebAssembly.validate(kept)) return kept;
  // a variable specifier: bundlers leave it alone, so a browser bundle gets the JS kernels instead of wabt
  const spec = 'wabt';
  const wabtMod = await import(/* @vite-ignore */ spec);
  const wabt = await (wabtMod.default ?? wabtMod)();
  const parsed = wabt.parseWat(name, text, { simd: true, bulk_memory: true });
  try {
    parsed.validate();
    const { buffer } = parsed.toBinary({}) as { buffer: Uint8Array<ArrayBuffer> };
    await cache?.write(key, buffer);
    return buffer;
  } finally {
    parsed.destroy();
  }
}

let binaries: Promise<BinaryCache | null> | null = null;

/** the folder of assembled binaries (engine/wasm/binary-cache-node.ts), under Node and Deno; null in a browser or with MLP_LENS_WASM_CACHE=off */
function binaryCache(): Promise<BinaryCache | null> {
  binaries ??= envVar('MLP_LENS_WASM_CACHE') === 'off' || !import.meta.url.startsWith('file:')
    ? Promise.resolve(null)
    : import('./binary-cache-node.ts').then((m) => m.binaryCacheFor(import.meta.url), () => null);
  return binaries;
}

/** the compiled SIMD module, or null (the reason in wasmUnavailable()); assembled once per process */
export function wasmModule(): Promise<WebAssembly.Module | null> {
  compiled ??= assemble('mlp-kernels.wat', mlpKernelsWat);
  return compiled;
}

/** the compiled SIMD module of the CNN kernels, or null (the reason in wasmUnavailable()); once per process */
export function cnnWasmModule(): Promise<WebAssembly.Module | null> {
  compiledCnn ??= assemble('cnn-kernels.wat', cnnKernelsWat);
  return compiledCnn;
}

/** the compiled SIMD module of the epoch statistics' passes (engine/wasm/stats-kernels.ts), or null; once per process */
export function statsWasmModule(): Promise<WebAssembly.Module | null> {
  compiledStats ??= assemble('stats-kernels.wat', statsKernelsWat);
  return compiledStats;
}

/** why the SIMD kernels are not in use ('' when they are, or before the first load) */
export const wasmUnavailable = (): string => why;

/** the kernels asked for: `kind`, else 'js' under MLP_LENS_WASM=0, else 'wasm-simd' (which may still fall back) */
export const wantedKind = (kind?: KernelKind): KernelKind => kind ?? (envVar('MLP_LENS_WASM') === '0' ? 'js' : 'wasm-simd');

/**
 * kernels with a memory of at least `bytes`: WebAssembly SIMD unless `kind` is 'js', MLP_LENS_WASM=0,
 * or the module cannot be had (then the JS kernels, silently: wasmUnavailable() says why)
 */
export async function instantiateKernels(bytes: number, kind?: KernelKind): Promise<KernelInstance> {
  const pages = Math.max(1, Math.ceil(bytes / 65536));
  const want = wantedKind(kind);
  const module = want === 'wasm-simd' ? await wasmModule() : null;
  if (module) {
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    const instance = await WebAssembly.instantiate(module, { env: { memory } });
    return { kind: 'wasm-simd', buffer: memory.buffer, k: instance.exports as unknown as MlpKernels };
  }
  const buffer = new ArrayBuffer(pages * 65536);
  return { kind: 'js', buffer, k: jsKernels(buffer) };
}

/** the MLP kernels (k) and the CNN kernels (c) over one memory, both SIMD or both JS */
export interface CnnKernelInstance extends KernelInstance {
  readonly c: CnnKernels;
}

/**
 * both kernel sets over one memory of at least `bytes`: WebAssembly SIMD unless `kind` is 'js',
 * MLP_LENS_WASM=0, or either module cannot be had (then the JS kernels of both, silently)
 */
export async function instantiateCnnKernels(bytes: number, kind?: KernelKind): Promise<CnnKernelInstance> {
  const pages = Math.max(1, Math.ceil(bytes / 65536));
  const want = wantedKind(kind);
  const mlp = want === 'wasm-simd' ? await wasmModule() : null;
  const cnn = mlp ? await cnnWasmModule() : null;
  if (mlp && cnn) {
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    const [a, b] = await Promise.all([WebAssembly.instantiate(mlp, { env: { memory } }), WebAssembly.instantiate(cnn, { env: { memory } })]);
    return { kind: 'wasm-simd', buffer: memory.buffer, k: a.exports as unknown as MlpKernels, c: b.exports as unknown as CnnKernels };
  }
  const buffer = new ArrayBuffer(pages * 65536);
  return { kind: 'js', buffer, k: jsKernels(buffer), c: jsCnnKernels(buffer) };
}

/** the epoch statistics' passes (see stats-kernels.ts; pointers are byte offsets into `memory`) */
export interface StatsKernels {
  acc_acts(D: number, w: number, RC: number, OFF: number, steps: number, SUM: number, MN: number, MX: number, POS: number): void;
  acc_grads(D: number, w: number, RC: number, OFF: number, steps: number, SUM: number, MN: number, MX: number, SQ: number): void;
  spread_acts(D: number, w: number, count: number, RC: number, bins: number, MEAN: number, M2: number, HS: number, HO: number,
    lo: number, hi: number, scale: number, E: number, OLO: number, OHI: number, OSC: number, OE: number): void;
  spread_grads(D: number, w: number, count: number, RC: number, bins: number, MEAN: number, M2: number, HS: number,
    lo: number, hi: number, scale: number, E: number): void;
}

/** the statistics kernels over their own growable memory (views must be taken again after memory.grow) */
export interface StatsKernelInstance {
  readonly memory: WebAssembly.Memory;
  readonly k: StatsKernels;
}

/**
 * the epoch statistics' SIMD kernels, or null where they cannot be had or are not wanted (`kind` 'js',
 * MLP_LENS_WASM=0, no SIMD or wabt: wasmUnavailable() says why); the caller's JS loops stand in then
 */
export async function instantiateStatsKernels(kind?: KernelKind): Promise<StatsKernelInstance | null> {
  const module = wantedKind(kind) === 'wasm-simd' ? await statsWasmModule() : null;
  if (!module) return null;
  const memory = new WebAssembly.Memory({ initial: 1 });
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  return { memory, k: instance.exports as unknown as StatsKernels };
}

/** kernels on a memory of their own that grows on demand (LazyKernels) */
export interface GrowableKernels<K> {
  readonly k: K;
  /**
   * the memory, grown to at least `bytes` first (views of an earlier buffer are detached by a growth); null
   * when it cannot grow that far (over 1 GiB, or the allocation fails): the caller's JS loops then
   */
  buffer(bytes: number): ArrayBuffer | null;
}

/**
 * WAT kernels with a memory of their own (exported as `memory`), loaded once, on first use, for callers that
 * have JS loops giving the same numbers: get() hands them out once loaded (null until then, and where they
 * cannot be had), ready() resolves when the load has ended, unavailable() says why not. `check` may refuse
 * a loaded instance (its message, '' to accept). Never loaded: MLP_LENS_WASM=0, no WebAssembly, wabt not
 * importable (a browser bundle); switchOff() keeps them unused (tests, benchmarks).
 */
export class LazyKernels<K> {
  private loading: Promise<GrowableKernels<K> | null> | null = null;
  private loaded: GrowableKernels<K> | null = null;
  private off = false;
  private why = '';

  constructor(
    private readonly name: string, private readonly wat: string,
    private readonly check?: (k: K, memory: WebAssembly.Memory) => string,
  ) {}

  /** the kernels if loaded (and not switched off), else null; the first call starts loading them */
  get(): GrowableKernels<K> | null {
    if (this.off) return null;
    this.loading ??= this.load();
    return this.loaded;
  }

  /** resolves once the kernels are loaded (true) or cannot be used (false: unavailable() says why) */
  async ready(): Promise<boolean> {
    this.loading ??= this.load();
    return (await this.loading) !== null;
  }

  /** why the kernels are not in use ('' when they are, or before the load ends) */
  unavailable(): string { return this.off ? 'switched off' : this.why; }

  /** the JS loops (true) or the kernels when loaded (false) */
  switchOff(value: boolean): void { this.off = value; }

  private async load(): Promise<GrowableKernels<K> | null> {
    try {
      if (envVar('MLP_LENS_WASM') === '0') throw new Error('MLP_LENS_WASM=0');
      if (typeof WebAssembly !== 'object') throw new Error('no WebAssembly');
      const module = await WebAssembly.compile(await assembleWat(this.name, this.wat));
      const instance = await WebAssembly.instantiate(module);
      const memory = instance.exports.memory as WebAssembly.Memory;
      const k = instance.exports as unknown as K;
      const refused = this.check?.(k, memory);
      if (refused) throw new Error(refused);
      this.loaded = {
        k,
        buffer(bytes) {
          const have = memory.buffer.byteLength;
          if (bytes > 2 ** 30) return null;
          try {
            if (bytes > have) memory.grow(Math.ceil((bytes - have) / 65536));
          } catch {
            return null;
          }
          return memory.buffer;
        },
      };
      return this.loaded;
    } catch (e) {
      this.why = e instanceof Error ? e.message.split('\n')[0] : String(e);
      return null;
    }
  }
}
