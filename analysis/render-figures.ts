// Vega-Lite specs → SVG text, for the report's figures, on whichever thread renders them: the run layer
// (run/report.ts) renders part of the figures here and part on its helper thread (engine/threads.ts calls
// renderFigures there by name, its arguments and result structured-cloned), then puts them back in the
// figures' order. Imports only Vega, Vega-Lite and pure helpers, so a worker loads little besides Vega.
//
// The one thing an SVG from Vega takes from the figures drawn before it in the same thread: the numbers
// of its clip paths and gradients (`clip<N>`, `gradient_<N>`: counters global to vega-scenegraph, from 1
// and 0 in a fresh thread). renderFigures resets those counters before each figure and says how many it
// used, and renumberSvgIds shifts a figure's numbers by what the figures before it used: the SVG text is
// then the same, byte for byte, as one thread rendering every figure in order (analysis/report.ts
// renderSvg, the page's way).
import * as vega from 'vega';
import { compile } from 'vega-lite';
import { specCsv, type VegaLiteSpec } from './figures/spec.ts';
import { fillScatter, SCATTER_MIN_ROWS, scatterPlan } from './figures/scatter-svg.ts';
import { installSvgWriter, type VegaSvgParts } from './figures/svg-writer.ts';
import { installTextWidths } from './figures/text-width.ts';

// without a canvas Vega guesses text widths; give it the report font's real ones
installTextWidths((vega as unknown as { textMetrics: { width: unknown; estimateWidth: unknown } }).textMetrics);
// Vega's SVG text, written faster (the same bytes)
installSvgWriter(vega as unknown as VegaSvgParts);

/** a figure drawn: its SVG (compacted, ids numbered from the start), what it used of the id counters, its data files' text */
export interface RenderedFigure {
  /** compactSvg(the SVG), clips numbered from 1 and gradients from 0 */
  svg: string;
  /** clip paths it numbered (clip1 … clip<clips>) */
  clips: number;
  /** gradients it numbered (gradient_0 … gradient_<gradients − 1>) */
  gradients: number;
  /** figures/<id>.csv: the spec's rows */
  csv: string;
  /** figures/<id>.vl.json: the spec */
  json: string;
}

/** a figure Vega could not draw: the error's message */
export interface FailedFigure { error: string }

/** a Vega-Lite spec → SVG text (Vega's headless View, no canvas); ids continue Vega's counters */
export async function renderSvg(spec: VegaLiteSpec): Promise<string> {
  const view = new vega.View(vega.parse(withoutTooltips(compile(spec).spec)), VIEW_OPTIONS);
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

let scatterFastPath = true, scatterMinRows = SCATTER_MIN_ROWS, scattersFilled = 0;

/** how many figures this thread has drawn through fillScatter (tests check the shortcut was taken) */
export function scattersDrawnFilled(): number {
  return scattersFilled;
}

/**
 * whether renderFigures draws plain scatters of `minRows` rows or more through fillScatter (on, from
 * SCATTER_MIN_ROWS, by default; tests compare both ways, on small scatters too)
 */
export function useScatterFastPath(on: boolean, minRows = SCATTER_MIN_ROWS): void {
  scatterFastPath = on;
  scatterMinRows = minRows;
}

/**
 * compactSvg(renderSvg's text) for a figure drawn from reset id counters (renderFigures), and the part
 * of it that can hold ids: a big plain scatter is drawn by Vega on a few of its rows and its other points
 * written by fillScatter (analysis/figures/scatter-svg.ts), the same text; where fillScatter declines,
 * Vega draws the whole spec (after the counters are reset again)
 */
async function drawFigure(spec: VegaLiteSpec): Promise<{ svg: string; ids: string }> {
  const plan = scatterFastPath ? scatterPlan(spec, scatterMinRows) : null;
  if (plan) {
    let view: vega.View | null = null;
    try {
      view = new vega.View(vega.parse(withoutTooltips(compile(plan.subset).spec)), VIEW_OPTIONS);
      const subset = await view.toSVG();
      // (the scales exist once the view has run)
      const scale = (name: string) => view!.scale(name) as (v: unknown) => unknown;
      const scales = { x: scale('x'), y: scale('y'), color: plan.color === null ? null : scale('color') };
      const filled = fillScatter(plan, subset, scales, { svg: compactSvg, number: compactNumber });
      if (filled !== null) {
        scattersFilled++;
        return filled;
      }
    } catch {
      // (anything unexpected in the shortcut: Vega draws the whole spec below)
    } finally {
      view?.finalize();
    }
    (vega as unknown as { resetSVGDefIds(): void }).resetSVGDefIds();
  }
  const svg = compactSvg(await renderSvg(spec));
  return { svg, ids: svg };
}

type VegaMark = { encode?: Record<string, Record<string, unknown> | undefined>; marks?: VegaMark[] };

/**
 * the compiled Vega spec with the tooltip channel taken out of every mark's encode sets (nested marks
 * included): an SVG has no tooltips (vega-scenegraph reads item.tooltip only in its event handler, never
 * when it writes markup), and a scatter's tooltip is an object per point, built and kept until the SVG is
 * written (≈ 10 % of a 10 000-point scatter's drawing, most of it the collector's). The encode objects
 * are replaced, not changed, in case vega-lite shares one.
 */
export function withoutTooltips<S extends VegaMark>(spec: S): S {
  for (const m of spec.marks ?? []) {
    for (const set in m.encode) {
      const e = m.encode[set];
      if (e && 'tooltip' in e) {
        const { tooltip: _, ...rest } = e;
        m.encode = { ...m.encode, [set]: rest };
      }
    }
    withoutTooltips(m);
  }
  return spec;
}

/** the part of Vega's expression code generator (vega-runtime's expressionCodegen) that CACHED_CODEGEN caches */
interface Codegen {
  operator(ctx: CodegenContext | null, expr: { code: string }): CompiledExpression;
  parameter(ctx: CodegenContext | null, expr: { code: string }): CompiledExpression;
  event(ctx: CodegenContext | null, expr: { code: string }): CompiledExpression;
  handler(ctx: CodegenContext | null, expr: { code: string }): CompiledExpression;
  encode(ctx: CodegenContext | null, encode: { marktype: string; channels: Record<string, { code: string }> }): CompiledExpression;
}
type CodegenContext = { functions?: object };
type CompiledExpression = (...args: unknown[]) => unknown;

/**
 * Vega's own code generator: not exported, but every runtime context holds it (`expr`) when given none;
 * a Vega that no longer does draws with its own (renderSvg gives it no `expr`)
 */
const VEGA_CODEGEN = (vega as unknown as { runtimeContext(df: unknown, transforms: object, functions?: object): { expr?: Codegen } })
  .runtimeContext({ events() {} }, {}).expr!;

// each expression's function, by its kind and code, for every figure this thread draws (a run's figures
// have ≈ 480; a page that draws run after run starts afresh past COMPILED_MAX rather than keep every
// run's own literals)
const compiled = new Map<string, CompiledExpression>();
const COMPILED_MAX = 5000;

function cachedExpression(
  ctx: CodegenContext | null, key: string, make: (ctx: CodegenContext | null) => CompiledExpression,
): CompiledExpression {
  // a context without functions would get the shared function itself, which Vega may mark (accessor
  // fields): made afresh, as Vega makes it
  if (!ctx?.functions) return make(ctx);
  let fn = compiled.get(key);
  if (!fn) {
    if (compiled.size >= COMPILED_MAX) compiled.clear();
    compiled.set(key, (fn = make(null)));
  }
  return fn.bind(ctx.functions);
}

/**
 * Vega's expression code generator with each function made once per thread: Vega makes one with
 * Function() for every expression of every figure (6 600 for a run's 49 figures, 480 of them
 * different: axes, legends and encoders repeat from figure to figure), and V8 compiles and warms each one
 * anew. A function of the same code does the same; Vega binds it to its context's functions, as here
 * (≈ 6 % of drawing a run's figures on one thread). The field accessors and comparators
 * (`codegen`) are Vega's: Vega marks those functions (fields, names), so each is its own.
 */
export const CACHED_CODEGEN: Codegen & Record<string, unknown> = {
  ...VEGA_CODEGEN,
  operator: (ctx, e) => cachedExpression(ctx, `operator\0${e.code}`, (c) => VEGA_CODEGEN.operator(c, e)),
  parameter: (ctx, e) => cachedExpression(ctx, `parameter\0${e.code}`, (c) => VEGA_CODEGEN.parameter(c, e)),
  event: (ctx, e) => cachedExpression(ctx, `event\0${e.code}`, (c) => VEGA_CODEGEN.event(c, e)),
  handler: (ctx, e) => cachedExpression(ctx, `handler\0${e.code}`, (c) => VEGA_CODEGEN.handler(c, e)),
  // the encoder's code: its channels' names and code, in order, and the mark type (which sizes a rect from x and x2)
  encode: (ctx, e) => cachedExpression(ctx, encodeKey(e), (c) => VEGA_CODEGEN.encode(c, e)),
};

/** the View's options: Vega's headless renderer, CACHED_CODEGEN where Vega's own code generator was found */
const VIEW_OPTIONS = { renderer: 'none', ...(typeof VEGA_CODEGEN?.encode === 'function' ? { expr: CACHED_CODEGEN } : {}) } as const;

function encodeKey(e: { marktype: string; channels: Record<string, { code: string }> }): string {
  const parts = ['encode', e.marktype];
  for (const name in e.channels) parts.push(name, e.channels[name].code);
  return JSON.stringify(parts);
}

// renders on one thread one at a time: the id counters are shared by every View of the thread
let lock: Promise<unknown> = Promise.resolve();

/**
 * each spec drawn with Vega's id counters reset first (see RenderedFigure), in order; a spec Vega cannot
 * draw gives its error's message. Pure apart from Vega's counters; the function the helper thread runs.
 */
export function renderFigures(specs: readonly VegaLiteSpec[]): Promise<(RenderedFigure | FailedFigure)[]> {
  const run = lock.then(async () => {
    const out: (RenderedFigure | FailedFigure)[] = [];
    for (const spec of specs) {
      try {
        (vega as unknown as { resetSVGDefIds(): void }).resetSVGDefIds();
        const { svg, ids } = await drawFigure(spec);
        const { clips, gradients } = countSvgIds(ids);
        // the data files after drawing, as the report always wrote them
        out.push({ svg, clips, gradients, csv: specCsv(spec), json: JSON.stringify(spec) + '\n' });
      } catch (e) {
        out.push({ error: e instanceof Error ? e.message : String(e) });
      }
    }
    return out;
  });
  lock = run.catch(() => {});
  return run;
}

/** true once this module (Vega with it) is loaded: called early on the helper thread, so it loads while the run is read */
export function rendererReady(): boolean {
  return true;
}

const NUMBERED_ID = /\sid="(p_)?(clip|gradient_)(\d+)"/g;

/** the clip and gradient numbers an SVG rendered from reset counters used (the largest of each; ids are dense from the start) */
export function countSvgIds(svg: string): { clips: number; gradients: number } {
  let clips = 0, gradients = 0;
  for (const m of svg.matchAll(NUMBERED_ID)) {
    const k = Number(m[3]);
    if (m[2] === 'clip') clips = Math.max(clips, k);
    else gradients = Math.max(gradients, k + 1);
  }
  return { clips, gradients };
}

/**
 * prefixes every id of an SVG (clip paths, gradients) and its references, so many SVGs can share one
 * page; `shift` first adds to the numbers of clip<N> and gradient_<N> ids (see renderFigures)
 */
export function scopeSvgIds(svg: string, prefix: string, shift?: { clips: number; gradients: number }): string {
  const ids = new Set([...svg.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]));
  if (!ids.size) return svg;
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const alt = [...ids].map(esc).join('|');
  const rename = (id: string): string => {
    const m = shift && /^(p_)?(clip|gradient_)(\d+)$/.exec(id);
    if (!m) return `${prefix}-${id}`;
    return `${prefix}-${m[1] ?? ''}${m[2]}${Number(m[3]) + (m[2] === 'clip' ? shift!.clips : shift!.gradients)}`;
  };
  return svg
    .replace(new RegExp(`(\\sid=")(${alt})"`, 'g'), (_, a: string, id: string) => `${a}${rename(id)}"`)
    .replace(new RegExp(`url\\(#(${alt})\\)`, 'g'), (_, id: string) => `url(#${rename(id)})`)
    .replace(new RegExp(`(href=")#(${alt})"`, 'g'), (_, a: string, id: string) => `${a}#${rename(id)}"`);
}

/**
 * rounds the coordinates of transform, d, x, y, width and height attributes to 2 decimals (a third of a
 * 10 000-point scatter's bytes): the text of
 *   svg.replace(/ (transform|d|x|y|x1|x2|y1|y2|width|height)="([^"]*)"/g, (_, k, v) => ` ${k}="${v.replace(/(-?\d+\.\d{2})\d+/g, '$1')}"`)
 * in one pass over the SVG, copying only what it cuts out (a 1 MB scatter has ≈ 30 000 numbers to cut)
 */
export function compactSvg(svg: string): string {
  let out = '', kept = 0, from = 0;
  for (let q = svg.indexOf('="'); q >= 0;) {
    // `="` ends one of the attributes' names, after a space (at or after the end of the last attribute)?
    if (!compactedName(svg, q, from)) {
      q = svg.indexOf('="', q + 1);
      continue;
    }
    const end = svg.indexOf('"', q + 2);
    if (end < 0) break;
    // each run of digits, then '.', then 3 or more digits: the digits after the second are cut
    for (let i = q + 2; i < end; i++) {
      if (!isDigit(svg.charCodeAt(i))) continue;
      let b = i + 1;
      while (isDigit(svg.charCodeAt(b))) b++;
      if (svg.charCodeAt(b) === 46 && isDigit(svg.charCodeAt(b + 1)) && isDigit(svg.charCodeAt(b + 2)) && isDigit(svg.charCodeAt(b + 3))) {
        let c = b + 4;
        while (isDigit(svg.charCodeAt(c))) c++;
        out += svg.slice(kept, b + 3);
        kept = c;
        i = c; // not a digit ('"' at the latest)
      } else {
        i = b; // not a digit: the digits after a '.' are a run of their own, as the regex reads them
      }
    }
    from = end + 1;
    q = svg.indexOf('="', from);
  }
  return kept === 0 ? svg : out + svg.slice(kept);
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57;

/**
 * compactSvg's cut on one number as JavaScript writes it (String(n): digits, maybe a '.' and digits, maybe
 * an exponent): the digits after the second decimal dropped, so that ` transform="translate(${a},${b})"`
 * compacts to translate(compactNumber(a),compactNumber(b))
 */
export function compactNumber(n: number): string {
  const s = '' + n, dot = s.indexOf('.');
  if (dot < 1 || !isDigit(s.charCodeAt(dot + 3))) return s;
  let c = dot + 4;
  while (isDigit(s.charCodeAt(c))) c++;
  return s.slice(0, dot + 3) + s.slice(c);
}

/** whether the `="` at q ends ` transform`, ` d`, ` x`, ` y`, ` x1`, ` x2`, ` y1`, ` y2`, ` width` or ` height`, its space at `from` or later */
function compactedName(s: string, q: number, from: number): boolean {
  switch (s.charCodeAt(q - 1)) {
    case 100: case 120: case 121: // d x y
      return q - 2 >= from && s.charCodeAt(q - 2) === 32;
    case 49: case 50: { // x1 x2 y1 y2
      const c = s.charCodeAt(q - 2);
      return (c === 120 || c === 121) && q - 3 >= from && s.charCodeAt(q - 3) === 32;
    }
    case 104: return q - 6 >= from && s.charCodeAt(q - 6) === 32 && s.startsWith('width', q - 5);
    case 116: return q - 7 >= from && s.charCodeAt(q - 7) === 32 && s.startsWith('height', q - 6);
    case 109: return q - 10 >= from && s.charCodeAt(q - 10) === 32 && s.startsWith('transform', q - 9);
    default: return false;
  }
}
