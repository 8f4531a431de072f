import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../engine/tensor.ts';
import { add, linear, matmul, relu } from '../../engine/ops/index.ts';
import { AWKWARD_SIZES, MNIST, backendSuites, finiteDifferenceCheck, parityCheck, prng, tensorOn, values } from '../helpers/check-op.ts';
import { assertClose } from '../helpers/close.ts';

const f32 = (data: ArrayLike<number>, shape: number[], requiresGrad = false): Tensor => Tensor.from(data, shape, { requiresGrad });
const linearPlain = (x: Tensor, W: Tensor, b: Tensor): Tensor => linear(x, W, b);
const linearRelu = (x: Tensor, W: Tensor, b: Tensor): Tensor => linear(x, W, b, { relu: true });

const t = suite('linear');

t('output is [n, m]; mismatched shapes throw an error naming linear', () => {
  assert.equal([...linear(Tensor.zeros([5, 3]), Tensor.zeros([3, 4]), Tensor.zeros([4])).shape], [5, 4]);
  const msg = /^linear: expects x \[n, k\], W \[k, m\] and b \[m\], got/;
  assert.throws(() => linear(Tensor.zeros([5, 3]), Tensor.zeros([4, 4]), Tensor.zeros([4])), msg);
  assert.throws(() => linear(Tensor.zeros([5, 3]), Tensor.zeros([3, 4]), Tensor.zeros([3])), msg);
  assert.throws(() => linear(Tensor.zeros([5, 3]), Tensor.zeros([3, 4]), Tensor.zeros([1, 4])), msg);
});

t('hand-computed: [[1, 2]]·[[1, 0, -1], [2, 1, 0]] + [0.5, -4, 0], and its relu', () => {
  const x = f32([1, 2], [1, 2]), W = f32([1, 0, -1, 2, 1, 0], [2, 3]), b = f32([0.5, -4, 0], [3]);
  assert.equal([...linear(x, W, b).data()], [5.5, -2, -1]);
  assert.equal([...linear(x, W, b, { relu: true }).data()], [5.5, 0, 0]);
});

t('gradients w.r.t. x, W and b match finite differences, without and with relu', () => {
  const r = prng(51);
  const inputs = [
    { data: r.uniform(5 * 4, -1, 1), shape: [5, 4], grad: true },
    { data: r.uniform(4 * 3, -1, 1), shape: [4, 3], grad: true },
    { data: r.uniform(3, -1, 1), shape: [3], grad: true },
  ];
  finiteDifferenceCheck(linearPlain, inputs, { label: 'linear' });
  finiteDifferenceCheck(linearRelu, inputs, { label: 'linear+relu' });
});

t('equals add(matmul(x, W), b) (and relu of it) bit for bit in f32: value and every gradient, MNIST-shaped', () => {
  for (const [n, k, m] of [[64, 784, 32], [MNIST.lastBatch, 32, 16], [17, 16, 10]]) {
    const r = prng(n + k + m);
    const xd = r.uniform(n * k, -1, 1).map((v, i) => (i % 3 === 0 ? 0 : v)), wd = r.uniform(k * m, -0.5, 0.5), bd = r.uniform(m, -0.5, 0.5);
    const dy = f32(r.uniform(n * m, -1, 1), [n, m]);
    for (const withRelu of [false, true]) {
      const run = (fused: boolean) => {
        const x = f32(xd, [n, k], true), W = f32(wd, [k, m], true), b = f32(bd, [m], true);
        const z = fused ? linear(x, W, b, { relu: withRelu }) : (withRelu ? relu(add(matmul(x, W), b)) : add(matmul(x, W), b));
        z.backward(dy);
        return [z, x.grad!, W.grad!, b.grad!].map((v) => [...v.data()]);
      };
      assert.equal(run(true), run(false), `[${n}, ${k}]·[${k}, ${m}]${withRelu ? ' relu' : ''}`);
    }
  }
});

t.run();

backendSuites('linear', (test, backend) => {
  test('forward: hand-computed, and relu', async () => {
    const x = tensorOn(backend, [1, 2], [1, 2]), W = tensorOn(backend, [1, 0, -1, 2, 1, 0], [2, 3]), b = tensorOn(backend, [0.5, -4, 0], [3]);
    assertClose(await values(linear(x, W, b)), [5.5, -2, -1], { atol: 0, rtol: 1e-7 }, 'linear');
    assertClose(await values(linear(x, W, b, { relu: true })), [5.5, 0, 0], { atol: 0, rtol: 1e-7 }, 'linear+relu');
  });

  const cases: [number, number, number][] = [
    ...AWKWARD_SIZES.map((s): [number, number, number] => [s, 7, 5]),
    [3, 7, 63], [2, 5, 65],
    [MNIST.batch, MNIST.dIn, 32], [MNIST.lastBatch, 32, 16], [MNIST.oddBatch, 16, MNIST.classes],
  ];
  for (const [n, k, m] of cases) {
    test(`parity on [${n}, ${k}]·[${k}, ${m}] + [${m}], with and without relu, value and gradients`, async () => {
      const r = prng(n * 7 + k * 3 + m);
      const inputs = [
        { data: r.uniform(n * k, -1, 1), shape: [n, k], grad: true },
        { data: r.uniform(k * m, -1, 1), shape: [k, m], grad: true },
        { data: r.uniform(m, -1, 1), shape: [m], grad: true },
      ];
      await parityCheck(linearPlain, inputs, backend, undefined, 'linear');
      await parityCheck(linearRelu, inputs, backend, undefined, 'linear+relu');
    });
  }

  test('equals add(matmul(x, W), b) on the same backend, [65, 784]·[784, 32]', async () => {
    const r = prng(52);
    const x = tensorOn(backend, r.uniform(65 * 784, 0, 1), [65, 784]), W = tensorOn(backend, r.uniform(784 * 32, -0.1, 0.1), [784, 32]);
    const b = tensorOn(backend, r.uniform(32, -0.1, 0.1), [32]);
    assertClose(await values(linear(x, W, b)), await values(add(matmul(x, W), b)), { atol: 1e-5, rtol: 1e-5 }, 'fused vs composed');
  });
});
