// figure specs are pure and serialisable, compile without Vega-Lite warnings and render to SVG with marks;
// the PNG encoder writes valid PNGs; the report's SVG post-processing keeps many figures apart on one page.
import { inflateSync } from 'node:zlib';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compile } from 'vega-lite';
import { buildFigures, CLASS_SCHEME, classDomain, pickEpochs, SECTIONS, type Figure } from '../../analysis/figures/index.ts';
import { textWidth } from '../../analysis/figures/text-width.ts';
import { colorOf, crc32, encodePng, mapToPng, pngDataUri, pngSize, zlibStored } from '../../analysis/png.ts';
import { compactSvg, renderSvg, scopeSvgIds } from '../../analysis/report.ts';
import { syntheticRun } from './synthetic-run-fixture.ts';

// --- PNG

/** the IDAT payload of a PNG, inflated with zlib (an independent decoder) */
function idat(png: Uint8Array): Uint8Array {
  const dv = new DataView(png.buffer, png.byteOffset, png.byteLength);
  for (let o = 8; o < png.length;) {
    const len = dv.getUint32(o), type = String.fromCharCode(...png.subarray(o + 4, o + 8));
    assert.is(dv.getUint32(o + 8 + len), crc32(png.subarray(o + 4, o + 8 + len)), `${type} CRC`);
    if (type === 'IDAT') return inflateSync(png.subarray(o + 8, o + 8 + len));
    o += 12 + len;
  }
  throw new Error('no IDAT');
}

test('encodePng: a grey and an RGB image decode back to their scanlines', () => {
  const grey = Uint8Array.from({ length: 3 * 5 }, (_, i) => i * 17);
  const g = encodePng(5, 3, 1, grey);
  assert.equal(pngSize(g), { width: 5, height: 3 });
  assert.equal(Array.from(idat(g)), [0, ...grey.subarray(0, 5), 0, ...grey.subarray(5, 10), 0, ...grey.subarray(10)]);
  const rgb = Uint8Array.from({ length: 2 * 2 * 3 }, (_, i) => 255 - i);
  assert.equal(Array.from(idat(encodePng(2, 2, 3, rgb))), [0, ...rgb.subarray(0, 6), 0, ...rgb.subarray(6)]);
  assert.ok(pngDataUri(g).startsWith('data:image/png;base64,iVBORw0KGgo'));
  assert.throws(() => encodePng(2, 2, 3, rgb.subarray(1)), /bytes for 2×2×3/);
});

test('zlibStored: more than one 65 535-byte block, and CRC-32 of a known string', () => {
  const raw = Uint8Array.from({ length: 150_000 }, (_, i) => (i * 7919) & 0xff);
  assert.equal(inflateSync(zlibStored(raw)), Buffer.from(raw));
  assert.is(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
});

test('colour maps: matplotlib end points; a map PNG takes its own range', () => {
  assert.equal(colorOf('viridis', 0), [68, 1, 84]);
  assert.equal(colorOf('viridis', 1), [253, 231, 37]);
  assert.equal(colorOf('hot', 1), [255, 255, 255]);
  assert.equal(colorOf('hot', 0), [11, 0, 0]);
  assert.equal(colorOf('gray_r', 0), [255, 255, 255]);
  assert.equal(colorOf('gray_r', 1), [0, 0, 0]);
  const px = idat(mapToPng([0, 5, 10, NaN], 2, 2, 'gray_r'));
  assert.equal(Array.from(px), [0, 255, 128, 0, 0, 255]);
});

// --- helpers

test('pickEpochs: the notebook epochs where they exist, else evenly spaced in the notebook order', () => {
  const twenty = Array.from({ length: 20 }, (_, i) => i);
  assert.equal(pickEpochs(twenty, [0, 5, 10, 15, 19]), [0, 5, 10, 15, 19]);
  assert.equal(pickEpochs(twenty, [19, 10, 5, 0]), [19, 10, 5, 0]);
  assert.equal(pickEpochs([0, 1, 2], [19, 15, 10, 5, 0]), [2, 1, 0]);
  assert.equal(pickEpochs([0, 1, 2, 3, 4, 5], [19, 5, 0]), [5, 3, 0]);
  assert.equal(pickEpochs([3], [19, 5, 0]), [3]);
});

test('scopeSvgIds prefixes ids and their references; compactSvg rounds coordinates, not text', () => {
  const svg = '<svg><defs><clipPath id="clip1"><rect/></clipPath><linearGradient id="gradient_0"/></defs>' +
    '<g clip-path="url(#clip1)"><rect fill="url(#gradient_0)"/><use href="#clip1"/></g></svg>';
  const s = scopeSvgIds(svg, 'f-a');
  assert.ok(s.includes('id="f-a-clip1"') && s.includes('url(#f-a-clip1)') && s.includes('url(#f-a-gradient_0)') && s.includes('href="#f-a-clip1"'));
  assert.not.ok(/"clip1"|#clip1\)/.test(s));
  const c = compactSvg('<path transform="translate(1.23456,-7.891011)" d="M1.41421,0L2,3.333333"/><text x="1.5">0.123456</text>');
  assert.is(c, '<path transform="translate(1.23,-7.89)" d="M1.41,0L2,3.33"/><text x="1.5">0.123456</text>');
});

test('textWidth: DejaVu Sans advance widths', () => {
  assert.is(textWidth('0', 10), 6.36);
  assert.ok(textWidth('mean activation', 11) < 0.8 * 15 * 11, 'narrower than the 0.8 em Vega guesses');
  assert.ok(textWidth('W', 10, { bold: true }) > textWidth('W', 10));
});

// --- figures from small synthetic results


let all: Figure[] = [];
let classColoured = 0;

test('buildFigures: every figure of a full synthetic run, in section order, pure JSON', async () => {
  const r = await syntheticRun();
  const { figures, missing } = buildFigures(r);
  all = figures;
  assert.equal(missing, []);
  const ids = figures.map((f) => f.id);
  assert.is(new Set(ids).size, ids.length, 'ids are unique');
  for (const id of ['input-histogram', 'layer1-histograms', 'misclassified', 'pca', 'tsne', 'umap', 'neuron-heatmap-layer2', 'layer-sweep', 'saliency', 'onehot-maps', 'class-means-logits', 'tt-biographies-layer1', 'tt-aligned-pca-layer2', 'tt-weights-layer1']) {
    assert.ok(ids.includes(id), id);
  }
  const order = SECTIONS.map((s) => s.id);
  const sec = figures.map((f) => order.indexOf(f.section));
  assert.ok(sec.every((s, i) => s >= 0 && (i === 0 || s >= sec[i - 1])), 'sections in the notebooks’ order');
  for (const f of figures) {
    assert.ok(f.caption.length > 20 && !f.caption.includes('\n'), `${f.id}: a one-line caption`);
    assert.ok(!/NaN|undefined/.test(f.caption), `${f.id}: caption has no NaN: ${f.caption}`);
    const text = JSON.stringify(f.spec);
    assert.equal(JSON.parse(text), f.spec, `${f.id}: the spec survives JSON (no typed arrays, NaN, functions)`);
    assert.ok(Array.isArray((f.spec as { data?: { values?: unknown[] } }).data?.values), `${f.id}: inline data`);
    // a class colour is tab10 over every class, so the colours agree between figures
    for (const m of text.matchAll(/"scale":\{"domain":(\[[^\]]*\]),"scheme":"([a-z0-9]+)"\}/g)) {
      assert.equal(JSON.parse(m[1]), classDomain(4), `${f.id}: class domain`);
      assert.is(m[2], CLASS_SCHEME);
      classColoured++;
    }
  }
  assert.ok(classColoured >= 15, `class-coloured channels found: ${classColoured}`);
});

test('every spec compiles without a Vega-Lite warning and renders to an SVG with marks', async () => {
  const warn = console.warn, warnings: string[] = [];
  console.warn = (...a: unknown[]) => { warnings.push(a.join(' ')); };
  try {
    for (const f of all) compile(f.spec);
  } finally {
    console.warn = warn;
  }
  assert.equal(warnings, []);
  for (const f of all) {
    const svg = await renderSvg(f.spec);
    assert.ok(/^<svg[^>]* width="\d+" height="\d+"/.test(svg), `${f.id}: an SVG with a size`);
    assert.ok(/class="mark-(rect|symbol|line|area|text|image|rule)[^"]*"[^>]*><(path|image|text|line)/.test(svg), `${f.id}: marks drawn`);
    assert.not.ok(svg.includes('NaN'), `${f.id}: no NaN coordinate`);
  }
  const images = all.filter((f) => ['misclassified', 'saliency', 'onehot-maps', 'tt-weights-layer1'].includes(f.id));
  for (const f of images) assert.match(JSON.stringify(f.spec), /"url":"data:image\/png;base64,/);
});

test('buildFigures: a run with metrics only draws the curves and names what is missing', () => {
  const epochs = [{ epoch: 0, trainLoss: 1, trainAccuracy: 50, testLoss: 1, testAccuracy: 50, samples: 1, steps: 1, seconds: 1 }];
  const { figures, missing } = buildFigures({ name: 'bare', metrics: { epochs } });
  assert.equal(figures.map((f) => f.id), ['training-curves']);
  assert.ok(missing.some((m) => m.section === 'training' && /--no-record/.test(m.note)));
  assert.ok(missing.some((m) => m.section === 'accuracy' && /--analyze/.test(m.note)));
});

test.run();
