// t-SNE's perplexity calibration (analysis/tsne.ts conditionalP) in WebAssembly (engine/wasm/math-kernels.ts
// tsne_cond_p, on V8's exp and log ported: engine/wasm/fdlibm.ts) and in its JS loop (the kernels switched
// off) against the loop it was (test/helpers/tsne-reference.ts), bit for bit, on awkward sizes (1, 2, 3, 63,
// 64, 65, 1000 points: odd rows end in the scalar exp), ties and duplicates (zero distances), distances
// whose exp underflows (x < −708: the scalar exp inside the pairs), tiny ones (|x| < 2⁻²⁸), ±0, and
// negative, infinite or NaN entries (which keep the JS loop). The kernel runs 16 rows a call: 63 and 65
// points end in a partial call.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { conditionalP } from '../../analysis/tsne.ts';
import { envVar } from '../../engine/wasm/load.ts';
import { mathKernelsReady, mathKernelsUnavailable, switchMathKernelsOff } from '../../engine/wasm/math-kernels.ts';
import * as ref from '../helpers/tsne-reference.ts';

const loaded = await mathKernelsReady();
const modes = loaded ? ['js', 'wasm'] as const : ['js'] as const;

// (elsewhere, a Math.log that is not fdlibm's leaves them unused: the JS loop's numbers all the same)
test('the math kernels load and pass their self-check under Node (unless MLP_LENS_WASM=0)', () => {
  if (!('Deno' in globalThis) && envVar('MLP_LENS_WASM') !== '0') assert.ok(loaded, mathKernelsUnavailable());
});

type Kind = 'points' | 'ties' | 'far' | 'near' | 'zeros' | 'bad';

/** squared distances [n, n] of one kind (symmetric, 0 on the diagonal, but for 'bad') */
function squares(n: number, kind: Kind, seed: number): Float64Array {
  let s = seed >>> 0;
  const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const d = 5, x = Float64Array.from({ length: n * d }, () => (kind === 'ties' ? Math.floor(rnd() * 3) : rnd() * 4 - 1));
  const d2 = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      let v = 0;
      for (let k = 0; k < d; k++) v += (x[i * d + k] - x[j * d + k]) ** 2;
      if (kind === 'far') v = rnd() < 0.5 ? v * 1e3 : v * 1e-3;
      if (kind === 'near') v *= 2 ** -40;
      if (kind === 'zeros') v = rnd() < 0.5 ? 0 : -0;
      d2[i * n + j] = d2[j * n + i] = v;
    }
  }
  if (kind === 'bad' && n > 1) { d2[1] = NaN; d2[n] = -1; d2[n * n - 2] = Infinity; }
  return d2;
}

const same = (a: Float64Array, b: Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

test('conditionalP: the reference loop\'s numbers bit for bit, kernels on and off', () => {
  const kinds: Kind[] = ['points', 'ties', 'far', 'near', 'zeros', 'bad'];
  for (const n of [1, 2, 3, 63, 64, 65]) for (const kind of kinds) for (const perplexity of [0.5, 2, 30]) {
    const d2 = squares(n, kind, n * 17 + kinds.indexOf(kind)), want = ref.conditionalP(d2, n, perplexity);
    for (const mode of modes) {
      switchMathKernelsOff(mode === 'js');
      assert.ok(same(conditionalP(d2, n, perplexity), want), `${mode}: n ${n} ${kind} perplexity ${perplexity}`);
    }
  }
  switchMathKernelsOff(false);
});

test('conditionalP of 1000 points, perplexity 20 (the main job\'s t-SNE): as the reference loop', () => {
  const d2 = squares(1000, 'points', 7), want = ref.conditionalP(d2, 1000, 20);
  for (const mode of modes) {
    switchMathKernelsOff(mode === 'js');
    assert.ok(same(conditionalP(d2, 1000, 20), want), mode);
  }
  switchMathKernelsOff(false);
});

test.run();
