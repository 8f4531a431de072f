// the page's Network section (issue 18; web/src/network-panel.ts), in headless Chromium on the page's CPU
// backend, one page for the whole file. An MLP (2 epochs × 60 steps): the view arrives at each epoch's end
// while training (epochs 1 and 2, before the model is ready); the network view draws 784 inputs as the
// digit, 32, 16 and 10 units and the thinned edges; the digit's rows (32, 16, 10 values) and its output
// probabilities equal Node's forward pass of the page's own model.safetensors (and sum to 1, their argmax
// the explorer's prediction); the 32 weight images are 28×28 and every pixel is the diverging colour of the
// downloaded file's layer-1 weight on the stated scale; clicking a node, a row's cell or a weight image sets
// the explorer's layer, neuron and image and explores it (outlined in the view), as does Enter on a focused
// node; Next and the explorer's weights selector (the initial weights) redraw it; no horizontal scroll and
// every drawing inside its card at 390×844 and 1280×900. A CNN (1 epoch × 30 steps): 8 and 16 channel
// heatmaps per conv layer (only the pooled ones on a phone), their largest values and the probabilities
// equal Node's forward of the downloaded file, and clicking a channel outlines it in the CNN explorer for
// the same digit. No console error. Screenshots of each state under MLP_LENS_WEB_SHOTS=DIR.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Page } from 'playwright-core';
import { noGrad, Tensor } from '../../engine/tensor.ts';
import { decodeNet } from '../../mlp/net-file.ts';
import type { Net } from '../../mlp/net.ts';
import type { Split } from '../../mlp/mnist.ts';
import { loadMnist } from '../../run/mnist-files.ts';
import { diverging } from '../../web/src/colours.ts';
import type { NetworkLens } from '../../web/src/network-panel.ts';
import type { WebServer } from '../../web/server.ts';
import { chromiumMissing, servePage, launchChromium, collectErrors, lensOf } from '../helpers/web-page.ts';

const tmp = mkdtempSync(join(tmpdir(), 'mlp-lens-network-view-'));
const shots = process.env.MLP_LENS_WEB_SHOTS;
const secs = (t0: number) => ((performance.now() - t0) / 1000).toFixed(1);
let server: WebServer | undefined;

/** Node's forward pass of test image `image`: every named activation and the softmax */
async function forwardOne(model: Net, split: Split, image: number): Promise<{ acts: Record<string, Float32Array>; probabilities: number[] }> {
  const d = model.inputSize;
  const x = Float32Array.from(split.images.subarray(image * d, (image + 1) * d), (v) => v / 255);
  const out = noGrad(() => model.forward(Tensor.from(x, [1, d], { backend: model.backend })));
  const acts: Record<string, Float32Array> = {};
  for (const [name, t] of Object.entries(out)) if (t) acts[name] = Float32Array.from(await t.read());
  const logits = Array.from(acts.logits), top = Math.max(...logits), e = logits.map((v) => Math.exp(v - top)), z = e.reduce((a, b) => a + b, 0);
  return { acts, probabilities: e.map((v) => v / z) };
}

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number) => a.length === b.length && Array.from(a).every((v, i) => Math.abs(v - b[i]) <= tol);

async function downloadModel(page: Page, name: string) {
  const [d] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), page.click('#dl-model')]);
  const path = join(tmp, name);
  await d.saveAs(path);
  return decodeNet(readFileSync(path), path);
}

test('the Network section: the network view, one digit through every layer and the weight images, linked to the explorer', async () => {
  if (chromiumMissing()) return;
  const tStart = performance.now();
  server = await servePage(tmp);
  if (shots) mkdirSync(shots, { recursive: true });
  const mnist = await loadMnist();
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    const errors = collectErrors(page);
    const lens = lensOf(page);
    const net = () => lens<NetworkLens>('network');
    const shot = async (name: string, id = 'network') => {
      if (!shots) return;
      await page.$eval(`#${id}`, (el) => el.scrollIntoView({ block: 'start' }));
      await page.screenshot({ path: join(shots, `${name}.png`) });
    };
    const resize = async (w: number, h: number) => {
      const before = await page.evaluate(() => window.innerWidth);
      await page.setViewportSize({ width: w, height: h });
      if (before !== w) await page.waitForSelector(`body[data-drawn-for="${w}"]`, { timeout: 60_000 });
      // the section is drawn again for its card's width (a ResizeObserver; the view, the rows and the weight images in three frames)
      await page.waitForFunction(() => {
        const card = document.getElementById('nv-net')!;
        return !card.offsetParent || card.dataset.drawnFor === String(card.clientWidth);
      }, null, { timeout: 10_000 });
    };
    /** no horizontal scroll; the view, the rows and the weight images inside their cards, the cards inside the section */
    const layout = () => page.evaluate(() => {
      const out: string[] = [];
      const inside = (a: DOMRect, b: DOMRect) => a.left >= b.left - 0.5 && a.right <= b.right + 0.5;
      const section = document.getElementById('network')!.getBoundingClientRect();
      let drawn = 0;
      for (const id of ['nv-net', 'nv-sample', 'nv-weights']) {
        const c = document.getElementById(id)!;
        if (!c.offsetParent) continue;
        const card = c.getBoundingClientRect();
        if (!inside(card, section)) out.push(`#${id} ${card.left}–${card.right} outside the section ${section.left}–${section.right}`);
        for (const e of Array.from(c.querySelectorAll('svg, canvas'))) {
          drawn++;
          const r = e.getBoundingClientRect();
          if (!inside(r, card)) out.push(`a ${e.tagName} of #${id}: ${r.left}–${r.right} outside its card ${card.left}–${card.right}`);
        }
      }
      // the view's labels inside the drawing
      const svg = document.querySelector('#nv-net svg')!.getBoundingClientRect();
      for (const t of Array.from(document.querySelectorAll('#nv-net text'))) {
        const r = t.getBoundingClientRect();
        if (!inside(r, svg)) out.push(`label "${t.textContent}" ${r.left}–${r.right} outside the view ${svg.left}–${svg.right}`);
      }
      // the columns' headers side by side, none over the next
      const heads = Array.from(document.querySelectorAll('#nv-net .nv-heads text'));
      for (let i = 1; i < heads.length; i++) {
        const a = heads[i - 1].getBoundingClientRect(), b = heads[i].getBoundingClientRect();
        if (b.left < a.right - 0.5) out.push(`header "${heads[i].textContent}" (${b.left}) over "${heads[i - 1].textContent}" (${a.right})`);
      }
      return { scroll: document.documentElement.scrollWidth - window.innerWidth, out, drawn };
    });
    const checkLayout = async (what: string) => {
      for (const [w, h] of [[390, 844], [1280, 900]] as const) {
        await resize(w, h);
        const l = await layout();
        assert.ok(l.scroll <= 0, `${what} at ${w} px: no horizontal scroll (${l.scroll} px too wide)`);
        assert.equal(l.out, [], `${what} at ${w} px: every drawing inside its card`);
        console.log(`  ${what} at ${w} px: ${l.drawn} drawings inside their cards, scroll ${l.scroll} px`);
        await shot(`network-${what}-${w}`);
        if (shots) await page.locator('#network').screenshot({ path: join(shots, `network-${what}-${w}-full.png`) });
      }
    };

    // ---------- an MLP, 2 epochs × 60 steps on the CPU backend
    await page.goto(`${server.url}?epochs=2&steps=60&device=cpu`);
    await page.waitForSelector('body[data-ready="1"]', { timeout: 60_000 });
    assert.ok(await page.isHidden('#network'), 'no network section before training');
    let t0 = performance.now();
    await page.click('#train');
    // the view of each epoch's end arrives while training
    await page.waitForFunction('window.mlpLens.network?.live && window.mlpLens.training', null, { timeout: 120_000 });
    assert.match(await page.textContent('#nv-status') ?? '', /through the weights after epoch \d · while training/);
    await shot('network-mlp-training-1280');
    await page.waitForFunction('window.mlpLens.model || window.mlpLens.errors.length', null, { timeout: 120_000 });
    assert.equal(await lens<string[]>('errors'), [], 'no error on the page');
    await page.waitForFunction('window.mlpLens.network && !window.mlpLens.network.live', null, { timeout: 30_000 });
    let v = await net();
    assert.equal(v.liveEpochs, [0, 1], 'a view at the end of each epoch while training');
    assert.is(v.epoch, 1, 'after training: the explorer\'s epoch (the last)');
    assert.match(await page.textContent('#nv-status') ?? '', /test image #0 through the weights after epoch 2 of 2/);
    console.log(`  MLP trained 2×60 steps in ${secs(t0)} s; live views after epochs ${v.liveEpochs.map((e) => e + 1).join(', ')}; longest render task ${v.renderMs} ms`);

    // the network view: the input as the digit, 32, 16 and 10 units, the edges thinned
    assert.equal(v.net.columns, [
      { name: 'input', kind: 'image', count: 784, shown: 784 }, { name: 'layers.0.post', kind: 'units', count: 32, shown: 32 },
      { name: 'layers.1.post', kind: 'units', count: 16, shown: 16 }, { name: 'logits', kind: 'units', count: 10, shown: 10 },
    ]);
    assert.is(await page.getAttribute('#nv-net image.nv-input', 'data-pixels'), '784');
    const nodes = async (col: string) => page.locator(`#nv-net [data-col="${col}"] .nv-node`).count();
    assert.equal([await nodes('layers.0.post'), await nodes('layers.1.post'), await nodes('logits')], [32, 16, 10]);
    const edges = async (from: string, to: string) => page.locator(`#nv-net [data-from="${from}"][data-to="${to}"] line`).count();
    assert.equal([await edges('input', 'layers.0.post'), await edges('layers.0.post', 'layers.1.post'), await edges('layers.1.post', 'logits')], [32 * 5, 32 * 16, 16 * 10]);
    assert.match(await page.getAttribute('#nv-net svg', 'aria-label') ?? '', /Network view of an MLP: the input digit as a small image, layer 1, after ReLU as 32 circles, layer 2, after ReLU as 16 circles, the output as 10 circles/);
    const heads = await page.$$eval('#nv-net .nv-heads text', (ts) => ts.map((t) => [Array.from(t.querySelectorAll('tspan')).map((s) => s.textContent).join(' / '), t.querySelector('title')?.textContent]));
    assert.equal(heads, [
      ['input / 28×28 pixels', 'input pixels (input): 28×28 = 784'], ['layer 1 · 32 / after ReLU', 'layer 1, after ReLU (layers.0.post): 32 neurons'],
      ['layer 2 · 16 / after ReLU', 'layer 2, after ReLU (layers.1.post): 16 neurons'], ['output · 10 / softmax', 'output (logits, softmax as probabilities): 10 classes'],
    ], 'plain names, the canonical ones in the tooltips');

    // the page's own weights, read in Node: the digit's pass and the weight images against them
    t0 = performance.now();
    const mlp = await downloadModel(page, 'mlp.safetensors');
    const node0 = await forwardOne(mlp.model, mnist.test, 0);
    assert.ok(close(v.probabilities, node0.probabilities, 1e-5), `the probabilities are Node's: ${v.probabilities.map((p) => p.toFixed(4))} vs ${node0.probabilities.map((p) => p.toFixed(4))}`);
    assert.ok(Math.abs(v.probabilities.reduce((a, b) => a + b, 0) - 1) < 1e-5, 'they sum to 1');
    assert.is(v.predicted, node0.probabilities.indexOf(Math.max(...node0.probabilities)));
    assert.is(v.label, mnist.test.labels[0]);
    assert.equal(v.sample.rows.map((r) => [r.name, r.width]), [['layers.0.post', 32], ['layers.1.post', 16], ['logits', 10]], 'a row per layer, of its width');
    for (const name of ['layers.0.post', 'layers.1.post', 'logits']) {
      const cells = await page.$$eval(`#nv-sample .sv-row[data-name="${name}"] rect.sv-cell`, (rs) => rs.map((r) => Number(r.getAttribute('data-v'))));
      assert.ok(close(cells, node0.acts[name], 1e-5), `${name}: the cells hold Node's activations`);
    }
    const bars = await page.$$eval('#nv-sample rect.sv-bar', (rs) => rs.map((r) => Number(r.getAttribute('data-p'))));
    assert.ok(close(bars, node0.probabilities, 1e-5), 'the probability bars');
    const circles = await page.$$eval('#nv-net [data-col="layers.0.post"] .nv-node', (gs) => gs.map((g) => Number(g.getAttribute('data-value'))));
    assert.ok(close(circles, node0.acts['layers.0.post'], 1e-5), 'the view\'s nodes are coloured by the same activations');
    // the weight images: 32 of 28×28, each pixel the diverging colour of its weight on the one stated scale
    const W = mlp.layers[0].W, C = mlp.layers[0].dOut;
    let scale = 0;
    for (const w of W) scale = Math.max(scale, Math.abs(w));
    assert.equal(v.weights, { drawn: 32, neurons: 32, scale: Math.fround(scale), side: [28, 28] });
    assert.is(Number(await page.getAttribute('#nv-weights .nv-weights', 'data-scale')), Math.fround(scale));
    const images = await page.$$eval('#nv-weights figure.nv-wimg canvas', (cs) => cs.map((c) => {
      const k = c as HTMLCanvasElement;
      return { w: k.width, h: k.height, rgba: Array.from(k.getContext('2d')!.getImageData(0, 0, k.width, k.height).data) };
    }));
    assert.is(images.length, 32);
    let worst = 0;
    images.forEach((im, j) => {
      assert.is(`${im.w}×${im.h}`, '28×28');
      for (let p = 0; p < 784; p++) {
        const want = diverging(W[p * C + j] / scale);
        for (let ch = 0; ch < 3; ch++) worst = Math.max(worst, Math.abs(im.rgba[p * 4 + ch] - want[ch]));
      }
    });
    assert.ok(worst <= 1, `every weight image's pixel is its weight's colour (worst channel difference ${worst})`);
    assert.match(await page.textContent('#nv-weights-caption') ?? '', /all 32 neurons of layer 1, after ReLU, each its 28×28 incoming weights; one scale for all: −[\d.]+\s*\+[\d.]+/);
    console.log(`  the view, the digit's rows and 32 weight images equal Node's reading of model.safetensors (${secs(t0)} s)`);
    await shot('network-mlp-1280');

    // a node clicked: the explorer explores it, for the digit shown; the node outlined. (The explorer may
    // still be answering for its default neuron: the click is explored after it.)
    t0 = performance.now();
    /** the explorer has answered for neuron `n` of layer `l` and is free */
    const explored = (l: number, n: number) => page.waitForFunction(
      `window.mlpLens.neuron?.layer === ${l} && window.mlpLens.neuron?.neuron === ${n} && !document.getElementById('ex-go').disabled`, null, { timeout: 60_000 });
    await page.click('#nv-net [data-col="layers.1.post"] .nv-node[data-unit="5"]');
    await explored(1, 5);
    assert.is(await page.inputValue('#ex-layer'), '1');
    assert.is(await page.inputValue('#ex-neuron'), '5');
    assert.is(await page.inputValue('#ex-image'), '0');
    const r = await lens<{ layer: number; neuron: number; saliency: { index: number; predicted: number } }>('neuron');
    assert.equal([r.layer, r.neuron, r.saliency.index], [1, 5, 0]);
    assert.is(r.saliency.predicted, v.predicted, 'the explorer\'s prediction for the digit is the view\'s');
    assert.match(await page.textContent('#ex-summary') ?? '', /neuron 5 of layer 2, after ReLU: most selective for classes/);
    assert.is(await page.locator('#nv-net [data-col="layers.1.post"] .nv-node.chosen').count(), 1);
    assert.is(await page.getAttribute('#nv-net [data-col="layers.1.post"] .nv-node.chosen', 'data-unit'), '5');
    assert.is(await page.locator('#nv-sample .sv-row[data-name="layers.1.post"] rect.chosen[data-unit="5"]').count(), 1, 'outlined in the digit\'s rows too');
    await shot('network-mlp-chosen-1280');
    await shot('network-mlp-explorer-1280', 'explorer');
    // a weight image clicked: neuron 3 of layer 1
    await page.click('#nv-weights figure.nv-wimg[data-unit="3"]');
    await explored(0, 3);
    assert.equal([await page.inputValue('#ex-layer'), await page.inputValue('#ex-neuron')], ['0', '3']);
    assert.equal(await page.evaluate('[window.mlpLens.neuron.layer, window.mlpLens.neuron.neuron]'), [0, 3]);
    assert.is(await page.locator('#nv-weights figure.nv-wimg.chosen[data-unit="3"]').count(), 1);
    assert.is(await page.getAttribute('#nv-net .nv-node.chosen', 'data-unit'), '3');
    // a cell of the digit's rows clicked: neuron 7 of layer 1
    await page.click('#nv-sample .sv-row[data-name="layers.0.post"] rect.sv-cell[data-unit="7"]');
    await explored(0, 7);
    // a cell of the live heatmap clicked (its layer: the select's, layer 1 by default): neuron 11 of layer 1.
    // The cell is found in the chart's Vega scenegraph: the rect whose datum is neuron 11, its place on the canvas
    await page.locator('#chart-heatmap canvas').scrollIntoViewIfNeeded();
    const cell = await page.evaluate(() => {
      const view = (globalThis as unknown as { mlpLensViews: Map<string, { view: { scenegraph(): { root: unknown }; origin(): [number, number] } }> })
        .mlpLensViews.get('chart-heatmap')!.view;
      type Item = { x?: number; y?: number; width?: number; height?: number; datum?: { neuron?: number }; items?: Item[]; marktype?: string };
      const find = (it: Item, ox: number, oy: number, inRect: boolean): { x: number; y: number } | null => {
        if (inRect && it.datum?.neuron === 11) return { x: ox + (it.x ?? 0) + (it.width ?? 0) / 2, y: oy + (it.y ?? 0) + (it.height ?? 0) / 2 };
        // a group's items are placed relative to it; a mark's items are not
        const [gx, gy] = it.marktype === undefined && it.items && !inRect ? [ox + (it.x ?? 0), oy + (it.y ?? 0)] : [ox, oy];
        for (const c of it.items ?? []) {
          const r = find(c, gx, gy, it.marktype === 'rect');
          if (r) return r;
        }
        return null;
      };
      const [x0, y0] = view.origin();
      const at = find(view.scenegraph().root as Item, x0, y0, false);
      const box = document.querySelector('#chart-heatmap canvas')!.getBoundingClientRect();
      return at && { x: box.left + at.x, y: box.top + at.y };
    });
    assert.ok(cell, 'the heatmap has a cell for neuron 11');
    assert.is(await page.inputValue('#heatmap-layer'), 'layers.0.post');
    await page.mouse.click(cell!.x, cell!.y);
    await explored(0, 11);
    assert.is(await page.getAttribute('#nv-net .nv-node.chosen', 'data-unit'), '11', 'outlined in the network view');
    // by keyboard: a node focused, Enter
    await page.focus('#nv-net [data-col="layers.0.post"] .nv-node[data-unit="2"]');
    await page.keyboard.press('Enter');
    await explored(0, 2);
    // the explorer's own choice (a pick button) is outlined in the view
    const before = Number(await page.getAttribute('#ex-saliency', 'data-updates'));
    await page.click('#ex-picks button >> nth=4');
    await page.waitForSelector(`#ex-saliency[data-updates="${before + 1}"]`, { timeout: 60_000 });
    const picked = await lens<number>('neuron.neuron');
    await page.waitForFunction(`window.mlpLens.network.chosen?.unit === ${picked}`, null, { timeout: 10_000 });
    assert.is(await page.getAttribute('#nv-net .nv-node.chosen', 'data-unit'), String(picked));
    console.log(`  node, weight image, row cell, heatmap cell, Enter and the explorer's pick all explore and outline the neuron (${secs(t0)} s)`);

    // another digit: Next
    const updates = (await net()).updates;
    await page.click('#nv-next');
    await page.waitForFunction(`window.mlpLens.network.updates > ${updates}`, null, { timeout: 30_000 });
    v = await net();
    assert.is(v.image, 1);
    assert.is(await page.inputValue('#nv-image'), '1');
    assert.ok(close(v.probabilities, (await forwardOne(mlp.model, mnist.test, 1)).probabilities, 1e-5), 'test image 1\'s probabilities are Node\'s');
    // the initial weights, through the explorer's weights selector
    await page.selectOption('#ex-epoch', '-1');
    await page.waitForFunction('window.mlpLens.network.epoch === -1', null, { timeout: 30_000 });
    v = await net();
    assert.ok(v.weights!.scale !== Math.fround(scale), 'the initial weights\' images have their own scale');
    assert.match(await page.textContent('#nv-status') ?? '', /the initial weights/);
    await page.selectOption('#ex-epoch', '1');
    await page.waitForFunction('window.mlpLens.network.epoch === 1', null, { timeout: 30_000 });
    await checkLayout('mlp');

    // ---------- a CNN, 1 epoch × 30 steps
    t0 = performance.now();
    await page.selectOption('#cfg-preset', 'cnn-quick');
    await page.fill('#cfg-steps', '30');
    await page.fill('#cfg-lr', '0.03');
    await page.fill('#cfg-momentum', '0.9');
    await page.selectOption('#cfg-device', 'cpu');
    await page.click('#train');
    await page.waitForFunction('window.mlpLens.model?.kind === "cnn" || window.mlpLens.errors.length', null, { timeout: 180_000 });
    assert.equal(await lens<string[]>('errors'), []);
    await page.waitForFunction('window.mlpLens.network && !window.mlpLens.network.live', null, { timeout: 30_000 });
    await page.waitForSelector('#cnn-maps[data-updates="1"]', { timeout: 30_000 });
    v = await net();
    assert.equal(v.liveEpochs, [0]);
    assert.is(v.image, 1, 'the digit chosen stays');
    assert.equal(v.net.columns.map((c) => `${c.name} ${c.kind} ${c.count}`), [
      'input image 784', 'layers.0.post maps 8', 'layers.0.pool maps 8', 'layers.1.post maps 16', 'layers.1.pool maps 16', 'layers.2.post units 32', 'logits units 10',
    ]);
    assert.equal([await nodes('layers.0.post'), await nodes('layers.0.pool'), await nodes('layers.1.post'), await nodes('layers.1.pool')], [8, 8, 16, 16]);
    assert.is(await page.locator('#nv-net [data-col="layers.1.pool"] .nv-node image').count(), 16, 'each channel a heatmap');
    assert.ok(await page.isHidden('#nv-weights-card'), 'no weight images for a CNN (its explorer shows the filters)');
    assert.equal(v.sample.rows.map((r) => [r.name, r.width]), [['layers.2.post', 32], ['logits', 10]]);
    const cnn = await downloadModel(page, 'cnn.safetensors');
    const node1 = await forwardOne(cnn.model, mnist.test, 1);
    assert.ok(close(v.probabilities, node1.probabilities, 1e-5), 'the CNN\'s probabilities are Node\'s');
    const pool = node1.acts['layers.1.pool'], per = pool.length / 16;
    const maxes = Array.from({ length: 16 }, (_, c) => Math.max(...pool.subarray(c * per, (c + 1) * per).map(Math.abs)));
    const shown = await page.$$eval('#nv-net [data-col="layers.1.pool"] .nv-node', (gs) => gs.map((g) => Number(g.getAttribute('data-value'))));
    assert.ok(close(shown, maxes, 1e-5), 'each conv 2 pooled map\'s largest value is Node\'s');
    assert.match(await page.getAttribute('#nv-net svg', 'aria-label') ?? '', /a CNN: the input digit, conv 1, after ReLU as 8 small heatmaps/);
    await shot('network-cnn-1280');
    // a channel clicked: the CNN explorer shows the digit, the channel outlined
    await page.click('#nv-net [data-col="layers.1.pool"] .nv-node[data-unit="5"]');
    await page.waitForSelector('#cnn-maps[data-updates="2"]', { timeout: 30_000 });
    await page.waitForSelector('#cnn-maps[data-channel="1:5"]', { timeout: 10_000 });
    assert.is(await lens<number>('cnn.image'), 1);
    assert.is(await page.inputValue('#ex-image'), '1');
    assert.equal(await page.$$eval('#cnn-maps figure.nv-chosen', (fs) => fs.map((f) => `${f.closest('.map-group')!.getAttribute('data-name')} ${f.getAttribute('data-channel')}`)),
      ['layers.1.pre 5', 'layers.1.post 5', 'layers.1.pool 5']);
    assert.is(await page.getAttribute('#nv-net .nv-node.chosen', 'data-unit'), '5');
    await shot('network-cnn-explorer-1280', 'explorer');
    // conv 1's channel: its filter too
    await page.click('#nv-net [data-col="layers.0.post"] .nv-node[data-unit="2"]');
    await page.waitForSelector('#cnn-maps[data-channel="0:2"]', { timeout: 30_000 });
    await page.waitForSelector('#cnn-maps[data-updates="3"]', { timeout: 30_000 });
    assert.is(await page.locator('#cnn-filters figure.nv-chosen[data-channel="2"]').count(), 1);
    console.log(`  CNN trained 1×30 steps; 8 and 16 channel heatmaps equal Node's maps; a channel click outlines it in the CNN explorer (${secs(t0)} s)`);
    await checkLayout('cnn');
    await resize(390, 844);
    v = await net();
    assert.equal(v.net.columns.map((c) => c.name), ['input', 'layers.0.pool', 'layers.1.pool', 'layers.2.post', 'logits'], 'a phone: the pooled maps only');
    await resize(1280, 900);

    assert.equal(await lens<string[]>('errors'), [], 'no error on the page');
    assert.equal(errors, [], 'no console error or page error');
    console.log(`  longest task of the section's renders on the main thread: ${(await net()).renderMs} ms (the CNN's); network view end to end: ${secs(tStart)} s`);
  } finally {
    await browser.close();
  }
});

test.after(async () => {
  await server?.close();
  rmSync(tmp, { recursive: true, force: true });
});

test.run();
