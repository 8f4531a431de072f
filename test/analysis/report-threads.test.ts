// the report's figures drawn on two threads (run/report.ts: this thread and the helper, each figure's
// clip and gradient numbers shifted by the figures before it) give the same report.html and figures/,
// byte for byte, as every figure drawn on this thread (HelperThread(false)), and the same SVGs as one
// thread drawing every figure in order with Vega's own counters (analysis/report.ts renderSvg, the page's
// way). On the through-training fixture run (8 figures: scatters with clip paths, gradient legends).
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as vega from 'vega';
import { buildFigures } from '../../analysis/figures/index.ts';
import { compactSvg, renderSvg, reportHtml, scopeSvgIds } from '../../analysis/report.ts';
import { countSvgIds, renderFigures } from '../../analysis/render-figures.ts';
import { loadRunResults, writeReport } from '../../run/report.ts';
import { HelperThread } from '../../engine/threads.ts';
import { makeThroughTraining, writeFixtureSnapshots } from './through-training-fixture.ts';

const tmp = mkdtempSync(join(tmpdir(), 'mlp-lens-report-threads-'));
const base = join(tmp, 'run');
const stamp = (html: string) => html.replace(/ · generated \d{4}-\d\d-\d\d \d\d:\d\d:\d\d/, '');

test.before(async () => {
  await writeFixtureSnapshots(base);
  writeFileSync(join(base, 'through-training.json'), JSON.stringify(makeThroughTraining()));
});
test.after(() => rmSync(tmp, { recursive: true, force: true }));

/** a copy of the fixture run named `name` (the page names its folder, so every copy has the same name) */
function copy(name: string): string {
  const dir = join(tmp, name, 'run');
  cpSync(base, dir, { recursive: true });
  return dir;
}

test('two threads and one give the same report.html and figures/, byte for byte', async () => {
  const one = copy('one'), two = copy('two');
  const off = new HelperThread(false);
  const a = await writeReport(one, { helper: off });
  const h = new HelperThread(true);
  let b;
  try {
    b = await writeReport(two, { helper: h });
    assert.is(h.fallback, null, 'the helper thread drew figures');
  } finally {
    await h.close();
  }
  // and with the helper writeReport starts (and closes) itself
  const three = copy('three');
  const c = await writeReport(three);
  assert.equal(b.figures, a.figures);
  assert.equal(c.figures, a.figures);
  assert.ok(a.figures.length >= 8, `${a.figures.length} figures`);
  const html = stamp(readFileSync(join(one, 'report.html'), 'utf8'));
  assert.is(stamp(readFileSync(join(two, 'report.html'), 'utf8')), html);
  assert.is(stamp(readFileSync(join(three, 'report.html'), 'utf8')), html);
  const files = readdirSync(join(one, 'figures')).sort();
  assert.equal(readdirSync(join(two, 'figures')).sort(), files);
  for (const f of files) assert.ok(readFileSync(join(one, 'figures', f)).equals(readFileSync(join(two, 'figures', f))), f);
  // the numbers continue across figures: the test means something only if figures after the first have them
  // (this run's figures have gradients, no clip paths: the clips' shift is checked on its own below)
  assert.ok(/id="f-[\w-]+-gradient_([1-9]|\d\d)"/.test(html), 'a gradient numbered past 0');
});

test('the SVGs are the ones one thread draws in order with Vega\'s counters (renderSvg, as the page does)', async () => {
  const dir = copy('seq');
  const rep = await writeReport(dir, { helper: new HelperThread(false) });
  const r = await loadRunResults(dir);
  const set = buildFigures(r);
  (vega as unknown as { resetSVGDefIds(): void }).resetSVGDefIds(); // a fresh thread's counters
  const svgs = new Map<string, string>();
  for (const f of set.figures) svgs.set(f.id, scopeSvgIds(compactSvg(await renderSvg(f.spec)), `f-${f.id}`));
  assert.equal(set.figures.map((f) => f.id), rep.figures);
  assert.is(stamp(reportHtml(r, set, svgs)), stamp(readFileSync(join(dir, 'report.html'), 'utf8')));
});

test('renderFigures: ids from reset counters, counted; a spec Vega cannot draw gives its message; the data files', async () => {
  const set = buildFigures(await loadRunResults(base));
  const spec = set.figures[0].spec;
  const bad = { ...spec, mark: 'no-such-mark', layer: undefined, facet: undefined, spec: undefined } as never;
  const out = await renderFigures([spec, bad, spec]);
  assert.ok('svg' in out[0] && 'svg' in out[2]);
  assert.ok('error' in out[1] && out[1].error.length > 0);
  if ('svg' in out[0] && 'svg' in out[2]) {
    assert.is(out[2].svg, out[0].svg, 'each figure starts from the reset counters');
    assert.equal(countSvgIds(out[0].svg), { clips: out[0].clips, gradients: out[0].gradients });
    assert.is(out[0].json, JSON.stringify(spec) + '\n');
    assert.ok(out[0].csv.split('\n').length > 2);
  }
  assert.equal(countSvgIds('<clipPath id="clip3"/><linearGradient id="gradient_4"/><pattern id="p_gradient_5"/>'), { clips: 3, gradients: 6 });
  assert.is(scopeSvgIds('<clipPath id="clip2"/><g clip-path="url(#clip2)"/><rect fill="url(#gradient_0)"/><linearGradient id="gradient_0"/><use href="#clip2"/>', 'f-a', { clips: 5, gradients: 2 }),
    '<clipPath id="f-a-clip7"/><g clip-path="url(#f-a-clip7)"/><rect fill="url(#f-a-gradient_2)"/><linearGradient id="f-a-gradient_2"/><use href="#f-a-clip7"/>');
});

test.run();
