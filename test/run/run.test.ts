// run/run.ts: the main job as a library call — the run directory it writes, its lines, and cancellation
// through an AbortSignal: the cancelled run says so in metrics.json and, resumed, ends with the same
// model bytes as a run that was never stopped.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadMnist } from '../../run/mnist-files.ts';
import { analyzeSaved, atEpochDir, runInDirectory, type RunOptions } from '../../run/run.ts';
import { listSnapshots, loadSnapshot } from '../../run/snapshots.ts';
import { createRng } from '../../engine/rng.ts';
import { Mlp } from '../../mlp/model.ts';
import { REFERENCE_SETTINGS } from '../../run/session.ts';

const t = suite('run/run: runInDirectory');
const mnist = await loadMnist();
const root = mkdtempSync(join(tmpdir(), 'mlp-lens-run-'));
const options = (out: string): RunOptions => ({
  ...REFERENCE_SETTINGS, epochs: 3, steps: 15, device: 'cpu', data: mnist, out: join(root, out), analysis: false, report: false,
});
const json = (dir: string, file: string) => JSON.parse(readFileSync(join(dir, file), 'utf8'));

t.after(() => rmSync(root, { recursive: true, force: true }));

t('onReportStart is heard once, after the model files and before report.html; not without a report', async () => {
  const seen: string[] = [];
  const dir = join(root, 'report-hook');
  await runInDirectory({ ...options('report-hook'), epochs: 1, steps: 3, report: true }, {
    onReportStart: () => seen.push(`${json(dir, 'metrics.json').status} ${existsSync(join(dir, 'report.html'))}`),
  });
  assert.equal(seen, ['done false']);
  assert.ok(existsSync(join(dir, 'report.html')));
  let heard = 0;
  await runInDirectory({ ...options('no-report-hook'), epochs: 1, steps: 3 }, { onReportStart: () => heard++ });
  assert.is(heard, 0);
});

t('writes the run directory and says what it does, line by line', async () => {
  const lines: string[] = [];
  const r = await runInDirectory(options('plain'), { log: (l) => lines.push(l) });
  assert.match(lines[0], /^mlp-lens: 784-32-16-10 on cpu \(fused step, .*\), 3 epochs, batch 64, lr 0.01, seed 31416 \(MT19937 .*\), recording on → .*plain$/);
  assert.equal(lines.slice(1, 4).map((l) => l.slice(0, 9)), ['epoch   0', 'epoch   1', 'epoch   2']);
  assert.match(lines[lines.length - 1], /^run directory: .*plain$/);
  assert.equal(readdirSync(r.dir).sort(), ['checkpoint.safetensors', 'config.json', 'metrics.json', 'model.safetensors', 'predictions.json', 'snapshots', 'stats', 'timings.json']);
  assert.equal(readdirSync(join(r.dir, 'snapshots')).sort(), ['epoch-000.safetensors', 'epoch-001.safetensors', 'epoch-002.safetensors', 'init.safetensors']);
  assert.equal(readdirSync(join(r.dir, 'stats')).sort(), ['epoch-000.json', 'epoch-001.json', 'epoch-002.json', 'input.json']);
  const m = json(r.dir, 'metrics.json');
  assert.is(m.status, 'done');
  assert.is(m.epochs.length, 3);
  assert.is(json(r.dir, 'config.json').fused, true);
});

t('an aborted signal ends the run after its epoch (status cancelled); resumed, it ends where an unstopped run does', async () => {
  const whole = await runInDirectory(options('whole'));
  const stop = new AbortController();
  const cut = await runInDirectory(options('cut'), { log: (l) => { if (l.startsWith('epoch   0 ')) stop.abort(); }, signal: stop.signal });
  assert.is(cut.cancelled, true);
  const m = json(cut.dir, 'metrics.json');
  assert.is(m.status, 'cancelled');
  assert.is(m.epochs.length, 1);
  const resumed = await runInDirectory({ ...options('ignored'), resume: { dir: cut.dir, data: undefined } , data: mnist });
  assert.is(resumed.dir, cut.dir);
  assert.is(json(cut.dir, 'metrics.json').status, 'done');
  assert.equal(json(cut.dir, 'metrics.json').epochs.map((e: { trainLoss: number }) => e.trainLoss), json(whole.dir, 'metrics.json').epochs.map((e: { trainLoss: number }) => e.trainLoss));
  assert.ok(readFileSync(join(cut.dir, 'model.safetensors')).equals(readFileSync(join(whole.dir, 'model.safetensors'))), 'same model bytes');
});

t('snapshots: the initial weights are the generator\'s, the last epoch\'s are the trained model\'s; analyze --epoch reads them', async () => {
  const r = await runInDirectory({ ...options('snap'), epochs: 2 });
  const init = await loadSnapshot(r.dir, -1), last = await loadSnapshot(r.dir, 1);
  const fresh = Mlp.init([784, 32, 16, 10], createRng('torch', 31416));
  assert.equal(Array.from(init.layers[0].W), Array.from(fresh.layers[0].W.data()));
  const trained = await r.model.export();
  trained.forEach((l, k) => assert.equal(Array.from(last.layers[k].W), Array.from(l.W), `layer ${k}`));
  assert.equal(await listSnapshots(r.dir), [-1, 0, 1]);
  const lines: string[] = [];
  await analyzeSaved(r.dir, { data: mnist, report: false, epochs: [-1, 0] }, { log: (l) => lines.push(l) });
  assert.ok(existsSync(join(atEpochDir(r.dir, -1), 'analysis', 'meta.json')) && existsSync(join(atEpochDir(r.dir, 0), 'analysis', 'meta.json')));
  assert.not.ok(existsSync(join(r.dir, 'analysis')), 'the trained model\'s analysis folder is left alone');
  const refused = await analyzeSaved(r.dir, { data: mnist, report: false, epochs: [5] }).then(() => 'ran', (e: Error) => e.message);
  assert.match(refused, /snapshots: has no snapshot of epoch 5: it holds the initial weights and epochs 0–1/);
  const none = await runInDirectory({ ...options('none'), epochs: 1, snapshots: false });
  assert.equal(await listSnapshots(none.dir), []);
});

t.run();
