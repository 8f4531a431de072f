// the page's play / pause / step / reset (issue 18), in headless Chromium on the page's CPU backend: a run
// paused after epoch 1, stepped one epoch and played to the end gives the same model.safetensors, byte for
// byte, as the uninterrupted run of the same settings (the worker continues from the session's checkpoint:
// weights, momentum, generator state, history). The buttons' states, the settings locked while paused and
// unlocked by Reset. MLP_LENS_WEB_SHOTS=DIR saves a screenshot of the paused state there. Skips, saying
// why, where /usr/bin/chromium is missing (a failure under MLP_LENS_REQUIRE_CHROMIUM=1).
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { WebServer } from '../../web/server.ts';
import { chromiumMissing, servePage, launchChromium, collectErrors, lensOf } from '../helpers/web-page.ts';

const tmp = mkdtempSync(join(tmpdir(), 'mlp-lens-pause-'));
const shots = process.env.MLP_LENS_WEB_SHOTS;
const secs = (t0: number) => ((performance.now() - t0) / 1000).toFixed(1);
let server: WebServer | undefined;

test('pause, step and play give the uninterrupted run\'s weights (CPU backend); reset unlocks the settings', async () => {
  if (chromiumMissing()) return;
  const tStart = performance.now();
  server = await servePage(tmp);
  if (shots) mkdirSync(shots, { recursive: true });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    const errors = collectErrors(page);
    const lens = lensOf(page);
    const enabled = async () => {
      const out: Record<string, boolean> = {};
      for (const id of ['train', 'pause', 'play', 'step', 'reset', 'stop']) out[id] = await page.isEnabled(`#${id}`);
      return out;
    };
    const modelBytes = async () => {
      const [d] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), page.click('#dl-model')]);
      assert.is(d.suggestedFilename(), 'model.safetensors');
      return readFileSync((await d.path())!);
    };
    const finished = async () => {
      await page.waitForFunction('window.mlpLens.model || window.mlpLens.errors.length', null, { timeout: 60_000 });
      assert.equal(await lens<string[]>('errors'), [], 'no error on the page');
    };
    const pausedAfter = async (epoch: number) => {
      await page.waitForFunction(`window.mlpLens.paused?.epoch === ${epoch} || window.mlpLens.errors.length`, null, { timeout: 60_000 });
      assert.equal(await lens<string[]>('errors'), []);
      await page.waitForFunction(`!window.mlpLens.training`, null, { timeout: 10_000 });
    };

    // 3 epochs × 20 steps of the reference MLP on the CPU
    await page.goto(`${server.url}?device=cpu&epochs=3&steps=20`);
    await page.waitForSelector('body[data-ready="1"]', { timeout: 60_000 });
    assert.equal(await enabled(), { train: true, pause: false, play: false, step: true, reset: false, stop: false }, 'untrained: Train or Step');

    // the uninterrupted run
    let t0 = performance.now();
    await page.click('#train');
    await finished();
    const whole = await modelBytes();
    const wholeHistory = await lens<{ trainLoss: number; testAccuracy: number }[]>('model.history');
    assert.is(wholeHistory.length, 3);
    assert.equal(await enabled(), { train: true, pause: false, play: false, step: true, reset: true, stop: false }, 'done: Reset applies');
    console.log(`  uninterrupted: 3 × 20 steps in ${secs(t0)} s`);

    // Reset: the untrained state
    await page.click('#reset');
    await page.waitForFunction('!window.mlpLens.model && !document.getElementById("cfg-epochs").disabled', null, { timeout: 10_000 });
    assert.ok(await page.isHidden('#explorer') && await page.isHidden('#downloads') && await page.isHidden('#progress-line'), 'no model left on the page');
    assert.is(await page.getAttribute('#run-controls', 'data-state'), 'idle');
    assert.is(await page.$$eval('#epochs tbody tr', (r) => r.length), 0);

    // paused after epoch 1: Pause asked with Train (it applies at the first epoch's end)
    t0 = performance.now();
    await page.evaluate(() => { document.getElementById('train')!.click(); document.getElementById('pause')!.click(); });
    await pausedAfter(0);
    assert.equal(await enabled(), { train: false, pause: false, play: true, step: true, reset: true, stop: false }, 'paused: Play, Step or Reset');
    assert.ok(await page.isDisabled('#cfg-epochs') && await page.isDisabled('#cfg-hidden'), 'settings locked while paused');
    assert.match(await page.textContent('#cfg-locked') ?? '', /locked while the run is paused/);
    assert.ok(await page.isVisible('#cfg-locked'));
    assert.match(await page.textContent('#progress-text') ?? '', /paused after epoch 1 of 3/);
    assert.is(await page.getAttribute('#run-controls', 'data-state'), 'paused');
    assert.is(await page.$$eval('#epochs tbody tr', (r) => r.length), 1);
    await page.waitForSelector('#chart-curves[data-epochs="1"]', { timeout: 30_000 });
    assert.ok(await page.getByRole('button', { name: /^Play/ }).isEnabled(), 'Play has an accessible name');
    if (shots) {
      await page.$eval('#config', (el) => el.scrollIntoView({ block: 'start' }));
      await page.screenshot({ path: join(shots, 'paused-1280.png') });
    }
    // Step: one more epoch, paused again
    await page.click('#step');
    await pausedAfter(1);
    assert.match(await page.textContent('#progress-text') ?? '', /paused after epoch 2 of 3/);
    assert.is(await page.$$eval('#epochs tbody tr', (r) => r.length), 2);
    // Play: to the end
    await page.click('#play');
    await finished();
    const resumed = await modelBytes();
    const history = await lens<{ trainLoss: number; testAccuracy: number }[]>('model.history');
    assert.equal(history.map((h) => [h.trainLoss, h.testAccuracy]), wholeHistory.map((h) => [h.trainLoss, h.testAccuracy]), 'the same metrics every epoch');
    assert.ok(whole.length > 50_000 && resumed.equals(whole), `model.safetensors: the same ${whole.length} bytes after pause, step and play`);
    assert.is(await page.$$eval('#epochs tbody tr', (r) => r.length), 3, 'the table went on');
    assert.is(await page.getAttribute('#chart-curves', 'data-epochs'), '3', 'the curves went on');
    assert.match(await page.textContent('#progress-text') ?? '', /done: 3 epochs/);
    assert.ok(await page.isEnabled('#cfg-epochs'), 'settings unlocked when the run completes');
    assert.equal(errors, [], 'no console error or page error');
    console.log(`  paused after epoch 1, stepped, played: the same ${whole.length} bytes of model.safetensors (${secs(t0)} s); in all ${secs(tStart)} s`);
  } finally {
    await browser.close();
  }
});

test.after(async () => {
  await server?.close();
  rmSync(tmp, { recursive: true, force: true });
});

test.run();
