// analysis/figures/svg-writer.ts: the SVG text Vega's headless view gives with the writer installed is
// Vega's own writer's, byte for byte: every figure of a full synthetic run (the figures of
// analysis/figures.test.ts's run), and Vega specs of every mark type with what the writer treats apart
// (symbols of several shapes, sizes, angles and custom paths; attribute values with & < > " tab and
// newlines; text lines; gradients, clips and links).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as vega from 'vega';
import { buildFigures } from '../../analysis/figures/index.ts';
import { svgWriterInstalled, useSvgWriter, type VegaSvgParts } from '../../analysis/figures/svg-writer.ts';
import { renderSvg } from '../../analysis/render-figures.ts';
import { syntheticRun } from './synthetic-run-fixture.ts';

const parts = vega as unknown as VegaSvgParts;
const resetIds = () => (vega as unknown as { resetSVGDefIds(): void }).resetSVGDefIds();

/** the SVG text of `draw()` with Vega's writer and with ours (id counters reset before each) */
async function both(draw: () => Promise<string>): Promise<{ vega: string; ours: string }> {
  try {
    useSvgWriter(parts, false);
    resetIds();
    const v = await draw();
    useSvgWriter(parts, true);
    resetIds();
    return { vega: v, ours: await draw() };
  } finally {
    useSvgWriter(parts, true);
  }
}

async function vegaSvg(spec: object): Promise<string> {
  const view = new vega.View(vega.parse(spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

test('installed by analysis/render-figures.ts, and toSVG then comes from it', async () => {
  assert.ok(svgWriterInstalled(), 'the writer found the Vega parts it needs');
  assert.is.not(parts.renderModule('svg').headless, parts.SVGStringRenderer);
});

test('every figure of a full run: the same text as Vega\'s writer, byte for byte', async () => {
  const { figures } = buildFigures(await syntheticRun());
  assert.ok(figures.length >= 40, `${figures.length} figures`);
  let symbols = 0;
  for (const f of figures) {
    const { vega: v, ours } = await both(() => renderSvg(f.spec));
    assert.ok(v.length > 500, f.id);
    assert.is(ours, v, f.id);
    if (v.includes('mark-symbol')) symbols++;
  }
  assert.ok(symbols >= 5, `${symbols} figures with symbols`);
});

test('Vega specs of every mark type, odd attribute values, gradients, clips and links: the same text', async () => {
  const points = [
    { x: 1, y: 2, s: 'circle', z: 30, a: 0, c: 'a & b' },
    { x: 2.5, y: -1, s: 'square', z: 64, a: 45, c: '<tag> "q"' },
    { x: 3, y: 0.333333333, s: 'triangle-up', z: 0, a: -30.5, c: 'tab\there' },
    { x: 4, y: 1e-7, s: 'M-1,-1H1V1H-1Z', z: 200, a: 0, c: 'line\nbreak\r' },
    { x: 5, y: 3, s: 'cross', z: 30, a: 90, c: 'plain' },
    { x: 6, y: 4, s: 'circle', z: 30, a: 0, c: 'plain' },
  ];
  const spec = {
    width: 300, height: 200, padding: 5, background: 'white',
    data: [{ name: 'p', values: points }],
    scales: [
      { name: 'x', type: 'linear', domain: { data: 'p', field: 'x' }, range: 'width' },
      { name: 'y', type: 'linear', domain: { data: 'p', field: 'y' }, range: 'height' },
      { name: 'c', type: 'ordinal', domain: { data: 'p', field: 'c' }, range: 'category' },
    ],
    axes: [{ orient: 'bottom', scale: 'x', title: 'x & "y" <axis>' }, { orient: 'left', scale: 'y' }],
    legends: [{ fill: 'c', title: 'c' }],
    marks: [
      {
        type: 'group', clip: true, encode: { enter: { width: { value: 150 }, height: { value: 100 }, fill: { value: '#eee' }, stroke: { value: 'black' }, strokeForeground: { value: true } } },
        marks: [
          { type: 'symbol', from: { data: 'p' }, encode: { enter: { x: { scale: 'x', field: 'x' }, y: { scale: 'y', field: 'y' }, shape: { field: 's' }, size: { field: 'z' }, angle: { field: 'a' }, fill: { scale: 'c', field: 'c' }, href: { value: 'https://example.org/?a=1&b=2' }, description: { field: 'c' } } } },
          { type: 'text', from: { data: 'p' }, encode: { enter: { x: { scale: 'x', field: 'x' }, y: { scale: 'y', field: 'y' }, text: { signal: "[datum.c, 'second line']" }, lineBreak: { value: '\n' } } } },
        ],
      },
      { type: 'symbol', from: { data: 'p' }, encode: { enter: { x: { scale: 'x', field: 'x' }, y: { value: 150 } } } },
      { type: 'rect', encode: { enter: { x: { value: 10 }, y: { value: 10 }, width: { value: 40 }, height: { value: 20 }, cornerRadius: { value: 3 }, fill: { value: { gradient: 'linear', stops: [{ offset: 0, color: 'red' }, { offset: 1, color: 'blue' }] } } } } },
      { type: 'rule', encode: { enter: { x: { value: 0 }, x2: { value: 100 }, y: { value: 5 }, strokeDash: { value: [2, 2] } } } },
      { type: 'line', from: { data: 'p' }, encode: { enter: { x: { scale: 'x', field: 'x' }, y: { scale: 'y', field: 'y' }, stroke: { value: 'steelblue' }, interpolate: { value: 'monotone' } } } },
      { type: 'area', from: { data: 'p' }, encode: { enter: { x: { scale: 'x', field: 'x' }, y: { scale: 'y', field: 'y' }, y2: { value: 200 }, fillOpacity: { value: 0.2 } } } },
      { type: 'trail', from: { data: 'p' }, encode: { enter: { x: { scale: 'x', field: 'x' }, y: { scale: 'y', field: 'y' }, size: { value: 3 } } } },
      { type: 'arc', encode: { enter: { x: { value: 250 }, y: { value: 50 }, startAngle: { value: 0 }, endAngle: { value: 2 }, innerRadius: { value: 5 }, outerRadius: { value: 20 }, fill: { value: 'orange' } } } },
      { type: 'path', encode: { enter: { path: { value: 'M0,0L10,10' }, stroke: { value: 'green' } } } },
    ],
  };
  const { vega: v, ours } = await both(() => vegaSvg(spec));
  // the text holds what the writer treats apart, so that the comparison means something
  for (const part of ['mark-symbol', 'rotate(45)', '&amp;', '&lt;', '&quot;', '<tspan', 'linearGradient', 'clipPath', '<a ', 'mark-trail', 'mark-arc']) {
    assert.ok(v.includes(part), `Vega's text has ${part}`);
  }
  assert.is(ours, v);
});

test.run();
