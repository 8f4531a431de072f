// the report of a run whose analysis files are damaged: for each file the suite writes, a variant of valid
// JSON but the wrong structure (wrong types, wrong lengths, NaN where a number must be finite, missing
// keys, indices out of range, huge claimed sizes) in a small run directory (bench/train.js, 1 epoch of 30
// steps, then the suite on 300 test images). writeReport must not throw, must write report.html with every
// figure of the sound files, and must name the skipped file and its reason; `mlp-lens report` exits 0 with
// one warning line, or 2 with one error line when nothing at all can be drawn; never a stack. And
// `bench/train.js --analyze RUN` where RUN/analysis is a file: exit 2, one line, before any analysis.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ANALYSIS_FIGURES } from '../../analysis/figures/index.ts';
import { RESULT_FILES, runPostTrainingSuite } from '../../analysis/suite.ts';
import { loadSavedModel, savePostTrainingResults } from '../../run/analyze.ts';
import { loadMnist } from '../../run/mnist-files.ts';
import { writeReport } from '../../run/report.ts';
import { mlpOnly } from '../../mlp/net.ts';

const tmp = mkdtempSync(join(tmpdir(), 'mlp-lens-report-inputs-'));
const run = join(tmp, 'run');
const node = (...args: string[]) => spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 180_000 });
const STACK = /\n\s+at .+:\d+:\d+\)?\n|TypeError|RangeError/;

let mnist: Awaited<ReturnType<typeof loadMnist>>;
let all: string[] = [];

/** one variant per file the suite writes: the edit and the reason the report must give */
const VARIANTS: Record<(typeof RESULT_FILES)[number], [(v: any) => unknown, RegExp]> = {
  meta: [(v) => { v.classes = 1e9; }, /\$\.classes: expected an integer in \[1, 256\], got 1000000000/],
  accuracy: [(v) => { v.perClass = 'ten'; }, /\$\.perClass: expected an array, got "ten"/],
  classMeans: [(v) => { v['layers.1.post'][3] = [1, 2]; }, /\$\["layers\.1\.post"\]\[3\]: expected 16 entries, got 2/],
  gradMeans: [(v) => { delete v.loss; }, /\$\.loss: expected an object, got undefined/],
  topk: [(v) => { v.activation[0][0] = 99; }, /\$\.activation\[0\]\[0\]: neuron 99 out of range \(the analysis has 16\)/],
  selectivity: [(v) => { v.eps = null; }, /\$\.eps: expected a finite number, got null/],
  interventions: [(v) => { v.focus.analysis.perClassAccuracy = v.focus.analysis.perClassAccuracy.slice(1); }, /\$\.focus\.analysis\.perClassAccuracy: expected 7 entries, got 6/],
  neuronSweep: [(v) => { v.confusion.ablation[2] = [1]; }, /\$\.confusion\.ablation\[2\]: expected 10 entries, got 1/],
  saliency: [(v) => { v.normalized.shape = [1e9, 784]; }, /\$\.normalized\.shape: expected \[16, 784\], got \[1000000000,784\]/],
  oneHotMaps: [(v) => { v.maps.data = v.maps.data.slice(0, 100); }, /\$\.maps\.data: expected 12544 entries, got 100/],
  projections: [(v) => { v.pca.rows[0] = 1e9; }, /\$\.pca\.rows\[0\]: expected an integer in \[0, 299\], got 1000000000/],
  silhouette: [(v) => { v.vsSize.orderings[0].scores = [true]; }, /\$\.vsSize\.orderings\[0\]\.scores: expected \d+ entries, got 1/],
  timings: [() => 'fast', /\$: expected an object, got "fast"/],
};

const file = (name: string) => join(run, 'analysis', `${name}.json`);

/** writes the variant of `name`, runs `fn`, puts the file back */
async function withVariant<T>(name: (typeof RESULT_FILES)[number], fn: () => Promise<T> | T): Promise<T> {
  const text = readFileSync(file(name), 'utf8');
  const v = JSON.parse(text);
  const replaced = VARIANTS[name][0](v);
  writeFileSync(file(name), JSON.stringify(replaced === undefined ? v : replaced));
  try {
    return await fn();
  } finally {
    writeFileSync(file(name), text);
  }
}

test.before(async () => {
  const r = node('bench/train.js', '--epochs', '1', '--steps', '30', '--device', 'cpu', '--no-analysis', '--no-report', '--quiet', '--out', run);
  assert.is(r.status, 0, r.stderr);
  // the suite on 300 test images with small options: the --analyze code path in seconds
  const saved = await loadSavedModel(run), dir = saved.dir, model = mlpOnly(saved.model, 'this test');
  mnist = await loadMnist();
  const n = 300, d = mnist.test.rows * mnist.test.cols;
  const test300 = { ...mnist.test, count: n, images: mnist.test.images.subarray(0, n * d), labels: mnist.test.labels.subarray(0, n) };
  const results = await runPostTrainingSuite(model, test300, {
    steps: 6, tsne: { sample: 60, perplexity: 10, iterations: 260 }, umap: { sample: 60, nEpochs: 20 },
    randomTrials: 2, sizeTrials: 2, silhouetteSample: 100, saliency: { cls: 9, nth: 1 },
  });
  await savePostTrainingResults(dir, results);
  all = (await writeReport(run, { test: mnist.test })).figures;
});

test('the sound run draws every figure and skips nothing', () => {
  assert.ok(all.length >= 35, `${all.length} figures`);
  for (const id of ['misclassified', 'topk-table', 'layer-sweep', 'saliency', 'onehot-maps', 'class-means-layer2']) assert.ok(all.includes(id), id);
});

for (const name of RESULT_FILES) {
  test(`analysis/${name}.json of the wrong structure: skipped with its reason, every other figure drawn`, async () => {
    const rep = await withVariant(name, () => writeReport(run, { test: mnist.test }));
    const reason = VARIANTS[name][1];
    assert.is(rep.skipped.length, 1, rep.skipped.join('\n'));
    assert.ok(rep.skipped[0].startsWith(`analysis/${name}.json skipped: `), rep.skipped[0]);
    assert.match(rep.skipped[0], reason);
    const html = readFileSync(rep.path, 'utf8');
    assert.ok(/id="notes"/.test(html) && html.includes(`analysis/${name}.json skipped: `), 'named in the notes');
    // every figure of the other files, none of this one's
    const lost = name === 'meta' ? [/./] : ANALYSIS_FIGURES[name].figures.map((f) => new RegExp(`^${f.replace('*', '.*')}$`));
    const stats = ['input-histogram', 'training-curves', 'layer1-histograms', 'hidden-drift', 'neuron-heatmap-layer2'];
    const expected = name === 'meta' ? stats : all.filter((id) => !lost.some((re) => re.test(id)));
    for (const id of expected) assert.ok(rep.figures.includes(id) && html.includes(`id="fig-${id}"`), `${id} drawn`);
    if (name !== 'meta') assert.equal(rep.figures, expected);
    else assert.not.ok(rep.figures.includes('per-class-accuracy'));
  });
}

test('mlp-lens report: exit 0 and one warning line per skipped file, no stack', async () => {
  for (const name of ['topk', 'saliency'] as const) {
    const r = await withVariant(name, () => node('bin/mlp-lens.js', 'report', run, '--quiet'));
    assert.is(r.status, 0, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.is(lines.length, 1, r.stderr);
    assert.match(lines[0], new RegExp(`^warning: analysis/${name}\\.json skipped: `));
    assert.match(lines[0], VARIANTS[name][1]);
    assert.not.match(r.stderr + r.stdout, STACK);
    assert.match(r.stdout, /report: .*report\.html/);
  }
});

test('mlp-lens report: nothing at all to draw (only a damaged analysis/) → exit 2, one line', () => {
  const bare = join(tmp, 'bare');
  mkdirSync(join(bare, 'analysis'), { recursive: true });
  writeFileSync(join(bare, 'analysis', 'meta.json'), '{"classes": "ten"}');
  const r = node('bin/mlp-lens.js', 'report', bare);
  assert.is(r.status, 2, r.stderr);
  assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /^error: .*bare: nothing to draw: analysis\/meta\.json skipped: \$\.sizes: expected an array, got undefined/);
  assert.not.match(r.stderr, STACK);
  // analysis/ a file: the same, named
  rmSync(join(bare, 'analysis'), { recursive: true });
  writeFileSync(join(bare, 'analysis'), 'x');
  const f = node('bin/mlp-lens.js', 'report', bare);
  assert.is(f.status, 2, f.stderr);
  assert.match(f.stderr, /^error: .*nothing to draw: analysis skipped: is a file, not a folder/);
});

test('bench/train.js --analyze RUN where RUN/analysis is a file: exit 2, one line, before the analyses', () => {
  const dir = join(tmp, 'analysis-is-a-file');
  mkdirSync(dir);
  for (const f of ['model.safetensors', 'config.json']) copyFileSync(join(run, f), join(dir, f));
  writeFileSync(join(dir, 'analysis'), 'not a folder');
  const t0 = performance.now();
  const r = node('bench/train.js', '--analyze', dir, '--device', 'cpu');
  assert.is(r.status, 2, r.stderr);
  assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /^error: .*analysis-is-a-file\/analysis: is a file, not a folder/);
  assert.not.match(r.stderr, STACK);
  assert.not.match(r.stdout, /forward-cache|silhouette/, 'no analysis ran');
  assert.ok(performance.now() - t0 < 30_000);
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));

test.run();
