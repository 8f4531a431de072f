// the CNN model (mlp/cnn.ts): names, shapes, PyTorch's initialisation bounds and order, interventions,
// and a training step through the generic engine that records every map by its channels.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRng } from '../../engine/rng.ts';
import { Tensor } from '../../engine/tensor.ts';
import { parseArch, type LayerSpec } from '../../mlp/arch.ts';
import { Cnn } from '../../mlp/cnn.ts';
import { linearInit } from '../../mlp/init.ts';
import type { Mnist, Split } from '../../mlp/mnist.ts';
import { meanLoss } from '../../mlp/net.ts';
import { REFERENCE_CNN_ACT_NAMES } from '../../mlp/names.ts';
import type { EpochRecord } from '../../mlp/recorder.ts';
import { train } from '../../mlp/train.ts';
import { prng } from '../helpers/check-op.ts';

const specOf = (t: string): LayerSpec[] => {
  const s = parseArch(t);
  if (s.kind !== 'cnn') throw new Error(`${t} is not a cnn`);
  return s.layers;
};
const REF = specOf('cnn');
const reference = () => Cnn.init(REF, [1, 28, 28], 10, createRng('torch', 31416));

/** n random 28×28 images (a fifth of the pixels lit, as MNIST) with labels 0..9 */
function split(n: number, seed: number, side = 28): Split {
  const r = prng(seed);
  const images = Uint8Array.from({ length: n * side * side }, () => (r.next() < 0.2 ? Math.floor(r.next() * 256) : 0));
  return { images, labels: Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) % 10), count: n, rows: side, cols: side };
}

test('the reference CNN exposes exactly these names, in model order, with PyTorch\'s shapes', () => {
  const model = reference();
  assert.equal(model.actNames(), [...REFERENCE_CNN_ACT_NAMES]);
  const acts = model.forward(Tensor.zeros([3, 784]), Tensor.from([0, 1, 2], [3]));
  assert.equal(Object.keys(acts), [...REFERENCE_CNN_ACT_NAMES]);
  const shapes = Object.fromEntries(Object.entries(acts).map(([n, t]) => [n, t!.shape.join('x')]));
  assert.equal(shapes, {
    input: '3x784', 'layers.0.pre': '3x8x24x24', 'layers.0.post': '3x8x24x24', 'layers.0.pool': '3x8x12x12',
    'layers.1.pre': '3x16x8x8', 'layers.1.post': '3x16x8x8', 'layers.1.pool': '3x16x4x4',
    'layers.2.pre': '3x32', 'layers.2.post': '3x32', logits: '3x10', loss: '3',
  });
  for (const [name, t] of Object.entries(acts)) {
    assert.is(t!.name, name, `${name} carries its name`);
    assert.equal([3, ...model.unitShape(name as never)].reduce((a, b) => a * b, 1), t!.size, `unitShape(${name})`);
  }
  assert.throws(() => model.unitShape('layers.2.pool'), /has no tensor named layers\.2\.pool/);
});

test('parameters are layers.K.W (conv [out, in, k, k], linear [d_in, d_out]) and layers.K.b, in construction order', () => {
  assert.equal(reference().params().map((p) => `${p.name} ${p.tensor.shape.join('x')}`), [
    'layers.0.W 8x1x5x5', 'layers.0.b 8', 'layers.1.W 16x8x5x5', 'layers.1.b 16',
    'layers.2.W 256x32', 'layers.2.b 32', 'layers.3.W 32x10', 'layers.3.b 10',
  ]);
});

test('initialisation: nn.Conv2d and nn.Linear bounds (fan_in = in·k·k), drawn conv1, conv2, linear1, output', async () => {
  const layers = await reference().export();
  // the same generator drawn layer by layer as torch's constructors do, in that order
  const rng = createRng('torch', 31416);
  const want = [[25, 8], [200, 16], [256, 32], [32, 10]].map(([fanIn, out]) => linearInit(rng, fanIn, out));
  layers.forEach((l, k) => {
    const fanIn = [25, 200, 256, 32][k], bound = 1 / Math.sqrt(fanIn);
    assert.ok(l.W.every((v) => Math.abs(v) <= bound), `layer ${k} weights within ±1/√${fanIn}`);
    assert.ok(l.b.every((v) => Math.abs(v) <= bound), `layer ${k} biases within ±1/√${fanIn}`);
    assert.equal(Array.from(l.b), Array.from(want[k].bias), `layer ${k} bias`);
    if (k < 2) assert.equal(Array.from(l.W), Array.from(want[k].weight), `conv ${k} weight [out, in, k, k] = torch's draw order`);
    else {
      // a linear weight is kept [d_in, d_out]: torch's [out, in] transposed
      const [dIn, dOut] = [l.dIn, l.dOut];
      for (const [i, o] of [[0, 0], [dIn - 1, 0], [3, dOut - 1]]) assert.is(l.W[i * dOut + o], want[k].weight[o * dIn + i]);
    }
  });
  assert.equal(layers.map((l) => l.shape ?? null), [[8, 1, 5, 5], [16, 8, 5, 5], null, null]);
});

test('export → fromParams gives the same model; wrong sizes are refused', async () => {
  const a = reference(), layers = await a.export();
  const b = Cnn.fromParams(REF, [1, 28, 28], 10, layers);
  const x = Tensor.from(split(2, 3).images, [2, 784]);
  assert.equal(Array.from(b.forward(x).logits!.data()), Array.from(a.forward(x).logits!.data()));
  assert.throws(() => Cnn.fromParams(REF, [1, 28, 28], 10, layers.slice(0, 3)), /has 4 weighted layers, got parameters for 3/);
  const short = layers.map((l, k) => (k === 1 ? { ...l, W: l.W.subarray(1) } : l));
  assert.throws(() => Cnn.fromParams(REF, [1, 28, 28], 10, short), /layers\.1\.W has 3199 values, \[16, 8, 5, 5\] needs 3200/);
});

test('backward fills a gradient under every name but the input, with its shape', () => {
  const model = reference();
  const acts = model.forward(Tensor.from(split(4, 5).images, [4, 784]).named('input'), Tensor.from([1, 2, 3, 4], [4]));
  meanLoss(acts).backward();
  for (const [name, t] of Object.entries(acts)) {
    if (name === 'input') assert.is(t!.grad, null, 'the data gets no gradient');
    else assert.equal(t!.grad!.shape, t!.shape, `grad of ${name}`);
  }
});

test('a replacement of a map (ablating channel 3 of layers.0.post) reaches the layers after it', () => {
  const model = reference();
  const x = Tensor.from(split(2, 9).images, [2, 784]);
  const zeroChannel = (t: Tensor) => {
    const d = Float32Array.from(t.data()), [n, c, h, w] = t.shape;
    for (let i = 0; i < n; i++) d.fill(0, (i * c + 3) * h * w, (i * c + 4) * h * w);
    return Tensor.from(d, t.shape);
  };
  const plain = model.forward(x), ablated = model.forward(x, null, { 'layers.0.post': zeroChannel });
  const post = ablated['layers.0.post']!.data(), pool = ablated['layers.0.pool']!.data();
  assert.ok(post.subarray(3 * 576, 4 * 576).every((v) => v === 0), 'the replaced tensor is what the model keeps under the name');
  assert.ok(pool.subarray(3 * 144, 4 * 144).every((v) => v === 0), 'the pooling reads the replacement');
  assert.not.equal(Array.from(ablated.logits!.data()), Array.from(plain.logits!.data()));
});

test('a spec with stride, padding and two linear layers runs forward and backward', () => {
  const model = Cnn.init(specOf('cnn:conv3x3s2p1,pool2,conv4x3p1,12,7'), [1, 9, 11], 5, createRng('mlp-lens', 2));
  assert.equal(model.actNames(), ['input', 'layers.0.pre', 'layers.0.post', 'layers.0.pool', 'layers.1.pre', 'layers.1.post', 'layers.2.pre', 'layers.2.post', 'layers.3.pre', 'layers.3.post', 'logits', 'loss']);
  const acts = model.forward(Tensor.from(prng(1).uniform(3 * 99, 0, 1), [3, 99]), Tensor.from([0, 4, 2], [3]));
  assert.equal(acts['layers.0.pre']!.shape, [3, 3, 5, 6]);
  assert.equal(acts['layers.0.pool']!.shape, [3, 3, 2, 3]);
  assert.equal(acts['layers.1.post']!.shape, [3, 4, 2, 3]);
  assert.equal(acts['layers.2.pre']!.shape, [3, 12]);
  meanLoss(acts).backward();
  assert.equal(model.layers[0].W.grad!.shape, [3, 1, 3, 3]);
});

test('training records each map by its channels: spatial means, and gradient sums over positions', async () => {
  const model = Cnn.init(specOf('cnn:conv4x5,pool2,8'), [1, 12, 12], 10, createRng('mlp-lens', 4));
  const data = { train: split(23, 11, 12), test: split(10, 12, 12), dir: '', files: {} } as unknown as Mnist;
  // the batch of the first step, by the same generator and order as train() draws it
  const before = Cnn.fromParams(model.spec, model.input, 10, await model.export());
  let rec: EpochRecord | null = null;
  await train(model, data, createRng('mlp-lens', 5), { epochs: 1, batch: 7, lr: 0.05, momentum: 0, weightDecay: 0, shuffle: false, steps: 1, record: true }, {
    onEpoch: (_m, r) => { rec = r; },
  });
  assert.ok(rec, 'a record');
  const r: EpochRecord = rec!;
  assert.is(r.count, 7);
  assert.equal(Object.keys(r.acts).sort(), ['layers.0.pool', 'layers.0.post', 'layers.0.pre', 'layers.1.post', 'layers.1.pre', 'logits', 'loss']);
  assert.is(r.acts['layers.0.pre']!.width, 4);
  assert.is(r.acts['layers.0.pool']!.width, 4);
  assert.is(r.acts['layers.1.pre']!.width, 8);
  // recompute the first step's forward and backward on the weights before it (file order: rows 0..6)
  const x = Tensor.from(Float32Array.from(data.train.images.subarray(0, 7 * 144), (v: number) => v / 255), [7, 144]);
  const acts = before.forward(x, Tensor.from(data.train.labels.subarray(0, 7), [7]));
  meanLoss(acts).backward();
  for (const name of ['layers.0.pre', 'layers.0.post', 'layers.0.pool'] as const) {
    const t = acts[name]!, [, c, h, w] = t.shape, v = t.data(), g = t.grad!.data();
    for (const [i, ch] of [[0, 0], [6, 3], [3, 1]]) {
      let s = 0, gs = 0;
      for (let p = 0; p < h * w; p++) { s += v[(i * c + ch) * h * w + p]; gs += g[(i * c + ch) * h * w + p]; }
      assert.ok(Math.abs(r.acts[name]!.data[i * c + ch] - s / (h * w)) < 1e-6, `${name} mean of sample ${i} channel ${ch}`);
      assert.ok(Math.abs(r.grads[name]!.data[i * c + ch] - gs) < 1e-7, `${name} gradient sum of sample ${i} channel ${ch}`);
    }
  }
  // a linear layer's rows as they are (the step engine's rounding order may differ from the generic forward's)
  const rec1 = r.acts['layers.1.pre']!.data, own1 = acts['layers.1.pre']!.data();
  for (let i = 0; i < 7 * 8; i++) assert.ok(Math.abs(rec1[i] - own1[i]) < 1e-6, `layers.1.pre row ${Math.floor(i / 8)} unit ${i % 8}`);
});

test.run();
