// Fresh memory costs a page fault on its first write, and here (a sandboxed kernel) each fault of a
// SharedArrayBuffer page costs ≈ 20 µs: the recorder's two sets of slots (≈ 100 MB) cost the training
// thread ≈ 0.6 s in its first two epochs. touchPages takes those faults on a helper thread instead.
// Pure JS, no imports: a helper thread loads it in no time.

/**
 * writes every page (4 KiB) of each buffer once, from its end backwards, with an atomic exchange of 0 for
 * 0: a value another thread has written there meanwhile is never changed (the exchange fails), and a 0
 * stays 0. Safe while the buffers are being filled. Returns the seconds it took.
 */
export function touchPages(buffers: readonly SharedArrayBuffer[]): number {
  const t0 = performance.now();
  for (const b of buffers) {
    const words = new Int32Array(b, 0, b.byteLength >> 2);
    for (let i = (words.length - 1) & ~1023; i >= 0; i -= 1024) Atomics.compareExchange(words, i, 0, 0);
  }
  return (performance.now() - t0) / 1000;
}
