// the page while it trains (issue 18): live points within an epoch, the first of them soon after Train,
// the page painting all along, and the adapter looked for at load. Headless Chromium with
// --enable-unsafe-webgpu (its SwiftShader adapter):
//  1. at load, before Train: the adapter is found and named beside the device field; SwiftShader is a
//     software adapter, so the device defaults to the CPU and the line says why (the URL and
//     localStorage keep no device: it is the machine's default); the quick preset on that default trains
//     with running points on the loss chart, the first within 3 s of the click (measured by the page, from
//     the click to the point drawn); after training the explorer answers for the default neuron by itself.
//  2. WebGPU asked for (?device=webgpu): trained on SwiftShader, running points read from the device (a few
//     an epoch, not one a step), and no gap between two frames (requestAnimationFrame, measured by the page,
//     web/src/frames.ts) over 250 ms from the first step to the last epoch's charts. Skipped, saying so,
//     where Chromium offers no adapter.
// The two timing bounds (3 s, 250 ms) are asserted on a machine that gives the test its cores, plus the delay
// this process's own event loop saw meanwhile (time no process got a core); where that delay was over
// 150 ms, or the load average is over twice the cores (a 2-core machine shared with busy processes), a
// missed bound is printed and skipped, saying so (MLP_LENS_STRICT_TIMING=1 fails any value over it).
// Skips where /usr/bin/chromium is missing (a failure under MLP_LENS_REQUIRE_CHROMIUM=1).
// MLP_LENS_WEB_SHOTS=DIR saves screenshots of each state there.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { WebServer } from '../../web/server.ts';
import { chromiumMissing, servePage, launchChromium, collectErrors, lensOf } from '../helpers/web-page.ts';
import { skipped } from '../helpers/skip.ts';

const tmp = mkdtempSync(join(tmpdir(), 'mlp-lens-live-'));
const shots = process.env.MLP_LENS_WEB_SHOTS;
if (shots) mkdirSync(shots, { recursive: true });
let server: WebServer | undefined;
const serve = async () => (server ??= await servePage(tmp));

/**
 * how starved this machine is while the page trains: the longest delay of this (idle) test process's own
 * event loop, and the load average. A quiet 2-core machine (CI) shows a few ms and a load of 2–3 (the
 * browser's own processes); one shared with a dozen busy processes shows hundreds of ms and a load of 8–16,
 * and then every process — the page's renderer and the GPU process included — waits for a core, whatever
 * the page does. A timing bound that such a machine misses is reported and skipped (the numbers printed),
 * not failed; MLP_LENS_STRICT_TIMING=1 fails it anyway
 */
function starvation() {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  return { stop: () => { h.disable(); return Math.round(h.max / 1e6); } };
}
const STARVED_MS = 150;
/**
 * asserts `value` ≤ `bound` ms. The delay this idle test process's own event loop saw (`lagMs`) is time
 * the machine kept every process from a core, the page's renderer included, so a value over the bound by
 * no more than that delay is printed and passes (CI once measured a 267 ms gap with 102 ms of lag);
 * past that it fails, or is skipped saying what was measured where the machine was starved (lag over
 * 150 ms, or a load over twice the cores); MLP_LENS_STRICT_TIMING=1 fails any value over the bound
 */
function timing(value: number, bound: number, what: string, lagMs: number): void {
  if (value <= bound) return;
  const strict = !!process.env.MLP_LENS_STRICT_TIMING;
  if (!strict && value <= bound + lagMs) {
    console.log(`  ${what}: over ${bound} ms by ${value - bound} ms, within the ${lagMs} ms this test process itself waited for a core`);
    return;
  }
  const busy = loadavg()[0] > 2 * availableParallelism();
  if ((lagMs > STARVED_MS || busy) && !strict) {
    skipped(`${what} — not asserted: this machine was starved (the test process's own event loop waited up to ${lagMs} ms for a core; ` +
      `load ${osLoad()} on ${availableParallelism()} cores)`);
    return;
  }
  assert.unreachable(`${what}, over ${bound} ms (the test process's event loop lag: ${lagMs} ms at most)`);
}
const osLoad = () => loadavg().map((x) => x.toFixed(1)).join(' ');

interface Live { points: { epoch: number; step: number; steps: number; loss: number; accuracy: number; source: string }[]; firstShownMs: number | null; inserts: number; draws: number }
interface Frames { frames: number; longest: number; over100: number; over250: number; worst: { at: number; ms: number }[]; watched: number }

test('at load the adapter is named and SwiftShader makes the CPU the default; the first running point within 3 s of Train (quick preset)', async () => {
  if (chromiumMissing()) return;
  const url = (await serve()).url;
  const browser = await launchChromium(['--enable-unsafe-webgpu']);
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors = collectErrors(page), lens = lensOf(page);
    await page.goto(`${url}?preset=quick`);
    await page.waitForSelector('body[data-ready="1"]', { timeout: 60_000 });
    const adapter = await lens<{ found: boolean; software: boolean; name: string; ms: number; recommendation: { device: string; line: string } }>('adapter');
    const line = await page.textContent('#cfg-adapter') ?? '';
    if (shots) await page.screenshot({ path: join(shots, 'adapter-at-load-1280.png') });
    if (!adapter.found) {
      // no adapter in this Chromium: the line says so and the device stays "WebGPU (CPU if none)"
      assert.match(line, /^no WebGPU adapter/);
      skipped(`Chromium offered no WebGPU adapter here (${line}): the software-adapter recommendation is not tested`);
    } else {
      assert.ok(adapter.software, `SwiftShader is a software adapter (${adapter.name})`);
      assert.match(line, /^software adapter found: the CPU backend is faster here \(.*swiftshader/i);
      assert.is(await page.inputValue('#cfg-device'), 'cpu', 'the CPU by default on a software adapter');
      assert.not.match(page.url(), /device=/, 'the default device is not written into the URL');
      assert.is(JSON.parse(await page.evaluate(() => localStorage.getItem('mlp-lens.settings') ?? '{}')).device, undefined, 'nor kept');
      assert.ok(await page.isVisible('#cfg-adapter'), 'the line is beside the device field before Train');
      console.log(`  adapter at load: ${line} (${adapter.ms} ms)`);
    }
    await page.setViewportSize({ width: 390, height: 844 });
    if (shots) await page.screenshot({ path: join(shots, 'adapter-at-load-390.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });

    // the quick preset on the default device: running points on the loss chart, the first within 3 s
    const t0 = performance.now(), lag = starvation();
    await page.click('#train');
    await page.waitForSelector('#chart-curves[data-live]', { timeout: 60_000 });
    const seen = performance.now() - t0, lagMs = lag.stop();
    if (shots) await page.screenshot({ path: join(shots, 'first-live-point-1280.png') });
    await page.waitForFunction('window.mlpLens.model || window.mlpLens.errors.length', null, { timeout: 120_000 });
    assert.equal(await lens<string[]>('errors'), []);
    const live = await lens<Live>('live');
    const device = await lens<{ backend: string; text: string }>('device');
    console.log(`  quick preset on ${device.text}: first running point on the chart ${live.firstShownMs} ms after the click (the page's clock; ${seen.toFixed(0)} ms seen from Node), ` +
      `${live.points.length} running points, ${live.draws} full draws and ${live.inserts} insertions of the chart; event loop lag ${lagMs} ms, load ${osLoad()}`);
    assert.ok(live.points.length >= 1, 'running points came');
    assert.ok(live.firstShownMs !== null, 'the first point was drawn');
    timing(live.firstShownMs!, 3000, `the first point within 3 s of Train: ${live.firstShownMs} ms`, lagMs);
    const last = live.points[live.points.length - 1];
    assert.is(last.step, last.steps, 'the last running point is the epoch\'s end');
    const model = await lens<{ history: { trainLoss: number; trainAccuracy: number }[] }>('model');
    // the running mean at the epoch's end is the epoch's training loss (f32 sums on both sides)
    assert.ok(Math.abs(last.loss - model.history[0].trainLoss) < 1e-5, `running loss at the end ${last.loss} = the epoch's ${model.history[0].trainLoss}`);
    assert.ok(Math.abs(last.accuracy - model.history[0].trainAccuracy) < 1e-6, 'and its accuracy');
    const rows = await lens<{ split: string; epoch: number }[]>('specs["chart-curves"].datasets.curves');
    assert.ok(rows.some((r) => r.split === 'train, within the epoch' && r.epoch > 0 && r.epoch <= 1), 'running points at fractions of epoch 1');
    assert.ok(rows.some((r) => r.split === 'test' && r.epoch === 1), 'the epoch\'s own points at 1');

    // after training the explorer answers by itself, for the last hidden layer's neuron 0
    await page.waitForSelector('#ex-saliency[data-updates="1"]', { timeout: 60_000 });
    const n = await lens<{ layer: number; neuron: number }>('neuron');
    assert.equal([n.layer, n.neuron], [1, 0], 'neuron 0 of layer 2');
    assert.match(await page.textContent('#ex-summary') ?? '', /neuron 0 of layer 2, after ReLU: most selective for classes/);
    if (shots) {
      await page.screenshot({ path: join(shots, 'after-training-1280.png'), fullPage: true });
      await page.setViewportSize({ width: 390, height: 844 });
      await page.waitForSelector('body[data-drawn-for="390"]', { timeout: 60_000 });
      await page.screenshot({ path: join(shots, 'after-training-390.png'), fullPage: true });
    }
    assert.equal(errors, [], 'no console error or page error');
  } finally {
    await browser.close();
  }
});

test('WebGPU on SwiftShader: running points read from the device a few times an epoch, and no frame gap over 250 ms while training', async () => {
  if (chromiumMissing()) return;
  const url = (await serve()).url;
  const browser = await launchChromium(['--enable-unsafe-webgpu']);
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors = collectErrors(page), lens = lensOf(page);
    const EPOCHS = 2, STEPS = 200;
    await page.goto(`${url}?device=webgpu&epochs=${EPOCHS}&steps=${STEPS}&dev=1`);
    await page.waitForSelector('body[data-ready="1"]', { timeout: 60_000 });
    const adapter = await lens<{ found: boolean; name: string }>('adapter');
    if (!adapter.found) {
      skipped(`no WebGPU adapter in this Chromium (${await page.textContent('#cfg-adapter')}): the frame gaps on WebGPU are not measured`);
      return;
    }
    assert.match(await page.textContent('#cfg-adapter') ?? '', /WebGPU as you asked/);
    assert.is(await page.inputValue('#cfg-device'), 'webgpu', 'the device asked for in the URL is kept');
    const t0 = performance.now(), lag = starvation();
    await page.click('#train');
    await page.waitForSelector('#chart-curves[data-live]', { timeout: 120_000 });
    if (shots) await page.screenshot({ path: join(shots, 'webgpu-during-training-1280.png') });
    await page.waitForFunction('window.mlpLens.model || window.mlpLens.errors.length', null, { timeout: 180_000 });
    assert.equal(await lens<string[]>('errors'), []);
    const seconds = (performance.now() - t0) / 1000, lagMs = lag.stop();
    const device = await lens<{ backend: string; text: string }>('device');
    assert.is(device.backend, 'webgpu', device.text);
    const live = await lens<Live>('live'), f = await lens<Frames>('frames');
    const perEpoch = Array.from({ length: EPOCHS }, (_, e) => live.points.filter((p) => p.epoch === e).length);
    console.log(`  ${EPOCHS}×${STEPS} steps on ${device.text} in ${seconds.toFixed(1)} s: running points per epoch ${perEpoch.join(', ')} ` +
      `(steps ${live.points.map((p) => p.step).join(' ')}); first on the chart ${live.firstShownMs} ms after the click`);
    console.log(`  frames: ${f.frames} in ${(f.watched / 1000).toFixed(1)} s, longest gap ${f.longest} ms, ${f.over100} over 100 ms, ${f.over250} over 250 ms; ` +
      `worst ${f.worst.map((g) => `${g.ms} ms at ${(g.at / 1000).toFixed(2)} s`).join(', ')}; event loop lag ${lagMs} ms, load ${osLoad()}`);
    assert.ok(live.points.every((p) => p.source === 'device'), 'read from the device');
    // a read every ≈ 50 steps (at a dispatch's end), and one at the epoch's end: a handful, never one a step
    for (const n of perEpoch) assert.ok(n >= 2 && n <= Math.ceil(STEPS / 50) + 1, `${n} reads an epoch`);
    assert.ok(f.frames > 30, `frames were counted (${f.frames})`);
    timing(f.longest, 250, `no frame gap over 250 ms once the first epoch started: the longest was ${f.longest} ms (${JSON.stringify(f.worst)})`, lagMs);
    if (shots) await page.screenshot({ path: join(shots, 'webgpu-after-training-1280.png'), fullPage: true });
    assert.equal(errors, [], 'no console error or page error');
  } finally {
    await browser.close();
  }
});

test.after(async () => {
  await server?.close();
  rmSync(tmp, { recursive: true, force: true });
});

test.run();
