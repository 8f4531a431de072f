// run/through-training.ts throughTrainingOnThread / throughTrainingOn: the analyses through training as
// one call with plain inputs on the helper thread write the same through-training.json and tables, byte
// for byte (timings aside), as analyzeRunThroughTraining on this thread, log the same lines, and an error
// comes back with its code, syscall and path (what run/run.ts fileProblem reads). On the fixture's
// snapshots (784-8-6-10, init and epochs 0–2) and 20 test images per class.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Split } from '../../mlp/mnist.ts';
import { loadMnist } from '../../run/mnist-files.ts';
import { analyzeRunThroughTraining, throughTrainingOn, throughTrainingOnThread } from '../../run/through-training.ts';
import { HelperThread } from '../../engine/threads.ts';
import { writeFixtureSnapshots, throughTrainingFiles as files } from '../analysis/through-training-fixture.ts';

const tmp = mkdtempSync(join(tmpdir(), 'mlp-lens-tt-thread-'));
const run = join(tmp, 'run');
let split: Split;
const opts = { perClass: 20, probeIterations: 10 };

test.before(async () => {
  await writeFixtureSnapshots(run);
  split = (await loadMnist()).test;
});
test.after(() => rmSync(tmp, { recursive: true, force: true }));


test('on the helper thread: the same files and lines as on this thread', async () => {
  const here: string[] = [], there: string[] = [];
  await analyzeRunThroughTraining(run, { test: split }, { ...opts, out: join(tmp, 'here'), log: (l) => here.push(l) });
  const h = new HelperThread(true);
  try {
    const r = await throughTrainingOn(h, run, split, { ...opts, out: join(tmp, 'there'), log: (l) => there.push(l), warn: (l) => there.push(`warn ${l}`) });
    assert.is(h.fallback, null, 'it ran on the helper thread');
    assert.ok(r.written && !r.error && r.seconds > 0);
  } finally {
    await h.close();
  }
  const strip = (ls: string[]) => ls.map((l) => l.replace(/[\d.]+ s; findings:$/, 'T s; findings:').replace(/\/(here|there)\b/g, '/OUT'));
  assert.equal(strip(there), strip(here));
  assert.equal(files(join(tmp, 'there')), files(join(tmp, 'here')));
});

test('a data folder instead of the split; fewer than 2 snapshots: a warning line, nothing written', async () => {
  const r = await throughTrainingOnThread(run, {}, { ...opts, out: join(tmp, 'package') });
  assert.ok(r.written && !r.error);
  assert.equal(files(join(tmp, 'package')), files(join(tmp, 'here')));
  const empty = join(tmp, 'empty');
  const e = await throughTrainingOnThread(empty, split, opts);
  assert.is(e.written, false);
  assert.is(e.lines.length, 1);
  assert.ok(e.lines[0].warn && /no analyses through training/.test(e.lines[0].text), e.lines[0].text);
});

test('an error comes back with its code, syscall and path, and throughTrainingOn throws it so', async () => {
  const blocker = join(tmp, 'a-file');
  writeFileSync(blocker, 'not a folder');
  const r = await throughTrainingOnThread(run, split, { ...opts, out: join(blocker, 'out') });
  assert.ok(r.error, 'an error');
  assert.is(r.error!.code, 'ENOTDIR');
  assert.ok(typeof r.error!.syscall === 'string' && r.error!.path?.includes('a-file'), JSON.stringify(r.error));
  let thrown: (Error & { code?: string }) | undefined;
  try {
    await throughTrainingOn(new HelperThread(false), run, split, { ...opts, out: join(blocker, 'out') });
  } catch (e) {
    thrown = e as Error & { code?: string };
  }
  assert.instance(thrown, Error);
  assert.is(thrown!.code, 'ENOTDIR');
  assert.is(thrown!.message, r.error!.message);
});

test.run();
