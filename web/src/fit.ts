// the page's adjustments to the report's Vega-Lite figures (analysis/figures), made before drawing and
// never in the figure functions themselves: one naming scheme (plain layer names for the figures' own
// labels, plainTensor), epochs counted from 1, and a size that fits the card the chart is drawn in (a phone
// is 390 px wide: narrower views, legends below, facets wrapped, long titles broken into lines).
import { layerShort, tensorLabel, type VegaLiteSpec } from '../../analysis/figures/spec.ts';
import { parseArch } from '../../mlp/arch.ts';

const SITES: Record<string, string> = { pre: 'before ReLU', post: 'after ReLU', pool: 'after max-pooling' };

/** how the page names the layers of one architecture (mlp:32,16 or a cnn:… spec) */
export interface Naming { kind: 'mlp' | 'cnn'; convs: number }

export function namingOf(arch: string | undefined): Naming {
  if (!arch) return { kind: 'mlp', convs: 0 };
  try {
    const spec = parseArch(arch);
    return spec.kind === 'cnn' ? { kind: 'cnn', convs: spec.layers.filter((l) => l.kind === 'conv').length } : { kind: 'mlp', convs: 0 };
  } catch {
    return { kind: 'mlp', convs: 0 };
  }
}

/** the layer alone: "layer 2" (an MLP), "conv 1" or "dense 1" (a CNN); null for a name that is not a layer's */
export function plainLayer(k: number, n: Naming): string {
  if (n.kind === 'cnn') return k < n.convs ? `conv ${k + 1}` : `dense ${k - n.convs + 1}`;
  return `layer ${k + 1}`;
}

/** layers.1.post → "layer 2, after ReLU"; logits → "output (logits)"; the canonical name goes in a tooltip */
export function plainTensor(name: string, n: Naming): string {
  const m = /^layers\.(\d+)\.(pre|post|pool)$/.exec(name);
  if (m) return `${plainLayer(Number(m[1]), n)}, ${SITES[m[2]]}`;
  if (name === 'logits') return 'output (logits)';
  if (name === 'input') return 'input pixels';
  return name;
}

/** the figure functions' own labels (tensorLabel, layerShort: "act1 (ReLU 1)", "linear2", …) → the page's plain names */
export function renames(names: readonly string[], n: Naming): Map<string, string> {
  const map = new Map<string, string>();
  for (const name of names) {
    const plain = plainTensor(name, n);
    if (plain === name) continue;
    for (const label of [tensorLabel(name), layerShort(name)]) if (label !== name && !map.has(label)) map.set(label, plain);
    // a label the figures leave canonical (a CNN's pool maps)
    if (/^layers\./.test(name)) map.set(name, plain);
  }
  return map;
}

type Json = unknown;
const isObj = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * the spec with every label of `map` replaced: exact string values in data rows' label fields, sort
 * orders and scale domains, and inside titles (longest label first, so "linear1 (pre-activation)"
 * wins over "linear1")
 */
export function renameSpec(spec: VegaLiteSpec, map: Map<string, string>): VegaLiteSpec {
  if (!map.size) return spec;
  const keys = [...map.keys()].sort((a, b) => b.length - a.length);
  const inText = (s: string) => {
    let out = s;
    for (const k of keys) if (out.includes(k)) out = out.split(k).join(map.get(k)!);
    return out;
  };
  const walk = (v: Json, key: string): Json => {
    if (typeof v === 'string') return key === 'title' || key === 'text' ? inText(v) : map.get(v) ?? v;
    if (Array.isArray(v)) return v.map((x) => walk(x, key));
    if (!isObj(v)) return v;
    const out: Record<string, Json> = {};
    for (const [k, x] of Object.entries(v)) {
      // inline data: only the label fields are renamed (a row's `name` keeps the canonical name for tooltips)
      if (k === 'values' && key === 'data' && Array.isArray(x)) {
        out[k] = x.map((row) => {
          if (!isObj(row)) return row;
          const r = { ...row };
          for (const f of ['tensor', 'layer', 'panel', 'pair']) if (typeof r[f] === 'string') r[f] = map.get(r[f] as string) ?? inText(r[f] as string);
          return r;
        });
      } else if (k === 'expr' || k === 'test' || k === 'filter' || k === 'calculate' || k === 'url') out[k] = x;
      else out[k] = walk(x, k);
    }
    return out;
  };
  return walk(spec, '') as VegaLiteSpec;
}

/** a title broken into lines of at most `chars` characters (Vega-Lite draws a string array as lines) */
export function wrapTitle(text: string, chars: number): string | string[] {
  if (text.length <= chars) return text;
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && (line + ' ' + word).length > chars) { lines.push(line); line = word; } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

/** pixels a view needs besides its plot: the y axis and its title, the export menu of vega-embed */
const AXIS = 64, MENU = 40;

/**
 * the spec resized for a card `avail` CSS pixels wide: single views narrowed, facets wrapped into as
 * many columns as fit, legends below the plot when the card is narrow, titles wrapped to the width.
 * What still does not fit is scaled down by the page's CSS (canvas max-width: 100 %).
 */
export function fitSpec(spec: VegaLiteSpec, avail: number, opts: { legendColumns?: number } = {}): VegaLiteSpec {
  const s = structuredClone(spec) as unknown as Record<string, unknown> & { config?: Record<string, unknown> };
  const narrow = avail < 620;
  const legend = narrow ? 0 : hasLegend(s) ? 170 : 0;
  const room = Math.max(160, avail - MENU - legend);
  if (narrow) {
    const columns = opts.legendColumns ?? 5;
    s.config = { ...s.config, legend: { ...(s.config?.legend as object), orient: 'bottom', direction: columns > 1 ? 'horizontal' : 'vertical', columns, labelLimit: 140, titleLimit: 200 } };
    bottomLegends(s, columns);
  }
  if (typeof s.width === 'number') {
    const w = Math.min(s.width, room - AXIS);
    if (w < s.width) {
      if (typeof s.height === 'number' && narrow) s.height = Math.max(120, Math.round(s.height * Math.max(0.6, w / s.width)));
      s.width = Math.max(120, w);
    }
  } else if (isObj(s.spec) && typeof s.spec.width === 'number' && isObj(s.facet)) {
    // a facet: a column facet (facet.column) becomes a wrapped one, in as many columns as fit
    let cols = typeof s.columns === 'number' ? s.columns : 1;
    if (isObj(s.facet.column)) {
      const field = (s.facet.column as { field?: string }).field;
      const values = ((s.data as { values?: Record<string, unknown>[] } | undefined)?.values ?? []).map((r) => r[field ?? '']);
      cols = Math.max(1, new Set(values).size);
      s.facet = { ...(s.facet.column as object) };
    }
    const cell = s.spec.width as number, minCell = 150;
    const fit = Math.max(1, Math.min(cols, Math.floor(room / (minCell + AXIS))));
    s.columns = fit;
    const w = Math.min(cell, Math.floor(room / fit) - AXIS);
    if (w < cell) {
      const inner = s.spec as Record<string, unknown>;
      if (typeof inner.height === 'number') inner.height = Math.max(110, Math.round(inner.height * Math.max(0.65, w / cell)));
      inner.width = Math.max(110, w);
    }
  }
  const title = typeof s.title === 'string' ? s.title : isObj(s.title) && typeof s.title.text === 'string' ? s.title.text : null;
  // bold 13 px DejaVu Sans: about 8 px a character
  if (title !== null) {
    const wrapped = wrapTitle(title, Math.max(24, Math.floor((avail - MENU) / 8.2)));
    s.title = isObj(s.title) ? { ...(s.title as object), text: wrapped } : wrapped;
  }
  return s as unknown as VegaLiteSpec;
}

function hasLegend(v: Json): boolean {
  if (Array.isArray(v)) return v.some(hasLegend);
  if (!isObj(v)) return false;
  for (const [k, x] of Object.entries(v)) {
    if ((k === 'color' || k === 'shape' || k === 'strokeDash') && isObj(x) && typeof x.field === 'string' && x.legend !== null) return true;
    if (k !== 'data' && hasLegend(x)) return true;
  }
  return false;
}

/** every explicit legend of the spec's encodings placed below the plot, in rows */
function bottomLegends(v: Json, columns: number): void {
  if (Array.isArray(v)) { v.forEach((x) => bottomLegends(x, columns)); return; }
  if (!isObj(v)) return;
  for (const [k, x] of Object.entries(v)) {
    if (k === 'data') continue;
    if (k === 'legend' && isObj(x)) {
      v[k] = { ...x, orient: 'bottom', direction: columns > 1 ? 'horizontal' : 'vertical', columns };
      continue;
    }
    bottomLegends(x, columns);
  }
}
