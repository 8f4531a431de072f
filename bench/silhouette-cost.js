#!/usr/bin/env node
// Benchmark: what exact silhouette scores (docs/notebooks.md items 33–34) cost on a run's saved layer-2
// activations, and what the post-training suite's silhouette section would cost on every test image.
//   node bench/silhouette-cost.js RUN_DIR [--rows 10000] [--umap-rows 300,500,1000] [--repeats 2]
// RUN_DIR holds analysis/activations-layers.K.post.csv (written by `node bench/train.js`). Times, median
// of --repeats:
//   - one exact silhouette (analysis/silhouette.ts: each pair once, per-class distance sums, float64) of
//     a 16-, 5- and 2-column subspace, and one prefix pass (8 sizes, the vs-size curve) on --rows rows;
//   - the same loop over float32 storage with float32 square roots (the variant that was measured against);
//   - one seeded UMAP (umap-js, 200 epochs) of a 5-column subspace on each --umap-rows count;
// then the suite's whole silhouette section on those rows: 14 named subsets + 30 random trials (full
// space and a 2-D projection each) and 12 prefix passes (2 orderings + 10 random), as the suite runs it.
// A benchmark, never a test.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import process from 'node:process';

await import('./node-ts.mjs');
const { prefixSilhouetteScores, silhouetteScore, takeColumns, takeRows } = await import('../analysis/silhouette.ts');
const { pca } = await import('../analysis/pca.ts');
const { umap2d, sampleRows } = await import('../analysis/projection.ts');
const { createRng } = await import('../engine/rng.ts');

const { values: o, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    rows: { type: 'string', default: '10000' }, 'umap-rows': { type: 'string', default: '300,500,1000' },
    repeats: { type: 'string', default: '2' }, help: { type: 'boolean' },
  },
});
if (o.help || positionals.length !== 1) {
  console.log('usage: node bench/silhouette-cost.js RUN_DIR [--rows 10000] [--umap-rows 300,500,1000] [--repeats 2]');
  process.exit(o.help ? 0 : 1);
}
const dir = join(positionals[0], 'analysis');
const file = readdirSync(dir).find((f) => /^activations-layers\.\d+\.post\.csv$/.test(f));
if (!file) throw new Error(`${dir}: no activations-layers.K.post.csv (run node bench/train.js first)`);
const lines = readFileSync(join(dir, file), 'utf8').trim().split('\n').slice(1);
const width = lines[0].split(',').length - 2;
const all = { shape: [lines.length, width], data: new Float32Array(lines.length * width) };
const labelsAll = new Uint8Array(lines.length);
lines.forEach((l, i) => {
  const f = l.split(',');
  labelsAll[i] = Number(f[1]);
  for (let j = 0; j < width; j++) all.data[i * width + j] = Number(f[2 + j]);
});
const rows = Math.min(Number(o.rows), lines.length), repeats = Number(o.repeats);
const { x, labels } = takeRows(all, labelsAll, sampleRows(lines.length, rows, createRng('mlp-lens', 314)));
console.log(`${file}: ${lines.length} × ${width}; timing on ${rows} rows, median of ${repeats}`);

const time = (fn) => {
  const t = [];
  let v;
  for (let r = 0; r < repeats; r++) { const t0 = performance.now(); v = fn(); t.push((performance.now() - t0) / 1000); }
  return { s: t.sort((a, b) => a - b)[Math.floor(t.length / 2)], v };
};

// the float32 variant: the same loop (rows grouped by class, each pair once, both points' class sums),
// over a Float32Array with Math.fround around every step so V8 can keep it in float32
function silhouette32(x, labels) {
  const n = x.shape[0], d = x.data.length / n;
  let classes = 0;
  for (let i = 0; i < n; i++) classes = Math.max(classes, labels[i] + 1);
  const start = new Int32Array(classes + 1);
  for (let i = 0; i < n; i++) start[labels[i] + 1]++;
  for (let c = 0; c < classes; c++) start[c + 1] += start[c];
  const fill = start.slice(0, classes), lab = new Int32Array(n), xs = new Float32Array(n * d);
  for (let i = 0; i < n; i++) { const c = labels[i], r = fill[c]++; lab[r] = c; xs.set(x.data.subarray(i * d, (i + 1) * d), r * d); }
  const sums = new Float64Array(classes * n);
  for (let r = 0; r < n; r++) {
    const cr = lab[r], o = r * d;
    for (let c = cr; c < classes; c++) {
      const lo = Math.max(start[c], r + 1), end = start[c + 1];
      let a = 0;
      for (let q = lo; q < end; q++) {
        let s = Math.fround(0);
        for (let j = 0, p = q * d; j < d; j++) { const v = Math.fround(xs[o + j] - xs[p + j]); s = Math.fround(s + Math.fround(v * v)); }
        const dist = Math.fround(Math.sqrt(s));
        a += dist;
        sums[cr * n + q] += dist;
      }
      sums[c * n + r] += a;
    }
  }
  let total = 0;
  for (let r = 0; r < n; r++) {
    const cr = lab[r], size = start[cr + 1] - start[cr];
    if (size < 2) continue;
    const a = sums[cr * n + r] / (size - 1);
    let b = Infinity;
    for (let c = 0; c < classes; c++) if (c !== cr && start[c + 1] > start[c]) b = Math.min(b, sums[c * n + r] / (start[c + 1] - start[c]));
    total += (b - a) / Math.max(a, b) || 0;
  }
  return total / n;
}

const sub5 = [4, 6, 5, 13, 9].filter((j) => j < width);
const x16 = x, x5 = takeColumns(x, sub5), x2 = pca(x5, 2).projected;
const sizes = Array.from({ length: Math.floor(width / 2) }, (_, i) => 2 * (i + 1));
const order = Array.from({ length: width }, (_, j) => j);
const res = {};
for (const [name, t] of [['16', x16], ['5', x5], ['2', x2]]) {
  res[`f64 ${name}-D`] = time(() => silhouetteScore(t, labels));
  res[`f32 ${name}-D`] = time(() => silhouette32(t, labels));
}
res[`prefix pass (${sizes.length} sizes)`] = time(() => prefixSilhouetteScores(x16, labels, order, sizes));
res['PCA 2-D of 5 columns'] = time(() => pca(x5, 2));
for (const [k, r] of Object.entries(res)) console.log(`  ${k.padEnd(26)} ${r.s.toFixed(3)} s${typeof r.v === 'number' ? `   score ${r.v.toFixed(4)}` : ''}`);

// the section as the suite runs it: 14 named subsets (one 16-D, the rest 5-D), 30 random 5-D trials,
// each with a 2-D projection; 12 prefix passes
const full = res['f64 16-D'].s + 43 * res['f64 5-D'].s, proj = 44 * (res['f64 2-D'].s + res['PCA 2-D of 5 columns'].s);
const prefix = 12 * res[`prefix pass (${sizes.length} sizes)`].s;
console.log(`suite's silhouette section on ${rows} rows (float64): full ${full.toFixed(1)} s + PCA 2-D ${proj.toFixed(1)} s + vs-size ${prefix.toFixed(1)} s = ${(full + proj + prefix).toFixed(1)} s`);
const full32 = res['f32 16-D'].s + 43 * res['f32 5-D'].s, proj32 = 44 * (res['f32 2-D'].s + res['PCA 2-D of 5 columns'].s);
console.log(`  with the float32 loop for full and 2-D: ${(full32 + proj32 + prefix).toFixed(1)} s`);

// UMAP of one 5-column subspace, and its silhouette, per row count
for (const m of o['umap-rows'].split(',').map(Number)) {
  const pick = takeRows(x5, labels, sampleRows(x5.shape[0], m, createRng('mlp-lens', 1)));
  const u = time(() => umap2d(pick.x, createRng('mlp-lens', 314), { nEpochs: 200 }));
  console.log(`  UMAP 2-D of 5 columns, ${m} rows: ${u.s.toFixed(2)} s (silhouette ${silhouetteScore(u.v, pick.labels).toFixed(4)}); 44 subsets: ${(44 * u.s).toFixed(1)} s`);
}
