// checkpoints: the generators' state()/restore(), the checkpoint file (round trip, atomic write, every
// kind of damage named), config.json validation, and train() continued from a checkpoint ending
// bit-identical to an uninterrupted run on the CPU.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createRng, type Rng, type RngKind } from '../../engine/rng.ts';
import { CHECKPOINT_FILE, loadCheckpoint, saveCheckpoint } from '../../run/checkpoint-files.ts';
import {
  decodeCheckpoint, encodeCheckpoint, identityMismatch, parseRunConfig, type Checkpoint, type RunIdentity,
} from '../../mlp/checkpoint.ts';
import { InputError } from '../../mlp/errors.ts';
import { loadMnist } from '../../run/mnist-files.ts';
import { type Mnist, type Split } from '../../mlp/mnist.ts';
import { Mlp } from '../../mlp/model.ts';
import { train, type EpochMetrics } from '../../mlp/train.ts';
import { encodeModel } from '../../mlp/weights.ts';

const KINDS: RngKind[] = ['torch', 'mlp-lens'];
const mnist = await loadMnist();

/** a few draws of every kind the training loop makes */
const draws = (r: Rng) => [...r.uniform(-1, 1, 5), ...r.epochPermutation(50), r.nextU32(), ...r.random(3)];

// --- generators
const rng = suite('rng: state() and restore()');

rng('a restored generator continues the stream exactly, for both kinds and mid-block', () => {
  for (const kind of KINDS) {
    // 700 outputs: past the first MT19937 twist, so the index is in the middle of a block
    for (const skip of [0, 1, 700]) {
      const a = createRng(kind, 31416);
      for (let i = 0; i < skip; i++) a.nextU32();
      const saved = a.state();
      const expected = draws(a);
      const b = createRng(kind, 999);
      b.restore(saved);
      assert.equal(draws(b), expected, `${kind}, after ${skip} outputs`);
      // state() is a copy: drawing did not change what was saved
      const c = createRng(kind, 1);
      c.restore(saved);
      assert.equal(draws(c), expected);
    }
  }
});

rng('state sizes: torch 624 words + the index, mlp-lens 4 words', () => {
  const t = createRng('torch', 5);
  assert.is(t.state().length, 625);
  assert.is(t.state()[624], 624, 'a fresh generator twists before its first output');
  t.nextU32();
  assert.is(t.state()[624], 1);
  assert.is(createRng('mlp-lens', 5).state().length, 4);
});

rng('restore refuses impossible states with a RangeError', () => {
  const t = createRng('torch', 1), m = createRng('mlp-lens', 1);
  assert.throws(() => t.restore(new Uint32Array(624)), /625 words/);
  assert.throws(() => t.restore(Uint32Array.from({ length: 625 }, (_, i) => (i === 624 ? 625 : 1))), /index must be 0..624/);
  assert.throws(() => t.restore(new Uint32Array(625)), /all zero/);
  assert.throws(() => t.restore(Array.from({ length: 625 }, () => -1)), /not a 32-bit unsigned integer/);
  assert.throws(() => m.restore([1, 2, 3]), /4 words/);
  assert.throws(() => m.restore([0, 0, 0, 0]), /all zero/);
  assert.throws(() => m.restore([1.5, 0, 0, 0]), /not a 32-bit unsigned integer/);
  // a refused state leaves the generator as it was
  const before = createRng('mlp-lens', 1);
  assert.equal(draws(m), draws(before));
});

rng.run();

// --- the file
const file = suite('checkpoint file');

const identity: RunIdentity = {
  sizes: [6, 4, 3], epochs: 5, batch: 8, lr: 0.1, momentum: 0.9, weightDecay: 0, seed: 7, rng: 'torch',
  shuffle: true, steps: null, trainCount: 100,
};
const metrics = (epoch: number): EpochMetrics => ({
  epoch, trainLoss: 1 / (epoch + 1), trainAccuracy: 50, testLoss: 0.5, testAccuracy: 60, samples: 100, steps: 13, seconds: 0.01,
});

async function sample(kind: RngKind = 'torch'): Promise<Checkpoint> {
  const r = createRng(kind, 7);
  const layers = await Mlp.init(identity.sizes, r).export();
  const velocity = layers.flatMap((l) => [l.W.map((x) => x / 2), l.b.map((x) => -x)]);
  return { epoch: 1, layers, velocity, rng: { kind, state: r.state() }, history: [metrics(0), metrics(1)], run: { ...identity, rng: kind } };
}

function expectInputError(bytes: Uint8Array, pattern: RegExp): void {
  try {
    decodeCheckpoint(bytes, 'ck.safetensors');
  } catch (e) {
    assert.instance(e, InputError, String(e));
    assert.match((e as Error).message, /^ck\.safetensors: /);
    assert.match((e as Error).message, pattern);
    assert.not.match((e as Error).message, /\n/);
    return;
  }
  assert.unreachable(`expected an InputError matching ${pattern}`);
}

const bits = (a: Float32Array | Uint32Array | null) => (a ? Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length)) : null);

file('round trip: weights, momentum buffers, generator state and metrics come back bit for bit; encoding is deterministic', async () => {
  for (const kind of KINDS) {
    const c = await sample(kind);
    const bytes = encodeCheckpoint(c);
    assert.equal(Array.from(encodeCheckpoint(c)), Array.from(bytes), 'same checkpoint, same bytes');
    const d = decodeCheckpoint(bytes, 'ck');
    assert.is(d.epoch, 1);
    assert.equal(d.run, c.run);
    assert.equal(d.history, c.history);
    assert.equal(bits(d.rng.state), bits(c.rng.state));
    assert.is(d.rng.kind, kind);
    d.layers.forEach((l, k) => {
      assert.equal(bits(l.W), bits(c.layers[k].W));
      assert.equal(bits(l.b), bits(c.layers[k].b));
      assert.equal([l.dIn, l.dOut], [c.layers[k].dIn, c.layers[k].dOut]);
    });
    assert.equal(d.velocity.map(bits), c.velocity.map(bits));
  }
});

file('saveCheckpoint writes atomically (no temporary left) and loadCheckpoint reads it back', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mlp-lens-ck-'));
  try {
    const c = await sample();
    await saveCheckpoint(dir, c);
    await saveCheckpoint(dir, { ...c, epoch: 2, history: [...c.history, metrics(2)] });
    assert.equal(await readdir(dir), [CHECKPOINT_FILE]);
    assert.is((await loadCheckpoint(dir)).epoch, 2);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

file('a missing checkpoint says there is nothing to resume', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mlp-lens-ck-'));
  try {
    await loadCheckpoint(dir);
    assert.unreachable('expected an InputError');
  } catch (e) {
    assert.instance(e, InputError);
    assert.match((e as Error).message, /checkpoint\.safetensors: not found: the run stopped before its first epoch ended/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

file('damage is named: a flipped bit anywhere in the data, truncation, a foreign file', async () => {
  const bytes = encodeCheckpoint(await sample());
  const headerEnd = 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true));
  // every 97th byte of the data section, each flipped alone, is caught by the checksum
  for (let i = headerEnd; i < bytes.length; i += 97) {
    const bad = bytes.slice();
    bad[i] ^= 0x10;
    expectInputError(bad, /checksum mismatch|holds (NaN|-?Infinity)/);
  }
  expectInputError(bytes.subarray(0, bytes.length - 1), /unused bytes|run past the end/);
  expectInputError(bytes.subarray(0, 5), /not a safetensors file/);
  const model = encodeModel(await Mlp.init([6, 4, 3], createRng('torch', 1)).export());
  expectInputError(model, /not an mlp-lens checkpoint \(metadata format "pt"/);
});

file('content that checks out but does not add up is named', async () => {
  const c = await sample();
  expectInputError(encodeCheckpoint({ ...c, history: [metrics(0)] }), /history .*holds 1 epochs, the checkpoint is after 2/);
  expectInputError(encodeCheckpoint({ ...c, epoch: 5, history: [0, 1, 2, 3, 4, 5].map(metrics) }), /epoch 5 is past the run's 5 epochs/);
  expectInputError(encodeCheckpoint({ ...c, rng: { kind: 'torch', state: new Uint32Array(4).fill(1) } }), /'rng.state' is not a torch generator state: .*625 words/);
  expectInputError(encodeCheckpoint({ ...c, run: { ...c.run, sizes: [6, 5, 3] } }), /'layers.0.W' has shape \[6, 4\], expected \[6, 5\]/);
  const nan = c.layers.map((l) => ({ ...l, b: l.b.slice() }));
  nan[1].b[2] = NaN;
  expectInputError(encodeCheckpoint({ ...c, layers: nan }), /tensor 'layers.1.b' holds NaN at element 2/);
  expectInputError(encodeCheckpoint({ ...c, run: { ...c.run, lr: -1 } }), /metadata run \$\.lr: expected a number > 0, got -1/);
  expectInputError(encodeCheckpoint({ ...c, velocity: [...c.velocity.slice(0, 3), null] }), /holds 3 momentum buffers for 4 parameters \(momentum 0.9 needs all\)/);
  expectInputError(encodeCheckpoint({ ...c, run: { ...c.run, momentum: 0 } }), /holds 4 momentum buffers but the run has no momentum/);
});

file('config.json: validated field by field; identityMismatch names the first difference', () => {
  const good = { ...identity, steps: undefined, record: true, data: '/data', deviceOption: 'cpu', testCount: 10, extra: { kept: 1 } };
  const cfg = parseRunConfig(JSON.stringify(good), 'config.json');
  assert.is(cfg.steps, null);
  assert.is(cfg.raw.extra && (cfg.raw.extra as { kept: number }).kept, 1);
  assert.is(identityMismatch(identity, cfg), undefined);
  assert.is(identityMismatch({ ...identity, lr: 0.2 }, cfg), 'lr 0.2 in the checkpoint, 0.1 in config.json');
  for (const [text, pattern] of [
    ['{"sizes": [784, 10]', /config\.json: the file is not valid JSON/],
    ['[]', /\$: expected an object/],
    [JSON.stringify({ ...good, batch: 0 }), /\$\.batch: expected a whole number ≥ 1, got 0/],
    [JSON.stringify({ ...good, rng: 'numpy' }), /\$\.rng: expected one of torch, mlp-lens/],
    [JSON.stringify({ ...good, sizes: [784, -3, 10] }), /\$\.sizes\[1\]/],
    [JSON.stringify({ ...good, deviceOption: 'tpu' }), /\$\.deviceOption/],
    [JSON.stringify({ ...good, steps: 2.5 }), /\$\.steps/],
  ] as const) {
    assert.throws(() => parseRunConfig(text, 'config.json'), (e: Error) => e instanceof InputError && pattern.test(e.message), text);
  }
});

file.run();

// --- train() continued from a checkpoint
const resume = suite('train(): a resumed run ends bit-identical to an uninterrupted one (cpu)');

const head = (s: Split, n: number): Split => ({ ...s, count: n, images: s.images.subarray(0, n * s.rows * s.cols), labels: s.labels.subarray(0, n) });
const small: Mnist = { ...mnist, train: head(mnist.train, 600), test: head(mnist.test, 200) };

resume('3 epochs = 1 epoch + checkpoint file + 2 epochs (momentum, weight decay; both generators)', async () => {
  for (const kind of KINDS) {
    const opts = { epochs: 3, batch: 64, lr: 0.05, momentum: 0.9, weightDecay: 1e-3, steps: 6 };
    const r1 = createRng(kind, 3);
    const m1 = Mlp.init([784, 16, 10], r1);
    const full = await train(m1, small, r1, opts);

    const r2 = createRng(kind, 3);
    const m2 = Mlp.init([784, 16, 10], r2);
    let saved: Uint8Array | null = null;
    await train(m2, small, r2, { ...opts, epochs: 1 }, {
      onEpoch: async (m, _record, state) => {
        saved = encodeCheckpoint({
          epoch: m.epoch, layers: await m2.export(), velocity: await state.velocity(), rng: { kind, state: r2.state() },
          history: [m], run: { ...identity, sizes: [784, 16, 10], epochs: 3, rng: kind },
        });
      },
    });
    const ck = decodeCheckpoint(saved!, 'ck');
    assert.ok(ck.velocity.every((v) => v !== null), 'momentum buffers saved');
    // a fresh process would do this: a generator of the same kind, any seed, then the saved state
    const r3 = createRng(kind, 12345);
    r3.restore(ck.rng.state);
    const m3 = Mlp.fromParams(ck.layers);
    const rest = await train(m3, small, r3, { ...opts, startEpoch: ck.epoch + 1, velocity: ck.velocity });
    assert.equal(rest.map((m) => m.epoch), [1, 2]);
    assert.equal(rest.map((m) => m.trainLoss), full.slice(1).map((m) => m.trainLoss), `${kind}: same losses`);
    const [a, b] = [await m1.export(), await m3.export()];
    a.forEach((l, k) => {
      assert.equal(bits(b[k].W), bits(l.W), `${kind}: layers.${k}.W bit-identical`);
      assert.equal(bits(b[k].b), bits(l.b), `${kind}: layers.${k}.b bit-identical`);
    });
  }
});

resume('without the momentum buffers the continuation differs (they matter, and are used)', async () => {
  const opts = { epochs: 2, batch: 64, lr: 0.05, momentum: 0.9, steps: 4 };
  const r1 = createRng('torch', 3), m1 = Mlp.init([784, 16, 10], r1);
  await train(m1, small, r1, opts);
  const r2 = createRng('torch', 3), m2 = Mlp.init([784, 16, 10], r2);
  await train(m2, small, r2, { ...opts, epochs: 1 });
  const m3 = Mlp.fromParams(await m2.export());
  await train(m3, small, r2, { ...opts, startEpoch: 1 });
  assert.not.equal(bits((await m3.export())[0].W), bits((await m1.export())[0].W));
});

resume.run();
