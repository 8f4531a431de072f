// the report's section "Through training" on a constructed through-training.json (784-8-6-10, epochs
// init–2, test/analysis/through-training-fixture.ts) and snapshots/: the validator's bounds and shapes,
// the biographies' marks against the ones built in, every figure with a computed caption, CSV and spec,
// the section skipped and named when the file is absent or unsound, the findings with their tables, and
// report.html in headless Chromium: every figure of the section drawn, its images decoded (skips, saying
// why, where Chromium is missing). MLP_LENS_REPORT_SHOTS=DIR saves the section at 1280 and 390 px there.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildFigures } from '../../analysis/figures/index.ts';
import { everyOtherEpoch, neuronMarks, spreadPositions } from '../../analysis/figures/through-training.ts';
import { THROUGH_TRAINING_LIMITS, validateThroughTraining } from '../../analysis/through-training-json.ts';
import { loadRunResults, weightEpochs, writeReport } from '../../run/report.ts';
import { figureInfo } from '../helpers/report-page.ts';
import { skipped } from '../helpers/skip.ts';
import { makeThroughTraining, TT_SIZES, writeFixtureSnapshots } from './through-training-fixture.ts';

const CHROMIUM = '/usr/bin/chromium';
const SECTION = [
  'tt-biographies-layer1', 'tt-biographies-layer2', 'tt-cka-epochs', 'tt-cka-layers', 'tt-probe-silhouette',
  'tt-aligned-pca-layer1', 'tt-aligned-pca-layer2', 'tt-weights-layer1',
];
const fresh = () => JSON.parse(JSON.stringify(makeThroughTraining()));

const tmp = mkdtempSync(join(tmpdir(), 'mlp-lens-report-tt-'));
const run = join(tmp, 'run');

test.before(async () => {
  await writeFixtureSnapshots(run);
  writeFileSync(join(run, 'through-training.json'), JSON.stringify(makeThroughTraining()));
});
test.after(() => rmSync(tmp, { recursive: true, force: true }));

test('the fixture is valid; nulls read back as NaN where the producer may write one', () => {
  const v = fresh();
  v.perEpoch[0].layers[0].silhouette = null;
  v.ckaEpochs[1][0][2] = null;
  const tt = validateThroughTraining(v);
  assert.ok(Number.isNaN(tt.perEpoch[0].layers[0].silhouette));
  assert.ok(Number.isNaN(tt.ckaEpochs[1][0][2]));
  assert.equal(tt.sizes, TT_SIZES);
});

test('the validator names the first problem: shapes against sizes, epochs and sample; ranges; bounds', () => {
  const cases: [(v: any) => unknown, RegExp][] = [
    [(v) => { v.format = 'x'; }, /^\$\.format: expected "mlp-lens\/through-training"/],
    [(v) => { v.classes = 9; }, /\$\.classes: 9, but the last of \$\.sizes is 10/],
    [(v) => { v.perEpoch[2].layers[1].selectivity[3] = [1, 2]; }, /\$\.perEpoch\[2\]\.layers\[1\]\.selectivity\[3\]: expected 6 entries, got 2/],
    [(v) => { v.perEpoch[1].layers[0].topClass[0] = 10; }, /\$\.perEpoch\[1\]\.layers\[0\]\.topClass\[0\]: class 10 out of range/],
    // −1 (no top class) only for a dead neuron
    [(v) => { v.perEpoch[1].layers[0].topClass[0] = -1; }, /\$\.perEpoch\[1\]\.layers\[0\]\.topClass\[0\]: class -1 out of range/],
    [(v) => { v.perEpoch[1].layers[0].dead = [1, 1]; }, /\$\.perEpoch\[1\]\.layers\[0\]\.dead: expected distinct neurons/],
    [(v) => { v.perEpoch[0].layers[0].activeFraction[2] = null; }, /activeFraction\[2\]: expected a finite number, got null/],
    [(v) => { v.perEpoch[0].layers[0].activeFraction[2] = 1.5; }, /activeFraction\[2\]: expected a fraction in \[0, 1\], got 1\.5/],
    [(v) => { v.perEpoch[3].layers[1].aligned.pop(); }, /\$\.perEpoch\[3\]\.layers\[1\]\.aligned: expected 60 entries, got 59/],
    [(v) => { v.perEpoch[3].epoch = 7; }, /\$\.perEpoch\[3\]\.epoch: expected 2 \(\$\.epochs\[3\]\), got 7/],
    [(v) => { v.epochs = [-1, 1, 0, 2]; }, /\$\.epochs\[2\]: expected epochs in ascending order/],
    [(v) => { v.ckaEpochs[0][3] = [1]; }, /\$\.ckaEpochs\[0\]\[3\]: expected 4 entries, got 1/],
    [(v) => { v.ckaEpochs.pop(); }, /\$\.ckaEpochs: expected 2 entries, got 1/],
    [(v) => { v.sample.perClass[0] = 5; }, /\$\.sample\.perClass\[0\]: 5, but \$\.sample\.labels holds 6 of class 0/],
    [(v) => { v.sample.heldOut[1] = 60; }, /\$\.sample\.heldOut\[1\]: sample position 60 out of range/],
    [(v) => { v.sample.rows = Array.from({ length: THROUGH_TRAINING_LIMITS.sample + 1 }, (_, i) => i); }, /\$\.sample\.rows: expected 2 to 70000 rows, got 70001/],
    [(v) => { v.findings = new Array(THROUGH_TRAINING_LIMITS.findings + 1).fill(v.findings[0]); }, /\$\.findings: expected at most 500 findings/],
    [(v) => { v.findings[1].table.rows[0] = [0]; }, /\$\.findings\[1\]\.table\.rows\[0\]: expected 2 entries, got 1/],
    [(v) => { v.findings[0].table.rows[0][2] = { a: 1 }; }, /\$\.findings\[0\]\.table\.rows\[0\]\[2\]: expected a number or a string/],
    [(v) => { v.sizes = [784, 1e9, 10]; }, /\$\.sizes\[1\]: expected an integer in \[1, 65536\], got 1000000000/],
    [() => [], /^\$: expected an object, got \[\]/],
  ];
  for (const [edit, reason] of cases) {
    const v = fresh();
    const replaced = edit(v);
    try {
      validateThroughTraining(replaced === undefined ? v : replaced);
      assert.unreachable(`accepted: ${reason}`);
    } catch (e) {
      assert.is((e as Error).name, 'InputError', String(e));
      assert.match((e as Error).message, /^through-training\.json: /);
      assert.match((e as Error).message.replace(/^through-training\.json: /, ''), reason);
    }
  }
});

test('the biographies mark the epochs built into the fixture', () => {
  const tt = makeThroughTraining();
  const m0 = neuronMarks(tt, 0);
  // neuron 5 keeps the top class it had while it fired; neuron 7 never had one
  assert.equal(m0.map((m) => m.topClass), [0, 1, 2, 3, 4, 5, 6, -1]);
  assert.equal(m0.map((m) => m.selectiveFrom), [-1, 0, 1, -1, 0, null, -1, null]);
  assert.equal(m0.map((m) => m.diesAt), [null, null, null, null, null, 1, null, null]);
  assert.equal(m0.map((m) => m.neverFires), [false, false, false, false, false, false, false, true]);
  const m1 = neuronMarks(tt, 1);
  assert.equal(m1.map((m) => m.selectiveFrom), [0, 0, 0, 0, null, 0]);
  assert.equal(m1.map((m) => m.topClass), [2, 3, 4, 5, 6, 7]);
  // small multiples: every other epoch past 12, the last always; at most 600 points, the same in every panel
  assert.equal(everyOtherEpoch([-1, ...Array.from({ length: 20 }, (_, i) => i)]), [-1, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19]);
  assert.equal(everyOtherEpoch([-1, 0, 1]), [-1, 0, 1]);
  assert.is(spreadPositions(2000).length, 600);
  assert.equal(weightEpochs([-1, ...Array.from({ length: 20 }, (_, i) => i)]), [-1, 0, 1, 2, 5, 10, 19]);
});

test('buildFigures draws the section from through-training.json and the snapshots; captions computed', async () => {
  const r = await loadRunResults(run);
  assert.ok(r.throughTraining && r.firstLayerWeights, 'loaded both');
  assert.equal(r.firstLayerWeights!.epochs, [-1, 0, 1, 2]);
  const set = buildFigures(r);
  assert.equal(set.figures.map((f) => f.id), SECTION);
  assert.ok(set.figures.every((f) => f.section === 'through-training'));
  const cap = (id: string) => set.figures.find((f) => f.id === id)!.caption;
  assert.match(cap('tt-biographies-layer1'), /6 of 8 neurons end selective, the first from epoch init, 1 die, 1 never fire\.$/);
  assert.match(cap('tt-biographies-layer2'), /5 of 6 neurons end selective, the first from epoch 0, 0 die, 0 never fire\.$/);
  assert.match(cap('tt-cka-epochs'), /CKA\(init, 2\) ReLU 1 0\.64, ReLU 2 0\.55/);
  assert.match(cap('tt-cka-layers'), /ReLU 1–ReLU 2 0\.40 at init, 0\.85 at 2\./);
  assert.match(cap('tt-probe-silhouette'), /trained on 48 sample images and scored on the other 12.*probe ReLU 1 86\.00 %, ReLU 2 89\.00 % \(model 85\.00 %/);
  assert.match(cap('tt-weights-layer1'), /at epochs init, 0, 1, 2 \(snapshots\/\)/);
  assert.equal(set.findings?.map((f) => f.kind), ['selective-from', 'dies', 'layer-first']);
  assert.not.ok(set.missing.some((m) => m.section === 'through-training'), JSON.stringify(set.missing));
});

test('the section is skipped and named when through-training.json is absent or unsound; the weights stand alone', async () => {
  const file = join(run, 'through-training.json'), text = readFileSync(file, 'utf8');
  try {
    rmSync(file);
    let set = buildFigures(await loadRunResults(run));
    assert.equal(set.figures.map((f) => f.id), ['tt-weights-layer1']);
    assert.ok(set.missing.some((m) => m.section === 'through-training' && /^no through-training\.json/.test(m.note)));
    const v = JSON.parse(text);
    v.perEpoch[1].layers[0].aligned[3] = [1];
    writeFileSync(file, JSON.stringify(v));
    set = buildFigures(await loadRunResults(run));
    assert.equal(set.figures.map((f) => f.id), ['tt-weights-layer1']);
    const note = set.missing.find((m) => m.section === 'through-training')?.note ?? '';
    assert.match(note, /^through-training\.json was skipped \(\$\.perEpoch\[1\]\.layers\[0\]\.aligned\[3\]: expected 2 entries, got 1\)$/);
    writeFileSync(file, '{"format": ');
    const rep = await writeReport(run);
    assert.ok(rep.skipped.some((s) => /^through-training\.json skipped: is not valid JSON/.test(s)), rep.skipped.join('\n'));
    assert.equal(rep.figures, ['tt-weights-layer1']);
  } finally {
    writeFileSync(file, text);
  }
});

test('writeReport: the section with its data files and the findings with their tables', async () => {
  const rep = await writeReport(run);
  assert.equal(rep.figures, SECTION);
  for (const id of SECTION) {
    assert.ok(readFileSync(join(run, 'figures', `${id}.csv`), 'utf8').split('\n').length > 2, `${id}.csv has rows`);
    assert.ok(JSON.parse(readFileSync(join(run, 'figures', `${id}.vl.json`), 'utf8')).$schema.includes('vega-lite'));
  }
  const html = readFileSync(rep.path, 'utf8');
  assert.match(html, /<h2>\d+\. Through training<small>not in the notebooks<\/small><\/h2>/);
  assert.match(html, /<li data-kind="dies">neuron 5 of layers.1.post dies at epoch 1<details><summary>table \(3 rows\)<\/summary>/);
  assert.match(html, /<li data-kind="layer-first">layer 2 settles before layer 1<\/li>/);
});

test('report.html in headless Chromium: the section\'s figures drawn, the weights decoded', async () => {
  if (!existsSync(CHROMIUM)) {
    if (process.env.MLP_LENS_REQUIRE_CHROMIUM) assert.unreachable(`${CHROMIUM} is missing and MLP_LENS_REQUIRE_CHROMIUM is set`);
    skipped(`${CHROMIUM} not found (apt-get install chromium; .ci/run does)`);
    return;
  }
  await writeReport(run);
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') errors.push(`console.${m.type()}: ${m.text()}`); });
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    await page.goto(pathToFileURL(join(run, 'report.html')).href, { waitUntil: 'load' });
    assert.equal(await page.$$eval('#sec-through-training figure.figure', (fs) => fs.map((f) => f.id.replace(/^fig-/, ''))), SECTION);
    for (const id of SECTION) {
      const f = await figureInfo(page, id);
      const info = { ...f, images: f.imageSizes.length, decoded: f.imageSizes.filter((n) => n === 28 * 28).length };
      assert.ok(info.width > 100 && info.height > 50, `${id}: the SVG has a size (${info.width}×${info.height})`);
      assert.ok(info.marks > 0 && info.texts > 3, `${id}: marks and labels`);
      if (id === 'tt-weights-layer1') assert.ok(info.images === 8 * 4 && info.decoded === info.images, `${id}: ${info.decoded} of ${info.images} 28×28 images decoded`);
    }
    // the findings' tables open
    await page.click('#findings li[data-kind="dies"] summary');
    assert.ok(await page.isVisible('#findings li[data-kind="dies"] table'));
    const shots = process.env.MLP_LENS_REPORT_SHOTS;
    if (shots) {
      await page.locator('#sec-through-training').screenshot({ path: join(shots, 'through-training-1280.png') });
      await page.setViewportSize({ width: 390, height: 844 });
      await page.locator('#sec-through-training').screenshot({ path: join(shots, 'through-training-390.png') });
    }
    assert.equal(errors, [], 'no console error or page error');
  } finally {
    await browser.close();
  }
});

test.run();
