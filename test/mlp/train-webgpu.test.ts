// one epoch of the reference run on the CPU and on WebGPU (Mesa's software adapter in CI), from the
// same initial weights and the same sample order, with recording on: the weights, the test
// predictions and the recorded epoch must agree.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { cpu } from '../../engine/cpu.ts';
import { createRng } from '../../engine/rng.ts';
import { loadMnist } from '../../run/mnist-files.ts';
import { Mlp } from '../../mlp/model.ts';
import type { EpochRecord } from '../../mlp/recorder.ts';
import { evaluate, train } from '../../mlp/train.ts';
import { testGpu } from '../setup/gpu.ts';

const t = suite('training: one reference epoch, cpu vs webgpu');
const gpu = await testGpu();
const mnist = await loadMnist();

/** largest |a − b| relative to the largest |a| of the tensor */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let err = 0, scale = 0;
  for (let i = 0; i < a.length; i++) { err = Math.max(err, Math.abs(a[i] - b[i])); scale = Math.max(scale, Math.abs(a[i])); }
  return err / scale;
}

if ('skip' in gpu) {
  t.before(() => console.log(`skipped: ${gpu.skip}`));
  t.skip('same weights, predictions and recorded epoch on both backends', () => {});
} else {
  t('same weights, predictions and recorded epoch on both backends', async () => {
    // read-backs counted from the end of step 0 to the end of the last step: none may happen there
    let inEpochReads = -1;
    const run = async (backend: typeof cpu) => {
      const rng = createRng('torch', 31416);
      const model = Mlp.init([784, 32, 16, 10], rng, backend);
      let record: EpochRecord | null = null, first = 0;
      const [m] = await train(model, mnist, rng, { epochs: 1, batch: 64, lr: 0.01, record: true }, {
        onEpoch: (_, r) => { record = r; },
        onStep: ({ step, steps }) => {
          if (backend === cpu) return;
          if (step === 0) first = gpu.backend.stats().readBacks;
          if (step === steps - 1) inEpochReads = gpu.backend.stats().readBacks - first;
        },
      });
      return { model, m, record: record as unknown as EpochRecord, test: await evaluate(model, mnist.test) };
    };
    const a = await run(cpu), b = await run(gpu.backend);
    const pa = await a.model.export(), pb = await b.model.export();
    for (let k = 0; k < 3; k++) {
      const eW = relErr(pa[k].W, pb[k].W), eb = relErr(pa[k].b, pb[k].b);
      console.log(`  layers.${k}: W rel err ${eW.toExponential(2)}, b rel err ${eb.toExponential(2)}`);
      assert.ok(eW <= 1e-4 && eb <= 1e-4, `layers.${k} weights differ: ${eW}, ${eb}`);
    }
    let differ = 0;
    for (let i = 0; i < 10000; i++) if (a.test.predictions[i] !== b.test.predictions[i]) differ++;
    console.log(`  test predictions that differ: ${differ} of 10000; train loss ${a.m.trainLoss} vs ${b.m.trainLoss}`);
    assert.ok(differ <= 5, `${differ} test predictions differ`);
    assert.ok(Math.abs(a.m.trainLoss - b.m.trainLoss) < 1e-4, 'epoch train loss');
    assert.is(a.m.trainAccuracy, b.m.trainAccuracy);
    // the recorded epoch: same rows in the same order, values within f32 rounding of a drifting run
    assert.equal(Array.from(a.record.indices), Array.from(b.record.indices));
    for (const name of ['layers.0.pre', 'layers.1.post', 'logits', 'loss'] as const) {
      const e = relErr(a.record.acts[name]!.data, b.record.acts[name]!.data);
      const g = relErr(a.record.grads[name]!.data, b.record.grads[name]!.data);
      assert.ok(e < 1e-3 && g < 1e-3, `${name}: acts rel err ${e}, grads rel err ${g}`);
    }
    assert.ok(relErr(a.record.paramGrads!.norms, b.record.paramGrads!.norms) < 1e-3, 'parameter gradient norms');
    assert.is(inEpochReads, 0, 'no read-back inside the GPU epoch');
  });
}

t.run();
