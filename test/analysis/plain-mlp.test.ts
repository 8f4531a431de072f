// analysis/plain-mlp.ts: the plain MLP's forward pass, per-sample gradients and scaled evaluations by hand
// give the autograd oracle's numbers bit for bit (what the forward cache and the interventions take it for).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cacheImages, imageRow, imagesFromSplit, lazyImages, runWithCache } from '../../analysis/forward-cache.ts';
import { analyzeNeuron, evaluateUnderScaling, sweepLayer } from '../../analysis/intervention.ts';
import { linearRows, plainForward, plainMlpOf, plainScaled, type PlainMlp, type SparseInput } from '../../analysis/plain-mlp.ts';
import * as ref from '../helpers/plain-mlp-reference.ts';
import { suiteInterventions } from '../../analysis/suite-tasks.ts';
import { mul, reshape } from '../../engine/ops/index.ts';
import { noGrad, Tensor } from '../../engine/tensor.ts';
import { createRng } from '../../engine/rng.ts';
import { Mlp } from '../../mlp/model.ts';
import type { ActName } from '../../mlp/names.ts';
import { makeSplit, randomCase } from './fixtures.ts';

/** bit-exact equality of two f32 arrays (−0 included) */
function same(a: Float32Array, b: ArrayLike<number>, what: string): void {
  assert.equal(Array.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)), Array.from(new Uint8Array(Float32Array.from(b).buffer)), what);
}

/** a model with dead and tied units: sparse images (zeros skipped), a first layer with negative biases */
function awkwardCase(seed: number, count: number, sizes: number[]) {
  const { model, split } = randomCase(seed, count, sizes);
  const rng = createRng('mlp-lens', seed + 1);
  for (let i = 0; i < split.images.length; i++) if (rng.nextU32() % 3 === 0) split.images[i] = 0;
  const b0 = model.layers[0].b.data();
  b0[0] = -1e3; // a dead unit: its pre-activation < 0 everywhere (relu' = 0, gradients −0 or 0)
  return { model, split };
}

test('cacheImages: the plain MLP by hand equals runWithCache (the autograd graph) bit for bit, both targets', async () => {
  for (const [seed, count, sizes, batch] of [[3, 23, [9, 6, 5, 4], 7], [5, 64, [9, 8, 3], 64], [8, 31, [9, 4, 4, 4, 3], 10]] as const) {
    const { model, split } = awkwardCase(seed, count, [...sizes]);
    assert.ok(plainMlpOf(model));
    const data = imagesFromSplit(split);
    const fast = await cacheImages(model, data, { grads: ['loss', 'trueLogit'], batch });
    for (const target of ['loss', 'trueLogit'] as const) {
      const slow = await runWithCache(model, { shape: [data.count, data.dim], data: data.x }, data.labels, { grad: target });
      for (const [name, t] of Object.entries(slow.acts)) same(fast.acts[name as ActName]!.data, t!.data, `${sizes} act ${name}`);
      for (const name of Object.keys(fast.grads[target]!) as ActName[]) {
        const want = slow.grads[name]?.data ?? new Float32Array(fast.grads[target]![name]!.data.length);
        same(fast.grads[target]![name]!.data, want, `${sizes} ${target} grad ${name}`);
      }
    }
  }
});

test('lazyImages: the split read as sparse rows by the plain forward cache gives the dense rows\' numbers; x made on demand', async () => {
  const { model, split } = awkwardCase(4, 45, [9, 6, 5, 4]);
  const dense = imagesFromSplit(split), lazy = lazyImages(split);
  const names = ['input', 'layers.0.pre', 'layers.0.post', 'layers.1.post', 'logits', 'loss'] as const;
  const a = await cacheImages(model, dense, { grads: ['loss', 'trueLogit'], batch: 16, names });
  const b = await cacheImages(model, lazy, { grads: ['loss', 'trueLogit'], batch: 16, names });
  for (const n of names) same(b.acts[n]!.data, a.acts[n]!.data, `act ${n}`);
  for (const g of ['loss', 'trueLogit'] as const) for (const n of names) same(b.grads[g]![n]!.data, a.grads[g]![n]!.data, `${g} ${n}`);
  assert.equal(Array.from(lazy.labels), Array.from(dense.labels));
  assert.equal(Array.from(lazy.indices), Array.from(dense.indices));
  same(lazy.x, dense.x, 'x on demand');
  same(imageRow(split, 7), dense.x.subarray(7 * 9, 8 * 9), 'one row');
});

/** evaluateUnderScaling's numbers the way the engine computed them before: the model's forward pass, the tensor replaced by its scaled copy */
async function oracle(model: Mlp, x: Float32Array, labels: Uint8Array, target: ActName, mask: number[]) {
  const n = labels.length, w = mask.length, C = model.classes;
  const xt = Tensor.from(x, [n, model.sizes[0]]), m = Tensor.from(Float32Array.from(mask), [1, w]);
  const logits = await noGrad(() => model.forward(xt, null, { [target]: (t: Tensor) => reshape(mul(t, m), [n, w]) }).logits!).read();
  const pred: number[] = [], sums = new Float64Array(C * C);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 0; c < C; c++) {
      sums[labels[i] * C + c] += logits[i * C + c];
      if (logits[i * C + c] > logits[i * C + best]) best = c;
    }
    pred.push(best);
  }
  return { pred, sums };
}

test('evaluateUnderScaling on a plain MLP: the oracle forward pass with the tensor replaced, bit for bit (pre and post, cached or not)', async () => {
  const { model, split } = awkwardCase(11, 57, [9, 7, 6, 4]);
  const data = imagesFromSplit(split);
  const cache = await cacheImages(model, data, { grads: [] });
  for (const target of ['layers.0.pre', 'layers.0.post', 'layers.1.pre', 'layers.1.post'] as const) {
    const w = model.unitShape(target)[0];
    const variants = [{ neurons: [], scale: 1 }, { neurons: [0], scale: 0 }, { neurons: [1, 2], scale: 2.3 }, { neurons: [w - 1], scale: -0.7 }];
    for (const cached of [undefined, cache.acts[target]]) {
      const got = await evaluateUnderScaling(model, data, target, variants, { cached });
      for (const [v, variant] of variants.entries()) {
        const mask = Array.from({ length: w }, (_, j) => (variant.neurons.includes(j) ? variant.scale : 1));
        const { pred, sums } = await oracle(model, data.x, data.labels, target, mask);
        const r = got[v];
        const correct = pred.filter((p, i) => p === data.labels[i]).length;
        assert.is(r.accuracy, (100 * correct) / data.count, `${target} variant ${v} accuracy`);
        r.meanLogitsByClass.forEach((row, t) => row.forEach((value, c) => assert.is(value, sums[t * 4 + c] / r.counts[t], `${target} ${v} mean logit ${t} ${c}`)));
        const confusion = Array.from({ length: 4 }, () => new Array(4).fill(0));
        pred.forEach((p, i) => confusion[data.labels[i]][p]++);
        assert.equal(r.confusion, confusion);
      }
    }
  }
});

test('the suite\'s interventions from plain data (a helper thread\'s task) equal those over the model', async () => {
  const { model, split } = awkwardCase(13, 80, [9, 8, 6, 4]);
  const data = imagesFromSplit(split), net = plainMlpOf(model)!;
  const cache = await cacheImages(model, data, { grads: [] });
  const args = {
    layer: 1, site: 'post' as const, focusNeuron: 2, interval: [0, 3] as [number, number], steps: 5,
    sweepNeuron: 3, sweepInterval: [0, 3] as [number, number], sweepSteps: 4, layerSteps: 3, raw: true,
  };
  const r = await suiteInterventions(net, args, cache.acts['layers.1.post']!, data.labels, split);
  assert.equal(r.focus, await analyzeNeuron(model, 1, 2, data, [0, 3], 5));
  assert.equal(r.sweep, await sweepLayer(model, 1, data, { scales: [0, 1.5, 3] }));
  assert.equal(r.raw, await analyzeNeuron(model, 1, 2, imagesFromSplit(split, { pixels: 'raw' }), [0, 3], 2));
  // and a split of raw bytes goes through the same forward pass
  const tiny = makeSplit([[0, 255, 7, 0, 0, 0, 0, 0, 1]], [2], 3);
  const one = await suiteInterventions(net, { ...args, steps: 2 }, (await cacheImages(model, imagesFromSplit(tiny))).acts['layers.1.post']!, tiny.labels, tiny);
  assert.equal(one.focus.counts, [0, 0, 1, 0]);
});

/** the bytes of any typed array */
const bytesOf = (a: ArrayBufferView): number[] => Array.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));

/** awkward f32 values: many zeros (both signs), ties, negatives, now and then NaN or ∞ when `odd` */
function awkwardValues(rng: ReturnType<typeof createRng>, n: number, odd: boolean): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const r = rng.nextU32() % 40;
    out[i] = r < 10 ? 0 : r === 10 ? -0 : r === 11 ? 0.5 : odd && r === 12 ? NaN : odd && r === 13 ? -Infinity : (rng.nextU32() / 2 ** 31 - 1) * 3;
  }
  return out;
}

/** a random plain MLP of these sizes (weights with zeros and ties) */
function randomPlain(seed: number, sizes: number[]): PlainMlp {
  const rng = createRng('mlp-lens', seed);
  return {
    kind: 'plain-mlp', sizes,
    W: sizes.slice(1).map((m, k) => awkwardValues(rng, sizes[k] * m, false)), b: sizes.slice(1).map((m) => awkwardValues(rng, m, false)),
  };
}

test('the blocked linear rows (dense and sparse) equal the one-accumulator loops bit for bit: 0, 1, 63, 65 rows, widths 1 to 17, NaN and ±0', () => {
  const shapes = [[1, 1, 1], [17, 1, 17, 3], [65, 17, 9, 10], [9, 16, 10], [3, 2, 5, 7, 4], [20, 8]];
  for (const [si, sizes] of shapes.entries()) {
    const net = randomPlain(40 + si, sizes);
    for (const n of [0, 1, 63, 65]) {
      for (const odd of [false, true]) {
        const rng = createRng('mlp-lens', 100 + n + si);
        const x = awkwardValues(rng, n * sizes[0], odd);
        const a = plainForward(net, x, n), b = ref.plainForward(net, x, n);
        const what = `${sizes} n=${n} odd=${odd}`;
        a.pre.forEach((t, k) => assert.equal(bytesOf(t), bytesOf(b.pre[k]), `${what} pre ${k}`));
        a.post.forEach((t, k) => assert.equal(bytesOf(t), bytesOf(b.post[k]), `${what} post ${k}`));
        assert.equal(bytesOf(a.logits), bytesOf(b.logits), `${what} logits`);
        // without post, as the logits are made
        const m = sizes[1], o1 = new Float32Array(n * m), o2 = new Float32Array(n * m);
        linearRows(x, n, sizes[0], net.W[0], net.b[0], m, o1);
        ref.linearRows(x, n, sizes[0], net.W[0], net.b[0], m, o2);
        assert.equal(bytesOf(o1), bytesOf(o2), `${what} linearRows`);
        // the same rows as sparse rows (a row offset; bytes whose value is 0, −0 or NaN)
        if (sizes.length > 2 && sizes[0] < 65536) {
          const lut = awkwardValues(rng, 256, odd);
          lut[0] = 0;
          const lead = 3, rowsOf = Array.from({ length: n + lead }, () => {
            const row: [number, number][] = [];
            for (let p = 0; p < sizes[0]; p++) if (rng.nextU32() % 3 === 0) row.push([p, rng.nextU32() % 256]);
            return row;
          });
          const rowptr = new Int32Array(rowsOf.length + 1);
          rowsOf.forEach((r, i) => { rowptr[i + 1] = rowptr[i] + r.length; });
          const sparse: SparseInput = {
            rowptr, idx: Uint16Array.from(rowsOf.flat().map((e) => e[0])), val: Uint8Array.from(rowsOf.flat().map((e) => e[1])), lut, start: lead,
          };
          const sa = plainForward(net, new Float32Array(0), n, undefined, sparse), sb = ref.plainForward(net, new Float32Array(0), n, undefined, sparse);
          sa.pre.forEach((t, k) => assert.equal(bytesOf(t), bytesOf(sb.pre[k]), `${what} sparse pre ${k}`));
          sa.post.forEach((t, k) => assert.equal(bytesOf(t), bytesOf(sb.post[k]), `${what} sparse post ${k}`));
          assert.equal(bytesOf(sa.logits), bytesOf(sb.logits), `${what} sparse logits`);
        }
      }
    }
  }
});

test('plainScaled (prefix sums shared by the variants) equals the one-variant-at-a-time loop bit for bit', () => {
  const shapes = [[9, 16, 10], [9, 17, 3], [9, 1, 4], [5, 6, 17, 4], [4, 9, 1, 5, 3], [4, 3, 2]];
  for (const [si, sizes] of shapes.entries()) {
    const net = randomPlain(70 + si, sizes), H = sizes.length - 2, C = sizes[H + 1];
    for (let layer = 0; layer < H; layer++) {
      const w = sizes[layer + 1];
      for (const n of [0, 1, 63, 65]) {
        for (const odd of [false, true]) {
          const rng = createRng('mlp-lens', 200 + n + si * 7 + layer);
          const src = awkwardValues(rng, n * w, odd);
          const labels = Uint8Array.from({ length: n }, () => rng.nextU32() % C);
          // variants: unscaled, all ones, each column ablated / scaled by 1.5, −0.7, 1; several columns; every column; −0, NaN, ∞ scales
          const rows: number[][] = [new Array(w).fill(1)];
          for (let j = 0; j < w; j++) for (const s of [0, 1.5, -0.7, 1]) rows.push(Array.from({ length: w }, (_, p) => (p === j ? s : 1)));
          rows.push(Array.from({ length: w }, (_, p) => (p % 2 ? 2.3 : 1)), new Array(w).fill(0.25), new Array(w).fill(0));
          rows.push(Array.from({ length: w }, (_, p) => (p === w - 1 ? -0 : p === 0 ? 3 : 1)));
          if (odd) rows.push(Array.from({ length: w }, (_, p) => (p === w >> 1 ? NaN : 1)), Array.from({ length: w }, (_, p) => (p === 0 ? Infinity : 1)));
          const V = rows.length, mask = Float32Array.from(rows.flat());
          for (const site of ['pre', 'post'] as const) {
            const p1 = new Uint8Array(V * n), s1 = new Float64Array(V * C * C), p2 = new Uint8Array(V * n), s2 = new Float64Array(V * C * C);
            plainScaled(net, layer, site, src, n, labels, mask, V, p1, s1);
            ref.plainScaled(net, layer, site, src, n, labels, mask, V, p2, s2);
            const what = `${sizes} layer ${layer} ${site} n=${n} odd=${odd}`;
            assert.equal(Array.from(p1), Array.from(p2), `${what} predictions`);
            // (bit for bit; a NaN's sign bit aside: JS leaves NaN bits to the engine, the JSON holds null)
            assert.equal(bytesOf(s1.map((x) => (Number.isNaN(x) ? NaN : x))), bytesOf(s2.map((x) => (Number.isNaN(x) ? NaN : x))), `${what} sums`);
            if (!odd) assert.equal(bytesOf(s1), bytesOf(s2), `${what} sums, raw bits`);
          }
        }
      }
    }
  }
});

test.run();
