// A second thread for the run layer: a function of some module called on a worker (Node's
// worker_threads, Deno's and browsers' Web Workers), its arguments and result structured-cloned. The
// main job uses it to compute what does not depend on the training thread (an epoch's statistics while
// the next epoch trains, analyses side by side) on the machine's other core.
//
// Why a module URL and a function name rather than a closure: a worker shares no memory with the
// caller, it imports the module itself. Why also the function itself (`local`): where no worker can be
// started or the module cannot be imported there (an esbuild bundle, a runtime without workers, or
// MLP_LENS_THREADS=1) the call runs on the calling thread instead, with the same result. Results never
// depend on the thread: the functions called are pure.

// (no static `node:` import: the page's bundle reaches this file through the analyses' optional helper)
const process = (globalThis as { process?: NodeJS.Process }).process;

/** a function to call on the helper thread: where it lives and what it is called there */
export interface ThreadTask<A extends unknown[], R> {
  /** the module's URL, as `taskModule(import.meta.url, '../analysis/x')` gives it */
  url: string;
  /** the export's name */
  fn: string;
  /** the same function, for a call on this thread where no worker can run it */
  local: (...args: A) => R | Promise<R>;
}

/**
 * the URL of a sibling module in this source tree, with this file's extension: `.ts` when run from the
 * sources (Node with the loader hooks, Deno), `.js` in the built package (dist/)
 */
export function taskModule(from: string, path: string): string {
  const ext = from.endsWith('.ts') ? '.ts' : '.js';
  return new URL(path + ext, from).href;
}

interface Pending { resolve(v: unknown): void; reject(e: Error): void }
export type Message = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string; stack?: string; loading: boolean };

/** what a helper thread needs from a worker, in Node and in Deno alike */
export interface Port {
  post(message: unknown, transfer: Transferable[]): void;
  /** onError: the worker failed, or stopped (an error with `stopped: true`; also after terminate, which HelperThread ignores) */
  onMessage(handler: (m: Message) => void, onError: (e: Error) => void): void;
  ref(): void;
  unref(): void;
  terminate(): Promise<void>;
}

const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== 'undefined';

async function startPort(): Promise<Port> {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  if (isDeno || !process || typeof process.versions?.node !== 'string') {
    const w = new Worker(new URL(`./thread-entry${ext}`, import.meta.url).href, { type: 'module' });
    return {
      post: (m, t) => w.postMessage(m, t),
      onMessage: (h, onError) => {
        w.onmessage = (e: MessageEvent<Message>) => h(e.data);
        w.onerror = (e: ErrorEvent) => { e.preventDefault(); onError(new Error(e.message)); };
      },
      ref() {}, unref() {},
      terminate: async () => w.terminate(),
    };
  }
  // Node's worker_threads: the Node-only adapter (engine/threads-node.ts), loaded only under Node
  const { nodeWorkerPort } = await import('./threads-node.ts');
  if (helperBundle) return nodeWorkerPort(helperBundle, [], process.execArgv);
  return nodeWorkerPort(new URL(`./thread-entry-node${ext}`, import.meta.url), hooks(), process.execArgv);
}

/** the Node bundle this code runs from, which helpers start too (it holds their side): see startHelpersFrom */
let helperBundle: URL | null = null;

/**
 * Node helpers start `bundle` (bench/node-bundle.mjs: this code, engine/thread-entry-node.ts and the
 * helper modules in one file) instead of the sources through the loader hooks
 */
export function startHelpersFrom(bundle: string): void {
  helperBundle = new URL(bundle);
}

/** the typed arrays shareable() copies */
type ShareableArray = Uint8Array | Uint16Array | Uint32Array | Int32Array | Float32Array | Float64Array;

/**
 * `a` copied into a SharedArrayBuffer where the runtime has one (else `a` itself, as where it is shared
 * already): a call hands such an array to the helper as it is, where a plain one is copied into the
 * message and out of it again there, into fresh pages, at every call. For what many calls send and no
 * thread writes (the snapshots' sample of images).
 */
export function shareable<T extends ShareableArray>(a: T): T {
  if (typeof SharedArrayBuffer !== 'function' || a.buffer instanceof SharedArrayBuffer) return a;
  const copy = new (a.constructor as new (buffer: SharedArrayBuffer) => T)(new SharedArrayBuffer(a.byteLength));
  copy.set(a as never);
  return copy;
}

/** Node 20 runs .ts sources through loader hooks (bench/node-ts.mjs) that a worker does not inherit: pass them on */
const hooks = (): string[] => (import.meta.url.endsWith('.ts') ? ['--import', new URL('../bench/node-ts.mjs', import.meta.url).href] : []);

/**
 * one helper thread, started on first use and reused: calls run on it one after another, in the order
 * made. close() ends it (a Node worker never keeps the process alive while idle; Deno's must be closed).
 */
export class HelperThread {
  private port: Promise<Port | null> | null = null;
  private pending = new Map<number, Pending>();
  private nextId = 1;
  /** set once a worker could not run a task's module: every later call runs here */
  private unavailable: string | null = null;
  /** calls made and not yet settled (on the helper or here), and idle()'s callers, told when that falls to 0 */
  private calls = 0;
  private idleWaiters: (() => void)[] = [];
  /** the worker calls go to now (null before it starts, once closed, and once it failed or stopped) */
  private live: Port | null = null;

  constructor(private readonly enabled = threadsEnabled()) {}

  /** why calls run on this thread, or null while they go to the helper */
  get fallback(): string | null { return this.enabled ? this.unavailable : 'MLP_LENS_THREADS=1'; }

  /** calls task(...args) on the helper thread (or here, see ThreadTask.local) */
  async call<A extends unknown[], R>(task: ThreadTask<A, R>, args: A, transfer: Transferable[] = []): Promise<R> {
    this.calls++;
    try {
      return await this.run(task, args, transfer);
    } finally {
      if (--this.calls === 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
      }
    }
  }

  private async run<A extends unknown[], R>(task: ThreadTask<A, R>, args: A, transfer: Transferable[]): Promise<R> {
    const port = this.enabled && !this.unavailable ? await this.start() : null;
    if (!port) return task.local(...args);
    const id = this.nextId++;
    const reply = new Promise<unknown>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    if (this.pending.size === 1) port.ref();
    port.post({ id, url: task.url, fn: task.fn, args }, transfer);
    try {
      return await reply as R;
    } catch (e) {
      // the module could not be loaded there (an esbuild bundle has no sibling files): run it here
      if ((e as { loading?: boolean }).loading) {
        this.unavailable = (e as Error).message;
        return task.local(...args);
      }
      // the worker stopped with the call unanswered (not a failure of the task): it runs here, where its
      // arguments still are (nothing of them was handed over)
      if ((e as { stopped?: boolean }).stopped && !transfer.length) return task.local(...args);
      throw e;
    }
  }

  /** resolves once no call is in flight (at once when none is): how work that may wait lets other calls go first */
  idle(): Promise<void> {
    if (this.calls === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async close(): Promise<void> {
    const port = await this.port;
    this.port = null;
    // (its stopping is not a failure: a later call starts another)
    this.live = null;
    await port?.terminate();
  }

  private start(): Promise<Port | null> {
    this.port ??= startPort().then((port) => {
      this.live = port;
      port.onMessage((m) => this.settle(m, port), (e) => this.failAll(e, port));
      port.unref();
      return port;
    }, (e: Error) => { this.unavailable = `no worker: ${e.message}`; return null; });
    return this.port;
  }

  private settle(m: Message, port: Port): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (this.pending.size === 0) port.unref();
    if (m.ok) { p.resolve(m.result); return; }
    const err = Object.assign(new Error(m.error), { loading: m.loading });
    if (m.stack) err.stack = m.stack;
    p.reject(err);
  }

  /** the worker died (out of memory, a crash) or stopped: every pending call fails (one it stopped under runs here: run), later ones run here */
  private failAll(e: Error, port: Port): void {
    // (a worker that failed also stops: that is not news)
    if (port !== this.live) return;
    this.live = null;
    this.unavailable = `the helper thread failed: ${e.message}`;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
    port.unref();
  }
}

/** MLP_LENS_THREADS=1 keeps everything on one thread (to compare, or to debug) */
function threadsEnabled(): boolean {
  try {
    return process?.env?.MLP_LENS_THREADS !== '1';
  } catch {
    // Deno without --allow-env: the default
    return true;
  }
}
