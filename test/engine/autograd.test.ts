import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor, noGrad } from '../../engine/tensor.ts';
import { crossEntropy, linear } from '../../engine/composite.ts';
import { add, exp, matmul, mul, relu, scale, sum } from '../../engine/ops/index.ts';
import { assertClose } from '../helpers/close.ts';
import { finiteDifferenceCheck, prng } from '../helpers/check-op.ts';

const f64 = (data: number[], shape: number[], requiresGrad = false): Tensor => Tensor.from(data, shape, { dtype: 'f64', requiresGrad });
const grad = (t: Tensor): number[] => Array.from(t.grad!.data());

const t = suite('autograd');

t('leaves accumulate (+=) across two backward calls', () => {
  const x = f64([1, -2], [2], true);
  sum(mul(x, x), 0).backward();
  assert.equal(grad(x), [2, -4]);
  sum(scale(x, 3), 0).backward();
  assert.equal(grad(x), [5, -1]);
  // clearing is the caller's job (the optimiser does it each step)
  x.grad = null;
  sum(scale(x, 3), 0).backward();
  assert.equal(grad(x), [3, 3]);
});

t('backward twice on the same graph doubles the leaf gradients', () => {
    const x = f64([1, 2], [2], true);
    const y = sum(mul(scale(x, 3), x), 0);
    y.backward();
    assert.equal(grad(x), [6, 12]);
    y.backward();
    assert.equal(grad(x), [12, 24]);
  });

t('two losses sharing an intermediate: the second backward gets only its own gradient', () => {
    const W = f64([1, -1, 2, 1.5], [2, 2], true);
    const h = relu(matmul(f64([1, 2], [1, 2]), W));
    sum(sum(h, 1), 0).backward();
    const once = grad(W);
    sum(sum(scale(h, 2), 1), 0).backward();
    assert.equal(grad(W), once.map((g) => 3 * g));
  });

t('a tensor used twice gets the sum of both paths', () => {
  const x = f64([1.5, -2], [2], true);
  sum(mul(x, x), 0).backward();
  assert.equal(grad(x), [3, -4]);
  // a diamond: a feeds both exp and mul, and x feeds a and the final add
  const diamond = (v: Tensor): Tensor => {
    const a = scale(v, 3);
    return add(add(exp(a), mul(a, a)), v);
  };
  const z = f64([0.1, -0.4], [2], true);
  sum(diamond(z), 0).backward();
  // d/dz (e^{3z} + 9z² + z) = 3e^{3z} + 18z + 1
  assertClose(grad(z), [0.1, -0.4].map((v) => 3 * Math.exp(3 * v) + 18 * v + 1), { atol: 1e-12, rtol: 1e-12 }, 'diamond');
  finiteDifferenceCheck(diamond, [{ data: [0.1, -0.4, 0.7], shape: [3], grad: true }], { label: 'diamond' });
});

t('an intermediate holds the gradient of the root w.r.t. itself after backward', () => {
  const x = f64([1, 2, 3], [3], true);
  const h = scale(x, 2);
  sum(mul(h, h), 0).backward();
  assert.equal(grad(h), [4, 8, 12]);
  assert.equal(grad(x), [8, 16, 24]);
});

t('an op on inputs that need no gradient builds no graph', () => {
  const y = mul(f64([1, 2], [2]), f64([3, 4], [2]));
  assert.is(y.requiresGrad, false);
  assert.equal(y.parents.length, 0);
  const z = mul(f64([1, 2], [2], true), f64([3, 4], [2]));
  assert.is(z.requiresGrad, true);
  assert.is(z.op, 'mul');
  assert.equal(z.parents.length, 2);
});

t('noGrad builds no graph, nests, and restores recording even after a throw', () => {
  const x = f64([1, 2], [2], true);
  const y = noGrad(() => mul(x, noGrad(() => scale(x, 2))));
  assert.is(y.requiresGrad, false);
  assert.equal(y.parents.length, 0);
  y.backward();
  assert.is(x.grad, null);
  assert.throws(() => noGrad(() => { throw new Error('boom'); }), /boom/);
  assert.is(mul(x, x).requiresGrad, true, 'recording is back on after the throw');
});

t('detach stops gradients but keeps the values', () => {
  const x = f64([1, -3], [2], true);
  const d = x.detach();
  assert.is(d.requiresGrad, false);
  assert.equal(Array.from(d.data()), [1, -3]);
  // d/dx Σ x·stop(x) = stop(x), not 2x
  sum(mul(x, d), 0).backward();
  assert.equal(grad(x), [1, -3]);
  assert.is(d.grad, null);
});

t('the finite-difference check catches a wrong gradient (a stray detach)', () => {
  let message = '';
  try {
    finiteDifferenceCheck((v) => mul(v, v.detach()), [{ data: [0.5, 2], shape: [2], grad: true }], { label: 'x·stop(x)' });
  } catch (e) {
    message = (e as Error).message;
  }
  // the message names the op, the input and the element, with both values
  assert.match(message, /^x·stop\(x\): dL\/d\(input 0\), analytic vs central difference: first mismatch at \[0\]: [-\d.e]+ vs [-\d.e]+/);
});

t('backward through 10 000 sequential ops does not overflow the stack', () => {
  const x = f64([0.5], [1], true);
  let y = x;
  for (let i = 0; i < 10_000; i++) y = add(y, x);
  y.backward();
  assert.equal(Array.from(y.data()), [0.5 * 10_001]);
  assert.equal(grad(x), [10_001]);
});

t('a 2-layer MLP in f64: every gradient of the loss matches finite differences end to end', () => {
  const r = prng(30);
  const [n, dIn, dHidden, classes] = [6, 5, 7, 3];
  const x = r.uniform(n * dIn), W1 = r.uniform(dIn * dHidden), b1 = r.uniform(dHidden, -0.5, 0.5);
  const W2 = r.uniform(dHidden * classes), b2 = r.uniform(classes, -0.5, 0.5), y = r.ints(n, 0, classes);
  // keep every pre-activation clear of relu's kink, so the loss is smooth where it is checked
  const pre = linear(f64(x, [n, dIn]), f64(W1, [dIn, dHidden]), f64(b1, [dHidden])).data();
  assert.ok(Math.min(...Array.from(pre, Math.abs)) > 1e-3, 'a pre-activation is too close to 0');
  const mlp = (xs: Tensor, w1: Tensor, c1: Tensor, w2: Tensor, c2: Tensor, labels: Tensor): Tensor =>
    crossEntropy(linear(relu(linear(xs, w1, c1)), w2, c2), labels);
  finiteDifferenceCheck(mlp, [
    { data: x, shape: [n, dIn], grad: true },
    { data: W1, shape: [dIn, dHidden], grad: true },
    { data: b1, shape: [dHidden], grad: true },
    { data: W2, shape: [dHidden, classes], grad: true },
    { data: b2, shape: [classes], grad: true },
    { data: y, shape: [n] },
  ], { label: 'mlp' });
});

t.run();
