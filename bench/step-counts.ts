// Benchmark: what one training step of the real loop (mlp/train.ts) costs on a backend: ms/step,
// dispatches, submits and read-backs per step, measured between the end of step 0 and the last step
// of an epoch (so a read-back anywhere inside the epoch would show). A benchmark, not a test.
//   node --import ./bench/node-ts.mjs bench/step-counts.ts [webgpu|cpu] [steps] [record]
//   deno run -A bench/step-counts.ts webgpu 200
// MLP_LENS_FAST=0: the generic autograd step instead of the fused one (TrainOptions.fused = false)
import process from 'node:process';
import type { Backend } from '../engine/backend.ts';
import { cpu } from '../engine/cpu.ts';
import { acquireDevice } from '../engine/device.ts';
import { createRng } from '../engine/rng.ts';
import { createWebGpuBackend, type WebGpuBackend, type WebGpuStats } from '../engine/webgpu.ts';
import { loadMnist } from '../run/mnist-files.ts';
import { Mlp } from '../mlp/model.ts';
import { train } from '../mlp/train.ts';

const args = (globalThis as { Deno?: { args: string[] } }).Deno?.args ?? process.argv.slice(2);
const [which = 'webgpu', stepsArg = '200', record = ''] = args;
const got = which === 'cpu' ? null : await acquireDevice({ mode: 'webgpu' });
const gpu: WebGpuBackend | null = got ? createWebGpuBackend(got.device) : null;
const backend: Backend = gpu ?? cpu;
const steps = Number(stepsArg);

const data = await loadMnist();
const rng = createRng('torch', 31416);
const model = Mlp.init([784, 32, 16, 10], rng, backend);
let first: WebGpuStats | undefined, last: WebGpuStats | undefined, t0 = 0, t1 = 0;
await train(model, { ...data, test: { ...data.test, count: 1000, images: data.test.images.subarray(0, 784000), labels: data.test.labels.subarray(0, 1000) } },
  rng, { epochs: 1, batch: 64, lr: 0.01, steps, record: record === 'record', fused: process.env.MLP_LENS_FAST !== '0' }, {
    onStep: ({ step }) => {
      if (step === 0) { first = gpu?.stats(); t0 = performance.now(); }
      if (step === steps - 1) { last = gpu?.stats(); t1 = performance.now(); }
    },
  });
const n = steps - 1;
const where = got ? `webgpu (${got.info.description || got.info.device}, ${got.info.backend}, ${got.info.runtime})` : 'cpu';
// steps only encode on the GPU: the time per step is the encode rate until the queue fills
console.log(`${where}: ${n} steps (after step 0), ${((t1 - t0) / n).toFixed(2)} ms/step encoded` + (first && last
  ? `; per step: ${((last.dispatches - first.dispatches) / n).toFixed(1)} dispatches, ${((last.submits - first.submits) / n).toFixed(2)} submits;` +
    ` read-backs inside the epoch: ${last.readBacks - first.readBacks}`
  : ''));
