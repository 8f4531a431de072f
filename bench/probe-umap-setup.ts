// CPU time of the through-training linear probe (analysis/probe.ts) and of umap2d (analysis/projection.ts:
// exactKnn and umap-js with the typed-array graph set-up of analysis/umap-graph.ts) against the code they
// replaced (test/helpers/probe-reference.ts, projection-reference.ts), old and new interleaved in one
// process, medians of repeats; the outputs are checked equal on the way.
//   node --import ./bench/node-ts.mjs bench/probe-umap-setup.ts
import process from 'node:process';
import { probeAccuracy } from '../analysis/probe.ts';
import { exactKnn, umap2d } from '../analysis/projection.ts';
import { createRng } from '../engine/rng.ts';
import { probeAccuracy as refProbeAccuracy } from '../test/helpers/probe-reference.ts';
import { refExactKnn, refUmap2d } from '../test/helpers/projection-reference.ts';

const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const median = (a: number[]) => [...a].sort((p, q) => p - q)[a.length >> 1];
function race(name: string, reps: number, old: () => unknown, now: () => unknown): void {
  const t = { old: [] as number[], now: [] as number[] };
  for (let r = 0; r < reps; r++) {
    for (const w of r % 2 ? ['now', 'old'] as const : ['old', 'now'] as const) {
      const t0 = cpuMs();
      (w === 'old' ? old : now)();
      t[w].push(cpuMs() - t0);
    }
  }
  console.log(`${name}: old ${median(t.old).toFixed(1)} ms, new ${median(t.now).toFixed(1)} ms CPU (medians of ${reps})`);
}

// the probe as through training runs it: 640 training and 160 held-out rows, 10 classes, 80 iterations,
// on ReLU-like activations of widths 32 and 16
const rng = createRng('mlp-lens', 20), n = 800, C = 10;
const labels = Array.from({ length: n }, (_, i) => i % C);
const layers = [32, 16].map((d) => {
  const r = rng.random(n * d), data = new Float32Array(n * d);
  for (let i = 0; i < n * d; i++) data[i] = Math.max(0, 2 * r[i] - 1 + ((i % d) % C === labels[Math.floor(i / d)] ? 0.8 : 0));
  return { shape: [n, d], data };
});
const train = labels.map((_, i) => i).filter((i) => Math.floor(i / C) % 5 !== 0);
const test = labels.map((_, i) => i).filter((i) => Math.floor(i / C) % 5 === 0);
const probes = (f: typeof probeAccuracy) => () => layers.map((x) => f(x, labels, C, { train, test, iterations: 80 }));
if (JSON.stringify(probes(probeAccuracy)()) !== JSON.stringify(probes(refProbeAccuracy)())) throw new Error('probe: outputs differ');
race('probeAccuracy ×2 (widths 32, 16; 640 rows, 80 iterations)', 15, probes(refProbeAccuracy), probes(probeAccuracy));

// UMAP as the suite runs it: 1000 points × 16, 200 epochs
const d = 16, m = 1000, r = rng.random(m * d), x = { shape: [m, d], data: new Float32Array(m * d) };
for (let i = 0; i < m * d; i++) x.data[i] = Math.max(0, (r[i] - 0.5) * 4 + (i % 3) - 1);
const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');
if (bytes(umap2d(x, createRng('mlp-lens', 1), { nEpochs: 200 }).data) !== bytes(refUmap2d(x, createRng('mlp-lens', 1), { nEpochs: 200 }).data)) throw new Error('umap: embeddings differ');
race('exactKnn 1000 × 16, k 15', 7, () => refExactKnn(x, 15), () => exactKnn(x, 15));
race('umap2d 1000 × 16, 200 epochs', 7, () => refUmap2d(x, createRng('mlp-lens', 1), { nEpochs: 200 }), () => umap2d(x, createRng('mlp-lens', 1), { nEpochs: 200 }));
