// the report's and the analyses' file writers, rewritten for speed, give the text their earlier forms gave:
// toCsv / gridCsv / specCsv against the per-cell String() writer (awkward numbers: −0, NaN, ±Infinity,
// 1e-7, 1e21, integers, subnormals), parseStatsJson against JSON.parse with a null → NaN reviver,
// compactSvg against its two regexes, toJsonText
// against writeJson(toJsonValue(…)), and mapToPng against colorOf per pixel.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { gridCsv, toCsv, type Cell, type Row } from '../../analysis/csv.ts';
import { compactSvg } from '../../analysis/render-figures.ts';
import { specCsv, specRows, type VegaLiteSpec } from '../../analysis/figures/spec.ts';
import { parseStatsJson } from '../../analysis/stats-json.ts';
import { toJsonText, toJsonValue } from '../../analysis/suite.ts';
import { colorOf, encodePng, mapToPng, pngDataUri, type ColorMap } from '../../analysis/png.ts';

/** a small deterministic generator (the tests' cases are fixed) */
function lcg(seed: number): (n: number) => number {
  let s = seed;
  return (n) => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s % n;
  };
}

const AWKWARD = [
  0, -0, 1, -1, 7, 255, 65536, 2 ** 31, -(2 ** 31) - 1, 2 ** 53, -(2 ** 53) + 1, 0.1, -0.1, 1 / 3, 0.5170664191246033,
  1e-7, -1e-7, 1.5e-7, 1e-6, 123e-20, 1e21, -1e21, 1e20, 9.999999999999999e20, 1.7976931348623157e308, 5e-324, -5e-324,
  2.2250738585072014e-308, 2.225073858507201e-308, Math.fround(0.1), Math.fround(-3.7298669815063477), NaN, Infinity, -Infinity,
];

// the writer before: one String() per finite number, the cells of a line joined
function cellBefore(v: Cell): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
function toCsvBefore(rows: readonly Row[], columns?: readonly string[]): string {
  const cols = columns ?? [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const lines = [cols.map(cellBefore).join(',')];
  for (const r of rows) lines.push(cols.map((c) => cellBefore(r[c])).join(','));
  return lines.join('\n') + '\n';
}

test('toCsv: awkward numbers, all-number lines and mixed ones, as String() per cell wrote them', () => {
  const rnd = lcg(1);
  const cells: Cell[] = [...AWKWARD, 'x', 'a,b', 'say "hi"', '2\nlines', '', true, false, null, undefined];
  for (let t = 0; t < 400; t++) {
    const width = rnd(6), rows: Row[] = [];
    for (let i = 0; i < rnd(8); i++) {
      const r: Row = {};
      for (let j = 0; j < width; j++) {
        if (rnd(7) === 0) continue; // a key some rows lack
        // mostly numbers, so many lines are numbers only
        r[`c${j}`] = rnd(4) ? AWKWARD[rnd(AWKWARD.length)] : cells[rnd(cells.length)];
      }
      rows.push(r);
    }
    assert.is(toCsv(rows), toCsvBefore(rows));
    assert.is(toCsv(rows, ['c1', 'zz', 'c0']), toCsvBefore(rows, ['c1', 'zz', 'c0']));
  }
  // every awkward number alone, and all of them on one line
  for (const v of AWKWARD) assert.is(toCsv([{ v }]), toCsvBefore([{ v }]), String(v));
  const line = Object.fromEntries(AWKWARD.map((v, i) => [`n${i}`, v]));
  assert.is(toCsv([line, line]), toCsvBefore([line, line]));
  assert.is(toCsv([{ a: -0, b: 1e-7, c: 1e21, d: 5e-324 }]), 'a,b,c,d\n0,1e-7,1e+21,5e-324\n');
  assert.is(toCsv([]), '\n');
  assert.is(toCsv([{}, {}]), '\n\n\n');
  assert.is(toCsv([{ a: 1 }], []), '\n\n');
});

test('gridCsv: the text of toCsv on the rows it stands for', () => {
  const rnd = lcg(2);
  for (let t = 0; t < 100; t++) {
    const cols = Array.from({ length: rnd(5) }, (_, j) => (j === 1 ? 'a,b' : `n${j}`)), n = rnd(6);
    const grid = Array.from({ length: n }, () => cols.map(() => (rnd(5) ? AWKWARD[rnd(AWKWARD.length)] : rnd(2) ? 'text' : null)));
    const rows = grid.map((g) => Object.fromEntries(cols.map((c, j) => [c, g[j]])) as Row);
    assert.is(gridCsv(cols, n, (i, j) => grid[i][j]), toCsvBefore(rows));
  }
});

test('specCsv: toCsv(specRows(spec)), image urls left out', () => {
  const values = [{ url: 'data:image/png;base64,AA', x: -0, label: 'a' }, { x: 1e-7, y: NaN }, { url: 'u', y: 2, label: 'b,c' }];
  const spec = { data: { values } } as unknown as VegaLiteSpec;
  assert.is(specCsv(spec), toCsvBefore(specRows(spec)));
  assert.is(specCsv(spec), 'x,label,y\n0,a,\n1e-7,,\n,"b,c",2\n');
  assert.is(specCsv({} as VegaLiteSpec), '\n');
});

test('parseStatsJson: JSON.parse with null read as NaN, as the reviver did', () => {
  const reviver = (text: string) => JSON.parse(text, (_k, v) => (v === null ? NaN : v));
  const texts = [
    'null', '1', '[]', '{}', '[null,1,[null,{"a":null}],{"b":[null]}]', '{"a":null,"b":{"c":null,"d":[1,null,-0]},"e":"null"}',
    '{"__proto__":null,"x":1}', '{"__proto__":{"a":null}}', '{"s":"no nulls here, just [1, 2]","n":[1e-7,1e21,-0]}',
  ];
  for (const text of texts) {
    const a = parseStatsJson(text, 'f.json'), b = reviver(text);
    assert.equal(a, b, text);
    if (typeof b === 'object' && b !== null) {
      assert.is(Object.getPrototypeOf(a), Object.getPrototypeOf(b), text);
      assert.equal(Object.keys(a as object), Object.keys(b), text);
    }
  }
  assert.ok(Number.isNaN(parseStatsJson('null', 'f.json')));
  assert.ok(Object.prototype.hasOwnProperty.call(parseStatsJson('{"__proto__":null}', 'f.json'), '__proto__'));
  assert.throws(() => parseStatsJson('{"a":', 'f.json'), /f\.json.*not valid JSON/);
});

test('compactSvg: the text of its two regexes, on attribute soup', () => {
  const before = (svg: string) => svg.replace(/ (transform|d|x|y|x1|x2|y1|y2|width|height)="([^"]*)"/g,
    (_, k: string, v: string) => ` ${k}="${v.replace(/(-?\d+\.\d{2})\d+/g, '$1')}"`);
  const toks = [' ', ' ', 'd', 'x', 'y', '1', '2', '0', '5', '9', '.', '.', '"', '="', '-', 'a', 'width', 'height', 'transform',
    'x1', 'y2', ' d="', ' x="', ' id="', '123.4567', 'h', 'M', ',', '−', 'é'];
  const rnd = lcg(3);
  for (let t = 0; t < 20000; t++) {
    let s = '';
    for (let i = rnd(40); i > 0; i--) s += toks[rnd(toks.length)];
    assert.is(compactSvg(s), before(s), JSON.stringify(s));
  }
  const svg = '<path transform="translate(12.3456,7.891)" d="M1.23456,-2.5L3.14159.2718Z" data="1.23456"/><text x="0.12345">3.14159</text>';
  assert.is(compactSvg(svg), before(svg));
  assert.is(compactSvg(svg), '<path transform="translate(12.34,7.89)" d="M1.23,-2.5L3.14.2718Z" data="1.23456"/><text x="0.12">3.14159</text>');
});

test('toJsonText: the text writeJson wrote of toJsonValue (typed arrays, float32 rounding, NaN)', () => {
  const v = {
    a: Float32Array.of(0.1, -0, NaN, 1e-7, 3.4e38), b: [1 / 3, -0, Infinity, 1e21, 5e-324], c: { d: Int32Array.of(1, -2), e: 'text', f: null, g: undefined },
    h: [], i: {}, 2: 'two', 1: [true, false],
  };
  assert.is(toJsonText(v), JSON.stringify(toJsonValue(v), null, 2) + '\n');
  assert.is(toJsonText(undefined), undefined);
});

test('mapToPng: each pixel colorOf(map, value), as before', () => {
  const rows = 5, cols = 7, values = Float32Array.from({ length: rows * cols }, (_, i) => (i === 3 ? NaN : Math.sin(i) * 3));
  for (const map of ['gray_r', 'viridis', 'hot'] as ColorMap[]) {
    let lo = Infinity, hi = -Infinity;
    for (const x of values) { if (x < lo) lo = x; if (x > hi) hi = x; }
    const ch = map === 'gray_r' ? 1 : 3, px = new Uint8Array(rows * cols * ch);
    for (let i = 0; i < rows * cols; i++) {
      const c = colorOf(map, (values[i] - lo) / (hi - lo));
      if (ch === 1) px[i] = c[0];
      else px.set(c, 3 * i);
    }
    assert.equal([...mapToPng(values, rows, cols, map)], [...encodePng(cols, rows, ch, px)], map);
  }
});

test('pngDataUri: base64 of the bytes, each byte one character', () => {
  for (const n of [0, 1, 2, 3, 255, 256, 0x8000, 0x8001, 70000]) {
    const png = Uint8Array.from({ length: n }, (_, i) => (i * 37 + 11) & 255);
    let s = '';
    for (const b of png) s += String.fromCharCode(b);
    assert.is(pngDataUri(png), 'data:image/png;base64,' + btoa(s), String(n));
  }
});

test.run();
