import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRng } from '../../engine/rng.ts';
import { Tensor } from '../../engine/tensor.ts';
import { Mlp } from '../../mlp/model.ts';
import { actNames, REFERENCE_ACT_NAMES } from '../../mlp/names.ts';

test('the reference model exposes exactly these names, in model order', () => {
  assert.equal([...REFERENCE_ACT_NAMES], ['input', 'layers.0.pre', 'layers.0.post', 'layers.1.pre', 'layers.1.post', 'logits', 'loss']);
  assert.equal(actNames(2), [...REFERENCE_ACT_NAMES]);
  const model = Mlp.init([784, 32, 16, 10], createRng('torch', 31416));
  const acts = model.forward(Tensor.zeros([3, 784]), Tensor.from([0, 1, 2], [3]));
  assert.equal(Object.keys(acts), [...REFERENCE_ACT_NAMES]);
  for (const [name, t] of Object.entries(acts)) assert.is(t!.name, name, `${name} carries its name`);
});

test('a deeper model names every hidden layer', () => {
  assert.equal(actNames(3), ['input', 'layers.0.pre', 'layers.0.post', 'layers.1.pre', 'layers.1.post', 'layers.2.pre', 'layers.2.post', 'logits', 'loss']);
  const model = Mlp.init([5, 4, 4, 4, 2], createRng('mlp-lens', 1));
  assert.equal(Object.keys(model.forward(Tensor.zeros([1, 5]), Tensor.from([1], [1]))), actNames(3));
});

test('parameters are layers.K.W [d_in, d_out] and layers.K.b [d_out], in construction order', () => {
  const model = Mlp.init([784, 32, 16, 10], createRng('torch', 31416));
  assert.equal(model.params().map((p) => `${p.name} ${p.tensor.shape.join('x')}`),
    ['layers.0.W 784x32', 'layers.0.b 32', 'layers.1.W 32x16', 'layers.1.b 16', 'layers.2.W 16x10', 'layers.2.b 10']);
});

test('without labels there is no loss; backward fills a gradient under every other name but input', () => {
  const model = Mlp.init([6, 5, 4, 3], createRng('mlp-lens', 3));
  const x = Tensor.from(Array.from({ length: 12 }, (_, i) => (i % 5) / 5), [2, 6]);
  assert.not.ok('loss' in model.forward(x));
  const acts = model.forward(x, Tensor.from([0, 2], [2]));
  Mlp.meanLoss(acts).backward();
  for (const [name, t] of Object.entries(acts)) {
    if (name === 'input') assert.is(t!.grad, null, 'the data gets no gradient');
    else assert.equal(t!.grad!.shape, t!.shape, `grad of ${name} has its shape`);
  }
});
test.run();
