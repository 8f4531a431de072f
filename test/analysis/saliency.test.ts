import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { clipToPercentiles, percentile, saliencyMaps } from '../../analysis/saliency.ts';
import { assertClose } from '../helpers/close.ts';
import { randomCase } from './fixtures.ts';

test('percentiles interpolate linearly as numpy does', () => {
  assertClose([percentile([1, 2, 3, 4], 50), percentile([4, 1, 3, 2], 25), percentile([5], 99)], [2.5, 1.75, 5]);
  // 101 values 0..100: the 1st–99th percentiles are 1 and 99
  const v = Array.from({ length: 101 }, (_, i) => i);
  const c = clipToPercentiles(v);
  assertClose([c[0], c[1], c[50], c[99], c[100]], [0, 0, 49 / 98, 1, 1], { atol: 1e-7 });
  assert.equal(Array.from(clipToPercentiles([2, 2, 2])), [0, 0, 0]);
});

test('layer 0: the saliency of a pre-activation is |its weight column| (by hand)', async () => {
  const { model, split } = randomCase(5);
  const W0 = model.layers[0].W.data(); // [9, 6]
  const image = Array.from({ length: 9 }, (_, j) => split.images[j] / 255);
  const s = await saliencyMaps(model, 0, image, { neurons: [4, 1] });
  assert.equal(s.abs.shape, [2, 9]);
  assertClose(s.abs.data.subarray(0, 9), Array.from({ length: 9 }, (_, p) => Math.abs(W0[p * 6 + 4])), {}, 'neuron 4');
  assertClose(s.abs.data.subarray(9), Array.from({ length: 9 }, (_, p) => Math.abs(W0[p * 6 + 1])), {}, 'neuron 1');
});

test('layer 1: the chain rule through the ReLU of the image (independent host computation)', async () => {
  const { model, split } = randomCase(6);
  const [W0, b0, W1] = [model.layers[0].W.data(), model.layers[0].b.data(), model.layers[1].W.data()]; // [9,6], [6], [6,5]
  const image = Array.from({ length: 9 }, (_, j) => split.images[9 + j] / 255);
  const active = Array.from({ length: 6 }, (_, i) => image.reduce((s, v, p) => s + v * W0[p * 6 + i], b0[i]) > 0);
  const s = await saliencyMaps(model, 1, image);
  assert.equal(s.neurons, [0, 1, 2, 3, 4]);
  for (let j = 0; j < 5; j++) {
    const want = Array.from({ length: 9 }, (_, p) =>
      Math.abs(active.reduce((acc, on, i) => acc + (on ? W0[p * 6 + i] * W1[i * 5 + j] : 0), 0)));
    assertClose(s.abs.data.subarray(j * 9, (j + 1) * 9), want, { atol: 1e-6 }, `neuron ${j}`);
    assertClose(s.normalized.data.subarray(j * 9, (j + 1) * 9), clipToPercentiles(want), { atol: 1e-5 }, `normalised ${j}`);
  }
});

test.run();
