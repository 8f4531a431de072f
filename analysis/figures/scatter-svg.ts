// A big scatter's SVG with Vega drawing only a handful of its points: the same bytes as Vega drawing them
// all. Why: the report's 10 000-point scatters cost Vega ≈ 3 KB of scenegraph a point (data tuples, items,
// bounds, text) and most of their drawing time goes to that and to the collector; what Vega writes for
// the points themselves is one line each that depends on the point alone.
//
// How (renderFigures in render-figures.ts): for a plain scatter (scatterPlan: one circle mark, x and y
// quantitative fields, an optional nominal or ordinal colour field, constant size and opacity, no
// per-point aria text, no clip, every x and y a finite number), Vega draws the spec on a subset of the
// rows that keeps what the rest of the figure depends on: the rows with the smallest and largest x and y
// (so the scales' domains, the axes and the marks' bounds, hence the layout and size, are the same), the
// first row of each colour (the colour domain and the legend), and the first rows. Then fillScatter
// writes one path per row, in data order, with the subset's own scales (the same functions Vega
// evaluates) and the subset's own path text as the template, and puts them in place of the subset's
// points. It first writes the subset's points that way and compares them with what Vega wrote, to the
// byte; where anything differs it returns null and the figure is drawn whole by Vega.
// Tested against Vega drawing every point (test/analysis/scatter-svg.test.ts).
import type { VegaLiteSpec } from './spec.ts';

/** rows below this are drawn whole by Vega (its drawing is cheap there) */
export const SCATTER_MIN_ROWS = 500;

type Row = Record<string, unknown>;

/** a scatter scatterPlan accepted: the spec on the subset, and what fillScatter needs */
export interface ScatterPlan {
  /** the spec with data.values = the picked rows */
  subset: VegaLiteSpec;
  rows: readonly Row[];
  /** indices of the picked rows, ascending */
  picked: number[];
  x: string;
  y: string;
  color: string | null;
}

/** the scales of the subset's view fillScatter uses (vega.View.scale) */
export interface ScatterScales {
  x: (v: unknown) => unknown;
  y: (v: unknown) => unknown;
  color: ((v: unknown) => unknown) | null;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const onlyKeys = (o: Record<string, unknown>, keys: readonly string[]): boolean => Object.keys(o).every((k) => keys.includes(k));

/** the field of an x or y channel that is a plain quantitative field (any scale and axis), else null */
function quantitativeField(c: unknown): string | null {
  if (!isObject(c) || !onlyKeys(c, ['field', 'type', 'title', 'scale', 'axis'])) return null;
  if (c.type !== 'quantitative' || typeof c.field !== 'string' || /[.[\]\\]/.test(c.field)) return null;
  if (isObject(c.scale) && 'domain' in c.scale && !Array.isArray(c.scale.domain)) return null;
  return c.field;
}

/** the plan for a plain scatter of at least `minRows` rows (see the top of this file), else null */
export function scatterPlan(spec: VegaLiteSpec, minRows = SCATTER_MIN_ROWS): ScatterPlan | null {
  const s = spec as unknown as Record<string, unknown>;
  if (!onlyKeys(s, ['$schema', 'title', 'description', 'data', 'config', 'width', 'height', 'mark', 'encoding'])) return null;
  const data = s.data, mark = s.mark, enc = s.encoding;
  if (!isObject(data) || !onlyKeys(data, ['values']) || !Array.isArray(data.values) || data.values.length < minRows) return null;
  // a circle: filled, one shape; per-point aria text off (it would hold each point's values)
  if (!isObject(mark) || !onlyKeys(mark, ['type', 'size', 'opacity', 'aria']) || mark.type !== 'circle' || mark.aria !== false) return null;
  if (('size' in mark && typeof mark.size !== 'number') || ('opacity' in mark && typeof mark.opacity !== 'number')) return null;
  if (!isObject(enc) || !onlyKeys(enc, ['x', 'y', 'color', 'tooltip'])) return null;
  const x = quantitativeField(enc.x), y = quantitativeField(enc.y);
  if (x === null || y === null) return null;
  let color: string | null = null;
  if (enc.color !== undefined) {
    const c = enc.color;
    if (!isObject(c) || !onlyKeys(c, ['field', 'type', 'title', 'scale', 'legend']) || typeof c.field !== 'string' || /[.[\]\\]/.test(c.field)) return null;
    if (c.type !== 'nominal' && c.type !== 'ordinal') return null;
    color = c.field;
  }
  const rows = data.values as Row[];
  // every point drawn (Vega-Lite filters out invalid x and y), each colour a plain value
  let xMin = 0, xMax = 0, yMin = 0, yMax = 0;
  const firstOfColor = new Map<unknown, number>();
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    if (!isObject(r)) return null;
    const vx = r[x], vy = r[y];
    if (typeof vx !== 'number' || typeof vy !== 'number' || !Number.isFinite(vx) || !Number.isFinite(vy)) return null;
    // the first row holding each extreme
    if (vx < (rows[xMin][x] as number)) xMin = i;
    if (vx > (rows[xMax][x] as number)) xMax = i;
    if (vy < (rows[yMin][y] as number)) yMin = i;
    if (vy > (rows[yMax][y] as number)) yMax = i;
    if (color !== null) {
      const v = r[color];
      if (typeof v !== 'number' && typeof v !== 'string') return null;
      if (!firstOfColor.has(v)) firstOfColor.set(v, i);
    }
  }
  const picked = [...new Set([0, 1, 2, xMin, xMax, yMin, yMax, ...firstOfColor.values()])].filter((i) => i < rows.length).sort((a, b) => a - b);
  const subset = { ...s, data: { values: picked.map((i) => rows[i]) } } as unknown as VegaLiteSpec;
  return { subset, rows, picked, x, y, color };
}

const GROUP = '<g class="mark-symbol role-mark marks"';
/** a point as Vega writes it: its d, fill and the attributes after (the same for every point of a scatter but the fill) */
const PATH = /^<path transform="translate\([^,"]*,[^)"]*\)" d="([^"]*)" fill="([^"]*)"([^>]*)\/>/;

/** a scatter's SVG from fillScatter: `svg` is compact(the whole SVG); `ids`, the part of it that can hold ids (all but the points) */
export interface FilledScatter { svg: string; ids: string }

/** render-figures.ts compactSvg and compactNumber (its cut on one number) */
export interface Compact { svg(text: string): string; number(n: number): string }

const NOT_COMPACTED: Compact = { svg: (t) => t, number: (n) => '' + n };

/**
 * the SVG of the whole scatter from `svg`, Vega's drawing of plan.subset, and that view's scales, with
 * `compact` applied: compactSvg works attribute by attribute, so applied to the text around the points
 * and to each point's attributes (the translate's numbers one by one) it gives what it gives on the
 * whole. Null where the subset's points are not written as this writes them (then Vega draws the whole spec)
 */
export function fillScatter(plan: ScatterPlan, svg: string, scales: ScatterScales, compact: Compact = NOT_COMPACTED): FilledScatter | null {
  if (typeof scales.x !== 'function' || typeof scales.y !== 'function' || (plan.color !== null && typeof scales.color !== 'function')) return null;
  const at = svg.indexOf(GROUP);
  if (at < 0 || svg.indexOf(GROUP, at + 1) >= 0) return null;
  const open = svg.indexOf('>', at) + 1, close = svg.indexOf('</g>', open);
  if (open <= 0 || close < 0) return null;
  const inner = svg.slice(open, close);
  const first = PATH.exec(inner);
  if (!first || /\sid="/.test(first[0])) return null;
  const [, d, constantFill, rest] = first;
  // the fill of each colour, once (every colour is in the subset, so the check below sees each fill as
  // Vega writes it: one Vega would escape makes it fail)
  const fills = new Map<unknown, string>();
  const fill = (r: Row): string => {
    if (!scales.color) return constantFill;
    const v = r[plan.color!];
    let f = fills.get(v);
    if (f === undefined) fills.set(v, (f = String(scales.color(v))));
    return f;
  };
  // the subset's points as Vega's symbol mark writes them, to the byte
  let mine = '';
  for (const i of plan.picked) {
    const r = plan.rows[i];
    mine += `<path transform="translate(${scales.x(r[plan.x])},${scales.y(r[plan.y])})" d="${d}" fill="${fill(r)}"${rest}/>`;
  }
  if (mine !== inner) return null;
  // each point's text compacted: the translate's two numbers, and the rest (the same for every point of one colour)
  const tails = new Map<string, string>();
  const parts: string[] = new Array(plan.rows.length);
  for (let i = 0; i < plan.rows.length; i++) {
    const r = plan.rows[i], f = fill(r);
    let tail = tails.get(f);
    if (tail === undefined) tails.set(f, (tail = compact.svg(` d="${d}" fill="${f}"${rest}/>`)));
    const x = scales.x(r[plan.x]), y = scales.y(r[plan.y]);
    if (typeof x !== 'number' || typeof y !== 'number') return null;
    parts[i] = `<path transform="translate(${compact.number(x)},${compact.number(y)})"${tail}`;
  }
  const head = compact.svg(svg.slice(0, open)), end = compact.svg(svg.slice(close));
  return { svg: head + parts.join('') + end, ids: head + end };
}
