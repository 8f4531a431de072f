// CSV export of the statistics: a generic writer plus long-format tables (one observation per row) of
// the drift series, histograms and neuron health, and wide matrices for heatmaps. Pure: data in, text out.
import type { Drift } from './drift.ts';
import type { EpochStats } from './epoch-stats.ts';

export type Cell = string | number | boolean | null | undefined;
export type Row = Record<string, Cell>;

/**
 * RFC 4180 text: a header of `columns` (default: keys in order of first appearance), one line per row,
 * "\n" line ends. NaN, ±Infinity, null and undefined are empty cells; text with a comma, quote or line
 * break is quoted. numbers print as JavaScript does (shortest round-trip form).
 */
export function toCsv(rows: readonly Row[], columns?: readonly string[]): string {
  const cols = columns ?? [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const lines = [cols.map(cell).join(',')];
  for (const r of rows) lines.push(cols.map((c) => cell(r[c])).join(','));
  return lines.join('\n') + '\n';
}

function cell(v: Cell): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** a matrix [rows][cols] as CSV: first column `rowName` (labels default 0..), then `${colPrefix}${j}` */
export function matrixCsv(m: readonly (readonly number[])[], rowName: string, colPrefix: string, rowLabels?: readonly Cell[]): string {
  const width = m.reduce((w, r) => Math.max(w, r.length), 0);
  const cols = [rowName, ...Array.from({ length: width }, (_, j) => `${colPrefix}${j}`)];
  return toCsv(m.map((r, i) => {
    const row: Row = { [rowName]: rowLabels ? rowLabels[i] : i };
    r.forEach((v, j) => { row[`${colPrefix}${j}`] = v; });
    return row;
  }), cols);
}

/**
 * the drift series in long format: kind (act|grad), tensor, epoch, group ('all', 'first-batch' or the
 * class digit), mean, std (ddof 1), min, max (min/max only for 'all')
 */
export function driftRows(d: Drift): Row[] {
  const rows: Row[] = [];
  for (const kind of ['act', 'grad'] as const) {
    for (const [tensor, t] of Object.entries(kind === 'act' ? d.acts : d.grads)) {
      d.epochs.forEach((epoch, e) => {
        rows.push({ kind, tensor, epoch, group: 'all', mean: t.mean[e], std: t.std[e], min: t.min[e], max: t.max[e] });
        if (t.firstBatch) rows.push({ kind, tensor, epoch, group: 'first-batch', mean: t.firstBatch.mean[e], std: t.firstBatch.std[e] });
        t.perClassMean[e].forEach((mean, c) => rows.push({ kind, tensor, epoch, group: c, mean, std: t.perClassStd[e][c] }));
      });
    }
  }
  return rows;
}

/**
 * every histogram of the epochs in long format: epoch, kind, tensor, group ('all', 'first-batch', or a
 * class digit), range ('epoch' = the epoch's edges, 'own' = the group's own edges), bin, lo, hi, count.
 */
export function histogramRows(stats: readonly EpochStats[]): Row[] {
  const rows: Row[] = [];
  const push = (base: Row, edges: readonly number[], counts: readonly number[]) =>
    counts.forEach((count, bin) => rows.push({ ...base, bin, lo: edges[bin], hi: edges[bin + 1], count }));
  for (const s of stats) {
    for (const kind of ['act', 'grad'] as const) {
      for (const [tensor, t] of Object.entries(kind === 'act' ? s.acts : s.grads)) {
        const base = { epoch: s.epoch, kind, tensor };
        push({ ...base, group: 'all', range: 'epoch' }, t.histogram.edges, t.histogram.counts);
        if (t.firstBatch) push({ ...base, group: 'first-batch', range: 'own' }, t.firstBatch.histogram.edges, t.firstBatch.histogram.counts);
        t.perClassHistogram.forEach((counts, c) => push({ ...base, group: c, range: 'epoch' }, t.histogram.edges, counts));
        t.perClassOwnHistogram?.forEach((h, c) => push({ ...base, group: c, range: 'own' }, h.edges, h.counts));
      }
    }
  }
  return rows;
}

/** one row per epoch × hidden-layer neuron: active fraction and state (dead | rare | always | '') */
export function healthRows(stats: readonly EpochStats[]): Row[] {
  const rows: Row[] = [];
  for (const s of stats) {
    for (const h of s.health) {
      const state = (j: number) => (h.dead.includes(j) ? 'dead' : h.rare.includes(j) ? 'rare' : h.always.includes(j) ? 'always' : '');
      h.activeFraction.forEach((f, neuron) => rows.push({ epoch: s.epoch, layer: h.layer, tensor: h.tensor, neuron, activeFraction: f, state: state(neuron) }));
    }
  }
  return rows;
}

/** per-step parameter gradient norms: epoch, step, then one column per parameter */
export function paramNormRows(stats: readonly EpochStats[]): Row[] {
  const rows: Row[] = [];
  for (const s of stats) {
    const p = s.params;
    if (!p) continue;
    const steps = p.stepNorm[0]?.length ?? 0;
    for (let step = 0; step < steps; step++) {
      const row: Row = { epoch: s.epoch, step };
      p.names.forEach((name, i) => { row[name] = p.stepNorm[i][step]; });
      rows.push(row);
    }
  }
  return rows;
}
