// The helper thread's side of engine/threads.ts on Node's worker_threads: each call answered by
// engine/thread-entry.ts's `answer`, in the order they come.
import { parentPort } from 'node:worker_threads';
import { answer, type Call } from './thread-entry.ts';

let queue: Promise<void> = Promise.resolve();
parentPort!.on('message', (call: Call) => { queue = queue.then(() => answer(call, (m) => parentPort!.postMessage(m))); });
