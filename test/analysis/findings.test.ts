// analysis/findings.ts on constructed numbers: a neuron that becomes a class's most selective at epoch 3,
// one that dies, one that never fires, layers that separate at different epochs, a representation that
// settles, a probe that plateaus — each sentence checked with the table it reads.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { epochName, findingsThroughTraining, holdsFrom, type ThroughTrainingNumbers } from '../../analysis/findings.ts';
import { THROUGH_TRAINING_FORMAT, type LayerAtEpoch } from '../../analysis/through-training-types.ts';
import { topKPerRow } from '../../analysis/topk.ts';

const t = suite('analysis/findings');

// 784-4-3-3: hidden layers of 4 and 3 neurons, 3 classes; epochs −1, 0, …, 5 (7 snapshots)
const EPOCHS = [-1, 0, 1, 2, 3, 4, 5];
const CLASSES = 3;

interface LayerSpec {
  /** [epoch index] → selectivity [classes][width] */
  selectivity: (e: number) => number[][];
  /** [epoch index] → active fraction [width] */
  active: (e: number) => number[];
  silhouette: number[];
  probe: number[];
  /** CKA of epoch e with the last */
  ckaWithLast: number[];
}

function build(layers: LayerSpec[]): ThroughTrainingNumbers {
  const E = EPOCHS.length;
  return {
    format: THROUGH_TRAINING_FORMAT, version: 1, sizes: [784, ...layers.map((l) => l.active(0).length), CLASSES], classes: CLASSES,
    sample: { rows: Array.from({ length: 30 }, (_, i) => i), labels: Array.from({ length: 30 }, (_, i) => i % 3), seed: 1, perClass: [10, 10, 10], heldOut: [0, 1, 2] },
    epochs: EPOCHS,
    perEpoch: EPOCHS.map((epoch, e) => ({
      epoch, sampleAccuracy: 50 + 5 * e,
      ckaLayers: [[1, 0.5], [0.5, 1]],
      layers: layers.map((l): LayerAtEpoch => {
        const s = l.selectivity(e), a = l.active(e);
        return {
          selectivity: s, top3: topKPerRow(s, 3), topClass: a.map(() => 0),
          dead: a.flatMap((v, i) => (v === 0 ? [i] : [])), rare: a.flatMap((v, i) => (v > 0 && v < 0.01 ? [i] : [])),
          activeFraction: a, silhouette: l.silhouette[e], probe: { heldOutAccuracy: l.probe[e], trainAccuracy: l.probe[e] + 1 },
          aligned: [], explained: [0.3, 0.2],
        };
      }),
    })),
    ckaEpochs: layers.map((l) => Array.from({ length: E }, (_, a) => Array.from({ length: E }, (_, b) => (a === b ? 1 : b === E - 1 ? l.ckaWithLast[a] : a === E - 1 ? l.ckaWithLast[b] : 0.5)))),
  };
}

// layer 0: class 1's most selective neuron is 0 until epoch 2, neuron 2 from epoch 3 on; neuron 3 fires on
// 40 % of the images until epoch 1 and on none from epoch 2 on; classes 0 and 2: neuron 1 throughout
const layer0: LayerSpec = {
  selectivity: (e) => [
    [0.1, 0.6, 0.2, 0],
    EPOCHS[e] >= 3 ? [0.3, 0.1, 0.7, 0] : [0.5, 0.1, 0.2, 0],
    [0, 0.4, 0.1, 0],
  ],
  active: (e) => [0.5, 0.6, 0.4, EPOCHS[e] >= 2 ? 0 : 0.4],
  silhouette: [0.01, 0.12, 0.19, 0.2, 0.2, 0.21, 0.2],
  probe: [60, 80, 88, 90, 91, 90.5, 91],
  ckaWithLast: [0.3, 0.6, 0.8, 0.9, 0.96, 0.97, 1],
};
// layer 1: neuron 2 never fires, neuron 1 fires rarely at the end; the silhouette climbs until epoch 4;
// its most selective neurons change at the last epoch for class 0 (no sentence)
const layer1: LayerSpec = {
  selectivity: (e) => [
    e === EPOCHS.length - 1 ? [0.1, 0.5, 0] : [0.5, 0.1, 0],
    [0.6, 0.2, 0],
    [0.1, 0.3, 0],
  ],
  active: (e) => [0.5, e === EPOCHS.length - 1 ? 0.005 : 0.2, 0],
  silhouette: [-0.05, 0.02, 0.08, 0.15, 0.27, 0.29, 0.3],
  probe: [40, 50, 60, 70, 80, 85, 92],
  ckaWithLast: [0.2, 0.5, 0.7, 0.8, 0.9, 0.99, 1],
};

const found = findingsThroughTraining(build([layer0, layer1]));
const ofKind = (kind: string) => found.filter((f) => f.kind === kind);
const about = (kind: string, text: RegExp) => {
  const f = found.find((x) => x.kind === kind && text.test(x.text));
  assert.ok(f, `a ${kind} finding matching ${text} among:\n${found.map((x) => x.text).join('\n')}`);
  return f!;
};

t('holdsFrom: the first index from which the condition holds to the end; null when the last fails', () => {
  assert.is(holdsFrom([false, true, false, true, true]), 3);
  assert.is(holdsFrom([true, true]), 0);
  assert.is(holdsFrom([true, false]), null);
  assert.is(holdsFrom([]), null);
  assert.is(epochName(-1), 'the initial weights');
  assert.is(epochName(4), 'epoch 4');
});

t('a neuron that becomes the most selective at epoch 3: the sentence and its table', () => {
  const f = about('selective-from', /class-1-/);
  assert.is(f.text, 'neuron 2 of layers.0.post is the most class-1-selective neuron from epoch 3 on (selectivity 0.70 after epoch 5)');
  assert.equal(f.table.columns, ['epoch', 'most selective neuron', 'its selectivity', 'selectivity of neuron 2']);
  assert.equal(f.table.rows.map((r) => r[0]), EPOCHS);
  assert.equal(f.table.rows.map((r) => r[1]), [0, 0, 0, 0, 2, 2, 2]);
  assert.equal(f.table.rows[0], [-1, 0, 0.5, 0.2]);
  // a neuron that is the most selective throughout: from the initial weights on
  assert.is(about('selective-from', /layers.0.post is the most class-0-/).text, 'neuron 1 of layers.0.post is the most class-0-selective neuron from the initial weights on (selectivity 0.60 after epoch 5)');
});

t('no sentence for a class whose most selective neuron changes at the last epoch', () => {
  assert.not.ok(found.some((f) => f.kind === 'selective-from' && /layers.1.post is the most class-0-/.test(f.text)));
  assert.ok(found.some((f) => f.kind === 'selective-from' && /layers.1.post is the most class-1-/.test(f.text)));
  // layers.0.post's 3 classes, layers.1.post's classes 1 and 2
  assert.is(ofKind('selective-from').length, 5);
});

t('a neuron that dies, one that never fires, one that fires rarely', () => {
  const dies = ofKind('dies');
  assert.is(dies.length, 1);
  assert.is(dies[0].text, 'neuron 3 of layers.0.post dies in epoch 2: it fires on none of the 30 sample images from then on (on 40.0 % after epoch 1)');
  assert.equal(dies[0].table, { columns: ['epoch', 'active fraction'], rows: EPOCHS.map((e) => [e, e >= 2 ? 0 : 0.4]) });
  const never = ofKind('never-fires');
  assert.is(never.length, 1);
  assert.is(never[0].text, 'neuron 2 of layers.1.post never fires: active on none of the 30 sample images at any epoch, the initial weights included');
  assert.is(about('rare', /neuron 1 of layers.1.post/).text, 'neuron 1 of layers.1.post fires rarely: on 0.5 % of the 30 sample images after epoch 5');
});

t('which layer separates first: each silhouette above 90 % of its own final value from some epoch on', () => {
  const f = ofKind('layer-first');
  assert.is(f.length, 1);
  // layer 0: 0.9 · 0.2 = 0.18, above from epoch 1 (0.19); layer 1: 0.27, above from epoch 4 (epoch 3's 0.27 is not above 0.27)
  assert.is(f[0].text, "layers.0.post's classes separate first: layers.0.post's silhouette stays above 0.180 (90 % of its final 0.200) from epoch 1 on, " +
    "layers.1.post's above 0.270 (90 % of its final 0.300) from epoch 4 on");
  assert.equal(f[0].table.columns, ['epoch', 'layers.0.post silhouette', 'layers.1.post silhouette']);
  assert.equal(f[0].table.rows[4], [3, 0.2, 0.27]);
});

t('settling (CKA with the last epoch ≥ 0.95 from then on) and the probe plateau (within 2 points of its final)', () => {
  assert.is(about('settles', /layers.0.post/).text, "layers.0.post's representation settles at epoch 3 (linear CKA with epoch 5 ≥ 0.95 from then on)");
  assert.is(about('settles', /layers.1.post/).text, "layers.1.post's representation settles at epoch 4 (linear CKA with epoch 5 ≥ 0.95 from then on)");
  assert.equal(about('settles', /layers.0.post/).table.rows.map((r) => r[1]), layer0.ckaWithLast);
  assert.is(about('probe-plateau', /layers.0.post/).text, "layers.0.post's linear probe plateaus at epoch 2: held-out accuracy within 2 points of its final 91.0 % from then on");
  assert.equal(about('probe-plateau', /layers.0.post/).table.rows[0], [-1, 60, 61, 50]);
  assert.is(about('probe-climbing', /layers.1.post/).text, "layers.1.post's linear probe is still moving at the end: held-out accuracy 85.0 % after epoch 4, 92.0 % after epoch 5");
});

t('options move the thresholds; a representation still changing at the end says so', () => {
  const strict = findingsThroughTraining(build([layer0, layer1]), { settleCka: 0.999, probeBand: 10, silhouetteShare: 0.5 });
  const l1 = strict.filter((f) => /layers.1.post's representation/.test(f.text));
  assert.is(l1[0].kind, 'still-changing');
  assert.is(l1[0].text, "layers.1.post's representation is still changing at the end: linear CKA between epoch 4 and epoch 5 is 0.990 (< 0.999)");
  assert.ok(strict.some((f) => f.kind === 'probe-plateau' && /layers.1.post's linear probe plateaus at epoch 4: held-out accuracy within 10 points/.test(f.text)));
  assert.match(strict.find((f) => f.kind === 'layer-first')!.text, /^layers.0.post's classes separate first: layers.0.post's silhouette stays above 0.100 \(50 % of its final 0.200\) from epoch 0 on, layers.1.post's above 0.150 \(50 % of its final 0.300\) from epoch 3 on$/);
});

t('a single hidden layer: when its classes separate; the same epoch for every layer: at once', () => {
  const one = findingsThroughTraining(build([layer0]));
  assert.is(one.find((f) => f.kind === 'clusters-form')!.text, "layers.0.post's classes separate from epoch 1 on: its silhouette stays above 0.180 (90 % of its final 0.200)");
  const same = findingsThroughTraining(build([layer0, { ...layer1, silhouette: layer0.silhouette }]));
  assert.match(same.find((f) => f.kind === 'layer-first')!.text, /^the classes separate in every layer at once: each silhouette stays above 90 % of its final value from epoch 1 on/);
  // a layer whose final silhouette is ≤ 0: no separation finding
  const none = findingsThroughTraining(build([layer0, { ...layer1, silhouette: layer1.silhouette.map(() => -0.1) }]));
  assert.not.ok(none.some((f) => f.kind === 'layer-first'));
});

t('settled or plateaued from the initial weights on: said so, not "at the initial weights"', () => {
  const early = findingsThroughTraining(build([{ ...layer0, ckaWithLast: layer0.ckaWithLast.map(() => 0.97), probe: layer0.probe.map(() => 91) }, layer1]));
  assert.is(early.find((f) => f.kind === 'settles')!.text, "layers.0.post's representation settles from the initial weights on (linear CKA with epoch 5 ≥ 0.95 from then on)");
  assert.is(early.find((f) => f.kind === 'probe-plateau')!.text, "layers.0.post's linear probe plateaus from the initial weights on: held-out accuracy within 2 points of its final 91.0 % from then on");
});

t('every sentence comes with a table whose rows match its columns', () => {
  for (const f of found) {
    assert.ok(f.table.rows.length > 0, f.text);
    for (const r of f.table.rows) assert.is(r.length, f.table.columns.length, f.text);
  }
});

t.run();
