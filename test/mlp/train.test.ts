import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createRng } from '../../engine/rng.ts';
import { type Mnist, type Split } from '../../mlp/mnist.ts';
import { loadMnist } from '../../run/mnist-files.ts';
import { Mlp } from '../../mlp/model.ts';
import type { EpochRecord } from '../../mlp/recorder.ts';
import { evaluate, train } from '../../mlp/train.ts';
import { assertClose } from '../helpers/close.ts';

const mnist = await loadMnist();

/** the first n samples of a split */
function head(split: Split, n: number): Split {
  const d = split.rows * split.cols;
  return { ...split, count: n, images: split.images.subarray(0, n * d), labels: split.labels.subarray(0, n) };
}

// --- the reference run against PyTorch 1.13
const reference = suite('training: reference run vs PyTorch');

reference('the first ten steps reproduce PyTorch 1.13 (same weights, same sample order)', async () => {
  // printed by PyTorch 1.13 (CPU, 1 thread) for torch.manual_seed(31416), the notebooks' MLP, SGD lr 0.01 and
  // DataLoader(batch_size=64, shuffle=True): loss.item() of steps 0..9, then linear2.weight[0, :4]
  const torchLosses = [2.29857492, 2.29543781, 2.31463337, 2.35055614, 2.33417535, 2.24818563, 2.32352686, 2.30109167, 2.31989336, 2.32080364];
  const torchW2 = [-0.104939327, 0.0946844071, -0.16268225, 0.0275525171];
  const rng = createRng('torch', 31416);
  const model = Mlp.init([784, 32, 16, 10], rng);
  const losses: number[] = [];
  await train(model, { ...mnist, test: head(mnist.test, 10) }, rng, { epochs: 1, batch: 64, lr: 0.01, steps: 10 }, {
    onStep: (s) => losses.push(s.batchLoss!),
  });
  // f32 sums in another order than MKL's: agreement to ~1e-6 after ten updates
  assertClose(losses, torchLosses, { atol: 2e-6, rtol: 0 }, 'batch losses');
  const W2 = model.layers[1].W.data(); // [32, 16]: linear2.weight[0, j] is W2[j, 0]
  assertClose([0, 1, 2, 3].map((j) => W2[j * 16]), torchW2, { atol: 1e-7, rtol: 1e-6 }, 'linear2.weight[0, :4]');
});

reference.run();

// --- learning
const learning = suite('training: learning');

learning('two epochs on 12 000 images reach at least 80 % on the 10 000 test images', async () => {
  const rng = createRng('mlp-lens', 7);
  const model = Mlp.init([784, 32, 16, 10], rng);
  const data: Mnist = { ...mnist, train: head(mnist.train, 12000) };
  const before = await evaluate(model, data.test);
  const history = await train(model, data, rng, { epochs: 2, batch: 64, lr: 0.2 });
  assert.ok(before.accuracy < 30, `untrained accuracy ${before.accuracy}`);
  assert.ok(history[1].testAccuracy >= 80, `test accuracy ${history[1].testAccuracy}`);
  assert.ok(history[1].trainLoss < history[0].trainLoss, 'loss falls between epochs');
  const final = await evaluate(model, data.test);
  assert.is(final.accuracy, history[1].testAccuracy);
  assert.is(final.predictions.length, 10000);
  // per-class accuracies weighted by class counts give the overall accuracy back
  const counts = new Array(10).fill(0);
  for (const c of data.test.labels) counts[c]++;
  const weighted = final.perClass.reduce((s, a, c) => s + a * counts[c], 0) / 10000;
  assertClose([weighted], [final.accuracy], { atol: 1e-9, rtol: 1e-12 }, 'per-class vs overall');
});

learning.run();

// --- the recorder
const recording = suite('training: recorder slots');

recording('every visited sample lands in its row, the partial last batch included', async () => {
  const rng = createRng('torch', 1);
  const model = Mlp.init([784, 8, 6, 10], rng);
  const data: Mnist = { ...mnist, train: head(mnist.train, 160), test: head(mnist.test, 10) };
  let rec: EpochRecord | null = null;
  await train(model, data, rng, { epochs: 1, batch: 64, lr: 0.01, record: true }, { onEpoch: (_, r) => { rec = r; } });
  const r = rec as unknown as EpochRecord;
  assert.is(r.count, 160);
  assert.equal(Object.keys(r.acts), ['layers.0.pre', 'layers.0.post', 'layers.1.pre', 'layers.1.post', 'logits', 'loss']);
  assert.equal(Object.keys(r.grads), Object.keys(r.acts));
  // the order is a permutation and the labels are the dataset's
  assert.equal([...r.indices].sort((a, b) => a - b), Array.from({ length: 160 }, (_, i) => i));
  for (let i = 0; i < 160; i++) assert.is(r.labels[i], mnist.train.labels[r.indices[i]]);
  // batches of 64, 64, 32: d(mean loss)/d(loss_i) is 1/64, then 1/32 in the last batch
  const gl = r.grads.loss!.data;
  assertClose(gl.subarray(0, 128), new Array(128).fill(1 / 64), { atol: 0, rtol: 1e-7 }, 'loss grads, full batches');
  assertClose(gl.subarray(128), new Array(32).fill(1 / 32), { atol: 0, rtol: 1e-7 }, 'loss grads, partial batch');
  // post = relu(pre), and d/dpre = d/dpost where pre > 0, else 0 (relu'(0) = 0)
  for (const k of [0, 1]) {
    const pre = r.acts[`layers.${k}.pre`]!.data, post = r.acts[`layers.${k}.post`]!.data;
    const gPre = r.grads[`layers.${k}.pre`]!.data, gPost = r.grads[`layers.${k}.post`]!.data;
    assert.is(pre.length, 160 * (k === 0 ? 8 : 6));
    assertClose(post, Array.from(pre, (v) => Math.max(v, 0)), { atol: 0, rtol: 0 }, `layers.${k}.post`);
    assertClose(gPre, Array.from(gPost, (g, i) => (pre[i] > 0 ? g : 0)), { atol: 0, rtol: 0 }, `grad layers.${k}.pre`);
  }
  // the per-sample loss row is the cross-entropy of the logits row
  const logits = r.acts.logits!.data, loss = r.acts.loss!.data;
  for (const i of [0, 100, 159]) {
    const row = Array.from(logits.subarray(i * 10, i * 10 + 10));
    const m = Math.max(...row);
    const expected = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0)) - row[r.labels[i]];
    assertClose([loss[i]], [expected], { atol: 1e-6, rtol: 1e-6 }, `loss[${i}]`);
  }
});

recording('with --steps the slots hold only the visited samples', async () => {
  const rng = createRng('torch', 2);
  const model = Mlp.init([784, 4, 10], rng);
  const data: Mnist = { ...mnist, train: head(mnist.train, 1000), test: head(mnist.test, 10) };
  let count = -1, rows = -1;
  await train(model, data, rng, { epochs: 1, batch: 50, lr: 0.01, steps: 3, record: true }, {
    onEpoch: (m, r) => { count = r!.count; rows = r!.acts['layers.0.pre']!.data.length / 4; assert.is(m.samples, 150); },
  });
  assert.is(count, 150);
  assert.is(rows, 150);
});

recording('reused slots: the same arrays each epoch, the same values as fresh ones', async () => {
  const run = async (reuse: boolean) => {
    const rng = createRng('torch', 3);
    const model = Mlp.init([784, 6, 10], rng);
    const data: Mnist = { ...mnist, train: head(mnist.train, 200), test: head(mnist.test, 10) };
    const seen: { arr: Float32Array; copy: number[]; grad: number[] }[] = [];
    await train(model, data, rng, { epochs: 2, batch: 64, lr: 0.05, record: true, reuseRecordSlots: reuse }, {
      onEpoch: (_, r) => {
        const a = r!.acts['layers.0.pre']!.data;
        seen.push({ arr: a, copy: Array.from(a), grad: Array.from(r!.grads.logits!.data) });
      },
    });
    return seen;
  };
  const fresh = await run(false), reused = await run(true);
  assert.ok(fresh[0].arr !== fresh[1].arr, 'fresh arrays each epoch');
  assert.ok(reused[0].arr === reused[1].arr, 'one array reused');
  for (const e of [0, 1]) {
    assert.equal(reused[e].copy, fresh[e].copy, `epoch ${e} activations`);
    assert.equal(reused[e].grad, fresh[e].grad, `epoch ${e} logit gradients`);
  }
});

recording.run();
