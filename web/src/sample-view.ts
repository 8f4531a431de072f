// one test digit through every layer (issue 18): the digit, then each layer's activation vector as a row
// of coloured cells (after ReLU: near-white 0 → green, one scale per row, stated; the logits in diverging
// colours), then the output probabilities as bars. A CNN's feature maps are the network view's heatmaps;
// its dense layers get rows here. Clicking a cell of an MLP's hidden layer explores that neuron.
import { colourBar, css, diverging, maxAbs, sequential, short } from './colours.ts';
import { plainTensor, type Naming } from './fit.ts';
import type { NetworkView } from './network-data.ts';
import type { Pick } from './network-view.ts';

const SVG = 'http://www.w3.org/2000/svg';

export interface SampleOptions {
  width: number;
  naming: Naming;
  pixels: ArrayLike<number>;
  rows: number;
  cols: number;
  chosen: Pick | null;
  onPick(p: Pick): void;
}

/** what was drawn (the page's test hook): each row's tensor and width, and the probabilities */
export interface SampleSummary { rows: { name: string; width: number; max: number }[]; probabilities: number[]; predicted: number; label: number }

const svgEl = <K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, parent?: Element) => {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  parent?.append(e);
  return e;
};

function digitCanvas(pixels: ArrayLike<number>, rows: number, cols: number, px: number): HTMLCanvasElement {
  const c = document.createElement('canvas');
  c.width = cols;
  c.height = rows;
  c.style.width = c.style.height = `${px}px`;
  const ctx = c.getContext('2d')!, img = ctx.createImageData(cols, rows);
  for (let p = 0; p < rows * cols; p++) {
    const v = 255 - pixels[p];
    img.data[p * 4] = v; img.data[p * 4 + 1] = v; img.data[p * 4 + 2] = v; img.data[p * 4 + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  return c;
}

export function drawSample(v: NetworkView, o: SampleOptions): { node: HTMLElement; summary: SampleSummary } {
  const W = Math.max(240, Math.floor(o.width));
  const root = document.createElement('div');
  root.className = 'sv';
  const summary: SampleSummary = { rows: [], probabilities: v.probabilities, predicted: v.predicted, label: v.label };

  // the digit and the verdict
  const head = document.createElement('div');
  head.className = 'sv-head';
  const digit = digitCanvas(o.pixels, o.rows, o.cols, 56);
  digit.setAttribute('role', 'img');
  digit.setAttribute('aria-label', `test image #${v.image}, a ${v.label}`);
  const p = v.probabilities[v.predicted];
  const verdict = document.createElement('div');
  verdict.innerHTML = `test image <b>#${v.image}</b> is a <b>${v.label}</b><br>predicted <b class="sv-predicted">${v.predicted}</b> (p = ${p.toFixed(3)})${v.predicted === v.label ? '' : ' — <span class="sv-wrong">wrong</span>'}`;
  head.append(digit, verdict);
  root.append(head);

  // a row of cells per vector: the hidden layers after ReLU, then the logits
  const vectors = v.acts.filter((a) => a.shape.length === 1 && (/^layers\.\d+\.post$/.test(a.name) || a.name === 'logits'));
  for (const a of vectors) {
    const n = a.data.length, out = a.name === 'logits', signed = out || a.data.some((x) => x < 0);
    const scale = maxAbs(a.data) || 1;
    const layer = Number(/^layers\.(\d+)\./.exec(a.name)?.[1] ?? -1);
    const explorable = !out && v.kind === 'mlp';
    const row = document.createElement('div');
    row.className = 'sv-row';
    row.dataset.name = a.name;
    row.dataset.width = String(n);
    const label = document.createElement('div');
    label.className = 'sv-label';
    const name = Object.assign(document.createElement('span'), { className: 'tensor', title: a.name, textContent: out ? 'output (logits)' : plainTensor(a.name, o.naming) });
    label.append(name, ` · ${n} values · `, colourBar(scale, signed ? 'diverging' : 'sequential', out ? 'logits' : 'activation'));
    const perLine = Math.min(n, W < 600 ? 32 : 64), cell = Math.max(4, Math.min(22, Math.floor((W - 2) / perLine)));
    const lines = Math.ceil(n / perLine);
    const svg = svgEl('svg', { width: perLine * cell + 1, height: lines * cell + 1, class: 'sv-cells', role: explorable ? 'group' : 'img' });
    svg.setAttribute('aria-label', `${out ? 'output (logits)' : plainTensor(a.name, o.naming)} of test image #${v.image}: ${n} values, largest ${short(Math.max(...a.data))}${explorable ? '; click a cell to explore its neuron' : ''}`);
    for (let j = 0; j < n; j++) {
      const x = (j % perLine) * cell + 0.5, y = Math.floor(j / perLine) * cell + 0.5;
      const chosen = explorable && o.chosen?.kind === 'neuron' && o.chosen.layer === layer && o.chosen.unit === j;
      const r = svgEl('rect', {
        x, y, width: cell - 1, height: cell - 1, fill: css(signed ? diverging(a.data[j] / scale) : sequential(a.data[j] / scale)),
        stroke: chosen ? '#e8a317' : '#d0d5dd', 'stroke-width': chosen ? 2 : 0.5, 'data-unit': j, 'data-v': a.data[j], class: chosen ? 'sv-cell chosen' : 'sv-cell',
      }, svg);
      svgEl('title', {}, r).textContent = `${out ? `class ${j}` : `neuron ${j}`}: ${a.data[j].toPrecision(4)} (${a.name}[${j}])${explorable ? ' · click to explore it' : ''}`;
      if (explorable) {
        r.style.cursor = 'pointer';
        r.addEventListener('click', () => o.onPick({ kind: 'neuron', layer, unit: j }));
      }
    }
    row.append(label, svg);
    root.append(row);
    summary.rows.push({ name: a.name, width: n, max: Math.max(...a.data) });
  }

  // the probabilities: one bar per class
  const probs = document.createElement('div');
  probs.className = 'sv-row sv-probs';
  probs.dataset.name = 'probabilities';
  probs.dataset.width = String(v.probabilities.length);
  const pl = document.createElement('div');
  pl.className = 'sv-label';
  pl.append(Object.assign(document.createElement('span'), { className: 'tensor', title: 'softmax(logits)', textContent: 'output probabilities' }), ` · sum ${v.probabilities.reduce((s, x) => s + x, 0).toFixed(3)}`);
  const barW = Math.min(260, W - 90), lineH = 15;
  const svg = svgEl('svg', { width: barW + 80, height: v.probabilities.length * lineH + 2, class: 'sv-bars', role: 'img' });
  svg.setAttribute('aria-label', `Bar chart of the output probabilities of test image #${v.image}: predicted ${v.predicted} with p = ${p.toFixed(3)}`);
  v.probabilities.forEach((q, k) => {
    const y = k * lineH + 1, pred = k === v.predicted;
    svgEl('text', { x: 10, y: y + 11, 'text-anchor': 'end', class: pred ? 'sv-txt sv-pred' : 'sv-txt' }, svg).textContent = String(k);
    svgEl('rect', { x: 16, y: y + 2, width: barW, height: lineH - 4, fill: '#f2f4f7' }, svg);
    const bar = svgEl('rect', { x: 16, y: y + 2, width: Math.max(0.5, q * barW).toFixed(2), height: lineH - 4, fill: pred ? (k === v.label ? '#1a7f37' : '#b42318') : '#98a2b3', 'data-class': k, 'data-p': q, class: 'sv-bar' }, svg);
    svgEl('title', {}, bar).textContent = `class ${k}: p = ${q.toFixed(4)}${k === v.label ? ' (the true class)' : ''}`;
    svgEl('text', { x: barW + 20, y: y + 11, class: pred ? 'sv-txt sv-pred' : 'sv-txt' }, svg).textContent = `${q.toFixed(3)}${k === v.label ? ' ✓' : ''}`;
  });
  probs.append(pl, svg);
  root.append(probs);
  if (v.kind === 'cnn') {
    root.append(Object.assign(document.createElement('p'), { className: 'nv-note', textContent: 'the conv layers\' feature maps of this digit are the heatmaps of the network view above (one per channel)' }));
  }
  return { node: root, summary };
}
