// analysis/suite.ts with a helper thread (engine/threads.ts): the interventions, t-SNE's iterations and item 34's
// silhouette curves run there, every draw of the generator still made here in the same order, so the
// results equal the one-thread suite's exactly (timings aside); MLP_LENS_THREADS=1's fallback too.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runPostTrainingSuite, type SuiteOptions } from '../../analysis/suite.ts';
import { HelperThread } from '../../engine/threads.ts';
import { randomCase } from './fixtures.ts';

/** the results without what measures time (timings, each projection's seconds) */
function untimed(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(untimed);
  if (ArrayBuffer.isView(value)) return value;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).filter(([k]) => k !== 'timings' && k !== 'seconds').map(([k, v]) => [k, untimed(v)]));
  }
  return value;
}

const opts: SuiteOptions = {
  tsne: { sample: 70, perplexity: 6, iterations: 260 }, umap: { sample: 50, nEpochs: 20, subspaces: true },
  silhouetteUmap: { sample: 40, trials: 2, nEpochs: 10 }, randomTrials: 4, sizeTrials: 3, silhouetteSample: 120, steps: 4,
  subsets: { mine: [0, 2, 4] }, orderings: { backwards: [7, 6, 5, 4, 3, 2, 1, 0] },
};

test('the suite with a helper thread gives what it gives on one thread (deep-equal, timings aside)', async () => {
  const { model, split } = randomCase(21, 240, [9, 8, 6, 4]);
  const alone = await runPostTrainingSuite(model, split, opts);
  const helper = new HelperThread(true);
  try {
    const lines: string[] = [];
    const both = await runPostTrainingSuite(model, split, { ...opts, helper, log: (l) => lines.push(l) });
    assert.is(helper.fallback, null);
    assert.ok(lines.some((l) => /\(on the helper thread\)$/.test(l)), 'sections ran on the helper thread');
    assert.equal(untimed(both), untimed(alone));
    assert.equal(Object.keys(both.timings), Object.keys(alone.timings));
    // the options shown in meta leave the helper out
    assert.is((both.meta.options as Record<string, unknown>).helper, undefined);
    // a second suite on the same helper (started already), layer 0 and the pre-activations
    const again = await runPostTrainingSuite(model, split, { ...opts, layer: 0, site: 'pre', rawPixels: false, helper });
    assert.equal(untimed(again), untimed(await runPostTrainingSuite(model, split, { ...opts, layer: 0, site: 'pre', rawPixels: false })));
  } finally {
    await helper.close();
  }
});

test('a helper that runs every call here (MLP_LENS_THREADS=1) gives the same results too', async () => {
  const { model, split } = randomCase(5, 150);
  const small: SuiteOptions = { ...opts, subsets: undefined, orderings: undefined };
  // a failing part (sizes beyond the layer's width) fails the suite, here and on the helper thread alike
  const helper = new HelperThread(true);
  try {
    for (const h of [undefined, helper]) {
      let message = '';
      try { await runPostTrainingSuite(model, split, { ...small, sizes: [2, 40], helper: h }); } catch (e) { message = (e as Error).message; }
      assert.match(message, /sizes must increase/);
    }
  } finally {
    await helper.close();
  }
  const alone = await runPostTrainingSuite(model, split, small);
  const here = new HelperThread(false);
  assert.equal(untimed(await runPostTrainingSuite(model, split, { ...small, helper: here })), untimed(alone));
});

test.run();
