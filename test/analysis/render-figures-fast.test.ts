// renderSvg (analysis/render-figures.ts) with the tooltips taken out of the compiled spec and each
// expression's function made once per thread (withoutTooltips, CACHED_CODEGEN) draws the SVG Vega draws
// from the spec as compiled with its own code generator (test/helpers/render-svg-reference.ts), byte for
// byte: every figure of a full synthetic run (the figures of analysis/figures.test.ts's run), in order
// and again in reverse (the second time each expression's function comes from the cache); and the two
// parts on their own.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as vega from 'vega';
import { compile } from 'vega-lite';
import { buildFigures, type Figure } from '../../analysis/figures/index.ts';
import { CACHED_CODEGEN, renderSvg, withoutTooltips } from '../../analysis/render-figures.ts';
import { renderSvgReference } from '../helpers/render-svg-reference.ts';
import { syntheticRun } from './synthetic-run-fixture.ts';

const resetIds = () => (vega as unknown as { resetSVGDefIds(): void }).resetSVGDefIds();


test('renderSvg: every figure of a full run, the SVG of the spec as compiled with Vega\'s own code generator', async () => {
  const { figures } = buildFigures(await syntheticRun());
  assert.ok(figures.length >= 40, `${figures.length} figures`);
  // the test means something only if the tooltips it takes out are there, on marks of several kinds
  const tooltips = figures.filter((f) => JSON.stringify(compile(f.spec).spec).includes('"tooltip":'));
  assert.ok(tooltips.length >= 30, `${tooltips.length} figures with tooltips`);
  const draw = async (f: Figure) => {
    resetIds();
    const svg = await renderSvg(f.spec);
    resetIds();
    assert.is(svg, await renderSvgReference(f.spec), f.id);
  };
  for (const f of figures) await draw(f);
  for (const f of [...figures].reverse()) await draw(f);
});

test('withoutTooltips: the tooltip channel out of every encode set of every mark, nested ones too; the rest kept, nothing changed in place', () => {
  const inner = { update: { x: { field: 'a' }, tooltip: { signal: 'datum' } }, enter: { tooltip: { value: 't' }, fill: { value: 'red' } } };
  const spec = {
    marks: [
      { type: 'group', encode: { update: { width: { value: 3 } } }, marks: [{ type: 'symbol', encode: inner }, { type: 'text' }] },
      { type: 'rect', encode: { hover: { tooltip: { value: 1 }, opacity: { value: 0.5 } }, update: undefined } },
    ],
  };
  const before = JSON.stringify(spec), innerBefore = JSON.stringify(inner);
  const out = withoutTooltips(structuredClone(spec));
  assert.equal(out, {
    marks: [
      { type: 'group', encode: { update: { width: { value: 3 } } }, marks: [{ type: 'symbol', encode: { update: { x: { field: 'a' } }, enter: { fill: { value: 'red' } } } }, { type: 'text' }] },
      { type: 'rect', encode: { hover: { opacity: { value: 0.5 } }, update: undefined } },
    ],
  });
  // the encode objects of the spec given are replaced, not changed (vega-lite may share one)
  const shared = withoutTooltips(spec);
  assert.is(JSON.stringify(inner), innerBefore);
  assert.is.not(shared.marks[0].marks![0].encode, inner);
  assert.is.not(JSON.stringify(spec), before);
  assert.equal(withoutTooltips({}), {});
});

test('CACHED_CODEGEN: one function per code, bound to each context\'s functions; an encoder per mark type and channels', () => {
  const vegaCodegen = (vega as unknown as { runtimeContext(df: unknown, t: object): { expr: typeof CACHED_CODEGEN } }).runtimeContext({ events() {} }, {}).expr;
  const ctx = (k: number) => ({ functions: { f: (x: number) => x + k } });
  // the same code in two contexts: one function, each bound to its own context's functions
  const op = { code: 'this.f(_.v)' };
  assert.is(CACHED_CODEGEN.operator(ctx(1), op)({ v: 1 }), 2);
  assert.is(CACHED_CODEGEN.operator(ctx(10), op)({ v: 1 }), 11);
  assert.is(CACHED_CODEGEN.parameter(ctx(1), { code: 'datum.a + this.f(_.v)' })({ a: 5 }, { v: 1 }), 7);
  // the kinds take different arguments: the same code is a different function for each
  assert.is(CACHED_CODEGEN.event(ctx(1), { code: 'event.x' })({ x: 4 }), 4);
  assert.is(CACHED_CODEGEN.handler(ctx(1), { code: 'event.x' })({}, { x: 6 }), 6);
  // without a context's functions: a function made afresh each time, as Vega makes it (Vega may mark it)
  assert.is.not(CACHED_CODEGEN.operator(null, { code: '1' }), CACHED_CODEGEN.operator(null, { code: '1' }));
  // an encoder: the same channels make a rect's x, x2 and width differently from a symbol's and a rule's
  const channels = { x: { code: '3' }, x2: { code: '1' } };
  for (const marktype of ['rect', 'symbol', 'rule', 'rect', 'group']) {
    const a: Record<string, unknown> = {}, b: Record<string, unknown> = {};
    CACHED_CODEGEN.encode(ctx(0), { marktype, channels })(a, {});
    vegaCodegen.encode(ctx(0), { marktype, channels })(b, {});
    assert.equal(a, b, marktype);
  }
  // and different channels or code: a different encoder
  const item: Record<string, unknown> = {};
  CACHED_CODEGEN.encode(ctx(0), { marktype: 'rect', channels: { x: { code: '3' }, width: { code: '1' } } })(item, {});
  assert.equal(item, { x: 3, width: 1 });
  CACHED_CODEGEN.encode(ctx(0), { marktype: 'rect', channels: { x: { code: '4' }, width: { code: '1' } } })(item, {});
  assert.equal(item, { x: 4, width: 1 });
});

test.run();
