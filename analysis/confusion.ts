// confusion matrices (rows = true class, columns = predicted class), pure.

/** counts [classes, classes]: entry [t][p] is the number of samples of true class t predicted p */
export function confusionMatrix(pred: ArrayLike<number>, labels: ArrayLike<number>, classes: number): number[][] {
  const m = Array.from({ length: classes }, () => new Array<number>(classes).fill(0)); // [classes, classes]
  for (let i = 0; i < labels.length; i++) m[labels[i]][pred[i]]++;
  return m;
}

/** each row divided by its sum (rates of each prediction given the true class); an empty row stays 0 */
export function rowNormalize(m: readonly (readonly number[])[]): number[][] {
  return m.map((row) => {
    const s = row.reduce((a, b) => a + b, 0);
    return row.map((v) => (s ? v / s : 0));
  });
}

/** a − b elementwise (e.g. ablation − baseline) */
export function matrixDiff(a: readonly (readonly number[])[], b: readonly (readonly number[])[]): number[][] {
  return a.map((row, i) => row.map((v, j) => v - b[i][j]));
}

/** the largest off-diagonal entries of a matrix, largest first: {from: true class, to: predicted, value} */
export function topConfusions(m: readonly (readonly number[])[], k: number): { from: number; to: number; value: number }[] {
  const all: { from: number; to: number; value: number }[] = [];
  m.forEach((row, i) => row.forEach((value, j) => { if (i !== j) all.push({ from: i, to: j, value }); }));
  return all.sort((a, b) => b.value - a.value || a.from - b.from || a.to - b.to).slice(0, k);
}
