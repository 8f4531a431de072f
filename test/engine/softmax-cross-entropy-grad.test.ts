import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../engine/tensor.ts';
import { softmaxCrossEntropy, softmaxCrossEntropyGrad, softmaxCrossEntropyGradComposed } from '../../engine/ops/index.ts';
import { MNIST, backendSuites, finiteDifferenceCheck, parityCheck, prng, tensorOn, values } from '../helpers/check-op.ts';
import { assertClose } from '../helpers/close.ts';

const f32 = (data: ArrayLike<number>, shape: number[], requiresGrad = false): Tensor => Tensor.from(data, shape, { requiresGrad });

const t = suite('softmaxCrossEntropyGrad');

t('output is the logits shape [n, c]; mismatched shapes throw an error naming the op', () => {
  assert.equal([...softmaxCrossEntropyGrad(Tensor.zeros([5, 10]), Tensor.zeros([5]), Tensor.zeros([5])).shape], [5, 10]);
  const msg = /^softmaxCrossEntropyGrad: expects logits \[n, c\], labels \[n\] and dy \[n\], got/;
  assert.throws(() => softmaxCrossEntropyGrad(Tensor.zeros([4, 10]), Tensor.zeros([5]), Tensor.zeros([4])), msg);
  assert.throws(() => softmaxCrossEntropyGrad(Tensor.zeros([4, 10]), Tensor.zeros([4]), Tensor.zeros([4, 1])), msg);
  assert.throws(() => softmaxCrossEntropyGrad(Tensor.zeros([10]), Tensor.zeros([1]), Tensor.zeros([1])), msg);
});

t('gradients w.r.t. the logits and dy match finite differences', () => {
  const r = prng(41);
  finiteDifferenceCheck(softmaxCrossEntropyGrad, [
    { data: r.uniform(4 * 5, -3, 3), shape: [4, 5], grad: true },
    { data: r.ints(4, 0, 5), shape: [4] },
    { data: r.uniform(4, -2, 2), shape: [4], grad: true },
  ], { label: 'softmaxCrossEntropyGrad' });
});

t('equals the unfused composition (softmax − onehot)·dy bit for bit in f32, [65, 10] and [17, 63]', () => {
  for (const [n, c] of [[65, 10], [17, 63], [3, 1]]) {
    const r = prng(n + c);
    const x = f32(r.uniform(n * c, -8, 8), [n, c]), y = f32(r.ints(n, 0, c), [n]), dy = f32(r.uniform(n, -1, 1), [n]);
    assert.equal([...softmaxCrossEntropyGrad(x, y, dy).data()], [...softmaxCrossEntropyGradComposed(x, y, dy).data()], `[${n}, ${c}]`);
  }
});

t("softmaxCrossEntropy's backward is the fused op: the same logits gradient as the composition, bit for bit", () => {
  const r = prng(43);
  const data = r.uniform(64 * 10, -5, 5), labels = f32(r.ints(64, 0, 10), [64]), dy = r.uniform(64, 0, 1);
  const x = f32(data, [64, 10], true);
  softmaxCrossEntropy(x, labels).backward(f32(dy, [64]));
  assert.equal([...x.grad!.data()], [...softmaxCrossEntropyGradComposed(f32(data, [64, 10]), labels, f32(dy, [64])).data()]);
});

t.run();

backendSuites('softmaxCrossEntropyGrad', (test, backend) => {
  test('forward: hand-computed (softmax − onehot)·dy', async () => {
    const g = softmaxCrossEntropyGrad(tensorOn(backend, [0, 0, 0, 0], [2, 2]), tensorOn(backend, [1, 0], [2]), tensorOn(backend, [1, 2], [2]));
    assertClose(await values(g), [0.5, -0.5, -1, 1], { rtol: 1e-6, atol: 1e-7 }, 'grad');
  });

  test('stable for logits like ±1000: no NaN or Inf', async () => {
    const g = softmaxCrossEntropyGrad(tensorOn(backend, [1000, -1000, 0, -1000, 1000, 0], [2, 3]),
      tensorOn(backend, [0, 2], [2]), tensorOn(backend, [1, 1], [2]));
    assertClose(await values(g), [0, 0, 0, 0, 1, -1], { atol: 1e-6, rtol: 0 }, 'grad');
  });

  for (const [n, c] of [[1, 10], [MNIST.oddBatch, 10], [MNIST.lastBatch, 10], [63, 10], [MNIST.batch, 10], [65, 10], [17, 63], [3, 784]]) {
    test(`parity on logits [${n}, ${c}], labels and dy, value and gradients`, async () => {
      const r = prng(n * c + 44);
      await parityCheck(softmaxCrossEntropyGrad, [
        { data: r.uniform(n * c, -6, 6), shape: [n, c], grad: true },
        { data: r.ints(n, 0, c), shape: [n] },
        { data: r.uniform(n, -1, 1), shape: [n], grad: true },
      ], backend);
    });
  }

  test('equals the composition on the same backend, [65, 10]', async () => {
    const r = prng(45);
    const x = tensorOn(backend, r.uniform(650, -6, 6), [65, 10]), y = tensorOn(backend, r.ints(65, 0, 10), [65]);
    const dy = tensorOn(backend, r.uniform(65, -1, 1), [65]);
    assertClose(await values(softmaxCrossEntropyGrad(x, y, dy)), await values(softmaxCrossEntropyGradComposed(x, y, dy)), { atol: 1e-6, rtol: 1e-5 }, 'fused vs composed');
  });
});
