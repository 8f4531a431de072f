// engine/threads.ts: a function called on the helper thread gives what it gives here, errors come back with
// their message, a module the worker cannot load runs here instead, MLP_LENS_THREADS=1 keeps every call
// here. Runs under Node (worker_threads) and Deno (Web Workers).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { answer, provideTaskModules } from '../../engine/thread-entry.ts';
import { HelperThread, shareable, taskModule } from '../../engine/threads.ts';
import { exits, fails, handedBytes, lastHandedLength, onWorker, sharedSum, sumOfSquares } from '../helpers/thread-task.ts';

const t = suite('engine/threads');
const url = taskModule(import.meta.url, '../helpers/thread-task');

t('a call runs on the worker and returns what the function returns here', async () => {
  const h = new HelperThread(true);
  try {
    assert.is(await h.call({ url, fn: 'onWorker', local: onWorker }, []), true);
    assert.is(await onWorker(), false);
    const x = Float32Array.from({ length: 65 }, (_, i) => Math.sin(i));
    const there = await h.call({ url, fn: 'sumOfSquares', local: sumOfSquares }, [x]);
    assert.is(there.sum, sumOfSquares(x).sum);
    assert.instance(there.echo, Float32Array);
    assert.equal(Array.from(there.echo), Array.from(x));
    assert.is(h.fallback, null);
  } finally {
    await h.close();
  }
});

t('a module a bundle provides (bench/node-bundle.mjs) answers by its URL, with nothing imported', async () => {
  const where = 'file:///nowhere/provided.ts', posted: unknown[] = [];
  provideTaskModules({ [where]: { twice: (x: number) => 2 * x } });
  await answer({ id: 7, url: where, fn: 'twice', args: [21] }, (m) => posted.push(m));
  await answer({ id: 8, url: 'file:///nowhere/else.ts', fn: 'twice', args: [1] }, (m) => posted.push(m));
  assert.equal(posted[0], { id: 7, ok: true, result: 42 });
  assert.is((posted[1] as { loading: boolean }).loading, true, 'any other URL is imported (and here fails to load)');
});

t('calls run in the order made; an error thrown there comes back with its message', async () => {
  const h = new HelperThread(true);
  try {
    const xs = [1, 2, 3].map((n) => new Float32Array([n]));
    const sums = await Promise.all(xs.map((x) => h.call({ url, fn: 'sumOfSquares', local: sumOfSquares }, [x])));
    assert.equal(sums.map((s) => s.sum), [1, 4, 9]);
    let message = '';
    try { await h.call({ url, fn: 'fails', local: fails }, ['no such layer']); } catch (e) { message = (e as Error).message; }
    assert.is(message, 'no such layer');
    // the worker is still there after a failed call
    assert.is(await h.call({ url, fn: 'onWorker', local: onWorker }, []), true);
  } finally {
    await h.close();
  }
});

t('a module the worker cannot load: the call runs here, and so do later ones', async () => {
  const h = new HelperThread(true);
  try {
    const r = await h.call({ url: taskModule(import.meta.url, '../helpers/no-such-module'), fn: 'onWorker', local: onWorker }, []);
    assert.is(r, false);
    assert.match(h.fallback ?? '', /cannot load .*no-such-module/);
    assert.is(await h.call({ url, fn: 'onWorker', local: onWorker }, []), false);
  } finally {
    await h.close();
  }
});

t('shareable: an equal copy in a SharedArrayBuffer, which a call hands over without copying; a plain array arrives copied', async () => {
  const x = Float64Array.from({ length: 63 }, (_, i) => Math.cos(i));
  const s = shareable(x);
  assert.instance(s, Float64Array);
  assert.instance(s.buffer, SharedArrayBuffer);
  assert.equal(Array.from(s), Array.from(x));
  assert.is(shareable(s), s, 'already shared: itself');
  const h = new HelperThread(true);
  try {
    const task = { url, fn: 'sharedSum', local: sharedSum };
    const plain = await h.call(task, [x]), there = await h.call(task, [s]);
    assert.equal(plain, { shared: false, sum: sharedSum(x).sum });
    assert.equal(there, { shared: true, sum: sharedSum(x).sum });
    assert.is(h.fallback, null);
  } finally {
    await h.close();
  }
});

t('handOver: a result\'s marked buffer is handed over (detached on the worker), the same bytes here; a call here keeps it', async () => {
  const h = new HelperThread(true);
  try {
    const r = await h.call({ url, fn: 'handedBytes', local: handedBytes }, [65]);
    assert.equal(Array.from(r.bytes), Array.from({ length: 65 }, (_, i) => i));
    assert.is(await h.call({ url, fn: 'lastHandedLength', local: lastHandedLength }, []), 0, 'detached where it was made');
    assert.is(h.fallback, null);
  } finally {
    await h.close();
  }
  const here = handedBytes(3);
  assert.is(here.bytes.byteLength, 3);
  assert.is(lastHandedLength(), 3, 'no worker: nothing handed over');
});

// (Node: a worker's process.exit stops that worker alone; a Web Worker has no exit to watch)
if (typeof (globalThis as { Deno?: unknown }).Deno === 'undefined') {
  t('a worker that stops without an error: its unanswered calls and later ones run here', async () => {
    const h = new HelperThread(true);
    try {
      assert.is(await h.call({ url, fn: 'onWorker', local: onWorker }, []), true);
      // a call queued behind the one that stops the worker is unanswered too; a transfer list makes a call
      // that cannot run here again (its buffer went with the message), so it fails with the stop
      const message = (p: Promise<unknown>) => p.then(() => '', (e: Error) => e.message);
      const stopping = message(h.call({ url, fn: 'exits', local: exits }, [3]));
      const behind = h.call({ url, fn: 'onWorker', local: onWorker }, []);
      const x = Float32Array.of(1, 2);
      const handed = message(h.call({ url, fn: 'sumOfSquares', local: sumOfSquares }, [x], [x.buffer]));
      // (exits, run here, refuses the main thread)
      assert.is(await stopping, 'exits: not on a worker');
      assert.is(await behind, false, 'run here');
      assert.is(await handed, 'it stopped (exit code 3)');
      assert.is(h.fallback, 'the helper thread failed: it stopped (exit code 3)');
      assert.is(await h.call({ url, fn: 'onWorker', local: onWorker }, []), false, 'later calls run here');
    } finally {
      await h.close();
    }
  });
}

t('threads off (MLP_LENS_THREADS=1): every call runs here', async () => {
  const h = new HelperThread(false);
  assert.is(await h.call({ url, fn: 'onWorker', local: onWorker }, []), false);
  assert.is(h.fallback, 'MLP_LENS_THREADS=1');
  await h.close();
});

t.run();
