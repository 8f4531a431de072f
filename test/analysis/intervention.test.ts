import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { imagesFromSplit } from '../../analysis/forward-cache.ts';
import { analyzeNeuron, evaluateUnderScaling, linspace, scalesWithOne, sweepLayer, sweepNeuron } from '../../analysis/intervention.ts';
import { Tensor } from '../../engine/tensor.ts';
import { evaluate } from '../../mlp/train.ts';
import { assertClose } from '../helpers/close.ts';
import { randomCase, selectiveData, selectiveNet, selectiveNet2 } from './fixtures.ts';

test('scales: linspace with 1.0 inserted and sorted when absent', () => {
  assert.equal(scalesWithOne(0, 3, 3), [0, 1, 1.5, 3]);
  assert.equal(scalesWithOne(0, 2, 3), [0, 1, 2]);
  assert.equal(scalesWithOne(2, 4, 1), [1, 2]);
  assertClose(scalesWithOne(0, 3, 30).slice(0, 3), [0, 3 / 29, 6 / 29]);
});

test('ablating the class-0 neuron sends class 0 to class 2 and nothing else moves (by hand)', async () => {
  const data = selectiveData([4, 3, 2]);
  for (const [model, layer] of [[selectiveNet(), 0], [selectiveNet2(), 1], [selectiveNet2(), 0]] as const) {
    const r = await analyzeNeuron(model, layer, 0, data, [0, 3], 4); // scales 0, 1, 2, 3
    assert.equal(r.scales, [0, 1, 2, 3]);
    assert.equal(r.perClassAccuracy.map((p) => p[0]), [0, 100, 100, 100], `layer ${layer}: class 0`);
    assert.equal(r.perClassAccuracy.map((p) => [p[1], p[2]]), [[100, 100], [100, 100], [100, 100], [100, 100]]);
    assert.equal(r.confusion.ablation, [[0, 0, 4], [0, 3, 0], [0, 0, 2]]);
    assert.equal(r.confusion.baseline, [[4, 0, 0], [0, 3, 0], [0, 0, 2]]);
    assert.equal(r.confusion.ablationMinusBaseline, [[-4, 0, 4], [0, 0, 0], [0, 0, 0]]);
    assert.equal(r.confusion.maxMinusBaseline, [[0, 0, 0], [0, 0, 0], [0, 0, 0]]);
    // class 0's logits are (s, 0, 0.5) at scale s
    assertClose(r.meanLogitsByClass.map((m) => m[0]).flat(), [0, 0, 0.5, 1, 0, 0.5, 2, 0, 0.5, 3, 0, 0.5]);
    // over all 9 samples: logit 0 = 4s/9, logit 1 = 3/9, logit 2 = 0.5
    assertClose(r.meanLogits[3], [12 / 9, 3 / 9, 0.5]);
  }
});

test('scaling below the decision point flips class 0; several neurons scale together', async () => {
  const data = selectiveData([4, 3, 2]);
  const [half, both] = await evaluateUnderScaling(selectiveNet(), data, 'layers.0.post', [
    { neurons: [0], scale: 0.4 }, { neurons: [0, 1], scale: 0 },
  ]);
  assert.equal(half.perClass, [0, 100, 100]);
  assert.equal(both.perClass, [0, 0, 100]);
  assert.equal(both.confusion, [[0, 0, 4], [0, 0, 3], [0, 0, 2]]);
  // scaling the pre-activation by −1 kills the ReLU's output too
  const [neg] = await evaluateUnderScaling(selectiveNet(), data, 'layers.0.pre', [{ neurons: [1], scale: -1 }]);
  assert.equal(neg.perClass, [100, 0, 100]);
});

test('sweepLayer: every neuron alone, deltas from the unmodified model', async () => {
  const s = await sweepLayer(selectiveNet(), 0, selectiveData([4, 3, 2]), { scales: [0, 3] });
  assert.equal(s.baseline.perClass, [100, 100, 100]);
  assert.equal(s.neurons.map((n) => n.perClassDelta[0]), [[-100, 0, 0], [0, -100, 0]]);
  assert.equal(s.neurons.map((n) => n.accuracy), [[500 / 9, 100], [600 / 9, 100]]);
});

test('scale 1 reproduces the baseline accuracy exactly; scaled logits match a hand-written forward pass', async () => {
  const { model, split } = randomCase(11, 80);
  const data = imagesFromSplit(split);
  const base = await evaluate(model, split, { batch: 32 });
  const r = await analyzeNeuron(model, 1, [2, 4], data, [0, 2], 3);
  const one = r.scales.indexOf(1);
  assert.equal(r.perClassAccuracy[one], base.perClass);
  assert.is(r.accuracy[one], base.accuracy);
  // independent: scale columns 2 and 4 of layers.1.post by 2 in a host loop, then the output layer
  const [W2, b2] = [model.layers[2].W.data(), model.layers[2].b.data()];
  const post = model.forward(Tensor.from(data.x, [data.count, 9]))['layers.1.post']!.data();
  let right = 0;
  for (let i = 0; i < data.count; i++) {
    const h = Array.from(post.subarray(i * 5, i * 5 + 5), (v, j) => (j === 2 || j === 4 ? v * 2 : v));
    const z = [0, 1, 2, 3].map((c) => h.reduce((s, v, j) => s + v * W2[j * 4 + c], b2[c]));
    if (z.indexOf(Math.max(...z)) === data.labels[i]) right++;
  }
  assertClose([r.accuracy[r.scales.indexOf(2)]], [(100 * right) / data.count], { atol: 1e-9 });
});

test('linspace: torch.linspace(0, 3, 20) has 20 scales, ends exact, no 1.0', () => {
  const s = linspace(0, 3, 20);
  assert.is(s.length, 20);
  assert.is(s[0], 0);
  assert.is(s[19], 3);
  assertClose([s[1], s[6], s[7]], [3 / 19, 18 / 19, 21 / 19]);
  assert.not.ok(s.includes(1));
  assert.throws(() => linspace(0, 3, 0), /positive integer/);
});

test('sweepNeuron (NB02 cells 60–67): the scales as given, per-class accuracy by hand, ablation − baseline', async () => {
  // selectiveNet: class 0's logits are (s, 0, 0.5) at scale s of neuron 0: right only when s > 0.5
  const data = selectiveData([4, 3, 2]);
  const r = await sweepNeuron(selectiveNet(), 0, 0, data, linspace(0, 0.8, 5)); // 0, 0.2, 0.4, 0.6, 0.8
  assert.is(r.scales.length, 5);
  assert.not.ok(r.scales.includes(1), 'no 1.0 inserted');
  assert.equal(r.perClassAccuracy.map((p) => p[0]), [0, 0, 0, 100, 100]);
  assert.equal(r.perClassAccuracy.map((p) => [p[1], p[2]]), Array(5).fill([100, 100]));
  assertClose(r.accuracy, [500 / 9, 500 / 9, 500 / 9, 100, 100]);
  assert.equal(r.counts, [4, 3, 2]);
  // the unmodified model and the ablation come whether or not 1 and 0 are swept
  assert.equal(r.baseline.perClass, [100, 100, 100]);
  assert.equal(r.confusion.baseline, [[4, 0, 0], [0, 3, 0], [0, 0, 2]]);
  assert.equal(r.confusion.ablation, [[0, 0, 4], [0, 3, 0], [0, 0, 2]]);
  assert.equal(r.confusion.ablationMinusBaseline, [[-4, 0, 4], [0, 0, 0], [0, 0, 0]]);
  const up = await sweepNeuron(selectiveNet(), 0, 1, data, [2, 3]);
  assert.equal(up.scales, [2, 3]);
  assert.equal(up.confusion.ablation, [[4, 0, 0], [0, 0, 3], [0, 0, 2]]);
  let refused = '';
  try { await sweepNeuron(selectiveNet(), 0, 0, data, []); } catch (e) { refused = String(e); }
  assert.match(refused, /at least one scale/);
});

test.run();
