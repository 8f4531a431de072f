// A faster writer of Vega's headless SVG text, the same bytes as Vega's own (vega-scenegraph's
// SVGStringRenderer), installed in place of it by installSvgWriter. Why: the report draws six scatters of
// 10 000 points, and Vega spends most of their drawing writing text, allocating ≈ 3 KB a point that lives
// until the SVG is done (so the collector copies it): per point it builds the symbol's path anew (the same
// string for every point of one shape and size) and runs seven regular-expression replaces on every
// attribute value. Measured on the six scatters (CPU, 14 rounds each side): ≈ 23 % less.
//
// Two changes, each giving what Vega gives:
// - the markup builder: Vega's `markup()` step for step, but an attribute value that is a number, or a
//   string with none of & < > " tab LF CR, is written as it is (Vega's replaces would leave it unchanged),
//   others through the same replaces in the same order. SvgWriter._render is Vega's _render with it.
// - the symbol mark's attributes: `transform` as Vega writes it (translate, then rotate when angled) and
//   the `d` path Vega's own emitter gives, kept per shape and size (the path depends on nothing else).
// The rest (every mark's attributes, styles, clips, gradients, text) is Vega's own code. Tested byte for
// byte against Vega's writer on every mark type (test/analysis/svg-writer.test.ts).

type Emit = (name: string, value: unknown) => void;
type AttrFn = (emit: Emit, item: SymbolItem) => void;
interface SymbolItem { x?: number; y?: number; angle?: number; shape?: string; size?: number; mark?: unknown }
interface Markup {
  open(tag: string, ...attrs: (Record<string, unknown> | null | undefined)[]): Markup;
  close(): Markup;
  attr(name: string, value: unknown): Markup;
  text(t: unknown): Markup;
  toString(): string;
}

/** the parts of the `vega` module this uses */
export interface VegaSvgParts {
  SVGStringRenderer: new (...args: unknown[]) => object;
  renderModule(name: string, module?: object): { headless?: unknown } & Record<string, unknown>;
  Marks: { symbol: { attr: AttrFn } };
}

const innerText = (val: unknown): string => (val + '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const SPECIAL = /[&<>"\t\n\r]/;

/** Vega's attrText: the value unchanged where no replace would change it */
function attrText(val: unknown): string {
  if (typeof val === 'number') return '' + val;
  const s = val + '';
  if (!SPECIAL.test(s)) return s;
  return innerText(s).replace(/"/g, '&quot;').replace(/\t/g, '&#x9;').replace(/\n/g, '&#xA;').replace(/\r/g, '&#xD;');
}

/** vega-scenegraph's markup(), with attrText above */
function markup(): Markup {
  let buf = '', outer = '', inner = '';
  const stack: string[] = [];
  const clear = () => { outer = inner = ''; };
  const push = (tag: string) => {
    if (outer) {
      buf += `${outer}>${inner}`;
      clear();
    }
    stack.push(tag);
  };
  const attr = (name: string, value: unknown): Markup => {
    if (value != null) outer += ` ${name}="${attrText(value)}"`;
    return m;
  };
  const m: Markup = {
    open(tag, ...attrs) {
      push(tag);
      outer = '<' + tag;
      for (const set of attrs) {
        for (const key in set) attr(key, set[key]);
      }
      return m;
    },
    close() {
      const tag = stack.pop();
      if (outer) buf += outer + (inner ? `>${inner}</${tag}>` : '/>');
      else buf += `</${tag}>`;
      clear();
      return m;
    },
    attr,
    text: (t) => ((inner += innerText(t)), m),
    toString: () => buf,
  };
  return m;
}

// vega-scenegraph's constants of the root element
const METADATA = { 'xmlns': 'http://www.w3.org/2000/svg', 'xmlns:xlink': 'http://www.w3.org/1999/xlink', 'version': '1.1' };
const ROOT_ATTRIBUTES = { 'fill': 'none', 'stroke-miterlimit': 4 };

/** Vega's SVGStringRenderer with its _render writing through the markup builder above */
function svgWriterClass(base: VegaSvgParts['SVGStringRenderer']): VegaSvgParts['SVGStringRenderer'] {
  return class SvgWriter extends base {
    _render(scene: unknown): this {
      const r = this as unknown as {
        _width: number; _height: number; _scale: number; _bgcolor?: string; _origin: unknown; _text: string;
        mark(m: Markup, scene: unknown): void; defs(m: Markup): void;
      };
      const m = markup();
      m.open('svg', Object.assign({}, METADATA, {
        class: 'marks', width: r._width * r._scale, height: r._height * r._scale, viewBox: `0 0 ${r._width} ${r._height}`,
      }));
      const bg = r._bgcolor;
      if (bg && bg !== 'transparent' && bg !== 'none') m.open('rect', { width: r._width, height: r._height, fill: bg }).close();
      m.open('g', ROOT_ATTRIBUTES, { transform: 'translate(' + r._origin + ')' });
      r.mark(m, scene);
      m.close();
      r.defs(m);
      r._text = m.close() + '';
      return this;
    }
  };
}

const PATHS_MAX = 1000;

/** the symbol mark's attribute emitter with its path kept per shape and size (`vegaAttr` makes each path once) */
function cachedSymbolAttr(vegaAttr: AttrFn): AttrFn {
  const paths = new Map<string, string>();
  return (emit, item) => {
    // vega-scenegraph's rotateItem
    emit('transform', 'translate(' + (item.x || 0) + ',' + (item.y || 0) + ')' + (item.angle ? ' rotate(' + item.angle + ')' : ''));
    // the path of its shape (circle by default) and size (64 by default), as Vega's symbol generator reads them
    const key = (item.shape || 'circle') + '\0' + (item.size != null ? item.size : 64);
    let d = paths.get(key);
    if (d === undefined) {
      vegaAttr((name, value) => { if (name === 'd') d = value as string; }, { shape: item.shape, size: item.size, mark: item.mark });
      if (paths.size >= PATHS_MAX) paths.clear();
      paths.set(key, d!);
    }
    emit('d', d);
  };
}

let installed: { vegaHeadless: unknown; vegaSymbolAttr: AttrFn; writer: unknown; symbolAttr: AttrFn } | null = null;

/**
 * makes `vega`'s headless SVG (view.toSVG) come from the writer above: the same text, faster. Vega's DOM
 * renderers are left alone. Where the parts are not what this expects (another Vega), nothing changes.
 */
export function installSvgWriter(vega: VegaSvgParts): void {
  if (installed) return;
  const svg = vega.renderModule?.('svg');
  const symbol = vega.Marks?.symbol;
  if (typeof vega.SVGStringRenderer !== 'function' || !svg || svg.headless !== vega.SVGStringRenderer || typeof symbol?.attr !== 'function') return;
  installed = { vegaHeadless: svg.headless, vegaSymbolAttr: symbol.attr, writer: svgWriterClass(vega.SVGStringRenderer), symbolAttr: cachedSymbolAttr(symbol.attr) };
  useSvgWriter(vega, true);
}

/** switches between the writer (true) and Vega's own (false), after installSvgWriter; for the tests that compare them */
export function useSvgWriter(vega: VegaSvgParts, on: boolean): void {
  if (!installed) return;
  vega.renderModule('svg', { ...vega.renderModule('svg'), headless: on ? installed.writer : installed.vegaHeadless });
  vega.Marks.symbol.attr = on ? installed.symbolAttr : installed.vegaSymbolAttr;
}

/** whether installSvgWriter found the parts it needs and installed the writer */
export const svgWriterInstalled = (): boolean => installed !== null;
