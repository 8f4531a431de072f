import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { computeEpochStats, type Moments, type TensorStats } from '../../analysis/epoch-stats.ts';
import { histogram } from '../../analysis/histogram.ts';
import { createRng } from '../../engine/rng.ts';
import { Tensor } from '../../engine/tensor.ts';
import { type Mnist, type Split } from '../../mlp/mnist.ts';
import { loadMnist } from '../../run/mnist-files.ts';
import { Mlp } from '../../mlp/model.ts';
import { type EpochRecord, Recorder, type Slot } from '../../mlp/recorder.ts';
import { train } from '../../mlp/train.ts';
import { assertClose } from '../helpers/close.ts';

const mnist = await loadMnist();

// --- the independent computation: gather each group's values into a plain array, then the textbook formulas

function direct(v: number[]): Moments {
  if (!v.length) return { count: 0, mean: NaN, std: NaN, min: NaN, max: NaN };
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const ss = v.reduce((a, b) => a + (b - mean) ** 2, 0);
  return { count: v.length, mean, std: v.length > 1 ? Math.sqrt(ss / (v.length - 1)) : NaN, min: Math.min(...v), max: Math.max(...v) };
}

const TOL = { atol: 1e-12, rtol: 1e-9 };

function closeMoments(actual: Moments, expected: Moments, label: string): void {
  assert.is(actual.count, expected.count, `${label}: count`);
  assertClose([actual.mean, actual.std, actual.min, actual.max], [expected.mean, expected.std, expected.min, expected.max], TOL, label);
}

/** checks every statistic of one slot against the direct computation */
function checkTensor(t: TensorStats, slot: Slot, labels: ArrayLike<number>, count: number, classes: number, bins: number, label: string): void {
  const w = slot.width, value = (r: number, j: number) => slot.data[r * w + j];
  const rowsOf = (c: number | null) => Array.from({ length: count }, (_, r) => r).filter((r) => c === null || labels[r] === c);
  const vals = (rows: number[], cols: number[]) => rows.flatMap((r) => cols.map((j) => value(r, j)));
  const allCols = Array.from({ length: w }, (_, j) => j);
  const all = vals(rowsOf(null), allCols);
  closeMoments(t.all, direct(all), `${label} all`);
  assert.equal(t.histogram, histogram(all, bins), `${label} histogram`);
  for (let c = 0; c < classes; c++) {
    const v = vals(rowsOf(c), allCols), m = direct(v);
    closeMoments({ count: t.perClass.count[c], mean: t.perClass.mean[c], std: t.perClass.std[c], min: t.perClass.min[c], max: t.perClass.max[c] }, m, `${label} class ${c}`);
    // on the epoch's edges: count with the same edges by a linear scan
    const e = t.histogram.edges, counts = new Array(bins).fill(0);
    for (const x of v) { let k = -1; for (let i = 0; i < bins; i++) if (e[i] <= x) k = i; counts[k]++; }
    assert.equal(t.perClassHistogram[c], counts, `${label} class ${c} histogram on the epoch's edges`);
    if (t.perClassOwnHistogram) {
      const own = histogram(v, bins);
      assert.equal(t.perClassOwnHistogram[c].counts, own.counts, `${label} class ${c} own histogram`);
      assertClose(t.perClassOwnHistogram[c].edges, own.edges, { atol: 0, rtol: 0 }, `${label} class ${c} own edges`);
    }
    for (let j = 0; j < w; j++) {
      const cn = direct(vals(rowsOf(c), [j]));
      assertClose([t.perClassNeuron.mean[c][j], t.perClassNeuron.std[c][j]], [cn.mean, cn.std], TOL, `${label} class ${c} neuron ${j}`);
    }
  }
  for (let j = 0; j < w; j++) {
    const v = vals(rowsOf(null), [j]);
    closeMoments({ count: t.perNeuron.count[j], mean: t.perNeuron.mean[j], std: t.perNeuron.std[j], min: t.perNeuron.min[j], max: t.perNeuron.max[j] }, direct(v), `${label} neuron ${j}`);
    if (t.positiveFraction) assert.is(t.positiveFraction[j], v.filter((x) => x > 0).length / count, `${label} positive fraction ${j}`);
  }
}

/** a hand-made record: slots from plain rows */
function record(labels: number[], acts: Record<string, number[][]>, grads: Record<string, number[][]> = {}, batchOffsets?: number[]): EpochRecord {
  const slot = (rows: number[][]): Slot => ({ width: rows[0].length, data: Float32Array.from(rows.flat()) });
  return {
    epoch: 3, count: labels.length, labels: Uint8Array.from(labels), indices: Uint32Array.from(labels.keys()),
    acts: Object.fromEntries(Object.entries(acts).map(([k, v]) => [k, slot(v)])),
    grads: Object.fromEntries(Object.entries(grads).map(([k, v]) => [k, slot(v)])),
    batchOffsets: batchOffsets && Uint32Array.from(batchOffsets),
  };
}

// --- small known inputs

const small = suite('epoch stats: small known inputs');

small('every statistic of a 7 × 3 slot, with class 3 absent and class 2 seen once', () => {
  const labels = [0, 1, 0, 2, 1, 1, 0];
  const pre = [[0.5, -1, 2], [1.25, 0, -0.75], [3, -2, 0.125], [-1, 4, 0], [0, 0, 1], [2.5, -0.5, 1.5], [-3, 1, 0.25]];
  const g = pre.map((r, i) => r.map((v, j) => (i + 1) * 0.01 * (v > 0 ? 1 : -0.5) + j * 0.001));
  const rec = record(labels, { 'layers.0.pre': pre, 'layers.0.post': pre.map((r) => r.map((v) => Math.max(v, 0))) },
    { 'layers.0.pre': g }, [0, 3, 6, 7]);
  const s = computeEpochStats(rec, { classes: 4, bins: 30, firstBatch: 3 });
  assert.is(s.epoch, 3);
  assert.is(s.count, 7);
  assert.equal(s.classCounts, [3, 3, 1, 0]);
  for (const name of ['layers.0.pre', 'layers.0.post']) checkTensor(s.acts[name], rec.acts[name as 'layers.0.pre']!, rec.labels, 7, 4, 30, name);
  checkTensor(s.grads['layers.0.pre'], rec.grads['layers.0.pre']!, rec.labels, 7, 4, 30, 'grad layers.0.pre');
  const t = s.acts['layers.0.pre'];
  // the absent class: count 0, NaN moments, empty histograms, NaN own edges
  assert.is(t.perClass.count[3], 0);
  assert.ok([t.perClass.mean[3], t.perClass.std[3], t.perClass.min[3], t.perClass.max[3]].every(Number.isNaN));
  assert.equal(t.perClassHistogram[3], new Array(30).fill(0));
  assert.ok(t.perClassOwnHistogram![3].edges.every(Number.isNaN));
  assert.ok(t.perClassNeuron.mean[3].every(Number.isNaN));
  // one sample of class 2: a std of one value per neuron is NaN (torch), of its 3 values it is defined
  assert.ok(t.perClassNeuron.std[2].every(Number.isNaN));
  assert.is(t.perClass.count[2], 3);
  // by hand: the rows sum to 1.5, 0.5, 1.125, 3, 1, 3.5, −1.75 → 8.875 / 21; min −3, max 4
  assertClose([t.all.mean, t.all.min, t.all.max], [8.875 / 21, -3, 4], TOL, 'hand-computed');
  // the first batch: rows 0..2
  closeMoments(t.firstBatch!.all, direct(pre.slice(0, 3).flat()), 'first batch');
  assert.equal(t.firstBatch!.histogram, histogram(pre.slice(0, 3).flat(), 30));
  assert.is(t.firstBatch!.rows, 3);
  // gradient norms: per step (rows 0–2, 3–5, 6) and over the epoch
  const gs = s.grads['layers.0.pre'];
  const f = (rows: number[][]) => Math.sqrt(rows.flat().reduce((a, v) => a + Math.fround(v) ** 2, 0));
  assertClose(gs.stepNorm!, [f(g.slice(0, 3)), f(g.slice(3, 6)), f(g.slice(6))], TOL, 'step norms');
  assertClose([gs.norm!], [f(g)], TOL, 'epoch norm');
  assert.is(gs.positiveFraction, undefined);
  assert.is(gs.perClassOwnHistogram, undefined);
  // the result survives JSON (NaN becomes null)
  assert.ok(JSON.stringify(s).length > 0);
});

small('all-equal values: std 0, numpy\'s [v − 0.5, v + 0.5] range, every value in the middle bin', () => {
  const rec = record([0, 1, 1, 0], { logits: [[2, 2], [2, 2], [2, 2], [2, 2]] });
  const t = computeEpochStats(rec, { classes: 2 }).acts.logits;
  assert.equal([t.all.count, t.all.mean, t.all.std, t.all.min, t.all.max], [8, 2, 0, 2, 2]);
  assert.is(t.histogram.edges[0], 1.5);
  assert.is(t.histogram.edges[30], 2.5);
  assert.equal(t.histogram.counts, Array.from({ length: 30 }, (_, i) => (i === 15 ? 8 : 0)));
  assert.equal(t.perClassHistogram[1], Array.from({ length: 30 }, (_, i) => (i === 15 ? 4 : 0)));
  assert.equal(t.perClassOwnHistogram![0].counts, t.perClassHistogram[0]);
  assert.equal(t.perNeuron.std, [0, 0]);
});

small('values on bin edges: integers 0..30 over 30 bins land one per bin, the maximum in the last', () => {
  const labels = Array.from({ length: 31 }, (_, i) => i % 2);
  const rec = record(labels, { logits: Array.from({ length: 31 }, (_, i) => [i]) });
  const t = computeEpochStats(rec, { classes: 2 }).acts.logits;
  assert.equal(t.histogram.edges, Array.from({ length: 31 }, (_, i) => i));
  assert.equal(t.histogram.counts, [...new Array(29).fill(1), 2]);
  // even values are class 0: bins 0, 2, …, 28 and the closed last bin holds 30
  assert.equal(t.perClassHistogram[0], Array.from({ length: 30 }, (_, i) => (i % 2 === 0 || i === 29 ? 1 : 0)));
  // class 0's own range is [0, 30] too; class 1's is [1, 29]
  assert.equal(t.perClassOwnHistogram![1].edges[0], 1);
  assert.equal(t.perClassOwnHistogram![1].edges[30], 29);
  checkTensor(t, rec.acts.logits!, rec.labels, 31, 2, 30, 'edges');
});

small('ReLU health: dead, rarely active (< 1 %), always active, from the post-activation', () => {
  const n = 300, labels = Array.from({ length: n }, (_, i) => i % 10);
  // neuron 0 never > 0 (zeros count as inactive), 1 active on 2 of 300 (0.67 %), 2 on 3 (1 %: not rare),
  // 3 always, 4 half the time
  const post = Array.from({ length: n }, (_, r) => [0, r < 2 ? 0.5 : 0, r < 3 ? 1 : 0, 0.1 + r, r % 2 ? 2 : 0]);
  const rec = record(labels, { 'layers.0.post': post, 'layers.1.pre': post.map((r) => [r[1] - 1]) });
  const s = computeEpochStats(rec, { classes: 10 });
  assert.is(s.health.length, 2);
  const [h0, h1] = s.health;
  assert.equal([h0.layer, h0.tensor], [0, 'layers.0.post']);
  assert.equal(h0.dead, [0]);
  assert.equal(h0.rare, [1]);
  assert.equal(h0.always, [3]);
  assertClose(h0.activeFraction, [0, 2 / 300, 3 / 300, 1, 0.5], { atol: 0, rtol: 1e-15 }, 'active fraction');
  // layer 1 has only its pre-activation here: read from it
  assert.equal([h1.layer, h1.tensor, h1.dead, h1.rare, h1.always], [1, 'layers.1.pre', [0], [], []]);
});

small('batch offsets that do not tile the rows give no step norms, and every row still counts', () => {
  for (const offsets of [[0, 2], [1, 3], [0, 2, 1, 3], undefined]) {
    const rec = record([0, 1, 0], { logits: [[1], [2], [3]] }, { logits: [[0.5], [-1], [2]] }, offsets);
    const g = computeEpochStats(rec, { classes: 2 }).grads.logits;
    assert.is(g.stepNorm, undefined, `offsets ${offsets}`);
    assert.is(g.all.count, 3);
    assertClose([g.norm!], [Math.hypot(0.5, 1, 2)], TOL, 'epoch norm');
  }
});

small('a label outside the classes is an error', () => {
  assert.throws(() => computeEpochStats(record([0, 5], { logits: [[1], [2]] }), { classes: 3 }), /label 5 of row 1/);
});

small.run();

// --- a real record from training

const head = (split: Split, n: number): Split => ({ ...split, count: n, images: split.images.subarray(0, n * 784), labels: split.labels.subarray(0, n) });

const real = suite('epoch stats: a recorded epoch of training');

real('statistics of every slot and gradient of a 200-sample epoch agree with the direct computation', async () => {
  const rng = createRng('torch', 5);
  const model = Mlp.init([784, 8, 6, 10], rng);
  const data: Mnist = { ...mnist, train: head(mnist.train, 200), test: head(mnist.test, 10) };
  let rec: EpochRecord | null = null;
  await train(model, data, rng, { epochs: 1, batch: 64, lr: 0.05, record: true }, { onEpoch: (_, r) => { rec = r; } });
  const r = rec as unknown as EpochRecord;
  assert.equal([...r.batchOffsets!], [0, 64, 128, 192, 200]);
  const s = computeEpochStats(r, { classes: 10, firstBatch: 64 });
  assert.equal(Object.keys(s.acts), Object.keys(r.acts));
  assert.equal(Object.keys(s.grads), Object.keys(r.grads));
  for (const [name, slot] of Object.entries(r.acts)) checkTensor(s.acts[name], slot!, r.labels, 200, 10, 30, name);
  for (const [name, slot] of Object.entries(r.grads)) checkTensor(s.grads[name], slot!, r.labels, 200, 10, 30, `grad ${name}`);
  assert.equal(s.health.map((h) => h.tensor), ['layers.0.post', 'layers.1.post']);
  // d(mean loss)/d(loss_i) = 1/64 in full batches: the step norm of the loss gradient is sqrt(64)/64
  assertClose(s.grads.loss.stepNorm!.slice(0, 3), [1 / 8, 1 / 8, 1 / 8], { atol: 0, rtol: 1e-6 }, 'loss grad step norms');
});

real.run();

// --- the recorder's parameter gradient norms

const params = suite('recorder: parameter gradient norms per step');

params('recordParamGrads keeps ||grad|| per step and parameter; endEpoch trims to the steps seen', async () => {
  const rec = new Recorder({ names: ['logits'], widths: { logits: 2 }, count: 5 });
  const W = Tensor.from([1, 2, 3, 4], [2, 2], { requiresGrad: true }), b = Tensor.from([0, 0], [2], { requiresGrad: true });
  const named = [{ name: 'layers.0.W' as const, tensor: W }, { name: 'layers.0.b' as const, tensor: b }];
  rec.beginEpoch(0);
  const norms: number[][] = [];
  for (let step = 0; step < 3; step++) {
    W.grad = Tensor.from([step, 1, -2, 0.5], [2, 2]);
    b.grad = step === 1 ? null : Tensor.from([3, -4 * step], [2]);
    const rows = step < 2 ? 2 : 1;
    rec.recordBatch(step * 2, { logits: Tensor.from(new Float32Array(rows * 2), [rows, 2]) }, new Array(rows).fill(1), new Array(rows).fill(0));
    rec.recordParamGrads(step, named);
    norms.push([Math.hypot(step, 1, -2, 0.5), step === 1 ? 0 : Math.hypot(3, -4 * step)]);
  }
  const r = await rec.endEpoch();
  assert.equal(r.paramGrads!.names, ['layers.0.W', 'layers.0.b']);
  assert.is(r.paramGrads!.steps, 3);
  assertClose(r.paramGrads!.norms, norms.flat(), { atol: 0, rtol: 1e-7 }, 'norms [steps, params]');
  assert.equal([...r.batchOffsets!], [0, 2, 4, 5]);
  const s = computeEpochStats(r, { classes: 2 });
  assertClose(s.params!.stepNorm.flat(), [norms.map((n) => n[0]), norms.map((n) => n[1])].flat(), { atol: 0, rtol: 1e-7 }, 'stepNorm [params][steps]');
  assertClose(s.params!.max, [Math.max(...norms.map((n) => n[0])), Math.hypot(3, 8)], { atol: 0, rtol: 1e-7 }, 'max');
  // a different parameter list within the epoch is refused; a fresh epoch starts over
  rec.beginEpoch(1);
  rec.recordParamGrads(0, named);
  assert.throws(() => rec.recordParamGrads(1, [named[1]]), /recordParamGrads got/);
  assert.throws(() => new Recorder({ names: [], widths: {}, count: 1 }).recordParamGrads(0, named), /before beginEpoch/);
});

params('many steps grow the buffer without losing earlier norms', async () => {
  const rec = new Recorder({ names: [], widths: {}, count: 1000 });
  const p = Tensor.from([0], [1], { requiresGrad: true });
  rec.beginEpoch(0);
  for (let step = 0; step < 300; step++) { p.grad = Tensor.from([step], [1]); rec.recordParamGrads(step, [{ name: 'layers.0.b', tensor: p }]); }
  const r = await rec.endEpoch();
  assert.equal(Array.from(r.paramGrads!.norms), Array.from({ length: 300 }, (_, i) => i));
});

params.run();
