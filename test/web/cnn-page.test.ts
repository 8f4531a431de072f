// the page with a CNN, end to end: the bundle built into a temporary folder, web/server.ts on a free
// loopback port, headless Chromium (Debian's, playwright-core) as test/web/e2e.test.ts. The architecture
// control offers the CNN (its layers checked as they are typed, the normalisation options disabled); a
// short run (1 epoch × 30 steps, the CPU backend in the page's worker) trains it; the live charts draw; the
// CNN explorer shows the 8 first-layer filters and every feature map of a test digit (8 maps for
// layers.0.post, 16 for layers.1.pool) and follows another digit; model.safetensors downloads as a CNN file
// (mlp/net-file.ts's decodeNet reads back the same weights and Node scores it exactly as the page did);
// uploading that file shows the same filters. No console error. Skips, saying why, only where
// /usr/bin/chromium is missing (a failure under MLP_LENS_REQUIRE_CHROMIUM=1). MLP_LENS_WEB_SHOTS=DIR saves
// screenshots of the CNN explorer at 1280×900 and 390×844 there.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { REFERENCE_CNN } from '../../mlp/arch.ts';
import { decodeNet } from '../../mlp/net-file.ts';
import { evaluate } from '../../mlp/train.ts';
import { loadMnist } from '../../run/mnist-files.ts';
import type { WebServer } from '../../web/server.ts';
import { chromiumMissing, servePage, launchChromium, collectErrors, lensOf } from '../helpers/web-page.ts';

const STEPS = 30, SEED = 31416;
const tmp = mkdtempSync(join(tmpdir(), 'mlp-lens-cnn-page-'));
const shots = process.env.MLP_LENS_WEB_SHOTS;
const secs = (t0: number) => ((performance.now() - t0) / 1000).toFixed(1);
let server: WebServer | undefined;

test('the page trains a CNN, shows its filters and feature maps, downloads and uploads it', async () => {
  if (chromiumMissing()) return;
  const tStart = performance.now();
  server = await servePage(tmp);
  // the CPU backend is chosen in the page: no WebGPU flag needed
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    const errors = collectErrors(page);
    const lens = lensOf(page);
    await page.goto(server.url);
    await page.waitForSelector('body[data-ready="1"]', { timeout: 60_000 });

    // the architecture control: CNN shows its layers' field and disables the normalisation options
    assert.ok(await page.isHidden('#cfg-spec-field'), 'the MLP is the default');
    await page.selectOption('#cfg-arch', 'cnn');
    assert.ok(await page.isVisible('#cfg-spec-field'));
    assert.ok(await page.isHidden('#cfg-hidden-field'));
    for (const id of ['cfg-input-norm', 'cfg-layernorm', 'cfg-batchnorm', 'cfg-dropout']) assert.ok(await page.isDisabled(`#${id}`), `${id} disabled for a CNN`);
    assert.match(await page.textContent('#cfg-norm-note') ?? '', /MLP only/);
    // its layers checked as typed, the error in one line next to the field
    const specLine = async () => page.$eval('#cfg-spec-error', (el) => ({
      text: el.textContent ?? '', ok: el.classList.contains('ok'), title: (el as HTMLElement).title,
      oneLine: (el as HTMLElement).getBoundingClientRect().height < 1.9 * parseFloat(getComputedStyle(el).lineHeight || '16'),
    }));
    assert.match((await specLine()).text, /8×24×24 → 8×12×12 → 16×8×8 → 16×4×4 → 32 → 10/);
    await page.fill('#cfg-spec', 'cnn:conv8x5,poolx');
    let line = await specLine();
    assert.ok(!line.ok && /layer 2/.test(line.title) && line.oneLine, JSON.stringify(line));
    await page.fill('#cfg-spec', 'cnn:conv8x30');
    line = await specLine();
    assert.ok(!line.ok && /does not fit/.test(line.title), JSON.stringify(line));
    await page.click('#train');
    assert.match((await lens<string[]>('errors')).join(' '), /CNN layers/, 'an invalid spec is refused before training');
    assert.ok(!(await lens<boolean>('training')), 'nothing started');
    await page.evaluate('window.mlpLens.errors.length = 0');
    await page.fill('#cfg-spec', 'cnn');
    assert.ok((await specLine()).ok);

    // a short run on the CPU backend
    await page.fill('#cfg-epochs', '1');
    await page.fill('#cfg-steps', String(STEPS));
    await page.fill('#cfg-seed', String(SEED));
    // momentum: a CNN learns visibly within 30 steps
    await page.fill('#cfg-lr', '0.03');
    await page.fill('#cfg-momentum', '0.9');
    await page.selectOption('#cfg-device', 'cpu');
    let t0 = performance.now();
    await page.click('#train');
    await page.waitForFunction('window.mlpLens.model || window.mlpLens.errors.length', null, { timeout: 180_000 });
    assert.equal(await lens<string[]>('errors'), [], 'no error on the page');
    const model = await lens<{ kind: string; arch: string; sizes: number[]; history: unknown[]; test: { accuracy: number }; snapshots: number[] }>('model');
    assert.is(model.kind, 'cnn');
    assert.is(model.arch, REFERENCE_CNN);
    assert.equal(model.sizes, [784, 10]);
    assert.is(model.history.length, 1);
    assert.equal(model.snapshots, [-1, 0]);
    assert.ok(model.test.accuracy > 30, `learnt something in ${STEPS} steps (${model.test.accuracy} %)`);
    assert.is((await lens<{ backend: string }>('device')).backend, 'cpu');
    for (const id of ['chart-curves', 'chart-drift', 'chart-hist', 'chart-heatmap']) {
      await page.waitForSelector(`#${id}[data-epochs="1"]`, { timeout: 30_000 });
    }
    assert.match(await page.textContent('#summary') ?? '', /CNN cnn:conv8x5/);
    console.log(`  CNN trained 1×${STEPS} steps on the page's CPU backend in ${secs(t0)} s: test accuracy ${model.test.accuracy.toFixed(2)} %`);

    // the CNN explorer: 8 filters, every feature map of test image 0
    t0 = performance.now();
    await page.waitForSelector('#cnn-maps[data-updates="1"]', { timeout: 30_000 });
    assert.is(await page.textContent('#ex-title'), 'CNN explorer');
    assert.ok(await page.isHidden('#ex-selectivity'), 'the MLP\'s neuron explorer is hidden for a CNN');
    assert.ok(await page.isHidden('#through'), 'no through-training analyses for a CNN');
    const cnn = await lens<{ image: number; filters: { shape: number[]; weights: number[]; drawn: number }; maps: Record<string, number> }>('cnn');
    assert.is(cnn.image, 0);
    assert.equal(cnn.filters.shape, [8, 1, 5, 5]);
    assert.is(cnn.filters.drawn, 8);
    assert.is(await page.locator('#cnn-filters figure canvas').count(), 8);
    assert.is(await page.$eval('#cnn-filters canvas', (c) => `${(c as HTMLCanvasElement).width}×${(c as HTMLCanvasElement).height}`), '5×5');
    assert.equal(cnn.maps, {
      'layers.0.pre': 8, 'layers.0.post': 8, 'layers.0.pool': 8, 'layers.1.pre': 16, 'layers.1.post': 16, 'layers.1.pool': 16,
    });
    assert.is(await page.locator('.map-group[data-name="layers.0.post"] canvas').count(), 8);
    assert.is(await page.locator('.map-group[data-name="layers.1.pool"] canvas').count(), 16);
    assert.is(await page.getAttribute('.map-group[data-name="layers.0.post"] figure >> nth=3', 'title'), 'conv 1, channel 3 (layers.0.post)');
    assert.is(await page.$eval('.map-group[data-name="layers.1.pool"] canvas', (c) => `${(c as HTMLCanvasElement).width}×${(c as HTMLCanvasElement).height}`), '4×4');
    assert.match(await page.textContent('#cnn-filters-caption') ?? '', /one colour scale for all: −[\d.]+\s*\+[\d.]+/);
    // nothing wider than the window (the elements past its right edge named when something is)
    const overflow = () => page.evaluate(() => {
      const past = Array.from(document.querySelectorAll('body *')).filter((el) => {
        const r = el.getBoundingClientRect();
        return r.width > 0 && r.right > window.innerWidth + 0.5 && !el.closest('.chart');
      }).map((el) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.className && typeof el.className === 'string' ? `.${el.className}` : ''}`);
      return { px: document.documentElement.scrollWidth - window.innerWidth, past: past.slice(0, 8) };
    });
    const wide = await overflow();
    assert.ok(wide.px <= 0, `no horizontal overflow at 1280 px: ${JSON.stringify(wide)}`);
    if (shots) {
      mkdirSync(shots, { recursive: true });
      for (const [w, h] of [[1280, 900], [390, 844]] as const) {
        await page.setViewportSize({ width: w, height: h });
        await page.$eval('#explorer', (el) => el.scrollIntoView({ block: 'start' }));
        await page.screenshot({ path: join(shots, `web-cnn-explorer-${w}x${h}.png`) });
        await page.locator('#explorer').screenshot({ path: join(shots, `web-cnn-explorer-full-${w}.png`) });
        if (w === 390) {
          const narrow = await overflow();
          assert.ok(narrow.px <= 0, `no horizontal overflow at 390 px: ${JSON.stringify(narrow)}`);
          await page.$eval('#config', (el) => el.scrollIntoView({ block: 'start' }));
          await page.screenshot({ path: join(shots, `web-cnn-config-${w}x${h}.png`) });
        }
      }
      await page.setViewportSize({ width: 1280, height: 900 });
    }

    // another digit: the maps follow it, the filters stay
    const before = await page.$eval('.map-group[data-name="layers.0.post"] canvas', (c) => (c as HTMLCanvasElement).toDataURL());
    await page.fill('#ex-image', '7');
    await page.dispatchEvent('#ex-image', 'change');
    await page.waitForSelector('#cnn-maps[data-updates="2"]', { timeout: 30_000 });
    assert.is(await lens<number>('cnn.image'), 7);
    const after = await page.$eval('.map-group[data-name="layers.0.post"] canvas', (c) => (c as HTMLCanvasElement).toDataURL());
    assert.is.not(after, before, 'the feature maps of another digit differ');
    assert.equal(await lens<number[]>('cnn.filters.weights'), cnn.filters.weights, 'the same filters');
    assert.match(await page.textContent('#cnn-summary') ?? '', /test image #7 is a \d, predicted \d/);
    // the initial weights' filters, through the weights selector
    assert.equal(await page.$$eval('#ex-epoch option', (os) => os.map((o) => (o as HTMLOptionElement).value)), ['-1', '0']);
    await page.selectOption('#ex-epoch', '-1');
    await page.waitForSelector('#cnn-maps[data-updates="3"]', { timeout: 30_000 });
    assert.is(await lens<number>('cnn.epoch'), -1);
    const init = await lens<number[]>('cnn.filters.weights');
    assert.ok(init.some((v, i) => v !== cnn.filters.weights[i]), 'the initial filters differ from the trained ones');
    await page.selectOption('#ex-epoch', '0');
    await page.waitForSelector('#cnn-maps[data-updates="4"]', { timeout: 30_000 });
    const scales = await page.$$eval('.map-group', (gs) => gs.map((g) => `${(g as HTMLElement).dataset.name} ${Number((g as HTMLElement).dataset.scale).toFixed(3)}`));
    console.log(`  explorer: 8 filters, 6 feature maps (72 channels; largest |value| ${scales.join(', ')}), another digit and the initial weights in ${secs(t0)} s`);

    // model.safetensors: a CNN file with the page's weights
    t0 = performance.now();
    assert.ok(await page.isHidden('#dl-results') && await page.isVisible('#dl-note'), 'results.json/report.html are offered for an MLP only');
    const [d] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), page.click('#dl-model')]);
    assert.is(d.suggestedFilename(), 'model.safetensors');
    const saved = join(tmp, 'model.safetensors');
    await d.saveAs(saved);
    const decoded = decodeNet(readFileSync(saved), saved);
    assert.is(decoded.model.kind, 'cnn');
    assert.is(decoded.model.kind === 'cnn' && decoded.model.arch, REFERENCE_CNN);
    assert.equal(decoded.layers.map((l) => l.shape ?? [l.dIn, l.dOut]), [[8, 1, 5, 5], [16, 8, 5, 5], [256, 32], [32, 10]]);
    assert.equal(Array.from(decoded.layers[0].W), cnn.filters.weights, 'the file holds the page\'s filters');
    assert.is(decoded.metadata.seed, String(SEED));
    const node = await evaluate(decoded.model, (await loadMnist()).test);
    assert.is(node.accuracy, model.test.accuracy, 'Node scores the downloaded weights exactly as the page scored its model');
    console.log(`  model.safetensors: decodeNet reads a ${REFERENCE_CNN} with the page's weights; Node ${node.accuracy.toFixed(2)} % = page (${secs(t0)} s)`);

    // uploading it: a CNN again, its filters shown
    t0 = performance.now();
    await page.setInputFiles('#upload', saved);
    // the trained CNN is on the page: the upload asks before replacing it
    await page.waitForSelector('#upload-dialog[open]', { timeout: 10_000 });
    await page.click('#upload-replace');
    await page.waitForFunction('window.mlpLens.model?.source === "uploaded" || window.mlpLens.errors.length', null, { timeout: 60_000 });
    const up = await lens<{ kind: string; arch: string; test: { accuracy: number } }>('model');
    assert.is(up.kind, 'cnn');
    assert.is(up.arch, REFERENCE_CNN);
    assert.is(up.test.accuracy, model.test.accuracy);
    await page.waitForFunction('window.mlpLens.cnn !== null', null, { timeout: 30_000 });
    assert.is(await lens<number>('cnn.filters.drawn'), 8);
    assert.equal(await lens<number[]>('cnn.filters.weights'), cnn.filters.weights, 'the uploaded file\'s filters are the trained ones');
    assert.is(await page.locator('#cnn-filters canvas').count(), 8);
    assert.is(await lens<number>('cnn.maps["layers.1.pool"]'), 16);
    assert.ok(await page.isHidden('#through'));
    console.log(`  upload of the CNN file: ${up.test.accuracy.toFixed(2)} %, its 8 filters shown, in ${secs(t0)} s`);

    assert.equal(await lens<string[]>('errors'), [], 'no error on the page');
    assert.equal(errors, [], 'no console error or page error');
    console.log(`  CNN page end to end: ${secs(tStart)} s`);
  } finally {
    await browser.close();
  }
});

test.after(async () => {
  await server?.close();
  rmSync(tmp, { recursive: true, force: true });
});

test.run();
