import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { heldOutRows, stratifiedSample } from '../../analysis/sample.ts';
import { createRng } from '../../engine/rng.ts';

// 2000 labels of 10 classes in a random order, class 7 cut to 12 rows, class 9 absent
const labels: number[] = Array.from(createRng('mlp-lens', 99).epochPermutation(2000), (v) => v % 9);
let sevens = 0;
labels.forEach((l, i) => { if (l === 0 && sevens < 12) { labels[i] = 7; sevens++; } else if (l === 7) labels[i] = 8; });
const count = (rows: number[], c: number) => rows.filter((r) => labels[r] === c).length;
const sortedUnique = (rows: number[]) => rows.every((r, i) => i === 0 || r > rows[i - 1]);

test('balanced: perClass rows of each class, a short class gives all it has, an absent class none', () => {
  const s = stratifiedSample(labels, 10, 50, 1);
  assert.equal(s.perClass, [50, 50, 50, 50, 50, 50, 50, 12, 50, 0]);
  assert.is(s.rows.length, 9 * 50 - 38);
  for (let c = 0; c < 10; c++) assert.is(count(s.rows, c), s.perClass[c], `class ${c}`);
  // every 7 is in: they are all the class has
  assert.equal(s.rows.filter((r) => labels[r] === 7), labels.flatMap((l, i) => (l === 7 ? [i] : [])));
});

test('sorted ascending, distinct, in range', () => {
  const s = stratifiedSample(labels, 10, 100, 2);
  assert.ok(sortedUnique(s.rows));
  assert.ok(s.rows[0] >= 0 && s.rows[s.rows.length - 1] < labels.length);
});

test('seeded: same seed same rows, another seed other rows; a larger sample contains a smaller one', () => {
  const a = stratifiedSample(labels, 10, 30, 5), b = stratifiedSample(labels, 10, 30, 5), c = stratifiedSample(labels, 10, 30, 6);
  assert.equal(a, b);
  assert.equal(c.perClass, a.perClass);
  assert.not.equal(c.rows, a.rows);
  const overlap = a.rows.filter((r) => c.rows.includes(r)).length;
  assert.ok(overlap < a.rows.length / 2, `mostly other rows: ${overlap} shared of ${a.rows.length}`);
  const big = new Set(stratifiedSample(labels, 10, 60, 5).rows);
  assert.ok(a.rows.every((r) => big.has(r)), 'nested');
});

test('edge cases: perClass 0, more than there are, bad input', () => {
  assert.equal(stratifiedSample(labels, 10, 0, 1), { rows: [], perClass: new Array(10).fill(0) });
  const all = stratifiedSample(labels, 10, 5000, 1);
  assert.equal(all.rows, labels.map((_, i) => i));
  assert.equal(stratifiedSample([], 3, 4, 1), { rows: [], perClass: [0, 0, 0] });
  assert.throws(() => stratifiedSample([0, 3], 3, 1, 1), /label 3/);
  assert.throws(() => stratifiedSample([0, 1], 3, 1.5, 1), /perClass/);
});

test('heldOutRows: round(fraction · m) of each class, sorted, seeded', () => {
  const h = heldOutRows(labels, 10, 0.3, 3);
  assert.ok(sortedUnique(h));
  for (let c = 0; c < 10; c++) {
    const m = labels.filter((l) => l === c).length;
    assert.is(count(h, c), Math.round(0.3 * m), `class ${c} of ${m}`);
  }
  assert.equal(heldOutRows(labels, 10, 0.3, 3), h);
  assert.not.equal(heldOutRows(labels, 10, 0.3, 4), h);
  assert.equal(heldOutRows(labels, 10, 0, 3), []);
  assert.equal(heldOutRows(labels, 10, 1, 3), labels.map((_, i) => i));
  // on a sample's labels: positions into the sample
  const s = stratifiedSample(labels, 10, 20, 8);
  const sampleLabels = s.rows.map((r) => labels[r]);
  const held = heldOutRows(sampleLabels, 10, 0.25, 8);
  assert.is(held.length, 9 * 5 - 2);
  assert.ok(held.every((p) => p >= 0 && p < s.rows.length));
  assert.throws(() => heldOutRows(labels, 10, 1.5, 1), /fraction/);
});

test.run();
