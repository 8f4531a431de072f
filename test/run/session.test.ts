// run/session.ts: a training run with any sink — what the sink receives and in which order, that it
// trains exactly what train() trains, that an aborted signal stops at an epoch's end with the model kept,
// and that settings and weights that cannot work are refused before anything trains.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { computeInputStats, type InputStats } from '../../analysis/input-stats.ts';
import { cpu } from '../../engine/cpu.ts';
import { createRng } from '../../engine/rng.ts';
import { InputError } from '../../mlp/errors.ts';
import { Mlp } from '../../mlp/model.ts';
import { train } from '../../mlp/train.ts';
import { ConfigError } from '../../run/errors.ts';
import { loadMnist } from '../../run/mnist-files.ts';
import { checkSettings, prepareSession, REFERENCE_SETTINGS, trainSession, type TrainSettings } from '../../run/session.ts';

const t = suite('run/session');
const mnist = await loadMnist();
const quick: TrainSettings = { ...REFERENCE_SETTINGS, epochs: 3, steps: 20 };

t('the sink gets input statistics, then per epoch statistics → checkpoint → done, in order', async () => {
  const calls: string[] = [];
  const session = prepareSession(quick, mnist, cpu);
  let input: InputStats | null = null;
  const r = await trainSession(session, {
    inputStats: (s) => { calls.push(`input ${s.pooled.mean > 0}`); input = s; },
    epochStats: (s) => { calls.push(`stats ${s.epoch} ${s.count}`); },
    checkpoint: (c) => { calls.push(`checkpoint ${c.epoch} ${c.history.length} ${c.run.steps}`); },
    epochDone: (row, history) => { calls.push(`done ${row.epoch} ${history.length} ${row.wallSeconds! > 0}`); },
  });
  assert.equal(calls, [
    'input true',
    'stats 0 1280', 'checkpoint 0 1 20', 'done 0 1 true',
    'stats 1 1280', 'checkpoint 1 2 20', 'done 1 2 true',
    'stats 2 1280', 'checkpoint 2 3 20', 'done 2 3 true',
  ]);
  assert.is(r.cancelled, false);
  assert.is(r.history.length, 3);
  assert.ok(r.final && r.final.predictions.length === mnist.test.count);
  // computed once the fused step has built the split's sparse rows (and read from them): the statistics of
  // the bytes, every digit (a copy of the split has no rows built: computeInputStats reads its bytes)
  assert.is(JSON.stringify(input), JSON.stringify(computeInputStats({ ...mnist.train }, { firstN: 1000, bins: 30 })));
});

t('the same weights and metrics as train() with the same options (the session adds no step of its own)', async () => {
  const session = prepareSession({ ...quick, record: false }, mnist, cpu);
  const r = await trainSession(session);
  const rng = createRng('torch', 31416), model = Mlp.init([784, 32, 16, 10], rng);
  const history = await train(model, mnist, rng, { epochs: 3, batch: 64, lr: 0.01, steps: 20 });
  assert.equal(r.history.map((m) => [m.trainLoss, m.trainAccuracy, m.testLoss]), history.map((m) => [m.trainLoss, m.trainAccuracy, m.testLoss]));
  const [a, b] = [await session.model.export(), await model.export()];
  a.forEach((l, k) => { assert.equal(Array.from(l.W), Array.from(b[k].W)); assert.equal(Array.from(l.b), Array.from(b[k].b)); });
});

t('an aborted signal stops at the end of the epoch it comes in, that epoch kept and the model evaluated', async () => {
  const stop = new AbortController();
  const session = prepareSession(quick, mnist, cpu);
  const done: number[] = [];
  const r = await trainSession(session, { epochDone: (row) => { done.push(row.epoch); } }, {
    onStep: ({ epoch, step }) => { if (epoch === 1 && step === 5) stop.abort(); },
    signal: stop.signal,
  });
  assert.is(r.cancelled, true);
  assert.equal(done, [0, 1]);
  assert.equal(r.history.map((m) => m.epoch), [0, 1]);
  assert.ok(r.final!.accuracy > 10, `evaluated: ${r.final!.accuracy} %`);
});

t('settings that cannot work and weights of another shape are refused with one line', () => {
  const bad = (s: Partial<TrainSettings>) => () => checkSettings({ ...REFERENCE_SETTINGS, ...s });
  assert.throws(bad({ batch: 0 }), /batch must be a whole number ≥ 1, got 0/);
  assert.throws(bad({ lr: 0 }), /lr must be a number > 0, got 0/);
  assert.throws(bad({ momentum: -1 }), /momentum must be a number ≥ 0/);
  assert.throws(bad({ steps: 1.5 }), /steps must be a whole number ≥ 1, got 1.5/);
  assert.throws(bad({ rng: 'dice' as never }), /rng must be torch or mlp-lens/);
  // deeper than a checkpoint or model.safetensors can hold
  assert.throws(bad({ sizes: [784, ...Array(65).fill(4), 10] }), /--hidden: at most 64 hidden layers, got 65/);
  assert.not.throws(bad({ sizes: [784, ...Array(64).fill(4), 10] }));
  assert.throws(() => prepareSession({ ...quick, sizes: [100, 10] }, mnist, cpu), (e: unknown) => e instanceof ConfigError && /takes 100 inputs; the images have 784 pixels/.test((e as Error).message));
  const other = Mlp.init([784, 8, 10], createRng('torch', 1));
  const layers = other.layers.map((l, k) => ({ W: l.W.data() as Float32Array, b: l.b.data() as Float32Array, dIn: other.sizes[k], dOut: other.sizes[k + 1] }));
  assert.throws(() => prepareSession(quick, mnist, cpu, { init: { layers, norms: [], file: 'small.safetensors' } }),
    (e: unknown) => e instanceof InputError && /small.safetensors: holds a 784-8-10 model; this run is 784-32-16-10 \(set --hidden 8\)/.test((e as Error).message));
});

t.run();
