// top-k indices of rows, like torch.topk on signed values (largest first); ties go to the lower index.

/** the k indices of the largest values of `row`, largest first (ties: lower index first) → [k] */
export function topK(row: ArrayLike<number>, k: number): number[] {
  const idx = Array.from({ length: row.length }, (_, i) => i);
  // NaN sorts last
  const key = (i: number) => (Number.isNaN(row[i]) ? -Infinity : row[i]);
  return idx.sort((a, b) => key(b) - key(a) || a - b).slice(0, Math.min(k, row.length));
}

/** topK of each row of m [rows, width] → [rows, k] */
export function topKPerRow(m: readonly ArrayLike<number>[], k: number): number[][] {
  return m.map((row) => topK(row, k));
}
