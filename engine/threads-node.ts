// The helper thread on Node's worker_threads (engine/threads.ts loads this file only under Node).
import { Worker } from 'node:worker_threads';
import type { Message, Port } from './threads.ts';

/** what a helper's entry (engine/thread-entry-node.ts, or a bundle holding it) is told, so it serves calls */
export const HELPER_WORKER_DATA = { mlpLensHelper: true } as const;

/** a worker running `entry` (engine/thread-entry-node.ts, or a bundle holding it) with the process's flags and `hooks` (the .ts loader) */
export function nodeWorkerPort(entry: URL, hooks: string[], execArgv: string[]): Port {
  const w = new Worker(entry, { execArgv: [...execArgv, ...hooks], workerData: HELPER_WORKER_DATA });
  return {
    post: (m, t) => w.postMessage(m, t as never),
    onMessage: (h: (m: Message) => void, onError) => { w.on('message', h); w.on('error', onError); },
    ref: () => w.ref(), unref: () => w.unref(),
    terminate: async () => { await w.terminate(); },
  };
}
