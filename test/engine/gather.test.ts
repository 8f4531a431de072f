import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../engine/tensor.ts';
import { gatherBytes, gatherRows, packBytes } from '../../engine/ops/index.ts';
import { pixel } from '../../mlp/batch.ts';
import { backendSuites, prng, tensorOn, values } from '../helpers/check-op.ts';

const LUT = Array.from({ length: 256 }, (_, b) => pixel(b));

const t = suite('gather');

t('an order range past its end throws an error naming gather', () => {
  assert.throws(() => gatherRows(Tensor.zeros([4, 2]), Tensor.from([0, 1, 2], [3]), 2, 2), /^gather: rows 2\.\.4 of an order of shape \[3\]/);
});

t('is a constant: its output requires no gradient', () => {
  const y = gatherRows(Tensor.zeros([3, 2], { requiresGrad: true }), Tensor.from([2, 0], [2]), 0, 2);
  assert.is(y.requiresGrad, false);
});

t('packBytes keeps every byte, padding the last word with zeros', () => {
  const bytes = Uint8Array.from([255, 0, 127, 128, 1, 2]);
  const packed = packBytes(bytes);
  assert.is(packed.length, 2);
  assert.equal(Array.from(new Uint8Array(packed.buffer)), [255, 0, 127, 128, 1, 2, 0, 0]);
});

t.run();

backendSuites('gather', (test, backend) => {
  test('rows of an f32 table, in the order given, from an offset', async () => {
    const table = tensorOn(backend, [0, 1, 10, 11, 20, 21, 30, 31], [4, 2]);
    const order = tensorOn(backend, [3, 1, 0, 2], [4]);
    assert.equal(await values(gatherRows(table, order, 1, 2)), [10, 11, 0, 1]);
    assert.equal(await values(gatherRows(table, order, 0, 4)), [30, 31, 10, 11, 0, 1, 20, 21]);
  });

  test('pixels from a packed u8 dataset decode to float32(b / 255), every byte value', async () => {
    // 256 images of 3 pixels (an odd width, so rows straddle the 4-byte words): image i holds i, 255 − i, i·7 mod 256
    const d = 3, n = 256;
    const bytes = new Uint8Array(n * d);
    for (let i = 0; i < n; i++) bytes.set([i, 255 - i, (i * 7) % 256], i * d);
    const order = Array.from({ length: n }, (_, i) => (i * 101) % n); // a permutation (101 is coprime to n)
    const out = await values(gatherBytes(
      tensorOn(backend, packBytes(bytes), [Math.ceil(n * d / 4)]), tensorOn(backend, order, [n]), tensorOn(backend, LUT, [256]), d, 0, n));
    const expected = order.flatMap((i) => [pixel(i), pixel(255 - i), pixel((i * 7) % 256)]);
    assert.equal(out, expected);
  });

  test('a partial last batch of MNIST-shaped rows', async () => {
    const d = 784, n = 100;
    const bytes = Uint8Array.from(prng(9).ints(n * d, 0, 256));
    const order = Array.from({ length: n }, (_, i) => (i * 101) % n);
    const out = await values(gatherBytes(
      tensorOn(backend, packBytes(bytes), [n * d / 4]), tensorOn(backend, order, [n]), tensorOn(backend, LUT, [256]), d, 64, 36));
    assert.is(out.length, 36 * d);
    for (const r of [0, 17, 35]) {
      for (const j of [0, 1, 391, 783]) assert.is(out[r * d + j], pixel(bytes[order[64 + r] * d + j]), `row ${r} pixel ${j}`);
    }
  });
});
