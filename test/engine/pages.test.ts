// engine/pages.ts touchPages: every page of a shared buffer written once by an atomic 0 → 0 exchange, so
// no value changes — not one written before, nor one another thread writes meanwhile (a worker fills the
// buffer while this thread touches it). mlp/recorder.ts: a 'double' recorder's sets made by prepare(),
// the shared memory it reports, and the records it gives are those of a recorder without prepare().
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { touchPages } from '../../engine/pages.ts';
import { Recorder } from '../../mlp/recorder.ts';

test('values stay: written before, and written by a worker meanwhile', async () => {
  const sizes = [1, 4095, 4096, 4097, 3 * 4096 + 12, 1 << 22];
  const buffers = sizes.map((n) => new SharedArrayBuffer(n));
  const bytes = buffers.map((b) => new Uint8Array(b));
  bytes.forEach((a, k) => { for (let i = 0; i < a.length; i += 1000) a[i] = (i + k) % 251 || 1; });
  const before = bytes.map((a) => Array.from(a));
  assert.ok(touchPages(buffers) >= 0);
  bytes.forEach((a, k) => assert.equal(Array.from(a), before[k], `buffer of ${sizes[k]} bytes`));

  // a worker writes every word of a fresh buffer while this thread touches it: every word keeps its value
  const big = new SharedArrayBuffer(1 << 24), words = new Int32Array(big);
  const { Worker } = await import('node:worker_threads');
  const worker = new Worker(`const { parentPort } = require('node:worker_threads');
    parentPort.on('message', (b) => { const w = new Int32Array(b); for (let i = 0; i < w.length; i++) w[i] = i + 1; parentPort.postMessage('done'); });`, { eval: true });
  const done = new Promise((r) => worker.once('message', r));
  worker.postMessage(big);
  touchPages([big]);
  await done;
  await worker.terminate();
  let wrong = 0;
  for (let i = 0; i < words.length; i++) if (words[i] !== i + 1) wrong++;
  assert.is(wrong, 0, 'no value written by the worker was changed');
});

test('a double recorder: prepare() makes both sets, their shared memory is reported, records are the same', () => {
  const opts = { names: ['layers.0.post', 'logits'] as const, widths: { 'layers.0.post': 3, logits: 2 }, count: 5, steps: 2, reuseSlots: 'double' as const };
  const fill = (r: Recorder) => {
    const out: string[] = [];
    for (let e = 0; e < 3; e++) {
      r.beginEpoch(e);
      r.recordRows(0, Uint8Array.of(e, 1, 2), Uint32Array.of(4, 3, 2));
      const rec = (r as unknown as { rec: { labels: Uint8Array; acts: object } }).rec;
      out.push(JSON.stringify({ labels: Array.from(rec.labels), acts: Object.keys(rec.acts) }));
    }
    return out;
  };
  const a = new Recorder({ ...opts, names: [...opts.names] });
  assert.equal(a.sharedBuffers(), [], 'nothing before prepare');
  a.prepare();
  const shared = a.sharedBuffers();
  // per set: labels, indices, 2 activation and 2 gradient slots
  assert.is(shared.length, 2 * 6);
  assert.ok(shared.every((b) => b instanceof SharedArrayBuffer));
  const b = new Recorder({ ...opts, names: [...opts.names] });
  assert.equal(fill(a), fill(b));
  assert.is(a.sharedBuffers().length, 12, 'no more sets made');
  const single = new Recorder({ ...opts, names: [...opts.names], reuseSlots: true });
  single.prepare();
  single.beginEpoch(0);
  assert.equal(single.sharedBuffers(), [], 'a single-set recorder keeps ordinary memory');
});

test.run();
