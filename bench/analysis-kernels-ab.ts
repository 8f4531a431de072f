// The analyses' kernels against the code they replaced (kept as test oracles), on a finished run's model
// and activations: CPU ms per workload, old / new in JavaScript / new in WebAssembly SIMD, interleaved in
// one process, medians; every result checked equal to the bit (first round). The SIMD column has the pair
// kernels (silhouettes, t-SNE) on; the interventions and the forward have none (the two new columns are
// the same code there). A benchmark, never a test.
//   node --import ./bench/node-ts.mjs bench/analysis-kernels-ab.ts RUN [--repeats 5]
// RUN: a run directory of the reference model (`node bench/train.js` writes one).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cacheImages, lazyImages, type HostTensor } from '../analysis/forward-cache.ts';
import { computeInputStats } from '../analysis/input-stats.ts';
import { pairKernelsReady, switchPairKernelsOff } from '../analysis/pair-kernels.ts';
import * as plainNew from '../analysis/plain-mlp.ts';
import { linspace, scaleMask, scalesWithOne } from '../analysis/scaling.ts';
import * as silNew from '../analysis/silhouette.ts';
import * as tsneNew from '../analysis/tsne.ts';
import { loadSavedModel } from '../run/analyze.ts';
import { loadMnist } from '../run/mnist-files.ts';
import * as silOld from '../test/analysis/silhouette-reference.ts';
import * as plainOld from '../test/helpers/plain-mlp-reference.ts';
import * as tsneOld from '../test/helpers/tsne-reference.ts';
import { computeInputStats as inputStatsOld } from '../test/helpers/input-stats-reference.ts';
import { sparseRows } from '../mlp/fused-cpu.ts';

const { values: o, positionals } = parseArgs({ options: { repeats: { type: 'string', default: '5' } }, allowPositionals: true });
const run = positionals[0];
if (!run) {
  console.error('usage: node --import ./bench/node-ts.mjs bench/analysis-kernels-ab.ts RUN [--repeats 5]');
  process.exit(2);
}
await pairKernelsReady();

// the last hidden layer's activations of the test split, as the run saved them (rows in the split's order)
const lines = readFileSync(join(run, 'analysis', 'activations-layers.1.post.csv'), 'utf8').trim().split('\n').slice(1);
/** `rows` rows taken every `stride` lines, 16 columns (32: the 16 and a mix of them, a wider layer) */
function acts(rows: number, cols = 16, stride = 7): { x: HostTensor; labels: Uint8Array } {
  const data = new Float32Array(rows * cols), labels = new Uint8Array(rows);
  for (let r = 0; r < rows; r++) {
    const f = lines[(r * stride) % lines.length].split(',').map(Number);
    labels[r] = f[1];
    for (let c = 0; c < cols; c++) data[r * cols + c] = f[2 + (c % 16)] + (c >= 16 ? 0.25 * f[2 + ((c * 7) % 16)] : 0);
  }
  return { x: { shape: [rows, cols], data }, labels };
}
const big = acts(1500), tt32 = acts(800, 32, 11), tt16 = acts(800, 16, 13), ts = acts(1000, 16, 3);
let seed = 7;
const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
const perm = () => Array.from({ length: 16 }, (_, j) => j).map((j) => [rnd(), j]).sort((a, b) => a[0] - b[0]).map((p) => p[1]);
const subsets = Array.from({ length: 42 }, () => perm().slice(0, 5));
const orders = Array.from({ length: 11 }, perm), sizes = [2, 4, 6, 8, 10, 12, 14, 16];

// the model, the test split's forward cache and the suite's 101 scaling variants of layers.1.post
const { model } = await loadSavedModel(run);
const data = await loadMnist();
const plain = plainNew.plainMlpOf(model)!;
const cache = await cacheImages(model, lazyImages(data.test), { grads: [] });
const post = cache.acts['layers.1.post']!.data, labels = cache.labels, count = labels.length;
const variants: { neurons: number[]; scale: number }[] = [];
for (const s of new Set([...scalesWithOne(0, 3, 30), 0, 1, 3])) variants.push({ neurons: [3], scale: s });
for (const s of new Set([...linspace(0, 3, 20), 0, 1])) variants.push({ neurons: [7], scale: s });
variants.push({ neurons: [], scale: 1 });
for (let j = 0; j < 16; j++) for (const s of [0, 1.5, 3]) variants.push({ neurons: [j], scale: s });
const V = variants.length, mask = scaleMask(variants, 'layers.1.post', 16);
const raw = Float32Array.from(data.test.images, (b) => b / 255);

type Plain = typeof plainNew | typeof plainOld;
const work: { name: string; old: () => unknown; now: () => unknown }[] = [
  {
    name: 'silhouettes, item 33 (1×16 + 42×5 columns, 1500 rows)',
    old: () => [silOld.silhouetteScore(big.x, big.labels), ...subsets.map((c) => silOld.silhouetteScore(silOld.takeColumns(big.x, c), big.labels))],
    now: () => [silNew.silhouetteScore(big.x, big.labels), ...subsets.map((c) => silNew.silhouetteScore(silNew.takeColumns(big.x, c), big.labels))],
  },
  {
    name: 'silhouettes, item 34 (11 orders × prefixes 2..16)',
    old: () => orders.map((ord) => silOld.prefixSilhouetteScores(big.x, big.labels, ord, sizes)),
    now: () => orders.map((ord) => silNew.prefixSilhouetteScores(big.x, big.labels, ord, sizes)),
  },
  {
    name: 'silhouettes through training (21 × 800×32 + 800×16)',
    old: () => Array.from({ length: 21 }, () => [silOld.silhouetteScore(tt32.x, tt32.labels), silOld.silhouetteScore(tt16.x, tt16.labels)]),
    now: () => Array.from({ length: 21 }, () => [silNew.silhouetteScore(tt32.x, tt32.labels), silNew.silhouetteScore(tt16.x, tt16.labels)]),
  },
  {
    name: 't-SNE 1000×16, perplexity 20, 300 iterations',
    old: () => { const r = tsneOld.tsne(ts.x, { perplexity: 20, iterations: 300 }); return [...r.embedding.data, r.kl]; },
    now: () => { const r = tsneNew.tsne(ts.x, { perplexity: 20, iterations: 300 }); return [...r.embedding.data, r.kl]; },
  },
  ...([['interventions: the suite\'s 101 scaled variants', (M: Plain) => {
    const pred = new Uint8Array(V * count), sums = new Float64Array(V * 100);
    M.plainScaled(plain, 1, 'post', post, count, labels, mask, V, pred, sums);
    return { pred, sums };
  }], ['the dense forward of the test split', (M: Plain) => M.plainForward(plain, raw, count).logits]] as const)
    .map(([name, f]) => ({ name, old: () => f(plainOld), now: () => f(plainNew) })),
];

/** every number's bits, so that NaN payloads and −0 count */
const bits = (v: unknown): string => JSON.stringify(v, (_k, x) => (typeof x === 'number' ? Array.from(new Uint8Array(Float64Array.of(x).buffer)).join('.') : x));
const cpu = (): number => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];

console.log(`analyses' kernels, CPU ms, medians of ${o.repeats} interleaved rounds (${run})`);
console.log(`${'workload'.padEnd(56)}${'old'.padStart(9)}${'new JS'.padStart(9)}${'new SIMD'.padStart(10)}`);
for (const w of work) {
  const t = { old: [] as number[], js: [] as number[], simd: [] as number[] };
  for (let r = 0; r < Number(o.repeats); r++) {
    let c = cpu(); const a = w.old(); t.old.push(cpu() - c);
    switchPairKernelsOff(true); c = cpu(); const b = w.now(); t.js.push(cpu() - c);
    switchPairKernelsOff(false); c = cpu(); const s = w.now(); t.simd.push(cpu() - c);
    // (compared outside the timing)
    if (r === 0 && (bits(a) !== bits(b) || bits(a) !== bits(s))) throw new Error(`${w.name}: the results differ`);
  }
  console.log(`${w.name.padEnd(56)}${median(t.old).toFixed(0).padStart(9)}${median(t.js).toFixed(0).padStart(9)}${median(t.simd).toFixed(0).padStart(10)}`);
}
// the input statistics: every byte read (the old copy) against the sparse rows the fused steps build
// anyway (built once here, outside the timing, as the training's set-up builds them)
sparseRows(data.train);
const every: number[] = [], sparse: number[] = [];
for (let r = 0; r < Number(o.repeats); r++) {
  let c = cpu(); const a = inputStatsOld(data.train, { firstN: 1000, bins: 30 }); every.push(cpu() - c);
  c = cpu(); const b = computeInputStats(data.train, { firstN: 1000, bins: 30 }); sparse.push(cpu() - c);
  if (r === 0 && bits(a) !== bits(b)) throw new Error('input statistics: the results differ');
}
console.log(`input statistics of the training split: every byte ${median(every).toFixed(0)} ms, from the sparse rows ${median(sparse).toFixed(0)} ms`);
