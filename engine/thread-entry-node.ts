// The helper thread's side of engine/threads.ts on Node's worker_threads: each call answered by
// engine/thread-entry.ts's `answer`, in the order they come. Serves only in a thread engine/threads-node.ts
// started (its workerData says so): a Node bundle holding this file is also the main thread's code.
import { parentPort, workerData } from 'node:worker_threads';
import { answer, type Call } from './thread-entry.ts';
import { HELPER_WORKER_DATA } from './threads-node.ts';

if (parentPort && (workerData as typeof HELPER_WORKER_DATA | undefined)?.mlpLensHelper === true) {
  const port = parentPort;
  let queue: Promise<void> = Promise.resolve();
  port.on('message', (call: Call) => { queue = queue.then(() => answer(call, (m, t) => port.postMessage(m, t))); });
}
