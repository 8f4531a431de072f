// the post-training suite (analysis/suite.ts) on disk: a saved model in, analysis/*.json and *.csv out.
import { mkdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  FULL_SCALE, formatSuiteTables, NOTEBOOK_ORDERINGS, NOTEBOOK_SUBSETS, postTrainingCsv, RESULT_FILES, runPostTrainingSuite,
  toJsonText, toJsonValue, type PostTrainingResults, type SuiteOptions,
} from '../analysis/suite.ts';
import { CNN_FILE, cnnCsv, formatCnnTables, runCnnAnalyses, type CnnOptions, type CnnResults } from '../analysis/cnn-suite.ts';
import { InputError } from '../mlp/errors.ts';
import type { Split } from '../mlp/mnist.ts';
import type { Cnn } from '../mlp/cnn.ts';
import type { Mlp } from '../mlp/model.ts';
import type { Net } from '../mlp/net.ts';
import { isDirectory, writeAtomic, writeJson } from './files.ts';
import { loadNetFile } from './net-files.ts';
import { HelperThread } from '../engine/threads.ts';

/**
 * writes each section of the results as <dir>/analysis/<section>.json and the tables of
 * postTrainingCsv as <dir>/analysis/*.csv, each file atomically; returns the folder
 */
export async function savePostTrainingResults(dir: string, results: PostTrainingResults): Promise<string> {
  const out = await analysisFolder(dir);
  await mkdir(out, { recursive: true });
  for (const name of RESULT_FILES) {
    const text = toJsonText(results[name]);
    await (text === undefined ? writeJson(out, `${name}.json`, toJsonValue(results[name])) : writeAtomic(join(out, `${name}.json`), text));
  }
  for (const [name, text] of Object.entries(postTrainingCsv(results))) await writeAtomic(join(out, name), text);
  return out;
}

/** <dir>/analysis, refused (InputError naming it) when something other than a folder has that name */
async function analysisFolder(dir: string): Promise<string> {
  const out = join(dir, 'analysis');
  let info;
  try {
    info = await stat(out);
  } catch {
    // not there yet (mkdir says why if it cannot be made)
    return out;
  }
  if (!info.isDirectory()) throw new InputError(out, 'is a file, not a folder (the analyses write their results into this folder)');
  return out;
}

/**
 * the suite as the command line runs it: the notebooks' neuron lists added for a 16-neuron layer (their
 * layer 2), every result saved under <dir>/analysis/, the printed tables returned as lines. The suite's
 * parts that draw nothing from its generator run on a helper thread (engine/threads.ts): `helper` (the
 * caller's, left open), else one started for the call and closed after; false: all on this thread
 * (the same results either way)
 */
export async function analyzeModel(
  model: Mlp, test: Split, dir: string, opts: Omit<SuiteOptions, 'helper'> & { full?: boolean; helper?: HelperThread | false } = {},
): Promise<{ results: PostTrainingResults; out: string; lines: string[] }> {
  const { full, helper, ...rest } = opts;
  // before minutes of analyses: their results must have somewhere to go
  await analysisFolder(dir);
  const layer = rest.layer ?? model.hidden - 1;
  const notebookLayer = model.sizes[layer + 1] === 16;
  const own = helper === undefined ? new HelperThread() : null;
  let results: PostTrainingResults;
  try {
    results = await runPostTrainingSuite(model, test, {
      subsets: notebookLayer ? NOTEBOOK_SUBSETS : undefined, orderings: notebookLayer ? NOTEBOOK_ORDERINGS : undefined,
      ...(full ? FULL_SCALE : {}), ...rest, layer, helper: own ?? (helper || undefined),
    });
  } finally {
    await own?.close();
  }
  const out = await savePostTrainingResults(dir, results);
  return { results, out, lines: formatSuiteTables(results) };
}

/**
 * a CNN's analyses (analysis/cnn-suite.ts) on the test split: the suite per channel saved as the MLP's
 * (analysis/<part>.json and *.csv, the layer's units being channels), and the CNN's own results as
 * analysis/cnn.json and analysis/cnn-*.csv; the printed tables returned as lines
 */
export async function analyzeCnnModel(
  model: Cnn, test: Split, dir: string, opts: CnnOptions & { full?: boolean } = {},
): Promise<{ results: PostTrainingResults; cnn: CnnResults; out: string; lines: string[] }> {
  const { full, ...rest } = opts;
  await analysisFolder(dir);
  const { suite, cnn } = await runCnnAnalyses(model, test, { ...(full ? FULL_SCALE : {}), ...rest });
  const out = await savePostTrainingResults(dir, suite);
  const cnnText = toJsonText(cnn);
  await (cnnText === undefined ? writeJson(out, `${CNN_FILE}.json`, toJsonValue(cnn)) : writeAtomic(join(out, `${CNN_FILE}.json`), cnnText));
  for (const [name, text] of Object.entries(cnnCsv(cnn))) await writeAtomic(join(out, name), text);
  return { results: suite, cnn, out, lines: [...formatSuiteTables(suite), '', ...formatCnnTables(cnn)] };
}

/**
 * a saved model: a run directory (its model.safetensors) or a .safetensors file → the model and the
 * directory results go to (the run directory, or the file's folder)
 */
export async function loadSavedModel(path: string): Promise<{ model: Net; dir: string; file: string }> {
  const isDir = await isDirectory(path, 'not found (expected a run directory or a .safetensors file)');
  const file = isDir ? join(path, 'model.safetensors') : path;
  // an MLP's normalisation layers (LayerNorm, BatchNorm) come back with their parameters and running statistics; a CNN by its metadata
  const { model } = await loadNetFile(file);
  return { model, dir: isDir ? path : dirname(path), file };
}
