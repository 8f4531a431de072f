import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRng } from '../../engine/rng.ts';
import { Tensor } from '../../engine/tensor.ts';
import { Mlp } from '../../mlp/model.ts';
import { assertClose } from '../helpers/close.ts';

test("--rng torch starts from the notebooks' weights, stored transposed ([d_in, d_out])", () => {
  const model = Mlp.init([784, 32, 16, 10], createRng('torch', 31416));
  const W0 = model.layers[0].W.data(), b0 = model.layers[0].b.data(), b2 = model.layers[2].b.data();
  // linear1.weight[0, 0..4] (PyTorch 1.13, seed 31416) sits in column 0 of W0
  assertClose([0, 1, 2, 3, 4].map((p) => W0[p * 32]),
    [0.0211348124, -0.0102567039, -0.0155887529, -0.0166302714, 0.00343829836], { atol: 0, rtol: 1e-8 }, 'linear1.weight[0]');
  assertClose(b0.subarray(0, 3), [0.0295577496, -0.024319211, -0.00774545781], { atol: 0, rtol: 1e-8 }, 'linear1.bias');
  assertClose(b2.subarray(0, 3), [0.22766462, 0.235453099, -0.101496249], { atol: 0, rtol: 1e-8 }, 'output.bias');
  // every weight within nn.Linear's bound 1/√fan_in
  for (const [k, l] of model.layers.entries()) {
    const bound = 1 / Math.sqrt(l.W.shape[0]);
    assert.ok(l.W.data().every((v) => Math.abs(v) <= bound), `layer ${k} weights within ±${bound}`);
  }
});

test('fromParams / export round-trip the parameters exactly', async () => {
  const model = Mlp.init([7, 5, 3], createRng('mlp-lens', 9));
  const params = await model.export();
  const copy = Mlp.fromParams(params);
  assert.equal(copy.sizes, [7, 5, 3]);
  const again = await copy.export();
  for (let k = 0; k < 2; k++) {
    assert.equal(Array.from(again[k].W), Array.from(params[k].W));
    assert.equal(Array.from(again[k].b), Array.from(params[k].b));
  }
});

test('the forward pass is x·W + b with ReLU between layers (checked by hand)', () => {
  const model = Mlp.fromParams([
    { W: Float32Array.from([1, -1, 2, 0.5]), b: Float32Array.from([0, -3]), dIn: 2, dOut: 2 }, // [2, 2]
    { W: Float32Array.from([1, 2]), b: Float32Array.from([0.5]), dIn: 2, dOut: 1 },             // [2, 1]
  ]);
  const acts = model.forward(Tensor.from([1, 2], [1, 2]));
  // pre = [1·1 + 2·2, 1·(−1) + 2·0.5 − 3] = [5, −3]; post = [5, 0]; logits = 5·1 + 0·2 + 0.5
  assert.equal(Array.from(acts['layers.0.pre']!.data()), [5, -3]);
  assert.equal(Array.from(acts['layers.0.post']!.data()), [5, 0]);
  assert.equal(Array.from(acts.logits!.data()), [5.5]);
});

test('a replacement swaps a named tensor before the next layer reads it (ablation)', () => {
  const model = Mlp.init([4, 3, 2, 3], createRng('mlp-lens', 5));
  const x = Tensor.from([0.1, 0.7, 0.3, 0.9], [1, 4]);
  const ablated = model.forward(x, null, { 'layers.1.post': (t) => t.scale(0) });
  // with the last hidden layer zeroed, the logits are the output bias
  assert.equal(Array.from(ablated['layers.1.post']!.data()), [0, 0]);
  assertClose(ablated.logits!.data(), model.layers[2].b.data(), { atol: 0, rtol: 0 }, 'logits = output bias');
  const plain = model.forward(x);
  assert.equal(Array.from(plain['layers.0.pre']!.data()), Array.from(ablated['layers.0.pre']!.data()), 'earlier layers unchanged');
});

test.run();
