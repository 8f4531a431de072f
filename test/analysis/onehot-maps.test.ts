import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { oneHotMaps } from '../../analysis/onehot-maps.ts';
import { assertClose } from '../helpers/close.ts';
import { randomCase } from './fixtures.ts';

test('map[j][p] = relu(value·W0[p, j] + b0[j]) for layer 0 (by hand)', async () => {
  const { model } = randomCase(8);
  const [W0, b0] = [model.layers[0].W.data(), model.layers[0].b.data()];
  const r = await oneHotMaps(model, 0, { value: 0.5 });
  assert.equal(r.maps.shape, [6, 9]);
  const want = Array.from({ length: 6 * 9 }, (_, q) => {
    const j = Math.floor(q / 9), p = q % 9;
    return Math.max(0.5 * W0[p * 6 + j] + b0[j], 0);
  });
  assertClose(r.maps.data, want, { atol: 1e-7 });
});

test('layer 1 maps equal a forward pass of the lit-pixel image', async () => {
  const { model } = randomCase(9);
  const r = await oneHotMaps(model, 1);
  const [W0, b0, W1, b1] = [model.layers[0].W.data(), model.layers[0].b.data(), model.layers[1].W.data(), model.layers[1].b.data()];
  for (const p of [0, 4, 8]) {
    const h = Array.from({ length: 6 }, (_, i) => Math.max(W0[p * 6 + i] + b0[i], 0));
    const want = Array.from({ length: 5 }, (_, j) => Math.max(h.reduce((s, v, i) => s + v * W1[i * 5 + j], b1[j]), 0));
    assertClose(Array.from({ length: 5 }, (_, j) => r.maps.data[j * 9 + p]), want, { atol: 1e-6 }, `pixel ${p}`);
  }
});

test.run();
