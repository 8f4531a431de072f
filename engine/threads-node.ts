// The helper thread on Node's worker_threads (engine/threads.ts loads this file only under Node).
import { Worker } from 'node:worker_threads';
import type { Message, Port } from './threads.ts';

/** what a helper's entry (engine/thread-entry-node.ts, or a bundle holding it) is told, so it serves calls */
export const HELPER_WORKER_DATA = { mlpLensHelper: true } as const;

/** a worker running `entry` (engine/thread-entry-node.ts, or a bundle holding it) with the process's flags and `hooks` (the .ts loader) */
export function nodeWorkerPort(entry: URL, hooks: string[], execArgv: string[]): Port {
  const w = startWorker(entry, hooks, execArgv);
  return {
    post: (m, t) => w.postMessage(m, t as never),
    onMessage: (h: (m: Message) => void, onError) => {
      w.on('message', h);
      w.on('error', onError);
      // a worker that stops without an error (process.exit there) would otherwise leave its calls unanswered
      // and, its handle gone, let this thread's event loop run dry with them pending
      w.on('exit', (code) => onError(Object.assign(new Error(`it stopped (exit code ${code})`), { stopped: true })));
    },
    ref: () => w.ref(), unref: () => w.unref(),
    terminate: async () => { await w.terminate(); },
  };
}

/**
 * a worker on `entry` with the process's flags, less those Node refuses a worker (ERR_WORKER_INVALID_EXEC_ARGV:
 * V8's flags and process-wide options, e.g. `node --max-old-space-size=8192 …`, which otherwise left a run
 * without helpers, every call on the main thread); those apply to every thread of the process anyway
 */
function startWorker(entry: URL, hooks: string[], execArgv: string[]): Worker {
  const options = (flags: string[]) => ({ execArgv: [...flags, ...hooks], workerData: HELPER_WORKER_DATA });
  try {
    return new Worker(entry, options(execArgv));
  } catch (e) {
    if ((e as { code?: string }).code !== 'ERR_WORKER_INVALID_EXEC_ARGV') throw e;
    // Node names the refused flags ("… invalid execArgv flags: --a, --b"); where it does not, none are passed
    const refused = new Set(/flags: (.*)$/.exec((e as Error).message)?.[1].split(', ') ?? []);
    const kept = execArgv.filter((f) => !refused.has(f));
    return new Worker(entry, options(kept.length < execArgv.length ? kept : []));
  }
}
