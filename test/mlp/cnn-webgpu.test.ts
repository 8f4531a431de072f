// The reference CNN on WebGPU (Mesa's software adapter in CI) against the cpu backend: a few generic
// autograd steps from the same weights and the same batches give the same weights and the same recorded
// statistics (computed on the device from the recorder's slots on webgpu, on the host on the cpu) within
// f32 summation-order differences; and a short run through the run layer writes per-channel statistics
// rows for the conv layers. A machine without any WebGPU adapter prints why and skips.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeEpochStats, type EpochStats } from '../../analysis/epoch-stats.ts';
import { computeEpochStatsOnDevice } from '../../analysis/epoch-stats-gpu.ts';
import type { Backend } from '../../engine/backend.ts';
import { cpu } from '../../engine/cpu.ts';
import { createRng } from '../../engine/rng.ts';
import { parseArch, REFERENCE_CNN, type LayerSpec } from '../../mlp/arch.ts';
import { Cnn } from '../../mlp/cnn.ts';
import type { Mnist } from '../../mlp/mnist.ts';
import type { EpochRecord } from '../../mlp/recorder.ts';
import { train } from '../../mlp/train.ts';
import { loadMnist } from '../../run/mnist-files.ts';
import { runInDirectory } from '../../run/run.ts';
import { REFERENCE_SETTINGS } from '../../run/session.ts';
import { skipped } from '../helpers/skip.ts';
import { describeGpu, testGpu } from '../setup/gpu.ts';

const t = suite('the reference CNN on webgpu');
const gpu = await testGpu();
const full = await loadMnist();
// a 100-image test split: the epoch's evaluation is not what is tested, and keeps the file short
const mnist: Mnist = { ...full, test: { ...full.test, count: 100, images: full.test.images.subarray(0, 100 * 784), labels: full.test.labels.subarray(0, 100) } };
const SPEC = (parseArch(REFERENCE_CNN) as { layers: LayerSpec[] }).layers;
const STEPS = 6;

/** largest |a − b| over the largest |a| */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let err = 0, scale = 0;
  for (let i = 0; i < a.length; i++) { err = Math.max(err, Math.abs(a[i] - b[i])); scale = Math.max(scale, Math.abs(a[i])); }
  return scale === 0 ? err : err / scale;
}

if ('skip' in gpu) {
  t.before(() => skipped(gpu.skip));
  t.skip('a few steps on webgpu and on the cpu from the same weights: same weights, same statistics', () => {});
  t.skip('a short CNN run through the run layer writes per-channel statistics of the conv layers', () => {});
} else {
  t.before(() => console.log(`  adapter: ${describeGpu(gpu.info)}`));

  t('a few steps on webgpu and on the cpu from the same weights: same weights, same statistics', async () => {
    const run = async (backend: Backend) => {
      const rng = createRng('torch', 31416);
      const model = Cnn.init(SPEC, [1, 28, 28], 10, rng, backend);
      let record: EpochRecord | null = null;
      // the generic step on both backends (the cpu's fused CNN step is tested against it elsewhere)
      const [m] = await train(model, mnist, rng, { epochs: 1, batch: 64, lr: 0.01, steps: STEPS, record: true, recordOnDevice: backend !== cpu, fused: false }, {
        onEpoch: (_, r) => { record = r; },
      });
      const rec = record as unknown as EpochRecord;
      const opts = { classes: 10, firstBatch: 64 };
      const stats: EpochStats = backend === cpu ? computeEpochStats(rec, opts) : await computeEpochStatsOnDevice(rec.device!, opts);
      rec.device?.release();
      return { m, stats, params: await model.export() };
    };
    const a = await run(cpu), b = await run(gpu.backend);
    a.params.forEach((p, k) => {
      const eW = relErr(p.W, b.params[k].W), eb = relErr(p.b, b.params[k].b);
      assert.ok(eW < 1e-5 && eb < 1e-5, `layers.${k}: W rel err ${eW}, b rel err ${eb}`);
    });
    assert.ok(Math.abs(a.m.trainLoss - b.m.trainLoss) < 1e-5, `train loss ${a.m.trainLoss} vs ${b.m.trainLoss}`);
    assert.is(a.m.trainAccuracy, b.m.trainAccuracy);
    const names = ['layers.0.pre', 'layers.0.post', 'layers.0.pool', 'layers.1.pre', 'layers.1.post', 'layers.1.pool', 'layers.2.pre', 'logits'];
    assert.equal(Object.keys(b.stats.acts).sort(), Object.keys(a.stats.acts).sort());
    for (const name of names) {
      for (const kind of ['acts', 'grads'] as const) {
        const sa = (a.stats[kind] as any)[name], sb = (b.stats[kind] as any)[name];
        assert.is(sb.width, sa.width, `${kind}.${name} width`);
        const eMean = relErr(sa.perNeuron.mean, sb.perNeuron.mean), eStd = relErr(sa.perNeuron.std, sb.perNeuron.std);
        assert.ok(eMean < 1e-4 && eStd < 1e-4, `${kind}.${name}: per-channel mean rel err ${eMean}, std ${eStd}`);
        assert.is(sb.all.count, sa.all.count);
        assert.equal(sb.perClass.count, sa.perClass.count);
      }
    }
    // parameter gradient norms, step by step (Σ g² on the device vs float64 on the host)
    const pa = (a.stats as any).params, pb = (b.stats as any).params;
    assert.equal(pb.names, pa.names);
    const eNorm = relErr(pa.stepNorm.flat(), pb.stepNorm.flat());
    assert.ok(eNorm < 1e-4, `parameter gradient norms rel err ${eNorm}`);
  });

  t('a short CNN run through the run layer writes per-channel statistics of the conv layers', async () => {
    const root = mkdtempSync(join(tmpdir(), 'mlp-lens-cnn-webgpu-'));
    try {
      const r = await runInDirectory({
        ...REFERENCE_SETTINGS, sizes: [784, 10], arch: 'cnn', epochs: 1, steps: 4, device: 'webgpu', data: mnist,
        out: join(root, 'run'), analysis: false, report: false,
      });
      const stats = JSON.parse(readFileSync(join(r.dir, 'stats', 'epoch-000.json'), 'utf8'));
      assert.is(stats.count, 4 * 64);
      for (const [name, channels] of [['layers.0.pre', 8], ['layers.0.post', 8], ['layers.0.pool', 8], ['layers.1.pre', 16], ['layers.1.post', 16], ['layers.1.pool', 16]] as const) {
        for (const kind of ['acts', 'grads']) {
          const s = stats[kind][name];
          assert.ok(s, `${kind}.${name} recorded`);
          assert.is(s.width, channels, `${kind}.${name}: one unit per channel`);
          assert.is(s.perNeuron.mean.length, channels);
          assert.is(s.all.count, 4 * 64 * channels);
          assert.ok(s.perNeuron.mean.every(Number.isFinite), `${kind}.${name}: finite channel means`);
        }
      }
      assert.is(JSON.parse(readFileSync(join(r.dir, 'metrics.json'), 'utf8')).status, 'done');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
}

t.run();
