// the CNN under the lens: receptive fields, top images, feature maps and filters on tiny hand-computed
// cases; channel units and channel interventions against an independent computation; the gradients from
// the analysed tensor on (cacheImages' gradFrom) against the full backward pass; on the cpu backend, the
// fast path (the fused CNN forward, the linear head's gradients by hand, the interventions through the head)
// against the generic ops; a CNN end to end through the analyses, their files and the report's figures.
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { validateCnnResults } from '../../analysis/cnn-json.ts';
import { flatFeatures, topPca } from '../../analysis/cnn-suite.ts';
import { pca } from '../../analysis/pca.ts';
import { convFilters, featureMaps } from '../../analysis/feature-maps.ts';
import { cacheImages, imagesFromSplit, linearHead, runWithCache, unitSizes, widthOf } from '../../analysis/forward-cache.ts';
import { evaluateUnderScaling } from '../../analysis/intervention.ts';
import { receptiveField, receptiveRange, windowsTo } from '../../analysis/receptive-field.ts';
import { saliencyMaps } from '../../analysis/saliency.ts';
import { analyzeThroughTraining } from '../../analysis/through-training.ts';
import { validateThroughTraining } from '../../analysis/through-training-json.ts';
import { channelMaxima, topRowsPerChannel } from '../../analysis/top-images.ts';
import { createRng } from '../../engine/rng.ts';
import { Tensor } from '../../engine/tensor.ts';
import { parseArch, type LayerSpec } from '../../mlp/arch.ts';
import { Cnn } from '../../mlp/cnn.ts';
import { fusedCnnCpuActs } from '../../mlp/fused-cnn-cpu.ts';
import type { ActName } from '../../mlp/names.ts';
import { channelReduce } from '../../mlp/units.ts';
import type { Split } from '../../mlp/mnist.ts';
import { analyzeCnnModel } from '../../run/analyze.ts';
import { loadRunResults, writeReport } from '../../run/report.ts';
import { assertClose } from '../helpers/close.ts';
import { figureInfo } from '../helpers/report-page.ts';
import { skipped } from '../helpers/skip.ts';
import { pathToFileURL } from 'node:url';

const CHROMIUM = '/usr/bin/chromium';
/** the CNN's own figures (images: every one) */
const CNN_FIGURES = ['cnn-filters', 'cnn-feature-maps-layer1', 'cnn-feature-maps-layer2', 'cnn-top-images-layer1', 'cnn-top-images-layer2', 'cnn-flat-features-pca', 'cnn-flat-features-silhouette'];

const specOf = (arch: string): LayerSpec[] => {
  const s = parseArch(arch);
  if (s.kind !== 'cnn') throw new Error(arch);
  return s.layers;
};

test('receptive fields through conv/pool strides, kernels and paddings (by hand), clipped to the image', () => {
  // the reference CNN: conv 5, pool 2, conv 5, pool 2
  const conv = { kernel: 5, stride: 1, padding: 0 }, pool = { kernel: 2, stride: 2, padding: 0 };
  assert.equal(receptiveRange([conv], 3), [3, 7]);
  assert.equal(receptiveRange([conv, pool], 3), [6, 11]);
  // layers.1.post position i reads conv2 [i, i+4] → pool1 [2i, 2i+9] → image [2i, 2i+13]: 14 wide
  assert.equal(receptiveRange([conv, pool, conv], 0), [0, 13]);
  assert.equal(receptiveRange([conv, pool, conv], 7), [14, 27]);
  // layers.1.pool position i: pool2 [2i, 2i+1] → conv2 [2i, 2i+5] → pool1 [4i, 4i+11] → image [4i, 4i+15]
  assert.equal(receptiveRange([conv, pool, conv, pool], 3), [12, 27]);
  assert.equal(receptiveField([conv, pool, conv, pool], 3, 1, 28, 28), { top: 12, bottom: 27, left: 4, right: 19, size: 16 });
  // padding reads outside the image: clipped, the size before clipping kept
  const pad = { kernel: 3, stride: 1, padding: 1 };
  assert.equal(receptiveField([pad], 0, 4, 5, 5), { top: 0, bottom: 1, left: 3, right: 4, size: 3 });
  // stride 2, padding 1, kernel 3: output 2 reads 3..5; through two of them: output 1 reads 2·1−1 … 2·1−1+2 = 1..3 → 1..7
  const s2 = { kernel: 3, stride: 2, padding: 1 };
  assert.equal(receptiveRange([s2], 2), [3, 5]);
  assert.equal(receptiveRange([s2, s2], 1), [1, 7]);
  // from a model: its conv and pool layers in order, the pooling of the named layer only for .pool
  const m = Cnn.init(specOf('cnn:conv4x3s2p1,pool2,conv6x3'), [1, 12, 12], 3, createRng('mlp-lens', 1));
  assert.equal(windowsTo(m, 'layers.0.post'), [{ kernel: 3, stride: 2, padding: 1 }]);
  assert.equal(windowsTo(m, 'layers.0.pool'), [{ kernel: 3, stride: 2, padding: 1 }, { kernel: 2, stride: 2, padding: 0 }]);
  assert.equal(windowsTo(m, 'layers.1.pre').length, 3);
  assert.throws(() => windowsTo(m, 'layers.2.post'), /not a feature map/);
});

test('top images: per-channel max over positions and its position, then the k largest rows per channel', () => {
  // 3 images × 2 channels × 4 positions
  const data = [
    1, 5, 2, 0, /* */ 0, 0, 0, 0,
    3, 3, 1, 0, /* */ 9, 1, 9, 2,
    0, 7, 1, 7, /* */ -1, -2, -3, -4,
  ];
  const { max, argmax } = channelMaxima(data, 3, 2, 4);
  assert.equal(Array.from(max), [5, 0, 3, 9, 7, -1]);
  assert.equal(Array.from(argmax), [1, 0, 0, 0, 1, 0]); // first position on ties
  assert.equal(topRowsPerChannel(max, 3, 2, 2), [[2, 0], [1, 0]]);
  // written in place at a row offset (chunks)
  const into = { max: new Float32Array(4 * 2), argmax: new Int32Array(4 * 2), offset: 1 };
  channelMaxima(data.slice(0, 8), 1, 2, 4, into);
  assert.equal(Array.from(into.max), [0, 0, 5, 0, 0, 0, 0, 0]);
});

/** conv 2 channels of 2×2 on a 1×4×4 image, pool 2, linear 3, output 2: weights by hand */
function tinyCnn(): Cnn {
  return Cnn.fromParams(specOf('cnn:conv2x2,pool2,3'), [1, 4, 4], 2, [
    { W: Float32Array.from([1, 1, 1, 1, /* */ 1, 0, 0, -1]), b: Float32Array.from([0, 0.5]), dIn: 4, dOut: 2, shape: [2, 1, 2, 2] },
    { W: Float32Array.from({ length: 2 * 3 }, (_, i) => (i % 4) - 1.5), b: Float32Array.from([0.1, -0.2, 0.3]), dIn: 2, dOut: 3 },
    { W: Float32Array.from([1, -1, 0.5, 0.25, -0.5, 2]), b: Float32Array.from([0, 0.1]), dIn: 3, dOut: 2 },
  ]);
}

/** the tiny CNN's conv by hand: x [4, 4] → pre [2, 3, 3] */
function convByHand(x: number[]): number[] {
  const W = [[1, 1, 1, 1], [1, 0, 0, -1]], b = [0, 0.5], out: number[] = [];
  for (let c = 0; c < 2; c++) {
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) out.push(b[c] + W[c][0] * x[i * 4 + j] + W[c][1] * x[i * 4 + j + 1] + W[c][2] * x[(i + 1) * 4 + j] + W[c][3] * x[(i + 1) * 4 + j + 1]);
    }
  }
  return out;
}

const IMAGE = [0, 1, 2, 0, 3, 0, 1, 1, 0, 2, 0, 4, 1, 0, 0, 2].map((v) => v / 5); // (no pre-activation exactly 0: a ReLU kink)

test('feature maps of one image: every conv map, its shape and values (by hand)', async () => {
  const m = tinyCnn(), maps = await featureMaps(m, IMAGE);
  assert.equal(maps.map((x) => x.name), ['layers.0.pre', 'layers.0.post', 'layers.0.pool']);
  assert.equal(maps.map((x) => x.shape), [[2, 3, 3], [2, 3, 3], [2, 1, 1]]);
  const pre = convByHand(IMAGE), post = pre.map((v) => Math.max(0, v));
  assertClose(Array.from(maps[0].data), pre);
  assertClose(Array.from(maps[1].data), post);
  // max_pool2d(2) of a 3×3 map (floor mode): the top-left 2×2
  const pool = [0, 1].map((c) => Math.max(post[c * 9], post[c * 9 + 1], post[c * 9 + 3], post[c * 9 + 4]));
  assertClose(Array.from(maps[2].data), pool);
  try { await featureMaps(m, [1, 2]); assert.unreachable(); } catch (e) { assert.match((e as Error).message, /16/); }
});

test('filters: the conv weights [out, in, k, k] and biases as stored', async () => {
  const f = await convFilters(tinyCnn(), 0);
  assert.equal(f.shape, [2, 1, 2, 2]);
  assert.equal(Array.from(f.weights), [1, 1, 1, 1, 1, 0, 0, -1]);
  assert.equal(Array.from(f.bias), [0, 0.5]);
  try { await convFilters(tinyCnn(), 1); assert.unreachable(); } catch (e) { assert.match((e as Error).message, /not a conv layer/); }
});

/** a tiny split of 4×4 images, bytes from a seeded generator */
function tinySplit(n: number): Split {
  const rng = createRng('mlp-lens', 7), perm = rng.epochPermutation(256);
  return {
    images: Uint8Array.from({ length: n * 16 }, (_, i) => perm[i % 256]), labels: Uint8Array.from({ length: n }, (_, i) => i % 2),
    count: n, rows: 4, cols: 4,
  };
}

test('a conv map enters the tables as its channel means; its gradient as the per-channel sums; gradFrom = the full backward', async () => {
  const m = tinyCnn(), data = imagesFromSplit(tinySplit(6));
  assert.is(widthOf(m, 'layers.0.pre'), 2);
  assert.equal(unitSizes(m), [16, 2, 3, 2]);
  const full = await runWithCache(m, { shape: [6, 16], data: data.x }, data.labels, { grad: 'loss' });
  const c = await cacheImages(m, data, { grads: ['loss'], batch: 4, keep: ['layers.0.pool'] });
  const mean = (t: Float32Array, i: number, ch: number, hw: number, div: number) => t.subarray((i * 2 + ch) * hw, (i * 2 + ch + 1) * hw).reduce((a, b) => a + b, 0) / div;
  for (let i = 0; i < 6; i++) {
    for (let ch = 0; ch < 2; ch++) {
      assertClose([c.acts['layers.0.post']!.data[i * 2 + ch]], [mean(full.acts['layers.0.post']!.data, i, ch, 9, 9)]);
      assertClose([c.grads.loss!['layers.0.pre']!.data[i * 2 + ch]], [mean(full.grads['layers.0.pre']!.data, i, ch, 9, 1)]);
    }
  }
  assertClose(Array.from(c.maps['layers.0.pool']!.data), Array.from(full.acts['layers.0.pool']!.data));
  // the gradients from layers.0.pool on, without the conv's backward: the same numbers, none before it
  const g = await cacheImages(m, data, { grads: ['loss', 'trueLogit'], batch: 4, gradFrom: 'layers.0.pool' });
  assert.equal(Object.keys(g.grads.loss!).sort(), ['layers.0.pool', 'layers.1.post', 'layers.1.pre', 'logits', 'loss']);
  for (const n of ['layers.0.pool', 'layers.1.pre', 'logits'] as const) assertClose(Array.from(g.grads.loss![n]!.data), Array.from(c.grads.loss![n]!.data), { atol: 1e-6 }, n);
  const t = await cacheImages(m, data, { grads: ['trueLogit'], batch: 6 });
  assertClose(Array.from(g.grads.trueLogit!['layers.0.pool']!.data), Array.from(t.grads.trueLogit!['layers.0.pool']!.data));
  assertClose(Array.from(g.acts['layers.1.post']!.data), Array.from(c.acts['layers.1.post']!.data));
});

test('ablating a channel = its whole map zeroed; scaling = the map scaled; from the kept map = from the image', async () => {
  const m = tinyCnn(), split = tinySplit(8), data = imagesFromSplit(split);
  for (const target of ['layers.0.post', 'layers.0.pool'] as const) {
    const [base, abl, sc] = await evaluateUnderScaling(m, data, target, [{ neurons: [], scale: 1 }, { neurons: [1], scale: 0 }, { neurons: [0], scale: 2.5 }]);
    // independently: the forward pass with the replacement written out on the host
    const mask = (t: Tensor, ch: number, s: number) => {
      const d = Float32Array.from(t.data()), [n, C, H, W] = t.shape;
      for (let i = 0; i < n; i++) for (let q = 0; q < H * W; q++) d[(i * C + ch) * H * W + q] *= s;
      return Tensor.from(d, t.shape);
    };
    const x = Tensor.from(data.x, [8, 16]);
    const meanLogits = (logits: Float32Array) => [0, 1].map((k) => Array.from({ length: 8 }, (_, i) => logits[i * 2 + k]).reduce((a, b) => a + b, 0) / 8);
    assertClose(base.meanLogits, meanLogits(m.forward(x).logits!.data() as Float32Array));
    assertClose(abl.meanLogits, meanLogits(m.forward(x, null, { [target]: (t: Tensor) => mask(t, 1, 0) }).logits!.data() as Float32Array), { atol: 1e-6 }, `${target} ablation`);
    assertClose(sc.meanLogits, meanLogits(m.forward(x, null, { [target]: (t: Tensor) => mask(t, 0, 2.5) }).logits!.data() as Float32Array), { atol: 1e-6 }, `${target} scale`);
    // the same from the tensor's values already computed: the layers before it are not run
    const kept = await cacheImages(m, data, { keep: [target], names: ['logits'] });
    const again = await evaluateUnderScaling(m, data, target, [{ neurons: [], scale: 1 }, { neurons: [1], scale: 0 }, { neurons: [0], scale: 2.5 }], { cached: kept.maps[target] });
    assert.equal(again.map((r) => r.confusion), [base, abl, sc].map((r) => r.confusion));
    assertClose(again.flatMap((r) => r.meanLogits), [base, abl, sc].flatMap((r) => r.meanLogits), { atol: 1e-6 });
  }
});

/** n MNIST-sized images: 120 lit pixels each (bytes 55..255) at places from a seeded generator, balanced labels */
function litSplit(n: number, seed: number): Split {
  const rng = createRng('mlp-lens', seed), images = new Uint8Array(n * 784);
  for (let i = 0; i < n; i++) { const p = rng.epochPermutation(784); for (let j = 0; j < 120; j++) images[i * 784 + p[j]] = 55 + ((i + j) % 201); }
  return { images, labels: Uint8Array.from({ length: n }, (_, i) => i % 10), count: n, rows: 28, cols: 28 };
}

/** |a − e| ≤ 1e-5·(max |e| + |e|): the fast CPU path computes in f32 with f32 sums where the oracle sums in f64 */
const closeToScale = (a: ArrayLike<number>, e: ArrayLike<number>, label: string) => {
  let m = 0;
  for (let i = 0; i < e.length; i++) m = Math.max(m, Math.abs(e[i]));
  assertClose(a, e, { atol: 1e-5 * m, rtol: 1e-5 }, label);
};

for (const [arch, target] of [['cnn', 'layers.1.pool'], ['cnn:conv3x3s2p1,pool3s2,conv5x3p2,12', 'layers.1.post']] as const) {
  test(`${arch} on the cpu (the fused forward, the linear head by hand): the cache and the interventions = the generic ops on ${target}`, async () => {
    const model = Cnn.init(specOf(arch), [1, 28, 28], 10, createRng('mlp-lens', 11)), n = 120;
    const data = imagesFromSplit(litSplit(n, 12));
    assert.ok(linearHead(model, target), 'the layers after the target are linear: the head by hand');
    assert.ok(await fusedCnnCpuActs(model, data.x, 2, ['logits']), 'the fused forward applies');
    const posts = model.actNames().filter((x) => x.endsWith('.post') && model.unitShape(x).length === 3);
    const seen: Record<string, Float32Array> = {};
    const c = await cacheImages(model, data, {
      grads: ['loss', 'trueLogit'], batch: 50, gradFrom: target, keep: [target],
      onChunk: { names: posts, fn: (start, a) => { for (const p of posts) (seen[p] ??= new Float32Array(n * a[p]!.data.length / a[p]!.shape[0])).set(a[p]!.data, start * a[p]!.data.length / a[p]!.shape[0]); } },
    });
    // the generic forward and full backward pass, one per target
    const x = { shape: [n, 784], data: data.x };
    for (const g of ['loss', 'trueLogit'] as const) {
      const full = await runWithCache(model, x, data.labels, { grad: g });
      for (const [name, t] of Object.entries(full.acts)) {
        if (!t) continue;
        const w = widthOf(model, name as ActName), mean = t.shape.length === 4;
        const want = mean ? new Float32Array(n * w) : t.data;
        if (mean) channelReduce(t.data, n, t.shape[1], t.shape[2] * t.shape[3], true, want);
        closeToScale(c.acts[name as ActName]!.data, want, `${name} (act)`);
        const gt = full.grads[name as ActName];
        const cg = c.grads[g]![name as ActName];
        if (!cg) continue;
        if (!gt) { assert.ok(cg.data.every((v) => v === 0), `${g} ${name}: no gradient`); continue; }
        const gw = mean ? new Float32Array(n * w) : gt.data;
        if (mean) channelReduce(gt.data, n, gt.shape[1], gt.shape[2] * gt.shape[3], false, gw);
        closeToScale(cg.data, gw, `${g} ${name} (grad)`);
      }
      closeToScale(c.maps[target]!.data, full.acts[target]!.data, `${target} kept whole`);
      for (const p of posts) closeToScale(seen[p], full.acts[p]!.data, `${p} (onChunk)`);
    }
    // the interventions from the kept map: every variant = the generic forward with the replacement written out
    const variants = [{ neurons: [], scale: 1 }, { neurons: [1], scale: 0 }, { neurons: [0, 2], scale: 2.5 }, { neurons: [3], scale: -1 }];
    const fast = await evaluateUnderScaling(model, data, target, variants, { cached: c.maps[target] });
    const fromImages = await evaluateUnderScaling(model, data, target, variants);
    const xt = Tensor.from(data.x, [n, 784]);
    variants.forEach((v, r) => {
      const logits = model.forward(xt, null, {
        [target]: (t: Tensor) => {
          const d = Float32Array.from(t.data()), [, C, H, W] = t.shape;
          for (let i = 0; i < n; i++) for (const ch of v.neurons) for (let q = 0; q < H * W; q++) d[(i * C + ch) * H * W + q] *= v.scale;
          return Tensor.from(d, t.shape);
        },
      }).logits!.data() as Float32Array;
      const mean = Array.from({ length: 10 }, (_, k) => Array.from({ length: n }, (_, i) => logits[i * 10 + k]).reduce((a, b) => a + b, 0) / n);
      closeToScale(fast[r].meanLogits, mean, `variant ${r} mean logits`);
      closeToScale(fromImages[r].meanLogits, mean, `variant ${r} mean logits (from the images)`);
      const pred = Array.from({ length: n }, (_, i) => { let b = 0; for (let k = 1; k < 10; k++) if (logits[i * 10 + k] > logits[i * 10 + b]) b = k; return b; });
      const conf = Array.from({ length: 10 }, () => new Array(10).fill(0));
      pred.forEach((p, i) => conf[data.labels[i]][p]++);
      assert.equal(fast[r].confusion, conf, `variant ${r} confusion`);
      assert.equal(fromImages[r].confusion, conf, `variant ${r} confusion (from the images)`);
    });
  });
}

test('saliency of a channel: the input gradient of its map\'s spatial mean', async () => {
  const m = tinyCnn();
  const s = await saliencyMaps(m, 0, IMAGE, { site: 'post', neurons: [1] });
  // finite differences of the channel-1 mean of layers.0.post
  const f = (x: number[]) => {
    const post = convByHand(x).map((v) => Math.max(0, v));
    return post.slice(9, 18).reduce((a, b) => a + b, 0) / 9;
  };
  const h = 1e-3, num = IMAGE.map((_, p) => Math.abs((f(IMAGE.map((v, q) => (q === p ? v + h : v))) - f(IMAGE.map((v, q) => (q === p ? v - h : v)))) / (2 * h)));
  assertClose(Array.from(s.abs.data), num, { atol: 1e-3, rtol: 1e-3 });
});

test('flattened features: PCA of every value and silhouettes beside the channel means', () => {
  // two classes separated along one feature; the channel means do not separate them
  const n = 40, flat = new Float32Array(n * 4), units = new Float32Array(n * 2), labels = Uint8Array.from({ length: n }, (_, i) => i % 2);
  for (let i = 0; i < n; i++) {
    const s = labels[i] ? 1 : -1;
    flat.set([s * 5 + (i % 3) * 0.1, -s * 5, (i % 5) * 0.1, 0], i * 4);
    units.set([(i % 7) * 0.1, (i % 4) * 0.1], i * 2);
  }
  const f = flatFeatures({ shape: [n, 4], data: flat }, { shape: [n, 2], data: units }, labels, 'layers.0.pool', { featureSilhouetteSample: n });
  assert.is(f.dims, 4);
  assert.is(f.pca.embedding.shape[0], n);
  assert.ok(f.silhouette.flattened.full > 0.9, String(f.silhouette.flattened.full));
  assert.ok(f.silhouette.channels.full < 0.2, String(f.silhouette.channels.full));
  assert.ok(f.pca.explainedVarianceRatio![0] > 0.99);
});

test('flattened features\' PCA by subspace iteration (topPca) = the full Jacobi PCA: projection, sign rule, first ratios', () => {
  // 400 rows × 100 features: a decaying spectrum along random directions, ReLU-like zeros
  const rng = createRng('mlp-lens', 21), n = 400, d = 100;
  const dirs = Array.from({ length: 12 }, () => rng.uniform(-1, 1, d));
  const x = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const z = rng.uniform(-1, 1, 12), noise = rng.uniform(-0.05, 0.05, d);
    for (let j = 0; j < d; j++) {
      let v = noise[j];
      for (let c = 0; c < 12; c++) v += z[c] * dirs[c][j] / (c + 1);
      x[i * d + j] = Math.max(v, 0);
    }
  }
  const full = pca({ shape: [n, d], data: x }, 2), top = topPca({ shape: [n, d], data: x }, 2, 10);
  let m = 0;
  for (const v of full.projected.data) m = Math.max(m, Math.abs(v));
  assertClose(top.projected.data, full.projected.data, { atol: 1e-5 * m, rtol: 1e-5 }, 'projection');
  assertClose(top.explainedVarianceRatio, full.explainedVarianceRatio.slice(0, 10), { atol: 1e-12, rtol: 1e-9 }, 'ratios');
});

test('a CNN end to end: the analyses on a small test split, their files, analysis/cnn.json valid, the report\'s CNN figures', async () => {
  const model = Cnn.init(specOf('cnn'), [1, 28, 28], 10, createRng('mlp-lens', 3));
  // 200 MNIST-sized images with bytes from a seeded generator and balanced labels
  const rng = createRng('mlp-lens', 9), n = 200;
  const images = new Uint8Array(n * 784);
  for (let i = 0; i < n; i++) { const p = rng.epochPermutation(784); for (let j = 0; j < 120; j++) images[i * 784 + p[j]] = 255; }
  const test: Split = { images, labels: Uint8Array.from({ length: n }, (_, i) => i % 10), count: n, rows: 28, cols: 28 };
  const dir = mkdtempSync(join(tmpdir(), 'mlp-lens-cnn-'));
  try {
    const r = await analyzeCnnModel(model, test, dir, {
      tsne: false, umap: false, randomTrials: 3, sizeTrials: 2, silhouetteSample: 100, featureSilhouetteSample: 100, steps: 4,
      neuronSweep: { steps: 3 }, saliency: { index: 5 },
    });
    assert.is(r.results.meta.target, 'layers.1.pool');
    assert.is(r.results.meta.width, 16);
    assert.equal(r.results.meta.sizes, [784, 8, 16, 32, 10]);
    assert.is(r.results.meta.unit, 'channel');
    assert.equal(Object.keys(r.results.gradMeans.loss).sort(), ['layers.1.pool', 'layers.2.post', 'layers.2.pre', 'logits']);
    assert.equal(r.cnn.topImages.map((t) => t.name), ['layers.0.post', 'layers.1.post']);
    assert.equal(r.cnn.topImages[1].channels[0].images.map((im) => im.field.size), new Array(9).fill(14));
    assert.is(r.cnn.featureMaps.index, 5);
    assert.ok(r.lines.some((l) => /top-9 test images per channel of layers.1.post/.test(l)));
    for (const f of ['meta.json', 'interventions.json', 'selectivity.json', 'cnn.json', 'cnn-top-images.csv', 'cnn-filters-layer0.csv', 'layer-sweep.csv']) {
      assert.ok(existsSync(join(dir, 'analysis', f)), f);
    }
    const text = readFileSync(join(dir, 'analysis', 'cnn.json'), 'utf8');
    const v = validateCnnResults(JSON.parse(text));
    assert.ok(v.filters.weights instanceof Float32Array && v.featureMaps.maps[0].data instanceof Float32Array);
    // unsound files are refused with the JSON path of the problem
    const bad = JSON.parse(text);
    bad.topImages[0].channels[0].images[0].field.bottom = 28;
    assert.throws(() => validateCnnResults(bad), /topImages\[0\]\.channels\[0\]\.images\[0\]\.field\.bottom/);
    const short = JSON.parse(text);
    short.filters.weights.pop();
    assert.throws(() => validateCnnResults(short), /filters\.weights: expected 200 entries/);
    const loaded = await loadRunResults(dir, { test });
    assert.equal(loaded.skipped, []);
    assert.ok(loaded.cnn);
    const rep = await writeReport(dir, { test });
    for (const id of ['cnn-filters', 'cnn-feature-maps-layer1', 'cnn-feature-maps-layer2', 'cnn-top-images-layer1', 'cnn-top-images-layer2',
      'cnn-flat-features-pca', 'cnn-flat-features-silhouette', 'selectivity', 'layer-sweep', 'confusion-ablation-diff', 'saliency', 'topk-table']) {
      assert.ok(rep.figures.includes(id), id);
    }
    assert.equal(rep.skipped, []);
    const html = readFileSync(rep.path, 'utf8');
    assert.match(html, /CNN cnn:conv8x5,pool2,conv16x5,pool2,32/);
    assert.match(html, /Top-3 pool2 channels per class/);
    await inChromium(rep.path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** the report opened from disk in headless Chromium: the CNN's figures drawn, their images decoded, no error (skipped without Chromium) */
async function inChromium(path: string): Promise<void> {
  if (!existsSync(CHROMIUM)) {
    if (process.env.MLP_LENS_REQUIRE_CHROMIUM) assert.unreachable(`${CHROMIUM} is missing and MLP_LENS_REQUIRE_CHROMIUM is set`);
    skipped(`${CHROMIUM} not found: the CNN report is not opened in a browser`);
    return;
  }
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--disable-background-networking', '--no-first-run'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(pathToFileURL(path).href, { waitUntil: 'load' });
    for (const id of CNN_FIGURES) {
      const f = await figureInfo(page, id);
      assert.ok(f.width > 100 && f.height > 50 && f.marks > 0, `${id}: drawn (${f.width}×${f.height}, ${f.marks} marks)`);
      if (!id.startsWith('cnn-flat')) assert.ok(f.imageSizes.length > 0 && f.imageSizes.every((n) => n > 0), `${id}: every image decoded`);
    }
    const shots = process.env.MLP_LENS_REPORT_SHOTS;
    if (shots) for (const id of CNN_FIGURES) await page.locator(`#fig-${id}`).screenshot({ path: join(shots, `${id}.png`) });
    assert.equal(errors, [], 'no console or page error');
  } finally {
    await browser.close();
  }
}

test('through training on CNN snapshots: every hidden layer by its units (channel means of a conv ReLU map)', async () => {
  const spec = specOf('cnn:conv3x3,pool2,conv4x3,5');
  const snaps = [-1, 0, 1].map((epoch) => ({ epoch, model: Cnn.init(spec, [1, 12, 12], 3, createRng('mlp-lens', 20 + epoch)) }));
  const rng = createRng('mlp-lens', 4), n = 60;
  const test: Split = {
    images: Uint8Array.from(rng.uniform(0, 256, n * 144), Math.floor), labels: Uint8Array.from({ length: n }, (_, i) => i % 3),
    count: n, rows: 12, cols: 12,
  };
  const t = await analyzeThroughTraining(snaps, test, { perClass: 10, probeIterations: 5 });
  assert.equal(t.sizes, [144, 3, 4, 5, 3]);
  assert.equal(t.epochs, [-1, 0, 1]);
  assert.equal(t.perEpoch[0].layers.map((l) => l.activeFraction.length), [3, 4, 5]);
  assert.equal(t.perEpoch[0].ckaLayers.length, 3);
  // the layer-0 units are the channel means of layers.0.post: the selectivity from them
  const c = await cacheImages(snaps[0].model, imagesFromSplit(test), { names: ['layers.0.post'] });
  const rows = t.sample.rows;
  const m0 = [0, 1, 2].map((cls) => {
    const r = rows.filter((i) => test.labels[i] === cls);
    return r.reduce((a, i) => a + c.acts['layers.0.post']!.data[i * 3], 0) / r.length;
  });
  const rest = (m0[1] + m0[2]) / 2;
  assertClose([t.perEpoch[0].layers[0].selectivity[0][0]], [(m0[0] - rest) / (m0[0] + rest + 1e-3)], { atol: 1e-5 });
  validateThroughTraining(JSON.parse(JSON.stringify(t)));
});

test.run();
