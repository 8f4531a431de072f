import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../engine/tensor.ts';
import { softmaxCrossEntropy } from '../../engine/ops/index.ts';
import { crossEntropy, crossEntropyComposed } from '../../engine/composite.ts';
import { assertClose } from '../helpers/close.ts';
import { MNIST, backendSuites, finiteDifferenceCheck, parityCheck, prng, tensorOn, values } from '../helpers/check-op.ts';

const f64 = (data: number[], shape: number[], requiresGrad = false): Tensor => Tensor.from(data, shape, { dtype: 'f64', requiresGrad });

const t = suite('softmaxCrossEntropy');

t('output is one loss per sample: [n]', () => {
  assert.equal([...softmaxCrossEntropy(Tensor.zeros([5, 10]), Tensor.zeros([5])).shape], [5]);
});

t('mismatched shapes throw an error naming softmaxCrossEntropy', () => {
  const msg = /^softmaxCrossEntropy: expects logits \[n, c\] and labels \[n\], got/;
  assert.throws(() => softmaxCrossEntropy(Tensor.zeros([4, 10]), Tensor.zeros([5])), msg);
  assert.throws(() => softmaxCrossEntropy(Tensor.zeros([10]), Tensor.zeros([1])), msg);
  assert.throws(() => softmaxCrossEntropy(Tensor.zeros([4, 10]), Tensor.zeros([4, 1])), msg);
  assert.throws(() => softmaxCrossEntropy(Tensor.zeros([2, 3, 10]), Tensor.zeros([2])), msg);
});

t('gradient w.r.t. the logits matches finite differences', () => {
  const r = prng(14);
  finiteDifferenceCheck(softmaxCrossEntropy, [
    { data: r.uniform(4 * 5, -3, 3), shape: [4, 5], grad: true },
    { data: r.ints(4, 0, 5), shape: [4] },
  ], { label: 'softmaxCrossEntropy' });
});

t('labels get no gradient, even when they ask for one', () => {
  const y = f64([2, 0], [2], true);
  softmaxCrossEntropy(f64([1, 2, 3, 0, 0, 0], [2, 3], true), y).backward();
  assert.is(y.grad, null);
});

t('the fused loss equals crossEntropyComposed, value and gradient, on [65, 10]', () => {
  const r = prng(15);
  const logits = r.uniform(65 * 10, -5, 5), labels = r.ints(65, 0, 10);
  const a = f64(logits, [65, 10], true), b = f64(logits, [65, 10], true);
  const fused = crossEntropy(a, f64(labels, [65])), composed = crossEntropyComposed(b, f64(labels, [65]));
  assertClose(fused.data(), composed.data(), { atol: 1e-12, rtol: 1e-12 }, 'loss');
  fused.backward();
  composed.backward();
  assertClose(a.grad!.data(), b.grad!.data(), { atol: 1e-12, rtol: 1e-9 }, 'dloss/dlogits');
});

t('stable for logits like ±1000 (no NaN or Inf), value and gradient', () => {
  const x = f64([1000, -1000, 0, -1000, 1000, 0], [2, 3], true);
  const loss = softmaxCrossEntropy(x, f64([0, 2], [2]));
  // row 0: logsumexp = 1000, minus 1000; row 1: logsumexp = 1000, minus 0
  assertClose(loss.data(), [0, 1000], { atol: 1e-9, rtol: 1e-12 }, 'loss');
  loss.backward();
  // softmax − onehot: row 0 [1, 0, 0] − [1, 0, 0]; row 1 [0, 1, 0] − [0, 0, 1]
  assertClose(x.grad!.data(), [0, 0, 0, 0, 1, -1], { atol: 1e-12, rtol: 0 }, 'grad');
});

t.run();

backendSuites('softmaxCrossEntropy', (test, backend) => {
  test('forward: hand-computed losses', async () => {
    // log(e¹ + e² + e³) − 3 and − 1; log 2 for two equal logits
    const x = tensorOn(backend, [1, 2, 3, 1, 2, 3, 0, 0, 0], [3, 3]);
    const y = tensorOn(backend, [2, 0, 1], [3]);
    // the third row has three equal logits: log 3
    assertClose(await values(softmaxCrossEntropy(x, y)), [0.40760596444437555, 2.4076059644443755, 1.0986122886681098], { rtol: 1e-6, atol: 1e-7 }, 'loss');
    assertClose(await values(softmaxCrossEntropy(tensorOn(backend, [0, 0], [1, 2]), tensorOn(backend, [1], [1]))), [0.6931471805599453], { rtol: 1e-6, atol: 0 }, 'log 2');
  });

  test('backward: softmax − onehot, times dy', async () => {
    const x = tensorOn(backend, [0, 0, 0, 0], [2, 2], { requiresGrad: true });
    softmaxCrossEntropy(x, tensorOn(backend, [1, 0], [2])).backward(tensorOn(backend, [1, 2], [2]));
    assertClose(await values(x.grad!), [0.5, -0.5, -1, 1], { rtol: 1e-6, atol: 1e-7 }, 'grad');
  });

  test('stable for logits like ±1000: no NaN or Inf', async () => {
    const x = tensorOn(backend, [1000, -1000, 0, -1000, 1000, 0], [2, 3], { requiresGrad: true });
    const loss = softmaxCrossEntropy(x, tensorOn(backend, [0, 2], [2]));
    assertClose(await values(loss), [0, 1000], { atol: 1e-4, rtol: 1e-6 }, 'loss');
    loss.backward();
    assertClose(await values(x.grad!), [0, 0, 0, 0, 1, -1], { atol: 1e-6, rtol: 0 }, 'grad');
  });

  for (const n of [1, MNIST.oddBatch, MNIST.lastBatch, 63, MNIST.batch, 65]) {
    test(`parity on logits [${n}, 10] with labels`, async () => {
      const r = prng(n + 16);
      await parityCheck(softmaxCrossEntropy, [
        { data: r.uniform(n * MNIST.classes, -6, 6), shape: [n, MNIST.classes], grad: true },
        { data: r.ints(n, 0, MNIST.classes), shape: [n] },
      ], backend);
    });
  }

  test('parity on odd class counts: [65, 1], [17, 63], [3, 784]', async () => {
    for (const [n, c] of [[65, 1], [17, 63], [3, 784]]) {
      const r = prng(n * c);
      await parityCheck(softmaxCrossEntropy, [
        { data: r.uniform(n * c, -6, 6), shape: [n, c], grad: true }, { data: r.ints(n, 0, c), shape: [n] },
      ], backend, undefined, `softmaxCrossEntropy [${n}, ${c}]`);
    }
  });
});
