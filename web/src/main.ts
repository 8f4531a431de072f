// the page: configuration, live charts while the worker trains, the neuron explorer, downloads and the
// upload of a saved model. Charts are the report's Vega-Lite figure functions (analysis/figures),
// drawn with vega-embed; all computing happens in the worker (worker.ts), so the page only draws.
import embed, { type Result as EmbedResult } from 'vega-embed';
import { drift } from '../../analysis/drift.ts';
import type { EpochStats } from '../../analysis/epoch-stats.ts';
import { figureConfusion, type ImageSource } from '../../analysis/figures/accuracy.ts';
import {
  figureActivationHistograms, figureHiddenDrift, figureNeuronHeatmap, figureTrainingCurves,
} from '../../analysis/figures/dynamics.ts';
import { figureAccuracyVsScale, figureLogitsVsScale } from '../../analysis/figures/interventions.ts';
import { figureSaliency } from '../../analysis/figures/maps.ts';
import { figureProjection } from '../../analysis/figures/projections.ts';
import { figureCkaEpochs } from '../../analysis/figures/through-training.ts';
import { classColor, clean, topLevel, type Row, type VegaLiteSpec } from '../../analysis/figures/spec.ts';
import type { ThroughTraining } from '../../analysis/through-training-types.ts';
import { mapToPng, pngDataUri } from '../../analysis/png.ts';
import type { EpochMetrics } from '../../mlp/train.ts';
import { ArchError, formatArch, parseArch, resolveCnn } from '../../mlp/arch.ts';
import type { KernelResults } from '../../bench/kernels-run.ts';
import type {
  CnnReport, DataSummary, DeviceDescription, FileResult, ModelSummary, NeuronReport, Replies, Reply, Request, WebConfig, WorkerEvent,
} from './protocol.ts';

// ---------- the worker, as request → promise

const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
let nextId = 1;
const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();

function ask<K extends Request['op']>(req: Extract<Request, { op: K }>, transfer: Transferable[] = []): Promise<Replies[K]> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
    worker.postMessage({ id, ...req }, transfer);
  });
}

worker.onmessage = (e: MessageEvent<Reply | WorkerEvent>) => {
  const m = e.data;
  if ('event' in m) { onEvent(m); return; }
  const p = pending.get(m.id);
  if (!p) return;
  pending.delete(m.id);
  if (m.ok) p.resolve(m.result); else p.reject(new Error(m.error));
};
worker.onerror = (e) => showError(`the worker failed: ${e.message}`);

// ---------- page state (also read by the end-to-end test through window.mlpLens)

const state = {
  data: null as Omit<DataSummary, 'testImages' | 'testLabels'> | null,
  device: null as DeviceDescription | null,
  history: [] as EpochMetrics[],
  stats: [] as EpochStats[],
  model: null as ModelSummary | null,
  neuron: null as NeuronReport | null,
  pca: null as { epoch: number | null; layer: number; target: string; points: number; explained: number[] } | null,
  /** the CNN explorer's last answer: the image, the first conv layer's filters, the channels drawn per feature map */
  cnn: null as {
    epoch: number | null; image: number; label: number; predicted: number;
    filters: { shape: number[]; weights: number[]; drawn: number }; maps: Record<string, number>;
  } | null,
  /** analyzeThroughTraining's result for the trained model (null until the worker has it) */
  through: null as ThroughTraining | null,
  /** the epoch the through-training PCA shows (−1: the initial weights) */
  throughEpoch: null as number | null,
  training: false,
  /** longest gap between two 50 ms heartbeats of the main thread while training (ms) */
  longestGap: 0,
  /** the longest draw of each chart so far (ms of vega-embed, parse to first render) */
  drawMs: {} as Record<string, number>,
  errors: [] as string[],
  /** the last kernel benchmark's results (the downloadable kernels.json) */
  kernels: null as KernelResults | null,
};
(globalThis as unknown as { mlpLens: typeof state }).mlpLens = state;

let test: ImageSource & { labels: Uint8Array } | null = null;

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const input = (id: string) => $<HTMLInputElement>(id);
const select = (id: string) => $<HTMLSelectElement>(id);

function showError(message: string): void {
  state.errors.push(message);
  $('error').textContent = message;
}
const setStatus = (text: string) => { $('status').textContent = text; };

// ---------- charts

const views = new Map<string, EmbedResult>();

/** the next frame: drawing one chart per frame keeps each stall of the page short */
const nextFrame = () => new Promise<void>((ok) => { requestAnimationFrame(() => ok()); setTimeout(ok, 50); });

/** draws `spec` into #id, replacing what was there; counts the updates in data-updates */
async function draw(id: string, spec: VegaLiteSpec): Promise<void> {
  await nextFrame();
  const el = $(id);
  views.get(id)?.finalize();
  el.replaceChildren();
  const target = document.createElement('div');
  el.append(target);
  const t0 = performance.now();
  const r = await embed(target, spec as never, { actions: { export: true, source: false, compiled: false, editor: false }, renderer: 'canvas' });
  state.drawMs[id] = Math.max(state.drawMs[id] ?? 0, Math.round(performance.now() - t0));
  views.set(id, r);
  el.dataset.updates = String(Number(el.dataset.updates ?? 0) + 1);
}

/** a figure whose lines have no point marks shows nothing for a single epoch: points until there are two */
function withPoints(spec: VegaLiteSpec, epochs: number): VegaLiteSpec {
  if (epochs > 1) return spec;
  const s = structuredClone(spec) as { mark?: { type: string; point?: unknown }; encoding?: Record<string, unknown> };
  if (s.mark?.type !== 'line' || !s.encoding) return spec;
  s.mark.point = { filled: true, size: 60 };
  // one point per series: the dash legend would show nothing, so the statistic becomes the point's shape
  const dash = s.encoding.strokeDash as { field?: string; title?: string } | undefined;
  if (dash?.field) {
    s.encoding.shape = { field: dash.field, type: 'nominal', title: dash.title ?? dash.field };
    s.encoding.detail = { field: dash.field, type: 'nominal' };
    delete s.encoding.strokeDash;
  }
  return s as VegaLiteSpec;
}

function hiddenLayers(history: EpochStats[]): string[] {
  const names = history.length ? Object.keys(history[0].acts) : [];
  return names.filter((n) => /^layers\.\d+\.post$/.test(n));
}

let drawing = Promise.resolve();
/** redraws the live charts from the epochs so far (one redraw at a time; a newer epoch wins) */
function drawLive(): void {
  drawing = drawing.then(async () => {
    const history = state.history, stats = state.stats;
    if (history.length) {
      await draw('chart-curves', figureTrainingCurves(history));
      $('chart-curves').dataset.epochs = String(history.length);
    }
    if (stats.length) {
      const d = drift(stats), posts = hiddenLayers(stats);
      const tensors = posts.flatMap((p) => [p.replace('.post', '.pre'), p]).concat('logits');
      await draw('chart-drift', withPoints(figureHiddenDrift(d, posts), stats.length));
      await draw('chart-hist', figureActivationHistograms(stats, tensors));
      const layerSel = select('heatmap-layer');
      if (layerSel.options.length !== posts.length) {
        layerSel.replaceChildren(...posts.map((p, k) => new Option(`layer ${k + 1} (${p})`, p)));
        layerSel.value = posts[0];
      }
      await draw('chart-heatmap', figureNeuronHeatmap(d, layerSel.value || posts[0]));
      for (const id of ['chart-drift', 'chart-hist', 'chart-heatmap']) $(id).dataset.epochs = String(stats.length);
    }
  }).catch((e: Error) => showError(`drawing failed: ${e.message}`));
}

function addEpochRow(m: EpochMetrics): void {
  const t = $('epochs');
  t.classList.remove('hidden');
  const tr = document.createElement('tr');
  for (const v of [String(m.epoch), m.trainLoss.toFixed(4), m.trainAccuracy.toFixed(2), m.testLoss.toFixed(4), m.testAccuracy.toFixed(2), m.seconds.toFixed(1)]) {
    const td = document.createElement('td');
    td.textContent = v;
    tr.append(td);
  }
  t.querySelector('tbody')!.append(tr);
}

// ---------- worker events

function onEvent(e: WorkerEvent): void {
  switch (e.event) {
    case 'status': setStatus(e.text); break;
    case 'kernels': $('kt-status').textContent = e.text; break;
    case 'device': {
      state.device = e.device;
      const el = $('device');
      el.textContent = e.device.text;
      el.classList.toggle('cpu', e.device.backend === 'cpu');
      break;
    }
    case 'progress': {
      $('progress-line').classList.remove('hidden');
      const p = $<HTMLProgressElement>('progress');
      p.max = e.steps * e.epochs;
      p.value = e.epoch * e.steps + e.step;
      $('progress-text').textContent = `epoch ${e.epoch + 1} of ${e.epochs}, step ${e.step} of ${e.steps}` +
        (e.step === e.steps && state.device?.backend === 'webgpu' ? ' (steps queued; the GPU is finishing the epoch)' : '');
      break;
    }
    case 'epoch': {
      state.history.push(e.metrics);
      if (e.stats) state.stats.push(e.stats);
      addEpochRow(e.metrics);
      drawLive();
      break;
    }
  }
}

// ---------- configuration

function readConfig(): WebConfig {
  const num = (id: string) => Number(input(id).value);
  const cnn = select('cfg-arch').value === 'cnn';
  const arch = cnn ? checkSpec() : undefined;
  if (cnn && arch === null) throw new RangeError(`CNN layers: ${$('cfg-spec-error').title}`);
  const hidden = cnn ? [] : input('cfg-hidden').value.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (!cnn && (!hidden.length || hidden.some((h) => !Number.isInteger(h) || h < 1))) throw new RangeError('hidden sizes: positive integers separated by commas, e.g. 32,16');
  const steps = input('cfg-steps').value.trim();
  return {
    hidden, ...(arch ? { arch } : {}), lr: num('cfg-lr'), momentum: num('cfg-momentum'), weightDecay: 0, batch: num('cfg-batch'), epochs: num('cfg-epochs'),
    steps: steps === '' ? undefined : Number(steps), seed: num('cfg-seed'), rng: select('cfg-rng').value as WebConfig['rng'],
    shuffle: input('cfg-shuffle').checked, record: input('cfg-record').checked, device: select('cfg-device').value as WebConfig['device'],
    norm: {
      input: select('cfg-input-norm').value as WebConfig['norm']['input'],
      layernorm: select('cfg-layernorm').value as WebConfig['norm']['layernorm'],
      batchnorm: select('cfg-batchnorm').value as WebConfig['norm']['batchnorm'],
      dropout: num('cfg-dropout'),
    },
  };
}

const NORM_FIELDS = ['cfg-input-norm', 'cfg-layernorm', 'cfg-batchnorm', 'cfg-dropout'];

/** MLP or CNN: the hidden sizes or the CNN's layers; a CNN disables the normalisation options (and says so) */
function archChanged(): void {
  const cnn = select('cfg-arch').value === 'cnn';
  $('cfg-hidden-field').classList.toggle('hidden', cnn);
  $('cfg-spec-field').classList.toggle('hidden', !cnn);
  $('cfg-spec-error').classList.toggle('hidden', !cnn);
  $('cfg-norm-note').classList.toggle('hidden', !cnn);
  for (const id of NORM_FIELDS) ($(id) as HTMLInputElement).disabled = cnn;
  if (cnn) checkSpec();
}

/**
 * the CNN's layers as --arch text, checked as the run layer will (parseArch, then the shapes on 28×28
 * images); null when they do not parse or fit, the reason next to the field in one line (whole in its title)
 */
function checkSpec(): string | null {
  const el = $('cfg-spec-error'), text = input('cfg-spec').value.trim() || 'cnn';
  const say = (message: string, ok: boolean) => {
    el.textContent = message;
    el.title = message;
    el.classList.toggle('ok', ok);
    input('cfg-spec').setAttribute('aria-invalid', String(!ok));
  };
  try {
    const spec = parseArch(text);
    if (spec.kind !== 'cnn') throw new ArchError(`a CNN's layers start with cnn (choose MLP for ${formatArch(spec)})`);
    const rows = state.data?.rows ?? 28, cols = state.data?.cols ?? 28;
    const layers = resolveCnn(spec.layers, [1, rows, cols], 10);
    say(`✓ ${[`1×${rows}×${cols}`, ...layers.map((l) => l.outShape.join('×'))].join(' → ')}`, true);
    return text;
  } catch (e) {
    say((e as Error).message.replace(/^--arch:?\s*/, ''), false);
    return null;
  }
}

function setBusy(busy: boolean): void {
  state.training = busy;
  $<HTMLButtonElement>('train').disabled = busy || !state.data;
  input('upload').disabled = busy || !state.data;
  $<HTMLButtonElement>('stop').disabled = !busy;
  for (const id of ['ex-go', 'ex-random', 'pca-go', 'dl-model', 'dl-results', 'dl-report', 'tt-download']) $<HTMLButtonElement>(id).disabled = busy;
}

function resetLive(): void {
  state.history = [];
  state.stats = [];
  state.model = null;
  state.neuron = null;
  state.pca = null;
  state.cnn = null;
  state.through = null;
  state.throughEpoch = null;
  pause();
  state.longestGap = 0;
  $('epochs').querySelector('tbody')!.replaceChildren();
  $('epochs').classList.add('hidden');
  $('summary').textContent = '';
  $('error').textContent = '';
  // the explorer and the downloads belong to the previous model: cleared, and hidden until the next one is ready
  for (const id of ['ex-selectivity', 'ex-accuracy', 'ex-confusion', 'ex-logits', 'ex-saliency', 'ex-pca', 'tt-pca', 'tt-curves', 'tt-cka']) {
    views.get(id)?.finalize();
    views.delete(id);
    $(id).replaceChildren();
  }
  for (const id of ['cnn-summary', 'cnn-filters', 'cnn-maps', 'cnn-filters-caption', 'cnn-maps-caption']) $(id).replaceChildren();
  for (const id of ['ex-summary', 'ex-picks', 'ex-onehot-caption', 'dl-status', 'tt-status', 'tt-dl-status', 'tt-findings', 'tt-epoch-text']) $(id).replaceChildren();
  $('ex-onehot').classList.add('hidden');
  $('explorer').classList.add('hidden');
  $('through').classList.add('hidden');
  $('downloads').classList.add('hidden');
}

/** the main thread's heartbeat: the longest gap between 50 ms ticks while the worker trains */
function heartbeat(): () => void {
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    state.longestGap = Math.max(state.longestGap, now - last - 50);
    last = now;
    $('heartbeat').textContent = `· page responsive (longest stall ${Math.max(0, state.longestGap).toFixed(0)} ms)`;
  }, 50);
  return () => clearInterval(timer);
}

async function startTraining(ev: Event): Promise<void> {
  ev.preventDefault();
  let cfg: WebConfig;
  try { cfg = readConfig(); } catch (e) { showError((e as Error).message); return; }
  resetLive();
  setBusy(true);
  const stopBeat = heartbeat();
  try {
    const summary = await ask({ op: 'train', config: cfg });
    await drawing;
    modelReady(summary);
  } catch (e) {
    showError(`training failed: ${(e as Error).message}`);
  } finally {
    stopBeat();
    setBusy(false);
  }
}

async function upload(): Promise<void> {
  const file = input('upload').files?.[0];
  if (!file) return;
  resetLive();
  setBusy(true);
  try {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const summary = await ask({ op: 'upload', name: file.name, bytes }, [bytes.buffer]);
    for (const id of ['chart-curves', 'chart-drift', 'chart-hist', 'chart-heatmap']) {
      views.get(id)?.finalize();
      views.delete(id);
      $(id).replaceChildren(Object.assign(document.createElement('div'), { className: 'placeholder', textContent: 'no training in this page: an uploaded model' }));
    }
    modelReady(summary);
  } catch (e) {
    showError(`could not analyse ${file.name}: ${(e as Error).message}`);
  } finally {
    input('upload').value = '';
    setBusy(false);
  }
}

function modelReady(m: ModelSummary): void {
  state.model = m;
  const perClass = m.test.perClass.map((a, c) => `<span class="pill">${c}: ${a.toFixed(1)}</span>`).join('');
  $('summary').innerHTML = `<b>${escapeHtml(m.name)}</b> · ${m.kind === 'cnn' ? `CNN ${escapeHtml(m.arch)}` : `${m.sizes.join('-')} · normalisation ${escapeHtml(m.norm)}`} · ` +
    `test accuracy <b id="test-accuracy">${m.test.accuracy.toFixed(2)} %</b> (loss ${m.test.loss.toFixed(4)})` +
    (m.stopped ? ' · stopped early' : '') + `<br>per class: ${perClass}`;
  const layers = m.widths.map((w, k) => new Option(`layer ${k + 1} (${w} neurons)`, String(k)));
  select('ex-layer').replaceChildren(...layers.map((o) => o.cloneNode(true) as HTMLOptionElement));
  select('pca-layer').replaceChildren(...layers);
  const last = String(m.widths.length - 1);
  select('ex-layer').value = last;
  select('pca-layer').value = last;
  input('ex-neuron').max = String(m.widths[m.widths.length - 1] - 1);
  // the explorer answers for any kept epoch's weights; the last by default
  const epochs = m.snapshots, lastEpoch = epochs[epochs.length - 1];
  const exEpoch = select('ex-epoch');
  exEpoch.replaceChildren(...(epochs.length
    ? epochs.map((e) => new Option(e < 0 ? 'init (before training)' : `after epoch ${e}${e === lastEpoch ? ' (last)' : ''}`, String(e)))
    : [new Option(m.source === 'uploaded' ? 'as uploaded' : 'as trained', '')]));
  exEpoch.value = epochs.length ? String(lastEpoch) : '';
  exEpoch.disabled = epochs.length < 2;
  exEpoch.title = m.snapshotsNote ?? '';
  const cnn = m.kind === 'cnn';
  $('explorer').dataset.kind = m.kind;
  $('ex-title').textContent = cnn ? 'CNN explorer' : 'Neuron explorer';
  $('ex-subtitle').textContent = cnn ? `${m.arch}: the first layer's filters and every feature map of one test digit` : 'on the 10 000 test images';
  for (const id of ['dl-results', 'dl-report']) $(id).classList.toggle('hidden', cnn);
  $('dl-note').classList.toggle('hidden', !cnn);
  $('explorer').classList.remove('hidden');
  $('downloads').classList.remove('hidden');
  if (cnn) void exploreCnn();
  else if (m.source === 'trained') void loadThrough(m);
}

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

// ---------- explorer

function showDigit(index: number): void {
  if (!test) return;
  const d = test.rows * test.cols, c = $<HTMLCanvasElement>('ex-digit'), ctx = c.getContext('2d')!;
  const img = ctx.createImageData(test.cols, test.rows);
  for (let p = 0; p < d; p++) {
    const v = 255 - test.images[index * d + p];
    img.data.set([v, v, v, 255], p * 4);
  }
  ctx.putImageData(img, 0, 0);
  $('ex-digit-label').textContent = `#${index}: a ${test.labels[index]}`;
}

function selectivitySpec(r: NeuronReport): VegaLiteSpec {
  const values = r.selectivity.map((s, digit) => ({ digit, selectivity: clean(s), mean: clean(r.classMeans[digit]) }));
  return topLevel(`Selectivity of neuron ${r.neuron} of ${r.target} per class${r.epoch === null ? '' : `, ${epochWords(r.epoch)}`}`, values, {
    width: 360, height: 200, mark: { type: 'bar' },
    encoding: {
      x: { field: 'digit', type: 'ordinal', title: 'class', axis: { labelAngle: 0 } },
      y: { field: 'selectivity', type: 'quantitative', title: '(μ_class − μ_rest) / (μ_class + μ_rest + ε)', scale: { domain: [-1, 1] } },
      color: classColor(10),
      tooltip: [{ field: 'digit' }, { field: 'selectivity', format: '.3f' }, { field: 'mean', title: 'mean activation', format: '.4f' }],
    },
  });
}

async function explore(): Promise<void> {
  if (state.model?.kind === 'cnn') return exploreCnn();
  const layer = Number(select('ex-layer').value), neuron = Number(input('ex-neuron').value), image = Number(input('ex-image').value);
  const epoch = explorerEpoch();
  showDigit(image);
  $('ex-summary').textContent = `analysing neuron ${neuron} of layer ${layer + 1}${epoch === undefined ? '' : ` (${epochWords(epoch)})`}…`;
  $<HTMLButtonElement>('ex-go').disabled = true;
  try {
    const r = await ask({ op: 'neuron', layer, neuron, image, epoch });
    state.neuron = r;
    const top = r.topClasses.map((c) => `${c} (${r.selectivity[c].toFixed(2)})`).join(', ');
    const an = r.analysis, at = (s: number) => an.scales.indexOf(s);
    const [, b] = an.interval;
    $('ex-summary').innerHTML = `${r.epoch === null ? '' : `<b>${epochWords(r.epoch)}</b>: `}neuron <b>${r.neuron}</b> of ${r.target}: most selective for classes <b id="ex-top">${top}</b>; ` +
      `test accuracy ${an.accuracy[at(1)].toFixed(2)} % as is, ${an.accuracy[at(0)].toFixed(2)} % ablated, ${an.accuracy[at(b)].toFixed(2)} % at ×${b} · ` +
      `image #${r.saliency.index} is a ${r.saliency.label}, predicted ${r.saliency.predicted} · ${r.seconds.toFixed(1)} s`;
    const picks = $('ex-picks');
    picks.replaceChildren('most selective neuron of this layer per class: ', ...r.mostSelective.map((j, c) => {
      const b = Object.assign(document.createElement('button'), { type: 'button', className: 'pill', textContent: `${c} → ${j}`, title: `explore neuron ${j}` });
      b.addEventListener('click', () => { input('ex-neuron').value = String(j); void explore(); });
      return b;
    }));
    await draw('ex-selectivity', selectivitySpec(r));
    $('ex-selectivity').dataset.epoch = String(r.epoch);
    await draw('ex-accuracy', figureAccuracyVsScale(an));
    await draw('ex-confusion', figureConfusion(an.confusion.ablationMinusBaseline, `Ablation − baseline, neuron ${r.neuron}`, { difference: true }));
    await draw('ex-logits', figureLogitsVsScale(an, r.topClasses[0]));
    await draw('ex-saliency', figureSaliency(r.saliency, test ?? undefined));
    const map = r.oneHot.map, lo = Math.min(...map), hi = Math.max(...map);
    const side = Math.round(Math.sqrt(map.length));
    const img = $<HTMLImageElement>('ex-onehot');
    img.src = pngDataUri(mapToPng(map, side, side, 'hot', [lo, hi > lo ? hi : lo + 1]));
    img.classList.remove('hidden');
    $('ex-onehot-caption').textContent = `${r.oneHot.target} of neuron ${r.neuron} with one pixel = ${r.oneHot.value} (hot, max ${hi.toPrecision(3)})`;
  } catch (e) {
    $('ex-summary').textContent = '';
    showError(`explorer: ${(e as Error).message}`);
  } finally {
    $<HTMLButtonElement>('ex-go').disabled = state.training;
  }
}

// ---------- the CNN explorer: filters and feature maps as small heatmaps

/** RdBu-like diverging colours: −1 blue, 0 near-white, +1 red (values clamped) */
function diverging(t: number): [number, number, number] {
  const u = Math.max(-1, Math.min(1, Number.isFinite(t) ? t : 0));
  const mid = [247, 247, 247], end = u < 0 ? [33, 102, 172] : [178, 24, 43], a = Math.abs(u);
  return [0, 1, 2].map((i) => Math.round(mid[i] + (end[i] - mid[i]) * a)) as [number, number, number];
}

/** a canvas of the h×w values at `offset`, coloured by diverging(v / scale), shown `px` pixels wide */
function heatCanvas(values: ArrayLike<number>, offset: number, h: number, w: number, scale: number, px: number): HTMLCanvasElement {
  const c = document.createElement('canvas');
  c.width = w;
  c.height = h;
  c.style.width = `${px}px`;
  c.style.height = `${Math.round((px * h) / w)}px`;
  const ctx = c.getContext('2d')!, img = ctx.createImageData(w, h);
  for (let p = 0; p < h * w; p++) img.data.set([...diverging(values[offset + p] / scale), 255], p * 4);
  ctx.putImageData(img, 0, 0);
  return c;
}

const maxAbs = (v: ArrayLike<number>) => { let m = 0; for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(v[i])); return m; };
const fmtScale = (s: number) => (s === 0 ? '0' : s >= 100 || s < 0.01 ? s.toExponential(1) : s.toPrecision(2));
/** the colour bar with its ends: ±scale (a diverging quantity) or 0 … scale (one that is never negative) */
function colourBar(scale: number, signed: boolean): HTMLElement {
  const f = Object.assign(document.createElement('span'), { className: 'scale', title: `colour scale: ${signed ? `−${scale} … 0 … +${scale}` : `0 … ${scale}`}` });
  const bar = Object.assign(document.createElement('span'), { className: signed ? 'cbar' : 'cbar half' });
  bar.setAttribute('aria-hidden', 'true');
  f.append(signed ? `−${fmtScale(scale)}` : '0', bar, `${signed ? '+' : ''}${fmtScale(scale)}`);
  return f;
}

const SITE_WORDS: Record<string, string> = { pre: 'before ReLU', post: 'after ReLU', pool: 'after max-pooling' };
/** layers.1.pool → { conv: 2, site: 'after max-pooling' } (the convs come first, so conv K+1 is layers.K) */
function plainName(name: string): { conv: number; site: string } {
  const m = /^layers\.(\d+)\.(pre|post|pool)$/.exec(name);
  return m ? { conv: Number(m[1]) + 1, site: SITE_WORDS[m[2]] } : { conv: 0, site: name };
}

/** the CSS width of a map of `w` columns: small maps scaled up more, every map 32–56 px wide */
const mapPx = (w: number) => Math.max(32, Math.min(56, w * (w >= 20 ? 2 : w >= 10 ? 3 : w >= 6 ? 4 : 8)));

function showCnn(r: CnnReport): void {
  const { filters, maps } = r;
  const [out, inC, kh, kw] = filters.shape;
  // the filters: one scale for all, symmetric around 0
  const fs = maxAbs(filters.weights) || 1;
  const cells: HTMLElement[] = [];
  for (let o = 0; o < out; o++) {
    for (let i = 0; i < inC; i++) {
      const fig = document.createElement('figure');
      fig.className = 'fmap';
      const plain = `conv 1, filter ${o}${inC > 1 ? `, input channel ${i}` : ''}`;
      fig.title = `${plain} (${filters.name}[${o}${inC > 1 ? `, ${i}` : ''}]), bias ${filters.bias[o].toPrecision(3)}`;
      fig.dataset.channel = String(o);
      const canvas = heatCanvas(filters.weights, (o * inC + i) * kh * kw, kh, kw, fs, 44);
      canvas.setAttribute('role', 'img');
      canvas.setAttribute('aria-label', plain);
      fig.append(canvas, Object.assign(document.createElement('figcaption'), { textContent: inC > 1 ? `${o}·${i}` : `filter ${o}` }));
      cells.push(fig);
    }
  }
  $('cnn-filters').replaceChildren(...cells);
  const fc = $('cnn-filters-caption');
  fc.replaceChildren(`${out} filters of ${kh}×${kw} weights${inC > 1 ? ` × ${inC} input channels` : ''}, one colour scale for all: `, colourBar(fs, true));
  fc.title = filters.name;
  $('cnn-filters').dataset.updates = String(Number($('cnn-filters').dataset.updates ?? 0) + 1);

  // the feature maps: one group per named map, one scale per group (its channels comparable)
  const groups = maps.map((fm) => {
    const [c, h, w] = fm.shape, { conv, site } = plainName(fm.name);
    const s = maxAbs(fm.data), signed = fm.data.some((v) => v < 0);
    const g = document.createElement('div');
    g.className = 'map-group';
    g.dataset.name = fm.name;
    g.dataset.scale = String(s);
    const title = document.createElement('div');
    title.className = 'map-title';
    title.title = fm.name;
    const head = document.createElement('b');
    head.textContent = `conv ${conv}, ${site}`;
    const small = document.createElement('small');
    small.append(` · ${c} channels of ${h}×${w} · `, s === 0 ? 'all 0' : colourBar(s, signed));
    title.append(head, small);
    const row = document.createElement('div');
    row.className = 'maps';
    for (let k = 0; k < c; k++) {
      const fig = document.createElement('figure');
      fig.className = 'fmap';
      fig.title = `conv ${conv}, channel ${k} (${fm.name})`;
      fig.dataset.channel = String(k);
      const canvas = heatCanvas(fm.data, k * h * w, h, w, s || 1, mapPx(w));
      canvas.setAttribute('role', 'img');
      canvas.setAttribute('aria-label', `conv ${conv}, channel ${k}, ${site}`);
      fig.append(canvas, Object.assign(document.createElement('figcaption'), { textContent: `ch ${k}` }));
      row.append(fig);
    }
    g.append(title, row);
    return g;
  });
  $('cnn-maps').replaceChildren(...groups);
  $('cnn-maps-caption').textContent = `#${r.image} (a ${r.label}) · one heatmap per channel, one colour scale per row · channels numbered from 0; hover a map for its tensor's name`;
  $('cnn-maps').dataset.updates = String(Number($('cnn-maps').dataset.updates ?? 0) + 1);
  $('cnn-maps').dataset.image = String(r.image);
  const p = r.probabilities[r.predicted];
  $('cnn-summary').innerHTML = `${r.epoch === null ? '' : `<b>${epochWords(r.epoch)}</b>: `}test image <b>#${r.image}</b> is a <b>${r.label}</b>, ` +
    `predicted <b id="cnn-predicted">${r.predicted}</b> (p = ${p.toFixed(3)})${r.predicted === r.label ? '' : ' — wrong'} · model.forward on this image in the worker, ${(r.seconds * 1000).toFixed(0)} ms`;
  state.cnn = {
    epoch: r.epoch, image: r.image, label: r.label, predicted: r.predicted,
    filters: { shape: filters.shape, weights: Array.from(filters.weights), drawn: cells.length },
    maps: Object.fromEntries(maps.map((fm) => [fm.name, $('cnn-maps').querySelectorAll(`.map-group[data-name="${fm.name}"] figure`).length])),
  };
}

let cnnAsked = 0;
/** the filters and the chosen test digit's feature maps, from the worker (the latest request wins) */
async function exploreCnn(): Promise<void> {
  const image = Number(input('ex-image').value), epoch = explorerEpoch(), asked = ++cnnAsked;
  showDigit(image);
  $('cnn-summary').textContent = `feature maps of test image #${image}…`;
  try {
    const r = await ask({ op: 'cnn', image, epoch });
    if (asked === cnnAsked && state.model?.kind === 'cnn') showCnn(r);
  } catch (e) {
    $('cnn-summary').textContent = '';
    showError(`CNN explorer: ${(e as Error).message}`);
  }
}

async function project(): Promise<void> {
  const layer = Number(select('pca-layer').value), epoch = explorerEpoch();
  try {
    const r = await ask({ op: 'pca', layer, epoch });
    const ev = r.projection.explainedVarianceRatio ?? [];
    state.pca = { epoch: r.epoch, layer, target: r.target, points: r.projection.labels.length, explained: ev.slice(0, 2) };
    await draw('ex-pca', figureProjection(r.projection, `PCA of layer ${layer + 1} (${r.target})${r.epoch === null ? '' : `, ${epochWords(r.epoch)}`}, ${r.projection.labels.length} test images ` +
      `(${(100 * ((ev[0] ?? 0) + (ev[1] ?? 0))).toFixed(1)} % of the variance)`, { classes: 10 }));
  } catch (e) {
    showError(`PCA: ${(e as Error).message}`);
  }
}

// ---------- through training: the aligned PCA per epoch, the measures per epoch

/** the explorer's chosen epoch (ModelSummary.snapshots); undefined: the model as trained or uploaded */
function explorerEpoch(): number | undefined {
  const v = select('ex-epoch').value;
  return v === '' ? undefined : Number(v);
}

const epochWords = (e: number) => (e < 0 ? 'initial weights' : `after epoch ${e}`);
const epochShort = (e: number) => (e < 0 ? 'init' : `epoch ${e}`);

async function loadThrough(m: ModelSummary): Promise<void> {
  $('through').classList.remove('hidden');
  const layers = m.widths.map((w, k) => new Option(`layer ${k + 1} (${w} neurons)`, String(k)));
  select('tt-layer').replaceChildren(...layers);
  select('tt-layer').value = String(m.widths.length - 1);
  for (const id of ['tt-play', 'tt-epoch', 'tt-layer', 'tt-download']) ($(id) as HTMLInputElement).disabled = true;
  if (m.snapshots.length < 2) {
    $('tt-status').textContent = m.snapshotsNote ?? 'fewer than two epochs\' weights were kept: nothing to follow through training';
    return;
  }
  $('tt-status').textContent = `analysing the weights of ${m.snapshots.length} epochs…`;
  try {
    const r = await ask({ op: 'through' });
    if (state.model !== m) return; // a newer model meanwhile
    state.through = r;
    const t = r.timings, total = Object.values(t).reduce((a, b) => a + b, 0);
    $('tt-status').textContent = `${r.epochs.length} epochs (init, ${r.epochs.filter((e) => e >= 0).join(', ')}) on ${r.sample.rows.length} test images ` +
      `(${r.sample.perClass[0]} per class, seed ${r.sample.seed}) · ${total.toFixed(1)} s in the worker`;
    const slider = input('tt-epoch');
    slider.max = String(r.epochs.length - 1);
    slider.value = slider.max;
    for (const id of ['tt-play', 'tt-epoch', 'tt-layer', 'tt-download']) ($(id) as HTMLInputElement).disabled = false;
    $('tt-findings').replaceChildren(...r.findings.slice(0, 8).map((f) => Object.assign(document.createElement('li'), { textContent: f.text })));
    await drawThrough();
    // the report's figure (analysis/figures/through-training.ts): every layer, every pair of epochs
    await draw('tt-cka', figureCkaEpochs(r));
  } catch (e) {
    $('tt-status').textContent = '';
    showError(`through training: ${(e as Error).message}`);
  }
}

/** the aligned PCA of one layer at every epoch, showing the epoch of the signal `ep`; fixed axes over all epochs */
function alignedPcaSpec(r: ThroughTraining, layer: number, epoch: number): VegaLiteSpec {
  const values: Row[] = [];
  let lo = [Infinity, Infinity], hi = [-Infinity, -Infinity];
  r.perEpoch.forEach((pe) => pe.layers[layer].aligned.forEach(([x, y], i) => {
    values.push({ epoch: pe.epoch, row: r.sample.rows[i], digit: r.sample.labels[i], x: clean(x), y: clean(y) });
    if (Number.isFinite(x) && Number.isFinite(y)) {
      lo = [Math.min(lo[0], x), Math.min(lo[1], y)];
      hi = [Math.max(hi[0], x), Math.max(hi[1], y)];
    }
  }));
  const domain = (k: number) => {
    const pad = 0.04 * (hi[k] - lo[k] || 1);
    return Number.isFinite(lo[k]) ? [lo[k] - pad, hi[k] + pad] : [-1, 1];
  };
  // a phone: the chart as wide as the screen allows, the legend below it
  const narrow = window.innerWidth < 600, width = narrow ? Math.max(200, window.innerWidth - 110) : 440;
  const color = classColor(r.classes) as { legend: Record<string, unknown> };
  if (narrow) color.legend = { ...color.legend, orient: 'bottom', direction: 'horizontal', columns: 5, symbolSize: 60, labelFontSize: 11 };
  const title = narrow ? `PCA of layer ${layer + 1}, last epoch's axes` : `PCA of layer ${layer + 1} (layers.${layer}.post), ${r.sample.rows.length} test images, in the last epoch's axes`;
  return topLevel(title, values, {
    width, height: Math.round(width * 0.9),
    params: [{ name: 'ep', value: epoch }],
    transform: [{ filter: 'datum.epoch == ep' }],
    layer: [
      {
        mark: { type: 'circle', size: 16, opacity: 0.75, aria: false },
        encoding: {
          x: { field: 'x', type: 'quantitative', title: 'PC1 of the last epoch (rotated)', scale: { domain: domain(0), nice: false, zero: false } },
          y: { field: 'y', type: 'quantitative', title: 'PC2 of the last epoch (rotated)', scale: { domain: domain(1), nice: false, zero: false } },
          color,
          tooltip: [{ field: 'row', title: 'test row' }, { field: 'digit' }],
        },
      },
      {
        // the epoch shown, in the chart's corner (an image of the chart says which epoch it is)
        mark: { type: 'text', align: 'left', baseline: 'top', x: 6, y: 6, fontSize: 15, fontWeight: 'bold', color: '#1d2330', text: { expr: "ep < 0 ? 'init' : 'epoch ' + ep" } },
        data: { values: [{}] },
      },
    ],
  });
}

/** per epoch for one layer: the probe, the model's accuracy on the sample, the silhouette, CKA with the last epoch; a rule at `ep` */
function throughCurvesSpec(r: ThroughTraining, layer: number, epoch: number): VegaLiteSpec {
  const last = r.epochs.length - 1, values: Row[] = [];
  r.perEpoch.forEach((pe, e) => {
    const l = pe.layers[layer];
    values.push(
      { epoch: pe.epoch, measure: 'probe accuracy, held out', value: clean(l.probe.heldOutAccuracy / 100) },
      { epoch: pe.epoch, measure: 'model accuracy on the sample', value: clean(pe.sampleAccuracy / 100) },
      { epoch: pe.epoch, measure: 'silhouette of the classes', value: clean(l.silhouette) },
      { epoch: pe.epoch, measure: 'CKA with the last epoch', value: clean(r.ckaEpochs[layer][e][last]) },
    );
  });
  const width = window.innerWidth < 600 ? Math.max(200, window.innerWidth - 90) : 440;
  const x = { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1, labelExpr: "datum.value < 0 ? 'init' : datum.label" } };
  return topLevel(window.innerWidth < 600 ? `Layer ${layer + 1} through training` : `Layer ${layer + 1} through training (accuracies as fractions)`, values, {
    width, height: 260,
    params: [{ name: 'ep', value: epoch }],
    layer: [
      {
        mark: { type: 'line', point: { filled: true, size: 30 } },
        encoding: {
          x, y: { field: 'value', type: 'quantitative', title: null, scale: { domain: [Math.min(0, ...values.map((v) => (v.value as number) ?? 0)), 1] } },
          color: { field: 'measure', type: 'nominal', title: null, legend: { orient: 'bottom', columns: 2 } },
          tooltip: [{ field: 'epoch' }, { field: 'measure' }, { field: 'value', format: '.3f' }],
        },
      },
      { mark: { type: 'rule', color: '#888', strokeDash: [4, 3] }, encoding: { x: { datum: { expr: 'ep' }, type: 'quantitative' } } },
    ],
  });
}

/** draws both charts for the chosen layer at the slider's epoch */
async function drawThrough(): Promise<void> {
  const r = state.through;
  if (!r) return;
  const layer = Number(select('tt-layer').value), epoch = r.epochs[Number(input('tt-epoch').value)];
  await draw('tt-pca', alignedPcaSpec(r, layer, epoch));
  await draw('tt-curves', throughCurvesSpec(r, layer, epoch));
  await showThroughEpoch();
}

/** moves both charts to the slider's epoch (a signal change: no redraw of the specs) */
async function showThroughEpoch(): Promise<void> {
  const r = state.through;
  if (!r) return;
  const i = Number(input('tt-epoch').value), epoch = r.epochs[i];
  const text = `${epochShort(epoch)} (${i + 1} of ${r.epochs.length})`;
  $('tt-epoch-text').textContent = text;
  input('tt-epoch').setAttribute('aria-valuetext', text);
  for (const id of ['tt-pca', 'tt-curves']) {
    const v = views.get(id)?.view;
    if (v) await v.signal('ep', epoch).runAsync();
  }
  state.throughEpoch = epoch;
  $('tt-pca').dataset.epoch = String(epoch);
}

let playing: ReturnType<typeof setInterval> | null = null;
function pause(): void {
  if (playing !== null) clearInterval(playing);
  playing = null;
  const b = $('tt-play');
  b.textContent = 'Play';
  b.setAttribute('aria-pressed', 'false');
}
function play(): void {
  const slider = input('tt-epoch');
  if (Number(slider.value) >= Number(slider.max)) slider.value = '0';
  void showThroughEpoch();
  const b = $('tt-play');
  b.textContent = 'Pause';
  b.setAttribute('aria-pressed', 'true');
  playing = setInterval(() => {
    if (Number(slider.value) >= Number(slider.max)) { pause(); return; }
    slider.value = String(Number(slider.value) + 1);
    void showThroughEpoch();
  }, 600);
}

// ---------- downloads

function save(f: FileResult): void {
  const url = URL.createObjectURL(new Blob([f.bytes as Uint8Array<ArrayBuffer>], { type: f.mime }));
  const a = Object.assign(document.createElement('a'), { href: url, download: f.name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

async function download(kind: 'model' | 'results' | 'report', epoch?: number): Promise<void> {
  const el = $(epoch === undefined ? 'dl-status' : 'tt-dl-status');
  el.textContent = kind === 'model' ? 'exporting…' : 'running the analyses and writing the file…';
  try {
    const f = await ask({ op: 'file', kind, epoch });
    save(f);
    el.textContent = `${f.name}: ${(f.bytes.length / 1024).toFixed(0)} KiB (${f.seconds.toFixed(1)} s)`;
  } catch (e) {
    el.textContent = '';
    showError(`download: ${(e as Error).message}`);
  }
}

// ---------- kernel timings (bench/kernels.js's benchmark, run in the worker)

const fmt = (x: number | undefined | null, d = 2) => (x === undefined || x === null || !Number.isFinite(x) ? '' : x.toFixed(d));

function showKernels(r: KernelResults): void {
  const a = r.adapter;
  const name = a ? ((!/^\d*$/.test(a.device) && a.device) || a.description || `${a.vendor} ${a.architecture}`.trim()) : '';
  $('kt-summary').textContent = (a ? `${name} (${a.backend}, ${a.featureLevel}${a.software ? ', software' : ''})` : 'no WebGPU adapter: CPU rows only') +
    ` · ceilings: copy ${fmt(r.ceilings.copyGBps)} GB/s, best matmul ${fmt(r.ceilings.matmulGFlops)} GFLOP/s (${r.ceilings.matmulBest ?? '-'})` +
    ` · ${r.timing}` + r.notes.map((n) => ` · ${n}`).join('');
  const rows = r.rows.map((x) => {
    const tr = document.createElement('tr');
    const rate = x.gflops !== undefined ? `${fmt(x.gflops)} GFLOP/s` : x.gbps !== undefined ? `${fmt(x.gbps)} GB/s` : '';
    // how the row was timed: GPU timestamps (with the wall clock of the same calls) or the wall clock
    const by = x.skipped ? '' : x.timing === 'timestamp' ? `GPU timestamps (wall ${fmt(x.wallMs, 3)} ms)` : 'wall clock';
    const cells = [x.op, x.shape, x.impl === 'cpu' ? 'cpu' : [x.impl, x.variant].filter(Boolean).join(' '),
      x.skipped ? `skipped: ${x.skipped}` : fmt(x.ms, 3), rate, x.ofCeiling === undefined ? '' : `${(x.ofCeiling * 100).toFixed(0)} %`, by];
    for (const [i, c] of cells.entries()) tr.append(Object.assign(document.createElement(i < 3 ? 'th' : 'td'), { textContent: c }));
    return tr;
  });
  $('kt-table').querySelector('tbody')!.replaceChildren(...rows);
  $('kt-table').classList.remove('hidden');
  $('kt-download').classList.remove('hidden');
}

async function runKernelTimings(): Promise<void> {
  const go = $<HTMLButtonElement>('kt-go');
  go.disabled = true;
  $('kt-status').textContent = 'timing… (quick: seconds; full: minutes on a software adapter)';
  const t0 = performance.now();
  try {
    const r = await ask({ op: 'kernels', quick: input('kt-quick').checked });
    state.kernels = r;
    showKernels(r);
    $('kt-status').textContent = `${r.rows.length} rows in ${((performance.now() - t0) / 1000).toFixed(1)} s`;
  } catch (e) {
    $('kt-status').textContent = '';
    showError(`kernel timings: ${(e as Error).message}`);
  } finally { go.disabled = false; }
}

// ---------- start

$('config-form').addEventListener('submit', (e) => void startTraining(e));
$('stop').addEventListener('click', () => { void ask({ op: 'stop' }).then(() => setStatus('stopping after this epoch…')); });
input('upload').addEventListener('change', () => void upload());
$('ex-go').addEventListener('click', () => void explore());
$('ex-random').addEventListener('click', () => {
  input('ex-image').value = String(Math.floor(Math.random() * (test?.count ?? 10000)));
  showDigit(Number(input('ex-image').value));
  if (state.model?.kind === 'cnn') void exploreCnn();
});
// a CNN's feature maps follow the chosen digit at once (one forward pass); the MLP's explorer waits for Explore
input('ex-image').addEventListener('change', () => {
  showDigit(Number(input('ex-image').value));
  if (state.model?.kind === 'cnn') void exploreCnn();
});
select('cfg-arch').addEventListener('change', archChanged);
input('cfg-spec').addEventListener('input', () => void checkSpec());
select('ex-layer').addEventListener('change', () => {
  const w = state.model?.widths[Number(select('ex-layer').value)] ?? 1;
  input('ex-neuron').max = String(w - 1);
  if (Number(input('ex-neuron').value) >= w) input('ex-neuron').value = '0';
});
$('pca-go').addEventListener('click', () => void project());
// another epoch's weights: what is on show is answered again for them
select('ex-epoch').addEventListener('change', () => {
  void (async () => {
    if (state.model?.kind === 'cnn') { await exploreCnn(); return; }
    if (state.neuron) await explore();
    if (state.pca) await project();
  })();
});
$('tt-play').addEventListener('click', () => { if (playing === null) play(); else pause(); });
// dragging (or the arrow keys, Home, End) pauses the animation and shows that epoch
input('tt-epoch').addEventListener('input', () => { pause(); void showThroughEpoch(); });
select('tt-layer').addEventListener('change', () => void drawThrough());
// the through-training charts are sized to the window: drawn again when it changes width
let resized: ReturnType<typeof setTimeout> | undefined, drawnWidth = window.innerWidth;
window.addEventListener('resize', () => {
  clearTimeout(resized);
  resized = setTimeout(() => {
    if (window.innerWidth === drawnWidth) return;
    drawnWidth = window.innerWidth;
    void drawThrough();
  }, 250);
});
$('tt-download').addEventListener('click', () => {
  const r = state.through;
  if (r) void download('model', r.epochs[Number(input('tt-epoch').value)]);
});
select('heatmap-layer').addEventListener('change', () => drawLive());
$('dl-model').addEventListener('click', () => void download('model'));
$('dl-results').addEventListener('click', () => void download('results'));
$('dl-report').addEventListener('click', () => void download('report'));
$('kt-go').addEventListener('click', () => void runKernelTimings());
$('kt-download').addEventListener('click', () => {
  if (!state.kernels) return;
  // the CLI's --out format: `node bench/kernels-compare.js node.json kernels.json` compares them
  save({ name: 'kernels.json', mime: 'application/json', bytes: new TextEncoder().encode(JSON.stringify(state.kernels, null, 2) + '\n'), seconds: 0 });
});

(async () => {
  try {
    const d = await ask({ op: 'load' });
    const { testImages, testLabels, ...rest } = d;
    state.data = rest;
    test = { images: testImages, labels: testLabels, rows: d.rows, cols: d.cols, count: d.testCount };
    setBusy(false);
    archChanged();
    showDigit(Number(input('ex-image').value));
    // Vega's first chart costs the most (its code warming up): draw one out of sight now, not mid-training
    const scratch = Object.assign(document.createElement('div'), { className: 'hidden' });
    document.body.append(scratch);
    const warm = await embed(scratch, figureTrainingCurves([{ epoch: 0, trainLoss: 1, trainAccuracy: 50, testLoss: 1, testAccuracy: 50, samples: 1, steps: 1, seconds: 0 }]) as never, { actions: false, renderer: 'canvas' });
    warm.finalize();
    scratch.remove();
    document.body.dataset.ready = '1';
  } catch (e) {
    showError(`could not load MNIST: ${(e as Error).message}`);
  }
})();
