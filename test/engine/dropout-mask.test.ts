import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../engine/tensor.ts';
import { cpu } from '../../engine/cpu.ts';
import { dropoutMask } from '../../engine/ops/index.ts';
import { dropThreshold, keepScale, pcg4dX } from '../../engine/ops/dropout-mask.ts';
import { AWKWARD_SIZES, MNIST, backendSuites, tensorOn, values } from '../helpers/check-op.ts';

const key = { seed: 31416, step: 0, stream: 0 };
// pcg4d's first word for (0,0,0,0), (1,0,0,0), (0,1,0,0), (5,7,31416,1), from an independent C transcription of the paper's GLSL
const PINNED = [251852841, 188542915, 714961320, 312148719];
const t = suite('dropoutMask');

t('pcg4d: pinned outputs of the documented hash (a change here changes every dropout mask)', () => {
  assert.equal([pcg4dX(0, 0, 0, 0), pcg4dX(1, 0, 0, 0), pcg4dX(0, 1, 0, 0), pcg4dX(5, 7, 31416, 1)], PINNED);
});

t('the mask holds only 0 and 1/(1 − p), with about p dropped', () => {
  for (const p of [0.2, 0.5, 0.9]) {
    const m = dropoutMask(Tensor.zeros([200, 50]), p, key).data();
    const s = keepScale(p);
    let dropped = 0;
    for (const v of m) { if (v === 0) dropped++; else assert.is(v, s); }
    const rate = dropped / m.length, sd = Math.sqrt((p * (1 - p)) / m.length);
    assert.ok(Math.abs(rate - p) < 5 * sd, `p ${p}: dropped ${rate}`);
  }
});

t('p = 0 keeps everything at scale 1; p must be in [0, 1); key fields must be u32', () => {
  assert.ok(Array.from(dropoutMask(Tensor.zeros([7]), 0, key).data()).every((v) => v === 1));
  assert.throws(() => dropoutMask(Tensor.zeros([3]), 1, key), /p must be in \[0, 1\)/);
  assert.throws(() => dropoutMask(Tensor.zeros([3]), -0.1, key), /p must be in/);
  assert.throws(() => dropoutMask(Tensor.zeros([3]), 0.5, { ...key, step: 1.5 }), /step must be a u32/);
});

t('seed, step and stream each change the mask; the same key gives the same mask', () => {
  const mask = (k: typeof key) => Array.from(dropoutMask(Tensor.zeros([64, 32]), 0.5, k).data());
  const base = mask(key);
  assert.equal(mask({ ...key }), base);
  for (const other of [{ ...key, seed: 1 }, { ...key, step: 1 }, { ...key, stream: 1 }]) {
    const m = mask(other);
    const same = m.filter((v, i) => v === base[i]).length / m.length;
    assert.ok(same > 0.4 && same < 0.6, `${JSON.stringify(other)}: ${same} of the mask agrees (independent masks agree on ~½)`);
  }
});

t('the element index decides, not the shape: [64, 32] and [2048] draw the same bits', () => {
  assert.equal(Array.from(dropoutMask(Tensor.zeros([64, 32]), 0.3, key).data()), Array.from(dropoutMask(Tensor.zeros([2048]), 0.3, key).data()));
});

t('threshold: P(drop) = round(p·2²⁴)/2²⁴', () => {
  assert.is(dropThreshold(0.2), 3355443);
  assert.is(dropThreshold(0), 0);
  assert.is(keepScale(0.2), Math.fround(1.25));
});

t('no gradient: the mask is a constant', () => {
  assert.not.ok(dropoutMask(Tensor.zeros([3], { requiresGrad: true }), 0.5, key).requiresGrad);
});

t.run();

backendSuites('dropoutMask', (test, backend) => {
  for (const n of [...AWKWARD_SIZES, MNIST.batch * MNIST.hidden[0], MNIST.lastBatch * MNIST.hidden[1], 70000]) {
    test(`mask bit-identical to the cpu oracle on [${n}] (p 0.2, several steps and streams)`, async () => {
      for (const [p, step, stream] of [[0.2, 0, 0], [0.2, 937, 1], [0.5, 18739, 0], [0.05, 2 ** 32 - 1, 3]]) {
        const k = { seed: 31416, step, stream };
        const got = await values(dropoutMask(tensorOn(backend, new Float32Array(n), [n]), p, k));
        const want = Array.from(dropoutMask(Tensor.from(new Float32Array(n), [n], { backend: cpu }), p, k).data());
        assert.equal(got, want, `p ${p} step ${step} stream ${stream}`);
      }
    });
  }
});
