// class × neuron means of a [n, width] activation (or gradient) matrix, grouped by label; pure.
import type { HostTensor, NamedHost } from './forward-cache.ts';

/**
 * mean of each column over the samples of each class: x [n, width], labels [n] → [classes, width]
 * (NaN row for a class with no sample). Sums run in double.
 */
export function meanPerClass(x: HostTensor, labels: ArrayLike<number>, classes: number): number[][] {
  const n = x.shape[0], w = x.data.length / n;
  const sums = new Float64Array(classes * w), counts = new Array<number>(classes).fill(0);
  for (let i = 0; i < n; i++) {
    const c = labels[i], o = c * w;
    counts[c]++;
    for (let j = 0; j < w; j++) sums[o + j] += x.data[i * w + j];
  }
  return Array.from({ length: classes }, (_, c) => Array.from({ length: w }, (_, j) => sums[c * w + j] / counts[c])); // [classes, width]
}

/** the mean over all samples of each column: x [n, width] → [width] */
export function meanOverBatch(x: HostTensor): number[] {
  const n = x.shape[0], w = x.data.length / n;
  const s = new Float64Array(w);
  for (let i = 0; i < n; i++) for (let j = 0; j < w; j++) s[j] += x.data[i * w + j];
  return Array.from(s, (v) => v / n); // [width]
}

/** meanPerClass of every named record that has rows of width > 1 (pre, post, logits; not loss) → name → [classes, width] */
export function meanPerClassOfAll(named: NamedHost, labels: ArrayLike<number>, classes: number): Record<string, number[][]> {
  const out: Record<string, number[][]> = {};
  for (const [name, t] of Object.entries(named)) {
    if (t && t.shape.length === 2) out[name] = meanPerClass(t, labels, classes);
  }
  return out;
}
