// The interventions' raw-pixel evaluation (analysis/scaling.ts evaluatePlain) on MNIST's test split and a
// run's model, over the split's bytes made floats (as before) and over its sparse rows, the bytes as the
// values (analysis/suite-tasks.ts now): milliseconds of each, alternated, and whether the results are the
// same. A benchmark, never a test.
//   node --import ./bench/node-ts.mjs bench/raw-interventions.ts RUN [--rounds 4]
import process from 'node:process';
import { parseArgs } from 'node:util';
import { plainMlpOf } from '../analysis/plain-mlp.ts';
import { evaluatePlain, type ScaleVariant } from '../analysis/scaling.ts';
import { sparseRows } from '../mlp/fused-cpu.ts';
import { loadSavedModel } from '../run/analyze.ts';
import { loadMnist } from '../run/mnist-files.ts';

const { values: o, positionals: [run] } = parseArgs({ options: { rounds: { type: 'string', default: '4' } }, allowPositionals: true });
if (!run) {
  console.error('usage: node --import ./bench/node-ts.mjs bench/raw-interventions.ts RUN [--rounds 4]');
  process.exit(2);
}
const { test } = await loadMnist();
const net = plainMlpOf((await loadSavedModel(run)).model);
if (!net) throw new Error(`${run}: not a plain MLP`);
// the suite's raw variant: the focus neuron of the last hidden layer at three scales
const layer = net.sizes.length - 3;
const variants: ScaleVariant[] = [0, 1, 3].map((scale) => ({ scale, neurons: [0] }));
const target = `layers.${layer}.post` as const;
const lut = Float32Array.from({ length: 256 }, (_, b) => b);
for (let r = 0; r < Number(o.rounds); r++) {
  const t0 = performance.now();
  const dense = evaluatePlain(net, { x: Float32Array.from(test.images), labels: test.labels, count: test.count }, target, variants);
  const t1 = performance.now();
  // a fresh split object: its sparse rows built anew, as on the helper thread
  const sparse = evaluatePlain(net, { x: new Float32Array(0), labels: test.labels, count: test.count, sparse: { ...sparseRows({ ...test }), lut, start: 0 } }, target, variants);
  const t2 = performance.now();
  console.log(`round ${r}: floats ${(t1 - t0).toFixed(1)} ms, sparse rows ${(t2 - t1).toFixed(1)} ms, same results: ${JSON.stringify(dense) === JSON.stringify(sparse)}`);
}
