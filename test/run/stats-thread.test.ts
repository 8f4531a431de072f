// run/session.ts with a statistics thread: each epoch's statistics computed on the helper thread
// (engine/threads.ts) while the next epoch trains give the same files, byte for byte, as computed inline
// (no thread, or MLP_LENS_THREADS=1's fallback), and the sink gets the same calls in the same order with
// the same checkpoints; a failure in the statistics surfaces from trainSession with every earlier epoch
// saved; an aborted run saves the epoch it stops at; a sink that only writes the files gets their bytes
// alone. Runs under Node (worker_threads) and Deno (Web Workers).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { cpu } from '../../engine/cpu.ts';
import type { Checkpoint } from '../../mlp/checkpoint.ts';
import { loadMnist } from '../../run/mnist-files.ts';
import { prepareSession, REFERENCE_SETTINGS, type RunSink, type SessionResult, type StatsThread, trainSession, type TrainSettings } from '../../run/session.ts';
import { HelperThread, taskModule } from '../../engine/threads.ts';
import { fails } from '../helpers/thread-task.ts';

const t = suite('run/session: statistics on the helper thread');
const mnist = await loadMnist();
const quick: TrainSettings = { ...REFERENCE_SETTINGS, epochs: 3, steps: 20 };

interface Seen { calls: string[]; stats: string[]; files: (string | undefined)[]; checkpoints: Checkpoint[]; result: SessionResult }

/** a run of `settings` with a recording sink; `statsThread` as given */
async function run(settings: TrainSettings, statsThread?: StatsThread, extra: RunSink = {}): Promise<Seen> {
  const calls: string[] = [], stats: string[] = [], files: (string | undefined)[] = [], checkpoints: Checkpoint[] = [];
  const session = prepareSession(settings, mnist, cpu);
  const result = await trainSession(session, {
    epochStats: (s, file) => { calls.push(`stats ${s.epoch}`); stats.push(JSON.stringify(s)); files.push(file && new TextDecoder().decode(file)); },
    checkpoint: (c) => { calls.push(`checkpoint ${c.epoch} ${c.history.length}`); checkpoints.push(c); },
    snapshot: (e) => { calls.push(`snapshot ${e}`); },
    epochDone: (row, history) => { calls.push(`done ${row.epoch} ${history.length}`); },
    ...extra,
  }, { onEpochSaved: (e) => calls.push(`saved ${e}`) }, { statsThread });
  return { calls, stats, files, checkpoints, result };
}

const bytes = (c: Checkpoint) => JSON.stringify({
  epoch: c.epoch, rng: c.rng, layers: c.layers.map((l) => [Array.from(l.W), Array.from(l.b)]),
  velocity: c.velocity.map((v) => v && Array.from(v)), history: c.history.map((h) => [h.epoch, h.trainLoss, h.testLoss]),
});

t('the statistics, checkpoints and the order of the sink calls are those of the inline run', async () => {
  const inline = await run(quick);
  const helper = new HelperThread(true), here = new HelperThread(false);
  try {
    const threaded = await run(quick, helper);
    assert.is(helper.fallback, null, 'the statistics ran on the worker');
    assert.ok(threaded.files.every((f) => f !== undefined), 'the worker made the files\' bytes');
    const fallback = await run(quick, here);
    for (const other of [threaded, fallback]) {
      assert.equal(other.calls, inline.calls);
      assert.is(other.stats.length, 3);
      other.stats.forEach((s, e) => assert.ok(s === inline.stats[e], `epoch ${e}: the statistics file differs`));
      // the file's bytes made where the statistics are (the sink writes them as they are): the JSON and a newline
      other.files.forEach((f, e) => assert.ok(f === undefined || f === inline.stats[e] + '\n', `epoch ${e}: the file's bytes are not the statistics' JSON`));
      other.checkpoints.forEach((c, e) => assert.is(bytes(c), bytes(inline.checkpoints[e]), `checkpoint ${e}`));
      assert.equal(other.result.history.map((r) => r.testLoss), inline.result.history.map((r) => r.testLoss));
    }
    assert.equal(inline.calls.slice(0, 5), ['snapshot -1', 'stats 0', 'checkpoint 0 1', 'snapshot 0', 'done 0 1']);
    for (const r of threaded.result.history) {
      assert.ok(r.statsSeconds! > 0 && r.statsWaitSeconds! >= 0 && r.wallSeconds! > 0, `epoch ${r.epoch}: timings ${JSON.stringify(r)}`);
    }
  } finally {
    await helper.close();
    await here.close();
  }
});

t('a sink that writes only the file (epochStatsFile): the same bytes, in the same order, and no statistics object', async () => {
  const inline = await run(quick);
  const helper = new HelperThread(true);
  try {
    const files: string[] = [];
    const threaded = await run(quick, helper, {
      epochStatsFile: (epoch, file) => { files.push(`${epoch} ${new TextDecoder().decode(file)}`); },
    });
    assert.is(helper.fallback, null, 'on the worker');
    assert.equal(threaded.stats, [], 'epochStats is not called');
    assert.equal(files, inline.stats.map((s, e) => `${e} ${s}\n`));
    assert.equal(threaded.calls.filter((c) => !c.startsWith('stats')), inline.calls.filter((c) => !c.startsWith('stats')));
    for (const r of threaded.result.history) assert.ok(r.statsSeconds! > 0 && r.statsWaitSeconds! >= 0, `epoch ${r.epoch}: timings`);
    // without a helper thread it is epochStats that is called (the statistics are here anyway)
    const here = await run(quick, undefined, { epochStatsFile: () => { throw new Error('not without a helper'); } });
    assert.equal(here.stats, inline.stats);
  } finally {
    await helper.close();
  }
});

t('a failure in the statistics on the helper thread is thrown from trainSession, the epochs before it saved', async () => {
  const helper = new HelperThread(true);
  const url = taskModule(import.meta.url, '../helpers/thread-task');
  let calls = 0;
  // the real statistics for epoch 0 (and the warm-up call), a function that throws on the worker for epoch 1
  const flaky: StatsThread = {
    call: ((task: Parameters<HelperThread['call']>[0], args: unknown[]) => {
      const epoch = (args[0] as { epoch: number; count: number });
      if (epoch.count > 0 && calls++ === 1) return helper.call({ url, fn: 'fails', local: fails }, ['statistics of epoch 1 failed']);
      return helper.call(task, args);
    }) as HelperThread['call'],
  };
  const done: number[] = [];
  try {
    let message = '';
    await run(quick, flaky, { epochDone: (row) => { done.push(row.epoch); } }).catch((e: Error) => { message = e.message; });
    assert.is(message, 'statistics of epoch 1 failed');
    assert.equal(done, [0]);
  } finally {
    await helper.close();
  }
});

t('an aborted run saves the epoch it stops at, its statistics included', async () => {
  const helper = new HelperThread(true);
  const stop = new AbortController();
  const seen: string[] = [];
  try {
    const session = prepareSession(quick, mnist, cpu);
    const r = await trainSession(session, {
      epochStats: (s) => { seen.push(`stats ${s.epoch}`); },
      epochDone: (row) => { seen.push(`done ${row.epoch}`); },
    }, {
      onStep: ({ epoch, step }) => { if (epoch === 1 && step === 5) stop.abort(); },
      signal: stop.signal,
    }, { statsThread: helper });
    assert.is(r.cancelled, true);
    assert.equal(seen, ['stats 0', 'done 0', 'stats 1', 'done 1']);
  } finally {
    await helper.close();
  }
});

t.run();
