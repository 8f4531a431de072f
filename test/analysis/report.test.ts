// the report end to end: a tiny run made by bench/train.js (2 epochs of 5 steps, statistics on), the
// post-training suite on the first 1000 test images (small options, so the test stays quick), then
// report.html opened from disk in headless Chromium: every expected figure present and drawn, every image
// decoded, no console error, no request leaving the page. Skips, saying why, only where Chromium is
// missing (.ci/run installs it and sets MLP_LENS_REQUIRE_CHROMIUM=1, which turns the skip into a failure).
// MLP_LENS_REPORT_SHOTS=DIR also saves a screenshot of every figure there, to look at.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildFigures } from '../../analysis/figures/index.ts';
import { loadRunResults, svgToPng, writeReport } from '../../run/report.ts';
import { renderSvg } from '../../analysis/report.ts';
import { pngSize } from '../../analysis/png.ts';
import { loadSavedModel, savePostTrainingResults } from '../../run/analyze.ts';
import { runPostTrainingSuite } from '../../analysis/suite.ts';
import { loadMnist } from '../../run/mnist-files.ts';
import { figureInfo } from '../helpers/report-page.ts';
import { skipped } from '../helpers/skip.ts';
import { mlpOnly } from '../../mlp/net.ts';

const CHROMIUM = '/usr/bin/chromium';

/** every figure of a 784-32-16-10 run with statistics and analyses, in report order */
const EXPECTED = [
  'input-histogram', 'input-histogram-per-digit', 'input-mean-per-digit', 'input-mean-std-per-digit',
  'training-curves', 'layer1-histograms', 'activation-histograms', 'activation-drift', 'misclassified',
  'per-class-histograms', 'per-class-drift', 'per-class-accuracy', 'pca', 'pca-top5', 'tsne', 'umap',
  'hidden-drift', 'neuron-heatmap-layer1', 'neuron-heatmap-layer2', 'topk-table', 'grad-loss-bars',
  'grad-true-logit-bars', 'selectivity', 'logits-vs-scale', 'accuracy-vs-scale', 'focus-ablation-diff',
  'confusion-max-diff', 'layer-sweep', 'neuron-sweep-accuracy', 'confusion-baseline', 'confusion-ablation',
  'confusion-ablation-diff', 'subspace-0-pca', 'subspace-1-pca', 'silhouette-subsets', 'silhouette-vs-size', 'class-means-logits', 'class-means-layer1',
  'class-means-layer2', 'saliency', 'onehot-maps',
  // the run keeps snapshots/ but has no through-training.json (the suite is run here without it)
  'tt-weights-layer1',
];
/** the figures drawn as images (PNG data URIs inside the SVG) */
const IMAGE_FIGURES = ['misclassified', 'saliency', 'onehot-maps', 'tt-weights-layer1'];

const tmp = mkdtempSync(join(tmpdir(), 'mlp-lens-report-'));
const run = join(tmp, 'run');
const cli = (...args: string[]) => spawnSync(process.execPath, ['bench/train.js', ...args], { encoding: 'utf8', timeout: 180_000 });

test('bench/train.js writes report.html at the end of a run; --no-report does not', () => {
  const r = cli('--epochs', '2', '--steps', '5', '--device', 'cpu', '--no-analysis', '--quiet', '--out', run);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /report: .*report\.html \(\d+ figures, [\d.]+ s\)/);
  assert.not.match(r.stderr, /report not written/);
  const html = readFileSync(join(run, 'report.html'), 'utf8');
  for (const id of ['input-histogram', 'training-curves', 'layer1-histograms', 'neuron-heatmap-layer2']) assert.ok(html.includes(`id="fig-${id}"`), id);
  assert.ok(html.includes('no analysis/ folder'), 'says why the analysis figures are missing');
  assert.ok(existsSync(join(run, 'figures', 'training-curves.csv')));
  const quiet = join(tmp, 'no-report');
  const q = cli('--epochs', '1', '--steps', '2', '--device', 'cpu', '--no-analysis', '--no-record', '--quiet', '--no-report', '--out', quiet);
  assert.is(q.status, 0, q.stderr);
  assert.not.ok(existsSync(join(quiet, 'report.html')));
});

test('the report of a run with analyses has every expected figure, with data files and PNG export', async () => {
  // the suite on the first 1000 test images with small options: the same code path as --analyze, seconds not tens
  const saved = await loadSavedModel(run), dir = saved.dir, model = mlpOnly(saved.model, 'this test');
  const mnist = await loadMnist();
  const n = 1000, d = mnist.test.rows * mnist.test.cols;
  const test1k = { ...mnist.test, count: n, images: mnist.test.images.subarray(0, n * d), labels: mnist.test.labels.subarray(0, n) };
  const results = await runPostTrainingSuite(model, test1k, {
    steps: 6, tsne: { sample: 150, perplexity: 10, iterations: 260 }, umap: { sample: 150, nEpochs: 40 },
    randomTrials: 3, sizeTrials: 2, silhouetteSample: 300, saliency: { cls: 9, nth: 3 },
  });
  await savePostTrainingResults(dir, results);
  const t0 = performance.now();
  const rep = await writeReport(dir, { test: mnist.test });
  console.log(`  report of the small run: ${rep.figures.length} figures in ${((performance.now() - t0) / 1000).toFixed(2)} s ` +
    `(load ${rep.timings.load.toFixed(2)}, render ${rep.timings.render.toFixed(2)}, write ${rep.timings.write.toFixed(2)})`);
  assert.equal(rep.figures, EXPECTED);
  for (const id of EXPECTED) {
    const csv = readFileSync(join(dir, 'figures', `${id}.csv`), 'utf8');
    assert.ok(csv.split('\n').length > 2, `${id}.csv has rows`);
    const spec = JSON.parse(readFileSync(join(dir, 'figures', `${id}.vl.json`), 'utf8'));
    assert.ok(spec.$schema?.includes('vega-lite'), `${id}.vl.json is a Vega-Lite spec`);
  }
  // the saved run alone gives the same figures (nothing came from memory)
  assert.equal(buildFigures(await loadRunResults(dir)).figures.map((f) => f.id), EXPECTED);
  // PNG export of two figures (every one with --png): real PNGs of the SVG's size at 2×
  const results2 = buildFigures(await loadRunResults(dir, { test: mnist.test })).figures;
  for (const id of ['per-class-accuracy', 'onehot-maps']) {
    const svg = await renderSvg(results2.find((f) => f.id === id)!.spec);
    const w = Number(/width="(\d+)"/.exec(svg)![1]);
    const png = await svgToPng(svg);
    assert.is(pngSize(png).width, 2 * w, `${id}.png width`);
  }
});

test('report.html opens from disk in headless Chromium: every figure drawn, images decoded, no error', async () => {
  if (!existsSync(CHROMIUM)) {
    if (process.env.MLP_LENS_REQUIRE_CHROMIUM) assert.unreachable(`${CHROMIUM} is missing and MLP_LENS_REQUIRE_CHROMIUM is set`);
    skipped(`${CHROMIUM} not found (apt-get install chromium; .ci/run does)`);
    return;
  }
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: ['--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [], requests: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') errors.push(`console.${m.type()}: ${m.text()}`); });
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('request', (r) => { if (!/^(file|data):/.test(r.url())) requests.push(r.url()); });
    const t0 = performance.now();
    await page.goto(pathToFileURL(resolve(run, 'report.html')).href, { waitUntil: 'load' });
    const loadMs = performance.now() - t0;
    const found = await page.$$eval('figure.figure', (fs) => fs.map((f) => f.id.replace(/^fig-/, '')));
    assert.equal(found, EXPECTED, 'figures in the page, in order');
    const sections = await page.$$eval('main > section h2', (hs) => hs.map((h) => h.textContent ?? ''));
    assert.match(sections[0], /Input statistics/);
    assert.match(sections[sections.length - 2], /Saliency and one-hot/);
    assert.match(sections[sections.length - 1], /Through training/);
    for (const id of EXPECTED) {
      const f = await figureInfo(page, id);
      const info = { ...f, images: f.imageSizes.length, decoded: f.imageSizes.filter((n) => n > 0).length };
      assert.ok(info.width > 100 && info.height > 50, `${id}: the SVG has a size (${info.width}×${info.height})`);
      assert.ok(info.marks > 0, `${id}: the SVG has marks`);
      assert.ok(info.texts > 3, `${id}: labels and titles`);
      if (IMAGE_FIGURES.includes(id)) {
        assert.ok(info.images > 0 && info.decoded === info.images, `${id}: ${info.decoded} of ${info.images} PNG images decoded`);
      }
      assert.match(info.caption, /^Figure \d+\. \S/, `${id}: caption`);
      assert.ok(info.links.includes(`figures/${id}.csv`), `${id}: links its CSV`);
      for (const href of info.links) assert.ok(existsSync(join(run, href)), `${id}: link ${href} exists in the run directory`);
    }
    const shots = process.env.MLP_LENS_REPORT_SHOTS;
    if (shots) for (const id of EXPECTED) await page.locator(`#fig-${id}`).screenshot({ path: join(shots, `${id}.png`) });
    // on a phone: each figure's data line wraps inside its card (it ran past the edge), the contents in one column
    await page.setViewportSize({ width: 390, height: 844 });
    const narrow = await page.$$eval('figure.figure', (fs) => fs.map((f) => {
      const card = f.getBoundingClientRect(), links = f.querySelector('figcaption .links')!.getBoundingClientRect();
      return { id: f.id, over: Math.round(links.right - card.right) };
    }));
    assert.equal(narrow.filter((f) => f.over > 0), [], 'at 390 px every data line ends inside its card');
    assert.is(await page.$eval('nav ol', (ol) => getComputedStyle(ol).columnCount), '1', 'one column of contents at 390 px');
    console.log(`  report.html: ${(readFileSync(join(run, 'report.html')).length / 1e6).toFixed(1)} MB, loaded in ${loadMs.toFixed(0)} ms`);
    assert.equal(errors, [], 'no console error or page error');
    assert.equal(requests, [], 'no network request');
  } finally {
    await browser.close();
  }
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));

test.run();
