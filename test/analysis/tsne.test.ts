import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { silhouetteScore } from '../../analysis/silhouette.ts';
import { conditionalP, tsne } from '../../analysis/tsne.ts';
import { createRng } from '../../engine/rng.ts';
import { assertClose } from '../helpers/close.ts';

test('conditional P: rows sum to 1, zero diagonal, entropy = log(perplexity)', () => {
  const n = 12, rng = createRng('mlp-lens', 1);
  const pts = Array.from({ length: n }, () => Array.from(rng.random(3)));
  const d2 = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) d2[i * n + j] = pts[i].reduce((s, v, k) => s + (v - pts[j][k]) ** 2, 0);
  const p = conditionalP(d2, n, 5);
  for (let i = 0; i < n; i++) {
    const row = Array.from(p.subarray(i * n, (i + 1) * n));
    assert.is(row[i], 0);
    assertClose([row.reduce((a, b) => a + b, 0)], [1], { atol: 1e-12 });
    const h = -row.reduce((s, v) => s + (v > 0 ? v * Math.log(v) : 0), 0);
    assertClose([h], [Math.log(5)], { atol: 1e-4 }, `entropy of row ${i}`);
  }
});

test('three separated clusters stay separated in the embedding; the result is deterministic', () => {
  const rng = createRng('mlp-lens', 2);
  const rows: number[] = [], labels: number[] = [];
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < 20; i++) {
      const noise = rng.random(4);
      rows.push(...[0, 1, 2, 3].map((k) => (k === c ? 10 : 0) + noise[k]));
      labels.push(c);
    }
  }
  const x = { shape: [60, 4], data: Float32Array.from(rows) };
  const a = tsne(x, { perplexity: 10, iterations: 1000 });
  assert.equal(a.embedding.shape, [60, 2]);
  assert.ok(silhouetteScore(a.embedding, labels) > 0.9, 'clusters separate');
  assert.ok(a.kl > 0 && a.kl < 1, `kl ${a.kl}`);
  const b = tsne(x, { perplexity: 10, iterations: 1000 });
  assert.equal(Array.from(b.embedding.data), Array.from(a.embedding.data));
  assert.throws(() => tsne(x, { perplexity: 60 }), /perplexity/);
});

test.run();
