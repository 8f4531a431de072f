// the page's *Network* section (issue 18): the network view (network-view.ts), one test digit through
// every layer (sample-view.ts) and, for an MLP, the first layer's weights as images (weight-images.ts).
// It follows the training: the worker sends the chosen digit's pass through each epoch's weights at the
// epoch's end (the `network` event, one small message per epoch, nothing per step); after training it asks
// the worker (`network` request) for the model's or the explorer's chosen epoch's weights. Choosing a
// digit (its field, Previous, Next, Random) asks again. Clicking a neuron — in the view, a cell of the
// digit's rows or a weight image — sets the explorer's layer, neuron and test image and runs its Explore;
// clicking a CNN's channel shows the digit in the CNN explorer with that channel's filter and maps
// outlined. The unit explored is outlined here too, whichever way it was chosen.
import type { Naming } from './fit.ts';
import type { NetworkView } from './network-data.ts';
import { drawNetwork, type NetSummary, type Pick } from './network-view.ts';
import type { ModelSummary } from './protocol.ts';
import { drawSample, type SampleSummary } from './sample-view.ts';
import { drawWeightImages, type WeightSummary } from './weight-images.ts';

export interface NetworkHost {
  worker: Worker;
  /** the worker's answer for test image `image` (the explorer's epoch, or the run's latest weights while it trains) */
  view(image: number, epoch?: number): Promise<NetworkView>;
  /** the page's state (window.mlpLens): `network` is written there for the tests */
  state: { model: ModelSummary | null; training: boolean; neuron: { layer: number; neuron: number } | null };
  test(): { images: Uint8Array; labels: Uint8Array; rows: number; cols: number; count: number } | null;
  naming(): Naming;
  /** the explorer's chosen epoch (its weights selector); undefined: the model as trained or uploaded */
  epoch(): number | undefined;
}

/** what the section shows (window.mlpLens.network) */
export interface NetworkLens {
  epoch: number | null;
  live: boolean;
  image: number;
  label: number;
  predicted: number;
  probabilities: number[];
  net: NetSummary;
  sample: SampleSummary;
  weights: WeightSummary | null;
  chosen: Pick | null;
  /** the epochs (0-based) whose live views arrived while training, in order */
  liveEpochs: number[];
  updates: number;
  /** the longest task of a render so far (ms on the main thread: the view, the rows and the weight images are drawn in three frames) */
  renderMs: number;
}

const SECTION = `
  <h2>Network <small>one test digit through the weights — after every epoch while it trains; click a neuron (a CNN: a channel) to explore it</small></h2>
  <div class="row">
    <label class="field">test digit<input id="nv-image" type="number" min="0" max="9999" value="0"></label>
    <button id="nv-prev" type="button" title="the previous test image">Previous</button>
    <button id="nv-next" type="button" title="the next test image">Next</button>
    <button id="nv-random" type="button" title="a test image at random">Random</button>
    <span id="nv-status" class="status" role="status"></span>
  </div>
  <div id="nv-legend" class="nv-legend"></div>
  <div id="nv-net" class="net-card" data-updates="0"></div>
  <div class="grid nv-grid">
    <div class="nv-card"><h3 class="sub">The digit through every layer <small>each layer's activations; one colour scale per row</small></h3><div id="nv-sample" data-updates="0"></div></div>
    <div class="nv-card" id="nv-weights-card"><h3 class="sub">Weights of layer 1 as images <small id="nv-weights-caption"></small></h3><div id="nv-weights" data-updates="0"></div></div>
  </div>`;

const STYLE = `
  .net-card { min-width: 0; max-width: 100%; margin-top: 4px; }
  .net-svg { display: block; max-width: 100%; font-family: inherit; }
  .net-svg .nv-head { font-size: 11.5px; fill: #1d2330; }
  .net-svg .nv-sub { font-size: 10.5px; fill: #667085; }
  .net-svg .nv-out { font-size: 11px; fill: #1d2330; font-variant-numeric: tabular-nums; }
  .net-svg .nv-pred { font-weight: bold; }
  .net-svg [role=button] { cursor: pointer; }
  .net-svg [role=button]:hover .nv-mark { stroke: #1d2330; stroke-width: 2; }
  .net-svg [role=button]:focus { outline: none; }
  .net-svg [role=button]:focus-visible .nv-mark { stroke: #2456a6; stroke-width: 3; }
  .cbar.nv-seq { background: linear-gradient(to right, rgb(247,247,247), rgb(0,109,44)); }
  .nv-legend { font-size: 12.5px; color: var(--muted); margin: 8px 0 2px; }
  .nv-legend .cbar { width: 44px; }
  .nv-card { min-width: 0; }
  .sv-head { display: flex; gap: 10px; align-items: center; margin: 2px 0 8px; font-size: 13px; }
  .sv-head canvas { image-rendering: pixelated; border: 1px solid var(--line); }
  .sv-wrong { color: #b42318; }
  .sv-row { margin: 4px 0 10px; min-width: 0; }
  .sv-label { font-size: 12.5px; margin-bottom: 3px; }
  .sv-cells, .sv-bars { display: block; max-width: 100%; }
  .sv-txt { font-size: 11px; fill: #1d2330; font-variant-numeric: tabular-nums; }
  .sv-pred { font-weight: bold; }
  .nv-wimg { cursor: pointer; }
  .nv-wimg.chosen canvas, #explorer figure.fmap.nv-chosen canvas { outline: 3px solid #e8a317; outline-offset: 1px; }
  #explorer figure.fmap.nv-chosen figcaption { color: var(--ink); font-weight: bold; }
  .nv-note { font-size: 12px; color: var(--muted); margin: 4px 0; }
`;

const epochText = (v: NetworkView, epochs: number | null) => (v.epoch === null ? (v.live ? 'the latest weights' : 'the model as it is')
  : v.epoch < 0 ? 'the initial weights' : `the weights after epoch ${v.epoch + 1}${epochs ? ` of ${epochs}` : ''}`);

export function initNetwork(host: NetworkHost) {
  document.head.append(Object.assign(document.createElement('style'), { textContent: STYLE }));
  const section = document.createElement('section');
  section.id = 'network';
  section.className = 'hidden';
  section.setAttribute('aria-label', 'Network: the network view, one test digit through every layer, the first layer\'s weights as images');
  section.innerHTML = SECTION;
  const anchor = document.getElementById('through') ?? document.getElementById('explorer');
  anchor?.parentElement?.insertBefore(section, anchor);
  const $ = (id: string) => document.getElementById(id)!;
  const field = $('nv-image') as HTMLInputElement;

  let view: NetworkView | null = null;
  let chosen: Pick | null = null;
  let asked = 0, liveEpochs: number[] = [], updates = 0, drawnWidth = 0;
  const lensOf = host.state as unknown as { network: NetworkLens | null };
  lensOf.network = null;

  const count = () => host.test()?.count ?? 10000;
  const imageNow = () => Math.max(0, Math.min(count() - 1, Math.floor(Number(field.value) || 0)));
  const ready = () => !!host.state.model && !host.state.training;

  function legend(v: NetworkView): void {
    const l = $('nv-legend');
    const bar = (cls: string, lo: string, hi: string, title: string) => {
      const f = Object.assign(document.createElement('span'), { className: 'scale', title });
      const b = Object.assign(document.createElement('span'), { className: cls });
      b.setAttribute('aria-hidden', 'true');
      f.append(lo, b, hi);
      return f;
    };
    l.replaceChildren('lines: weights ', bar('cbar', '−', '+', 'blue: negative, red: positive; each layer on its own scale (its largest |w|)'),
      ` (thicker, darker: larger; each layer on its own scale${v.kind === 'mlp' ? '; from the input, each neuron\'s 5 strongest pixels' : '; a conv layer\'s kernel summed, each unit\'s 4 strongest'}) · ` +
      `${v.kind === 'cnn' ? 'heatmaps and circles' : 'circles'}: this digit's activations `, bar('cbar nv-seq', '0', 'max', 'near-white: 0, dark green: the layer\'s largest activation for this digit'),
      ' (the outputs: probabilities, 0 to 1) · orange ring: the unit explored');
  }

  /** the next frame (or 50 ms, where frames are not drawn): the parts of a render in separate tasks, none long */
  const nextFrame = () => new Promise<void>((ok) => { requestAnimationFrame(() => ok()); setTimeout(ok, 50); });
  let generation = 0;

  /**
   * everything drawn again for the card's width: the view, then the rows, then the weight images, each in its
   * own frame (a newer render wins); the lens and the cards' data-updates are written at the end
   */
  async function render(): Promise<void> {
    const v = view, t = host.test(), g = ++generation;
    if (!v || !t) return;
    let busyMs = 0, t0 = performance.now();
    const naming = host.naming(), card = $('nv-net');
    const width = card.clientWidth || section.clientWidth - 32;
    drawnWidth = width;
    const d = t.rows * t.cols, pixels = t.images.subarray(v.image * d, (v.image + 1) * d);
    const onPick = (p: Pick) => pick(p);
    const net = drawNetwork(v, { width, naming, pixels, rows: t.rows, cols: t.cols, chosen, onPick });
    card.replaceChildren(net.svg);
    busyMs = Math.max(busyMs, performance.now() - t0);
    await nextFrame();
    if (g !== generation) return;
    t0 = performance.now();
    const sampleCard = $('nv-sample');
    const sample = drawSample(v, { width: sampleCard.clientWidth || width, naming, pixels, rows: t.rows, cols: t.cols, chosen, onPick });
    sampleCard.replaceChildren(sample.node);
    busyMs = Math.max(busyMs, performance.now() - t0);
    await nextFrame();
    if (g !== generation) return;
    t0 = performance.now();
    const wCard = $('nv-weights');
    const weights = drawWeightImages(v, { width: wCard.clientWidth || width, naming, rows: t.rows, cols: t.cols, chosen, onPick });
    $('nv-weights-card').classList.toggle('hidden', !weights);
    if (weights) {
      wCard.replaceChildren(weights.node);
      $('nv-weights-caption').replaceChildren(weights.caption);
    } else wCard.replaceChildren();
    legend(v);
    lensOf.network = {
      epoch: v.epoch, live: v.live, image: v.image, label: v.label, predicted: v.predicted, probabilities: v.probabilities,
      net: net.summary, sample: sample.summary, weights: weights?.summary ?? null, chosen, liveEpochs: [...liveEpochs], updates,
      renderMs: Math.max(lensOf.network?.renderMs ?? 0, Math.round(Math.max(busyMs, performance.now() - t0))),
    };
    for (const id of ['nv-net', 'nv-sample', 'nv-weights']) $(id).dataset.updates = String(updates);
    // every part drawn for this width (the tests wait for it after a resize)
    card.dataset.drawnFor = String(width);
  }

  function viewStatus(v: NetworkView): string {
    const epochs = host.state.model?.history.length ?? null;
    return `test image #${v.image} through ${epochText(v, v.live ? null : epochs)}${v.live ? (host.state.training ? ' · while training: updated at each epoch\'s end' : ' (the run so far)') : ''}`;
  }

  function show(v: NetworkView): void {
    view = v;
    updates++;
    section.classList.remove('hidden');
    field.max = String(count() - 1);
    $('nv-status').textContent = viewStatus(v);
    void render();
    $('nv-net').dataset.image = String(v.image);
    $('nv-net').dataset.epoch = String(v.epoch);
  }

  /** the chosen digit asked of the worker (the latest request wins) */
  async function ask(epoch = ready() ? host.epoch() : undefined, ended = false): Promise<void> {
    const image = imageNow(), n = ++asked;
    field.value = String(image);
    $('nv-status').textContent = host.state.training && !ended
      ? `test image #${image}: shown from the end of the running epoch…`
      : `test image #${image}…`;
    try {
      const v = await host.view(image, epoch);
      if (n === asked) show(v);
    } catch (e) {
      if (n === asked) $('nv-status').textContent = `network view: ${(e as Error).message}`;
    }
  }

  /** a unit clicked: outlined here, and explored in the explorer (the MLP's neuron explorer, the CNN explorer) */
  function pick(p: Pick): void {
    chosen = p;
    void render();
    if (!ready()) {
      $('nv-status').textContent = `${p.kind} ${p.unit} chosen: the explorer answers once the training ends`;
      return;
    }
    const exImage = $('ex-image') as HTMLInputElement;
    const image = String(view?.image ?? imageNow());
    if (p.kind === 'neuron' && host.state.model?.kind === 'mlp') {
      // the explorer's own path: its fields, then Explore (once it has answered the neuron it is busy with)
      whenFree(() => {
        exImage.value = image;
        const layer = $('ex-layer') as HTMLSelectElement;
        layer.value = String(p.layer);
        layer.dispatchEvent(new Event('change'));
        ($('ex-neuron') as HTMLInputElement).value = String(p.unit);
        ($('ex-go') as HTMLButtonElement).click();
      });
    } else if (p.kind === 'channel' && host.state.model?.kind === 'cnn') {
      cnnChannel = p;
      exImage.value = image;
      // the CNN explorer follows its image field: the digit's maps, then the channel outlined (outlineCnn)
      exImage.dispatchEvent(new Event('change'));
      outlineCnn();
    }
    $('explorer').scrollIntoView({ block: 'start', behavior: 'smooth' });
  }

  /** runs `fn` when the explorer's Explore button is enabled (it is disabled while a neuron is analysed); the latest waiting pick wins */
  let waiting: (() => void) | null = null;
  const go = () => $('ex-go') as HTMLButtonElement;
  function whenFree(fn: () => void): void {
    if (!go().disabled) { waiting = null; fn(); return; }
    waiting = fn;
    $('nv-status').textContent = 'the explorer is busy: this neuron is explored next';
  }
  new MutationObserver(() => {
    if (!waiting || go().disabled || !ready()) return;
    const fn = waiting;
    waiting = null;
    if (view) $('nv-status').textContent = viewStatus(view);
    fn();
  }).observe(go(), { attributes: true, attributeFilter: ['disabled'] });

  /** the CNN explorer's figures of the chosen channel (its filter, its maps in each row of its conv layer) outlined */
  let cnnChannel: Pick | null = null;
  function outlineCnn(): void {
    const ex = $('explorer');
    for (const f of Array.from(ex.querySelectorAll('figure.nv-chosen'))) f.classList.remove('nv-chosen');
    const p = cnnChannel;
    if (!p) return;
    const figs = [
      ...Array.from(ex.querySelectorAll(`.map-group[data-name^="layers.${p.layer}."] figure[data-channel="${p.unit}"]`)),
      ...(p.layer === 0 ? Array.from(ex.querySelectorAll(`#cnn-filters figure[data-channel="${p.unit}"]`)) : []),
    ];
    for (const f of figs) f.classList.add('nv-chosen');
    $('cnn-maps').dataset.channel = `${p.layer}:${p.unit}`;
  }
  new MutationObserver(() => outlineCnn()).observe($('cnn-maps'), { attributes: true, attributeFilter: ['data-updates'] });
  // a neuron explored from the explorer itself (its fields, its picks): outlined here too
  new MutationObserver(() => {
    const r = host.state.neuron;
    if (!r || (chosen?.kind === 'neuron' && chosen.layer === r.layer && chosen.unit === r.neuron)) return;
    chosen = { kind: 'neuron', layer: r.layer, unit: r.neuron };
    void render();
  }).observe($('ex-selectivity'), { attributes: true, attributeFilter: ['data-updates'] });

  field.addEventListener('change', () => void ask());
  const step = (d: number) => { field.value = String((imageNow() + d + count()) % count()); void ask(); };
  $('nv-prev').addEventListener('click', () => step(-1));
  $('nv-next').addEventListener('click', () => step(1));
  $('nv-random').addEventListener('click', () => { field.value = String(Math.floor(Math.random() * count())); void ask(); });
  // another epoch's weights in the explorer: the view follows
  $('ex-epoch').addEventListener('change', () => { if (ready() && view) void ask(); });
  // the card's width changed (the window, a scrollbar): drawn again for it
  new ResizeObserver(() => {
    const w = $('nv-net').clientWidth;
    if (view && w > 0 && Math.abs(w - drawnWidth) >= 1) void render();
  }).observe($('nv-net'));
  host.worker.addEventListener('message', (e: MessageEvent) => {
    const m = e.data as { event?: string; view?: NetworkView };
    if (m.event !== 'network' || !m.view) return;
    // a digit asked meanwhile is shown by its own answer; the live view follows the epochs
    if (m.view.image !== imageNow()) return;
    if (m.view.epoch !== null) liveEpochs.push(m.view.epoch);
    show(m.view);
  });

  return {
    /** a unit chosen elsewhere on the page (the live heatmap): outlined here and explored */
    pick,
    /** a model is ready (trained, stopped or uploaded): the chosen digit through its weights */
    modelReady(_m: ModelSummary): void {
      // called as the run ends (the page still busy): the explorer's epoch, the last kept by default
      void ask(host.epoch(), true);
    },
    /** the model is gone (a new run, a reset, an upload): the section hidden until the next view */
    reset(): void {
      view = null;
      chosen = null;
      cnnChannel = null;
      waiting = null;
      liveEpochs = [];
      asked++;
      section.classList.add('hidden');
      for (const id of ['nv-net', 'nv-sample', 'nv-weights', 'nv-legend', 'nv-weights-caption', 'nv-status']) $(id).replaceChildren();
      lensOf.network = null;
    },
  };
}
