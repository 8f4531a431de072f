// the checks of a saved analysis (analysis/*.json): a file of valid JSON but the wrong structure is
// skipped with a one-line reason naming its JSON path, every other file is still read, and buildFigures
// draws the figures of the sound files without throwing. Pure: a small suite result (a 9-6-5-4 network,
// 120 images) turned into the JSON the files hold, then hand-made and seeded random edits of it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ANALYSIS_LIMITS, ANALYSIS_PARTS, analysisFromJson, type AnalysisPart } from '../../analysis/analysis-json.ts';
import { ANALYSIS_FIGURES, buildFigures, type RunResults } from '../../analysis/figures/index.ts';
import { RESULT_FILES, runPostTrainingSuite, toJsonValue } from '../../analysis/suite.ts';
import { createRng } from '../../engine/rng.ts';
import { randomCase } from './fixtures.ts';

type Parts = Partial<Record<AnalysisPart, unknown>>;

let base: Parts = {};
let split: RunResults['test'];

const clone = (p: Parts): Parts => JSON.parse(JSON.stringify(p));
const figureIds = (p: Parts) => {
  const { analysis, skipped } = analysisFromJson(clone(p));
  const set = buildFigures({ name: 't', analysis, skipped, test: split });
  return { ids: set.figures.map((f) => f.id), set, skipped, analysis };
};

test.before(async () => {
  const { model, split: s } = randomCase(7, 120);
  split = s;
  const r = await runPostTrainingSuite(model, s, {
    steps: 4, tsne: { sample: 40, perplexity: 5, iterations: 260 }, umap: { sample: 40, nEpochs: 20 }, silhouetteUmap: {},
    randomTrials: 2, sizeTrials: 2, silhouetteSample: 60, saliency: { index: 3 },
  });
  for (const name of RESULT_FILES) base[name] = toJsonValue(r[name]);
  base = clone(base);
});

test('the parts checked are the files the suite writes', () => {
  assert.equal([...ANALYSIS_PARTS], [...RESULT_FILES]);
});

test('a sound analysis reads back whole, with typed arrays where the figures read them', () => {
  const { analysis, skipped, ids } = figureIds(base);
  assert.equal(skipped, []);
  assert.ok(analysis?.projections?.pca.rows instanceof Uint32Array);
  assert.ok(analysis?.saliency?.abs.data instanceof Float32Array);
  assert.ok(ids.includes('onehot-maps') && ids.includes('layer-sweep') && ids.includes('misclassified'), ids.join());
});

test('no analysis files at all: no analysis and nothing skipped; meta.json missing: everything skipped with it', () => {
  assert.equal(analysisFromJson({}), { skipped: [] });
  const { meta: _m, ...rest } = clone(base);
  const r = analysisFromJson(rest);
  assert.is(r.analysis, undefined);
  assert.equal(r.skipped, [{ part: 'meta', file: 'analysis/meta.json', reason: 'not found' }]);
  const set = buildFigures({ name: 't', analysis: r.analysis, skipped: r.skipped });
  assert.ok(set.missing.some((m) => /analysis\/meta\.json was skipped \(not found\)/.test(m.note)));
});

// one edit per file: wrong types, wrong lengths, NaN (null) where a number must be finite, missing keys,
// indices out of range, huge claimed sizes; each [part, edit, the reason expected]
const get = (v: unknown, ...path: (string | number)[]) => path.reduce((o: any, k) => o[k], v) as any;
const CASES: [AnalysisPart, (v: any) => void, RegExp][] = [
  ['meta', (v) => { v.classes = 1e9; }, /^\$\.classes: expected an integer in \[1, 256\], got 1000000000$/],
  ['meta', (v) => { v.width = 3; }, /\$\.width: 3, but hidden layer 1 has 5 neurons/],
  ['meta', (v) => { v.sizes = 'big'; }, /\$\.sizes: expected an array/],
  ['accuracy', (v) => { v.perClass = 'ten'; }, /^\$\.perClass: expected an array, got "ten"$/],
  ['accuracy', (v) => { v.misclassified[0].index = -1; }, /\$\.misclassified\[0\]\.index: expected an integer in \[0, \d+\], got -1/],
  ['accuracy', (v) => { v.accuracy = null; }, /\$\.accuracy: expected a finite number, got null/],
  ['classMeans', (v) => { v['layers.1.post'][0] = [1, 2]; }, /\$\["layers\.1\.post"\]\[0\]: expected 5 entries, got 2/],
  ['classMeans', (v) => { v.logits = [[]]; }, /\$\["logits"\]: expected 4 entries, got 1/],
  ['gradMeans', (v) => { delete v.loss; }, /^\$\.loss: expected an object, got undefined$/],
  ['gradMeans', (v) => { delete v.trueLogit['layers.1.post']; }, /\$\.trueLogit: has no table for the analysed layer "layers\.1\.post"/],
  ['topk', (v) => { v.activation[0][0] = 99; }, /^\$\.activation\[0\]\[0\]: neuron 99 out of range \(the analysis has 5\)$/],
  ['topk', (v) => { v.k = 1e9; }, /\$\.k: expected an integer in \[1, 5\]/],
  ['selectivity', (v) => { v.scores = null; }, /\$\.scores: expected an array, got null/],
  ['interventions', (v) => { v.focus.analysis.confusion.baseline[0][0] = null; }, /\$\.focus\.analysis\.confusion\.baseline\[0\]\[0\]: expected a finite number, got null/],
  ['interventions', (v) => { v.focus.analysis.scales = []; }, /\$\.focus\.analysis\.scales: expected at least one scale/],
  ['interventions', (v) => { v.sweep.neurons[0].perClassDelta.pop(); }, /\$\.sweep\.neurons\[0\]\.perClassDelta: expected \d+ entries/],
  ['neuronSweep', (v) => { v.perClassAccuracy.pop(); }, /\$\.perClassAccuracy: expected 20 entries, got 19/],
  ['neuronSweep', (v) => { v.neurons = [9]; }, /\$\.neurons\[0\]: neuron 9 out of range \(the analysis has 5\)/],
  ['neuronSweep', (v) => { v.confusion.ablationMinusBaseline = null; }, /\$\.confusion\.ablationMinusBaseline: expected an array, got null/],
  ['saliency', (v) => { v.abs.shape = [1e9, 9]; }, /^\$\.abs\.shape: expected \[5, 9\], got \[1000000000,9\]$/],
  ['saliency', (v) => { v.label = 4; }, /\$\.label: class 4 out of range \(the analysis has 4\)/],
  ['oneHotMaps', (v) => { v.maps.data = v.maps.data.slice(0, 10); }, /^\$\.maps\.data: expected 45 entries, got 10$/],
  ['projections', (v) => { v.pca.labels[0] = 300; }, /^\$\.pca\.labels\[0\]: class 300 out of range \(the analysis has 4\)$/],
  ['projections', (v) => { v.pca.embedding.shape = [1e9, 2]; }, /\$\.pca\.embedding\.shape: expected \[120, 2\]/],
  ['projections', (v) => { v.subspaces[0].neurons = [0, 1e9]; }, /\$\.subspaces\[0\]\.neurons\[1\]: neuron 1000000000 out of range/],
  ['silhouette', (v) => { v.vsSize.sizes = {}; }, /^\$\.vsSize\.sizes: expected an array, got \{\}$/],
  ['silhouette', (v) => { v.subsets[0].full = 'x'; }, /\$\.subsets\[0\]\.full: expected a finite number, got "x"/],
  ['silhouette', (v) => { v.columns[2].key = 'tsne'; }, /\$\.columns\[2\]\.key: expected one of full\|pca\|umap, got "tsne"/],
  ['silhouette', (v) => { v.columns[0].rows = 1e9; }, /\$\.columns\[0\]\.rows: expected an integer in \[0, 60\]/],
  ['silhouette', (v) => { v.subsets[1].umap = 'x'; }, /\$\.subsets\[1\]\.umap: expected a finite number, got "x"/],
  ['silhouette', (v) => { v.count = 7; }, /\$\.count: 7, but meta\.json analysed 120 images/],
  ['timings', (v) => { v.pca = 'fast'; }, /\$\["pca"\]: expected a finite number, got "fast"/],
];

test('each file of the wrong structure is skipped with its reason; the rest is drawn', () => {
  const all = figureIds(base).ids;
  for (const [part, edit, reason] of CASES) {
    const p = clone(base);
    edit(p[part]);
    const { ids, skipped, analysis, set } = figureIds(p);
    const label = `${part}: ${edit.toString()}`;
    assert.is(skipped.length, 1, label);
    assert.is(skipped[0].file, `analysis/${part}.json`, label);
    assert.match(skipped[0].reason, reason, `${label}: ${skipped[0].reason}`);
    assert.not.match(skipped[0].reason, /\n/, 'one line');
    assert.not.ok(set.missing.some((m) => /could not be drawn/.test(m.note)), `${label}: a figure builder threw`);
    if (part === 'meta') {
      assert.is(analysis, undefined);
      assert.equal(ids, []);
      continue;
    }
    // every figure of the other files is still there; this file's are gone and named in their sections
    const lost = ANALYSIS_FIGURES[part].figures.map((f) => new RegExp(`^${f.replace('*', '.*')}$`));
    const kept = all.filter((id) => !lost.some((re) => re.test(id)) && !(part === 'silhouette' && id === 'umap'));
    for (const id of kept) assert.ok(ids.includes(id), `${label}: ${id} is still drawn`);
    for (const id of ids) assert.not.ok(lost.some((re) => re.test(id)), `${label}: ${id} left out`);
    for (const section of ANALYSIS_FIGURES[part].sections) {
      assert.ok(set.missing.some((m) => m.section === section && m.note.includes(`analysis/${part}.json was skipped`)), `${label}: named in ${section}`);
    }
  }
});

test('the neuron sweep and the labelled silhouette columns read back', () => {
  const { analysis } = figureIds(base);
  const ns = analysis!.neuronSweep!, sil = analysis!.silhouette!;
  assert.is(ns.scales.length, 20);
  assert.equal(ns.neurons, [4]);
  assert.equal(sil.columns.map((c) => [c.key, c.label]), [['full', 'full space'], ['pca', 'PCA 2-D'], ['umap', 'UMAP 2-D']]);
  assert.equal(sil.columns.map((c) => c.rows), [60, 60, 60]);
  assert.ok(sil.subsets.every((x) => typeof x.umap === 'number'));
  assert.ok(sil.random.trials.every((x) => typeof x.umap === 'number'), 'both trials have a UMAP (3 by default)');
});

test('a claimed size allocates nothing: meta claiming 1e9 classes or a billion-neuron layer is refused at once', () => {
  for (const [k, v] of [['classes', 1e9], ['width', 2 ** 31], ['count', 1e300]] as const) {
    const p = clone(base);
    (p.meta as Record<string, unknown>)[k] = v;
    const t0 = performance.now();
    const r = analysisFromJson(p);
    assert.ok(performance.now() - t0 < 200, `${k}: fast`);
    if (k !== 'count') assert.is(r.skipped[0]?.part, 'meta', k);
  }
  assert.ok(ANALYSIS_LIMITS.classes <= 256, 'labels are bytes');
});

// --- seeded random edits: every edit is a sound value or one skip, and buildFigures never throws

const JUNK: unknown[] = [null, -1, 0, 1.5, 1e9, -1e308, 1e308, 'x', '', true, [], {}, [null], [1e9], [[[]]], { shape: [1e9, 1e9], data: [] }];

function paths(v: unknown, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(at);
  if (Array.isArray(v)) {
    // a few entries of a long array: the first, the last, one in the middle
    const n = v.length, pick = n <= 4 ? v.map((_, i) => i) : [0, n >> 1, n - 1];
    for (const i of pick) paths(v[i], [...at, i], out);
  } else if (v && typeof v === 'object') {
    for (const k of Object.keys(v)) paths((v as Record<string, unknown>)[k], [...at, k], out);
  }
  return out;
}

test('seeded random edits of every file: a value or one skip, never a throw, never a figure builder failing', () => {
  const rng = createRng('mlp-lens', 2024);
  const pick = <T>(a: readonly T[]): T => a[rng.nextU32() % a.length];
  let accepted = 0, skippedN = 0;
  const t0 = performance.now();
  for (const part of ANALYSIS_PARTS) {
    const ps = paths(base[part]);
    for (let trial = 0; trial < 60; trial++) {
      const p = clone(base);
      const path = pick(ps);
      const kind = rng.nextU32() % 4;
      const parentPath = path.slice(0, -1), key = path[path.length - 1];
      const parent = path.length ? get(p[part], ...parentPath) : undefined;
      if (!path.length) p[part] = pick(JUNK);
      else if (kind === 0 && Array.isArray(parent)) parent.splice(key as number, 1); // shorter
      else if (kind === 1 && Array.isArray(parent)) parent.push(structuredClone(parent[key as number])); // longer
      else if (kind === 2 && !Array.isArray(parent)) delete parent[key]; // a key missing
      else parent[key] = structuredClone(pick(JUNK));
      let r: ReturnType<typeof figureIds>;
      try {
        r = figureIds(p);
      } catch (e) {
        assert.unreachable(`${part} ${JSON.stringify(path)}: threw ${(e as Error).stack}`);
        throw e;
      }
      const bad = r.set.missing.filter((m) => /could not be drawn/.test(m.note));
      assert.equal(bad, [], `${part} ${JSON.stringify(path)}: a figure builder threw`);
      assert.ok(r.skipped.length <= 1, `${part}: at most the edited file skipped`);
      assert.not.ok(r.skipped.some((s) => /unexpected/.test(s.reason)), `${part} ${JSON.stringify(path)}: ${r.skipped[0]?.reason}`);
      if (r.skipped.length) skippedN++; else accepted++;
    }
  }
  console.log(`  ${accepted + skippedN} edits: ${skippedN} skipped with a reason, ${accepted} still sound; ${((performance.now() - t0) / 1000).toFixed(2)} s`);
});

test.run();
