// A/B of t-SNE's perplexity calibration (analysis/tsne.ts conditionalP) as the main job runs it: 1000 rows of
// a finished run's last hidden layer, perplexity 20. The JS loop it was (test/helpers/tsne-reference.ts)
// against the WebAssembly kernel on V8's exp/log ported (engine/wasm/math-kernels.ts tsne_cond_p), and the
// new file's JS fallback, interleaved in one process; CPU ms (process.cpuUsage), medians; every result
// checked equal to the bit. A benchmark, never a test.
//   node --import ./bench/node-ts.mjs bench/tsne-cond-p-ab.ts RUN [--repeats 7] [--rows 1000]
// RUN: a run directory of the reference model (`node bench/train.js` writes one).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import process from 'node:process';
import { parseArgs } from 'node:util';
import { conditionalP } from '../analysis/tsne.ts';
import { mathKernelsReady, mathKernelsUnavailable, switchMathKernelsOff } from '../engine/wasm/math-kernels.ts';
import * as ref from '../test/helpers/tsne-reference.ts';

const { values: o, positionals } = parseArgs({ options: { repeats: { type: 'string', default: '7' }, rows: { type: 'string', default: '1000' } }, allowPositionals: true });
const run = positionals[0];
if (!run) {
  console.error('usage: node --import ./bench/node-ts.mjs bench/tsne-cond-p-ab.ts RUN [--repeats 7] [--rows 1000]');
  process.exit(2);
}
if (!(await mathKernelsReady())) throw new Error(`math kernels: ${mathKernelsUnavailable()}`);

// rows of the last hidden layer's activations (every 3rd line of the test split), as tsne() gets them
const lines = readFileSync(join(run, 'analysis', 'activations-layers.1.post.csv'), 'utf8').trim().split('\n').slice(1);
const n = Number(o.rows), d = 16, x = new Float32Array(n * d);
for (let r = 0; r < n; r++) {
  const f = lines[(r * 3) % lines.length].split(',').map(Number);
  for (let c = 0; c < d; c++) x[r * d + c] = f[2 + c];
}
const d2 = new Float64Array(n * n);
for (let i = 0; i < n; i++) {
  for (let j = i + 1; j < n; j++) {
    let s = 0;
    for (let k = 0; k < d; k++) { const e = x[i * d + k] - x[j * d + k]; s += e * e; }
    d2[i * n + j] = d2[j * n + i] = s;
  }
}

const cpuMs = (f: () => Float64Array): [number, Float64Array] => {
  const c0 = process.cpuUsage(), r = f(), c = process.cpuUsage(c0);
  return [(c.user + c.system) / 1000, r];
};
const variants: [string, () => Float64Array][] = [
  ['old (JS loop, test/helpers/tsne-reference.ts)', () => ref.conditionalP(d2, n, 20)],
  ['new, JS fallback (MLP_LENS_WASM=0)', () => { switchMathKernelsOff(true); try { return conditionalP(d2, n, 20); } finally { switchMathKernelsOff(false); } }],
  ['new, WebAssembly (fdlibm exp/log)', () => conditionalP(d2, n, 20)],
];
const times = variants.map(() => [] as number[]);
const oracle = Buffer.from(ref.conditionalP(d2, n, 20).buffer);
for (let rep = 0; rep < Number(o.repeats); rep++) {
  variants.forEach(([name, f], v) => {
    const [ms, p] = cpuMs(f);
    times[v].push(ms);
    if (!Buffer.from(p.buffer).equals(oracle)) throw new Error(`${name}: differs from the oracle`);
  });
}
const median = (a: number[]) => [...a].sort((p, q) => p - q)[a.length >> 1];
console.log(`conditionalP, ${n} rows × ${d} columns, perplexity 20, ${o.repeats} interleaved repeats (node ${process.versions.node}):`);
variants.forEach(([name], v) => console.log(`  ${name.padEnd(48)} ${median(times[v]).toFixed(1).padStart(8)} ms CPU (median; all ${times[v].map((t) => t.toFixed(0)).join(' ')})`));
console.log('every result identical to the oracle, bit for bit');
