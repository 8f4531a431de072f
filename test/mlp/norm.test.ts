// normalisation experiments (docs/notebooks.md items 38–41): the LayerNorm, BatchNorm and dropout composites
// (finite differences in f64, CPU/WebGPU parity), the model's train/eval modes (eval-mode BatchNorm uses
// the running statistics, dropout is off at evaluation), canonical names, and the safetensors round trip.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Backend } from '../../engine/backend.ts';
import { batchNormEval, batchNormTrain, dropout, layerNorm } from '../../engine/composite.ts';
import { cpu } from '../../engine/cpu.ts';
import { createRng } from '../../engine/rng.ts';
import { Tensor } from '../../engine/tensor.ts';
import type { Mnist, Split } from '../../mlp/mnist.ts';
import { Mlp } from '../../mlp/model.ts';
import { REFERENCE_ACT_NAMES } from '../../mlp/names.ts';
import {
  describeNorm, MNIST_STATS, NORM_METADATA_KEY, pixelStats, planFromJson, planToJson, resolveNorm, savedNormSpec, variantConfig,
  type NormConfig,
} from '../../mlp/norm.ts';
import { decodeSafetensors, encodeSafetensors, type TensorInput } from '../../mlp/safetensors.ts';
import { evaluate, train } from '../../mlp/train.ts';
import { decodeModelWithNorm, encodeModelWithNorm, fromTorchStateDict } from '../../mlp/weights.ts';
import { readConfig } from '../../cli/train.ts';
import { assertClose } from '../helpers/close.ts';
import { backendSuites, finiteDifferenceCheck, MNIST, parityCheck, prng, tensorOn, values } from '../helpers/check-op.ts';

const key = { seed: 31416, step: 3, stream: 0 };
const FINAL: NormConfig = { input: 'standardize', layernorm: 'final', dropout: 0.2, seed: 31416 };

// --- the composites

const c = suite('normalisation composites');

c('layerNorm: each row has mean β and (biased) std γ·√(var/(var+eps)), as nn.LayerNorm', () => {
  const x = Tensor.from([1, 2, 3, 4, -2, 0, 2, 8], [2, 4]);
  const y = layerNorm(x, Tensor.from([1, 1, 1, 1], [4]), Tensor.from([0, 0, 0, 0], [4])).data();
  // row 0: mean 2.5, var 1.25 → (x − 2.5)/√(1.25 + 1e-5)
  const s = 1 / Math.sqrt(1.25 + 1e-5);
  assertClose(Array.from(y.subarray(0, 4)), [-1.5 * s, -0.5 * s, 0.5 * s, 1.5 * s], { atol: 1e-6, rtol: 1e-6 }, 'row 0');
  const w = Tensor.from([2, 2, 2, 2], [4]), b = Tensor.from([1, 1, 1, 1], [4]);
  const z = layerNorm(x, w, b).data();
  for (let r = 0; r < 2; r++) {
    const row = Array.from(z.subarray(r * 4, r * 4 + 4));
    assertClose([row.reduce((a, v) => a + v, 0) / 4], [1], { atol: 1e-6, rtol: 0 }, `row ${r} mean`);
  }
});

c('layerNorm: gradients of x, weight and bias match finite differences', () => {
  const r = prng(21);
  finiteDifferenceCheck((x, w, b) => layerNorm(x, w, b), [
    { data: r.uniform(5 * 7, -2, 2), shape: [5, 7], grad: true },
    { data: r.uniform(7, 0.5, 1.5), shape: [7], grad: true },
    { data: r.uniform(7, -0.5, 0.5), shape: [7], grad: true },
  ], { label: 'layerNorm' });
});

c('batchNorm (train): normalises each feature over the batch; mean and biased variance returned', () => {
  const x = Tensor.from([1, 10, 3, 20, 5, 60], [3, 2]);
  const { y, mean, variance } = batchNormTrain(x, Tensor.from([1, 1], [2]), Tensor.from([0, 0], [2]));
  assertClose(Array.from(mean.data()), [3, 30], { atol: 1e-6, rtol: 1e-6 }, 'mean');
  assertClose(Array.from(variance.data()), [8 / 3, 1400 / 3], { atol: 1e-5, rtol: 1e-6 }, 'biased variance');
  const s = 1 / Math.sqrt(8 / 3 + 1e-5);
  assertClose([y.data()[0], y.data()[2], y.data()[4]], [-2 * s, 0, 2 * s], { atol: 1e-6, rtol: 1e-5 }, 'feature 0');
});

c('batchNorm (train): gradients of x, weight and bias match finite differences', () => {
  const r = prng(22);
  finiteDifferenceCheck((x, w, b) => batchNormTrain(x, w, b).y, [
    { data: r.uniform(6 * 4, -2, 2), shape: [6, 4], grad: true },
    { data: r.uniform(4, 0.5, 1.5), shape: [4], grad: true },
    { data: r.uniform(4, -0.5, 0.5), shape: [4], grad: true },
  ], { label: 'batchNormTrain' });
});

c('batchNorm (eval): gradients match finite differences; the running statistics are constants', () => {
  const r = prng(23);
  const rm = Tensor.from(r.uniform(4, -1, 1), [4], { dtype: 'f64' }), rv = Tensor.from(r.uniform(4, 0.2, 2), [4], { dtype: 'f64' });
  finiteDifferenceCheck((x, w, b) => batchNormEval(x, w, b, rm, rv), [
    { data: r.uniform(5 * 4, -2, 2), shape: [5, 4], grad: true },
    { data: r.uniform(4, 0.5, 1.5), shape: [4], grad: true },
    { data: r.uniform(4, -0.5, 0.5), shape: [4], grad: true },
  ], { label: 'batchNormEval' });
});

c('dropout: gradient matches finite differences (the mask is fixed by its key); identity in eval', () => {
  finiteDifferenceCheck((x) => dropout(x, 0.3, key, true), [{ data: prng(24).uniform(40, -2, 2), shape: [8, 5], grad: true }], { label: 'dropout' });
  const x = Tensor.from([1, 2, 3], [3]);
  assert.is(dropout(x, 0.5, key, false), x, 'eval: the same tensor');
  assert.is(dropout(x, 0, key, true), x, 'p = 0: the same tensor');
});

c.run();

backendSuites('normalisation composites', (test, backend) => {
  const shapes: [number, number][] = [[MNIST.batch, MNIST.hidden[0]], [MNIST.lastBatch, MNIST.hidden[1]], [MNIST.oddBatch, MNIST.classes], [2, 65], [65, 1]];
  for (const [rows, d] of shapes) {
    const r = prng(rows * 100 + d);
    const x = { data: r.uniform(rows * d, -3, 3), shape: [rows, d], grad: true };
    const w = { data: r.uniform(d, 0.5, 1.5), shape: [d], grad: true };
    const b = { data: r.uniform(d, -0.5, 0.5), shape: [d], grad: true };
    if (d > 1) {
      test(`layerNorm parity on [${rows}, ${d}]`, async () => {
        await parityCheck((x, w, b) => layerNorm(x, w, b), [x, w, b], backend, undefined, 'layerNorm');
      });
    }
    test(`batchNorm (train) parity on [${rows}, ${d}]: output and batch statistics`, async () => {
      await parityCheck((x, w, b) => batchNormTrain(x, w, b).y, [x, w, b], backend, undefined, 'batchNormTrain');
      await parityCheck((x, w, b) => batchNormTrain(x, w, b).variance, [x, w, b], backend, undefined, 'batchNormTrain variance');
    });
    test(`batchNorm (eval) parity on [${rows}, ${d}]`, async () => {
      const rm = { data: r.uniform(d, -1, 1), shape: [d] }, rv = { data: r.uniform(d, 0.1, 3), shape: [d] };
      await parityCheck((x, w, b, m, v) => batchNormEval(x, w, b, m, v), [x, w, b, rm, rv], backend, undefined, 'batchNormEval');
    });
    test(`dropout parity on [${rows}, ${d}]: the same elements dropped, the same gradient`, async () => {
      await parityCheck((x) => dropout(x, 0.2, { seed: 31416, step: rows, stream: 1 }, true), [x], backend, { atol: 0, rtol: 0 }, 'dropout');
    });
  }
});

// --- the model

const m = suite('model with normalisation');

const x6 = () => Tensor.from(prng(5).uniform(4 * 6, 0, 1), [4, 6]);
const y6 = () => Tensor.from([0, 1, 2, 1], [4]);

m('the reference model is unchanged: same names, no norm parameters, plain plan', () => {
  const model = Mlp.init([784, 32, 16, 10], createRng('torch', 31416));
  assert.equal(model.actNames(), [...REFERENCE_ACT_NAMES]);
  assert.equal(model.actNames('train'), [...REFERENCE_ACT_NAMES]);
  assert.is(model.params().length, 6);
  assert.is(describeNorm(model.plan), 'none');
});

m('canonical names in model order: norm before or after the ReLU, drop in train mode only', () => {
  const model = Mlp.init([784, 32, 16, 10], createRng('torch', 31416), cpu, FINAL);
  const train = ['input', 'layers.0.pre', 'layers.0.post', 'layers.0.norm', 'layers.0.drop', 'layers.1.pre', 'layers.1.norm', 'layers.1.post', 'logits', 'loss'];
  assert.equal(model.actNames('train'), train);
  assert.equal(model.actNames('eval'), train.filter((n) => n !== 'layers.0.drop'));
  const x = Tensor.from(new Float32Array(3 * 784).fill(0.5), [3, 784]), y = Tensor.from([0, 1, 2], [3]);
  assert.equal(Object.keys(model.forward(x, y)), model.actNames('eval'));
  model.train();
  const acts = model.forward(x, y);
  assert.equal(Object.keys(acts), train);
  for (const [name, t] of Object.entries(acts)) assert.is(t!.name, name);
  assert.equal(model.params().map((p) => p.name), [
    'layers.0.W', 'layers.0.b', 'layers.0.norm.w', 'layers.0.norm.b', 'layers.1.W', 'layers.1.b', 'layers.1.norm.w', 'layers.1.norm.b', 'layers.2.W', 'layers.2.b',
  ]);
});

m('norm layers draw nothing: the linear weights are the same with and without normalisation', async () => {
  const a = await Mlp.init([784, 32, 16, 10], createRng('torch', 31416)).export();
  const b = await Mlp.init([784, 32, 16, 10], createRng('torch', 31416), cpu, { ...FINAL, batchnorm: undefined }).export();
  for (let k = 0; k < 3; k++) assert.equal(Array.from(a[k].W), Array.from(b[k].W));
});

m('input standardisation: layers.0.pre is ((x − mean)/std)·W + b', () => {
  const plain = Mlp.init([6, 5, 3], createRng('mlp-lens', 1));
  const std = Mlp.init([6, 5, 3], createRng('mlp-lens', 1), cpu, { input: 'standardize' });
  const x = x6();
  const xs = Tensor.from(Array.from(x.data(), (v) => (v - MNIST_STATS.mean) / MNIST_STATS.std), [4, 6]);
  assertClose(std.forward(x).logits!.data(), plain.forward(xs).logits!.data(), { atol: 1e-5, rtol: 1e-5 }, 'logits');
});

m('dropout is off at evaluation: eval-mode outputs equal the model without dropout, every call', () => {
  const plain = Mlp.init([6, 8, 5, 3], createRng('mlp-lens', 2));
  const drop = Mlp.init([6, 8, 5, 3], createRng('mlp-lens', 2), cpu, { dropout: 0.5, dropoutLayers: [0, 1], seed: 9 });
  const want = Array.from(plain.forward(x6(), y6()).logits!.data());
  for (let i = 0; i < 3; i++) assert.equal(Array.from(drop.forward(x6(), y6()).logits!.data()), want, `eval call ${i}`);
  assert.is(drop.dropoutStep, 0, 'eval passes do not advance the dropout step');
  drop.train();
  const a = drop.forward(x6(), y6()), b = drop.forward(x6(), y6());
  assert.is(drop.dropoutStep, 2);
  const d = Array.from(a['layers.0.drop']!.data()), post = Array.from(a['layers.0.post']!.data());
  assert.ok(d.some((v, i) => v === 0 && post[i] !== 0), 'train mode drops some units');
  d.forEach((v, i) => { if (v !== 0) assertClose([v], [post[i] * 2], { atol: 0, rtol: 1e-7 }, 'kept units scaled by 1/(1 − p)'); });
  assert.not.equal(Array.from(b['layers.0.drop']!.data()), d, 'a new mask every step');
  assert.not.equal(Array.from(a.logits!.data()), want);
});

m('dropout masks depend on the seed and step only: two models with the same seed drop the same units', () => {
  const mk = () => Mlp.init([6, 8, 3], createRng('mlp-lens', 2), cpu, { dropout: 0.3, seed: 77 }).train();
  const a = mk(), b = mk();
  for (let s = 0; s < 3; s++) assert.equal(Array.from(a.forward(x6())['layers.0.drop']!.data()), Array.from(b.forward(x6())['layers.0.drop']!.data()));
});

m('BatchNorm train mode: running statistics follow torch (momentum 0.1, unbiased variance), num_batches_tracked counts', () => {
  const model = Mlp.init([6, 5, 3], createRng('mlp-lens', 4), cpu, { batchnorm: 'before-relu' }).train();
  const x = x6();
  const acts = model.forward(x);
  const pre = acts['layers.0.pre']!.data(); // [4, 5]
  const n = model.norms[0]!;
  for (let j = 0; j < 5; j++) {
    const col = [0, 1, 2, 3].map((r) => pre[r * 5 + j]);
    const mu = col.reduce((a, v) => a + v, 0) / 4;
    const unbiased = col.reduce((a, v) => a + (v - mu) ** 2, 0) / 3;
    assertClose([n.runningMean!.data()[j], n.runningVar!.data()[j]], [0.1 * mu, 0.9 + 0.1 * unbiased], { atol: 1e-6, rtol: 1e-5 }, `feature ${j}`);
  }
  assert.is(n.batches, 1);
  model.forward(x);
  assert.is(n.batches, 2);
  assert.throws(() => model.forward(Tensor.zeros([1, 6])), /more than 1 sample/);
});

m('BatchNorm eval mode uses the running statistics (not the batch\'s) and leaves them unchanged', () => {
  const model = Mlp.init([6, 5, 3], createRng('mlp-lens', 4), cpu, { batchnorm: 'before-relu' });
  const rm = [0.1, -0.2, 0.3, 0.0, 0.5], rv = [0.5, 2, 1, 0.25, 4];
  const n = model.norms[0]!;
  n.runningMean!.assign(Tensor.from(rm, [5]));
  n.runningVar!.assign(Tensor.from(rv, [5]));
  n.weight.assign(Tensor.from([1, 2, 1, 0.5, 1], [5]));
  n.bias.assign(Tensor.from([0, 0.1, 0, 0, -0.1], [5]));
  const acts = model.eval().forward(x6());
  const pre = acts['layers.0.pre']!.data(), norm = acts['layers.0.norm']!.data();
  const w = [1, 2, 1, 0.5, 1], b = [0, 0.1, 0, 0, -0.1];
  const want = Array.from(pre, (v, i) => { const j = i % 5; return ((v - rm[j]) / Math.sqrt(rv[j] + 1e-5)) * w[j] + b[j]; });
  assertClose(norm, want, { atol: 1e-6, rtol: 1e-5 }, 'eval-mode BatchNorm output');
  // one row alone gives the same output as in the batch: nothing depends on the other samples
  const one = model.forward(Tensor.from(x6().data().subarray(0, 6), [1, 6]))['layers.0.norm']!.data();
  assertClose(one, norm.subarray(0, 5), { atol: 1e-7, rtol: 1e-6 }, 'a single sample in eval mode');
  assert.equal(Array.from(n.runningMean!.data()), Array.from(Float32Array.from(rm)), 'running mean unchanged');
  assert.equal(Array.from(n.runningVar!.data()), Array.from(Float32Array.from(rv)), 'running var unchanged');
  assert.is(n.batches, 0);
});

// --- the training loop's modes, on a slice of MNIST-shaped data (random images: the modes are under test, not learning)

function fakeSplit(count: number, seed: number): Split {
  const r = prng(seed);
  return {
    images: Uint8Array.from({ length: count * 784 }, () => Math.floor(r.next() * 256)),
    labels: Uint8Array.from({ length: count }, () => Math.floor(r.next() * 10)), count, rows: 28, cols: 28,
  };
}
const fake: Mnist = {
  train: fakeSplit(200, 1), test: fakeSplit(100, 2), dir: 'fake',
  files: { trainImages: '', trainLabels: '', testImages: '', testLabels: '' },
};

m('train() steps in train mode and evaluates in eval mode: evaluate() is deterministic and leaves the running statistics', async () => {
  const rng = createRng('mlp-lens', 5);
  const model = Mlp.init([784, 32, 16, 10], rng, cpu, { batchnorm: [0], layernorm: [1], dropout: 0.5, seed: 5 });
  const [h] = await train(model, fake, rng, { epochs: 1, batch: 64, lr: 0.05, record: true, checkFinite: true });
  assert.is(model.training, false, 'eval mode after training');
  assert.is(model.dropoutStep, 4, 'one dropout step per training step (200 samples in batches of 64)');
  assert.is(model.norms[0]!.batches, 4);
  const rm = Array.from(model.norms[0]!.runningMean!.data());
  const a = await evaluate(model, fake.test), b = await evaluate(model, fake.test);
  assert.equal(Array.from(a.predictions), Array.from(b.predictions));
  assert.is(a.loss, b.loss);
  assert.is(a.accuracy, h.testAccuracy, 'the epoch\'s test figures are eval-mode figures');
  assert.equal(Array.from(model.norms[0]!.runningMean!.data()), rm, 'evaluation does not update the running mean');
  model.train();
  await evaluate(model, fake.test);
  assert.is(model.training, true, 'evaluate() restores the caller\'s mode');
});

m('the recorder keeps the new names (norm, drop) with their widths', async () => {
  const rng = createRng('mlp-lens', 6);
  const model = Mlp.init([784, 32, 16, 10], rng, cpu, FINAL);
  let names: string[] = [];
  await train(model, fake, rng, { epochs: 1, batch: 64, lr: 0.01, record: true }, {
    onEpoch: (_, r) => {
      names = Object.keys(r!.acts);
      assert.is(r!.acts['layers.0.drop']!.width, 32);
      assert.is(r!.acts['layers.1.norm']!.width, 16);
      assert.is(r!.grads['layers.0.norm']!.data.length, 200 * 32);
    },
  });
  assert.equal(names, model.actNames('train').filter((n) => n !== 'input'));
});

m.run();

// --- one training step on both backends

backendSuites('model with normalisation: a training step', (test, backend: Backend) => {
  test('final combination + BatchNorm: forward, gradients, running statistics and dropout masks agree with the cpu', async () => {
    const run = async (be: Backend) => {
      const model = Mlp.init([784, 32, 16, 10], createRng('torch', 31416), be,
        { input: 'standardize', layernorm: [0], batchnorm: [1], dropout: 0.2, seed: 31416 }).train();
      const r = prng(3);
      const x = tensorOn(be, r.uniform(MNIST.oddBatch * 784, 0, 1), [MNIST.oddBatch, 784]);
      const y = tensorOn(be, r.ints(MNIST.oddBatch, 0, 10), [MNIST.oddBatch]);
      model.forward(x, y); // advance the dropout step and the running statistics once
      const acts = model.forward(x, y);
      Mlp.meanLoss(acts).backward();
      const out: Record<string, number[]> = {};
      for (const [name, t] of Object.entries(acts)) {
        out[name] = await values(t!);
        if (t!.grad) out[`grad ${name}`] = await values(t!.grad);
      }
      for (const p of model.params()) out[`grad ${p.name}`] = await values(p.tensor.grad!);
      out.runningMean = await values(model.norms[1]!.runningMean!);
      out.runningVar = await values(model.norms[1]!.runningVar!);
      return out;
    };
    const got = await run(backend), want = await run(cpu);
    assert.equal(Object.keys(got), Object.keys(want));
    for (const k of Object.keys(want)) {
      const scale = Math.max(1, ...want[k].map(Math.abs));
      assertClose(got[k], want[k], { atol: 1e-4 * scale, rtol: 1e-4 }, k);
    }
    // the same units dropped on both backends
    const dropped = (o: Record<string, number[]>) => o['layers.0.drop'].map((v, i) => v === 0 && o['layers.0.norm'][i] !== 0);
    assert.equal(dropped(got), dropped(want));
  });
});

// --- plans, variants, weights

const p = suite('normalisation plans and saved weights');

p('resolveNorm: placements, the final arrangement, dropout layers, and clear errors', () => {
  const plan = resolveNorm(FINAL, 2);
  assert.equal(plan.layers, [{ norm: 'layernorm', site: 'after-relu', dropout: 0.2 }, { norm: 'layernorm', site: 'before-relu', dropout: 0 }]);
  assert.equal(plan.input, { kind: 'standardize', mean: 0.1307, std: 0.3081 });
  assert.is(describeNorm(plan), 'input standardize (mean 0.1307, std 0.3081); layer 0: linear → relu → layernorm → dropout 0.2; layer 1: linear → layernorm → relu');
  assert.equal(resolveNorm({ layernorm: [1] }, 3).layers.map((l) => l.norm), [null, 'layernorm', null]);
  assert.equal(resolveNorm({ batchnorm: 'after-relu' }, 2).layers.map((l) => `${l.norm} ${l.site}`), ['batchnorm after-relu', 'batchnorm after-relu']);
  assert.throws(() => resolveNorm({ layernorm: [2] }, 2), /layer 2 is not a hidden layer/);
  assert.throws(() => resolveNorm({ layernorm: [0], batchnorm: [0] }, 2), /both layernorm and batchnorm/);
  assert.throws(() => resolveNorm({ dropout: 1 }, 2), /p must be in \[0, 1\)/);
  assert.throws(() => resolveNorm({ input: 'computed' }, 2), /needs the training set/);
  assert.equal(resolveNorm({ input: 'computed', inputStats: { mean: 0.13, std: 0.31 } }, 1).input, { kind: 'computed', mean: 0.13, std: 0.31 });
});

p('variantConfig: names of the --compare variants', () => {
  assert.equal(variantConfig('raw'), {});
  assert.equal(variantConfig('standardize+dropout'), { input: 'standardize', dropout: 0.2 });
  assert.equal(variantConfig('final'), { input: 'standardize', layernorm: 'final', dropout: 0.2 });
  assert.equal(variantConfig('layernorm=1+dropout=0.5'), { layernorm: [1], dropout: 0.5 });
  assert.equal(variantConfig('batchnorm-after'), { batchnorm: 'after-relu' });
  assert.throws(() => variantConfig('layernorm+layernorm-before'), /conflicts/);
  assert.throws(() => variantConfig('dropout=1'), /p must be in/);
  assert.throws(() => variantConfig('groupnorm'), /unknown variant token 'groupnorm'/);
});

p('pixelStats: population mean and std of b/255 over every pixel', () => {
  const s = pixelStats(Uint8Array.of(0, 255, 0, 255));
  assertClose([s.mean, s.std], [0.5, 0.5], { atol: 1e-7, rtol: 0 }, 'two levels');
});

p('safetensors: LayerNorm and BatchNorm under PyTorch names (ln1, bn2, num_batches_tracked I64) and back', async () => {
  const rng = createRng('torch', 31416);
  const model = Mlp.init([784, 32, 16, 10], rng, cpu, { input: 'computed', inputStats: { mean: 0.13, std: 0.3 }, layernorm: [0], batchnorm: [1], dropout: 0.2, seed: 4 });
  const x = Tensor.from(prng(9).uniform(5 * 784, 0, 1), [5, 784]);
  model.train();
  model.forward(x);
  model.forward(x); // running statistics moved, two batches tracked
  model.norms[0]!.weight.assign(Tensor.from(prng(10).uniform(32, 0.5, 1.5), [32]));
  model.eval();
  const bytes = encodeModelWithNorm(await model.export(), await model.exportNorms(), { [NORM_METADATA_KEY]: planToJson(model.plan) });
  const { tensors, metadata } = decodeSafetensors(bytes, 'model.safetensors');
  assert.equal(Object.keys(tensors).sort(), [
    'bn2.bias', 'bn2.num_batches_tracked', 'bn2.running_mean', 'bn2.running_var', 'bn2.weight', 'linear1.bias', 'linear1.weight',
    'linear2.bias', 'linear2.weight', 'ln1.bias', 'ln1.weight', 'output.bias', 'output.weight',
  ]);
  assert.is(tensors['bn2.num_batches_tracked'].dtype, 'I64');
  assert.equal(tensors['bn2.num_batches_tracked'].shape, []);
  assert.is(Number((tensors['bn2.num_batches_tracked'].data as BigInt64Array)[0]), 2);
  assert.equal(tensors['ln1.weight'].shape, [32]);
  assert.equal(tensors['bn2.running_var'].shape, [16]);
  // the plain loader refuses it (it cannot build the norm layers) rather than dropping them silently
  // (the message lists the first few unexpected keys, then how many more)
  assert.throws(() => fromTorchStateDict(tensors, 'model.safetensors'), /unexpected .*bn2\.[a-z_]+.* and 3 more/);

  const back = decodeModelWithNorm(bytes, 'model.safetensors');
  const loaded = Mlp.fromParams(back.layers, cpu, { plan: planFromJson(back.metadata[NORM_METADATA_KEY], 2), norms: back.norms });
  assert.equal(loaded.plan, model.plan);
  assert.is(loaded.norms[1]!.batches, 2);
  assert.equal(Array.from(loaded.forward(x).logits!.data()), Array.from(model.forward(x).logits!.data()), 'eval-mode logits, bit for bit');
  assert.equal(Array.from(loaded.norms[1]!.runningVar!.data()), Array.from(model.norms[1]!.runningVar!.data()));
  assert.is(metadata['mlp-lens'], 'hidden=32,16');
  // a PyTorch state dict has no plan: LayerNorm goes after and BatchNorm before the ReLU, no input standardisation
  const torchSaved = savedNormSpec(back.norms, {}, 2);
  assert.equal(torchSaved.plan.layers.map((l) => `${l.norm} ${l.site} ${l.dropout}`), ['layernorm after-relu 0', 'batchnorm before-relu 0']);
  assert.is(torchSaved.plan.input, null);
  assert.equal(savedNormSpec(back.norms, back.metadata, 2).plan, model.plan);
});

p('saved norm layers are checked against the model', () => {
  const layers = [{ W: new Float32Array(6), b: new Float32Array(3), dIn: 2, dOut: 3 }, { W: new Float32Array(6), b: new Float32Array(2), dIn: 3, dOut: 2 }];
  const { tensors } = decodeSafetensors(encodeModelWithNorm(layers, []), 'f');
  const v = (n: number) => ({ dtype: 'F32' as const, shape: [n], data: new Float32Array(n) });
  const load = (extra: Record<string, TensorInput>) =>
    decodeModelWithNorm(encodeSafetensors({ ...(tensors as Record<string, TensorInput>), ...extra }), 'f');
  assert.is(load({}).norms.length, 0);
  assert.throws(() => load({ 'ln1.weight': v(3) }), /'ln1' lacks ln1\.bias/);
  assert.throws(() => load({ 'ln1.weight': v(4), 'ln1.bias': v(4) }), /expected \[3\]/);
  assert.throws(() => load({ 'ln2.weight': v(2), 'ln2.bias': v(2) }), /hidden layer 2, but the model has 1/);
  assert.throws(() => load({ 'bn1.weight': v(3), 'bn1.bias': v(3) }), /lacks bn1\.running_mean/);
  assert.throws(() => load({ 'ln1.weight': v(3), 'ln1.bias': v(3), 'bn1.weight': v(3), 'bn1.bias': v(3), 'bn1.running_mean': v(3), 'bn1.running_var': v(3) }), /both ln1 and bn1/);
});

p.run();


// --- the command line

const cl = suite('normalisation on the command line');
const tmp = mkdtempSync(join(tmpdir(), 'mlp-lens-norm-'));
const cli = (...args: string[]) => {
  const r = spawnSync(process.execPath, ['bench/train.js', ...args, '--no-analysis', '--no-report', '--quiet'], { encoding: 'utf8', timeout: 180_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

cl('flags → the model config: --input-norm, --layernorm, --batchnorm, --dropout, --dropout-layers, --compare', () => {
  const cfg = readConfig(['--input-norm', 'standardize', '--layernorm', 'final', '--dropout', '0.2']);
  assert.ok(cfg !== 'help');
  assert.equal(cfg.norm, { input: 'standardize', layernorm: 'final', batchnorm: undefined, dropout: 0.2, dropoutLayers: undefined, seed: 31416 });
  const c2 = readConfig(['--batchnorm', '1', '--layernorm', '0', '--dropout', '0.5', '--dropout-layers', '0,1', '--seed', '7']);
  assert.ok(c2 !== 'help');
  assert.equal([c2.norm.batchnorm, c2.norm.layernorm, c2.norm.dropoutLayers, c2.norm.seed], [[1], [0], [0, 1], 7]);
  const c3 = readConfig(['--compare', 'raw, standardize,final']);
  assert.ok(c3 !== 'help');
  assert.equal(c3.compare, ['raw', 'standardize', 'final']);
  assert.throws(() => readConfig(['--layernorm', 'sideways']), /--layernorm must be a site or a comma-separated list/);
  assert.throws(() => readConfig(['--layernorm', '2']), /layer 2 is not a hidden layer/);
  assert.throws(() => readConfig(['--layernorm', '0', '--batchnorm', '0']), /both layernorm and batchnorm/);
  assert.throws(() => readConfig(['--dropout', '1']), /p must be in \[0, 1\)/);
  assert.throws(() => readConfig(['--input-norm', 'whiten']), /--input-norm must be one of none, standardize, computed/);
});

cl('a normalised run saves lnK / bnK under PyTorch names with its plan; --init loads it back', () => {
  const a = join(tmp, 'a'), b = join(tmp, 'b');
  const r = cli('--epochs', '1', '--steps', '4', '--out', a, '--input-norm', 'computed', '--layernorm', '0', '--batchnorm', '1', '--dropout', '0.2');
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /normalisation: input computed \(mean 0\.1306\d*, std 0\.3081\d*\); layer 0: linear → relu → layernorm → dropout 0\.2; layer 1: linear → batchnorm → relu/);
  const { tensors, metadata } = decodeSafetensors(readFileSync(join(a, 'model.safetensors')), 'model.safetensors');
  assert.ok(['ln1.weight', 'ln1.bias', 'bn2.weight', 'bn2.running_mean', 'bn2.running_var', 'bn2.num_batches_tracked'].every((k) => k in tensors));
  assert.is(Number((tensors['bn2.num_batches_tracked'].data as BigInt64Array)[0]), 4);
  assert.is(planFromJson(metadata[NORM_METADATA_KEY], 2).layers[1].norm, 'batchnorm');
  const config = JSON.parse(readFileSync(join(a, 'config.json'), 'utf8'));
  assert.is(config.normPlan.input.kind, 'computed');
  // the same options start from the saved weights; other options are refused with one line
  const r2 = cli('--epochs', '1', '--steps', '1', '--out', b, '--input-norm', 'computed', '--layernorm', '0', '--batchnorm', '1', '--init', join(a, 'model.safetensors'));
  assert.is(r2.code, 0, r2.err);
  const r3 = cli('--epochs', '1', '--steps', '1', '--out', join(tmp, 'c'), '--init', join(a, 'model.safetensors'));
  assert.is(r3.code, 2);
  assert.match(r3.err, /saved layernorm for hidden layer 0, but the plan has no normalisation there/);
  assert.is(r3.err.trim().split('\n').length, 1);
});

cl('--compare trains each variant with the same seed into OUT/compare/<variant> and writes the comparison', () => {
  const out = join(tmp, 'cmp');
  const r = cli('--compare', 'raw,final', '--epochs', '1', '--steps', '3', '--out', out);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /comparison \(test set after the last epoch/);
  for (const v of ['raw', 'final']) assert.ok(existsSync(join(out, 'compare', v, 'model.safetensors')), v);
  const s = JSON.parse(readFileSync(join(out, 'compare', 'summary.json'), 'utf8'));
  assert.equal(s.variants.map((v: { name: string }) => v.name), ['raw', 'final']);
  assert.is(s.variants[1].readme.test, 96.7);
  assert.ok(s.variants.every((v: { silhouette: { post: number } }) => Number.isFinite(v.silhouette.post)));
  assert.ok('layers.0.drop' in s.variants[1].drift && !('layers.0.drop' in s.variants[0].drift));
  const seeds = ['raw', 'final'].map((v) => JSON.parse(readFileSync(join(out, 'compare', v, 'config.json'), 'utf8')).seed);
  assert.equal(seeds, [31416, 31416]);
  for (const f of ['summary.csv', 'curves.csv', 'drift.csv', 'health.csv', 'per-class.csv']) assert.ok(existsSync(join(out, 'compare', f)), f);
  const bad = cli('--compare', 'raw,groupnorm', '--out', join(tmp, 'bad'));
  assert.is(bad.code, 2);
  assert.match(bad.err, /unknown variant token 'groupnorm'/);
  const both = cli('--compare', 'raw', '--dropout', '0.2', '--out', join(tmp, 'bad'));
  assert.is(both.code, 2);
});

cl.run();
