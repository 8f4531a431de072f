// Functions for test/run/threads.test.ts to call on the helper thread.
import { handOver } from '../../engine/hand-over.ts';

/** whether this code runs on a worker (Node's worker_threads or a Web Worker), not the main thread */
export async function onWorker(): Promise<boolean> {
  if (typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== 'undefined') return true;
  if (typeof (globalThis as { Deno?: unknown }).Deno !== 'undefined') return false;
  const { isMainThread } = await import('node:worker_threads');
  return !isMainThread;
}

/** the sum of squares of a typed array, returned with the array itself (structured clone both ways) */
export function sumOfSquares(x: Float32Array): { sum: number; echo: Float32Array } {
  let s = 0;
  for (const v of x) s += v * v;
  return { sum: s, echo: x };
}

/** whether x arrived in shared memory, and the sum of its values (its contents, as the helper sees them) */
export function sharedSum(x: Float64Array): { shared: boolean; sum: number } {
  let s = 0;
  for (const v of x) s += v;
  return { shared: typeof SharedArrayBuffer === 'function' && x.buffer instanceof SharedArrayBuffer, sum: s };
}

let lastHanded: Uint8Array | null = null;

/** n bytes 0, 1, 2, … handed over to the caller (engine/hand-over.ts); kept here to see what became of them */
export function handedBytes(n: number): { bytes: Uint8Array } {
  const bytes = Uint8Array.from({ length: n }, (_, i) => i & 255);
  lastHanded = bytes;
  return handOver({ bytes }, [bytes.buffer]);
}

/** the length of the bytes handedBytes last made, as they are here now (0: handed over, detached) */
export function lastHandedLength(): number {
  return lastHanded?.byteLength ?? -1;
}

export function fails(message: string): never {
  throw new RangeError(message);
}

/** stops the worker it runs on without an error (Node's process.exit there); never call it on the main thread */
export async function exits(code: number): Promise<void> {
  const { isMainThread } = await import('node:worker_threads');
  if (isMainThread) throw new Error('exits: not on a worker');
  process.exit(code);
}
