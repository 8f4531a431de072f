// the browser page end to end: the bundle built (into a temporary folder), web/server.ts on a free
// loopback port, headless Chromium (Debian's, driven by playwright-core) with WebGPU on its software
// adapter. A short run (2 epochs of 200 steps) trains in the page's worker; the live charts must update
// after each epoch; the explorer, the PCA, the three downloads and the upload of a model.safetensors
// must answer; and the page's test accuracy must match the command line's (`node bench/train.js`, same
// seed, configuration and steps, on the CPU) within 0.5 points. No console error, no request leaving
// the server. A second, short run without WebGPU must fall back to the CPU backend and say so on the
// page. Skips, saying why, only where /usr/bin/chromium is missing (.ci/run installs it and sets
// MLP_LENS_REQUIRE_CHROMIUM=1, which turns the skip into a failure). MLP_LENS_WEB_SHOTS=DIR saves
// screenshots of the page during and after training there.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { analyzeThroughTraining } from '../../analysis/through-training.ts';
import type { ThroughTraining } from '../../analysis/through-training-types.ts';
import { cpu } from '../../engine/cpu.ts';
import { Mlp } from '../../mlp/model.ts';
import { decodeModel } from '../../mlp/weights.ts';
import { loadMnist } from '../../run/mnist-files.ts';
import { loadModelFile } from '../../run/model-files.ts';
import { buildWeb } from '../../web/build.ts';
import { startServer, type WebServer } from '../../web/server.ts';
import { skipped } from '../helpers/skip.ts';

const CHROMIUM = '/usr/bin/chromium';
const EPOCHS = 2, STEPS = 200, SEED = 31416;

const tmp = mkdtempSync(join(tmpdir(), 'mlp-lens-web-'));
const shots = process.env.MLP_LENS_WEB_SHOTS;
const secs = (t0: number) => ((performance.now() - t0) / 1000).toFixed(1);

let served: { server: WebServer; seconds: number } | undefined;

/** the page served from a temporary root: index.html and a fresh bundle (web/dist of the checkout is left alone) */
async function serve(): Promise<WebServer> {
  if (served) return served.server;
  const root = join(tmp, 'root');
  mkdirSync(root, { recursive: true });
  copyFileSync(resolve('web/index.html'), join(root, 'index.html'));
  const built = await buildWeb({ outdir: join(root, 'dist') });
  console.log(`  bundle: ${(built.bytes / 1e6).toFixed(1)} MB in ${built.seconds.toFixed(1)} s`);
  served = { server: await startServer({ port: 0, root }), seconds: built.seconds };
  return served.server;
}

/** Debian's Chromium, headless, the network-off flags and `flags` */
async function launch(flags: string[]) {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: [...flags, '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

/** the CLI's run of the same configuration, on the CPU: its metrics.json and model.safetensors */
function cliRun(out: string): Promise<{ accuracy: number; model: string; seconds: number }> {
  const t0 = performance.now();
  return new Promise((ok, fail) => {
    const p = spawn(process.execPath, ['bench/train.js', '--epochs', String(EPOCHS), '--steps', String(STEPS), '--seed', String(SEED),
      '--device', 'cpu', '--no-analysis', '--no-report', '--quiet', '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => { err += d; });
    p.on('error', fail);
    p.on('close', (code) => {
      if (code !== 0) { fail(new Error(`bench/train.js exited ${code}: ${err}`)); return; }
      const m = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
      ok({ accuracy: m.test.accuracy, model: join(out, 'model.safetensors'), seconds: (performance.now() - t0) / 1000 });
    });
  });
}

test('the page trains on WebGPU in Chromium, updates its charts, answers the explorer, and matches the CLI', async () => {
  if (!existsSync(CHROMIUM)) {
    if (process.env.MLP_LENS_REQUIRE_CHROMIUM) assert.unreachable(`${CHROMIUM} is missing and MLP_LENS_REQUIRE_CHROMIUM is set`);
    skipped(`${CHROMIUM} not found (apt-get install chromium; .ci/run does)`);
    return;
  }
  const tStart = performance.now();
  const server = await serve();
  const cli = cliRun(join(tmp, 'cli'));
  cli.catch(() => {});
  const browser = await launch(['--enable-unsafe-webgpu']);
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 }, acceptDownloads: true });
    const errors: string[] = [], outside: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') errors.push(`console.error: ${m.text()}`); });
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('request', (r) => { if (!r.url().startsWith(server.url) && !/^(data|blob):/.test(r.url())) outside.push(r.url()); });
    const lens = <T>(f: string) => page.evaluate(`window.mlpLens.${f}`) as Promise<T>;

    let t0 = performance.now();
    await page.goto(server.url);
    await page.waitForSelector('body[data-ready="1"]', { timeout: 60_000 });
    console.log(`  page ready with MNIST (55 MB over loopback) in ${secs(t0)} s`);

    // a short run of the reference configuration
    await page.fill('#cfg-epochs', String(EPOCHS));
    await page.fill('#cfg-steps', String(STEPS));
    await page.fill('#cfg-seed', String(SEED));
    // SwiftShader is a software adapter: the page defaults to the CPU there (web/src/adapter.ts); this run asks for WebGPU
    assert.is(await page.inputValue('#cfg-device'), 'cpu', 'the CPU by default on the software adapter');
    await page.selectOption('#cfg-device', 'webgpu');
    t0 = performance.now();
    await page.click('#train');
    // the charts after the first epoch, while the second trains
    await page.waitForSelector('#chart-curves[data-epochs="1"]', { timeout: 90_000 });
    await page.waitForSelector('#chart-heatmap[data-epochs="1"]', { timeout: 30_000 });
    const during = await lens<boolean>('training');
    if (shots) await page.screenshot({ path: join(shots, 'web-during-training.png'), fullPage: true });
    await page.waitForFunction('window.mlpLens.model || window.mlpLens.errors.length', null, { timeout: 120_000 });
    assert.equal(await lens<string[]>('errors'), [], 'no error on the page');
    const trainSeconds = secs(t0);
    // the progress line says the run is done, nothing about the GPU still finishing an epoch
    await page.waitForSelector('#chart-heatmap[data-epochs="2"]', { timeout: 30_000 });
    assert.match(await page.textContent('#progress-text') ?? '', /^done: 2 epochs/);
    assert.not.match(await page.textContent('#progress-line') ?? '', /finishing/);
    assert.ok(during, 'the first epoch\'s charts were drawn while training went on');
    const device = await lens<{ backend: string; software: boolean; text: string }>('device');
    assert.is(device.backend, 'webgpu', `trained on WebGPU (${device.text})`);
    assert.ok(device.software, 'on the software adapter');
    const model = await lens<{ test: { accuracy: number }; history: unknown[]; sizes: number[] }>('model');
    assert.is(model.history.length, EPOCHS);
    assert.equal(model.sizes, [784, 32, 16, 10]);
    for (const id of ['chart-curves', 'chart-drift', 'chart-hist', 'chart-heatmap']) {
      const c = await page.$eval(`#${id}`, (el) => ({
        updates: Number((el as HTMLElement).dataset.updates), epochs: (el as HTMLElement).dataset.epochs,
        canvas: (() => { const c = el.querySelector('canvas'); return c ? c.width * c.height : 0; })(),
      }));
      assert.ok(c.updates >= EPOCHS, `${id} redrawn after each epoch (${c.updates})`);
      assert.is(c.epochs, String(EPOCHS), `${id} shows both epochs`);
      assert.ok(c.canvas > 10_000, `${id} has a drawn canvas`);
    }
    const gap = await lens<number>('longestGap');
    console.log(`  longest draw per chart (ms): ${JSON.stringify(await lens<Record<string, number>>('drawMs'))}`);
    console.log(`  trained ${EPOCHS}×${STEPS} steps on ${device.text} in ${trainSeconds} s; test accuracy ${model.test.accuracy.toFixed(2)} %; longest main-thread stall ${gap.toFixed(0)} ms, longest frame gap ${(await lens<{ longest: number }>('frames')).longest} ms`);

    // the explorer: a neuron of layer 2 on test image 7
    t0 = performance.now();
    // after training it answered by itself for the default neuron (update 1)
    await page.waitForSelector('#ex-saliency[data-updates="1"]', { timeout: 60_000 });
    await page.selectOption('#ex-layer', '1');
    await page.fill('#ex-neuron', '3');
    await page.fill('#ex-image', '7');
    await page.click('#ex-go');
    await page.waitForFunction('window.mlpLens.neuron || window.mlpLens.errors.length', null, { timeout: 60_000 });
    await page.waitForSelector('#ex-saliency[data-updates="2"]', { timeout: 30_000 });
    const n = await lens<{
      layer: number; neuron: number; selectivity: number[]; topClasses: number[];
      analysis: { scales: number[]; perClassAccuracy: number[][]; confusion: { ablationMinusBaseline: number[][] } };
      saliency: { index: number; label: number; normalized: { shape: number[] } }; oneHot: { map: ArrayLike<number> };
    }>('neuron');
    assert.is(n.layer, 1);
    assert.is(n.neuron, 3);
    assert.is(n.selectivity.length, 10);
    assert.is(n.topClasses.length, 3);
    assert.is(n.analysis.scales.length, 31, 'linspace(0, 3, 30) ∪ {1}');
    assert.is(n.analysis.perClassAccuracy[0].length, 10);
    assert.is(n.analysis.confusion.ablationMinusBaseline.length, 10);
    assert.equal(n.saliency.normalized.shape, [1, 784]);
    assert.is(n.saliency.index, 7);
    assert.is(Object.keys(n.oneHot.map).length, 784);
    for (const id of ['ex-selectivity', 'ex-accuracy', 'ex-confusion', 'ex-logits', 'ex-saliency']) {
      assert.is(await page.$eval(`#${id}`, (el) => (el as HTMLElement).dataset.updates), '2', `${id} drawn`);
    }
    assert.is(await page.$eval('#ex-onehot', (el) => (el as HTMLImageElement).naturalWidth), 28, 'the one-hot map is a 28×28 image');
    assert.match(await page.textContent('#ex-summary') ?? '', /most selective for classes/);
    // one click on "class c → its most selective neuron" explores that neuron (the first c whose neuron is another)
    const picks = await lens<number[]>('neuron.mostSelective');
    assert.is(picks.length, 10);
    const cls = Math.max(0, picks.findIndex((j) => j !== 3));
    await page.click(`#ex-picks button >> nth=${cls}`);
    await page.waitForSelector('#ex-saliency[data-updates="3"]', { timeout: 60_000 });
    assert.is(await lens<number>('neuron.neuron'), picks[cls], 'the picked neuron was explored');
    await page.selectOption('#pca-layer', '0');
    await page.click('#pca-go');
    await page.waitForSelector('#ex-pca[data-updates="1"]', { timeout: 60_000 });
    const p = await lens<{ points: number; target: string }>('pca');
    assert.is(p.points, 10_000);
    assert.is(p.target, 'layers.0.post');
    console.log(`  explorer (neuron sweep, saliency, one-hot map) and PCA answered in ${secs(t0)} s`);

    // the explorer at an earlier epoch: the initial weights answer with other selectivities, and the PCA follows
    t0 = performance.now();
    assert.equal(await page.$$eval('#ex-epoch option', (os) => os.map((o) => (o as HTMLOptionElement).value)), ['-1', '0', '1']);
    assert.is(await page.inputValue('#ex-epoch'), '1', 'the explorer starts at the last epoch');
    const lastSel = await lens<number[]>('neuron.selectivity');
    const shown = await lens<number>('neuron.neuron');
    await page.selectOption('#ex-epoch', '-1');
    await page.waitForSelector('#ex-saliency[data-updates="4"]', { timeout: 60_000 });
    await page.waitForSelector('#ex-pca[data-updates="2"]', { timeout: 60_000 });
    assert.is(await lens<number>('neuron.epoch'), -1);
    assert.is(await lens<number>('neuron.neuron'), shown, 'the same neuron, at another epoch');
    const initSel = await lens<number[]>('neuron.selectivity');
    const selDiff = Math.max(...initSel.map((v, c) => Math.abs(v - lastSel[c])));
    assert.ok(selDiff > 1e-3, `selectivity at init differs from the last epoch's (max |Δ| ${selDiff.toFixed(3)})`);
    assert.is(await lens<number>('pca.epoch'), -1);
    assert.match(await page.textContent('#ex-summary') ?? '', /initial weights/);
    console.log(`  explorer at the initial weights: selectivity of neuron ${shown} differs by up to ${selDiff.toFixed(3)} from the last epoch's (${secs(t0)} s)`);

    // through training: the slider over the epochs' aligned PCA
    await page.waitForFunction('window.mlpLens.through || window.mlpLens.errors.length', null, { timeout: 120_000 });
    assert.equal(await lens<string[]>('errors'), [], 'no error on the page');
    await page.waitForSelector('#tt-pca[data-epoch="1"]', { timeout: 30_000 });
    const slider = page.getByRole('slider', { name: 'epoch' });
    assert.is(await slider.getAttribute('max'), '2');
    // the page counts epochs from 1: the last of 2 epochs (the run's epoch 1) is "epoch 2"
    assert.is(await page.textContent('#tt-epoch-text'), 'epoch 2 (3 of 3)');
    assert.ok(await page.getByRole('button', { name: 'Play', exact: true }).isVisible(), 'a labelled play button');
    assert.ok(await page.getByRole('combobox', { name: 'weights' }).isVisible(), 'a labelled epoch selector in the explorer');
    if (shots) await page.locator('#through').screenshot({ path: join(shots, 'web-through-last.png') });
    // the keyboard moves it: Home → the initial weights, → the next epoch
    await slider.focus();
    await page.keyboard.press('Home');
    await page.waitForSelector('#tt-pca[data-epoch="-1"]', { timeout: 10_000 });
    assert.is(await lens<number>('throughEpoch'), -1);
    assert.is(await page.textContent('#tt-epoch-text'), 'init (1 of 3)');
    if (shots) await page.locator('#through').screenshot({ path: join(shots, 'web-through-init.png') });
    // the page's result against the Node function on the same snapshots: each epoch's weights downloaded
    const through = await lens<ThroughTraining>('through');
    assert.equal(through.epochs, [-1, 0, 1]);
    const snaps: { epoch: number; model: Mlp }[] = [];
    for (const epoch of through.epochs) {
      if (epoch !== -1) {
        await page.keyboard.press('ArrowRight');
        await page.waitForSelector(`#tt-pca[data-epoch="${epoch}"]`, { timeout: 10_000 });
      }
      const [d] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), page.click('#tt-download')]);
      assert.is(d.suggestedFilename(), epoch < 0 ? 'init.safetensors' : `epoch-00${epoch}.safetensors`);
      const path = join(tmp, `snap-${d.suggestedFilename()}`);
      await d.saveAs(path);
      await slider.focus();
      snaps.push({ epoch, model: Mlp.fromParams((await loadModelFile(path)).layers, cpu) });
    }
    t0 = performance.now();
    const node = await analyzeThroughTraining(snaps, (await loadMnist()).test);
    let worst = 0;
    const near = (a: number, b: number, what: string) => {
      worst = Math.max(worst, Math.abs(a - b));
      assert.ok(Math.abs(a - b) <= 1e-6, `${what}: page ${a}, node ${b}`);
    };
    assert.equal(through.sample.rows, node.sample.rows, 'the same sample');
    node.ckaEpochs.forEach((m, k) => m.forEach((r, i) => r.forEach((v, j) => near(through.ckaEpochs[k][i][j], v, `CKA layer ${k} epochs ${i},${j}`))));
    node.perEpoch.forEach((pe, e) => {
      near(through.perEpoch[e].sampleAccuracy, pe.sampleAccuracy, `sample accuracy at ${pe.epoch}`);
      pe.ckaLayers.forEach((r, i) => r.forEach((v, j) => near(through.perEpoch[e].ckaLayers[i][j], v, `CKA layers ${i},${j} at ${pe.epoch}`)));
      pe.layers.forEach((l, k) => {
        near(through.perEpoch[e].layers[k].probe.heldOutAccuracy, l.probe.heldOutAccuracy, `probe layer ${k} at ${pe.epoch}`);
        near(through.perEpoch[e].layers[k].silhouette, l.silhouette, `silhouette layer ${k} at ${pe.epoch}`);
      });
    });
    // Play runs from the first epoch to the last, then stops
    await page.click('#tt-play');
    assert.is(await page.getAttribute('#tt-play', 'aria-pressed'), 'true');
    await page.waitForSelector('#tt-pca[data-epoch="0"]', { timeout: 10_000 });
    await page.waitForSelector('#tt-play[aria-pressed="false"]', { timeout: 10_000 });
    assert.is(await lens<number>('throughEpoch'), 1, 'played to the last epoch');
    if (shots) {
      // what users see: the slider and the explorer on a laptop and on a phone
      for (const [w, h] of [[1280, 900], [390, 844]]) {
        const before = Number(await page.$eval('#tt-pca', (el) => (el as HTMLElement).dataset.updates));
        await page.setViewportSize({ width: w, height: h });
        await page.waitForFunction(`Number(document.querySelector('#tt-pca').dataset.updates) > ${before}`, null, { timeout: 10_000 });
        await page.$eval('#through', (el) => el.scrollIntoView({ block: 'start' }));
        await page.screenshot({ path: join(shots, `web-through-${w}x${h}.png`) });
        await page.$eval('#explorer', (el) => el.scrollIntoView({ block: 'start' }));
        await page.screenshot({ path: join(shots, `web-explorer-${w}x${h}.png`) });
      }
      await page.setViewportSize({ width: 1400, height: 1000 });
    }
    console.log(`  through training: slider init → epoch 1 by keyboard; page vs Node on the downloaded snapshots (CKA, probe, silhouette): max |Δ| ${worst.toExponential(1)} (Node ${secs(t0)} s)`);
    if (shots) {
      await page.screenshot({ path: join(shots, 'web-after-training.png'), fullPage: true });
      for (const id of ['live', 'explorer']) await page.locator(`#${id}`).screenshot({ path: join(shots, `web-${id}.png`) });
    }

    // the page's numbers against the command line's
    const c = await cli;
    console.log(`  CLI (cpu, same seed/config/steps) ${c.accuracy.toFixed(2)} % in ${c.seconds.toFixed(1)} s; page (webgpu) ${model.test.accuracy.toFixed(2)} %`);
    assert.ok(Math.abs(model.test.accuracy - c.accuracy) <= 0.5, `page ${model.test.accuracy} % vs CLI ${c.accuracy} %`);

    // downloads
    const fetchDownload = async (button: string) => {
      const [d] = await Promise.all([page.waitForEvent('download', { timeout: 120_000 }), page.click(button)]);
      const path = join(tmp, d.suggestedFilename());
      await d.saveAs(path);
      return path;
    };
    t0 = performance.now();
    const saved = await fetchDownload('#dl-model');
    assert.match(saved, /model\.safetensors$/);
    const mine = await loadModelFile(saved); // the CLI's reader (bench/train.js --init, --analyze)
    const theirs = await loadModelFile(c.model);
    assert.equal(mine.layers.map((l) => [l.dIn, l.dOut]), [[784, 32], [32, 16], [16, 10]]);
    let maxDiff = 0;
    mine.layers.forEach((l, k) => l.W.forEach((w, i) => { maxDiff = Math.max(maxDiff, Math.abs(w - theirs.layers[k].W[i])); }));
    assert.ok(maxDiff < 1e-3, `weights trained on WebGPU match the CLI's CPU weights to ${maxDiff.toExponential(2)}`);
    assert.equal(decodeModel(readFileSync(saved), 'page').metadata.seed, String(SEED));
    const results = JSON.parse(readFileSync(await fetchDownload('#dl-results'), 'utf8'));
    assert.is(results.metrics.epochs.length, EPOCHS);
    assert.is(results.stats.epochs.length, EPOCHS);
    assert.ok(Math.abs(results.analysis.accuracy.accuracy - model.test.accuracy) < 1e-6, 'the analyses saw the trained model');
    const html = readFileSync(await fetchDownload('#dl-report'), 'utf8');
    const figures = html.match(/<figure class="figure"/g)?.length ?? 0;
    for (const id of ['training-curves', 'layer1-histograms', 'neuron-heatmap-layer2', 'pca', 'accuracy-vs-scale', 'saliency', 'onehot-maps']) {
      assert.ok(html.includes(`id="fig-${id}"`), `report.html has ${id}`);
    }
    console.log(`  downloads: model.safetensors (max |ΔW| vs CLI ${maxDiff.toExponential(1)}), results.json, report.html (${figures} figures) in ${secs(t0)} s`);

    // an uploaded model is analysed without training: the CLI's own weights give the CLI's accuracy exactly
    t0 = performance.now();
    await page.setInputFiles('#upload', c.model);
    // a model is on the page: the upload asks before replacing it
    await page.waitForSelector('#upload-dialog[open]', { timeout: 10_000 });
    await page.click('#upload-replace');
    await page.waitForFunction('window.mlpLens.model?.source === "uploaded" || window.mlpLens.errors.length', null, { timeout: 60_000 });
    assert.ok(await page.isHidden('#progress-line'), 'no training progress for an uploaded model');
    const up = await lens<{ test: { accuracy: number }; name: string }>('model');
    assert.is(up.test.accuracy, c.accuracy, 'the CLI\'s model.safetensors, uploaded, scores what the CLI printed');
    await page.click('#ex-go');
    await page.waitForSelector('#ex-saliency[data-updates="5"]', { timeout: 60_000 });
    assert.is(await lens<number | null>('neuron.epoch'), null, 'an uploaded model is explored as it is');
    assert.ok(await page.isHidden('#through'), 'an uploaded model has no epochs to follow');
    console.log(`  upload of the CLI's model.safetensors: ${up.test.accuracy.toFixed(2)} % (CLI ${c.accuracy.toFixed(2)} %), explorer answered, in ${secs(t0)} s`);

    assert.equal(await lens<string[]>('errors'), [], 'no error on the page');
    assert.equal(errors, [], 'no console error or page error');
    assert.equal(outside, [], 'no request leaves the local server');
    console.log(`  end to end: ${secs(tStart)} s`);
  } finally {
    await browser.close();
  }
});

test('without a WebGPU adapter the page trains on the CPU backend and says so', async () => {
  if (!existsSync(CHROMIUM)) { skipped(`${CHROMIUM} not found`); return; }
  const server = await serve();
  // no --enable-unsafe-webgpu: Chromium offers no adapter here
  const browser = await launch([]);
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(server.url);
    await page.waitForSelector('body[data-ready="1"]', { timeout: 60_000 });
    await page.fill('#cfg-epochs', '1');
    await page.fill('#cfg-steps', '20');
    await page.click('#train');
    await page.waitForFunction('window.mlpLens.model || window.mlpLens.errors.length', null, { timeout: 60_000 });
    const device = await page.evaluate('window.mlpLens.device') as { backend: string; text: string };
    assert.is(device.backend, 'cpu');
    assert.match(device.text, /no WebGPU adapter/);
    assert.match(await page.textContent('#device') ?? '', /CPU backend: this browser offers no WebGPU adapter/);
    await page.waitForSelector('#chart-curves[data-epochs="1"]', { timeout: 30_000 });
    assert.ok(await page.evaluate('window.mlpLens.model.test.accuracy > 0'));
    assert.equal(errors, []);
  } finally {
    await browser.close();
  }
});

test.after(async () => {
  await served?.server.close();
  rmSync(tmp, { recursive: true, force: true });
});

test.run();
