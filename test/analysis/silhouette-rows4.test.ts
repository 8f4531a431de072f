// analysis/silhouette.ts's four-row kernels (four rows of a cluster against the later points at once,
// each sum in the one-row loop's order), in JavaScript and in WebAssembly SIMD (analysis/pair-kernels.ts),
// give the plain loops' numbers (test/analysis/silhouette-reference.ts) bit for bit, on awkward inputs: 1, 2, 63 and 65 rows; 1, 2, 3, 5 and 17 columns; clusters of 1 to 9
// rows around the group of four; one cluster; absent labels; tied and duplicated points; prefixes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { prefixSilhouetteSamples, prefixSilhouetteScores, silhouetteSamples, silhouetteScore } from '../../analysis/silhouette.ts';
import type { HostTensor } from '../../analysis/forward-cache.ts';
import { pairKernels, pairKernelsReady, pairKernelsUnavailable, switchPairKernelsOff } from '../../analysis/pair-kernels.ts';
import { envVar } from '../../engine/wasm/load.ts';
import * as ref from './silhouette-reference.ts';

/** bit-exact equality of two float arrays (−0 and NaN payloads included) */
function same(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  assert.is(a.length, b.length, `${what}: length`);
  const x = new Float64Array(Array.from(a)), y = new Float64Array(Array.from(b));
  assert.ok(Buffer.from(x.buffer).equals(Buffer.from(y.buffer)), what);
}

function points(n: number, d: number, seed: number, ties: boolean): HostTensor {
  let s = seed >>> 0;
  const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const x = Float32Array.from({ length: n * d }, () => (ties ? Math.floor(rnd() * 3) / 2 : rnd() < 0.3 ? 0 : rnd() * 4 - 1));
  if (ties && n > 4) { x.copyWithin(d, 0, d); x.copyWithin(2 * d, 0, d); }
  return { shape: [n, d], data: x };
}

/** labels of n rows: 'random' over `classes`, 'sizes' (clusters of 1..9 rows in turn), 'absent' (only 0, 2 and 5 of 7), 'one' */
function labelsOf(n: number, how: 'random' | 'sizes' | 'absent' | 'one', seed: number): Uint8Array {
  let s = seed >>> 0;
  const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  if (how === 'one') return new Uint8Array(n);
  if (how === 'absent') return Uint8Array.from({ length: n }, () => [0, 2, 5][Math.floor(rnd() * 3)]);
  if (how === 'random') return Uint8Array.from({ length: n }, () => Math.floor(rnd() * 4));
  // cluster c has (c % 9) + 1 rows, shuffled
  const out: number[] = [];
  for (let c = 0; out.length < n; c++) for (let k = 0; k <= c % 9 && out.length < n; k++) out.push(c);
  for (let i = n - 1; i > 0; i--) { const j = Math.floor(rnd() * (i + 1)); [out[i], out[j]] = [out[j], out[i]]; }
  return Uint8Array.from(out);
}

const loaded = await pairKernelsReady();
const modes = loaded ? ['js', 'wasm'] as const : ['js'] as const;

test('the WebAssembly kernels load under Node (unless MLP_LENS_WASM=0)', () => {
  if (envVar('MLP_LENS_WASM') === '0') return;
  assert.ok(loaded, pairKernelsUnavailable());
  switchPairKernelsOff(true);
  assert.is(pairKernels(), null);
  switchPairKernelsOff(false);
  assert.ok(pairKernels());
});

const rows = [1, 2, 5, 8, 63, 65], cols = [1, 2, 3, 5, 17], hows = ['random', 'sizes', 'absent', 'one'] as const;

test('silhouette samples and score: as the plain loops', () => {
  for (const mode of modes) for (const n of rows) for (const d of cols) for (const how of hows) for (const ties of [false, true]) {
    switchPairKernelsOff(mode === 'js');
    const x = points(n, d, n * 7 + d, ties), labels = labelsOf(n, how, n + d);
    const what = `${mode}: n ${n} d ${d} ${how}${ties ? ' ties' : ''}`;
    same(silhouetteSamples(x, labels), ref.silhouetteSamples(x, labels), `${what} samples`);
    if (n > 1) same([silhouetteScore(x, labels)], [ref.silhouetteScore(x, labels)], `${what} score`);
  }
});

test('prefix silhouettes (by two, and other sizes): as the plain loops', () => {
  for (const mode of modes) for (const n of rows) for (const d of [3, 8, 17]) for (const how of hows) for (const ties of [false, true]) {
    switchPairKernelsOff(mode === 'js');
    const x = points(n, d, n * 5 + d, ties), labels = labelsOf(n, how, n * 3 + d);
    const order = Array.from({ length: d }, (_, j) => (j * 5 + 2) % d);
    for (const sizes of [Array.from({ length: d >> 1 }, (_, i) => 2 * (i + 1)), [1, 2, 3], [1, d], [2, d - 1], [3]].filter((s) => s.every((v, t) => t === 0 || v > s[t - 1]))) {
      const what = `${mode}: n ${n} d ${d} ${how}${ties ? ' ties' : ''} sizes [${sizes}]`;
      const a = prefixSilhouetteSamples(x, labels, order, sizes), b = ref.prefixSilhouetteSamples(x, labels, order, sizes);
      assert.is(a.length, b.length);
      a.forEach((s, t) => same(s, b[t], `${what} prefix ${t}`));
      if (n > 1) same(prefixSilhouetteScores(x, labels, order, sizes), ref.prefixSilhouetteScores(x, labels, order, sizes), `${what} scores`);
    }
  }
});

test('a large case (1000 rows, 10 classes, 16 columns, prefixes by two): the kernels as the plain loops', () => {
  const x = points(1000, 16, 99, false), labels = labelsOf(1000, 'random', 5).map((l, i) => (l * 3 + i) % 10);
  const order = Array.from({ length: 16 }, (_, j) => (j * 7 + 1) % 16), sizes = [2, 4, 6, 8, 10, 12, 14, 16];
  const b = ref.prefixSilhouetteSamples(x, labels, order, sizes);
  for (const mode of modes) {
    switchPairKernelsOff(mode === 'js');
    prefixSilhouetteSamples(x, labels, order, sizes).forEach((s, t) => same(s, b[t], `${mode}: prefix ${t}`));
    same(silhouetteSamples(x, labels), ref.silhouetteSamples(x, labels), `${mode}: all columns`);
  }
  switchPairKernelsOff(false);
});

test.run();
