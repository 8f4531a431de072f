#!/usr/bin/env node
// Training dynamics of a saved run, from its stats/ folder (no retraining): the numbers behind the
// notebooks' findings (REFERENCE items 9, 12, 21, 22, 42).
//   node cli/dynamics.js [RUN_DIR] [--csv DIR]        deno run -A cli/dynamics.js …
// RUN_DIR defaults to runs/ref. --csv also writes the long tables (drift, histograms, health, parameter
// gradient norms) and the per-neuron mean matrices as CSV files into DIR.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import process from 'node:process';
import { parseArgs } from 'node:util';

// Node 20 cannot read TypeScript by itself: register the esbuild loader hooks first (as bench/train.js)
if (typeof globalThis.Deno === 'undefined' && import.meta.url.endsWith('/cli/dynamics.js')) {
  const hooks = '../bench/node-ts.mjs';
  await import(hooks);
}
const { loadRunStats, loadInputStats } = await import('../mlp/stats-store.ts');
const { InputError } = await import('../mlp/errors.ts');
const { drift, topNeurons, argmaxOf } = await import('../analysis/drift.ts');
const csv = await import('../analysis/csv.ts');

const { values: o, positionals } = parseArgs({
  allowPositionals: true,
  options: { csv: { type: 'string' }, help: { type: 'boolean' } },
});
if (o.help) {
  console.log('usage: node cli/dynamics.js [RUN_DIR] [--csv DIR]');
  process.exit(0);
}
const dir = positionals[0] ?? 'runs/ref';

let stats;
try {
  stats = await loadRunStats(dir);
} catch (e) {
  if (e instanceof InputError) {
    process.stderr.write(`error: ${e.message}\n`);
    process.exit(2);
  }
  throw e;
}
const d = drift(stats);
const last = d.epochs.length - 1;
const f = (x, n = 4) => (Number.isNaN(x) ? 'n/a' : x.toFixed(n));
const log = (s = '') => process.stdout.write(s + '\n');
const pct = (a, b) => `${(100 * (b - a) / Math.abs(a)).toFixed(0)} %`;

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
  log(`  layer ${h.layer} (${h.tensor}, ${stats[last].health.find((x) => x.layer === h.layer)?.activeFraction.length} units):`);
  log('    per epoch: ' + d.epochs.map((e, i) => `${e}:${h.dead[i]}/${h.rare[i]}/${h.always[i]}`).join(' '));
  const hl = stats[last].health.find((x) => x.layer === h.layer);
  const fr = hl.activeFraction.map((v, j) => [j, v]).sort((a, b) => a[1] - b[1]).slice(0, 3);
  log(`    epoch ${d.epochs[last]}: dead [${hl.dead}], rare [${hl.rare}], always [${hl.always}]; least active ` +
    fr.map(([j, v]) => `${j} (${(100 * v).toFixed(2)} %)`).join(', '));
}

// 5. gradient norms
if (d.params) {
  log('\nmean ||∂loss/∂p|| per step, first → last epoch:');
  d.params.names.forEach((n, i) => log(`  ${n.padEnd(11)} ${f(d.params.meanNorm[0][i])} → ${f(d.params.meanNorm[last][i])}`));
}
const gNames = Object.keys(d.grads).filter((n) => d.grads[n].meanStepNorm);
if (gNames.length) {
  log('mean per-step ||∂loss/∂tensor||, first → last epoch:');
  for (const n of gNames) log(`  ${n.padEnd(13)} ${f(d.grads[n].meanStepNorm[0])} → ${f(d.grads[n].meanStepNorm[last])}`);
}

if (o.csv) {
  await mkdir(o.csv, { recursive: true });
  const files = {
    'drift.csv': csv.toCsv(csv.driftRows(d)),
    'histograms.csv': csv.toCsv(csv.histogramRows(stats)),
    'health.csv': csv.toCsv(csv.healthRows(stats)),
    'param-grad-norms.csv': csv.toCsv(csv.paramNormRows(stats)),
  };
  for (const [name, t] of Object.entries(d.acts)) files[`neuron-means-${name}.csv`] = csv.matrixCsv(t.neuronMean, 'epoch', 'neuron', d.epochs);
  for (const [name, text] of Object.entries(files)) await writeFile(join(o.csv, name), text);
  log(`\nwrote ${Object.keys(files).length} CSV files to ${o.csv}`);
}
