// the fused cpu step (mlp/fused-cpu.ts) against the generic autograd step it replaces, which stays the
// reference: weights after N steps, every recorded slot (activations and gradients), the parameter
// gradient norms, the per-step losses, momentum buffers, evaluation; on awkward batch sizes and widths.
// Also: the WebAssembly SIMD kernels against their JavaScript twins (bit for bit) and the oracle matmul,
// and the path is chosen only where it applies.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { cpu } from '../../engine/cpu.ts';
import { matmul } from '../../engine/ops/index.ts';
import { createRng } from '../../engine/rng.ts';
import { Tensor } from '../../engine/tensor.ts';
import { instantiateKernels, type KernelInstance, type KernelKind, wasmUnavailable } from '../../engine/wasm/load.ts';
import { FusedCpuTrainer, fusedCpuApplies, fusedCpuForward } from '../../mlp/fused-cpu.ts';
import { type Mnist, type Split } from '../../mlp/mnist.ts';
import { loadMnist } from '../../run/mnist-files.ts';
import { Mlp } from '../../mlp/model.ts';
import type { ActName } from '../../mlp/names.ts';
import type { EpochRecord } from '../../mlp/recorder.ts';
import { evaluate, train, type TrainOptions } from '../../mlp/train.ts';
import { assertClose } from '../helpers/close.ts';
import { skipped } from '../helpers/skip.ts';

const mnist = await loadMnist();
const head = (s: Split, n: number, from = 0): Split => ({
  ...s, count: n, images: s.images.subarray(from * s.rows * s.cols, (from + n) * s.rows * s.cols), labels: s.labels.subarray(from, from + n),
});
const wasm = await instantiateKernels(65536);
const simd = wasm.kind === 'wasm-simd';
if (!simd) console.log(`  NOTE: WebAssembly SIMD kernels unavailable (${wasmUnavailable()}): the JS kernels are tested alone`);

interface Run {
  losses: number[];
  params: Float32Array[];
  record: EpochRecord | null;
  velocity: (Float32Array | null)[];
  testLoss: number;
  testAccuracy: number;
}

/** trains a fresh model (seeded) with the fused step (`fused`: 'wasm-simd' | 'js') or the generic one, one epoch */
async function run(sizes: number[], data: Mnist, opts: Partial<TrainOptions>, fused: KernelKind | false): Promise<Run> {
  const rng = createRng('mlp-lens', 5);
  const model = Mlp.init(sizes, rng);
  const losses: number[] = [];
  let record: EpochRecord | null = null, velocity: (Float32Array | null)[] = [];
  const history = await train(model, data, rng, {
    epochs: 1, batch: 64, lr: 0.05, record: true, fused: fused === 'js' ? 'js' : fused !== false, ...opts,
  }, {
    onStep: (s) => losses.push(s.batchLoss!),
    onEpoch: async (_, r, state) => { record = r; velocity = await state.velocity(); },
  });
  return {
    losses, record, velocity, params: model.params().map((p) => Float32Array.from(p.tensor.data())),
    testLoss: history[0].testLoss, testAccuracy: history[0].testAccuracy,
  };
}

const maxAbs = (a: ArrayLike<number>) => { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i])); return m; };

/** the fused run against the generic one: f32 sums against the oracle's f64 ones, so close, scaled by each tensor's size */
function compareRuns(fused: Run, ref: Run, label: string, tol = 1e-6): void {
  assertClose(fused.losses, ref.losses, { atol: tol, rtol: tol }, `${label}: batch losses`);
  fused.params.forEach((p, k) => assertClose(p, ref.params[k], { atol: tol * Math.max(1, maxAbs(ref.params[k])), rtol: 0 }, `${label}: parameter ${k}`));
  const a = fused.record!, b = ref.record!;
  assert.equal(Object.keys(a.acts), Object.keys(b.acts), `${label}: recorded names`);
  assert.equal([...a.indices], [...b.indices], `${label}: visited samples`);
  assert.equal([...a.labels], [...b.labels], `${label}: labels`);
  assert.equal([...a.batchOffsets!], [...b.batchOffsets!], `${label}: batch offsets`);
  for (const kind of ['acts', 'grads'] as const) {
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
  assertClose([fused.testLoss], [ref.testLoss], { atol: tol, rtol: tol }, `${label}: test loss`);
  assert.ok(Math.abs(fused.testAccuracy - ref.testAccuracy) <= 0.2, `${label}: test accuracy ${fused.testAccuracy} vs ${ref.testAccuracy}`);
}

/** the two fused runs (SIMD and JS kernels): the same numbers exactly */
function identicalRuns(a: Run, b: Run, label: string): void {
  assert.equal(a.losses, b.losses, `${label}: losses`);
  a.params.forEach((p, k) => assert.ok(equalBits(p, b.params[k]), `${label}: parameter ${k} differs`));
  for (const kind of ['acts', 'grads'] as const) {
    for (const [name, slot] of Object.entries(a.record![kind])) {
      assert.ok(equalBits(slot!.data, b.record![kind][name as ActName]!.data), `${label}: ${kind} ${name} differs`);
    }
  }
  assert.ok(equalBits(a.record!.paramGrads!.norms, b.record!.paramGrads!.norms), `${label}: gradient norms differ`);
  assert.is(a.testLoss, b.testLoss);
}

function equalBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length), y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return false;
  return true;
}

// --- the fused step against the generic autograd step
const vsGeneric = suite('fused cpu step vs the generic autograd step');

const small = (train: number, test = 200): Mnist => ({ ...mnist, train: head(mnist.train, train), test: head(mnist.test, test) });

const cases: { label: string; sizes: number[]; data: Mnist; opts: Partial<TrainOptions> }[] = [
  { label: 'reference 784-32-16-10, batch 64, 8 steps', sizes: [784, 32, 16, 10], data: small(512), opts: {} },
  { label: 'batch 1, 12 steps', sizes: [784, 32, 16, 10], data: small(12), opts: { batch: 1 } },
  { label: 'batch 17 with a partial last batch (17, 17, 17, 9)', sizes: [784, 32, 16, 10], data: small(60), opts: { batch: 17 } },
  { label: 'batch 64 with a partial last batch (64, 64, 22)', sizes: [784, 32, 16, 10], data: small(150), opts: {} },
  { label: 'widths 1 and 63', sizes: [784, 63, 1, 10], data: small(200), opts: { batch: 33 } },
  { label: 'widths 65 and 63, deeper (4 hidden layers)', sizes: [784, 65, 63, 17, 5, 10], data: small(256), opts: {} },
  { label: 'no hidden layer (784-10)', sizes: [784, 10], data: small(192), opts: {} },
  { label: 'wider first layer (128)', sizes: [784, 128, 10], data: small(192), opts: {} },
  { label: 'momentum 0.9 and weight decay 1e-3', sizes: [784, 32, 16, 10], data: small(320), opts: { momentum: 0.9, weightDecay: 1e-3 } },
  { label: 'steps 3 of a longer split, no shuffle', sizes: [784, 32, 16, 10], data: small(1000), opts: { steps: 3, shuffle: false } },
];

for (const c of cases) {
  vsGeneric(`${c.label}: weights, every recorded slot, gradient norms, losses, velocity, evaluation`, async () => {
    const ref = await run(c.sizes, c.data, c.opts, false);
    const fused = await run(c.sizes, c.data, c.opts, simd ? 'wasm-simd' : 'js');
    compareRuns(fused, ref, c.label);
  });
}

vsGeneric.run();

// --- the SIMD kernels against their JavaScript twins
const twins = suite('fused cpu step: WebAssembly SIMD kernels and the JavaScript kernels agree bit for bit');

for (const c of [cases[0], cases[2], cases[5], cases[8]]) {
  twins(c.label, async () => {
    if (!simd) { skipped(`WebAssembly SIMD kernels unavailable (${wasmUnavailable()})`); return; }
    const a = await run(c.sizes, c.data, c.opts, 'wasm-simd');
    const b = await run(c.sizes, c.data, c.opts, 'js');
    identicalRuns(a, b, c.label);
  });
}

twins.run();

// --- where the fused path runs, and what it leaves behind
const selection = suite('fused cpu step: chosen where it applies, off on request');

selection('applies to the plain MLP on the cpu; not with normalisation, dropout or input standardisation', () => {
  const rng = createRng('mlp-lens', 1);
  assert.ok(fusedCpuApplies(Mlp.init([784, 8, 10], rng), mnist.train));
  assert.not.ok(fusedCpuApplies(Mlp.init([784, 8, 10], rng, cpu, { layernorm: 'after-relu' }), mnist.train), 'layernorm');
  assert.not.ok(fusedCpuApplies(Mlp.init([784, 8, 10], rng, cpu, { batchnorm: 'before-relu' }), mnist.train), 'batchnorm');
  assert.not.ok(fusedCpuApplies(Mlp.init([784, 8, 10], rng, cpu, { dropout: 0.2 }), mnist.train), 'dropout');
  assert.not.ok(fusedCpuApplies(Mlp.init([784, 8, 10], rng, cpu, { input: 'standardize' }), mnist.train), 'input standardisation');
  assert.not.ok(fusedCpuApplies(Mlp.init([100, 8, 10], rng), mnist.train), 'input width differs from the images');
});

selection('a normalised model trains on the generic path whatever `fused` says (identical results)', async () => {
  const data = small(128, 50);
  const go = async (fused: boolean) => {
    const rng = createRng('mlp-lens', 2);
    const model = Mlp.init([784, 16, 10], rng, cpu, { layernorm: 'after-relu' });
    const h = await train(model, data, rng, { epochs: 1, batch: 32, lr: 0.05, fused });
    return { loss: h[0].trainLoss, W: Float32Array.from(model.layers[0].W.data()) };
  };
  const [a, b] = [await go(true), await go(false)];
  assert.is(a.loss, b.loss);
  assert.ok(equalBits(a.W, b.W));
});

selection('after training the parameters own their storage again (the trainer memory, which holds the split, can go)', async () => {
  const rng = createRng('mlp-lens', 3);
  const model = Mlp.init([784, 8, 10], rng);
  let during = 0;
  await train(model, small(256, 20), rng, { epochs: 1, batch: 64, lr: 0.05 }, {
    onStep: () => { during = (model.layers[0].W.data() as Float32Array).buffer.byteLength; },
  });
  assert.ok(during > 784 * 8 * 4, 'while training, W is a view into the trainer memory');
  for (const p of model.params()) {
    const d = p.tensor.data() as Float32Array;
    assert.is(d.buffer.byteLength, d.length * 4, `${p.name} owns its buffer`);
  }
});

selection('a parameter replaced between steps (Tensor.assign) is what the next step uses', async () => {
  const data = small(256, 20);
  const go = async (fused: boolean) => {
    const rng = createRng('mlp-lens', 4);
    const model = Mlp.init([784, 8, 10], rng);
    await train(model, data, rng, { epochs: 1, batch: 64, lr: 0.05, fused }, {
      onStep: ({ step }) => { if (step === 1) model.layers[1].b.assign(Tensor.from(new Float32Array(10).fill(0.5), [10])); },
    });
    return Float32Array.from(model.layers[1].b.data());
  };
  const [a, b] = [await go(true), await go(false)];
  assertClose(a, b, { atol: 1e-6, rtol: 0 }, 'output bias after the run');
  assert.ok(a[0] > 0.3, 'the replacement took effect');
});

selection.run();

// --- divergence: the same error as the generic path
const divergence = suite('fused cpu step: divergence is reported exactly as the generic path reports it');

async function diverge(fused: boolean, poison: (m: Mlp) => void, onStep?: (m: Mlp, epoch: number, step: number) => void, lr = 0.01) {
  const rng = createRng('torch', 4);
  const model = Mlp.init([784, 32, 16, 10], rng);
  poison(model);
  const seen: string[] = [];
  try {
    await train(model, small(640, 50), rng, { epochs: 2, batch: 64, lr, fused }, {
      onStep: ({ epoch, step }) => { seen.push(`${epoch}:${step}`); onStep?.(model, epoch, step); },
    });
  } catch (e) {
    return { message: (e as Error).message, seen };
  }
  return { message: 'no error', seen };
}

const poisons: [string, (m: Mlp) => void, ((m: Mlp, e: number, s: number) => void)?, number?][] = [
  ['NaN weights of layer 1', (m) => m.layers[1].W.assign(Tensor.from(new Float32Array(32 * 16).fill(NaN), [32, 16]))],
  ['an Inf weight on an always-blank pixel (seen only after the update)', (m) => {
    const W = Float32Array.from(m.layers[0].W.data());
    W.fill(Infinity, 0, 32);
    m.layers[0].W.assign(Tensor.from(W, [784, 32]));
  }],
  ['+Inf bias injected after step 2 of epoch 1', () => {}, (m, e, s) => {
    if (e === 1 && s === 2) m.layers[0].b.assign(Tensor.from(new Float32Array(32).fill(Infinity), [32]));
  }],
  ['-Inf output bias: logits hold -Infinity', (m) => m.layers[2].b.assign(Tensor.from(new Float32Array(10).fill(-Infinity), [10]))],
];

for (const [label, poison, onStep, lr] of poisons) {
  divergence(label, async () => {
    const a = await diverge(true, poison, onStep, lr), b = await diverge(false, poison, onStep, lr);
    assert.match(a.message, /^training diverged in epoch \d+, step \d+: /);
    assert.is(a.message, b.message);
    assert.equal(a.seen, b.seen);
  });
}

divergence.run();

// --- evaluation
const evaluation = suite('fused cpu forward pass: evaluate() as the generic one gives it');

evaluation('a trained reference model on the 10 000 test images: same predictions, loss to f32 rounding', async () => {
  const rng = createRng('torch', 31416);
  const model = Mlp.init([784, 32, 16, 10], rng);
  await train(model, { ...mnist, train: head(mnist.train, 6400), test: head(mnist.test, 10) }, rng, { epochs: 1, batch: 64, lr: 0.05 });
  const ref = await evaluate(model, mnist.test, { batch: 1000, classes: 10, fused: false });
  for (const [kind, batch] of [[true, 1000], [true, 777], ['js', 1000]] as const) {
    const got = await evaluate(model, mnist.test, { batch, classes: 10, fused: kind });
    let differ = 0;
    for (let i = 0; i < got.predictions.length; i++) if (got.predictions[i] !== ref.predictions[i]) differ++;
    assert.ok(differ <= 2, `${kind}, batch ${batch}: ${differ} predictions differ`);
    assertClose([got.loss], [ref.loss], { atol: 1e-6, rtol: 1e-6 }, `${kind}, batch ${batch}: mean test loss`);
    assert.ok(Math.abs(got.accuracy - ref.accuracy) <= 0.02, `${kind}: accuracy ${got.accuracy} vs ${ref.accuracy}`);
  }
  const { losses } = await fusedCpuForward(model, mnist.test, 1000);
  assert.is(losses.length, 10000);
});

evaluation.run();

// --- the kernels one by one, on both implementations
const kernels = suite('fused cpu kernels: each against the oracle, on awkward sizes, NaN conventions');

/** Float32Arrays laid out in a kernel instance's memory, 16-byte aligned from offset 16 (each call starts there again) */
function place(inst: KernelInstance, arrays: Float32Array[]): number[] {
  let at = 16;
  const F = new Float32Array(inst.buffer);
  return arrays.map((a) => {
    const p = at;
    F.set(a, p >> 2);
    at += Math.ceil((4 * a.length) / 16) * 16;
    return p;
  });
}
const rand = (n: number, seed: number, zeros = 0) => {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const u = s / 2 ** 32;
    return u < zeros ? 0 : Math.fround(2 * u - 1);
  });
};
const kinds = async () => [await instantiateKernels(1 << 22, 'js'), ...(simd ? [await instantiateKernels(1 << 22, 'wasm-simd')] : [])];

kernels('mm (with bias, zero skipping) and mm_tn match the oracle matmul for m, k in 1, 3, 4, 5, 15, 16, 17, 33, 63, 65', async () => {
  const insts = await kinds();
  for (const n of [1, 17, 64]) {
    for (const k of [1, 5, 16, 33]) {
      for (const m of [1, 3, 4, 5, 15, 16, 17, 33, 63, 65]) {
        const A = rand(n * k, n * 1000 + k, 0.4), B = rand(k * m, k * 100 + m), bias = rand(m, m), D = rand(n * m, 7 + m);
        const C = matmul(Tensor.from(A, [n, k]), Tensor.from(B, [k, m])).data();
        const G = matmul(Tensor.from(A, [n, k]), Tensor.from(D, [n, m]), { transA: true }).data();
        const outs: Float32Array[] = [];
        for (const inst of insts) {
          const [pA, pB, pb, pD, pC, pG] = place(inst, [A, B, bias, D, new Float32Array(n * m), new Float32Array(k * m).fill(7)]);
          inst.k.mm(n, pA, k, pB, pb, pC, m, 1);
          inst.k.mm_tn(n, pA, k, pD, m, pG);
          const F = new Float32Array(inst.buffer);
          const got = F.slice(pC >> 2, (pC >> 2) + n * m), gotG = F.slice(pG >> 2, (pG >> 2) + k * m);
          assertClose(got, Float32Array.from(C, (v, q) => v + bias[q % m]), { atol: 1e-5, rtol: 1e-5 }, `${inst.kind} mm ${n}×${k}·${k}×${m}`);
          assertClose(gotG, G, { atol: 1e-5, rtol: 1e-5 }, `${inst.kind} mm_tn ${n}×${k}, ${m}`);
          outs.push(got, gotG);
        }
        if (outs.length === 4) assert.ok(equalBits(outs[0], outs[2]) && equalBits(outs[1], outs[3]), `wasm = js bit for bit, ${n}, ${k}, ${m}`);
      }
    }
  }
});

kernels('relu, relu_back, sgd (with Σ g²) and probe: NaN and ±Inf conventions of the oracle, tails of 1..7 elements', async () => {
  const sums: Record<number, number[]> = {};
  for (const inst of await kinds()) {
    for (const count of [1, 3, 4, 5, 7, 8, 9]) {
      const Z = Float32Array.from({ length: count }, (_, q) => [NaN, -1, 0, -0, 2, Infinity, -Infinity, 0.5, 1][q]);
      const dH = Float32Array.from({ length: count }, (_, q) => [Infinity, NaN, 1, 2, 3, 4, 5, 6, 7][q]);
      const [pZ, pH, pdH, pdZ, pf] = place(inst, [Z, new Float32Array(count), dH, new Float32Array(count), rand(count, 9)]);
      inst.k.relu(pZ, pH, count);
      inst.k.relu_back(pdH, pZ, pdZ, count);
      const F = new Float32Array(inst.buffer);
      assert.equal(Array.from(F.subarray(pH >> 2, (pH >> 2) + count)), Array.from(Z, (v) => (v > 0 ? v : 0)), `${inst.kind} relu ${count}`);
      // a product, as mul(dy, step(x)): Inf·0 and NaN·0 stay NaN
      assert.equal(Array.from(F.subarray(pdZ >> 2, (pdZ >> 2) + count)), Array.from(dH, (g, q) => Math.fround(g * (Z[q] > 0 ? 1 : 0))), `${inst.kind} relu_back ${count}`);
      assert.is(inst.k.probe(pf, count), 0, 'a finite tensor probes 0');
      assert.ok(Number.isNaN(inst.k.probe(pZ, count)), 'NaN probes NaN');
      assert.is(Number.isNaN(inst.k.probe(pH, count)), count > 5, 'relu(+Inf) = +Inf probes NaN');
      const p = rand(count, count), g = rand(count, count + 1);
      const [pp, pg, pv, psq] = place(inst, [p, g, new Float32Array(count), new Float32Array(2)]);
      const probe = inst.k.sgd(pp, pg, pv, count, 0.01, 0.9, 0.1, 1, psq);
      const squares = new Float64Array(inst.buffer, psq, 1)[0];
      assertClose([squares], [g.reduce((s, x) => s + x * x, 0)], { atol: 0, rtol: 1e-14 }, `${inst.kind} Σ g² ${count}`);
      (sums[count] ??= []).push(squares);
      const want = Array.from(p, (x, q) => {
        const d = Math.fround(g[q] + Math.fround(Math.fround(0.1) * x));
        return Math.fround(x + Math.fround(-Math.fround(0.01) * d));
      });
      assert.equal(Array.from(F.subarray(pp >> 2, (pp >> 2) + count)), want, `${inst.kind} sgd ${count}`);
      assert.is(probe, 0);
      F[(pg >> 2) + count - 1] = Infinity;
      assert.ok(Number.isNaN(inst.k.sgd(pp, pg, pv, count, 0.01, 0.9, 0.1, 0, 0)), 'an Inf after the update probes NaN');
    }
  }
  for (const [count, s] of Object.entries(sums)) assert.ok(s.every((x) => x === s[0]), `Σ g² of ${count}: the same f64 from both kernel sets`);
});

kernels.run();
