// run/through-training.ts SnapshotMeasurer: snapshots measured on the helper thread as a run writes them
// give the same through-training.json and tables, byte for byte (timings aside), as measuring them all
// at the end; measurements on another sample are not used; nothing is measured once it is stopped, and
// nothing on the calling thread when the helper has no worker. engine/threads.ts HelperThread.idle: it
// waits for the calls in flight. On the fixture's snapshots (784-8-6-10, init and epochs 0–2). The centred
// activations come back in shared memory.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HelperThread, taskModule } from '../../engine/threads.ts';
import type { Split } from '../../mlp/mnist.ts';
import { Mlp } from '../../mlp/model.ts';
import { loadMnist } from '../../run/mnist-files.ts';
import { loadSnapshot } from '../../run/snapshots.ts';
import { analyzeRunThroughTraining, SnapshotMeasurer } from '../../run/through-training.ts';
import { fixtureLayers, TT_EPOCHS, writeFixtureSnapshots, throughTrainingFiles as files } from '../analysis/through-training-fixture.ts';

const tmp = mkdtempSync(join(tmpdir(), 'mlp-lens-measurer-'));
const run = join(tmp, 'run');
let split: Split;
const opts = { perClass: 20, probeIterations: 10 };

test.before(async () => {
  await writeFixtureSnapshots(run);
  split = (await loadMnist()).test;
});
test.after(() => rmSync(tmp, { recursive: true, force: true }));


const model = () => Mlp.fromParams(fixtureLayers(0));

test('measured on the helper as they come: the same files as measured at the end', async () => {
  await analyzeRunThroughTraining(run, { test: split }, { ...opts, out: join(tmp, 'end') });
  const h = new HelperThread(true);
  try {
    const m = new SnapshotMeasurer(h, run, split, opts);
    // the last epoch is left out: the end measures what the measurer did not
    for (const e of TT_EPOCHS.slice(0, -1)) m.saved(e, model());
    await m.drained();
    const done = await m.stop();
    assert.equal(done.map((d) => d.analysis.epoch), TT_EPOCHS.slice(0, -1), 'each saved snapshot measured once, in order');
    assert.is(h.fallback, null, 'on the helper thread');
    // (handed back, and on to the end's helper, without a copy)
    assert.ok(done.every((d) => d.reps.every((c) => c.cols.buffer instanceof SharedArrayBuffer)), 'centred activations in shared memory');
    await analyzeRunThroughTraining(run, { test: split }, { ...opts, out: join(tmp, 'early'), done });
    assert.equal(files(join(tmp, 'early')), files(join(tmp, 'end')));
  } finally {
    await h.close();
  }
});

test('measurements are what the end would compute: another sample\'s are not used', async () => {
  const h = new HelperThread(true);
  try {
    const m = new SnapshotMeasurer(h, run, split, { ...opts, perClass: 7 });
    for (const e of TT_EPOCHS) m.saved(e, model());
    await m.drained();
    const done = await m.stop();
    assert.is(done.length, TT_EPOCHS.length);
    // a measurement of epoch 0 on the fixture's snapshot is that of the snapshot loaded here
    const { analyzeSnapshot, throughTrainingSample } = await import('../../analysis/through-training.ts');
    const s = throughTrainingSample(model(), split, { ...opts, perClass: 7 });
    const here = await analyzeSnapshot(s, 0, (await loadSnapshot(run, 0)).model);
    const there = done.find((d) => d.analysis.epoch === 0)!;
    assert.equal(there.analysis, here.analysis);
    assert.equal(Array.from(there.reps[1].cols), Array.from(here.reps[1].cols));
    // given to an end on the default sample size they are ignored: the files are the end's own
    await analyzeRunThroughTraining(run, { test: split }, { ...opts, out: join(tmp, 'other'), done });
    assert.equal(files(join(tmp, 'other')), files(join(tmp, 'end')));
  } finally {
    await h.close();
  }
});

test('stopped: later snapshots are not measured; no worker: nothing is measured on this thread', async () => {
  const h = new HelperThread(true);
  try {
    const m = new SnapshotMeasurer(h, run, split, opts);
    assert.equal(await m.stop(), []);
    m.saved(0, model());
    assert.equal(await m.stop(), [], 'nothing after stop');
  } finally {
    await h.close();
  }
  const none = new HelperThread(false);
  const m = new SnapshotMeasurer(none, run, split, opts);
  for (const e of TT_EPOCHS) m.saved(e, model());
  await m.drained();
  assert.equal(await m.stop(), [], 'MLP_LENS_THREADS=1: left to the end');
});

test('HelperThread.idle: at once with nothing in flight, else when the last call settles', async () => {
  const h = new HelperThread(true);
  try {
    await h.idle();
    const url = taskModule(import.meta.url, '../../run/snapshots');
    let answered = false, idle = false;
    const call = h.call({ url, fn: 'describeEpochs', local: (e: number[]) => `local ${e}` }, [[-1, 0, 1]]).then((r) => { answered = true; return r; });
    const waited = h.idle().then(() => { idle = true; });
    // a fresh worker cannot have started and answered within one turn of the event loop
    await new Promise((r) => setTimeout(r, 0));
    assert.is(idle, false, 'not idle while the call is in flight');
    assert.is(await call, 'the initial weights and epochs 0–1');
    await waited;
    assert.ok(answered && idle);
  } finally {
    await h.close();
  }
});

test.run();
