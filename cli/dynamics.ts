// `mlp-lens dynamics`: training dynamics of a saved run, from its stats/ folder (no retraining): the
// numbers behind the notebooks' findings (docs/notebooks.md items 9, 12, 21, 22, 42).
//   mlp-lens dynamics [RUN_DIR] [--csv DIR]
// RUN_DIR defaults to runs/ref. --csv also writes the long tables (drift, histograms, health, parameter
// gradient norms) and the per-neuron mean matrices as CSV files into DIR.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import process from 'node:process';
import { commandArgs } from './args.ts';
import type { EpochStats } from '../analysis/epoch-stats.ts';
import { argmaxOf, drift, topNeurons } from '../analysis/drift.ts';
import * as csv from '../analysis/csv.ts';
import { InputError } from '../mlp/errors.ts';
import { loadInputStats, loadRunStats } from '../run/stats-files.ts';
import { errorLine } from './errors.ts';

const HELP = `usage: mlp-lens dynamics [RUN_DIR] [options]

Prints the training dynamics of a saved run from its stats/ folder (no retraining): pre-activation
drift, per-class means, the most active neurons, ReLU health and gradient norms per epoch.
RUN_DIR defaults to runs/ref.

  --csv DIR     also write the long tables and the per-neuron mean matrices as CSV files into DIR
  --help        this text
`;

/** exit code: 0 done, 2 bad option or a run without statistics (one line on stderr); other errors are thrown */
export async function main(argv: string[]): Promise<number> {
  const args = commandArgs(argv, { csv: { type: 'string' } }, HELP);
  if (typeof args === 'number') return args;
  const { values: o, positionals } = args;
  if (positionals.length > 1) { process.stderr.write(`error: expected at most one RUN_DIR\n\n${HELP}`); return 2; }
  const dir = positionals[0] ?? 'runs/ref';
  let stats: EpochStats[];
  try {
    stats = await loadRunStats(dir);
  } catch (e) {
    const line = errorLine(e);
    if (line === undefined) throw e;
    process.stderr.write(line);
    return 2;
  }
  await printDynamics(dir, stats, o.csv);
  return 0;
}

async function printDynamics(dir: string, stats: EpochStats[], csvDir: string | undefined): Promise<void> {
  const d = drift(stats);
  const last = d.epochs.length - 1;
  const f = (x: number, n = 4) => (Number.isNaN(x) ? 'n/a' : x.toFixed(n));
  const log = (s = '') => process.stdout.write(s + '\n');
  const pct = (a: number, b: number) => `${(100 * (b - a) / Math.abs(a)).toFixed(0)} %`;

  log(`${dir}: ${d.epochs.length} epochs of statistics (${d.epochs[0]}–${d.epochs[last]}), ${stats[0].count} samples each`);
  try {
    const input = await loadInputStats(dir);
    log(`input (item 1): mean of per-image means ${f(input.imageMean)}, of per-image stds ${f(input.imageStd)} (ddof 1); pooled ${f(input.pooled.mean)} / ${f(input.pooled.std)}`);
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
  }

  // 1. does layer-1 pre-activation std grow across epochs?
  const pre = d.acts['layers.0.pre'];
  if (pre) {
    log('\nlayers.0.pre (linear1 output): mean and std (ddof 1) per epoch, all samples | first batch of 64');
    d.epochs.forEach((e, i) => log(`  epoch ${String(e).padStart(2)}  mean ${f(pre.mean[i])}  std ${f(pre.std[i])}` +
      (pre.firstBatch ? `   | first batch mean ${f(pre.firstBatch.mean[i])}  std ${f(pre.firstBatch.std[i])}` : '')));
    const ups = pre.std.slice(1).filter((s, i) => s > pre.std[i]).length;
    log(`  std ${f(pre.std[0])} → ${f(pre.std[last])} (${pct(pre.std[0], pre.std[last])}); rose in ${ups} of ${last} epoch steps`);

    // 2. per-class mean of layer-1 pre-activations: rise early, then decline?
    log('\nlayers.0.pre per-class mean (item 12), digits 0, 3, 9:');
    log('  epoch ' + [0, 3, 9].map((c) => `digit ${c}`.padStart(10)).join(''));
    d.epochs.forEach((e, i) => log(`  ${String(e).padStart(5)} ` + [0, 3, 9].map((c) => f(pre.perClassMean[i][c]).padStart(10)).join('')));
    for (const c of [0, 3, 9]) {
      const series = pre.perClassMean.map((r) => r[c]), peak = argmaxOf(series);
      if (peak < 0) continue;
      log(`  digit ${c}: ${f(series[0])} at epoch ${d.epochs[0]}, peak ${f(series[peak])} at epoch ${d.epochs[peak]}, ` +
        `${f(series[last])} at epoch ${d.epochs[last]} (${pct(series[peak], series[last])} from the peak)`);
    }
  }

  // 3. which layer-2 neurons dominate the last epoch's heatmap? (item 22)
  for (const name of ['layers.0.post', 'layers.1.post']) {
    const t = d.acts[name];
    if (!t) continue;
    const top = topNeurons(t.neuronMean[last], 5);
    log(`\n${name}: neurons with the largest mean activation at epoch ${d.epochs[last]} (item 22):`);
    log('  ' + top.map((x) => `${x.neuron} (${f(x.value, 3)})`).join(', '));
    const first = topNeurons(t.neuronMean[0], 5);
    log(`  at epoch ${d.epochs[0]}: ` + first.map((x) => `${x.neuron} (${f(x.value, 3)})`).join(', '));
  }
  const l2 = d.acts['layers.1.post'];
  if (l2) {
    const rank = topNeurons(l2.neuronMean[last], l2.neuronMean[last].length).map((x) => x.neuron);
    log(`  README's neurons 2, 6, 9 rank ${[2, 6, 9].map((j) => `${j}: #${rank.indexOf(j) + 1}`).join(', ')} of ${rank.length}`);
  }

  // 4. neuron health (item 42)
  log(`\nReLU health per layer: dead (never active) / rare (< ${100 * stats[0].rareBelow} % of samples) / always active`);
  for (const h of d.health) {
    const hl = stats[last].health.find((x) => x.layer === h.layer);
    log(`  layer ${h.layer} (${h.tensor}, ${hl?.activeFraction.length} units):`);
    log('    per epoch: ' + d.epochs.map((e, i) => `${e}:${h.dead[i]}/${h.rare[i]}/${h.always[i]}`).join(' '));
    if (!hl) continue;
    const fr = [...hl.activeFraction].map((v, j): [number, number] => [j, v]).sort((a, b) => a[1] - b[1]).slice(0, 3);
    log(`    epoch ${d.epochs[last]}: dead [${hl.dead}], rare [${hl.rare}], always [${hl.always}]; least active ` +
      fr.map(([j, v]) => `${j} (${(100 * v).toFixed(2)} %)`).join(', '));
  }

  // 5. gradient norms
  if (d.params) {
    const p = d.params;
    log('\nmean ||∂loss/∂p|| per step, first → last epoch:');
    p.names.forEach((n, i) => log(`  ${n.padEnd(11)} ${f(p.meanNorm[0][i])} → ${f(p.meanNorm[last][i])}`));
  }
  const gNames = Object.keys(d.grads).filter((n) => d.grads[n].meanStepNorm);
  if (gNames.length) {
    log('mean per-step ||∂loss/∂tensor||, first → last epoch:');
    for (const n of gNames) log(`  ${n.padEnd(13)} ${f(d.grads[n].meanStepNorm![0])} → ${f(d.grads[n].meanStepNorm![last])}`);
  }

  if (csvDir) {
    await mkdir(csvDir, { recursive: true });
    const files: Record<string, string> = {
      'drift.csv': csv.toCsv(csv.driftRows(d)),
      'histograms.csv': csv.toCsv(csv.histogramRows(stats)),
      'health.csv': csv.toCsv(csv.healthRows(stats)),
      'param-grad-norms.csv': csv.toCsv(csv.paramNormRows(stats)),
    };
    for (const [name, t] of Object.entries(d.acts)) files[`neuron-means-${name}.csv`] = csv.matrixCsv(t.neuronMean, 'epoch', 'neuron', d.epochs);
    for (const [name, text] of Object.entries(files)) await writeFile(join(csvDir, name), text);
    log(`\nwrote ${Object.keys(files).length} CSV files to ${csvDir}`);
  }
}
