// RUN/through-training.json as read back: validation, pure, so the report draws only what is sound
// (reading the file is run/report.ts). Every shape is checked against the file's own sizes, classes,
// epochs and sample (each neuron, class and sample position a figure reads is in range; nothing is
// allocated from a claimed size), and every count is bounded. JSON null stands for NaN where the producer
// can write one (a selectivity, a silhouette, a CKA, a coordinate of a diverged run) and reads back as
// NaN; epochs, indices, labels and fractions must be finite. A bad file is one skip with a one-line reason.
import { ANALYSIS_LIMITS, Check } from './analysis-json.ts';
import { THROUGH_TRAINING_FORMAT, type Finding, type LayerAtEpoch, type ThroughTraining } from './through-training-types.ts';
import { quote } from '../mlp/errors.ts';

export const THROUGH_TRAINING_FILE = 'through-training.json';

/** bounds on what the file may hold (far above a 20-epoch run on a few thousand test images) */
export const THROUGH_TRAINING_LIMITS = {
  epochs: 1000, sample: 70_000, testRows: 1_000_000, findings: 500, tableRows: 10_000, tableColumns: 64,
  text: 2000, cell: 200, fileBytes: 64 * 2 ** 20,
};

function checkLayer(c: Check, v: unknown, p: string, width: number, classes: number, count: number): LayerAtEpoch {
  const o = c.obj(v, p);
  c.matrix(o.selectivity, `${p}.selectivity`, classes, width, true);
  const top3 = c.arr(o.top3, `${p}.top3`, classes);
  top3.forEach((r, i) => c.indices(r, `${p}.top3[${i}]`, width, 'neuron', Math.min(3, width)));
  for (const k of ['dead', 'rare'] as const) {
    const a = c.indices(o[k], `${p}.${k}`, width, 'neuron');
    if (a.length > width || new Set(a).size !== a.length) c.fail(`${p}.${k}`, `expected distinct neurons (at most ${width}), got ${a.length} entries`);
  }
  // −1: a dead neuron has no top class (analysis/through-training.ts)
  const dead = new Set(o.dead as number[]);
  c.arr(o.topClass, `${p}.topClass`, width).forEach((x, i) => {
    if (x === -1 && dead.has(i)) return;
    c.index(x, `${p}.topClass[${i}]`, classes, 'class');
  });
  c.nums(o.activeFraction, `${p}.activeFraction`, width).forEach((f, i) => {
    if (f < 0 || f > 1) c.fail(`${p}.activeFraction[${i}]`, `expected a fraction in [0, 1], got ${f}`);
  });
  o.silhouette = c.num(o.silhouette, `${p}.silhouette`, true);
  const probe = c.obj(o.probe, `${p}.probe`);
  probe.heldOutAccuracy = c.num(probe.heldOutAccuracy, `${p}.probe.heldOutAccuracy`, true);
  probe.trainAccuracy = c.num(probe.trainAccuracy, `${p}.probe.trainAccuracy`, true);
  c.matrix(o.aligned, `${p}.aligned`, count, 2, true);
  c.nums(o.explained, `${p}.explained`, 2, true);
  return o as unknown as LayerAtEpoch;
}

function checkFinding(c: Check, v: unknown, p: string): Finding {
  const L = THROUGH_TRAINING_LIMITS, o = c.obj(v, p);
  if (c.str(o.text, `${p}.text`).length > L.text) c.fail(`${p}.text`, `longer than ${L.text} characters`);
  if (c.str(o.kind, `${p}.kind`).length > 64) c.fail(`${p}.kind`, 'longer than 64 characters');
  const t = c.obj(o.table, `${p}.table`);
  const cols = c.arr(t.columns, `${p}.table.columns`);
  if (cols.length > L.tableColumns) c.fail(`${p}.table.columns`, `expected at most ${L.tableColumns} columns, got ${cols.length}`);
  cols.forEach((x, i) => { if (c.str(x, `${p}.table.columns[${i}]`).length > L.cell) c.fail(`${p}.table.columns[${i}]`, `longer than ${L.cell} characters`); });
  const rows = c.arr(t.rows, `${p}.table.rows`);
  if (rows.length > L.tableRows) c.fail(`${p}.table.rows`, `expected at most ${L.tableRows} rows, got ${rows.length}`);
  rows.forEach((r, i) => c.arr(r, `${p}.table.rows[${i}]`, cols.length).forEach((x, j) => {
    const q = `${p}.table.rows[${i}][${j}]`;
    if (typeof x === 'string') { if (x.length > L.cell) c.fail(q, `longer than ${L.cell} characters`); }
    else if (x !== null && (typeof x !== 'number' || !Number.isFinite(x))) c.fail(q, `expected a number or a string, got ${quote(x, 30)}`);
  }));
  return o as unknown as Finding;
}

/**
 * checks parsed RUN/through-training.json; returns it typed (nulls read as NaN where allowed); throws
 * InputError('through-training.json', '<JSON path>: problem') naming the first problem. Mutates `v`.
 */
export function validateThroughTraining(v: unknown): ThroughTraining {
  const L = THROUGH_TRAINING_LIMITS, A = ANALYSIS_LIMITS;
  const c = new Check(THROUGH_TRAINING_FILE);
  const o = c.obj(v, '$');
  if (o.format !== THROUGH_TRAINING_FORMAT) c.fail('$.format', `expected ${quote(THROUGH_TRAINING_FORMAT)}, got ${quote(o.format, 40)}`);
  if (o.version !== 1) c.fail('$.version', `expected 1, got ${quote(o.version, 20)}`);
  const sizes = c.arr(o.sizes, '$.sizes');
  if (sizes.length < 3 || sizes.length > A.layers + 2) c.fail('$.sizes', `expected 3 to ${A.layers + 2} layer sizes, got ${sizes.length}`);
  sizes.forEach((s, i) => c.int(s, `$.sizes[${i}]`, 1, i === 0 ? A.pixels : A.width));
  const classes = c.int(o.classes, '$.classes', 2, A.classes);
  if (classes !== sizes[sizes.length - 1]) c.fail('$.classes', `${classes}, but the last of $.sizes is ${sizes[sizes.length - 1]}`);
  const hidden = sizes.length - 2;

  const s = c.obj(o.sample, '$.sample');
  const rows = c.arr(s.rows, '$.sample.rows');
  const count = rows.length;
  if (count < 2 || count > L.sample) c.fail('$.sample.rows', `expected 2 to ${L.sample} rows, got ${count}`);
  rows.forEach((r, i) => {
    c.int(r, `$.sample.rows[${i}]`, 0, L.testRows);
    if (i && (r as number) <= (rows[i - 1] as number)) c.fail(`$.sample.rows[${i}]`, 'expected rows in ascending order, each once');
  });
  const labels = c.indices(s.labels, '$.sample.labels', classes, 'class', count);
  c.num(s.seed, '$.sample.seed');
  const perClass = c.arr(s.perClass, '$.sample.perClass', classes).map((x, i) => c.int(x, `$.sample.perClass[${i}]`, 0, count));
  const seen = new Array<number>(classes).fill(0);
  for (const l of labels) seen[l]++;
  const off = perClass.findIndex((n, i) => n !== seen[i]);
  if (off >= 0) c.fail(`$.sample.perClass[${off}]`, `${perClass[off]}, but $.sample.labels holds ${seen[off]} of class ${off}`);
  const held = c.indices(s.heldOut, '$.sample.heldOut', count, 'sample position');
  held.forEach((h, i) => { if (i && h <= held[i - 1]) c.fail(`$.sample.heldOut[${i}]`, 'expected positions in ascending order, each once'); });

  const epochs = c.arr(o.epochs, '$.epochs');
  if (epochs.length < 1 || epochs.length > L.epochs) c.fail('$.epochs', `expected 1 to ${L.epochs} epochs, got ${epochs.length}`);
  epochs.forEach((e, i) => {
    c.int(e, `$.epochs[${i}]`, -1, 1e6);
    if (i && (e as number) <= (epochs[i - 1] as number)) c.fail(`$.epochs[${i}]`, 'expected epochs in ascending order, each once');
  });
  const E = epochs.length;

  c.arr(o.perEpoch, '$.perEpoch', E).forEach((pe, i) => {
    const p = `$.perEpoch[${i}]`, x = c.obj(pe, p);
    if (x.epoch !== epochs[i]) c.fail(`${p}.epoch`, `expected ${epochs[i]} ($.epochs[${i}]), got ${quote(x.epoch, 20)}`);
    c.arr(x.layers, `${p}.layers`, hidden).forEach((l, k) => checkLayer(c, l, `${p}.layers[${k}]`, sizes[k + 1] as number, classes, count));
    c.matrix(x.ckaLayers, `${p}.ckaLayers`, hidden, hidden, true);
    x.sampleAccuracy = c.num(x.sampleAccuracy, `${p}.sampleAccuracy`, true);
  });
  c.arr(o.ckaEpochs, '$.ckaEpochs', hidden).forEach((m, k) => c.matrix(m, `$.ckaEpochs[${k}]`, E, E, true));

  const findings = c.arr(o.findings, '$.findings');
  if (findings.length > L.findings) c.fail('$.findings', `expected at most ${L.findings} findings, got ${findings.length}`);
  findings.forEach((f, i) => checkFinding(c, f, `$.findings[${i}]`));
  const t = c.obj(o.timings ?? {}, '$.timings');
  for (const k of Object.keys(t)) t[k] = c.num(t[k], `$.timings[${quote(k, 40)}]`, true);
  o.timings = t;
  return o as unknown as ThroughTraining;
}
