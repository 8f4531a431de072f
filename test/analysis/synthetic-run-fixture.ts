// A small synthetic run with every part the figures draw (analysis/figures/): a 9-6-5-4 network's suite on
// 120 random samples, three epochs' statistics from hand-made records, input statistics, and the section
// through training from its fixture. Shared by test/analysis/figures.test.ts and render-figures-fast.test.ts.
import { computeEpochStats } from '../../analysis/epoch-stats.ts';
import type { RunResults } from '../../analysis/figures/index.ts';
import { computeInputStats } from '../../analysis/input-stats.ts';
import { runPostTrainingSuite } from '../../analysis/suite.ts';
import { createRng } from '../../engine/rng.ts';
import type { EpochRecord } from '../../mlp/recorder.ts';
import type { EpochMetrics } from '../../mlp/train.ts';
import { randomCase } from './fixtures.ts';
import { fixtureFirstLayer, makeThroughTraining } from './through-training-fixture.ts';

/** a hand-made epoch record: 40 samples of 4 classes through a 9-6-5-4 network's named tensors */
export function syntheticRecord(epoch: number): EpochRecord {
  const rng = createRng('mlp-lens', 100 + epoch), n = 40;
  const slot = (width: number, relu = false) => ({
    width, data: Float32Array.from({ length: n * width }, () => {
      const v = ((rng.nextU32() >>> 8) / 16777216 - 0.4) * (1 + epoch);
      return relu ? Math.max(0, v) : v;
    }),
  });
  const acts = { 'layers.0.pre': slot(6), 'layers.0.post': slot(6, true), 'layers.1.pre': slot(5), 'layers.1.post': slot(5, true), logits: slot(4) };
  return {
    epoch, count: n, labels: Uint8Array.from({ length: n }, (_, i) => i % 4), indices: Uint32Array.from({ length: n }, (_, i) => i),
    acts, grads: { 'layers.0.pre': slot(6), logits: slot(4) },
  };
}

/** the synthetic run */
export async function syntheticRun(): Promise<RunResults> {
  const { model, split } = randomCase(7, 120);
  const analysis = await runPostTrainingSuite(model, split, {
    steps: 4, tsne: { sample: 40, perplexity: 5, iterations: 260 }, umap: { sample: 40, nEpochs: 20 },
    randomTrials: 2, sizeTrials: 2, silhouetteSample: 60, saliency: { index: 3 },
  });
  const stats = [0, 1, 2].map((e) => computeEpochStats(syntheticRecord(e), { classes: 4, firstBatch: 8 }));
  const epochs: EpochMetrics[] = [0, 1, 2].map((epoch) => ({
    epoch, trainLoss: 1 / (epoch + 1), trainAccuracy: 50 + 10 * epoch, testLoss: 1.1 / (epoch + 1), testAccuracy: 48 + 10 * epoch, samples: 40, steps: 5, seconds: 0.1,
  }));
  return {
    name: 'synthetic', metrics: { epochs }, stats, input: computeInputStats(split, { classes: 4, firstN: 100 }), analysis, test: split,
    // the section through training from its fixture (784-8-6-4 on its own sample: buildFigures draws each part on its own)
    throughTraining: makeThroughTraining(4), firstLayerWeights: fixtureFirstLayer(),
  };
}
