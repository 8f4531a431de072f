// the page as a user meets it (issue 18's first part), in headless Chromium on the page's CPU backend, one
// page for the whole file and short runs: settings from the URL (?preset=quick) and kept in localStorage;
// the settings locked while training, with the reason shown; progress with elapsed time and an estimate,
// and no "the GPU is finishing" line once done; epochs counted from 1 in the table, the charts and the
// progress; plain layer names with the canonical name in tooltips; every chart an image with an accessible
// name; no horizontal scroll and every chart inside its card at 390×844 and 1280×900 (two columns at 1280)
// after an MLP training and after a CNN training; an upload asks before replacing the model, and a bad file
// changes nothing; a dead neuron's health says it never fires; the kernel panel only behind the developer
// switch. MLP_LENS_WEB_SHOTS=DIR saves a screenshot of each state there. Skips, saying why, where
// /usr/bin/chromium is missing (a failure under MLP_LENS_REQUIRE_CHROMIUM=1).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeModel, type LayerParams } from '../../mlp/weights.ts';
import type { WebServer } from '../../web/server.ts';
import { chromiumMissing, servePage, launchChromium, collectErrors, lensOf } from '../helpers/web-page.ts';

const tmp = mkdtempSync(join(tmpdir(), 'mlp-lens-page-ux-'));
const shots = process.env.MLP_LENS_WEB_SHOTS;
const secs = (t0: number) => ((performance.now() - t0) / 1000).toFixed(1);
let server: WebServer | undefined;

/** a 784-32-16-10 MLP whose neuron 0 of layer 1 never fires (no weights in, bias −1) */
function deadNeuronModel(): Uint8Array {
  let seed = 7;
  const rand = () => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed / 2 ** 31 - 0.5; };
  const layers: LayerParams[] = [[784, 32], [32, 16], [16, 10]].map(([dIn, dOut]) => ({
    dIn, dOut, W: Float32Array.from({ length: dIn * dOut }, () => rand() * 0.2), b: Float32Array.from({ length: dOut }, () => rand() * 0.1),
  }));
  for (let i = 0; i < 784; i++) layers[0].W[i * 32] = 0;
  layers[0].b[0] = -1;
  return encodeModel(layers);
}

test('the page: URL settings and presets, locked settings, progress, names, layout at 390 and 1280, upload confirmation, dead neurons', async () => {
  if (chromiumMissing()) return;
  const tStart = performance.now();
  server = await servePage(tmp);
  if (shots) mkdirSync(shots, { recursive: true });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors = collectErrors(page);
    const lens = lensOf(page);
    const shot = async (name: string, fullPage = false) => { if (shots) await page.screenshot({ path: join(shots, `${name}.png`), fullPage }); };
    const resize = async (w: number, h: number) => {
      const before = await page.evaluate(() => window.innerWidth);
      await page.setViewportSize({ width: w, height: h });
      if (before !== w) await page.waitForSelector(`body[data-drawn-for="${w}"]`, { timeout: 60_000 });
    };
    /** horizontal scroll, and every chart (canvas) inside its card and every card inside its section */
    const layout = () => page.evaluate(() => {
      const out: string[] = [];
      const inside = (a: DOMRect, b: DOMRect) => a.left >= b.left - 0.5 && a.right <= b.right + 0.5;
      let charts = 0;
      const scaled: string[] = [];
      // the charts, the CNN explorer's maps and the Network section's drawings (its view, the digit's rows, the weight images)
      for (const c of Array.from(document.querySelectorAll<HTMLElement>('.chart, .maps, .net-card, #nv-sample'))) {
        if (!c.offsetParent) continue;
        const card = c.getBoundingClientRect(), section = c.closest('section')!.getBoundingClientRect();
        if (!inside(card, section)) out.push(`#${c.id || c.className} ${card.left}–${card.right} outside its section ${section.left}–${section.right}`);
        for (const canvas of Array.from(c.querySelectorAll<HTMLElement>('canvas, svg.net-svg, svg.sv-cells, svg.sv-bars'))) {
          charts++;
          const r = canvas.getBoundingClientRect(), natural = parseFloat(canvas.style.width || '0');
          if (natural > r.width + 1) scaled.push(`${c.id} ${natural}→${Math.round(r.width)}`);
          if (!inside(r, card)) out.push(`a canvas of #${c.id || c.className}: ${r.left}–${r.right} outside its card ${card.left}–${card.right}`);
        }
      }
      const top = (id: string) => document.getElementById(id)!.getBoundingClientRect().top;
      return { scroll: document.documentElement.scrollWidth - window.innerWidth, out, charts, scaled, sideBySide: top('chart-curves') === top('chart-drift') };
    });
    const checkLayout = async (what: string) => {
      for (const [w, h] of [[390, 844], [1280, 900]] as const) {
        await resize(w, h);
        const l = await layout();
        assert.ok(l.scroll <= 0, `${what} at ${w} px: no horizontal scroll (${l.scroll} px too wide)`);
        assert.equal(l.out, [], `${what} at ${w} px: every chart inside its card`);
        assert.ok(l.charts >= 4, `${what} at ${w} px: ${l.charts} charts measured`);
        console.log(`  ${what} at ${w} px: ${l.charts} canvases inside their cards, scroll ${l.scroll} px${l.scaled.length ? `; scaled down by CSS: ${l.scaled.join(', ')}` : ''}`);
        assert.is(l.sideBySide, w === 1280, `${what} at ${w} px: ${w === 1280 ? 'two columns' : 'one column'}`);
        await shot(`${what}-${w}`, true);
        for (const id of ['live', 'explorer']) {
          await page.$eval(`#${id}`, (el) => el.scrollIntoView({ block: 'start' }));
          await shot(`${what}-${w}-${id}`);
        }
      }
    };

    // a preset's URL applies it; the developer panel is not on the user's page
    let t0 = performance.now();
    await page.goto(`${server.url}?preset=quick`);
    await page.waitForSelector('body[data-ready="1"]', { timeout: 60_000 });
    assert.is(await page.inputValue('#cfg-epochs'), '1');
    assert.is(await page.inputValue('#cfg-steps'), '200');
    assert.is(await page.inputValue('#cfg-preset'), 'quick');
    assert.ok(await page.isHidden('#kernels'), 'no kernel timings on the user\'s page');
    assert.ok(await page.isHidden('#dev-mode'), 'the developer switch is in a collapsed section');
    await shot('before-training-1280');
    await resize(390, 844);
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'no horizontal scroll before training at 390 px');
    await shot('before-training-390', true);
    await resize(1280, 900);
    // a setting changed: kept in the URL and in localStorage
    await page.selectOption('#cfg-device', 'cpu');
    assert.match(page.url(), /\?preset=quick&device=cpu$/);
    await page.fill('#cfg-seed', '7');
    assert.is(await page.inputValue('#cfg-preset'), '', 'no preset once a value differs');
    assert.match(page.url(), /seed=7/);
    assert.match(page.url(), /steps=200/);
    assert.is(JSON.parse(await page.evaluate(() => localStorage.getItem('mlp-lens.settings') ?? '{}')).seed, '7');
    await page.selectOption('#cfg-preset', 'quick');
    assert.is(await page.inputValue('#cfg-seed'), '31416', 'the preset brings the defaults back');
    assert.is(await page.inputValue('#cfg-device'), 'cpu', 'a preset leaves the device');
    console.log(`  preset from the URL, settings in the URL and localStorage (${secs(t0)} s)`);

    // training: settings locked with the reason shown; progress with elapsed time and an estimate
    await page.evaluate(() => {
      const seen: string[] = ((window as unknown as { seen: string[] }).seen = []);
      new MutationObserver(() => seen.push(document.getElementById('progress-line')!.textContent ?? ''))
        .observe(document.getElementById('progress-line')!, { subtree: true, childList: true, characterData: true });
    });
    t0 = performance.now();
    await page.click('#train');
    assert.ok(await page.isDisabled('#cfg-epochs') && await page.isDisabled('#cfg-arch') && await page.isDisabled('#cfg-preset'), 'settings locked while training');
    assert.ok(await page.isVisible('#cfg-locked'));
    assert.match(await page.textContent('#cfg-locked') ?? '', /locked while the model trains/);
    assert.ok(await page.isEnabled('#stop'));
    await page.waitForFunction(() => /elapsed/.test(document.getElementById('progress-time')!.textContent ?? ''), null, { timeout: 30_000 });
    await shot('during-training-1280');
    await page.waitForFunction('window.mlpLens.model || window.mlpLens.errors.length', null, { timeout: 120_000 });
    assert.equal(await lens<string[]>('errors'), [], 'no error on the page');
    await page.waitForSelector('#chart-heatmap[data-epochs="1"]', { timeout: 30_000 });
    const seen = await page.evaluate(() => (window as unknown as { seen: string[] }).seen);
    assert.ok(seen.some((s) => /epoch 1 of 1, step \d+ of 200/.test(s)), 'steps counted');
    assert.ok(seen.some((s) => /elapsed \d+ s · about \d+ s left/.test(s)), `an estimate of the time left: ${seen.slice(-3).join(' | ')}`);
    const done = await page.textContent('#progress-line') ?? '';
    assert.match(done, /done: 1 epoch/);
    assert.not.match(done, /finishing/);
    assert.ok(await page.isEnabled('#cfg-epochs') && await page.isHidden('#cfg-locked'), 'settings unlocked after training');
    console.log(`  MLP trained 1×200 steps (quick preset, CPU) in ${secs(t0)} s; progress: ${seen.filter((s) => /left/.test(s)).slice(-1)[0]?.trim()}`);

    // epochs from 1 everywhere; plain names, the canonical ones in tooltips; charts with accessible names
    assert.is(await page.textContent('#epochs tbody tr td'), '1', 'the table counts epochs from 1');
    const specs = await lens<Record<string, { data: { values: { epoch?: number; tensor?: string }[] }; datasets: Record<string, { epoch: number; split: string }[]>; title: unknown }>>('specs');
    // the epochs' own points (the running points within an epoch sit at fractions of it: web/src/live.ts)
    assert.equal([...new Set(specs['chart-curves'].datasets.curves.filter((v) => v.split !== 'train, within the epoch').map((v) => v.epoch))], [1], 'the curves count epochs from 1');
    const panels = [...new Set(specs['chart-hist'].data.values.map((v) => v.tensor))];
    assert.equal(panels, ['layer 1, before ReLU', 'layer 1, after ReLU', 'layer 2, before ReLU', 'layer 2, after ReLU', 'logits'], JSON.stringify(panels));
    assert.is(await page.textContent('#heatmap-layer option'), 'layer 1, after ReLU');
    assert.is(await page.getAttribute('#heatmap-layer option', 'title'), 'layers.0.post');
    const unnamed = await page.$$eval('.chart canvas', (cs) => cs.filter((c) => c.getAttribute('role') !== 'img' || (c.getAttribute('aria-label') ?? '').length < 20).length);
    assert.is(unnamed, 0, 'every chart is an image with a name');
    assert.ok(await page.getByRole('img', { name: /Loss and accuracy per epoch\. Line charts .* epoch 1/ }).isVisible());

    // the explorer answers by itself after training (the last hidden layer's neuron 0), then for what is asked
    await page.waitForSelector('#ex-saliency[data-updates="1"]', { timeout: 60_000 });
    assert.match(await page.textContent('#ex-summary') ?? '', /neuron 0 of layer 2, after ReLU: most selective/);
    // the explorer: a neuron's health beside its selectivity; the saliency titled with the tensor it maps
    t0 = performance.now();
    await page.selectOption('#ex-layer', '1');
    assert.is((await page.textContent('#ex-layer option:checked'))?.trim(), 'layer 2, after ReLU (16 neurons)');
    await page.fill('#ex-neuron', '99');
    await page.click('#ex-go');
    assert.match(await page.textContent('#ex-summary') ?? '', /neuron 99: layer 2, after ReLU has neurons 0 to 15/);
    await page.fill('#ex-neuron', '3');
    await page.fill('#ex-image', '7');
    await page.click('#ex-go');
    await page.waitForSelector('#ex-saliency[data-updates="2"]', { timeout: 60_000 });
    assert.match(await page.textContent('#ex-health') ?? '', /health: fires \(> 0\) on [\d.]+ % of the 10,000 test images|dead: neuron 3 never fires/);
    assert.is(await page.getAttribute('#ex-summary .tensor', 'title'), 'layers.1.post');
    assert.is(await page.textContent('#ex-summary .tensor'), 'layer 2, after ReLU');
    const salTitle = (await lens<{ title: string | string[] }>('specs["ex-saliency"]')).title;
    assert.match([salTitle].flat().join(' '), /neuron 3 of layer 2, before ReLU/);
    assert.is(await page.getAttribute('#ex-saliency', 'data-tensor'), 'layers.1.pre');
    assert.ok(await page.isVisible('#ex-onehot'));
    console.log(`  explorer: ${await page.textContent('#ex-health')} (${secs(t0)} s)`);
    await page.$eval('#explorer', (el) => el.scrollIntoView({ block: 'start' }));
    await shot('explorer-mlp-1280');
    await checkLayout('after-mlp');

    // an upload asks first; a bad file changes nothing
    const updates = await page.getAttribute('#chart-curves', 'data-updates');
    const bad = join(tmp, 'bad.safetensors');
    writeFileSync(bad, 'this is not a safetensors file');
    await page.setInputFiles('#upload', bad);
    await page.waitForSelector('#upload-dialog[open]', { timeout: 10_000 });
    assert.match(await page.textContent('#upload-question') ?? '', /Replace the model trained here .* with bad\.safetensors\?/);
    await shot('upload-confirm-1280');
    await page.click('#upload-replace');
    await page.waitForFunction('window.mlpLens.errors.length', null, { timeout: 30_000 });
    assert.match((await lens<string[]>('errors'))[0], /could not analyse bad\.safetensors.*is kept/);
    assert.is(await lens<string>('model.source'), 'trained', 'the trained model is kept');
    assert.ok(await page.isVisible('#explorer'), 'the explorer is kept');
    assert.ok(await page.isVisible('#through'), 'through training is kept');
    assert.is(await page.getAttribute('#chart-curves', 'data-updates'), updates, 'the charts are kept');
    assert.is(await page.getAttribute('#ex-saliency', 'data-updates'), '2');
    assert.match(await page.textContent('#error') ?? '', /bad\.safetensors/, 'the error is shown beside the upload field');
    await page.$eval('#config', (el) => el.scrollIntoView({ block: 'start' }));
    await shot('upload-bad-file-1280');
    await page.evaluate('window.mlpLens.errors.length = 0; document.getElementById("error").textContent = ""');
    // "keep": nothing read
    const dead = join(tmp, 'dead-neuron.safetensors');
    writeFileSync(dead, deadNeuronModel());
    await page.setInputFiles('#upload', dead);
    await page.waitForSelector('#upload-dialog[open]', { timeout: 10_000 });
    await page.click('#upload-keep');
    assert.match(await page.textContent('#status') ?? '', /not read: the current model is kept/);
    assert.is(await lens<string>('model.source'), 'trained');
    // "replace": the file's model, and its dead neuron says so
    await page.setInputFiles('#upload', dead);
    await page.waitForSelector('#upload-dialog[open]', { timeout: 10_000 });
    await page.click('#upload-replace');
    await page.waitForFunction('window.mlpLens.model?.source === "uploaded" || window.mlpLens.errors.length', null, { timeout: 60_000 });
    assert.equal(await lens<string[]>('errors'), []);
    assert.ok(await page.isHidden('#progress-line'), `no progress line for an uploaded model: ${await page.textContent('#progress-line')}`);
    await page.selectOption('#ex-layer', '0');
    await page.fill('#ex-neuron', '0');
    await page.click('#ex-go');
    await page.waitForSelector('#ex-saliency[data-updates="3"]', { timeout: 60_000 });
    assert.ok(await page.$eval('#ex-health', (el) => el.classList.contains('dead')), 'the dead neuron\'s health is marked');
    assert.match(await page.textContent('#ex-health') ?? '', /dead: neuron 0 never fires — its activation is 0 on all 10,000 test images/);
    assert.ok(await page.getByRole('img', { name: /Selectivity of neuron 0 of layer 1, after ReLU per class \(dead: it never fires\)/ }).isVisible());
    await page.$eval('#explorer', (el) => el.scrollIntoView({ block: 'start' }));
    await shot('dead-neuron-1280');
    await resize(390, 844);
    await page.$eval('#ex-health', (el) => el.scrollIntoView({ block: 'start' }));
    await shot('dead-neuron-390');
    await resize(1280, 900);

    // the developer switch
    await page.click('#developer summary');
    await page.check('#dev-mode');
    assert.ok(await page.isVisible('#kernels'));
    assert.match(page.url(), /dev=1/);
    await page.$eval('#developer', (el) => el.scrollIntoView({ block: 'start' }));
    await shot('developer-on-1280');
    await page.uncheck('#dev-mode');
    assert.ok(await page.isHidden('#kernels'));

    // a CNN: its names, and the layout again
    t0 = performance.now();
    await page.selectOption('#cfg-preset', 'cnn-quick');
    assert.is(await page.inputValue('#cfg-arch'), 'cnn');
    assert.ok(await page.isVisible('#cfg-spec-field'));
    await page.fill('#cfg-steps', '30');
    await page.click('#train');
    await page.waitForFunction('window.mlpLens.model?.kind === "cnn" || window.mlpLens.errors.length', null, { timeout: 180_000 });
    assert.equal(await lens<string[]>('errors'), []);
    await page.waitForSelector('#chart-heatmap[data-epochs="1"]', { timeout: 30_000 });
    await page.waitForSelector('#cnn-maps[data-updates="1"]', { timeout: 30_000 });
    const cnnPanels = [...new Set((await lens<{ data: { values: { tensor: string }[] } }>('specs["chart-hist"]')).data.values.map((v) => v.tensor))];
    assert.ok(cnnPanels.includes('conv 1, after ReLU') && cnnPanels.includes('conv 2, after max-pooling') && cnnPanels.includes('dense 1, after ReLU'), JSON.stringify(cnnPanels));
    assert.match(await page.textContent('#progress-line') ?? '', /done: 1 epoch/);
    console.log(`  CNN trained 1×30 steps (CPU) in ${secs(t0)} s`);
    await checkLayout('after-cnn');

    console.log(`  charts drawn twice to fit their card: ${JSON.stringify(await lens<Record<string, number>>('refits'))}`);

    // the settings are kept for the next visit (localStorage), and the URL says them
    await page.goto(server.url);
    await page.waitForSelector('#cfg-arch');
    assert.is(await page.inputValue('#cfg-arch'), 'cnn');
    assert.is(await page.inputValue('#cfg-steps'), '30');
    assert.is(await page.inputValue('#cfg-device'), 'cpu');
    assert.match(page.url(), /arch=cnn/);
    assert.match(page.url(), /steps=30/);
    assert.equal(errors, [], 'no console error or page error');
    console.log(`  page UX end to end: ${secs(tStart)} s`);
  } finally {
    await browser.close();
  }
});

test.after(async () => {
  await server?.close();
  rmSync(tmp, { recursive: true, force: true });
});

test.run();
