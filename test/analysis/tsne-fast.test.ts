// analysis/tsne.ts, with its force sums in WebAssembly SIMD (analysis/pair-kernels.ts: two rows a lane
// pair, each sum in the plain loop's order) and without (the JS loop), gives the plain loops' embedding
// and KL (test/helpers/tsne-reference.ts) bit for bit, on awkward
// inputs: 3, 4, 5, 63 and 65 points, 2, 3 and 17 columns (1: PCA's initialisation refuses it), duplicated points, tied distances, all-zero rows.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { conditionalP, tsne } from '../../analysis/tsne.ts';
import type { HostTensor } from '../../analysis/forward-cache.ts';
import * as ref from '../helpers/tsne-reference.ts';
import { pairKernelsReady, pairKernelsUnavailable, switchPairKernelsOff } from '../../analysis/pair-kernels.ts';
import { envVar } from '../../engine/wasm/load.ts';

const loaded = await pairKernelsReady();
const modes = loaded ? ['js', 'wasm'] as const : ['js'] as const;

test('the WebAssembly kernels load under Node (unless MLP_LENS_WASM=0)', () => {
  if (envVar('MLP_LENS_WASM') !== '0') assert.ok(loaded, pairKernelsUnavailable());
});

/** bit-exact equality of two float arrays (−0 and NaN payloads included) */
function same(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  assert.is(a.length, b.length, `${what}: length`);
  const x = new Float64Array(Array.from(a)), y = new Float64Array(Array.from(b));
  assert.ok(Buffer.from(x.buffer).equals(Buffer.from(y.buffer)), what);
}

function data(n: number, d: number, seed: number, kind: 'plain' | 'ties' | 'relu'): HostTensor {
  let s = seed >>> 0;
  const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const x = Float32Array.from({ length: n * d }, () => (kind === 'ties' ? Math.floor(rnd() * 3) / 2 : kind === 'relu' && rnd() < 0.4 ? 0 : rnd() * 4 - 1));
  if (kind !== 'plain' && n > 4) { x.copyWithin(d, 0, d); x.copyWithin(3 * d, 0, d); x.fill(0, 2 * d, 3 * d); }
  return { shape: [n, d], data: x };
}

test('t-SNE: embedding and KL as the plain loops, bit for bit', () => {
  const cases: [number, number, 'plain' | 'ties' | 'relu', number, number][] = [
    [3, 2, 'plain', 1.5, 40], [4, 3, 'plain', 2, 40], [5, 17, 'ties', 3, 40], [6, 3, 'relu', 4, 260],
    [63, 2, 'ties', 10, 60], [63, 17, 'relu', 20, 260], [65, 3, 'plain', 20, 60], [65, 17, 'ties', 30, 60], [64, 16, 'relu', 20, 30],
  ];
  for (const mode of modes) for (const [n, d, kind, perplexity, iterations] of cases) {
    switchPairKernelsOff(mode === 'js');
    const x = data(n, d, n * 131 + d, kind);
    const a = tsne(x, { perplexity, iterations }), b = ref.tsne(x, { perplexity, iterations });
    const what = `${mode}: n ${n} d ${d} ${kind} perplexity ${perplexity} iterations ${iterations}`;
    same(a.embedding.data, b.embedding.data, `${what}: embedding`);
    assert.equal(a.embedding.shape, b.embedding.shape);
    assert.ok(Object.is(a.kl, b.kl), `${what}: kl ${a.kl} vs ${b.kl}`);
  }
  // a learning rate and exaggeration of its own, and few points
  for (const mode of modes) {
    switchPairKernelsOff(mode === 'js');
    const x = data(7, 2, 5, 'plain');
    const a = tsne(x, { perplexity: 2, iterations: 20, learningRate: 200, earlyExaggeration: 4 });
    const b = ref.tsne(x, { perplexity: 2, iterations: 20, learningRate: 200, earlyExaggeration: 4 });
    same(a.embedding.data, b.embedding.data, `${mode}: n 7 lr 200: embedding`);
    assert.ok(Object.is(a.kl, b.kl));
  }
  switchPairKernelsOff(false);
});

test('t-SNE of 301 ReLU-like points, 16 columns, the suite\'s perplexity and iterations: as the plain loops', () => {
  const x = data(301, 16, 42, 'relu'), b = ref.tsne(x, { perplexity: 20, iterations: 300 });
  for (const mode of modes) {
    switchPairKernelsOff(mode === 'js');
    const a = tsne(x, { perplexity: 20, iterations: 300 });
    same(a.embedding.data, b.embedding.data, `${mode}: embedding`);
    assert.ok(Object.is(a.kl, b.kl), `${mode}: kl`);
  }
  switchPairKernelsOff(false);
});

test('t-SNE: too few points, too high a perplexity, or one column throw as before', () => {
  for (const n of [1, 2]) {
    const x = data(n, 3, 1, 'plain');
    assert.throws(() => tsne(x), /at least 3 points/);
    assert.throws(() => ref.tsne(x), /at least 3 points/);
  }
  assert.throws(() => tsne(data(10, 3, 1, 'plain'), { perplexity: 10 }), /perplexity/);
  assert.throws(() => tsne(data(10, 1, 1, 'plain'), { perplexity: 3 }), /2 components of 1 columns/);
  assert.throws(() => ref.tsne(data(10, 1, 1, 'plain'), { perplexity: 3 }), /2 components of 1 columns/);
});

test('conditional P: as the plain loops', () => {
  for (const [n, d] of [[3, 1], [17, 3], [65, 17]]) {
    const x = data(n, d, n + d, 'ties').data, d2 = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) { let s = 0; for (let k = 0; k < d; k++) { const e = x[i * d + k] - x[j * d + k]; s += e * e; } d2[i * n + j] = s; }
    same(conditionalP(d2, n, Math.min(5, n - 1)), ref.conditionalP(d2, n, Math.min(5, n - 1)), `n ${n} d ${d}`);
  }
});

test.run();
