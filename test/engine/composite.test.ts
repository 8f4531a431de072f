import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../engine/tensor.ts';
import { accuracy, crossEntropy, crossEntropyComposed, linear, logSoftmax, mean, softmax, sub } from '../../engine/composite.ts';
import { sum } from '../../engine/ops/index.ts';
import { assertClose } from '../helpers/close.ts';
import { MNIST, backendSuites, finiteDifferenceCheck, parityCheck, prng, tensorOn, values } from '../helpers/check-op.ts';

const f64 = (data: number[], shape: number[], requiresGrad = false): Tensor => Tensor.from(data, shape, { dtype: 'f64', requiresGrad });

const t = suite('composite');

t('linear: gradients of x, W and b match finite differences', () => {
  const r = prng(20);
  finiteDifferenceCheck((x, W, b) => linear(x, W, b), [
    { data: r.uniform(4 * 5), shape: [4, 5], grad: true },
    { data: r.uniform(5 * 3), shape: [5, 3], grad: true },
    { data: r.uniform(3), shape: [3], grad: true },
  ], { label: 'linear' });
});

t('logSoftmax: gradient matches finite differences, rows and a 3-D input', () => {
  finiteDifferenceCheck(logSoftmax, [{ data: prng(21).uniform(3 * 5, -3, 3), shape: [3, 5], grad: true }], { label: 'logSoftmax' });
  finiteDifferenceCheck(logSoftmax, [{ data: prng(22).uniform(2 * 2 * 4, -3, 3), shape: [2, 2, 4], grad: true }], { label: 'logSoftmax 3-D' });
});

t('softmax: gradient matches finite differences', () => {
  finiteDifferenceCheck(softmax, [{ data: prng(23).uniform(3 * 4, -3, 3), shape: [3, 4], grad: true }], { label: 'softmax' });
});

for (const [name, fn] of [['crossEntropy', crossEntropy], ['crossEntropyComposed', crossEntropyComposed]] as const) {
  t(`${name}: gradient w.r.t. the logits matches finite differences`, () => {
    const r = prng(24);
    finiteDifferenceCheck(fn, [
      { data: r.uniform(5 * 4, -3, 3), shape: [5, 4], grad: true }, { data: r.ints(5, 0, 4), shape: [5] },
    ], { label: name });
  });
}

t('mean: gradient matches finite differences over an axis and over everything', () => {
  const data = prng(25).uniform(2 * 3 * 4);
  for (const axis of [0, 1, 2, -1, undefined]) {
    finiteDifferenceCheck((x) => mean(x, axis), [{ data, shape: [2, 3, 4], grad: true }], { label: `mean axis ${axis}` });
  }
});

t('sub: gradients match finite differences, with broadcasting', () => {
  const r = prng(26);
  finiteDifferenceCheck(sub, [{ data: r.uniform(6), shape: [2, 3], grad: true }, { data: r.uniform(6), shape: [2, 3], grad: true }], { label: 'sub' });
  finiteDifferenceCheck(sub, [{ data: r.uniform(6), shape: [2, 3], grad: true }, { data: r.uniform(3), shape: [3], grad: true }], { label: 'sub broadcast' });
});

t('mean: hand values and shapes', () => {
  const x = f64([1, 2, 3, 4, 5, 6], [2, 3]);
  assert.equal(Array.from(mean(x, 0).data()), [2.5, 3.5, 4.5]);
  assert.equal(Array.from(mean(x, -1).data()), [2, 5]);
  const all = mean(x);
  assert.equal([...all.shape], []);
  assert.equal(Array.from(all.data()), [3.5]);
});

t('sub: hand values', () => {
  assert.equal(Array.from(sub(f64([5, 7, 9], [3]), f64([1, 2, 3], [3])).data()), [4, 5, 6]);
});

t('crossEntropy of logits [[1, 2, 3]], label 2 is log(e + e² + e³) − 3 = 0.40760596…', () => {
  const loss = crossEntropy(f64([1, 2, 3], [1, 3]), f64([2], [1]));
  assert.equal([...loss.shape], []);
  assertClose(loss.data(), [0.40760596444437555], { atol: 1e-15, rtol: 1e-14 }, 'crossEntropy');
  assertClose(crossEntropyComposed(f64([1, 2, 3], [1, 3]), f64([2], [1])).data(), [0.40760596444437555], { atol: 1e-15, rtol: 1e-14 }, 'composed');
});

t('crossEntropy is the mean over the batch', () => {
  // rows: log 3 (equal logits), and the hand case above
  const loss = crossEntropy(f64([0, 0, 0, 1, 2, 3], [2, 3]), f64([1, 2], [2]));
  assertClose(loss.data(), [(1.0986122886681098 + 0.40760596444437555) / 2], { atol: 1e-15, rtol: 1e-14 }, 'mean loss');
});

t('logSoftmax: hand values, and softmax rows sum to 1', () => {
  // [0, log 2] → [−log(1 + 2), log 2 − log 3]
  assertClose(logSoftmax(f64([0, Math.LN2], [1, 2])).data(), [-1.0986122886681098, -0.4054651081081644], { atol: 1e-15, rtol: 1e-14 }, 'logSoftmax');
  const p = softmax(f64(prng(27).uniform(4 * 7, -5, 5), [4, 7]));
  assertClose(sum(p, 1).data(), [1, 1, 1, 1], { atol: 1e-15, rtol: 0 }, 'row sums');
});

t('logSoftmax is stable for logits like ±1000: no NaN or Inf, value and gradient', () => {
  const x = f64([1000, -1000, 0, -1000, 1000, 1000], [2, 3], true);
  const y = logSoftmax(x);
  assertClose(y.data(), [0, -2000, -1000, -2000 - Math.LN2, -Math.LN2, -Math.LN2], { atol: 1e-9, rtol: 1e-15 }, 'logSoftmax');
  y.backward(f64([1, 0, 0, 0, 1, 0], [2, 3]));
  // dx = dy − softmax·Σdy: row 0 [1, 0, 0] − [1, 0, 0]; row 1 [0, 1, 0] − [0, ½, ½]
  assertClose(x.grad!.data(), [0, 0, 0, 0, 0.5, -0.5], { atol: 1e-12, rtol: 0 }, 'grad');
  const loss = crossEntropyComposed(f64([1000, -1000, 0], [1, 3]), f64([1], [1]));
  assertClose(loss.data(), [2000], { atol: 1e-9, rtol: 0 }, 'composed loss');
});

t('accuracy: the fraction of rows whose argmax is the label (ties: first index)', () => {
  // argmax per row: 2, 0, 1, 0 (tie → 0); labels 2, 0, 2, 0 → 3 of 4
  const logits = f64([1, 2, 3, 3, 2, 1, 0, 5, 1, 2, 2, 0], [4, 3]);
  const acc = accuracy(logits, f64([2, 0, 2, 0], [4]));
  assert.equal([...acc.shape], []);
  assert.equal(Array.from(acc.data()), [0.75]);
  assert.is(accuracy(Tensor.from(logits.data(), [4, 3], { dtype: 'f64', requiresGrad: true }), f64([2, 0, 2, 0], [4])).requiresGrad, false);
});

t.run();

backendSuites('composite', (test, backend) => {
  test('accuracy and crossEntropy on a hand case', async () => {
    const logits = tensorOn(backend, [1, 2, 3, 3, 2, 1, 0, 5, 1, 2, 2, 0], [4, 3]), labels = tensorOn(backend, [2, 0, 2, 0], [4]);
    assert.equal(await values(accuracy(logits, labels)), [0.75]);
    assertClose(await values(crossEntropy(tensorOn(backend, [1, 2, 3], [1, 3]), tensorOn(backend, [2], [1]))), [0.40760596444437555], { rtol: 1e-6, atol: 0 }, 'crossEntropy');
  });

  test('parity: linear on the MNIST layers, full, partial and odd batches', async () => {
    const layers: [number, number, number][] = [
      [MNIST.batch, MNIST.dIn, MNIST.hidden[0]], [MNIST.lastBatch, MNIST.hidden[0], MNIST.hidden[1]], [MNIST.oddBatch, MNIST.hidden[1], MNIST.classes],
    ];
    for (const [n, dIn, dOut] of layers) {
      const r = prng(n + dIn + dOut);
      await parityCheck((x, W, b) => linear(x, W, b), [
        { data: r.uniform(n * dIn), shape: [n, dIn], grad: true },
        { data: r.uniform(dIn * dOut, -0.1, 0.1), shape: [dIn, dOut], grad: true },
        { data: r.uniform(dOut), shape: [dOut], grad: true },
      ], backend, undefined, `linear [${n}, ${dIn}] → ${dOut}`);
    }
  });

  test('parity: logSoftmax, crossEntropy and crossEntropyComposed on [65, 10]', async () => {
    const r = prng(28);
    const logits = { data: r.uniform(65 * 10, -6, 6), shape: [65, 10], grad: true }, labels = { data: r.ints(65, 0, 10), shape: [65] };
    await parityCheck(logSoftmax, [logits], backend);
    await parityCheck(crossEntropy, [logits, labels], backend);
    await parityCheck(crossEntropyComposed, [logits, labels], backend);
    await parityCheck(accuracy, [logits, labels], backend);
  });
});
