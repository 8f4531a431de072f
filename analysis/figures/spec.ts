// what every figure shares: the Figure record, the Vega-Lite spec type, the class palette and the small
// spec builders (heatmap, image grid, histogram overlay). Specs are plain, serialisable JSON with their
// data inline (`data.values`), so the same spec renders to SVG in Node (vega's headless View) and
// interactively in the browser (vega-embed). Nothing here touches the file system.
import type { TopLevelSpec } from 'vega-lite';
import { csvColumns, toCsv, type Row } from '../csv.ts';

export type VegaLiteSpec = TopLevelSpec;
export type { Row } from '../csv.ts';

/** one figure of the report: a Vega-Lite spec plus what the report says about it */
export interface Figure {
  /** stable id: the HTML element is `fig-<id>`, the exports figures/<id>.csv and figures/<id>.vl.json */
  id: string;
  /** section id (see SECTIONS in index.ts) */
  section: string;
  /** docs/notebooks.md items it draws (empty for additions) */
  items: number[];
  title: string;
  /** one line, shown under the figure */
  caption: string;
  spec: VegaLiteSpec;
  /** run-directory files it was built from (relative paths) */
  sources: string[];
}

export const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/**
 * the class colours: Vega's category10 is d3's, which is matplotlib's tab10 colour for colour (the
 * notebooks' cmap='tab10'), so digit c has the notebooks' colour; one per class, the same in every figure
 */
export const CLASS_SCHEME = 'category10';

/** [0, 1, …, classes − 1] */
export const classDomain = (classes: number): number[] => Array.from({ length: classes }, (_, c) => c);

/** the colour channel of a class field: CLASS_SCHEME over a fixed domain, so filtered figures keep the colours */
export function classColor(classes: number, field = 'digit', title = 'digit'): Record<string, unknown> {
  return {
    field, type: 'nominal', title,
    scale: { domain: classDomain(classes), scheme: CLASS_SCHEME },
    legend: { symbolOpacity: 1, symbolSize: 90, symbolStrokeWidth: 3, labelFontSize: 12, columns: classes > 10 ? 2 : 1 },
  };
}

/** a few distinct dark-to-light colours for epochs (earliest darkest) */
export function epochColor(epochs: readonly number[], title = 'epoch'): Record<string, unknown> {
  const ramp = ['#0b2d6b', '#2f6db3', '#3fa37a', '#e0a526', '#d1495b', '#7b3294', '#8c564b', '#17becf'];
  return {
    field: 'epoch', type: 'ordinal', title,
    scale: { domain: [...epochs], range: epochs.map((_, i) => ramp[i % ramp.length]) },
    legend: { symbolOpacity: 1 },
  };
}

/** matplotlib-like look: sans-serif text, readable label sizes, no chart border */
export const CONFIG = {
  font: 'DejaVu Sans, Helvetica, Arial, sans-serif',
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal' },
  legend: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal', titleLimit: 300, labelLimit: 300 },
  header: { labelFontSize: 12, titleFontSize: 12 },
  title: { fontSize: 13, anchor: 'start', fontWeight: 'bold' },
  view: { stroke: '#ccc' },
} as const;

/** a top-level spec: schema, title, config, inline data */
export function topLevel(title: string, values: Row[], rest: Record<string, unknown>): VegaLiteSpec {
  return { $schema: SCHEMA, title, data: { values }, config: CONFIG, ...rest } as unknown as VegaLiteSpec;
}

/** the rows of a spec's inline data (what figures/<id>.csv holds): image data URIs left out */
export function specRows(spec: VegaLiteSpec): Row[] {
  const data = (spec as { data?: { values?: Row[] } }).data;
  return (data?.values ?? []).map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => k !== 'url')));
}

/** figures/<id>.csv: toCsv(specRows(spec)), read from the spec's rows without copying them */
export function specCsv(spec: VegaLiteSpec): string {
  const rows = (spec as { data?: { values?: Row[] } }).data?.values ?? [];
  return toCsv(rows, csvColumns(rows, 'url'));
}

/** NaN and ±Infinity → null (JSON has no NaN; Vega treats null as missing) */
export const clean = (v: number | null | undefined): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/**
 * the kinds of a CNN's weighted layers ('conv' or 'linear', the output last) while buildFigures draws a
 * CNN's figures, so names read conv1, pool1, linear1 (PyTorch's module names); null: an MLP
 */
let layerKinds: readonly string[] | null = null;

/** runs `fn` with the figures naming a CNN's layers by `kinds` (null: the MLP's names) */
export function withLayerKinds<T>(kinds: readonly string[] | null, fn: () => T): T {
  const before = layerKinds;
  layerKinds = kinds;
  try {
    return fn();
  } finally {
    layerKinds = before;
  }
}

/** a CNN layer's PyTorch-style name (conv2, linear1) and whether it is a conv layer, while withLayerKinds is on */
function cnnLayer(k: number): { conv: boolean; n: number } | null {
  if (!layerKinds || k >= layerKinds.length) return null;
  const kind = layerKinds[k];
  return { conv: kind === 'conv', n: layerKinds.slice(0, k + 1).filter((x) => x === kind).length };
}

/** notebook-style names: layers.0.pre → "linear1 (pre-activation)", layers.0.post → "act1 (ReLU 1)"; a CNN's: conv1 (pre-activation), conv1 ReLU, pool1 */
export function tensorLabel(name: string, hidden?: number): string {
  const c = /^layers\.(\d+)\.(pre|post|pool)$/.exec(name), l = c ? cnnLayer(Number(c[1])) : null;
  if (c && l) {
    const base = `${l.conv ? 'conv' : 'linear'}${l.n}`;
    return c[2] === 'pre' ? `${base} (pre-activation)` : c[2] === 'post' ? `${base} ReLU` : `pool${l.n}`;
  }
  const m = /^layers\.(\d+)\.(pre|post)$/.exec(name);
  if (m) {
    const k = Number(m[1]) + 1;
    if (hidden !== undefined && k > hidden) return name;
    return m[2] === 'pre' ? `linear${k} (pre-activation)` : `act${k} (ReLU ${k})`;
  }
  return name;
}

/** a short name for a hidden layer's output: layers.1.post → "ReLU 2"; a CNN's: conv2, conv2 ReLU, pool2 */
export function layerShort(name: string): string {
  const c = /^layers\.(\d+)\.(pre|post|pool)$/.exec(name), l = c ? cnnLayer(Number(c[1])) : null;
  if (c && l) {
    const base = `${l.conv ? 'conv' : 'linear'}${l.n}`;
    return c[2] === 'pre' ? base : c[2] === 'post' ? `${base} ReLU` : `pool${l.n}`;
  }
  const m = /^layers\.(\d+)\.(pre|post)$/.exec(name);
  if (!m) return name;
  return m[2] === 'pre' ? `linear${Number(m[1]) + 1}` : `ReLU ${Number(m[1]) + 1}`;
}

/** whether hidden layer k is a conv layer (only while withLayerKinds names a CNN) */
export const isConvLayer = (k: number): boolean => cnnLayer(k)?.conv ?? false;

/**
 * up to `max` epochs to draw: the notebook's choice where those epochs exist, else evenly spaced over
 * the run, first and last included
 */
export function pickEpochs(available: readonly number[], wanted: readonly number[], max = wanted.length): number[] {
  const have = wanted.filter((e) => available.includes(e));
  if (have.length >= Math.min(max, available.length)) return have.slice(0, max);
  const n = Math.min(max, available.length);
  if (n <= 1) return available.slice(0, 1);
  const idx = [...new Set(Array.from({ length: n }, (_, i) => Math.round((i * (available.length - 1)) / (n - 1))))];
  const out = idx.map((i) => available[i]);
  // keep the notebook's order (it draws reversed lists)
  return wanted[0] > wanted[wanted.length - 1] ? out.reverse() : out;
}

/** a matrix [rows][cols] as long rows { [rowField]: i, [colField]: j, value } */
export function matrixRows(m: readonly (readonly (number | null)[])[], rowField: string, colField: string, extra: Row = {}): Row[] {
  return m.flatMap((r, i) => r.map((v, j) => ({ ...extra, [rowField]: i, [colField]: j, value: clean(v) })));
}

export interface HeatmapOptions {
  x: { field: string; title: string };
  y: { field: string; title: string };
  colorTitle: string;
  /** viridis (default), or a diverging scheme centred on 0 */
  diverging?: boolean;
  /** colour domain (default: the data's; ± the largest magnitude when diverging) */
  domain?: [number, number];
  /** write each value in its cell (small matrices), with this d3 format */
  text?: string;
  cell?: number;
  /** facet by this field (columns) */
  facet?: { field: string; title: string | null };
}

/** a rect heatmap of long rows with a `value` field (seaborn.heatmap / plt.imshow) */
export function heatmap(title: string, values: Row[], o: HeatmapOptions): VegaLiteSpec {
  const xs = new Set(values.map((r) => r[o.x.field])).size, ys = new Set(values.map((r) => r[o.y.field])).size;
  const cell = o.cell ?? Math.max(12, Math.min(34, Math.floor(520 / Math.max(1, xs))));
  let maxAbs = 0, lo = Infinity, hi = -Infinity;
  for (const r of values) {
    if (typeof r.value !== 'number') continue;
    maxAbs = Math.max(maxAbs, Math.abs(r.value));
    lo = Math.min(lo, r.value); hi = Math.max(hi, r.value);
  }
  const color = o.diverging
    ? { field: 'value', type: 'quantitative', title: o.colorTitle, scale: { scheme: 'redblue', reverse: true, domain: o.domain ?? [-maxAbs || -1, maxAbs || 1] } }
    : { field: 'value', type: 'quantitative', title: o.colorTitle, scale: { scheme: 'viridis', ...(o.domain ? { domain: o.domain } : {}) } };
  const enc = {
    x: { field: o.x.field, type: 'ordinal', title: o.x.title, axis: { labelAngle: 0 } },
    y: { field: o.y.field, type: 'ordinal', title: o.y.title },
  };
  const layers: Record<string, unknown>[] = [{ mark: { type: 'rect' }, encoding: { ...enc, color, tooltip: [{ field: o.x.field }, { field: o.y.field }, { field: 'value', type: 'quantitative', format: '.4g' }] } }];
  if (o.text) {
    layers.push({
      mark: { type: 'text', fontSize: cell >= 30 ? 10 : 9 },
      encoding: {
        ...enc,
        text: { field: 'value', type: 'quantitative', format: o.text },
        color: o.diverging
          ? { condition: { test: `abs(datum.value) > ${0.6 * maxAbs}`, value: 'white' }, value: 'black' }
          : { condition: { test: `datum.value < ${(lo + hi) / 2}`, value: 'white' }, value: 'black' },
      },
    });
  }
  const inner = { width: cell * xs, height: cell * ys, layer: layers };
  if (o.facet) {
    return topLevel(title, values, {
      facet: { column: { field: o.facet.field, type: 'ordinal', title: o.facet.title, header: { labelFontSize: 13 } } },
      spec: inner, resolve: { scale: { color: 'shared' } },
    });
  }
  return topLevel(title, values, inner);
}

/** one tile of an image grid */
export interface Tile { url: string; label: string; row: number; col: number; [k: string]: string | number | null }

/**
 * a grid of images (PNG data URIs, drawn pixelated) with a label above each; optionally a colour
 * legend for the maps' colour scale (a Vega scheme name and its title)
 */
export function imageGrid(title: string, tiles: Tile[], o: { size: number; legend?: { title: string; scale: { domain: number[]; scheme?: string; range?: string[] } } }): VegaLiteSpec {
  const pad = 22, gap = 10, w = o.size + gap, h = o.size + pad + gap;
  const rows = Math.max(...tiles.map((t) => t.row)) + 1, cols = Math.max(...tiles.map((t) => t.col)) + 1;
  const values: Row[] = tiles.map((t) => ({ ...t, px: t.col * w + o.size / 2, py: t.row * h + pad + o.size / 2, ty: t.row * h + pad - 5 }));
  const pos = (f: string) => ({ field: f, type: 'quantitative', scale: null, axis: null });
  const layer: Record<string, unknown>[] = [
    {
      mark: { type: 'image', width: o.size, height: o.size, align: 'center', baseline: 'middle', smooth: false, aria: false },
      encoding: { x: pos('px'), y: pos('py'), url: { field: 'url', type: 'nominal' } },
    },
    {
      mark: { type: 'text', fontSize: 11, baseline: 'bottom' },
      encoding: { x: pos('px'), y: pos('ty'), text: { field: 'label', type: 'nominal' } },
    },
  ];
  if (o.legend) {
    // an invisible mark that carries the colour scale, so Vega draws its gradient legend
    layer.push({
      data: { values: [{ v: o.legend.scale.domain[0] }, { v: o.legend.scale.domain[o.legend.scale.domain.length - 1] }] },
      mark: { type: 'point', opacity: 0 },
      encoding: {
        x: { value: 0 }, y: { value: 0 },
        color: { field: 'v', type: 'quantitative', title: o.legend.title, scale: o.legend.scale, legend: { gradientLength: Math.min(200, rows * h - gap) } },
      },
    });
  }
  return topLevel(title, values, { width: cols * w - gap, height: rows * h - gap, layer, config: { ...CONFIG, view: { stroke: null } } });
}

/** the histogram rows of one group: { ...key, lo, hi, count } per bin */
export function histogramRows(edges: readonly number[], counts: readonly number[], key: Row): Row[] {
  return counts.map((count, i) => ({ ...key, lo: clean(edges[i]), hi: clean(edges[i + 1]), count }));
}

/**
 * overlaid histograms (plt.hist with alpha), one colour per group: each bin a light bar, each group's
 * outline a step line through the bin centres, so every group stays visible where they overlap;
 * `log` draws counts on a log axis (empty bins left out) with outlines only. Rows hold lo, hi, count and
 * the colour field.
 */
export function overlaidHistograms(title: string, values: Row[], o: {
  color: Record<string, unknown>; xTitle: string; yTitle?: string; facet?: { field: string; title: string | null; columns?: number; sort?: unknown[] };
  width?: number; height?: number; log?: boolean;
}): VegaLiteSpec {
  const x = { field: 'lo', type: 'quantitative', title: o.xTitle, scale: { zero: false, nice: false } };
  const y = { field: 'count', type: 'quantitative', title: o.yTitle ?? 'count', stack: null, ...(o.log ? { scale: { type: 'log' } } : {}) };
  const tooltip = [{ field: 'lo', format: '.4g' }, { field: 'hi', format: '.4g' }, { field: 'count' }];
  const layer: Record<string, unknown>[] = [];
  if (!o.log) {
    layer.push({ mark: { type: 'rect', opacity: 0.22, stroke: null }, encoding: { x, x2: { field: 'hi' }, y, y2: { datum: 0 }, color: o.color, tooltip } });
  }
  layer.push({
    transform: [{ calculate: '(datum.lo + datum.hi) / 2', as: 'mid' }, ...(o.log ? [{ filter: 'datum.count > 0' }] : [])],
    mark: { type: 'line', interpolate: 'step', strokeWidth: 1.6 },
    encoding: { x: { ...x, field: 'mid' }, y, color: o.color, tooltip },
  });
  const inner = { width: o.width ?? 420, height: o.height ?? 240, layer };
  if (o.facet) {
    return topLevel(title, values, {
      facet: { field: o.facet.field, type: 'nominal', title: o.facet.title, ...(o.facet.sort ? { sort: o.facet.sort } : {}) },
      columns: o.facet.columns ?? 3,
      spec: inner,
      resolve: { scale: { x: 'independent', y: 'independent' } },
    });
  }
  return topLevel(title, values, inner);
}
