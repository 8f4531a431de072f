import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { driftRows, healthRows, histogramRows, matrixCsv, paramNormRows, toCsv } from '../../analysis/csv.ts';
import { drift } from '../../analysis/drift.ts';
import { computeEpochStats } from '../../analysis/epoch-stats.ts';
import type { EpochRecord } from '../../mlp/recorder.ts';

const rec = (epoch: number): EpochRecord => ({
  epoch, count: 3, labels: Uint8Array.of(0, 1, 1), indices: Uint32Array.of(0, 1, 2),
  acts: { 'layers.0.post': { width: 2, data: Float32Array.of(0, 1, 0, 2 + epoch, 0, 3) } },
  grads: { 'layers.0.post': { width: 2, data: Float32Array.of(0.5, -1, 0, 0, 1, 1) } },
  batchOffsets: Uint32Array.of(0, 2, 3),
  paramGrads: { names: ['layers.0.W', 'layers.0.b'], steps: 2, norms: Float32Array.of(1, 2, 3, 4) },
});
const stats = [0, 1].map((e) => computeEpochStats(rec(e), { classes: 3, bins: 4, firstBatch: 2 }));

test('toCsv: header from the keys, quoting, NaN / null / Infinity as empty cells', () => {
  const csv = toCsv([{ a: 1, b: 'x,y' }, { a: NaN, c: 'say "hi"' }, { a: Infinity, b: null, c: '2\nlines' }, { a: 0.1, b: true }]);
  assert.is(csv, 'a,b,c\n1,"x,y",\n,,"say ""hi"""\n,,"2\nlines"\n0.1,true,\n');
  assert.is(toCsv([{ a: 1, b: 2 }], ['b', 'a']), 'b,a\n2,1\n');
  assert.is(toCsv([]), '\n');
});

test('matrixCsv: one row per line, labelled', () => {
  assert.is(matrixCsv([[1, 2], [3, NaN]], 'epoch', 'n'), 'epoch,n0,n1\n0,1,2\n1,3,\n');
  assert.is(matrixCsv([[5]], 'class', 'neuron', ['seven']), 'class,neuron0\nseven,5\n');
});

test('driftRows: overall, first-batch and per-class rows for activations and gradients', () => {
  const rows = driftRows(drift(stats));
  // per kind × epoch: all, first-batch, 3 classes
  assert.is(rows.length, 2 * 2 * 5);
  const r = rows.find((x) => x.kind === 'act' && x.epoch === 1 && x.group === 'all')!;
  assert.is(r.mean, stats[1].acts['layers.0.post'].all.mean);
  assert.is(r.std, stats[1].acts['layers.0.post'].all.std);
  const absent = rows.find((x) => x.kind === 'grad' && x.epoch === 0 && x.group === 2)!;
  assert.ok(Number.isNaN(absent.mean as number));
  assert.match(toCsv(rows), /^kind,tensor,epoch,group,mean,std,min,max\nact,layers\.0\.post,0,all,/);
});

test('histogramRows, healthRows, paramNormRows: long tables whose counts add up', () => {
  const h = histogramRows(stats);
  const all = h.filter((x) => x.epoch === 0 && x.kind === 'act' && x.group === 'all');
  assert.is(all.length, 4);
  assert.is(all.reduce((a, x) => a + (x.count as number), 0), 6);
  assert.is(all[0].lo, stats[0].acts['layers.0.post'].histogram.edges[0]);
  assert.is(all[3].hi, stats[0].acts['layers.0.post'].histogram.edges[4]);
  // own-range class histograms exist for activations only
  assert.ok(h.some((x) => x.kind === 'act' && x.range === 'own' && x.group === 1));
  assert.not.ok(h.some((x) => x.kind === 'grad' && x.range === 'own' && x.group === 1));
  const health = healthRows(stats);
  assert.equal(health.filter((x) => x.epoch === 0).map((x) => [x.neuron, x.activeFraction, x.state]), [[0, 0, 'dead'], [1, 1, 'always']]);
  assert.equal(paramNormRows(stats).slice(0, 2), [
    { epoch: 0, step: 0, 'layers.0.W': 1, 'layers.0.b': 2 }, { epoch: 0, step: 1, 'layers.0.W': 3, 'layers.0.b': 4 }]);
});

test.run();
