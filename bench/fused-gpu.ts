// Benchmark: the WebGPU training step two ways on one device, interleaved in rounds so a shared
// machine's drift hits both alike: the generic autograd step (59 dispatches a step) and the fused step
// (mlp/fused-gpu.ts: whole steps in one workgroup, many a dispatch). Reference model, batch 64, the real
// loop (mlp/train.ts) with its test evaluation left out; prints ms/step per round and the medians. A
// benchmark, not a test.
//   node --import ./bench/node-ts.mjs bench/fused-gpu.ts [--steps 300] [--rounds 3] [--record] [--vulkan-swiftshader]
//   deno run -A bench/fused-gpu.ts --steps 300
import process from 'node:process';
import { acquireDevice } from '../engine/device.ts';
import { benchArgs, int } from '../cli/args.ts';
import { acquireVulkanSwiftShader } from './kernels-run.ts';
import { createRng } from '../engine/rng.ts';
import { createWebGpuBackend } from '../engine/webgpu.ts';
import { loadMnist } from '../run/mnist-files.ts';
import { Mlp } from '../mlp/model.ts';
import { train } from '../mlp/train.ts';

const o = benchArgs('bench/fused-gpu.ts', 'The WebGPU training step, generic vs fused, interleaved in one process.', {
  steps: { type: 'string', arg: 'N', default: '300', help: 'steps per run' },
  rounds: { type: 'string', arg: 'R', default: '3', help: 'measured rounds (after one warm-up)' },
  record: { type: 'boolean', help: 'recording on' },
  'vulkan-swiftshader': { type: 'boolean', help: "Node: Dawn's Vulkan backend on the SwiftShader driver of Debian's chromium" },
}, (o) => ({ steps: int('steps', o.steps), rounds: int('rounds', o.rounds), record: !!o.record, swiftshader: !!o['vulkan-swiftshader'] }));
const { steps, rounds, record } = o;

const got = o.swiftshader ? await acquireVulkanSwiftShader() : await acquireDevice({ mode: 'webgpu' });
if (!got) throw new Error('no WebGPU adapter');
const backend = createWebGpuBackend(got.device);
const data = await loadMnist();
// one test image: the per-epoch evaluation is not what this measures
const tiny = { ...data, test: { ...data.test, count: 1, images: data.test.images.subarray(0, 784), labels: data.test.labels.subarray(0, 1) } };

const ways = ['generic', 'fused'] as const;
const times: Record<string, number[]> = { generic: [], fused: [] };

async function once(way: typeof ways[number]): Promise<number> {
  const rng = createRng('torch', 31416);
  const model = Mlp.init([784, 32, 16, 10], rng, backend);
  const t0 = performance.now();
  const [m] = await train(model, tiny, rng, { epochs: 1, batch: 64, lr: 0.01, steps, record, fused: way !== 'generic' });
  const ms = (performance.now() - t0) / steps;
  if (!(m.trainLoss > 0)) throw new Error(`${way}: bad loss ${m.trainLoss}`);
  return ms;
}

const where = `${got.info.description || got.info.device} (${got.info.backend}, ${got.info.runtime})`;
console.log(`${where}: ${steps} steps per run, recording ${record ? 'on' : 'off'}, ${rounds} rounds (+1 warm-up)`);
for (const way of ways) await once(way); // pipelines built, data uploaded
for (let r = 0; r < rounds; r++) {
  // alternate the order between rounds
  const order = r % 2 ? [...ways].reverse() : ways;
  const row: string[] = [];
  for (const way of order) {
    const ms = await once(way);
    times[way].push(ms);
    row.push(`${way} ${ms.toFixed(2)}`);
  }
  console.log(`  round ${r + 1}: ${row.join(', ')} ms/step`);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`median ms/step: ${ways.map((w) => `${w} ${median(times[w]).toFixed(2)}`).join(', ')}` +
  ` (fused × ${(median(times.generic) / median(times.fused)).toFixed(2)} faster)`);
process.exit(0);
