import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cacheImages, imagesFromSplit, runWithCache } from '../../analysis/forward-cache.ts';
import { assertClose } from '../helpers/close.ts';
import { makeSplit, randomCase, selectiveData, selectiveNet } from './fixtures.ts';

test('imagesFromSplit: bytes/255 by default, raw bytes on request, class filter keeps split indices', () => {
  const split = makeSplit([[0, 255], [51, 0], [255, 255]], [1, 0, 1]);
  const unit = imagesFromSplit(split);
  assertClose(unit.x, [0, 1, 0.2, 0, 1, 1], { atol: 1e-7 }, 'unit pixels');
  const raw = imagesFromSplit(split, { pixels: 'raw', classes: [1] });
  assert.equal(Array.from(raw.x), [0, 255, 255, 255]);
  assert.equal(Array.from(raw.indices), [0, 2]);
  assert.equal(Array.from(raw.labels), [1, 1]);
});

test('true-logit gradients at the hidden output are the rows of W_out picked by the label (by hand)', async () => {
  const model = selectiveNet(), data = selectiveData();
  const c = await cacheImages(model, data, { grads: ['trueLogit'], batch: 4 });
  const g = c.grads.trueLogit!['layers.0.post']!; // d logit_y / d h = W_out[:, y]
  const expected = Array.from(data.labels).flatMap((y) => [y === 0 ? 1 : 0, y === 1 ? 1 : 0]);
  assert.equal(g.shape, [data.count, 2]);
  assertClose(g.data, expected, {}, 'grad');
  // d logit_y / d logits is the one-hot of y
  assertClose(c.grads.trueLogit!.logits!.data, Array.from(data.labels).flatMap((y) => [0, 1, 2].map((k) => (k === y ? 1 : 0))));
});

test('loss gradients: per-sample rows (softmax − onehot at the logits), same as one sample at a time', async () => {
  const { model, split } = randomCase(3, 23);
  const data = imagesFromSplit(split);
  const batched = await cacheImages(model, data, { grads: ['loss', 'trueLogit'], batch: 7 });
  const logits = batched.acts.logits!.data, gl = batched.grads.loss!.logits!.data;
  for (let i = 0; i < data.count; i++) {
    const row = Array.from(logits.subarray(i * 4, i * 4 + 4));
    const m = Math.max(...row), z = row.reduce((s, v) => s + Math.exp(v - m), 0);
    const want = row.map((v, k) => Math.exp(v - m) / z - (k === data.labels[i] ? 1 : 0));
    assertClose(gl.subarray(i * 4, i * 4 + 4), want, { atol: 1e-6 }, `sample ${i}`);
    // one sample alone gives the same row for every name
    for (const target of ['loss', 'trueLogit'] as const) {
      const one = await runWithCache(model, { shape: [1, 9], data: data.x.subarray(i * 9, i * 9 + 9) }, [data.labels[i]], { grad: target });
      for (const name of ['layers.0.pre', 'layers.1.post', 'logits'] as const) {
        const w = one.grads[name]!.data.length;
        assertClose(batched.grads[target]![name]!.data.subarray(i * w, (i + 1) * w), one.grads[name]!.data, { atol: 1e-6 }, `${target} ${name} ${i}`);
      }
    }
  }
  // acts and grads share keys and shapes
  assert.equal(Object.keys(batched.acts), Object.keys(batched.grads.loss!));
  assert.equal(batched.acts['layers.1.post']!.shape, [23, 5]);
});

test.run();
