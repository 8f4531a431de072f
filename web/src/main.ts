// the page: configuration, live charts while the worker trains, the neuron explorer, downloads and the
// upload of a saved model. Charts are the report's Vega-Lite figure functions (analysis/figures),
// drawn with vega-embed; all computing happens in the worker (worker.ts), so the page only draws.
import embed, { type Result as EmbedResult } from 'vega-embed';
import { drift } from '../../analysis/drift.ts';
import type { EpochStats } from '../../analysis/epoch-stats.ts';
import { figureConfusion, type ImageSource } from '../../analysis/figures/accuracy.ts';
import {
  figureActivationHistograms, figureHiddenDrift, figureNeuronHeatmap,
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
import { fitSpec, namingOf, plainTensor, renames, renameSpec, type Naming } from './fit.ts';
import { applyValues, fromQuery, matchPreset, persist, PRESETS, presetValues, readValues, stored } from './settings.ts';
import { curvesSpec, LiveCurves } from './live.ts';
import { FrameMonitor } from './frames.ts';
import { detectAdapter, recommend, type AdapterReport, type Recommendation } from './adapter.ts';
import { initNetwork } from './network-panel.ts';
import { diverging, heatCanvas, maxAbs, short } from './colours.ts';
import type {
  CnnReport, DataSummary, DeviceDescription, FileResult, ModelSummary, NeuronReport, Replies, Reply, Request, WebConfig, WorkerEvent, PausedRun, TrainMode,
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
  /** a run paused at an epoch's end (the worker keeps its checkpoint): its settings stay locked; Play or Step continue it */
  paused: null as PausedRun | null,
  /** longest gap between two 50 ms heartbeats of the main thread while training (ms) */
  longestGap: 0,
  /** the longest draw of each chart so far (ms of vega-embed, parse to first render) */
  drawMs: {} as Record<string, number>,
  errors: [] as string[],
  /** the last kernel benchmark's results (the downloadable kernels.json) */
  kernels: null as KernelResults | null,
  /** how the layers are named on the page (the architecture training or explored) */
  naming: { kind: 'mlp', convs: 0 } as Naming,
  /** the charts drawn twice because the first fit was still too wide for the card (id → times) */
  refits: {} as Record<string, number>,
  /** each chart's spec as drawn (renamed and fitted to its card) */
  specs: {} as Record<string, VegaLiteSpec>,
  /** the progress line: elapsed and estimated seconds left (null: no estimate yet) */
  progress: { text: '', elapsed: 0, left: null as number | null, finishing: false },
  /** the developer panels are shown (?dev=1 or the developer switch) */
  dev: false,
};
(globalThis as unknown as { mlpLens: typeof state }).mlpLens = state;

let test: ImageSource & { labels: Uint8Array } | null = null;

/** the Network section (web/src/network-panel.ts): the network view, one digit through every layer, the first layer's weights as images */
const network = initNetwork({
  worker, state, view: (image, epoch) => ask({ op: 'network', image, epoch }), test: () => test, naming: () => state.naming, epoch: () => explorerEpoch(),
});

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
/**
 * just after the next frame is painted (a task queued from its requestAnimationFrame callback), so each
 * chart's draw has a frame to itself; a hidden page, which paints no frames, goes on after a timer
 */
const nextFrame = () => new Promise<void>((ok) => {
  if (document.hidden) { setTimeout(ok, 0); return; }
  requestAnimationFrame(() => setTimeout(ok, 0));
  setTimeout(ok, 1000);
});

/** a chart's spec as fitted, but for its data: a chart whose shape is unchanged takes new data into its view (no re-embed) */
const shapes = new Map<string, string>();
const shapeOf = (spec: VegaLiteSpec) => JSON.stringify({ ...(spec as object), data: undefined, datasets: undefined, usermeta: undefined });
/** the spec with its inline data named (the view's data set to replace), and that data */
function namedData(spec: VegaLiteSpec): { spec: VegaLiteSpec; name: string; rows: unknown[] } | null {
  const s = spec as { data?: { name?: string; values?: unknown[] }; datasets?: Record<string, unknown[]> };
  if (s.data?.name && s.datasets?.[s.data.name]) return { spec, name: s.data.name, rows: s.datasets[s.data.name] };
  if (!Array.isArray(s.data?.values)) return null;
  return { spec: { ...(spec as object), data: { ...s.data, name: s.data.name ?? 'table' } } as VegaLiteSpec, name: s.data.name ?? 'table', rows: s.data.values };
}

/** what each chart was last asked to draw (redrawn, refitted, when the window changes width) */
const sources = new Map<string, { spec: VegaLiteSpec; about: string }>();
/** the live charts' placeholders as the page starts with them (Reset brings them back) */
const LIVE_PLACEHOLDERS = new Map(['chart-curves', 'chart-drift', 'chart-hist', 'chart-heatmap'].map((id) => [id, document.getElementById(id)!.innerHTML]));

/** the tensor names the page renames (every site of up to 16 layers, and the output) */
const TENSORS = Array.from({ length: 16 }, (_, k) => ['pre', 'post', 'pool'].map((s) => `layers.${k}.${s}`)).flat();
const plain = (name: string) => plainTensor(name, state.naming);
/** a tensor's plain name with its canonical name in a tooltip (HTML) */
const tensorHtml = (name: string) => `<span class="tensor" title="${escapeHtml(name)}">${escapeHtml(plain(name))}</span>`;

const titleOf = (spec: VegaLiteSpec): string => {
  const t = (spec as { title?: unknown }).title;
  const text = typeof t === 'object' && t !== null && !Array.isArray(t) ? (t as { text?: unknown }).text : t;
  return Array.isArray(text) ? text.join(' ') : typeof text === 'string' ? text : '';
};
const withTitle = (spec: VegaLiteSpec, title: string): VegaLiteSpec => ({ ...spec, title } as VegaLiteSpec);

/** the width a chart's card offers (a hidden card: what its grid column will) */
function cardWidth(el: HTMLElement): number {
  if (el.clientWidth > 0) return el.clientWidth;
  const page = Math.min(window.innerWidth, 1500) - (window.innerWidth <= 700 ? 16 + 22 : 48 + 34);
  return el.classList.contains('wide') || window.innerWidth < 1000 ? page : Math.floor((page - 12) / 2);
}

/**
 * draws `spec` into #id, replacing what was there: the layers named plainly, the spec fitted to the card,
 * the canvas an image named by the chart's title and `about` (what it shows); counts the updates in data-updates
 */
async function draw(id: string, spec: VegaLiteSpec, about = '', refit = false): Promise<void> {
  // the loss curves take running points by insertion between full draws (web/src/live.ts): it is told of each draw
  if (id === 'chart-curves') return live.whileDrawing(spec, () => drawChart(id, spec, about, refit));
  return drawChart(id, spec, about, refit);
}

async function drawChart(id: string, spec: VegaLiteSpec, about: string, refit: boolean): Promise<void> {
  await nextFrame();
  const el = $(id);
  sources.set(id, { spec, about });
  const width = cardWidth(el), named = renameSpec(spec, renames(TENSORS, state.naming));
  let fitted = fitSpec(named, width);
  const t0 = performance.now();
  let target: HTMLDivElement, r: EmbedResult;
  const data = namedData(fitted), shape = shapeOf(fitted), current = views.get(id);
  if (data) fitted = data.spec;
  if (!refit && data && current && shapes.get(id) === shape && el.firstElementChild) {
    // the same chart with new data (the next epoch's): its data set replaced in the view, no Vega-Lite compile or new view
    r = current;
    target = el.firstElementChild as HTMLDivElement;
    await r.view.data(data.name, data.rows).resize().runAsync();
    el.dataset.dataUpdates = String(Number(el.dataset.dataUpdates ?? 0) + 1);
    // the spec the view holds (narrowed once if it was) with the new data
    const f = fitted as { data?: unknown; datasets?: unknown; usermeta?: unknown };
    fitted = { ...(state.specs[id] as object ?? {}), data: f.data, datasets: f.datasets, usermeta: f.usermeta } as VegaLiteSpec;
  } else for (let attempt = 0; ; attempt++) {
    views.get(id)?.finalize();
    el.replaceChildren();
    target = document.createElement('div');
    el.append(target);
    r = await embed(target, fitted as never, { actions: { export: true, source: false, compiled: false, editor: false }, renderer: 'canvas' });
    views.set(id, r);
    // still wider than its card (wide legends, long labels): once more, narrower and each legend in one column
    const natural = parseFloat(target.querySelector('canvas')?.style.width ?? '0');
    if (attempt > 0 || !(natural > width - 40 + 1)) break;
    state.refits[id] = (state.refits[id] ?? 0) + 1;
    fitted = fitSpec(named, Math.round(width - (natural - (width - 40)) / 2), { legendColumns: 1 });
    const again = namedData(fitted);
    if (again) fitted = again.spec;
  }
  shapes.set(id, shape);
  state.specs[id] = fitted;
  state.drawMs[id] = Math.max(state.drawMs[id] ?? 0, Math.round(performance.now() - t0));
  const canvas = target.querySelector('canvas');
  if (canvas) {
    canvas.setAttribute('role', 'img');
    canvas.setAttribute('aria-label', `${titleOf(fitted)}${about ? `. ${about}` : ''}`);
  }
  el.dataset.width = String(width);
  // a refit to a new window width is the same chart: not counted as an update
  if (!refit) el.dataset.updates = String(Number(el.dataset.updates ?? 0) + 1);
}

/** epochs as people count them: the first is epoch 1 (the run's files count from 0) */
const fromOne = <T extends { epoch: number }>(rows: readonly T[]): T[] => rows.map((r) => ({ ...r, epoch: r.epoch + 1 }));

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

/** the loss and accuracy chart: every epoch's points and the running points within each epoch so far (web/src/live.ts) */
async function drawCurves(): Promise<void> {
  const history = fromOne(state.history), last = history[history.length - 1], running = live.points.length;
  const span = (n: number) => (n === 1 ? 'epoch 1' : `epochs 1 to ${n}`);
  const about = last
    ? `Line charts of the training and test loss and accuracy per epoch, ${span(history.length)}; test accuracy after epoch ${last.epoch}: ${last.testAccuracy.toFixed(2)} %` +
      (running ? '; the thinner line: the running training loss and accuracy within each epoch' : '')
    : 'Line charts of the running training loss and accuracy within the first epoch, as it trains';
  await draw('chart-curves', live.spec(history), about);
  if (history.length) $('chart-curves').dataset.epochs = String(history.length);
}

/** the running points' way onto the chart: inserted into the drawn view at most once a frame, a full draw when there is none */
const live = new LiveCurves({
  view: () => views.get('chart-curves')?.view as never,
  redraw: () => { drawing = drawing.then(drawCurves).catch((e: Error) => showError(`drawing failed: ${e.message}`)); },
  shown: (count, p) => {
    const el = $('chart-curves');
    el.dataset.live = String(count);
    const canvas = el.querySelector('canvas');
    if (!p || !canvas) return;
    canvas.setAttribute('aria-label', `${titleOf(state.specs['chart-curves'] ?? ({} as VegaLiteSpec))}. ${sources.get('chart-curves')?.about ?? ''}; ` +
      `running training loss ${p.loss.toFixed(4)} and accuracy ${p.accuracy.toFixed(2)} % after step ${p.step} of ${p.steps} of epoch ${p.epoch + 1}`);
  },
});
/** the page's frame gaps while training (requestAnimationFrame; web/src/frames.ts), from the first step on */
const frames = new FrameMonitor();
Object.defineProperty(state, 'frames', { get: () => frames.get(), enumerable: true });
Object.defineProperty(state, 'live', {
  get: () => ({ points: live.points, firstShownMs: live.firstShownMs, inserts: live.inserts, draws: live.draws, run: live.run }), enumerable: true,
});

let drawing = Promise.resolve();
/** redraws the live charts from the epochs so far (one redraw at a time; a newer epoch wins) */
function drawLive(): void {
  drawing = drawing.then(async () => {
    const history = fromOne(state.history), stats = fromOne(state.stats);
    const span = (n: number) => (n === 1 ? 'epoch 1' : `epochs 1 to ${n}`);
    if (history.length) await drawCurves();
    if (stats.length) {
      const d = drift(stats), posts = hiddenLayers(stats);
      const tensors = posts.flatMap((p) => [p.replace('.post', '.pre'), ...(stats[0].acts[p.replace('.post', '.pool')] ? [p, p.replace('.post', '.pool')] : [p])]).concat('logits');
      await draw('chart-drift', withPoints(figureHiddenDrift(d, posts), stats.length),
        `Line chart of the mean and standard deviation of each hidden layer's activations over all training samples, ${span(stats.length)}: ${posts.map(plain).join('; ')}`);
      await draw('chart-hist', figureActivationHistograms(stats, tensors),
        `Histograms of the activations of the first mini-batch of an epoch, one panel per tensor: ${tensors.map(plain).join('; ')}`);
      const layerSel = select('heatmap-layer');
      if (layerSel.options.length !== posts.length || layerSel.options[0]?.value !== posts[0]) {
        layerSel.replaceChildren(...posts.map((p) => Object.assign(new Option(plain(p), p), { title: p })));
        layerSel.value = posts[0];
      }
      layerSel.title = layerSel.value;
      const shown = layerSel.value || posts[0];
      await draw('chart-heatmap', figureNeuronHeatmap(d, shown), `Heatmap of the mean activation of each neuron of ${plain(shown)} (${shown}) per epoch, ${span(stats.length)}` +
        (state.model?.kind === 'cnn' || stats[0].acts[shown.replace('.post', '.pool')] ? '' : '; click a cell to explore that neuron'));
      linkHeatmap();
      for (const id of ['chart-drift', 'chart-hist', 'chart-heatmap']) $(id).dataset.epochs = String(stats.length);
    }
  }).catch((e: Error) => showError(`drawing failed: ${e.message}`));
}

// the drawn charts' Vega views, for the tests (a heatmap cell found in its scenegraph and clicked)
(globalThis as unknown as { mlpLensViews: typeof views }).mlpLensViews = views;

/** the live heatmap's views that answer a click (a view keeps its listener through data updates) */
const linked = new WeakSet<object>();

/**
 * a click on a cell of the live heatmap explores that neuron (the Network section's pick: outlined there,
 * the explorer's fields set); an MLP's layers only (the neuron explorer takes an MLP; a CNN's channels
 * are picked in the network view)
 */
function linkHeatmap(): void {
  const r = views.get('chart-heatmap');
  if (!r || linked.has(r.view)) return;
  linked.add(r.view);
  r.view.addEventListener('click', (_e, item) => {
    const neuron = (item?.datum as { neuron?: unknown } | undefined)?.neuron;
    const m = /^layers\.(\d+)\.post$/.exec(select('heatmap-layer').value);
    if (typeof neuron !== 'number' || !m || state.data === null || isCnnRun()) return;
    network.pick({ kind: 'neuron', layer: Number(m[1]), unit: neuron });
  });
}

/** whether the run whose charts are shown is a CNN's */
const isCnnRun = () => (state.model ? state.model.kind === 'cnn' : readConfig().arch !== undefined);

function addEpochRow(m: EpochMetrics): void {
  const t = $('epochs');
  t.classList.remove('hidden');
  const tr = document.createElement('tr');
  for (const v of [String(m.epoch + 1), m.trainLoss.toFixed(4), m.trainAccuracy.toFixed(2), m.testLoss.toFixed(4), m.testAccuracy.toFixed(2), m.seconds.toFixed(1)]) {
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
      if (!run.active) break;
      if (!run.firstStepAt) run.firstStepAt = performance.now();
      // the frame gaps count from the first step on (the worker's set-up before it is not training)
      frames.start();
      Object.assign(run, { epoch: e.epoch, step: e.step, steps: e.steps, epochs: e.epochs });
      const p = $<HTMLProgressElement>('progress');
      p.max = e.steps * e.epochs;
      p.value = e.epoch * e.steps + e.step;
      showProgress();
      break;
    }
    case 'epoch': {
      state.history.push(e.metrics);
      if (e.stats) state.stats.push(e.stats);
      run.done = e.metrics.epoch + 1;
      run.lastEpochAt = performance.now();
      showProgress();
      addEpochRow(e.metrics);
      drawLive();
      break;
    }
    case 'live': {
      if (run.active) live.add(e.point);
      showProgress();
      break;
    }
  }
}

// ---------- progress: steps, epochs, elapsed time and an estimate of the time left

/** the run in progress, as the worker's events tell it (epochs counted from 0 here, shown from 1) */
const run = {
  active: false, t0: 0, firstStepAt: 0, epoch: 0, step: 0, steps: 0, epochs: 0, done: 0, lastEpochAt: 0,
  /** the run can be paused (it has a checkpoint: no normalisation or dropout), and a pause was asked */
  pausable: false, pauseAsked: false, pausedAt: 0,
};

const duration = (s: number) => (s < 60 ? `${Math.round(s)} s` : `${Math.floor(s / 60)} min ${String(Math.round(s % 60)).padStart(2, '0')} s`);

/** seconds left: from the finished epochs' pace, or (CPU backend, first epoch) from the steps'; null before either says */
function timeLeft(now: number): number | null {
  const elapsed = (now - run.t0) / 1000;
  if (run.done >= 1) return Math.max(0, ((run.lastEpochAt - run.t0) / 1000 / run.done) * run.epochs - elapsed);
  // on WebGPU the steps are queued ahead of the device: their count says nothing of the time
  if (state.device?.backend === 'cpu' && run.step > 0 && run.firstStepAt) {
    const done = run.epoch * run.steps + run.step, total = run.steps * run.epochs;
    return ((now - run.firstStepAt) / 1000) * (total - done) / done;
  }
  return null;
}

function showProgress(): void {
  if (!run.active) return;
  $('progress-line').classList.remove('hidden');
  const now = performance.now(), elapsed = (now - run.t0) / 1000, left = timeLeft(now);
  // the device is still working on the epoch whose steps were all queued (WebGPU): said until that epoch's metrics come
  const finishing = run.steps > 0 && run.step === run.steps && run.done < run.epoch + 1;
  let text: string;
  if (!run.steps) text = run.epochs ? `starting ${run.epochs} epoch${run.epochs === 1 ? '' : 's'}…` : 'starting…';
  else if (finishing) {
    // the device's own progress: the steps its last running point was read after (web/src/live-steps.ts)
    const gpu = live.points[live.points.length - 1], done = gpu?.source === 'device' && gpu.epoch === run.epoch ? ` (${gpu.step} done)` : '';
    text = `epoch ${run.epoch + 1} of ${run.epochs}: all ${run.steps} steps ${state.device?.backend === 'webgpu' ? `queued; the GPU is finishing the epoch${done}` : 'done; measuring the epoch'}`;
  } else if (run.done === run.epoch + 1) text = `epoch ${run.done} of ${run.epochs} done`;
  else text = `epoch ${run.epoch + 1} of ${run.epochs}, step ${run.step} of ${run.steps}`;
  const time = `· elapsed ${duration(elapsed)} · ${left === null ? 'time left: estimated after the first epoch' : `about ${duration(left)} left`}`;
  $('progress-text').textContent = text;
  $('progress-time').textContent = time;
  state.progress = { text: `${text} ${time}`, elapsed, left, finishing };
}

/** the run's end: the line says what was done, nothing about the device still working */
function endProgress(summary: ModelSummary | null): void {
  run.active = false;
  const elapsed = (performance.now() - run.t0) / 1000;
  const n = summary?.history.length ?? run.done;
  $('progress-text').textContent = summary
    ? `done: ${n} epoch${n === 1 ? '' : 's'}${summary.stopped ? ' (stopped early)' : ''}`
    : `ended after ${n} epoch${n === 1 ? '' : 's'}`;
  $('progress-time').textContent = `· ${duration(elapsed)} in all`;
  state.progress = { text: `${$('progress-text').textContent} ${$('progress-time').textContent}`, elapsed, left: 0, finishing: false };
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

const LOCKED_TRAINING = 'settings are locked while the model trains: they apply to the next run (Stop ends this one after its epoch)';
const LOCKED_PAUSED = 'settings are locked while the run is paused: they belong to it (Reset discards it)';
const NO_PAUSE = 'a run with normalisation or dropout cannot be paused (its checkpoint would not hold that state): Stop ends it';

/**
 * locks the settings (and says why) while the worker trains or reads a model, or while a run is paused;
 * the run's buttons follow: Train and Step start a run, Pause and Stop end the running epoch, Play and
 * Step continue a paused run, Reset discards the run or the model
 */
function setBusy(busy: boolean, why = '', training = false): void {
  state.training = busy;
  const paused = !!state.paused, locked = busy || paused;
  if (paused && !busy) why = LOCKED_PAUSED;
  $<HTMLFieldSetElement>('cfg-fields').disabled = locked;
  $('cfg-locked').textContent = why;
  $('cfg-locked').classList.toggle('hidden', !locked || !why);
  $('cfg-fields').title = locked ? why : '';
  $<HTMLButtonElement>('train').disabled = locked || !state.data;
  input('upload').disabled = locked || !state.data;
  $<HTMLButtonElement>('stop').disabled = !busy || !training;
  const pause = $<HTMLButtonElement>('pause');
  pause.disabled = !(busy && training && run.pausable && !run.pauseAsked);
  pause.title = busy && training && !run.pausable ? NO_PAUSE : '';
  $<HTMLButtonElement>('play').disabled = busy || !paused;
  $<HTMLButtonElement>('step').disabled = busy || !state.data;
  $<HTMLButtonElement>('reset').disabled = busy || !(paused || state.model || state.history.length || run.done);
  $('run-controls').dataset.state = busy ? (training ? 'running' : 'busy') : paused ? 'paused' : state.model ? 'done' : 'idle';
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
    sources.delete(id);
    $(id).replaceChildren();
  }
  for (const id of ['cnn-summary', 'cnn-filters', 'cnn-maps', 'cnn-filters-caption', 'cnn-maps-caption']) $(id).replaceChildren();
  for (const id of ['ex-summary', 'ex-picks', 'ex-onehot-caption', 'dl-status', 'tt-status', 'tt-dl-status', 'tt-findings', 'tt-epoch-text']) $(id).replaceChildren();
  $('ex-onehot').classList.add('hidden');
  $('ex-onehot-block').classList.add('hidden');
  $('ex-health').replaceChildren();
  $('ex-health').className = 'health';
  $('explorer').classList.add('hidden');
  $('through').classList.add('hidden');
  $('downloads').classList.add('hidden');
  network.reset();
}

/** the main thread's heartbeat: the longest gap between 50 ms ticks while the worker trains */
function heartbeat(): () => void {
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    state.longestGap = Math.max(state.longestGap, now - last - 50);
    last = now;
    const f = frames.get();
    $('heartbeat').textContent = `· longest frame gap ${f.longest} ms over ${f.frames} frames (requestAnimationFrame, from the first step) · ` +
      `main thread's longest timer stall ${Math.max(0, state.longestGap).toFixed(0)} ms`;
    showProgress();
  }, 50);
  return () => clearInterval(timer);
}

/** a run can be paused where the session hands over a checkpoint: a CNN, or an MLP without normalisation or dropout */
const pausable = (c: WebConfig) => c.arch !== undefined ||
  (c.norm.input === 'none' && c.norm.layernorm === 'none' && c.norm.batchnorm === 'none' && !c.norm.dropout);

/** a new run: to the end (Train), or its first epoch and then paused (Step) */
async function startTraining(ev: Event | null, mode: TrainMode = 'play'): Promise<void> {
  ev?.preventDefault();
  if (state.training || state.paused) return;
  let cfg: WebConfig;
  try { cfg = readConfig(); } catch (e) { showError((e as Error).message); return; }
  resetLive();
  state.naming = namingOf(cfg.arch ?? `mlp:${cfg.hidden.join(',')}`);
  Object.assign(run, {
    active: true, t0: performance.now(), firstStepAt: 0, epoch: 0, step: 0, steps: 0, epochs: cfg.epochs, done: 0, lastEpochAt: 0,
    pausable: pausable(cfg), pauseAsked: mode === 'step', pausedAt: 0,
  });
  frames.reset();
  live.newRun(run.t0);
  delete $('chart-curves').dataset.live;
  showProgress();
  await trainRun(ask({ op: 'train', config: cfg, mode }));
}

/** the paused run continues from its checkpoint: to the end (Play) or for one epoch (Step); the charts go on */
async function continueRun(mode: TrainMode): Promise<void> {
  if (state.training || !state.paused) return;
  // the time paused is not the run's: the elapsed time and the estimate go on from where they stopped
  const shift = performance.now() - run.pausedAt;
  run.t0 += shift;
  run.lastEpochAt += shift;
  if (run.firstStepAt) run.firstStepAt += shift;
  Object.assign(run, { active: true, pauseAsked: mode === 'step' });
  state.paused = null;
  showProgress();
  await trainRun(ask({ op: 'resume', mode }));
}

/** the worker trains: settings locked until it answers a model (the run's end) or a paused run */
async function trainRun(reply: Promise<ModelSummary | PausedRun>): Promise<void> {
  setBusy(true, LOCKED_TRAINING, true);
  const stopBeat = heartbeat();
  let summary: ModelSummary | null = null;
  try {
    const r = await reply;
    await drawing;
    // the last epoch's charts are drawn: the frame gaps of the run are measured
    frames.stop();
    if ('paused' in r) pausedAt(r);
    else {
      summary = r;
      endProgress(summary);
      modelReady(summary);
    }
  } catch (e) {
    showError(`training failed: ${(e as Error).message}`);
  } finally {
    if (run.active) endProgress(summary);
    frames.stop();
    stopBeat();
    setBusy(false);
  }
}

/** paused at an epoch's end: the line says where, and what Play and Step do */
function pausedAt(r: PausedRun): void {
  state.paused = r;
  Object.assign(run, { active: false, pauseAsked: false, pausedAt: performance.now() });
  $('progress-line').classList.remove('hidden');
  $('progress-text').textContent = `paused after epoch ${r.epoch + 1} of ${r.epochs}`;
  $('progress-time').textContent = `· ${duration(r.seconds)} of training so far · Play continues, Step trains one more epoch, Reset discards the run`;
  state.progress = { text: `${$('progress-text').textContent} ${$('progress-time').textContent}`, elapsed: r.seconds, left: null, finishing: false };
}

/** back to the untrained state: the paused run or the model discarded, the charts emptied, the settings unlocked */
async function resetRun(): Promise<void> {
  if (state.training) return;
  try { await ask({ op: 'reset' }); } catch (e) { showError(`reset failed: ${(e as Error).message}`); return; }
  state.paused = null;
  resetLive();
  Object.assign(run, { active: false, done: 0, pauseAsked: false });
  $('progress-line').classList.add('hidden');
  for (const [id, html] of LIVE_PLACEHOLDERS) {
    views.get(id)?.finalize();
    views.delete(id);
    sources.delete(id);
    $(id).innerHTML = html;
    $(id).removeAttribute('data-epochs');
  }
  setBusy(false);
}

/** asks before a model on the page is replaced by an uploaded file: true to replace it */
function confirmReplace(name: string): Promise<boolean> {
  const m = state.model!, d = $<HTMLDialogElement>('upload-dialog');
  $('upload-question').textContent = `Replace the ${m.source === 'trained' ? 'model trained here' : 'uploaded model'} (${m.name}, test accuracy ` +
    `${m.test.accuracy.toFixed(2)} %) with ${name}? Its charts and explorer give way to the file's model (download model.safetensors first to keep it). ` +
    'A file that cannot be read changes nothing.';
  d.returnValue = '';
  d.showModal();
  return new Promise((ok) => d.addEventListener('close', () => ok(d.returnValue === 'replace'), { once: true }));
}

async function upload(): Promise<void> {
  const file = input('upload').files?.[0];
  if (!file) return;
  if (state.model && !(await confirmReplace(file.name))) {
    input('upload').value = '';
    setStatus(`${file.name} not read: the current model is kept`);
    return;
  }
  setBusy(true, `settings are locked while ${file.name} is read`);
  try {
    const bytes = new Uint8Array(await file.arrayBuffer());
    // the worker keeps its model until the file has been read as one: a bad file changes nothing here either
    const summary = await ask({ op: 'upload', name: file.name, bytes }, [bytes.buffer]);
    resetLive();
    run.active = false;
    $('progress-line').classList.add('hidden');
    for (const id of ['chart-curves', 'chart-drift', 'chart-hist', 'chart-heatmap']) {
      views.get(id)?.finalize();
      views.delete(id);
      sources.delete(id);
      $(id).replaceChildren(Object.assign(document.createElement('div'), { className: 'placeholder', textContent: 'no training in this page: an uploaded model' }));
    }
    modelReady(summary);
  } catch (e) {
    showError(`could not analyse ${file.name}: ${(e as Error).message}${state.model ? ` (${state.model.name} is kept)` : ''}`);
  } finally {
    input('upload').value = '';
    setBusy(false);
  }
}

function modelReady(m: ModelSummary): void {
  state.model = m;
  state.naming = namingOf(m.arch);
  const perClass = m.test.perClass.map((a, c) => `<span class="pill">${c}: ${a.toFixed(1)}</span>`).join('');
  $('summary').innerHTML = `<b>${escapeHtml(m.name)}</b> · ${m.kind === 'cnn' ? `CNN ${escapeHtml(m.arch)}` : `${m.sizes.join('-')} · normalisation ${escapeHtml(m.norm)}`} · ` +
    `test accuracy <b id="test-accuracy">${m.test.accuracy.toFixed(2)} %</b> (loss ${m.test.loss.toFixed(4)})` +
    (m.stopped ? ' · stopped early' : '') + `<br>per class: ${perClass}`;
  const layers = layerOptions(m);
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
    ? epochs.map((e) => new Option(e < 0 ? 'init (before training)' : `after epoch ${e + 1}${e === lastEpoch ? ' (last)' : ''}`, String(e)))
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
  if (!cnn) $('ex-summary').textContent = 'Choose a layer, a neuron and a test image, then Explore: its selectivity and health, what ablating or scaling it does, its saliency and one-hot map.';
  if (cnn) void exploreCnn();
  // a trained MLP: the explorer answers at once for the default neuron (the last hidden layer's first), then the analyses through training
  else if (m.source === 'trained') {
    if (!(Number(input('ex-neuron').value) < m.widths[m.widths.length - 1])) input('ex-neuron').value = '0';
    void explore().then(() => loadThrough(m));
  }
  network.modelReady(m);
}

/** the hidden layers as options: plain names, the canonical name in the tooltip */
function layerOptions(m: ModelSummary): HTMLOptionElement[] {
  return m.widths.map((w, k) => Object.assign(new Option(`${plain(`layers.${k}.post`)} (${w} neurons)`, String(k)), { title: `layers.${k}.post` }));
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
  const dead = r.health.dead ? ' (dead: it never fires)' : '';
  return topLevel(`Selectivity of neuron ${r.neuron} of ${plain(r.target)} per class${r.epoch === null ? '' : `, ${epochWords(r.epoch)}`}${dead}`, values, {
    width: 360, height: 200, mark: { type: 'bar' },
    encoding: {
      x: { field: 'digit', type: 'ordinal', title: 'class', axis: { labelAngle: 0 } },
      y: { field: 'selectivity', type: 'quantitative', title: '(μ_class − μ_rest) / (μ_class + μ_rest + ε)', scale: { domain: [-1, 1] } },
      color: classColor(10),
      tooltip: [{ field: 'digit' }, { field: 'selectivity', format: '.3f' }, { field: 'mean', title: 'mean activation', format: '.4f' }],
    },
  });
}

/** the explorer's questions asked so far (the latest answer is drawn) */
let neuronAsked = 0;
async function explore(): Promise<void> {
  if (state.model?.kind === 'cnn') return exploreCnn();
  const layer = Number(select('ex-layer').value), neuron = Number(input('ex-neuron').value), image = Number(input('ex-image').value);
  const epoch = explorerEpoch(), width = state.model?.widths[layer] ?? 0, count = test?.count ?? 10000;
  // a neuron or image out of range: said here, next to the fields, and the charts of the last answer dimmed
  const wrong = !Number.isInteger(neuron) || neuron < 0 || neuron >= width ? `neuron ${input('ex-neuron').value}: ${plain(`layers.${layer}.post`)} has neurons 0 to ${width - 1}`
    : !Number.isInteger(image) || image < 0 || image >= count ? `test image ${input('ex-image').value}: the test set has images 0 to ${count - 1}` : '';
  $('explorer').classList.toggle('stale', !!wrong);
  if (wrong) {
    $('ex-summary').innerHTML = `<span class="error">${escapeHtml(wrong)}</span>${state.neuron ? ' · the charts below still show the last neuron explored' : ''}`;
    return;
  }
  showDigit(image);
  $('ex-summary').innerHTML = `analysing neuron ${neuron} of ${tensorHtml(`layers.${layer}.post`)}${epoch === undefined ? '' : ` (${epochWords(epoch)})`}…`;
  $<HTMLButtonElement>('ex-go').disabled = true;
  const asked = ++neuronAsked;
  try {
    const r = await ask({ op: 'neuron', layer, neuron, image, epoch });
    // a newer question was asked meanwhile (the automatic one after training, then a click): its answer wins
    if (asked !== neuronAsked) return;
    state.neuron = r;
    const top = r.topClasses.map((c) => `${c} (${r.selectivity[c].toFixed(2)})`).join(', ');
    const an = r.analysis, at = (s: number) => an.scales.indexOf(s);
    const [, b] = an.interval;
    const h = r.health, health = $('ex-health');
    health.className = h.dead ? 'health dead' : 'health';
    health.textContent = h.dead
      ? `dead: neuron ${r.neuron} never fires — its activation is ${fmtScale(h.max)} on all ${h.images.toLocaleString('en')} test images, so its selectivity means nothing`
      : `health: fires (> 0) on ${(100 * h.active).toFixed(1)} % of the ${h.images.toLocaleString('en')} test images · mean ${h.mean.toPrecision(3)} · max ${h.max.toPrecision(3)}` +
        (h.active < 0.01 ? ' · rarely fires' : '');
    $('ex-summary').innerHTML = `${r.epoch === null ? '' : `<b>${epochWords(r.epoch)}</b>: `}neuron <b>${r.neuron}</b> of ${tensorHtml(r.target)}: most selective for classes <b id="ex-top">${top}</b>; ` +
      `test accuracy ${an.accuracy[at(1)].toFixed(2)} % as is, ${an.accuracy[at(0)].toFixed(2)} % ablated, ${an.accuracy[at(b)].toFixed(2)} % at ×${b} · ` +
      `image #${r.saliency.index} is a ${r.saliency.label}, predicted ${r.saliency.predicted} · ${r.seconds.toFixed(1)} s`;
    const picks = $('ex-picks');
    picks.replaceChildren('most selective neuron of this layer per class: ', ...r.mostSelective.map((j, c) => {
      const b = Object.assign(document.createElement('button'), { type: 'button', className: 'pill', textContent: `${c} → ${j}`, title: `explore neuron ${j}` });
      b.addEventListener('click', () => { input('ex-neuron').value = String(j); void explore(); });
      return b;
    }));
    const who = `neuron ${r.neuron} of ${plain(r.target)}`, canonical = `${r.target}[${r.neuron}]`;
    await draw('ex-selectivity', selectivitySpec(r), `Bar chart of the selectivity of ${who} (${canonical}) for each of the 10 classes; most selective for ${top}` +
      (r.health.dead ? '; the neuron is dead: it never fires on the test images' : ''));
    $('ex-selectivity').dataset.epoch = String(r.epoch);
    await draw('ex-accuracy', withTitle(figureAccuracyVsScale(an), `Per-class test accuracy vs the scale of ${who}`),
      `Line chart of each class's test accuracy as ${who} (${canonical}) is scaled from 0 (ablated) to 3`);
    await draw('ex-confusion', figureConfusion(an.confusion.ablationMinusBaseline, `Ablation − baseline, ${who}`, { difference: true }),
      `Heatmap of the change in the confusion matrix when ${who} (${canonical}) is ablated`);
    await draw('ex-logits', withTitle(figureLogitsVsScale(an, r.topClasses[0]), `Mean logits of class-${r.topClasses[0]} test images vs the scale of ${who}`),
      `Line chart of the mean logits of the class-${r.topClasses[0]} test images as ${who} (${canonical}) is scaled from 0 to 3`);
    // the saliency is the gradient of the neuron's pre-activation (as the notebooks compute it): the title names that tensor
    const sal = r.saliency;
    await draw('ex-saliency', withTitle(figureSaliency(sal, test ?? undefined),
      `Gradient saliency of test image #${sal.index} (a ${sal.label}) for neuron ${r.neuron} of ${plain(sal.target)}`),
      `Image of |∂ ${sal.target}[${r.neuron}] / ∂ pixel| on test image #${sal.index}, beside the image itself: the pixels that move ${r.neuron === undefined ? '' : `neuron ${r.neuron} of `}${plain(sal.target)} most`);
    $('ex-saliency').dataset.tensor = sal.target;
    const map = r.oneHot.map, lo = Math.min(...map), hi = Math.max(...map);
    const side = Math.round(Math.sqrt(map.length));
    const img = $<HTMLImageElement>('ex-onehot');
    img.src = pngDataUri(mapToPng(map, side, side, 'hot', [lo, hi > lo ? hi : lo + 1]));
    img.classList.remove('hidden');
    img.alt = `one-hot pixel map of neuron ${r.neuron} of ${plain(r.oneHot.target)}: its activation with one pixel lit, for each pixel`;
    $('ex-onehot-block').classList.remove('hidden');
    $('ex-onehot-caption').innerHTML = `${tensorHtml(r.oneHot.target)}, neuron ${r.neuron}, with one pixel = ${r.oneHot.value} (hot colours, max ${hi.toPrecision(3)})`;
  } catch (e) {
    $('ex-summary').textContent = '';
    showError(`explorer: ${(e as Error).message}`);
  } finally {
    $<HTMLButtonElement>('ex-go').disabled = state.training;
  }
}

// ---------- the CNN explorer: filters and feature maps as small heatmaps

const fmtScale = short;
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
      const canvas = heatCanvas(filters.weights, (o * inC + i) * kh * kw, kh, kw, (v) => diverging(v / fs), 44);
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
      const canvas = heatCanvas(fm.data, k * h * w, h, w, (v) => diverging(v / (s || 1)), mapPx(w));
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
    await draw('ex-pca', figureProjection(r.projection, `PCA of ${plain(r.target)}${r.epoch === null ? '' : `, ${epochWords(r.epoch)}`}, ${r.projection.labels.length} test images ` +
      `(${(100 * ((ev[0] ?? 0) + (ev[1] ?? 0))).toFixed(1)} % of the variance)`, { classes: 10 }),
      `Scatter plot of the ${r.projection.labels.length} test images on the first two principal components of ${plain(r.target)} (${r.target}), coloured by class`);
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

// the run counts epochs from 0 (its files: epoch-000.safetensors); the page from 1
const epochWords = (e: number) => (e < 0 ? 'initial weights' : `after epoch ${e + 1}`);
const epochShort = (e: number) => (e < 0 ? 'init' : `epoch ${e + 1}`);

async function loadThrough(m: ModelSummary): Promise<void> {
  $('through').classList.remove('hidden');
  select('tt-layer').replaceChildren(...layerOptions(m));
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
    $('tt-status').textContent = `${r.epochs.length} weights (init, after epochs ${r.epochs.filter((e) => e >= 0).map((e) => e + 1).join(', ')}) on ${r.sample.rows.length} test images ` +
      `(${r.sample.perClass[0]} per class, seed ${r.sample.seed}) · ${total.toFixed(1)} s in the worker`;
    const slider = input('tt-epoch');
    slider.max = String(r.epochs.length - 1);
    slider.value = slider.max;
    for (const id of ['tt-play', 'tt-epoch', 'tt-layer', 'tt-download']) ($(id) as HTMLInputElement).disabled = false;
    // the findings name tensors canonically: plain names here, the canonical one in the tooltip
    $('tt-findings').replaceChildren(...r.findings.slice(0, 8).map((f) => {
      const li = document.createElement('li');
      li.innerHTML = escapeHtml(f.text).replace(/layers\.\d+\.(?:pre|post|pool)/g, (name) => tensorHtml(name));
      return li;
    }));
    await drawThrough();
    // the report's figure (analysis/figures/through-training.ts): every layer, every pair of epochs
    await draw('tt-cka', figureCkaEpochs({ ...r, epochs: r.epochs.map((e) => (e < 0 ? e : e + 1)) }),
      `Heatmaps of the linear CKA between the representations of each hidden layer at every pair of epochs (init, epochs 1 to ${r.epochs.length - 1})`);
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
  const title = narrow ? `PCA of ${plain(`layers.${layer}.post`)}, last epoch's axes` : `PCA of ${plain(`layers.${layer}.post`)}, ${r.sample.rows.length} test images, in the last epoch's axes`;
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
        mark: { type: 'text', align: 'left', baseline: 'top', x: 6, y: 6, fontSize: 15, fontWeight: 'bold', color: '#1d2330', text: { expr: "ep < 0 ? 'init' : 'epoch ' + (ep + 1)" } },
        data: { values: [{}] },
      },
    ],
  });
}

/** per epoch for one layer: the probe, the model's accuracy on the sample, the silhouette, CKA with the last epoch; a rule at `ep` */
function throughCurvesSpec(r: ThroughTraining, layer: number, epoch: number): VegaLiteSpec {
  const last = r.epochs.length - 1, values: Row[] = [];
  r.perEpoch.forEach((pe, e) => {
    const l = pe.layers[layer], epoch = pe.epoch + 1;
    values.push(
      { epoch, measure: 'probe accuracy, held out', value: clean(l.probe.heldOutAccuracy / 100) },
      { epoch, measure: 'model accuracy on the sample', value: clean(pe.sampleAccuracy / 100) },
      { epoch, measure: 'silhouette of the classes', value: clean(l.silhouette) },
      { epoch, measure: 'CKA with the last epoch', value: clean(r.ckaEpochs[layer][e][last]) },
    );
  });
  const width = window.innerWidth < 600 ? Math.max(200, window.innerWidth - 90) : 440;
  const x = { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1, labelExpr: "datum.value < 1 ? 'init' : datum.label" } };
  const name = plain(`layers.${layer}.post`);
  return topLevel(window.innerWidth < 600 ? `${name} through training` : `${name} through training (accuracies as fractions)`, values, {
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
      { mark: { type: 'rule', color: '#888', strokeDash: [4, 3] }, encoding: { x: { datum: { expr: 'ep + 1' }, type: 'quantitative' } } },
    ],
  });
}

/** draws both charts for the chosen layer at the slider's epoch */
async function drawThrough(): Promise<void> {
  const r = state.through;
  if (!r) return;
  const layer = Number(select('tt-layer').value), epoch = r.epochs[Number(input('tt-epoch').value)];
  const name = plain(`layers.${layer}.post`);
  await draw('tt-pca', alignedPcaSpec(r, layer, epoch), `Scatter plot of ${r.sample.rows.length} test images on the first two principal components of ${name} (layers.${layer}.post) at the epoch on the slider, coloured by class`);
  await draw('tt-curves', throughCurvesSpec(r, layer, epoch), `Line chart of ${name}'s probe accuracy, the model's accuracy on the sample, the silhouette of the classes and the CKA with the last epoch, per epoch`);
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
$('pause').addEventListener('click', () => {
  run.pauseAsked = true;
  setBusy(true, LOCKED_TRAINING, true);
  void ask({ op: 'pause' }).then(() => setStatus('pausing after this epoch…'));
});
$('play').addEventListener('click', () => void continueRun('play'));
$('step').addEventListener('click', () => void (state.paused ? continueRun('step') : startTraining(null, 'step')));
$('reset').addEventListener('click', () => void resetRun());
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
// every chart is fitted to its card: drawn again when the window changes width (body[data-drawn-for] says when done)
let resized: ReturnType<typeof setTimeout> | undefined, drawnWidth = window.innerWidth;
document.body.dataset.drawnFor = String(drawnWidth);
window.addEventListener('resize', () => {
  clearTimeout(resized);
  resized = setTimeout(() => {
    if (window.innerWidth === drawnWidth) return;
    drawnWidth = window.innerWidth;
    delete document.body.dataset.drawnFor;
    drawing = drawing.then(async () => {
      const width = window.innerWidth;
      for (const [id, { spec, about }] of sources) {
        // the through-training charts are built for the width (drawThrough), the others refitted as they are
        if (id === 'tt-pca' || id === 'tt-curves' || !$(id).offsetParent || $(id).dataset.updates === '0') continue;
        if ($(id).dataset.width === String(cardWidth($(id)))) continue;
        await draw(id, spec, about, true);
      }
      await drawThrough();
      if (window.innerWidth === width) document.body.dataset.drawnFor = String(width);
    }).catch((e: Error) => showError(`drawing failed: ${e.message}`));
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

// ---------- the developer switch: the kernel timings and the main thread's stall, off the user's page

function setDev(on: boolean): void {
  state.dev = on;
  input('dev-mode').checked = on;
  if (on) $<HTMLDetailsElement>('developer').open = true;
  $('kernels').classList.toggle('hidden', !on);
  for (const el of Array.from(document.querySelectorAll('.dev-only'))) el.classList.toggle('hidden', !on);
}
input('dev-mode').addEventListener('change', () => {
  setDev(input('dev-mode').checked);
  const q = new URLSearchParams(location.search);
  if (state.dev) q.set('dev', '1'); else q.delete('dev');
  const query = q.toString();
  history.replaceState(null, '', `${location.pathname}${query ? `?${query}` : ''}${location.hash}`);
});
setDev(new URLSearchParams(location.search).get('dev') === '1');

// ---------- settings: from the URL (a preset or values), else as last kept here, else the defaults

const DEFAULTS = readValues();
select('cfg-preset').append(...PRESETS.map((p) => new Option(p.label, p.id)));
/** the device the user asked for (the URL's, or one kept from a visit, or chosen here): the adapter's recommendation leaves it */
let askedDevice: string | null = null;
{
  const url = fromQuery(location.search);
  askedDevice = url.values.device ?? stored().device ?? null;
  applyValues({ ...stored(), ...(url.preset ? presetValues(url.preset, DEFAULTS) : {}), ...url.values });
}
const showPreset = () => { select('cfg-preset').value = matchPreset(readValues(), DEFAULTS)?.id ?? ''; };
showPreset();
persist(readValues(), DEFAULTS);
select('cfg-preset').addEventListener('change', () => {
  const p = PRESETS.find((x) => x.id === select('cfg-preset').value);
  if (!p) return;
  applyValues(presetValues(p, DEFAULTS));
  archChanged();
  persist(readValues(), DEFAULTS);
});
for (const type of ['input', 'change']) {
  $('cfg-fields').addEventListener(type, (e) => {
    if ((e.target as HTMLElement).id === 'cfg-preset') return;
    showPreset();
    persist(readValues(), DEFAULTS);
  });
}
archChanged();
select('cfg-device').addEventListener('change', () => { askedDevice = select('cfg-device').value; });

/**
 * the WebGPU adapter, looked for at load (web/src/adapter.ts): said beside the device field; on a software
 * adapter the CPU becomes the machine's default device (the URL and localStorage keep a device only when it
 * differs from it) and is chosen unless the user asked for a device
 */
async function findAdapter(): Promise<void> {
  const report: AdapterReport = await detectAdapter();
  const rec: Recommendation = recommend(report, askedDevice);
  Object.assign(state, { adapter: { ...report, recommendation: rec } });
  if (rec.device) {
    DEFAULTS.device = rec.device;
    if (!askedDevice) select('cfg-device').value = rec.device;
    showPreset();
    persist(readValues(), DEFAULTS);
  }
  const el = $('cfg-adapter');
  el.textContent = rec.line;
  el.dataset.kind = rec.kind;
  el.title = report.found
    ? `vendor ${report.vendor || '?'} · architecture ${report.architecture || '?'} · device ${report.device || '?'} · description ${report.description || '?'} · ` +
      `${report.fallback ? 'a fallback adapter' : 'not a fallback adapter'} · ${report.featureLevel} · found in ${report.ms} ms`
    : rec.line;
}
const adapterReady = findAdapter().catch((e: Error) => { $('cfg-adapter').textContent = `the WebGPU adapter could not be looked for: ${e.message}`; });

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
    // Train uses the device the adapter's recommendation chose
    await adapterReady;
    setBusy(false);
    archChanged();
    showDigit(Number(input('ex-image').value));
    // Vega's first chart costs the most (its code warming up): draw one out of sight now, not mid-training
    const scratch = Object.assign(document.createElement('div'), { className: 'hidden' });
    document.body.append(scratch);
    const warm = await embed(scratch, curvesSpec([{ epoch: 1, trainLoss: 1, trainAccuracy: 50, testLoss: 1, testAccuracy: 50, samples: 1, steps: 1, seconds: 0 }],
      [{ epoch: 0, step: 1, steps: 2, samples: 1, loss: 1, accuracy: 50, source: 'host' }], 0) as never, { actions: false, renderer: 'canvas' });
    warm.finalize();
    scratch.remove();
    document.body.dataset.ready = '1';
  } catch (e) {
    showError(`could not load MNIST: ${(e as Error).message}`);
  }
})();
