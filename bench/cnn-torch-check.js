#!/usr/bin/env node
// The JS half of bench/cnn_torch_check.py (run that, not this). With the library, on the cpu backend, writes
// to DIR (safetensors in PyTorch's names, mlp/cnn-weights.ts encodeCnnModel):
//   init.safetensors           the reference CNN as Cnn.init draws it from createRng('torch', 31416)
//   steps-default.safetensors  those weights after 3 SGD steps (lr 0.01, batch 64) on the first 192 training
//                              images in file order, by the engine pickStepEngine picks for a CNN on the cpu
//   steps-generic.safetensors  the same by the generic autograd step (fused: false)
//   steps.json                 each engine's label and its 3 batch losses
//   node bench/cnn-torch-check.js DIR [MNIST_DIR]
import process from 'node:process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

if (typeof globalThis.Deno === 'undefined') await import('./node-ts.mjs');
const { createRng } = await import('../engine/rng.ts');
const { parseArch, REFERENCE_CNN, resolveCnn } = await import('../mlp/arch.ts');
const { Cnn } = await import('../mlp/cnn.ts');
const { encodeCnnModel } = await import('../mlp/cnn-weights.ts');
const { pickStepEngine } = await import('../mlp/step-engine.ts');
const { loadMnist } = await import('../run/mnist-files.ts');

const [dir, mnistDir] = process.argv.slice(2);
if (!dir) { console.error('usage: node bench/cnn-torch-check.js DIR [MNIST_DIR]'); process.exit(2); }

const SEED = 31416, BATCH = 64, LR = 0.01, STEPS = 3;
const spec = parseArch(REFERENCE_CNN).layers, input = [1, 28, 28], classes = 10;
const resolved = resolveCnn(spec, input, classes);
const save = async (model, name) => writeFileSync(join(dir, name), encodeCnnModel(resolved, await model.export()));

const init = Cnn.init(spec, input, classes, createRng('torch', SEED));
await save(init, 'init.safetensors');
const initLayers = await init.export();

// the first STEPS·BATCH training images, in file order
const { train } = await loadMnist(mnistDir);
const n = STEPS * BATCH, d = train.rows * train.cols;
const head = { images: train.images.subarray(0, n * d), labels: train.labels.subarray(0, n), count: n, rows: train.rows, cols: train.cols };
const identity = Uint32Array.from({ length: n }, (_, i) => i);

const engines = {};
for (const [name, fused] of [['default', true], ['generic', false]]) {
  const model = Cnn.fromParams(spec, input, classes, initLayers);
  const engine = await pickStepEngine(model, head, { batch: BATCH, lr: LR, steps: STEPS, fused, checkFinite: true });
  const losses = [];
  engine.beginEpoch(0, identity);
  engine.runSteps((info) => losses.push(info.batchLoss ?? null));
  await engine.endEpoch();
  engine.dispose();
  await save(model, `steps-${name}.safetensors`);
  engines[name] = { label: engine.label, losses };
  console.error(`${name}: ${engine.label}, batch losses ${losses.map((l) => l?.toFixed(6)).join(', ')}`);
}
writeFileSync(join(dir, 'steps.json'), JSON.stringify({ seed: SEED, batch: BATCH, lr: LR, steps: STEPS, engines }, null, 1));
