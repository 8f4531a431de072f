// smoke benchmark: training steps of 784-32-16-10 at batch 64 (fixed random data), one tidy() per step.
// prints ms/step and, on webgpu, dispatches/submits/read-backs per step and the pool's size.
//   node --import ./bench/node-ts.mjs bench/webgpu-step.ts [cpu|webgpu] [matmul variant] [steps]
//   deno run -A bench/webgpu-step.ts webgpu tiled 100      (matmul variant: naive, tiled, blocked; default per device)
import type { Backend } from '../engine/backend.ts';
import { cpu } from '../engine/cpu.ts';
import { acquireDevice, type DeviceInfo } from '../engine/device.ts';
import { Tensor } from '../engine/tensor.ts';
import { createWebGpuBackend, tidy, type WebGpuBackend } from '../engine/webgpu.ts';
import { Mlp } from '../mlp/model.ts';
import { Sgd } from '../mlp/sgd.ts';

const g = globalThis as any;
const [which = 'webgpu', variant = '', stepsArg = '100'] = g.Deno ? g.Deno.args : g.process.argv.slice(2);
const got = which === 'cpu' ? null : await acquireDevice({ mode: 'webgpu' });
const gpu: WebGpuBackend | null = got ? createWebGpuBackend(got.device, variant ? { variants: { matmul: variant } } : {}) : null;
const backend: Backend = gpu ?? cpu;
const where = got ? `${describeGpu(got.info)}, matmul ${variant || 'default'}` : 'cpu';

function describeGpu(i: DeviceInfo): string {
  return `${/^\d*$/.test(i.device) ? i.description : i.device} (${i.backend}, ${i.featureLevel}, ${i.runtime})`;
}

let seed = 1;
const rnd = () => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed / 2 ** 32 - 0.5; };
const sizes = [784, 32, 16, 10], B = 64, N = Number(stepsArg);
const model = Mlp.fromParams(sizes.slice(1).map((dOut, k) => ({
  dIn: sizes[k], dOut,
  W: Float32Array.from({ length: sizes[k] * dOut }, () => rnd() * 0.1),
  b: Float32Array.from({ length: dOut }, () => rnd() * 0.1),
})), backend);
const params = model.params().map((p) => p.tensor);
const sgd = new Sgd(params, { lr: 0.01 });
const x = Float32Array.from({ length: B * 784 }, () => rnd() + 0.5), y = Float32Array.from({ length: B }, (_, i) => i % 10);

const step = () => tidy(() => {
  sgd.zeroGrad();
  const acts = model.forward(Tensor.from(x, [B, 784], { backend }), Tensor.from(y, [B], { backend }));
  Mlp.meanLoss(acts).backward();
  sgd.step();
  sgd.zeroGrad(); // the grads were made inside this tidy and are released with it
  return params;  // assign() gave the parameters new storage: keep it
});

for (let i = 0; i < 5; i++) step();
await params[0].read();
const s0 = gpu?.stats();
const t0 = performance.now();
for (let i = 0; i < N; i++) step();
await params[0].read(); // waits for the last step
const ms = (performance.now() - t0) / N;
const s1 = gpu?.stats();
const per = (k: 'dispatches' | 'submits' | 'readBacks') => ((s1![k] - s0![k]) / N).toFixed(2);
console.log(`${where}: ${N} steps, ${ms.toFixed(2)} ms/step` + (s1
  ? `, dispatches/step ${per('dispatches')}, submits/step ${per('submits')}, read-backs ${s1.readBacks - s0!.readBacks} (the final read), pool: ${s1.buffersLive} live, ${s1.buffersPooled} pooled, ${s1.buffersCreated} created`
  : ''));
