import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRng } from '../../engine/rng.ts';
import { histogram } from '../../analysis/histogram.ts';
import { measureProbe, positionStats } from '../../analysis/position-stats.ts';
import { parseArch } from '../../mlp/arch.ts';
import { Cnn } from '../../mlp/cnn.ts';
import { Tensor } from '../../engine/tensor.ts';

test('positionStats: moments, histogram, per-channel active fraction and max over every sample and position', () => {
  // 2 samples × 2 channels × 1×3 positions
  const data = [1, -2, 0, /* ch1 */ 3, 3, -1, /* sample 2 */ 0, 0, 5, /* ch1 */ -4, 2, 1];
  const s = positionStats(data, [2, 2, 1, 3], 4);
  assert.equal(s.shape, [2, 1, 3]);
  assert.is(s.count, 12);
  assert.is(s.mean, 8 / 12);
  const m = 8 / 12, ss = data.reduce((a, v) => a + (v - m) ** 2, 0);
  assert.ok(Math.abs(s.std - Math.sqrt(ss / 11)) < 1e-12);
  assert.is(s.min, -4);
  assert.is(s.max, 5);
  assert.equal(s.histogram, histogram(data, 4));
  // channel 0: 1, 5 positive of 6 values; channel 1: 3, 3, 2, 1 of 6
  assert.equal(s.positiveFraction, [2 / 6, 4 / 6]);
  assert.equal(s.channelMax, [5, 3]);
  assert.throws(() => positionStats([1, 2, 3], [1, 1, 2, 2]), /3 values for shape \[1, 1, 2, 2\]/);
});

test('measureProbe: every feature map of the first images, the same numbers as the forward pass', async () => {
  const spec = parseArch('cnn:conv3x3,pool2,5');
  if (spec.kind !== 'cnn') throw new Error('cnn');
  const model = Cnn.init(spec.layers, [1, 8, 8], 10, createRng('mlp-lens', 1));
  const images = Uint8Array.from({ length: 20 * 64 }, (_, i) => (i * 37) % 256);
  const split = { images, labels: new Uint8Array(20), count: 20, rows: 8, cols: 8 };
  const probe = await measureProbe(model, split, 6, 30);
  assert.equal(probe.rows, { first: 0, count: 6 });
  assert.equal(Object.keys(probe.maps), ['layers.0.pre', 'layers.0.post', 'layers.0.pool']);
  const acts = model.forward(Tensor.from(Float32Array.from(images.subarray(0, 6 * 64), (v) => v / 255), [6, 64]));
  for (const name of ['layers.0.pre', 'layers.0.post', 'layers.0.pool'] as const) {
    assert.equal(probe.maps[name], positionStats(acts[name]!.data(), acts[name]!.shape, 30), name);
  }
});

test.run();
