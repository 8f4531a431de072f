// when training goes wrong: a NaN or Inf stops it in the epoch where it appears, naming the first tensor
// in model order (cpu: at that step; webgpu: at the epoch's end, from flags accumulated on the device,
// with no read-back inside the epoch), and a GPU device that is lost or out of memory ends the run with
// a GpuDeviceError instead of a hang. Either way the epoch never reaches onEpoch, so it is never saved.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Backend } from '../../engine/backend.ts';
import { cpu } from '../../engine/cpu.ts';
import { acquireDevice } from '../../engine/device.ts';
import { matmul } from '../../engine/ops/index.ts';
import { createRng } from '../../engine/rng.ts';
import { Tensor } from '../../engine/tensor.ts';
import { createWebGpuBackend, GpuDeviceError, type WebGpuBackend } from '../../engine/webgpu.ts';
import { loadMnist } from '../../run/mnist-files.ts';
import { type Mnist, type Split } from '../../mlp/mnist.ts';
import { Mlp } from '../../mlp/model.ts';
import { DivergenceError, train, type TrainOptions } from '../../mlp/train.ts';
import { describeGpu, testGpu } from '../setup/gpu.ts';
import { skipped } from '../helpers/skip.ts';

const mnist = await loadMnist();
const gpu = await testGpu();
const head = (s: Split, n: number): Split => ({ ...s, count: n, images: s.images.subarray(0, n * s.rows * s.cols), labels: s.labels.subarray(0, n) });
const small: Mnist = { ...mnist, train: head(mnist.train, 640), test: head(mnist.test, 100) };

interface Outcome { error: unknown; steps: string[]; epochs: number[]; readsInEpoch: number }

/**
 * trains the reference 784-32-16-10 model (weights changed by `poison` first) and reports how it ended: the error,
 * the steps reported to onStep, the epochs that reached onEpoch, and (webgpu) read-backs inside epoch 0
 */
async function attempt(backend: Backend, opts: Partial<TrainOptions>, poison?: (layers: Awaited<ReturnType<Mlp['export']>>) => void,
  onStep?: (model: Mlp, epoch: number, step: number) => void, data: Mnist = small): Promise<Outcome> {
  const rng = createRng('torch', 4);
  const layers = await Mlp.init([784, 32, 16, 10], rng).export();
  poison?.(layers);
  const model = Mlp.fromParams(layers, backend);
  const out: Outcome = { error: null, steps: [], epochs: [], readsInEpoch: -1 };
  const gpuStats = () => (backend as WebGpuBackend).stats?.().readBacks ?? 0;
  let first = 0;
  try {
    await train(model, data, rng, { epochs: 2, batch: 64, lr: 0.01, ...opts }, {
      onStep: ({ epoch, step, steps }) => {
        out.steps.push(`${epoch}:${step}`);
        if (epoch === 0 && step === 0) first = gpuStats();
        if (epoch === 0 && step === steps - 1) out.readsInEpoch = gpuStats() - first;
        onStep?.(model, epoch, step);
      },
      onEpoch: (m) => { out.epochs.push(m.epoch); },
    });
  } catch (e) {
    out.error = e;
  }
  return out;
}

function expectDivergence(o: Outcome, epoch: number, step: number, tensor: string, detail: RegExp): DivergenceError {
  assert.instance(o.error, DivergenceError, `expected a DivergenceError, got ${o.error}`);
  const e = o.error as DivergenceError;
  assert.equal([e.epoch, e.step, e.tensor], [epoch, step, tensor], e.message);
  assert.match(e.message, new RegExp(`^training diverged in epoch ${epoch}, step ${step}: ${tensor.replace(/\./g, '\\.')} `));
  assert.match(e.detail, detail);
  assert.ok(!o.epochs.includes(epoch), 'the epoch that went bad never reached onEpoch (never saved)');
  return e;
}

// every W of layer 1 NaN: layer 0 is fine, layer 1's pre-activation is the first bad tensor
const nanLayer1 = (l: Awaited<ReturnType<Mlp['export']>>) => { l[1].W.fill(NaN); };
// +Inf put into layers.0.b after step 2 of epoch 1: step 3's layers.0.pre is the first bad tensor
const infBiasAt = (backend: Backend) => (model: Mlp, epoch: number, step: number) => {
  if (epoch === 1 && step === 2) model.layers[0].b.assign(Tensor.from(new Float32Array(32).fill(Infinity), [32], { backend }));
};

// --- cpu: checked after every step
const onCpu = suite('divergence on the cpu: stops at the step, names the first bad tensor');

onCpu('NaN weights: epoch 0, step 0, layers.1.pre, before any onStep', async () => {
  const o = await attempt(cpu, {}, nanLayer1);
  expectDivergence(o, 0, 0, 'layers.1.pre', /^holds NaN \(element \d+ of \[64, 16\]\)$/);
  assert.equal(o.steps, [], 'stopped at step 0');
});

onCpu('Inf injected mid-run: epoch 1, step 3, layers.0.pre; the good epoch 0 ended normally', async () => {
  const o = await attempt(cpu, { steps: 6 }, undefined, infBiasAt(cpu));
  expectDivergence(o, 1, 3, 'layers.0.pre', /^holds Infinity/);
  assert.equal(o.epochs, [0]);
  assert.equal(o.steps.slice(-3), ['1:0', '1:1', '1:2'], 'no step after the bad one');
});

onCpu('a parameter is checked after its update (an Inf weight on an always-blank pixel never shows in the activations on the cpu)', async () => {
  // pixel 0 (the top-left corner) is 0 in every MNIST image; the cpu matmul skips zero inputs, as BLAS does
  const o = await attempt(cpu, {}, (l) => { l[0].W.fill(Infinity, 0, 32); });
  expectDivergence(o, 0, 0, 'layers.0.W', /^holds Infinity \(element 0 of \[784, 32\]\) after the SGD update$/);
});

onCpu('a learning rate of 1e6 on the reference model diverges in epoch 0 (real overflow, no injection)', async () => {
  const o = await attempt(cpu, { lr: 1e6, steps: 20, epochs: 1 }, undefined, undefined, mnist);
  assert.instance(o.error, DivergenceError);
  const e = o.error as DivergenceError;
  console.log(`  lr 1e6: ${e.message}`);
  assert.is(e.epoch, 0);
  assert.ok(e.step > 0 && e.step < 20, 'not before the first update');
});

onCpu('checkFinite: false trains on through NaN (the check is what stops it)', async () => {
  const o = await attempt(cpu, { checkFinite: false, steps: 3 }, nanLayer1);
  assert.is(o.error, null);
  assert.equal(o.epochs, [0, 1]);
});

onCpu.run();

// --- webgpu: flags on the device, read with the epoch's totals
const onGpu = suite('divergence on webgpu: flagged on the device, reported at the epoch end');

if ('skip' in gpu) {
  onGpu.before(() => console.log(`skipped: ${gpu.skip}`));
  onGpu.skip('the same first bad step and tensor as the cpu, no read-back inside the epoch', () => {});
} else {
  onGpu.before(() => console.log(`  on ${describeGpu(gpu.info)}`));
  onGpu('NaN weights: epoch 0, step 0, layers.1.pre; the epoch runs to its end without a read-back', async () => {
    const o = await attempt(gpu.backend, { steps: 6 }, nanLayer1);
    expectDivergence(o, 0, 0, 'layers.1.pre', /^holds a NaN or ±Inf \(flagged on the device\)$/);
    assert.is(o.steps.length, 6, 'every step of the epoch ran (nothing is read inside it)');
    assert.is(o.readsInEpoch, 0, 'no read-back inside the epoch');
  });

  onGpu('Inf injected mid-run: epoch 1, step 3, layers.0.pre, as on the cpu', async () => {
    // the generic step: the fused one (mlp/fused-gpu.ts) encodes many steps per dispatch and reads the
    // parameters when the epoch starts, so a hook cannot change them between two of its steps
    const o = await attempt(gpu.backend, { steps: 6, fused: false }, undefined, infBiasAt(gpu.backend));
    expectDivergence(o, 1, 3, 'layers.0.pre', /flagged on the device/);
    assert.equal(o.epochs, [0]);
  });

  onGpu('a learning rate of 1e6 diverges in epoch 0 on the device too', async () => {
    const o = await attempt(gpu.backend, { lr: 1e6, steps: 20, epochs: 1 }, undefined, undefined, mnist);
    assert.instance(o.error, DivergenceError);
    console.log(`  lr 1e6: ${(o.error as Error).message}`);
    assert.is((o.error as DivergenceError).epoch, 0);
  });
}

onGpu.run();

// --- webgpu device faults (each on a device of its own: the shared one must survive)
const faults = suite('webgpu faults: a lost device or out-of-memory ends training with GpuDeviceError, no hang');

if ('skip' in gpu) {
  faults.before(() => console.log(`skipped: ${gpu.skip}`));
  faults.skip('device.destroy() mid-epoch', () => {});
} else {
  const own = async () => {
    const got = (await acquireDevice({ mode: 'webgpu' }))!;
    return { device: got.device, backend: createWebGpuBackend(got.device) };
  };

  faults('device.destroy() mid-epoch: GpuDeviceError (lost) at the epoch end; the epoch is not saved', async () => {
    const { device, backend } = await own();
    const t0 = performance.now();
    const o = await attempt(backend, { steps: 5 }, undefined, (_m, epoch, step) => { if (epoch === 1 && step === 2) device.destroy(); });
    const seconds = (performance.now() - t0) / 1000;
    assert.instance(o.error, GpuDeviceError, String(o.error));
    assert.is((o.error as GpuDeviceError).kind, 'lost');
    assert.match((o.error as Error).message, /^webgpu: the device was lost \(destroyed/);
    assert.equal(o.epochs, [0], 'epoch 0 ended (and would have been checkpointed); epoch 1 did not');
    assert.ok(seconds < 60, `ended in ${seconds.toFixed(1)} s`);
    // everything after the loss fails at once with the same error
    assert.throws(() => Tensor.from([1], [1], { backend }), /device was lost/);
  });

  faults('an out-of-memory error from the device (uncaptured) fails the epoch end with GpuDeviceError (out-of-memory)', async () => {
    const g = globalThis as any;
    if (typeof g.GPUUncapturedErrorEvent !== 'function' || typeof g.GPUOutOfMemoryError !== 'function') {
      skipped('this runtime cannot construct GPUUncapturedErrorEvent / GPUOutOfMemoryError');
      return;
    }
    const { device, backend } = await own();
    const o = await attempt(backend, { steps: 4 }, undefined, (_m, epoch, step) => {
      if (epoch === 0 && step === 1) {
        device.dispatchEvent(new g.GPUUncapturedErrorEvent('uncapturederror', { error: new g.GPUOutOfMemoryError('simulated allocation failure') }));
      }
    });
    assert.instance(o.error, GpuDeviceError, String(o.error));
    assert.is((o.error as GpuDeviceError).kind, 'out-of-memory');
    assert.match((o.error as Error).message, /webgpu: out of GPU memory: simulated allocation failure/);
    assert.equal(o.epochs, []);
    device.destroy();
  });

  faults('a tensor over the device binding limit is refused at once (GpuDeviceError out-of-memory), before allocating', () => {
    const limit = gpu.device.limits.maxStorageBufferBindingSize;
    const n = Math.ceil(Math.sqrt(limit / 4)) + 1;
    const a = Tensor.zeros([n, 1], { backend: gpu.backend }), b = Tensor.zeros([1, n], { backend: gpu.backend });
    assert.throws(() => matmul(a, b), (e: Error) => e instanceof GpuDeviceError && e.kind === 'out-of-memory' && /over maxStorageBufferBindingSize/.test(e.message));
  });
}

faults.run();
