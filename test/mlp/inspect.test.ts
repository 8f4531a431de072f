// inspectBatch: every named activation of a batch and the gradient of its mean loss, read back under the
// canonical names — checked against the forward pass itself, the softmax cross-entropy gradient written
// out by hand, and the chain rule through the last layer; the parameters' gradients left as they were;
// the same numbers on WebGPU as on the CPU.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { cpu } from '../../engine/cpu.ts';
import { createRng } from '../../engine/rng.ts';
import { inspectBatch } from '../../mlp/inspect.ts';
import type { Split } from '../../mlp/mnist.ts';
import { Mlp } from '../../mlp/model.ts';
import { REFERENCE_ACT_NAMES } from '../../mlp/names.ts';
import { testGpu } from '../setup/gpu.ts';

const t = suite('inspectBatch');

/** a small split of random images (bytes 0..255, 80 % zeros like MNIST's) and labels 0..9 */
function randomSplit(count: number, seed: number): Split {
  const u = createRng('mlp-lens', seed).uniform(0, 1, count * 785);
  const images = Uint8Array.from({ length: count * 784 }, (_, i) => (u[i] < 0.8 ? 0 : Math.floor(u[i] * 256)));
  const labels = Uint8Array.from({ length: count }, (_, i) => Math.floor(u[count * 784 + i] * 10));
  return { images, labels, count, rows: 28, cols: 28 };
}

const split = randomSplit(70, 3);
const model = () => Mlp.init([784, 32, 16, 10], createRng('torch', 31416));

t('every reference name, with its gradient, in model order; rows [start, start + count)', async () => {
  const m = model();
  const b = await inspectBatch(m, split, { start: 5, count: 63 });
  assert.equal(b.names, [...REFERENCE_ACT_NAMES]);
  assert.equal(Array.from(b.indices), Array.from({ length: 63 }, (_, i) => 5 + i));
  assert.equal(Array.from(b.labels), Array.from(b.indices, (i) => split.labels[i]));
  assert.equal(b.acts['layers.1.post']!.shape, [63, 16]);
  assert.equal(b.grads['layers.1.post']!.shape, [63, 16]);
  assert.equal(b.acts.loss!.shape, [63]);
  for (const n of b.names) assert.ok(b.grads[n], `no gradient for ${n}`);
  // the input is the pixels / 255 of those rows
  assert.equal(b.acts.input!.data[784 * 2 + 300], Math.fround(split.images[7 * 784 + 300] / 255));
});

t('∂(mean loss)/∂logits is (softmax − onehot)/n, and ∂/∂layers.1.post is that times Wᵀ', async () => {
  const m = model();
  const n = 65;
  const b = await inspectBatch(m, split, { indices: Array.from({ length: n }, (_, i) => (i * 7) % 70) });
  const logits = b.acts.logits!.data, g = b.grads.logits!.data;
  let lossSum = 0;
  for (let r = 0; r < n; r++) {
    const row = Array.from(logits.subarray(r * 10, r * 10 + 10));
    const max = Math.max(...row), e = row.map((v) => Math.exp(v - max)), s = e.reduce((a, c) => a + c, 0);
    lossSum += Math.log(s) + max - row[b.labels[r]];
    for (let c = 0; c < 10; c++) {
      const want = (e[c] / s - (c === b.labels[r] ? 1 : 0)) / n;
      assert.ok(Math.abs(g[r * 10 + c] - want) < 1e-6, `logit grad [${r}, ${c}]: ${g[r * 10 + c]} vs ${want}`);
    }
  }
  assert.ok(Math.abs(b.loss - lossSum / n) < 1e-5, `loss ${b.loss} vs ${lossSum / n}`);
  // layers.1.post feeds the output layer: its gradient is ∂logits · Wᵀ (W stored [16, 10])
  const W = m.layers[2].W.data(), gp = b.grads['layers.1.post']!.data;
  for (let r = 0; r < n; r += 16) {
    for (let j = 0; j < 16; j++) {
      let want = 0;
      for (let c = 0; c < 10; c++) want += g[r * 10 + c] * W[j * 10 + c];
      assert.ok(Math.abs(gp[r * 16 + j] - want) < 1e-7, `post grad [${r}, ${j}]: ${gp[r * 16 + j]} vs ${want}`);
    }
  }
});

t("parameters and their gradients are left as they were; rows outside the split are refused", async () => {
  const m = model();
  const W0 = Float32Array.from(m.layers[0].W.data());
  m.params().forEach((p) => { p.tensor.grad = null; });
  await inspectBatch(m, split, { count: 1 });
  assert.equal(Array.from(m.layers[0].W.data()), Array.from(W0));
  assert.ok(m.params().every((p) => p.tensor.grad === null), 'a parameter gradient was left behind');
  const refused = (p: Promise<unknown>) => p.then(() => 'resolved', (e: Error) => e.message);
  assert.match(await refused(inspectBatch(m, split, { indices: [70] })), /row 70 is not in a split of 70/);
  assert.match(await refused(inspectBatch(m, split, { start: 70 })), /no rows/);
});

const gpu = await testGpu();
if ('skip' in gpu) {
  t.before(() => console.log(`skipped: inspectBatch on WebGPU (${gpu.skip})`));
  t.skip('the same activations and gradients on WebGPU as on the CPU', () => {});
} else {
  t('the same activations and gradients on WebGPU as on the CPU', async () => {
    const host = model();
    const onGpu = Mlp.fromParams(await host.export(), gpu.backend);
    const a = await inspectBatch(host, split, { start: 0, count: 33 });
    const b = await inspectBatch(onGpu, split, { start: 0, count: 33 });
    assert.equal(b.names, a.names);
    for (const n of a.names) {
      for (const kind of ['acts', 'grads'] as const) {
        const x = a[kind][n]!.data, y = b[kind][n]!.data;
        let err = 0, scale = 1e-12;
        for (let i = 0; i < x.length; i++) { err = Math.max(err, Math.abs(x[i] - y[i])); scale = Math.max(scale, Math.abs(x[i])); }
        assert.ok(err / scale < 1e-5, `${kind} ${n}: relative error ${err / scale}`);
      }
    }
  });
}

t.run();
