// analysis/figures/scatter-svg.ts through renderFigures (analysis/render-figures.ts): a plain scatter drawn
// by Vega on a handful of its rows, its other points written by fillScatter, gives the same compacted SVG
// and id counts as Vega drawing every point, byte for byte: every figure of a full synthetic run (its six
// scatters taken down that path at any size), and scatters of 600 rows with string and numeric colours,
// no colour, a log scale, ties and −0 at the extremes, negative values; specs the path does not take are
// drawn whole by Vega (a NaN, a point mark, per-point aria text, a quantitative colour, facets), and a
// colour Vega would escape makes fillScatter decline after the subset is drawn (then Vega draws it all,
// the id counters reset again). compactNumber cuts as compactSvg does.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildFigures } from '../../analysis/figures/index.ts';
import { fillScatter, SCATTER_MIN_ROWS, scatterPlan } from '../../analysis/figures/scatter-svg.ts';
import type { VegaLiteSpec } from '../../analysis/figures/spec.ts';
import { compactNumber, compactSvg, renderFigures, scattersDrawnFilled, useScatterFastPath } from '../../analysis/render-figures.ts';
import { syntheticRun } from './synthetic-run-fixture.ts';

/** renderFigures' results with the scatter path off and on (from `minRows` rows), and how many it filled */
async function both(specs: VegaLiteSpec[], minRows = SCATTER_MIN_ROWS) {
  try {
    useScatterFastPath(false);
    const vega = await renderFigures(specs);
    useScatterFastPath(true, minRows);
    const before = scattersDrawnFilled();
    const ours = await renderFigures(specs);
    return { vega, ours, filled: scattersDrawnFilled() - before };
  } finally {
    useScatterFastPath(true);
  }
}

function rand(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
}

/** a 600-row scatter spec; `row(i, r)` gives each row */
function scatter(row: (i: number, r: () => number) => Record<string, unknown>, enc: Record<string, unknown> = {}, mark: Record<string, unknown> = {}, n = 600): VegaLiteSpec {
  const r = rand(n + 7);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json', title: 'a scatter', width: 300, height: 200,
    data: { values: Array.from({ length: n }, (_, i) => row(i, r)) },
    mark: { type: 'circle', size: 8, opacity: 0.55, aria: false, ...mark },
    encoding: {
      x: { field: 'x', type: 'quantitative', scale: { zero: false } }, y: { field: 'y', type: 'quantitative' },
      color: { field: 'c', type: 'nominal' }, tooltip: [{ field: 'c' }], ...enc,
    },
  } as unknown as VegaLiteSpec;
}

test('every figure of a full run, the six scatters down the fast path: the same SVG and id counts', async () => {
  const { figures } = buildFigures(await syntheticRun());
  const taken = figures.filter((f) => scatterPlan(f.spec, 1)).map((f) => f.id);
  assert.equal(taken, ['pca', 'pca-top5', 'tsne', 'umap', 'subspace-0-pca', 'subspace-1-pca']);
  const { vega, ours, filled } = await both(figures.map((f) => f.spec), 1);
  assert.is(filled, taken.length, 'each of them filled');
  figures.forEach((f, i) => assert.equal(ours[i], vega[i], f.id));
  assert.ok(vega.every((r) => 'svg' in r && r.svg.includes('<svg')), 'all drawn');
});

test('scatters of 600 rows: colours by string and number, none, a log scale, ties and −0 at the extremes, negative values', async () => {
  const specs = [
    scatter((i, r) => ({ x: r() * 20 - 10, y: r() * 8 - 3, c: ['cat', 'dog', 'émeu', 'yak'][i % 4] })),
    scatter((i, r) => ({ x: (r() - 0.5) * 1e-3, y: r() * 1e6, c: i % 7 }), { color: { field: 'c', type: 'ordinal', title: 'class', scale: { scheme: 'category10' } } }),
    scatter((_i, r) => ({ x: r(), y: r() }), { color: undefined }),
    scatter((i, r) => ({ x: 10 ** (r() * 4), y: -r(), c: String(i % 3) }), { x: { field: 'x', type: 'quantitative', scale: { type: 'log' } } }),
    // the extremes held by several rows, and −0 and 0 at the smallest x
    scatter((i, r) => ({ x: i % 50 === 0 ? (i % 100 === 0 ? -0 : 0) : 1 + r(), y: i % 3 === 0 ? 5 : r() * 5, c: i % 2 })),
    scatter((i, r) => ({ x: -r() - 1, y: -r() * 3, c: i % 10 }), { color: { field: 'c', type: 'nominal', scale: { domain: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], scheme: 'category10' }, legend: { symbolOpacity: 1 } } }, { size: 20, opacity: 1 }),
  ];
  for (const s of specs) assert.ok(scatterPlan(s), 'taken');
  const { vega, ours, filled } = await both(specs);
  assert.is(filled, specs.length, 'each filled');
  specs.forEach((_s, i) => {
    assert.ok('svg' in vega[i] && (vega[i] as { svg: string }).svg.split('<path transform').length > 600, `${i}: Vega drew every point`);
    assert.equal(ours[i], vega[i], `scatter ${i}`);
  });
});

/** `unit` (a scatter spec) as the panels of a facet on the rows' field `p` */
function faceted(unit: VegaLiteSpec, facet: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): VegaLiteSpec {
  const { data, mark, encoding, title, $schema } = unit as unknown as Record<string, unknown>;
  return { $schema, title, data, facet: { field: 'p', type: 'nominal', ...facet }, columns: 3, spec: { width: 120, height: 90, mark, encoding }, ...extra } as unknown as VegaLiteSpec;
}

test('specs the path leaves to Vega, and a colour Vega would escape (declined after the subset is drawn)', async () => {
  const plain = (i: number, r: () => number) => ({ x: r(), y: r(), c: i % 3 });
  const left = [
    scatter((i, r) => ({ ...plain(i, r), x: i === 300 ? NaN : r() })),
    scatter(plain, {}, { type: 'point' }),
    scatter(plain, {}, { aria: true }),
    scatter(plain, { color: { field: 'c', type: 'quantitative' } }),
    { ...scatter(plain), facet: { field: 'c', type: 'nominal' } } as unknown as VegaLiteSpec,
    faceted(scatter((i, r) => ({ ...plain(i, r), p: i % 2 })), {}, { resolve: { scale: { x: 'independent' } } }),
    { ...faceted(scatter((i, r) => ({ ...plain(i, r), p: i % 2 }))), facet: { row: { field: 'p', type: 'nominal' } }, columns: undefined } as unknown as VegaLiteSpec,
    scatter(plain, {}, {}, 100),
  ];
  for (const [i, s] of left.entries()) assert.is(scatterPlan(s), null, `spec ${i}`);
  // a fill with '&' is written escaped by Vega: fillScatter declines, and the clip ids of the drawing
  // that follows start from the reset counters (a clipped layer of its own is not a plain scatter, so
  // the escape case carries no clip: the counts are compared all the same)
  const escaped = scatter((i, r) => ({ x: r(), y: r(), c: i % 2 }), { color: { field: 'c', type: 'nominal', scale: { range: ['#a00', 'url(#x)&'] } } });
  const plan = scatterPlan(escaped)!;
  assert.ok(plan, 'taken by the plan');
  const { vega, ours, filled } = await both([escaped, ...left]);
  assert.is(filled, 0, 'none filled');
  ours.forEach((r, i) => assert.equal(r, vega[i], `spec ${i}`));
  assert.ok('svg' in vega[0] && vega[0].svg.includes('&amp;'), 'Vega escaped the colour');
  assert.is(fillScatter(plan, '<svg><g class="mark-symbol role-mark marks"></g></svg>', { x: Number, y: Number, color: null }), null, 'no point to copy');
});

test('compactNumber cuts a number as compactSvg cuts it in a translate', () => {
  const r = rand(3);
  const xs = [0, -0, 1, -1, 0.5, 0.123, 0.1234, -0.1234, 12.999999, 176.81538242560168, 1e21, 1.23456e21, 1e-7, 1.23456e-7, -9.87654e-12, 123.456e20, 2 ** -1074, Number.MAX_VALUE];
  for (let i = 0; i < 2000; i++) xs.push((r() - 0.5) * 10 ** Math.floor(r() * 30 - 15));
  for (const x of xs) {
    const want = compactSvg(` transform="translate(${x},${-x})"`);
    assert.is(` transform="translate(${compactNumber(x)},${compactNumber(-x)})"`, want, String(x));
  }
});

test.run();
