// the fused CNN step on the cpu (mlp/fused-cnn-cpu.ts) against the generic autograd step (GenericStep on
// a Cnn, the conv2d / maxPool2d ops' CPU oracles), which stays the reference: weights after every step of
// an epoch, every recorded slot (channel means and gradient sums of the maps, rows of the rest), the
// parameter gradient norms, the per-step losses, momentum buffers, evaluation; on the reference CNN with a
// partial last batch and on awkward specs (padded channels, stride, padding, overlapping pools, a conv
// without pooling). Also: the WebAssembly SIMD kernels against their JavaScript twins (bit for bit), the
// pooling's tie and NaN rule, a NaN ending in a DivergenceError as the generic step's, and where it applies.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createRng } from '../../engine/rng.ts';
import { Tensor } from '../../engine/tensor.ts';
import { instantiateCnnKernels, type KernelKind, wasmUnavailable } from '../../engine/wasm/load.ts';
import { parseArch, REFERENCE_CNN } from '../../mlp/arch.ts';
import { Cnn } from '../../mlp/cnn.ts';
import { DivergenceError } from '../../mlp/finite.ts';
import { fusedCnnCpuActs, fusedCnnCpuApplies, fusedCnnCpuForward, FusedCnnCpuStep } from '../../mlp/fused-cnn-cpu.ts';
import type { Split } from '../../mlp/mnist.ts';
import type { ActName } from '../../mlp/names.ts';
import { meanLoss, unitWidths } from '../../mlp/net.ts';
import { type EpochRecord, Recorder } from '../../mlp/recorder.ts';
import { Sgd } from '../../mlp/sgd.ts';
import { channelReduce } from '../../mlp/units.ts';
import type { StepEngine } from '../../mlp/step-engine.ts';
import { GenericStep } from '../../mlp/step-generic.ts';
import { loadMnist } from '../../run/mnist-files.ts';
import { assertClose } from '../helpers/close.ts';
import { skipped } from '../helpers/skip.ts';

const mnist = await loadMnist();
const head = (s: Split, n: number, from = 0): Split => ({
  ...s, count: n, images: s.images.subarray(from * s.rows * s.cols, (from + n) * s.rows * s.cols), labels: s.labels.subarray(from, from + n),
});
const simd = (await instantiateCnnKernels(65536)).kind === 'wasm-simd';
if (!simd) console.log(`  NOTE: WebAssembly SIMD kernels unavailable (${wasmUnavailable()}): the JS kernels are tested alone`);

interface Case { label: string; arch: string; count: number; batch: number; lr?: number; momentum?: number; weightDecay?: number }

interface Run {
  losses: number[];
  params: Float32Array[];
  record: EpochRecord;
  velocity: (Float32Array | null)[];
  model: Cnn;
}

const newModel = (arch: string): Cnn => {
  const spec = parseArch(arch);
  if (spec.kind !== 'cnn') throw new Error(arch);
  return Cnn.init(spec.layers, [1, 28, 28], 10, createRng('mlp-lens', 5));
};

/** one epoch of a fresh seeded model over `count` images in a fixed shuffled order: the generic step (false) or the fused one */
async function run(c: Case, fused: KernelKind | false, prepare?: (m: Cnn) => void): Promise<Run> {
  const model = newModel(c.arch);
  prepare?.(model);
  const split = head(mnist.train, c.count);
  const names = model.actNames().filter((n) => n !== 'input');
  const steps = Math.ceil(c.count / c.batch);
  const recorder = new Recorder({ names, widths: unitWidths(model, names), count: c.count, steps });
  const opts = { batch: c.batch, lr: c.lr ?? 0.05, momentum: c.momentum ?? 0, weightDecay: c.weightDecay ?? 0 };
  const engine: StepEngine = fused
    ? await FusedCnnCpuStep.create(model, split, { ...opts, kind: fused }, { steps, recorder, checkFinite: true })
    : new GenericStep(model, split, new Sgd(model.params().map((p) => p.tensor), opts), { batch: c.batch, steps, recorder, checkFinite: true });
  const order = Uint32Array.from({ length: c.count }, (_, i) => (i * 37 + 11) % c.count);
  recorder.beginEpoch(0);
  engine.beginEpoch(0, order);
  const losses: number[] = [];
  try {
    engine.runSteps((s) => losses.push(s.batchLoss!));
    await engine.endEpoch();
    const velocity = await engine.velocity();
    return { losses, params: model.params().map((p) => Float32Array.from(p.tensor.data())), record: await recorder.endEpoch(), velocity, model };
  } finally {
    engine.dispose();
  }
}

const maxAbs = (a: ArrayLike<number>) => { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i])); return m; };

function compareRuns(fused: Run, ref: Run, label: string, tol = 1e-5): void {
  assertClose(fused.losses, ref.losses, { atol: tol, rtol: tol }, `${label}: batch losses`);
  fused.params.forEach((p, k) => assertClose(p, ref.params[k], { atol: tol * Math.max(1e-2, maxAbs(ref.params[k])), rtol: 0 }, `${label}: parameter ${k}`));
  const a = fused.record, b = ref.record;
  assert.equal(Object.keys(a.acts), Object.keys(b.acts), `${label}: recorded names`);
  assert.equal([...a.indices], [...b.indices], `${label}: visited samples`);
  assert.equal([...a.labels], [...b.labels], `${label}: labels`);
  assert.equal([...a.batchOffsets!], [...b.batchOffsets!], `${label}: batch offsets`);
  for (const kind of ['acts', 'grads'] as const) {
    assert.equal(Object.keys(a[kind]).sort(), Object.keys(b[kind]).sort(), `${label}: ${kind} names`);
    for (const [name, slot] of Object.entries(b[kind])) {
      const got = a[kind][name as ActName]!;
      assert.is(got.width, slot!.width, `${label}: ${kind} ${name} width`);
      assertClose(got.data, slot!.data, { atol: tol * Math.max(1e-3, maxAbs(slot!.data)), rtol: 0 }, `${label}: ${kind} ${name}`);
    }
  }
  assert.equal(a.paramGrads!.names, b.paramGrads!.names);
  assertClose(a.paramGrads!.norms, b.paramGrads!.norms, { atol: 1e-7, rtol: tol }, `${label}: parameter gradient norms`);
  assert.is(fused.velocity.length, ref.velocity.length);
  fused.velocity.forEach((v, k) => {
    const w = ref.velocity[k];
    if (!v || !w) assert.is(v, w, `${label}: velocity ${k} present in both or neither`);
    else assertClose(v, w, { atol: tol * Math.max(1e-3, maxAbs(w)), rtol: 0 }, `${label}: velocity ${k}`);
  });
}

function equalBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length), y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return false;
  return true;
}

function identicalRuns(a: Run, b: Run, label: string): void {
  assert.equal(a.losses, b.losses, `${label}: losses`);
  a.params.forEach((p, k) => assert.ok(equalBits(p, b.params[k]), `${label}: parameter ${k} differs`));
  for (const kind of ['acts', 'grads'] as const) {
    for (const [name, slot] of Object.entries(a.record[kind])) {
      assert.ok(equalBits(slot!.data, b.record[kind][name as ActName]!.data), `${label}: ${kind} ${name} differs`);
    }
  }
  assert.ok(equalBits(a.record.paramGrads!.norms, b.record.paramGrads!.norms), `${label}: gradient norms differ`);
}

const cases: Case[] = [
  { label: 'reference CNN, batch 17 with a partial last batch (6 × 17 + 8)', arch: REFERENCE_CNN, count: 110, batch: 17 },
  { label: 'reference CNN, momentum 0.9 and weight decay 1e-3, batch 32', arch: REFERENCE_CNN, count: 96, batch: 32, momentum: 0.9, weightDecay: 1e-3 },
  { label: '3 channels (padded to 4), first conv stride 2 padding 1, overlapping pool 3 stride 2, conv padding 2', arch: 'cnn:conv3x3s2p1,pool3s2,conv5x3p2,12', count: 60, batch: 13 },
  { label: 'two convs without a pool between, the second stride 2, then a pool; a conv map straight into two linear layers', arch: 'cnn:conv4x5,conv6x3s2,pool2,10,7', count: 40, batch: 9 },
  { label: 'a conv straight into the output layer (no pool, no hidden linear)', arch: 'cnn:conv5x7s3', count: 30, batch: 7 },
];

// --- against the generic autograd step
const vsGeneric = suite('fused cnn cpu step vs the generic autograd step');

for (const c of cases) {
  vsGeneric(`${c.label}: weights, every recorded slot, gradient norms, losses, velocity`, async () => {
    const ref = await run(c, false);
    const fused = await run(c, simd ? 'wasm-simd' : 'js');
    compareRuns(fused, ref, c.label);
  });
}

vsGeneric('evaluation: per-sample losses and predictions of the generic forward pass', async () => {
  for (const arch of [REFERENCE_CNN, cases[2].arch]) {
    const model = newModel(arch), split = head(mnist.test, 300, 100);
    const ev = await fusedCnnCpuForward(model, split, 64);
    const x = Tensor.from(Float32Array.from(split.images, (b) => b / 255), [split.count, 784]);
    const y = Tensor.from(Float32Array.from(split.labels), [split.count]);
    const acts = model.forward(x, y);
    const loss = acts.loss!.data(), logits = acts.logits!.data();
    assertClose(ev.losses, loss, { atol: 1e-5, rtol: 1e-5 }, `${arch}: losses`);
    let sum = 0;
    for (let i = 0; i < split.count; i++) sum += loss[i];
    assertClose([ev.lossSum], [sum], { atol: 1e-4, rtol: 1e-5 }, `${arch}: loss sum`);
    for (let i = 0; i < split.count; i++) {
      let best = 0;
      for (let j = 1; j < 10; j++) if (logits[i * 10 + j] > logits[i * 10 + best]) best = j;
      // near-ties may resolve differently under f32 rounding
      if (ev.predictions[i] !== best) assert.ok(Math.abs(logits[i * 10 + best] - logits[i * 10 + ev.predictions[i]]) < 1e-5, `${arch}: prediction of row ${i}`);
    }
  }
});

vsGeneric('a NaN weight ends the epoch in the DivergenceError the generic step throws (same step, same tensor)', async () => {
  const c: Case = { label: 'nan', arch: REFERENCE_CNN, count: 40, batch: 8 };
  const poison = (m: Cnn) => {
    const w = Float32Array.from(m.layers[1].W.data());
    w[123] = NaN;
    m.layers[1].W.assign(Tensor.from(w, m.layers[1].W.shape));
  };
  const caught = async (fused: KernelKind | false): Promise<DivergenceError> => {
    try { await run(c, fused, poison); } catch (e) { if (e instanceof DivergenceError) return e; throw e; }
    throw new Error('no DivergenceError');
  };
  const ref = await caught(false);
  for (const kind of simd ? ['wasm-simd', 'js'] as const : ['js'] as const) {
    const got = await caught(kind);
    assert.is(got.step, ref.step, `${kind}: step`);
    assert.is(got.tensor, ref.tensor, `${kind}: tensor`);
    assert.is(got.tensor, 'layers.1.pre');
    assert.is(got.message, ref.message, `${kind}: message`);
  }
});

vsGeneric.run();

// --- the SIMD kernels against their JavaScript twins
const twins = suite('fused cnn cpu step: WebAssembly SIMD kernels and the JavaScript kernels agree bit for bit');

for (const c of cases) {
  twins(c.label, async () => {
    if (!simd) { skipped(`WebAssembly SIMD kernels unavailable (${wasmUnavailable()})`); return; }
    identicalRuns(await run(c, 'wasm-simd'), await run(c, 'js'), c.label);
  });
}

twins('max pooling: the first maximum in scan order, NaN wins (the last one), gradient to the pick only', async () => {
  const kinds = simd ? ['wasm-simd', 'js'] as const : ['js'] as const;
  const results: { P: number[]; arg: number[]; dX: number[] }[] = [];
  for (const kind of kinds) {
    const inst = await instantiateCnnKernels(65536, kind);
    const F = new Float32Array(inst.buffer), I = new Int32Array(inst.buffer);
    // one sample, a 2×2 map of 4 channels pooled by a 2×2 window: per channel the 4 values in scan order
    const windows = [[1, 1, 0, 0], [0, 2, 2, 1], [NaN, 3, NaN, 1], [-Infinity, -Infinity, -Infinity, -Infinity]];
    const X = 64, P = 256, arg = 512, dP = 768, dX = 1024;
    windows.forEach((w, ch) => w.forEach((v, t) => { F[(X >> 2) + t * 4 + ch] = v; }));
    inst.c.pool_fwd(1, X, 2, 2, 4, 2, 2, 1, 1, P, arg);
    F.set([10, 20, 30, 40], dP >> 2);
    inst.c.pool_bwd(1, dP, arg, 2, 2, 4, 2, 2, 1, 1, dX);
    const r = { P: [...F.subarray(P >> 2, (P >> 2) + 4)], arg: [...I.subarray(arg >> 2, (arg >> 2) + 4)], dX: [...F.subarray(dX >> 2, (dX >> 2) + 16)] };
    assert.equal(r.arg, [0, 1, 2, 0], `${kind}: picks`);
    assert.equal(r.P.slice(0, 2), [1, 2]);
    assert.ok(Number.isNaN(r.P[2]), `${kind}: NaN wins`);
    assert.is(r.P[3], -Infinity);
    const want = new Array(16).fill(0);
    want[0 * 4 + 0] = 10; want[1 * 4 + 1] = 20; want[2 * 4 + 2] = 30; want[0 * 4 + 3] = 40;
    assert.equal(r.dX, want, `${kind}: gradient to the pick`);
    results.push(r);
  }
  if (results.length === 2) assert.equal(results[0].dX, results[1].dX);
});

twins.run();

// --- where the fused path runs, and what it leaves behind
const scope = suite('fused cnn cpu step: where it applies, what it gives back');

scope('applies to a CNN on the cpu with the split\'s image size, not to another size', () => {
  const model = newModel(REFERENCE_CNN);
  assert.ok(fusedCnnCpuApplies(model, mnist.train));
  const small: Split = { ...head(mnist.train, 10), rows: 14, cols: 56 };
  assert.not.ok(fusedCnnCpuApplies(model, small));
});

scope('the model\'s parameters follow the trainer, and get storage of their own back on dispose', async () => {
  const model = newModel(REFERENCE_CNN), split = head(mnist.train, 64);
  const before = model.params().map((p) => Float32Array.from(p.tensor.data()));
  const engine = await FusedCnnCpuStep.create(model, split, { batch: 16, lr: 0.05 }, { steps: 4, recorder: null, checkFinite: true });
  engine.beginEpoch(0, Uint32Array.from({ length: 64 }, (_, i) => i));
  engine.runSteps();
  const totals = await engine.endEpoch();
  assert.is(totals.samples, 64);
  const after = model.params().map((p) => Float32Array.from(p.tensor.data()));
  assert.ok(after.some((a, k) => !equalBits(a, before[k])), 'the parameters changed');
  engine.dispose();
  model.params().forEach((p, k) => {
    const d = p.tensor.data() as Float32Array;
    assert.ok(!(d.buffer instanceof ArrayBuffer) || d.byteLength === d.buffer.byteLength, `parameter ${k} has storage of its own`);
    assert.ok(equalBits(Float32Array.from(d), after[k]), `parameter ${k} kept its values`);
  });
  assert.equal(await engine.velocity(), model.params().map(() => null), 'no momentum, no buffers');
  // the generic loss of the trained model is finite (the parameters are real tensors again)
  const x = Tensor.from(Float32Array.from(split.images.subarray(0, 784 * 4), (b) => b / 255), [4, 784]);
  assert.ok(Number.isFinite(meanLoss(model.forward(x, Tensor.from([0, 1, 2, 3], [4]))).data()[0]));
});

scope.run();

// --- the analyses' forward pass (fusedCnnCpuActs) against the generic forward
const acts = suite('fused cnn cpu forward for the analyses (fusedCnnCpuActs) vs model.forward');

/** |a − e| ≤ 1e-5·(max |e| + |e|): agreement to f32 rounding relative to the tensor's scale */
const closeToScale = (a: ArrayLike<number>, e: ArrayLike<number>, label: string) => assertClose(a, e, { atol: 1e-5 * maxAbs(e), rtol: 1e-5 }, label);

for (const arch of [REFERENCE_CNN, 'cnn:conv3x3s2p1,pool3s2,conv5x3p2,12', 'cnn:conv4x5,conv6x3s2,pool2,10,7', 'cnn:conv5x7s3']) {
  acts(`${arch}: every named tensor [n, C, H, W] / [n, D], the channel means and the loss, 300 test images (two passes of 256 rows), SIMD and JS kernels`, async () => {
    const model = newModel(arch), n = 300;
    const x = Float32Array.from(mnist.test.images.subarray(0, n * 784), (b) => b / 255), labels = mnist.test.labels.subarray(0, n);
    const names = model.actNames();
    const ref = model.forward(Tensor.from(x, [n, 784]), Tensor.from(Float32Array.from(labels), [n]));
    for (const kind of (simd ? ['wasm-simd', 'js'] : ['js']) as KernelKind[]) {
      const got = (await fusedCnnCpuActs(model, x, n, names, { labels, kind, means: names.filter((m) => m !== 'input') }))!;
      assert.ok(got, `${kind}: the path applies`);
      for (const name of names) {
        const r = ref[name]!, g = got[name]!;
        assert.equal(g.shape, [...r.shape], `${kind} ${name} shape`);
        closeToScale(g.data, r.data() as Float32Array, `${kind} ${name}`);
        if (name === 'input') continue;
        // the channel means (a map) or the rows themselves (a vector, the loss)
        const want = r.shape.length === 4 ? new Float32Array(n * r.shape[1]) : (r.data() as Float32Array);
        if (r.shape.length === 4) channelReduce(r.data(), n, r.shape[1], r.shape[2] * r.shape[3], true, want);
        closeToScale(got.means![name]!.data, want, `${kind} ${name} means`);
      }
    }
  });
}

acts('raw 0–255 pixels as floats; a few images and names; the model unchanged; no loss without labels', async () => {
  const model = newModel('cnn:conv3x3s2p1,pool3s2,conv5x3p2,12'), n = 5;
  const before = model.params().map((p) => Float32Array.from(p.tensor.data()));
  const x = Float32Array.from(mnist.test.images.subarray(0, n * 784));
  const got = (await fusedCnnCpuActs(model, x, n, ['layers.1.post', 'logits', 'loss']))!;
  const ref = model.forward(Tensor.from(x, [n, 784]));
  closeToScale(got['layers.1.post']!.data, ref['layers.1.post']!.data() as Float32Array, 'layers.1.post');
  closeToScale(got.logits!.data, ref.logits!.data() as Float32Array, 'logits');
  assert.is(got.loss, undefined);
  model.params().forEach((p, k) => assert.ok(equalBits(Float32Array.from(p.tensor.data()), before[k]), `parameter ${k} unchanged`));
});

acts('does not apply: images with more than 255 distinct non-zero values', async () => {
  const model = newModel(REFERENCE_CNN);
  const x = Float32Array.from({ length: 2 * 784 }, (_, i) => (i + 1) / 2000);
  assert.is(await fusedCnnCpuActs(model, x, 2, ['logits']), null);
});

acts.run();
