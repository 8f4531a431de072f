// mlp/recorder.ts with reuseSlots 'double': two sets of host slots in turn, on SharedArrayBuffer, so an
// epoch's record stays intact while the next epoch records (run/session.ts computes its statistics on
// a helper thread meanwhile); the epoch after next writes into the first set again.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../engine/tensor.ts';
import type { Acts } from '../../mlp/model.ts';
import { Recorder } from '../../mlp/recorder.ts';

const t = suite('recorder: two sets of slots in turn');

/** one epoch of two batches of 2 rows, every value `v` */
async function epoch(rec: Recorder, e: number, v: number) {
  rec.beginEpoch(e);
  for (const offset of [0, 2]) {
    const logits = Tensor.from([v, v, v, v], [2, 2]);
    rec.recordBatch(offset, { logits } as Acts, [e, e], [offset, offset + 1]);
  }
  return rec.endEpoch();
}

t("a record is left alone by the next epoch and reused by the one after; its arrays are shared memory", async () => {
  const rec = new Recorder({ names: ['logits'], widths: { logits: 2 }, count: 4, grads: false, reuseSlots: 'double' });
  const r0 = await epoch(rec, 0, 1);
  const r1 = await epoch(rec, 1, 2);
  assert.equal(Array.from(r0.acts.logits!.data), [1, 1, 1, 1, 1, 1, 1, 1], 'epoch 0 intact while epoch 1 recorded');
  assert.equal(Array.from(r0.labels), [0, 0, 0, 0]);
  assert.equal(Array.from(r1.acts.logits!.data), [2, 2, 2, 2, 2, 2, 2, 2]);
  assert.ok(r0.acts.logits!.data.buffer !== r1.acts.logits!.data.buffer, 'two sets');
  assert.instance(r0.acts.logits!.data.buffer, SharedArrayBuffer);
  assert.instance(r0.labels.buffer, SharedArrayBuffer);
  const r2 = await epoch(rec, 2, 3);
  assert.is(r2.acts.logits!.data.buffer, r0.acts.logits!.data.buffer, 'epoch 2 writes into epoch 0\'s set');
  assert.equal(Array.from(r1.acts.logits!.data), [2, 2, 2, 2, 2, 2, 2, 2], 'epoch 1 intact while epoch 2 recorded');
  // one set (reuseSlots: true): the next epoch writes into the same arrays
  const one = new Recorder({ names: ['logits'], widths: { logits: 2 }, count: 4, grads: false, reuseSlots: true });
  const a = await epoch(one, 0, 1), b = await epoch(one, 1, 2);
  assert.is(a.acts.logits!.data.buffer, b.acts.logits!.data.buffer);
  assert.instance(a.acts.logits!.data.buffer, ArrayBuffer);
});

t.run();
