// class × neuron means of a [n, width] activation (or gradient) matrix, grouped by label; pure.
import type { HostTensor, NamedHost } from './forward-cache.ts';

/**
 * mean of each column over the samples of each class: x [n, width], labels [n] → [classes, width]
 * (NaN row for a class with no sample). Sums run in double.
 */
export function meanPerClass(x: HostTensor, labels: ArrayLike<number>, classes: number): number[][] {
  const d = x.data, n = x.shape[0], w = d.length / n;
  const sums = new Float64Array(classes * w), counts = new Float64Array(classes);
  sumPerClass(d, labels, n, w, sums, counts);
  return Array.from({ length: classes }, (_, c) => Array.from({ length: w }, (_, j) => sums[c * w + j] / counts[c])); // [classes, width]
}

// the loops over the rows have functions of their own, ending with the loop: V8's code for a hot loop
// (on-stack replacement) is kept for later calls, and code after the loop that had not run when it was
// compiled (the means built from the sums) deoptimizes on each of them

/** each row of d [n, w] added into its class's sums [classes, w], and counted in counts [classes] */
function sumPerClass(d: Float32Array, labels: ArrayLike<number>, n: number, w: number, sums: Float64Array, counts: Float64Array): void {
  for (let i = 0; i < n; i++) {
    const c = labels[i];
    counts[c]++;
    addRow(sums, c * w, d, i * w, w);
  }
}

/** Σ over the rows of d [n, w] per column → [w] */
function columnSums(d: Float32Array, n: number, w: number): Float64Array {
  const s = new Float64Array(w);
  for (let i = 0; i < n; i++) addRow(s, 0, d, i * w, w);
  return s;
}

/** sums[o..o+w) += d[row..row+w) */
function addRow(sums: Float64Array, o: number, d: Float32Array, row: number, w: number): void {
  for (let j = 0; j < w; j++) sums[o + j] += d[row + j];
}

/** the mean over all samples of each column: x [n, width] → [width] */
export function meanOverBatch(x: HostTensor): number[] {
  const d = x.data, n = x.shape[0], w = d.length / n;
  return Array.from(columnSums(d, n, w), (v) => v / n); // [width]
}

/** meanPerClass of every named record that has rows of width > 1 (pre, post, logits; not loss) → name → [classes, width] */
export function meanPerClassOfAll(named: NamedHost, labels: ArrayLike<number>, classes: number): Record<string, number[][]> {
  const out: Record<string, number[][]> = {};
  for (const [name, t] of Object.entries(named)) {
    if (t && t.shape.length === 2) out[name] = meanPerClass(t, labels, classes);
  }
  return out;
}
