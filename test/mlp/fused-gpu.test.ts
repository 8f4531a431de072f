// the fused GPU step (mlp/fused-gpu.ts, engine/fused-train-steps.ts, shaders/train-steps.ts) against the generic autograd step on the
// same device and against the CPU oracle: same weights, totals, momentum buffers, recorded epoch and
// divergence report, on the reference model and on awkward shapes (widths 63 and 65, no hidden layer,
// batch 1, a partial last batch), across dispatch boundaries; and the guard against the loop limiter of
// Mesa's rasterisers, which silently ends a long invocation.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Backend } from '../../engine/backend.ts';
import { cpu } from '../../engine/cpu.ts';
import { createRng } from '../../engine/rng.ts';
import type { WebGpuBackend } from '../../engine/webgpu.ts';
import { FusedGpuTrainer, fusedGpuApplies } from '../../mlp/fused-gpu.ts';
import { loadMnist } from '../../run/mnist-files.ts';
import { type Mnist, type Split } from '../../mlp/mnist.ts';
import { Mlp } from '../../mlp/model.ts';
import type { EpochRecord } from '../../mlp/recorder.ts';
import { DivergenceError, train, type TrainOptions } from '../../mlp/train.ts';
import { loopIterationsPerStep, trainStepsLayout } from '../../shaders/train-steps.ts';
import { describeGpu, testGpu } from '../setup/gpu.ts';
import { acquireVulkanSwiftShader } from '../../bench/kernels-run.ts';
import { createWebGpuBackend } from '../../engine/webgpu.ts';

const t = suite('fused-gpu: the fused training step on the device');
const gpu = await testGpu();
const mnist = await loadMnist();
const head = (s: Split, n: number): Split => ({ ...s, count: n, images: s.images.subarray(0, n * s.rows * s.cols), labels: s.labels.subarray(0, n) });

/** largest |a − b| relative to the largest |a| */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let err = 0, scale = 0;
  for (let i = 0; i < a.length; i++) { err = Math.max(err, Math.abs(a[i] - b[i])); scale = Math.max(scale, Math.abs(a[i])); }
  return scale ? err / scale : err;
}

interface Run { model: Mlp; losses: number[]; accs: number[]; records: EpochRecord[]; velocity: (Float32Array | null)[]; dispatches: number; readsInEpoch: number }

async function run(backend: Backend, sizes: number[], data: Mnist, opts: Partial<TrainOptions>): Promise<Run> {
  const rng = createRng('torch', 7);
  const model = Mlp.init(sizes, rng, backend);
  const out: Run = { model, losses: [], accs: [], records: [], velocity: [], dispatches: 0, readsInEpoch: -1 };
  const stats = () => (backend.name === 'webgpu' ? (backend as WebGpuBackend).stats() : null);
  const d0 = stats()?.dispatches ?? 0;
  let reads0 = 0;
  await train(model, data, rng, { epochs: 2, batch: 64, lr: 0.05, record: true, ...opts }, {
    onStep: ({ epoch, step, steps }) => {
      if (epoch !== 0) return;
      if (step === 0) reads0 = stats()?.readBacks ?? 0;
      if (step === steps - 1) out.readsInEpoch = (stats()?.readBacks ?? 0) - reads0;
    },
    onEpoch: async (m, record, state) => {
      out.losses.push(m.trainLoss);
      out.accs.push(m.trainAccuracy);
      // slots are reused by the next epoch: copy what the test compares
      if (record) {
        const full = record.device ? { ...(await record.device.read()) } : record;
        out.records.push(structuredClone({ ...full, device: undefined }));
      }
      out.velocity = await state.velocity();
    },
  });
  out.dispatches = (stats()?.dispatches ?? 0) - d0;
  return out;
}

async function compare(a: Run, b: Run, label: string, tol: number): Promise<void> {
  const wa = await a.model.export(), wb = await b.model.export();
  wa.forEach((l, k) => {
    const eW = relErr(l.W, wb[k].W), eb = relErr(l.b, wb[k].b);
    assert.ok(eW <= tol && eb <= tol, `${label}: layers.${k} W rel err ${eW}, b ${eb}`);
  });
  a.losses.forEach((x, e) => assert.ok(Math.abs(x - b.losses[e]) <= 10 * tol, `${label}: epoch ${e} loss ${x} vs ${b.losses[e]}`));
  assert.equal(a.accs, b.accs, `${label}: train accuracy`);
  assert.is(a.velocity.length, b.velocity.length);
  a.velocity.forEach((v, k) => {
    assert.is(!!v, !!b.velocity[k], `${label}: momentum buffer ${k} present on one side only`);
    if (v) assert.ok(relErr(v, b.velocity[k]!) <= tol, `${label}: momentum buffer ${k}`);
  });
  a.records.forEach((ra, e) => {
    const rb = b.records[e];
    assert.equal(Array.from(ra.indices), Array.from(rb.indices), `${label}: recorded order`);
    assert.equal(Array.from(ra.labels), Array.from(rb.labels));
    assert.equal(Array.from(ra.batchOffsets ?? []), Array.from(rb.batchOffsets ?? []));
    assert.equal(Object.keys(ra.acts).sort(), Object.keys(rb.acts).sort());
    for (const kind of ['acts', 'grads'] as const) {
      for (const [name, slot] of Object.entries(ra[kind])) {
        const e2 = relErr(slot!.data, rb[kind][name as keyof typeof rb.acts]!.data);
        assert.ok(e2 <= 50 * tol, `${label}: epoch ${e} ${kind} ${name} rel err ${e2}`);
      }
    }
    assert.ok(ra.paramGrads && rb.paramGrads, 'parameter gradient norms recorded');
    assert.equal(ra.paramGrads!.names, rb.paramGrads!.names);
    assert.ok(relErr(ra.paramGrads!.norms, rb.paramGrads!.norms) <= 50 * tol, `${label}: gradient norms`);
  });
}

t('the loop-iteration bound covers what the kernel runs, and dispatches stay under the limiter', () => {
  const c = { sizes: [784, 32, 16, 10], batch: 64, threads: 64, momentum: true, weightDecay: true, record: true, recordRows: 60000, steps: 938, workgroupBytes: 16384, count: 60000 };
  const n = loopIterationsPerStep(c);
  // per invocation, the first layer alone: its forward, ⌈64·4/64⌉ items over up to 784 pixels each, and
  // its weight items, ⌈784·4/64⌉ over up to 64 rows each (the column's entries in a batch of 64)
  assert.ok(n >= 4 * 784 + 49 * 64, `bound ${n}`);
  // the split's densest row caps the forward's part
  assert.ok(loopIterationsPerStep(c, 351) < n, 'a sparser bound with the densest row given');
  assert.ok(trainStepsLayout(c).actsInWorkgroup, 'the reference activations fit 16 KiB of workgroup memory');
  assert.ok(!trainStepsLayout({ ...c, batch: 256 }).actsInWorkgroup, 'batch 256 goes to the state buffer');
});

if ('skip' in gpu) {
  t.before(() => console.log(`skipped: ${gpu.skip}`));
  t.skip('fused vs generic on the device, and vs the cpu', () => {});
} else {
  t.before(() => console.log(`  adapter: ${describeGpu(gpu.info)}`));

  t('reference model, 2 epochs of 150 steps: the same as the generic step on the device, and as the cpu', async () => {
    const data: Mnist = { ...mnist, train: head(mnist.train, 9600), test: head(mnist.test, 500) };
    const opts = { recordOnDevice: false };
    const fused = await run(gpu.backend, [784, 32, 16, 10], data, { ...opts, fused: true });
    const generic = await run(gpu.backend, [784, 32, 16, 10], data, { ...opts, fused: false });
    const oracle = await run(cpu, [784, 32, 16, 10], data, { ...opts, fused: false });
    await compare(generic, fused, 'fused vs generic (webgpu)', 2e-6);
    await compare(oracle, fused, 'fused vs cpu oracle', 2e-5);
    console.log(`  dispatches for 2 epochs of 150 steps (evaluation included): fused ${fused.dispatches}, generic ${generic.dispatches}`);
    // at most 64 steps a dispatch: every epoch crosses dispatch boundaries
    assert.ok(fused.dispatches < 150, `fused: ${fused.dispatches} dispatches for 300 steps`);
    assert.is(fused.readsInEpoch, 0, 'no read-back inside the epoch');
  });

  t('awkward shapes with momentum and weight decay, a partial last batch, batch 1: as the cpu oracle', async () => {
    const data: Mnist = { ...mnist, train: head(mnist.train, 200), test: head(mnist.test, 50) };
    const cases: [number[], number][] = [[[784, 63, 65, 10], 64], [[784, 10], 64], [[784, 7, 10], 1]];
    for (const [sizes, batch] of cases) {
      const opts: Partial<TrainOptions> = { batch, momentum: 0.9, weightDecay: 1e-3, steps: batch === 1 ? 40 : undefined };
      const fused = await run(gpu.backend, sizes, data, { ...opts, fused: true });
      const oracle = await run(cpu, sizes, data, { ...opts, fused: false });
      await compare(oracle, fused, `${sizes.join('-')} batch ${batch}`, 2e-5);
    }
  });

  t('the fused step applies only where it can', async () => {
    const split = head(mnist.train, 100);
    const base = { batch: 64, record: false, recordRows: 100, steps: 2 };
    assert.ok(fusedGpuApplies(Mlp.init([784, 32, 10], createRng('torch', 1), gpu.backend), split, base));
    assert.not.ok(fusedGpuApplies(Mlp.init([784, 32, 10], createRng('torch', 1), cpu), split, base), 'cpu backend');
    assert.not.ok(fusedGpuApplies(Mlp.init([100, 10], createRng('torch', 1), gpu.backend), split, base), 'input width');
    assert.throws(() => FusedGpuTrainer.create(Mlp.init([100, 10], createRng('torch', 1), gpu.backend), split, { labels: null!, lut: null! }, { ...base, lr: 0.1 }), /does not apply: input width/);
  });

  t('a NaN is reported at the same step and tensor as by the generic step', async () => {
    const data: Mnist = { ...mnist, train: head(mnist.train, 640), test: head(mnist.test, 50) };
    const outcome = async (fused: boolean) => {
      try {
        await run(gpu.backend, [784, 32, 16, 10], data, { lr: 1e6, fused, record: false });
        return 'no error';
      } catch (e) {
        assert.instance(e, DivergenceError);
        const d = e as DivergenceError;
        return `${d.epoch}:${d.step}:${d.tensor}`;
      }
    };
    const [a, b] = [await outcome(true), await outcome(false)];
    console.log(`  diverged at ${a} (fused), ${b} (generic)`);
    assert.is.not(a, 'no error');
    assert.is(a, b);
  });
}

// the configuration a hardware GPU gets (256 invocations, up to 64 steps a dispatch, no loop-limiter
// cap): on SwiftShader through Dawn's Vulkan backend, where Debian's chromium package provides the driver
const deno = !!(globalThis as { Deno?: unknown }).Deno;
const swift = deno ? null : await acquireVulkanSwiftShader().catch((e: Error) => e);
if (!swift) {
  // Deno's WebGPU is wgpu, not Dawn: this run belongs to the Node process (npm run test:node)
  t.before(() => console.log('  the SwiftShader run is Node-only (Dawn\'s Vulkan backend); not defined under Deno'));
} else if (swift instanceof Error) {
  // CI installs chromium, which brings the driver: there a missing SwiftShader is a failure, not a skip
  if ((globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env.MLP_LENS_REQUIRE_CHROMIUM === '1') throw swift;
  t.skip('the GPU configuration on SwiftShader (Dawn, Vulkan)', () => {});
  t.before(() => console.log(`  skipped the SwiftShader run: ${swift.message}`));
} else {
  t('the GPU configuration (256 invocations, 64 steps a dispatch) on SwiftShader (Dawn, Vulkan): as the cpu oracle', async () => {
    const backend = createWebGpuBackend(swift.device);
    console.log(`  adapter: ${describeGpu(swift.info)}`);
    const data: Mnist = { ...mnist, train: head(mnist.train, 9000), test: head(mnist.test, 100) };
    const opts: Partial<TrainOptions> = { momentum: 0.5, weightDecay: 1e-4 };
    const fused = await run(backend, [784, 32, 16, 10], data, { ...opts, fused: true });
    const oracle = await run(cpu, [784, 32, 16, 10], data, { ...opts, fused: false });
    await compare(oracle, fused, 'swiftshader fused vs cpu', 2e-5);
    // 141 steps an epoch in 3 dispatches (64 + 64 + 13) plus the evaluation's
    console.log(`  dispatches for 2 epochs: ${fused.dispatches}`);
    assert.ok(fused.dispatches < 2 * 141 / 10, `${fused.dispatches} dispatches: more than the loop-limiter cap would need`);
  });
}

t.run();
