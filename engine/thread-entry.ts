// The helper thread's side of engine/threads.ts in a Web Worker (Deno, browsers): imports the asked module,
// calls the asked export with the arguments and posts the result back (or the error, saying whether the
// module could not even load). engine/thread-entry-node.ts is the same on Node's worker_threads.
import { handedOver } from './hand-over.ts';

export type Call = { id: number; url: string; fn: string; args: unknown[] };
/** posts a message, handing over `transfer` (engine/hand-over.ts) */
type Post = (message: unknown, transfer?: ArrayBuffer[]) => void;

/** modules a bundle holds, by their source URL (bench/node-bundle.mjs): found here instead of imported */
const provided = new Map<string, Record<string, unknown>>();

/** a bundle's helper-thread modules by their source URL: a call naming one uses it, and imports nothing */
export function provideTaskModules(modules: Record<string, Record<string, unknown>>): void {
  for (const [url, mod] of Object.entries(modules)) provided.set(url, mod);
}

export async function answer(call: Call, post: Post): Promise<void> {
  let mod: Record<string, unknown>;
  try {
    mod = provided.get(call.url) ?? await import(call.url);
  } catch (e) {
    post({ id: call.id, ok: false, error: `cannot load ${call.url} on the helper thread: ${(e as Error).message}`, loading: true });
    return;
  }
  const f = mod[call.fn];
  if (typeof f !== 'function') {
    post({ id: call.id, ok: false, error: `${call.url} exports no function ${call.fn}`, loading: true });
    return;
  }
  try {
    const result = await f(...call.args);
    post({ id: call.id, ok: true, result }, handedOver(result));
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    post({ id: call.id, ok: false, error: err.message, stack: err.stack, loading: false });
  }
}

// calls are answered in the order they come: one at a time, as the caller queued them
let queue: Promise<void> = Promise.resolve();
const scope = globalThis as unknown as { onmessage: ((e: MessageEvent<Call>) => void) | null; postMessage: (m: unknown, t: ArrayBuffer[]) => void };
// (imported by thread-entry-node.ts for `answer` only: a Node worker has no onmessage to set)
if (typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== 'undefined') {
  scope.onmessage = (e) => { queue = queue.then(() => answer(e.data, (m, t) => scope.postMessage(m, t ?? []))); };
}
