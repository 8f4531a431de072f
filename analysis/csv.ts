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
  const cols = columns ?? csvColumns(rows);
  const n = cols.length, line = new CsvLine(n);
  // one string built by appending (no array per row or per line): the same text as joining the cells
  let out = line.header(cols);
  for (const r of rows) {
    for (let j = 0; j < n; j++) line.cells[j] = r[cols[j]];
    out += line.text();
  }
  return out;
}

/** the keys of `rows` in order of first appearance (toCsv's default columns), `except` left out */
export function csvColumns(rows: readonly Row[], except?: string): string[] {
  const seen = new Set<string>();
  for (const r of rows) {
    for (const k in r) if (Object.prototype.hasOwnProperty.call(r, k) && k !== except) seen.add(k);
  }
  return [...seen];
}

/**
 * toCsv of `rows` rows with the given columns, cell (i, j) being at(i, j), without a row object per row:
 * the same text as toCsv(rows made with those keys in that order); no rows → toCsv([])'s one empty line
 */
export function gridCsv(columns: readonly string[], rows: number, at: (row: number, col: number) => Cell): string {
  if (!rows) return '\n';
  const n = columns.length, line = new CsvLine(n);
  let out = line.header(columns);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < n; j++) line.cells[j] = at(i, j);
    out += line.text();
  }
  return out;
}

/**
 * one line of CSV at a time from `cells` (refilled for each row). A line of finite numbers only (most
 * lines of the large tables) is one JSON.stringify of them: JSON writes a finite number as String() does
 * (ToString: the shortest round-trip form, -0 as 0), commas between, and makes no string per number.
 */
class CsvLine {
  readonly cells: Cell[];
  private readonly nums: number[];
  constructor(readonly n: number) {
    this.cells = new Array<Cell>(n).fill(null);
    this.nums = new Array<number>(n).fill(0);
  }

  header(cols: readonly string[]): string {
    let out = '';
    for (let j = 0; j < this.n; j++) out += j ? ',' + cell(cols[j]) : cell(cols[j]);
    return out + '\n';
  }

  text(): string {
    const { cells, nums, n } = this;
    let j = 0;
    for (; j < n; j++) {
      const v = cells[j];
      if (typeof v !== 'number' || !Number.isFinite(v)) break;
      nums[j] = v;
    }
    if (j === n) return n ? JSON.stringify(nums).slice(1, -1) + '\n' : '\n';
    let line = cell(cells[0]);
    for (let k = 1; k < n; k++) line += ',' + cell(cells[k]);
    return line + '\n';
  }
}

const NEEDS_QUOTES = /[",\n\r]/;

function cell(v: Cell): string {
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  if (v === null || v === undefined) return '';
  const s = typeof v === 'string' ? v : String(v);
  return NEEDS_QUOTES.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
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
