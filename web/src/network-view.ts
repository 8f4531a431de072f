// the network view (issue 18): the model drawn as a graph, coloured by one test digit's pass through it.
// An MLP: the input as the digit itself (a small image), each hidden layer's neurons and the 10 outputs as
// circles filled by the digit's activation (after ReLU; the outputs by their probability), the weights as
// lines in diverging colours (sign and size: blue −, red +, thicker and darker for larger |w|). The
// 784 → width layer is thinned to each neuron's strongest incoming weights, drawn from their pixels; a
// hidden → hidden layer is drawn whole up to 1024 weights, else each neuron's strongest. A CNN: each conv
// layer's channels as small heatmaps of the digit's feature maps (after ReLU and after max-pooling, as CNN
// Explainer's overview; on a narrow card only the last of them), its dense layers and outputs as circles,
// the weights between channels summed over the kernel (after a feature map, over the channel's positions).
// Pure DOM: the panel (network-panel.ts) gives it the view, the card's width and what to do on a click.
import { css, diverging, heatCanvas, maxAbs, sequential } from './colours.ts';
import { plainLayer, plainTensor, type Naming } from './fit.ts';
import type { NetworkView, SampleAct, SentLayer } from './network-data.ts';

const SVG = 'http://www.w3.org/2000/svg';

/** a hidden unit the user can explore: a neuron of an MLP's hidden layer, or a channel of a CNN's conv layer */
export interface Pick { kind: 'neuron' | 'channel'; layer: number; unit: number }

export interface NetDrawOptions {
  /** the card's width in CSS pixels */
  width: number;
  naming: Naming;
  /** the digit's pixels (0–255, row-major) and its side */
  pixels: ArrayLike<number>;
  rows: number;
  cols: number;
  /** the unit explored (highlighted) */
  chosen: Pick | null;
  onPick(p: Pick): void;
}

/** one column of the drawing: the input, a layer's neurons or a feature map's channels */
interface Column {
  /** the tensor drawn: input, layers.K.post, layers.K.pool, logits */
  name: string;
  kind: 'image' | 'maps' | 'units';
  /** the model's layer (−1: the input) */
  layer: number;
  count: number;
  shown: number;
  act?: SampleAct;
  head: string;
  sub: string;
  /** the two header lines on a narrow card */
  short: [string, string];
  title: string;
  x: number;
  /** each shown unit's centre (maps: the tile's centre) */
  ys: number[];
  /** a map tile's side, a node's radius */
  size: number;
}

/** the drawing's facts (the page's test hook) */
export interface NetSummary { columns: { name: string; kind: string; count: number; shown: number }[]; edges: number; height: number }

const el = <K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number> = {}, parent?: Element): SVGElementTagNameMap[K] => {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  parent?.append(e);
  return e;
};
const titled = (e: Element, text: string) => { el('title', {}, e).textContent = text; return e; };
const fmt = (v: number) => (Math.abs(v) >= 1000 || (v !== 0 && Math.abs(v) < 0.001) ? v.toExponential(2) : v.toFixed(3));

/** the `k` largest-|w| entries of each target: [source, target, w] */
function strongest(sources: number, targets: number, w: (i: number, j: number) => number, k: number): [number, number, number][] {
  const out: [number, number, number][] = [];
  for (let j = 0; j < targets; j++) {
    const best: [number, number][] = [];
    for (let i = 0; i < sources; i++) {
      const v = w(i, j);
      if (best.length < k) { best.push([i, v]); best.sort((a, b) => Math.abs(b[1]) - Math.abs(a[1])); } else if (Math.abs(v) > Math.abs(best[k - 1][1])) {
        best[k - 1] = [i, v];
        best.sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]));
      }
    }
    for (const [i, v] of best) out.push([i, j, v]);
  }
  return out;
}

/** the columns of a view, in order (a CNN on a narrow card: only the last stage of each conv layer) */
function columnsOf(v: NetworkView, naming: Naming, wide: boolean, rows: number, cols: number): Column[] {
  const out: Column[] = [];
  const blank = { x: 0, ys: [], size: 0 };
  out.push({ name: 'input', kind: 'image', layer: -1, count: rows * cols, shown: rows * cols, head: 'input', sub: `${rows}×${cols} pixels`, short: ['input', `${rows}×${cols}`], title: `input pixels (input): ${rows}×${cols} = ${rows * cols}`, ...blank });
  const byName = new Map(v.acts.map((a) => [a.name, a]));
  const last = v.layers.length - 1;
  for (let k = 0; k < last; k++) {
    const post = byName.get(`layers.${k}.post`), pool = byName.get(`layers.${k}.pool`);
    const layer = plainLayer(k, naming);
    const add = (a: SampleAct, site: string, brief: string) => {
      const maps = a.shape.length === 3, count = a.shape[0], shown = Math.min(count, 64);
      const what = maps ? `${count} channels of ${a.shape[1]}×${a.shape[2]}` : `${count} neurons`;
      out.push({
        name: a.name, kind: maps ? 'maps' : 'units', layer: k, count, shown, act: a,
        head: `${layer} · ${count}`, sub: site, short: [layer, `${count} · ${brief}`],
        title: `${plainTensor(a.name, naming)} (${a.name}): ${what}${shown < count ? `, the first ${shown} drawn` : ''}`, ...blank,
      });
    };
    if (post && (!pool || wide)) add(post, 'after ReLU', 'ReLU');
    if (pool) add(pool, wide ? 'max-pooled' : 'ReLU, pooled', 'pooled');
  }
  const logits = byName.get('logits')!;
  out.push({ name: 'logits', kind: 'units', layer: last, count: logits.shape[0], shown: Math.min(logits.shape[0], 64), act: logits, head: `output · ${logits.shape[0]}`, sub: 'softmax', short: ['output', `${logits.shape[0]} · softmax`], title: `output (logits, softmax as probabilities): ${logits.shape[0]} classes`, ...blank });
  return out;
}

/**
 * the weights between two columns as drawn edges [from unit, to unit, w]: `to`'s layer's weights (summed
 * over a kernel or a channel's positions), or one to one (a conv layer's ReLU → its max-pooling)
 */
function edgesBetween(a: Column, b: Column, L: SentLayer | undefined, rows: number, cols: number): { edges: [number, number, number][]; scale: number; oneToOne: boolean } {
  if (a.layer === b.layer) return { edges: Array.from({ length: b.shown }, (_, j) => [j, j, 0]), scale: 1, oneToOne: true };
  if (!L || !L.W.length) return { edges: [], scale: 1, oneToOne: false };
  if (L.kind === 'conv') {
    const [o, i, kh, kw] = L.shape, kk = kh * kw, sum = (s: number, t: number) => { let z = 0; for (let p = 0; p < kk; p++) z += L.W[(t * i + s) * kk + p]; return z; };
    if (a.kind === 'image') {
      const e = Array.from({ length: Math.min(o, b.shown) }, (_, j) => [0, j, sum(0, j)] as [number, number, number]);
      return { edges: e, scale: maxAbs(e.map((x) => x[2])) || 1, oneToOne: false };
    }
    let scale = 0;
    for (let t = 0; t < o; t++) for (let s = 0; s < i; s++) scale = Math.max(scale, Math.abs(sum(s, t)));
    return { edges: strongest(Math.min(i, a.shown), Math.min(o, b.shown), sum, 4), scale: scale || 1, oneToOne: false };
  }
  const [R, C] = L.shape;
  if (a.kind === 'image') {
    // each neuron's strongest weights from their pixels (drawn from the pixel's place on the digit)
    return { edges: strongest(Math.min(R, rows * cols), Math.min(C, b.shown), (s, t) => L.W[s * C + t], 5), scale: maxAbs(L.W) || 1, oneToOne: false };
  }
  if (a.kind === 'maps') {
    // a dense layer after a feature map: its weights summed over each channel's positions (PyTorch's flatten order: channel first)
    const per = R / a.count, sum = (s: number, t: number) => { let z = 0; for (let p = 0; p < per; p++) z += L.W[(s * per + p) * C + t]; return z; };
    let scale = 0;
    for (let t = 0; t < C; t++) for (let s = 0; s < a.count; s++) scale = Math.max(scale, Math.abs(sum(s, t)));
    return { edges: strongest(Math.min(a.count, a.shown), Math.min(C, b.shown), sum, 4), scale: scale || 1, oneToOne: false };
  }
  const S = Math.min(R, a.shown), T = Math.min(C, b.shown), w = (s: number, t: number) => L.W[s * C + t];
  const edges: [number, number, number][] = [];
  if (S * T <= 1024) { for (let t = 0; t < T; t++) for (let s = 0; s < S; s++) edges.push([s, t, w(s, t)]); } else edges.push(...strongest(S, T, w, 8));
  return { edges, scale: maxAbs(L.W) || 1, oneToOne: false };
}

/** the digit as a data URL: dark ink on white, as the explorer draws it */
function digitUrl(pixels: ArrayLike<number>, rows: number, cols: number): string {
  const c = document.createElement('canvas');
  c.width = cols;
  c.height = rows;
  const ctx = c.getContext('2d')!, img = ctx.createImageData(cols, rows);
  for (let p = 0; p < rows * cols; p++) {
    const v = 255 - pixels[p];
    img.data[p * 4] = v; img.data[p * 4 + 1] = v; img.data[p * 4 + 2] = v; img.data[p * 4 + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  return c.toDataURL();
}

/** draws `v` as an SVG `o.width` pixels wide; returns it with what was drawn */
export function drawNetwork(v: NetworkView, o: NetDrawOptions): { svg: SVGSVGElement; summary: NetSummary } {
  const W = Math.max(280, Math.floor(o.width)), wide = W >= 700;
  const columns = columnsOf(v, o.naming, wide, o.rows, o.cols);
  const narrow = W < 600;
  const headH = 36, padX = 2, right = narrow ? 44 : 62;
  const S = Math.round(Math.max(56, Math.min(120, W * 0.14)));
  const maxCount = Math.max(...columns.slice(1).map((c) => c.shown));
  const plotH = Math.round(Math.max(S + 20, Math.min(560, maxCount * 17)));
  const H = headH + plotH + 8;
  // x of each column: the image at the left, the others spread evenly to the output labels' margin
  const x1 = padX + S + Math.max(28, Math.min(110, W * 0.09)), x2 = W - right, m = columns.length - 1;
  columns[0].x = padX + S / 2;
  const gap = m > 1 ? (x2 - x1) / (m - 1) : 0;
  columns.slice(1).forEach((c, i) => { c.x = m > 1 ? x1 + i * gap : (x1 + x2) / 2; });
  for (const c of columns.slice(1)) {
    const step = Math.min(plotH / c.shown, c.kind === 'maps' ? 48 : 24);
    c.size = c.kind === 'maps' ? Math.max(10, Math.min(40, gap * 0.62, step - 4)) : Math.max(2.5, Math.min(8, step * 0.38));
    const top = headH + (plotH - step * c.shown) / 2;
    c.ys = Array.from({ length: c.shown }, (_, j) => top + step * (j + 0.5));
  }
  const inTop = headH + (plotH - S) / 2;

  const svg = el('svg', { width: W, height: H, viewBox: `0 0 ${W} ${H}`, class: 'net-svg', role: 'group' });
  const archWords = v.kind === 'cnn'
    ? `a CNN: the input digit, ${columns.filter((c) => c.kind === 'maps').map((c) => `${plainTensor(c.name, o.naming)} as ${c.count} small heatmaps`).join(', ')}, ${columns.filter((c) => c.kind === 'units').map((c) => `${c.name === 'logits' ? 'the output' : plainTensor(c.name, o.naming)} as ${c.count} circles`).join(', ')}`
    : `an MLP: the input digit as a small image, ${columns.filter((c) => c.kind === 'units').map((c) => `${c.name === 'logits' ? 'the output' : plainTensor(c.name, o.naming)} as ${c.count} circles`).join(', ')}`;
  svg.setAttribute('aria-label', `Network view of ${archWords}; weights as lines coloured by sign and size, units filled by test image #${v.image}'s activations. Click a ${v.kind === 'cnn' ? 'channel' : 'neuron'} to explore it.`);
  const gEdges = el('g', { class: 'nv-edges' }, svg), gUnits = el('g', { class: 'nv-units' }, svg), gHead = el('g', { class: 'nv-heads' }, svg);

  // headers: the plain name (two short lines), the full name and the canonical one in the tooltip
  columns.forEach((c, i) => {
    const anchor = i === 0 ? 'start' : 'middle', x = i === 0 ? padX : c.x;
    const t = el('text', { x, y: 13, 'text-anchor': anchor, class: 'nv-head' }, gHead);
    el('tspan', { x, dy: 0, 'font-weight': 'bold' }, t).textContent = narrow ? c.short[0] : c.head;
    el('tspan', { x, dy: 13, class: 'nv-sub' }, t).textContent = narrow ? c.short[1] : c.sub;
    titled(t, c.title);
  });

  // the input: the digit itself
  const img = el('image', { href: digitUrl(o.pixels, o.rows, o.cols), x: padX, y: inTop, width: S, height: S, class: 'nv-input', preserveAspectRatio: 'none', 'data-pixels': o.rows * o.cols }, gUnits);
  img.setAttribute('style', 'image-rendering: pixelated');
  img.setAttribute('role', 'img');
  img.setAttribute('aria-label', `the input: test image #${v.image}, a ${v.label}, ${o.rows}×${o.cols} pixels`);
  titled(img, `input pixels (input): test image #${v.image}, a ${v.label}`);
  el('rect', { x: padX, y: inTop, width: S, height: S, fill: 'none', stroke: '#c9ced8' }, gUnits);

  // edges, under the units
  let edgeCount = 0;
  for (let i = 1; i < columns.length; i++) {
    const a = columns[i - 1], b = columns[i];
    const L = v.layers[b.layer];
    const { edges, scale, oneToOne } = edgesBetween(a, b, L, o.rows, o.cols);
    const from = (s: number): [number, number] => {
      if (a.kind !== 'image') return [a.x + (a.kind === 'maps' ? a.size / 2 : a.size), a.ys[s]];
      if (v.kind === 'cnn') return [padX + S, inTop + S / 2];
      const r = Math.floor(s / o.cols), c = s % o.cols;
      return [padX + ((c + 0.5) * S) / o.cols, inTop + ((r + 0.5) * S) / o.rows];
    };
    const g = el('g', { 'data-from': a.name, 'data-to': b.name }, gEdges);
    if (!oneToOne && L) g.setAttribute('data-scale', String(scale));
    // hundreds of lines: one string parsed at once (far cheaper than an element and its attributes each)
    const lines: string[] = [];
    for (const [s, t, w] of edges) {
      if (s >= (a.kind === 'image' ? a.count : a.shown) || t >= b.shown) continue;
      const [xa, ya] = from(s), xb = b.x - (b.kind === 'maps' ? b.size / 2 : b.size), yb = b.ys[t];
      const u = oneToOne ? 0 : w / scale, mag = Math.abs(u);
      // weak weights fade out: the strong ones carry the picture
      const stroke = oneToOne ? '#b9c0cc' : css(diverging(u)), width = (oneToOne ? 0.8 : 0.3 + 2.4 * mag).toFixed(2);
      const opacity = (oneToOne ? 0.8 : 0.06 + 0.9 * mag ** 1.5).toFixed(3);
      lines.push(`<line x1="${xa.toFixed(1)}" y1="${ya.toFixed(1)}" x2="${xb.toFixed(1)}" y2="${yb.toFixed(1)}" stroke="${stroke}" stroke-width="${width}" stroke-opacity="${opacity}"/>`);
    }
    g.innerHTML = lines.join('');
    edgeCount += lines.length;
    if (!L?.W.length && !oneToOne) g.setAttribute('data-left-out', 'too many weights to send');
  }

  // units: circles filled by the digit's activation (the outputs by probability), maps as heatmaps
  for (const c of columns.slice(1)) {
    const g = el('g', { class: 'nv-col', 'data-col': c.name, 'data-units': c.shown, 'data-count': c.count }, gUnits);
    const a = c.act!, out = c.name === 'logits';
    const per = a.shape.length === 3 ? a.shape[1] * a.shape[2] : 1;
    const scale = out ? 1 : Math.max(...Array.from({ length: c.shown }, (_, j) => maxAbs(a.data, j * per, (j + 1) * per))) || 1;
    g.setAttribute('data-scale', String(scale));
    const explorable = !out && (c.kind === 'maps' || v.kind === 'mlp');
    for (let j = 0; j < c.shown; j++) {
      const value = out ? v.probabilities[j] : a.shape.length === 3 ? maxAbs(a.data, j * per, (j + 1) * per) : a.data[j];
      const plain = out ? `output ${j}` : `${plainTensor(c.name, o.naming)}, ${c.kind === 'maps' ? 'channel' : 'neuron'} ${j}`;
      const u = el('g', { class: 'nv-node', 'data-unit': j, 'data-value': value, 'data-layer': c.layer }, g);
      const chosen = !!o.chosen && explorable && o.chosen.layer === c.layer && o.chosen.unit === j;
      if (c.kind === 'maps') {
        const [, h, w] = a.shape;
        const canvas = heatCanvas(a.data, j * per, h, w, (x) => sequential(x / scale), c.size);
        const im = el('image', { href: canvas.toDataURL(), x: c.x - c.size / 2, y: c.ys[j] - c.size / 2, width: c.size, height: c.size, preserveAspectRatio: 'none' }, u);
        im.setAttribute('style', 'image-rendering: pixelated');
        el('rect', { x: c.x - c.size / 2, y: c.ys[j] - c.size / 2, width: c.size, height: c.size, fill: 'none', stroke: chosen ? '#1d2330' : '#c9ced8', 'stroke-width': chosen ? 2.5 : 1, class: 'nv-mark' }, u);
      } else {
        el('circle', { cx: c.x, cy: c.ys[j], r: c.size, fill: css(sequential(out ? value : value / scale)), stroke: chosen ? '#1d2330' : '#8a93a3', 'stroke-width': chosen ? 2.5 : 0.8, class: 'nv-mark' }, u);
      }
      if (chosen) {
        u.classList.add('chosen');
        if (c.kind === 'maps') {
          const r = c.size / 2 + 3.5;
          el('rect', { x: c.x - r, y: c.ys[j] - r, width: 2 * r, height: 2 * r, rx: 2, fill: 'none', stroke: '#e8a317', 'stroke-width': 2.5, class: 'nv-ring' }, u);
        } else el('circle', { cx: c.x, cy: c.ys[j], r: (c.size + 3.5).toFixed(1), fill: 'none', stroke: '#e8a317', 'stroke-width': 2.5, class: 'nv-ring' }, u);
      }
      if (out) {
        const label = el('text', { x: c.x + c.size + 4, y: c.ys[j] + 4, class: j === v.predicted ? 'nv-out nv-pred' : 'nv-out' }, u);
        label.textContent = narrow ? `${j} ${value.toFixed(2).replace(/^0\./, '.')}` : `${j}: ${value.toFixed(2)}`;
      }
      const valueWords = out ? `probability ${value.toFixed(4)} (logit ${fmt(a.data[j])})` : c.kind === 'maps' ? `largest value ${fmt(value)}` : `activation ${fmt(value)}`;
      const canonical = out ? `logits[${j}]` : `${c.name}[${j}]`;
      titled(u, `${plain} (${canonical}) · ${valueWords}${explorable ? ' · click to explore it' : out ? '' : ' · the neuron explorer takes an MLP'}`);
      if (explorable) {
        u.setAttribute('role', 'button');
        u.setAttribute('tabindex', '0');
        u.setAttribute('aria-label', `${plain}: ${valueWords}. Explore it`);
        const pick = () => o.onPick({ kind: c.kind === 'maps' ? 'channel' : 'neuron', layer: c.layer, unit: j });
        u.addEventListener('click', pick);
        u.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); pick(); } });
      }
    }
  }
  return {
    svg,
    summary: { columns: columns.map((c) => ({ name: c.name, kind: c.kind, count: c.count, shown: c.shown })), edges: edgeCount, height: H },
  };
}
