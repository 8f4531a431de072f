import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatSuiteTables, RESULT_FILES, runPostTrainingSuite } from '../../analysis/suite.ts';
import { loadSavedModel, savePostTrainingResults } from '../../run/analyze.ts';
import { evaluate } from '../../mlp/train.ts';
import { saveModelFile } from '../../run/model-files.ts';
import { assertClose } from '../helpers/close.ts';
import { makeSplit, randomCase, selectiveNet } from './fixtures.ts';
import { mlpOnly } from '../../mlp/net.ts';

test('a constructed network: known top-k, selectivity and ablation effect', async () => {
  const images = [[255, 0], [255, 0], [0, 255], [0, 255], [0, 255], [0, 0], [0, 0]];
  const split = makeSplit(images, [0, 0, 1, 1, 1, 2, 2]);
  const r = await runPostTrainingSuite(selectiveNet(), split, { tsne: false, umap: false, randomTrials: 2, sizeTrials: 2 });
  assert.equal(r.accuracy.perClass, [100, 100, 100]);
  assert.equal(r.topk.k, 3);
  assert.equal(r.topk.activation, [[0, 1], [1, 0], [0, 1]]);
  // d logit_y / d h = W_out[:, y]: (1, 0), (0, 1), (0, 0)
  assert.equal(r.topk.gradTrueLogit, [[0, 1], [1, 0], [0, 1]]);
  // class 0: neuron 0 μ_c = 1, μ_rest = 0; neuron 1 μ_c = 0, μ_rest = (1 + 0) / 2
  assertClose(r.selectivity.scores[0], [1 / 1.001, -0.5 / 0.501]);
  assert.equal(r.topk.selectivity[1], [1, 0]);
  // focus: the last class (2) has no selective neuron of its own; neuron 0 comes first on the tie
  assert.is(r.interventions.focus.cls, 2);
  const sweep = r.interventions.sweep;
  assert.equal(sweep.neurons[0].perClassDelta[0], [-100, 0, 0]);
  assert.equal(sweep.neurons[1].perClassDelta[0], [0, -100, 0]);
  assert.equal(r.classMeans.logits[0], [1, 0, 0.5]);
  assert.equal(Object.keys(r.classMeans), ['layers.0.pre', 'layers.0.post', 'logits']);
});

test('invariants on a random model: confusion rows sum to class counts, scale 1 is the baseline, files saved', async () => {
  const { model, split } = randomCase(21, 240);
  const r = await runPostTrainingSuite(model, split, {
    layer: 0, tsne: { sample: 60, perplexity: 5, iterations: 260 }, umap: { sample: 40, nEpochs: 30 }, silhouetteUmap: {},
    randomTrials: 3, sizeTrials: 2, silhouetteSample: 100, steps: 4,
    subsets: { mine: [0, 2] }, orderings: { backwards: [5, 4, 3, 2, 1, 0] },
  });
  const base = await evaluate(model, split, { batch: 64 });
  assert.equal(r.accuracy.perClass, base.perClass);
  assert.equal(r.accuracy.confusion.map((row) => row.reduce((a, b) => a + b, 0)), r.accuracy.counts);
  const an = r.interventions.focus.analysis;
  assert.equal(an.perClassAccuracy[an.scales.indexOf(1)], base.perClass);
  assert.equal(an.confusion.baseline, r.accuracy.confusion);
  assert.equal(r.interventions.sweep.baseline.perClass, base.perClass);
  assert.equal(r.meta.target, 'layers.0.post');
  assert.is(r.saliency.abs.shape[0], 6);
  assert.equal(r.oneHotMaps.maps.shape, [6, 9]);
  assert.is(r.projections.tsne!.rows.length, 60);
  assert.is(r.projections.umap!.embedding.shape[0], 40);
  assert.equal(r.silhouette.vsSize.sizes, [2, 4, 6]);
  assert.ok(r.silhouette.subsets.some((s) => s.name === 'mine'));
  assert.equal(r.silhouette.vsSize.orderings.map((o) => o.name), ['selectivity overlap (top-3)', 'backwards']);
  assert.is(r.silhouette.vsSize.all, r.silhouette.subsets[0].full);
  // NB02 cells 60–67: neuron 7, or the layer's last (5 here), by linspace(0, 3, 20); its baseline is the model's
  assert.equal(r.neuronSweep.neurons, [5]);
  assert.is(r.neuronSweep.scales.length, 20);
  assert.equal(r.neuronSweep.baseline.perClass, base.perClass);
  assert.equal(r.neuronSweep.confusion.baseline, r.accuracy.confusion);
  // silhouettes: three labelled columns, the UMAP one on min(500, 100) rows for the first 3 trials
  assert.equal(r.silhouette.columns.map((c) => `${c.label} ${c.rows}`), ['full space 100', 'PCA 2-D 100', 'UMAP 2-D 100']);
  assert.is(r.silhouette.count, 240);
  assert.ok(r.silhouette.random.trials.every((t) => typeof t.umap === 'number'));
  const lines = formatSuiteTables(r);
  assert.ok(lines.length > 20);
  assert.ok(lines.includes('silhouette on a seeded sample of 100 of the 240 test images; UMAP 2-D on 100 of those rows, umap-js 100 epochs, seeded: full space / PCA 2-D / UMAP 2-D'), lines.join('\n'));
  assert.ok(lines.some((l) => l.startsWith('neuron 5 scaled by 20 scales from 0 to 3 (NB02 cells 60–67)')));

  const dir = await mkdtemp(join(tmpdir(), 'mlp-lens-suite-'));
  try {
    await saveModelFile(join(dir, 'model.safetensors'), await model.export());
    const loaded = await loadSavedModel(dir);
    assert.equal(mlpOnly(loaded.model, 'this test').sizes, model.sizes);
    const out = await savePostTrainingResults(loaded.dir, r);
    const files = await readdir(out);
    assert.equal(files.filter((f) => f.endsWith('.json')).sort(), RESULT_FILES.map((f) => `${f}.json`).sort());
    for (const f of ['accuracy.csv', 'confusion.csv', 'topk.csv', 'layer-sweep.csv', 'neuron-sweep.csv', 'neuron-sweep-confusion-ablationMinusBaseline.csv', 'silhouette-vs-size.csv', 'activations-layers.0.post.csv']) {
      assert.ok(files.includes(f), f);
    }
    const csv = (await readFile(join(out, 'confusion.csv'), 'utf8')).trim().split('\n');
    assert.is(csv[0], 'true,pred0,pred1,pred2,pred3');
    assert.is(csv.length, 5);
    assert.is((await readFile(join(out, 'activations-layers.0.post.csv'), 'utf8')).trim().split('\n').length, 241);
    const acc = JSON.parse(await readFile(join(out, 'accuracy.json'), 'utf8'));
    assert.equal(acc.confusion, r.accuracy.confusion);
    const proj = JSON.parse(await readFile(join(out, 'projections.json'), 'utf8'));
    assert.is(proj.pca.embedding.data.length, 2 * 240);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
