// What a helper thread's answer hands over rather than copies: a task marks its result's buffers (made for
// that result alone) with handOver, and engine/thread-entry.ts posts them in the transfer list, so the
// calling thread gets the same memory and neither side copies it nor touches fresh pages for it. Called
// on the calling thread (no worker), the mark does nothing.

const marked = new WeakMap<object, ArrayBuffer[]>();

/** `result`, its `buffers` to be handed to the caller (unusable where the task ran, afterwards) */
export function handOver<T extends object>(result: T, buffers: ArrayBuffer[]): T {
  marked.set(result, buffers);
  return result;
}

/** the buffers handOver marked on `result` (none for anything else) */
export function handedOver(result: unknown): ArrayBuffer[] {
  return (typeof result === 'object' && result !== null && marked.get(result)) || [];
}
