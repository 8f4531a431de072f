// an MLP's first-layer weights as images (issue 18): each neuron of layer 1 drawn as its 784 incoming
// weights on the 28×28 grid of the pixels they weigh, in diverging colours (blue −, white 0, red +) on one
// scale for all (the largest |w| of the drawn neurons, stated with a colour bar). Clicking one explores that
// neuron. (A CNN's filters are the CNN explorer's.)
import { colourBar, diverging, heatCanvas, maxAbs } from './colours.ts';
import { plainTensor, type Naming } from './fit.ts';
import type { NetworkView } from './network-data.ts';
import type { Pick } from './network-view.ts';

export interface WeightImagesOptions { width: number; naming: Naming; rows: number; cols: number; chosen: Pick | null; onPick(p: Pick): void }

/** the drawn images (the page's test hook): how many, of how many neurons, their shared scale */
export interface WeightSummary { drawn: number; neurons: number; scale: number; side: [number, number] }

export function drawWeightImages(v: NetworkView, o: WeightImagesOptions): { node: HTMLElement; caption: HTMLElement; summary: WeightSummary } | null {
  const L = v.layers[0];
  if (v.kind !== 'mlp' || !L || L.kind !== 'dense' || !L.W.length || L.shape[0] !== o.rows * o.cols) return null;
  const [R, C] = L.shape, neurons = L.full[1];
  const scale = maxAbs(L.W) || 1;
  // 4 to a row on a phone and up to 8 (or 12 on a wide card): each image 2× its pixels or less
  const perRow = o.width < 420 ? 5 : o.width < 640 ? 6 : 8;
  const px = Math.max(36, Math.min(2 * o.cols, Math.floor((o.width - (perRow - 1) * 8) / perRow)));
  const grid = document.createElement('div');
  grid.className = 'maps nv-weights';
  grid.dataset.scale = String(scale);
  const who = plainTensor('layers.0.post', o.naming);
  for (let j = 0; j < C; j++) {
    const fig = document.createElement('figure');
    fig.className = 'fmap nv-wimg';
    fig.dataset.unit = String(j);
    const chosen = o.chosen?.kind === 'neuron' && o.chosen.layer === 0 && o.chosen.unit === j;
    if (chosen) fig.classList.add('chosen');
    fig.title = `${who}, neuron ${j}: its ${R} incoming weights (layers.0.W[:, ${j}]), bias ${L.b[j].toPrecision(3)} · click to explore it`;
    // W is [pixels, neurons] row-major: neuron j's weights are every C-th value from j
    const canvas = heatCanvas(L.W, j, o.rows, o.cols, (w) => diverging(w / scale), px, C);
    canvas.setAttribute('role', 'img');
    canvas.setAttribute('aria-label', `weights into neuron ${j} of ${who} as a ${o.rows}×${o.cols} image`);
    const cap = Object.assign(document.createElement('figcaption'), { textContent: `n ${j}` });
    fig.append(canvas, cap);
    fig.tabIndex = 0;
    fig.setAttribute('role', 'button');
    fig.setAttribute('aria-label', `neuron ${j} of ${who}: its weights as an image. Explore it`);
    const pick = () => o.onPick({ kind: 'neuron', layer: 0, unit: j });
    fig.addEventListener('click', pick);
    fig.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); pick(); } });
    grid.append(fig);
  }
  const caption = document.createElement('span');
  caption.append(`${C === neurons ? `all ${C}` : `the first ${C} of ${neurons}`} neurons of `,
    Object.assign(document.createElement('span'), { className: 'tensor', title: 'layers.0.W', textContent: who }),
    `, each its ${o.rows}×${o.cols} incoming weights; one scale for all: `, colourBar(scale, 'diverging', 'weight'));
  return { node: grid, caption, summary: { drawn: C, neurons, scale, side: [o.rows, o.cols] } };
}
