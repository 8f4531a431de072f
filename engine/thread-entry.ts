// The helper thread's side of engine/threads.ts: imports the asked module, calls the asked export with the
// arguments and posts the result back (or the error, saying whether the module could not even load).
export {}; // a module (its top-level await needs one), though it exports nothing
type Call = { id: number; url: string; fn: string; args: unknown[] };
type Post = (message: unknown) => void;

async function answer(call: Call, post: Post): Promise<void> {
  let mod: Record<string, unknown>;
  try {
    mod = await import(call.url);
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
    post({ id: call.id, ok: true, result: await f(...call.args) });
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    post({ id: call.id, ok: false, error: err.message, stack: err.stack, loading: false });
  }
}

// calls are answered in the order they come: one at a time, as the caller queued them
let queue: Promise<void> = Promise.resolve();
if (typeof (globalThis as { Deno?: unknown }).Deno !== 'undefined' || typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== 'undefined') {
  const scope = globalThis as unknown as { onmessage: ((e: MessageEvent<Call>) => void) | null; postMessage: Post };
  scope.onmessage = (e) => { queue = queue.then(() => answer(e.data, (m) => scope.postMessage(m))); };
} else {
  const { parentPort } = await import('node:worker_threads');
  parentPort!.on('message', (call: Call) => { queue = queue.then(() => answer(call, (m) => parentPort!.postMessage(m))); });
}
