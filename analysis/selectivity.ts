// class selectivity of neurons (NB02 cells 47–48), from class × neuron mean activations; pure.
import { topK } from './topk.ts';

/**
 * S[c][i] = (μ_c − μ_rest) / (μ_c + μ_rest + ε), with μ_c the mean activation of neuron i over class c
 * and μ_rest the unweighted mean of the other classes' means: means [classes, width] → [classes, width]
 */
export function selectivityPerClass(means: readonly (readonly number[])[], eps = 1e-3): number[][] {
  const classes = means.length, w = means[0].length;
  const total = Array.from({ length: w }, (_, i) => means.reduce((s, row) => s + row[i], 0)); // [width]
  return means.map((row) => row.map((mu, i) => {
    const rest = (total[i] - mu) / (classes - 1);
    return (mu - rest) / (mu + rest + eps);
  }));
}

/**
 * neurons ordered by how many classes' top-k sets contain them (most first; ties: lower index first),
 * every neuron of [0, width) included: the notebooks' `class_selectivity_overlap` ordering (cell 100)
 */
export function overlapOrder(topSets: readonly (readonly number[])[], width: number): number[] {
  const count = new Array<number>(width).fill(0);
  for (const set of topSets) for (const i of set) count[i]++;
  return topK(count, width);
}
