// the analyses through training (an addition to the notebooks): from RUN/through-training.json (one
// fixed sample of test images looked at after every epoch, analysis/through-training-types.ts) and the
// first layer's weights of RUN/snapshots/. Neuron biographies (selectivity for the last epoch's top class
// across epochs, with when it becomes selective and when it dies), CKA epoch × epoch and layer × layer,
// probe accuracy and silhouettes per layer, the PCA of each layer rotated into the last epoch's axes, and
// the first layer's weights as images. Each builder returns a spec plus the numbers its caption states.
import { holdsFrom } from '../findings.ts';
import { encodePng, pngDataUri } from '../png.ts';
import type { ThroughTraining } from '../through-training-types.ts';
import { classColor, clean, CONFIG, layerShort, topLevel, type Row, type VegaLiteSpec } from './spec.ts';

/** the first layer's weights at some epochs, from RUN/snapshots/ (−1: the initial weights) */
export interface FirstLayerWeights {
  /** ascending */
  epochs: number[];
  /** per epoch W [dIn, dOut] row-major (as mlp/weights.ts's LayerParams) */
  W: Float32Array[];
  dIn: number;
  dOut: number;
}

/** S at or above this, with the top class settled, counts as selective (the biographies' rule) */
export const SELECTIVE_S = 0.5;

/** −1 → 'init' */
export const epochName = (e: number): string => (e < 0 ? 'init' : String(e));
const EPOCH_LABEL = "datum.value < 0 ? 'init' : datum.label";
const epochAxis = { tickMinStep: 1, format: 'd', labelExpr: EPOCH_LABEL };
// `ReLU k` (an MLP); a CNN's conv1 ReLU, linear1 ReLU while buildFigures names its layers
const hiddenName = (k: number) => layerShort(`layers.${k}.post`);
const f2 = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : 'n/a');

/** per neuron of a hidden layer: its top class at the last epoch and the epochs it became selective and died */
export interface NeuronMarks {
  neuron: number;
  /** its most selective class at the last epoch it fired (−1: it never fired) */
  topClass: number;
  /** the first epoch from which to the end its top class is `topClass` and S ≥ SELECTIVE_S; null if not selective at the end */
  selectiveFrom: number | null;
  /** the first epoch from which to the end it is dead (active on no sample row); null if alive at the end */
  diesAt: number | null;
  /** dead at every epoch analysed */
  neverFires: boolean;
}

/**
 * the marks of every neuron of hidden layer k [width]: both are "from the first epoch at which the
 * condition holds at it and at every later epoch" (holdsFrom, the rule of analysis/findings.ts); dead is
 * active on none of the sample's rows, as its 'dies' finding
 */
export function neuronMarks(tt: ThroughTraining, k: number, threshold = SELECTIVE_S): NeuronMarks[] {
  const layers = tt.perEpoch.map((p) => p.layers[k]);
  const last = layers[layers.length - 1], width = last.topClass.length;
  const dead = layers.map((l) => new Set(l.dead));
  return Array.from({ length: width }, (_, j) => {
    // a neuron dead at the end has no top class there (−1): its last one while it fired
    let c = -1;
    for (let e = layers.length - 1; e >= 0 && c < 0; e--) c = layers[e].topClass[j];
    const sel = holdsFrom(layers.map((l, e) => c >= 0 && l.topClass[j] === c && l.selectivity[c][j] >= threshold && !dead[e].has(j)));
    const die = holdsFrom(dead.map((d) => d.has(j)));
    return {
      neuron: j, topClass: c,
      selectiveFrom: sel === null ? null : tt.epochs[sel],
      diesAt: die === null || die === 0 ? null : tt.epochs[die],
      neverFires: die === 0,
    };
  });
}

/**
 * selectivity S[top class][neuron] of each neuron of hidden layer k across epochs, one small panel per
 * neuron (titled by its last-epoch top class), with rules at the epoch it becomes selective (green) and
 * the epoch it dies (red), and the threshold dashed
 */
export function figureBiographies(tt: ThroughTraining, k: number, marks = neuronMarks(tt, k)): VegaLiteSpec {
  const rows: Row[] = [];
  const panel = (m: NeuronMarks) => (m.neverFires ? `n${m.neuron} (never fires)` : `n${m.neuron} → ${m.topClass}`);
  for (const m of marks) {
    const p = panel(m);
    tt.perEpoch.forEach((pe) => {
      const l = pe.layers[k];
      rows.push({
        kind: 'S', panel: p, neuron: m.neuron, topClass: m.topClass, epoch: pe.epoch, S: m.topClass < 0 ? null : clean(l.selectivity[m.topClass][m.neuron]),
        topClassNow: l.topClass[m.neuron], active: clean(l.activeFraction[m.neuron]),
      });
    });
    if (m.selectiveFrom !== null) rows.push({ kind: 'mark', panel: p, neuron: m.neuron, epoch: m.selectiveFrom, mark: 'becomes selective' });
    if (m.diesAt !== null) rows.push({ kind: 'mark', panel: p, neuron: m.neuron, epoch: m.diesAt, mark: 'dies' });
  }
  const x = { field: 'epoch', type: 'quantitative', title: 'epoch', scale: { domain: [tt.epochs[0], tt.epochs[tt.epochs.length - 1]], nice: false }, axis: { ...epochAxis, tickCount: 4, labelFontSize: 9, titleFontSize: 10 } };
  // one row up to 10 neurons, else 8 a row; a last row part-filled gets an axis under each panel (a
  // shared one would also be drawn under the empty places)
  const width = marks.length, columns = width <= 10 ? width : 8;
  return topLevel(`Neuron biographies, ${hiddenName(k)}: selectivity for its last-epoch top class`, rows, {
    facet: { field: 'panel', type: 'nominal', title: null, sort: { field: 'neuron' }, header: { labelFontSize: 11, labelPadding: 2 } },
    columns,
    ...(width % columns ? { resolve: { axis: { x: 'independent' } } } : {}),
    spacing: { row: 6, column: 8 },
    spec: {
      width: 104, height: 62,
      layer: [
        { transform: [{ filter: "datum.kind === 'S'" }], mark: { type: 'rule', color: '#999', strokeDash: [3, 3] }, encoding: { y: { datum: SELECTIVE_S } } },
        {
          transform: [{ filter: "datum.kind === 'S'" }],
          mark: { type: 'line', color: '#2f4b7c', strokeWidth: 1.6, point: { size: 12, filled: true, color: '#2f4b7c' } },
          encoding: {
            x, y: { field: 'S', type: 'quantitative', title: 'S', scale: { domain: [-1, 1] }, axis: { tickCount: 3, labelFontSize: 9, titleFontSize: 10 } },
            tooltip: [{ field: 'neuron' }, { field: 'epoch' }, { field: 'S', format: '.3f' }, { field: 'topClassNow', title: 'top class then' }, { field: 'active', title: 'active fraction', format: '.3f' }],
          },
        },
        {
          transform: [{ filter: "datum.kind === 'mark'" }],
          mark: { type: 'rule', strokeWidth: 2 },
          encoding: {
            x,
            color: { field: 'mark', type: 'nominal', title: null, scale: { domain: ['becomes selective', 'dies'], range: ['#2ca02c', '#d62728'] }, legend: { orient: 'top', direction: 'horizontal' } },
            tooltip: [{ field: 'neuron' }, { field: 'mark' }, { field: 'epoch' }],
          },
        },
      ],
    },
    config: { ...CONFIG, header: { labelFontSize: 11, titleFontSize: 12 } },
  });
}

/** the first epoch from which CKA with the last epoch stays ≥ `level` (null: never, not even the last) */
export function settledFrom(tt: ThroughTraining, k: number, level = 0.95): number | null {
  const E = tt.epochs.length, from = holdsFrom(tt.ckaEpochs[k].map((r) => r[E - 1] >= level));
  return from === null ? null : tt.epochs[from];
}

/** one rect heatmap per hidden layer of CKA between its representations at epoch a and epoch b */
export function figureCkaEpochs(tt: ThroughTraining): VegaLiteSpec {
  const rows: Row[] = tt.ckaEpochs.flatMap((m, k) => m.flatMap((r, i) => r.map((v, j) => ({ layer: hiddenName(k), a: tt.epochs[i], b: tt.epochs[j], value: clean(v) }))));
  const E = tt.epochs.length, cell = Math.max(9, Math.min(30, Math.floor(400 / E)));
  const axis = { labelExpr: EPOCH_LABEL, labelAngle: 0, labelFontSize: E > 24 ? 8 : 10, ...(E > 24 ? { labelOverlap: 'parity' } : {}) };
  const enc = {
    x: { field: 'a', type: 'ordinal', title: 'epoch', axis },
    y: { field: 'b', type: 'ordinal', title: 'epoch', sort: 'descending', axis },
  };
  const layer: Record<string, unknown>[] = [{
    mark: { type: 'rect' },
    encoding: {
      ...enc, color: { field: 'value', type: 'quantitative', title: 'linear CKA', scale: { scheme: 'viridis', domain: [0, 1] } },
      tooltip: [{ field: 'layer' }, { field: 'a', title: 'epoch' }, { field: 'b', title: 'epoch' }, { field: 'value', title: 'CKA', format: '.3f' }],
    },
  }];
  if (E <= 10) {
    layer.push({
      mark: { type: 'text', fontSize: 9 },
      encoding: { ...enc, text: { field: 'value', type: 'quantitative', format: '.2f' }, color: { condition: { test: 'datum.value < 0.5', value: 'white' }, value: 'black' } },
    });
  }
  return topLevel('Linear CKA of each hidden layer between epochs', rows, {
    facet: { column: { field: 'layer', type: 'nominal', title: null, header: { labelFontSize: 13 } } },
    spec: { width: cell * E, height: cell * E, layer },
  });
}

/**
 * CKA between hidden layers: the matrix at the last epoch (left) and each pair across epochs (right);
 * rows { epoch, a, b, ia, ib, value }
 */
export function figureCkaLayers(tt: ThroughTraining): VegaLiteSpec {
  const H = tt.sizes.length - 2, last = tt.epochs[tt.epochs.length - 1];
  const rows: Row[] = tt.perEpoch.flatMap((pe) => pe.ckaLayers.flatMap((r, i) => r.map((v, j) => ({
    epoch: pe.epoch, a: hiddenName(i), b: hiddenName(j), ia: i, ib: j, pair: `${hiddenName(i)} – ${hiddenName(j)}`, value: clean(v),
  }))));
  const names = Array.from({ length: H }, (_, i) => hiddenName(i));
  const cell = H <= 4 ? 56 : 30;
  const enc = { x: { field: 'a', type: 'nominal', title: null, sort: names, axis: { labelAngle: 0 } }, y: { field: 'b', type: 'nominal', title: null, sort: names } };
  return topLevel('Linear CKA between hidden layers', rows, {
    hconcat: [
      {
        title: { text: `at the last epoch (${epochName(last)})`, fontSize: 12, fontWeight: 'normal' },
        transform: [{ filter: `datum.epoch === ${last}` }],
        width: cell * H, height: cell * H,
        layer: [
          { mark: { type: 'rect' }, encoding: { ...enc, color: { field: 'value', type: 'quantitative', title: 'linear CKA', scale: { scheme: 'viridis', domain: [0, 1] } }, tooltip: [{ field: 'a' }, { field: 'b' }, { field: 'value', format: '.3f' }] } },
          { mark: { type: 'text', fontSize: 11 }, encoding: { ...enc, text: { field: 'value', type: 'quantitative', format: '.2f' }, color: { condition: { test: 'datum.value < 0.5', value: 'white' }, value: 'black' } } },
        ],
      },
      {
        title: { text: 'each pair across epochs', fontSize: 12, fontWeight: 'normal' },
        transform: [{ filter: 'datum.ia < datum.ib' }],
        width: 340, height: 200,
        mark: { type: 'line', point: { size: 20 }, strokeWidth: 1.8 },
        encoding: {
          x: { field: 'epoch', type: 'quantitative', title: 'epoch', scale: { nice: false }, axis: epochAxis },
          y: { field: 'value', type: 'quantitative', title: 'linear CKA', scale: { domain: [0, 1] } },
          color: { field: 'pair', type: 'nominal', title: 'layers', scale: { scheme: 'tableau10' } },
          tooltip: [{ field: 'pair' }, { field: 'epoch' }, { field: 'value', format: '.3f' }],
        },
      },
    ],
    resolve: { scale: { color: 'independent' } },
  });
}

/** held-out probe accuracy and silhouette of each hidden layer across epochs; the model's own accuracy on the sample dashed */
export function figureProbeSilhouette(tt: ThroughTraining): VegaLiteSpec {
  const ACC = 'linear probe, held-out accuracy (%)', SIL = 'silhouette by class (euclidean)';
  const H = tt.sizes.length - 2, series = [...Array.from({ length: H }, (_, k) => hiddenName(k)), 'model output'];
  const rows: Row[] = tt.perEpoch.flatMap((pe) => [
    ...pe.layers.flatMap((l, k) => [
      { metric: ACC, series: hiddenName(k), epoch: pe.epoch, value: clean(l.probe.heldOutAccuracy), train: clean(l.probe.trainAccuracy) },
      { metric: SIL, series: hiddenName(k), epoch: pe.epoch, value: clean(l.silhouette), train: null },
    ]),
    { metric: ACC, series: 'model output', epoch: pe.epoch, value: clean(pe.sampleAccuracy), train: null },
  ]);
  const range = ['#4c78a8', '#e45756', '#54a24b', '#b279a2', '#f58518', '#72b7b2', '#9d755d', '#bab0ac'];
  return topLevel('Probe accuracy and class silhouette of each layer across epochs', rows, {
    facet: { column: { field: 'metric', type: 'nominal', title: null, sort: [ACC, SIL], header: { labelFontSize: 12 } } },
    spec: {
      width: 330, height: 220,
      mark: { type: 'line', point: { size: 22 }, strokeWidth: 1.8 },
      encoding: {
        x: { field: 'epoch', type: 'quantitative', title: 'epoch', scale: { nice: false }, axis: epochAxis },
        y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false } },
        color: { field: 'series', type: 'nominal', title: 'layer', scale: { domain: series, range: [...range.slice(0, H), '#333'] } },
        strokeDash: { field: 'series', type: 'nominal', title: 'layer', scale: { domain: series, range: [...series.slice(0, H).map(() => [1, 0]), [5, 3]] } },
        tooltip: [{ field: 'series', title: 'layer' }, { field: 'epoch' }, { field: 'value', format: '.3f' }, { field: 'train', title: 'probe train accuracy', format: '.2f' }],
      },
    },
    resolve: { scale: { y: 'independent' } },
  });
}

/** the epochs a small-multiples figure shows: all up to `max`, else every other one (the last always) */
export function everyOtherEpoch(epochs: readonly number[], max = 12): number[] {
  if (epochs.length <= max) return [...epochs];
  const step = Math.ceil(epochs.length / max);
  const out = epochs.filter((_, i) => i % step === 0);
  if (out[out.length - 1] !== epochs[epochs.length - 1]) out.push(epochs[epochs.length - 1]);
  return out;
}

/** the sample positions a scatter draws: all up to `max`, else evenly spaced (the same in every panel) */
export function spreadPositions(count: number, max = 600): number[] {
  if (count <= max) return Array.from({ length: count }, (_, i) => i);
  return Array.from({ length: max }, (_, i) => Math.floor((i * count) / max));
}

/** the aligned 2-D PCA of hidden layer k, one panel per shown epoch, points coloured by class, shared axes */
export function figureAlignedPca(tt: ThroughTraining, k: number, shown = everyOtherEpoch(tt.epochs), positions = spreadPositions(tt.sample.rows.length)): VegaLiteSpec {
  const rows: Row[] = [];
  for (const e of shown) {
    const l = tt.perEpoch[tt.epochs.indexOf(e)].layers[k];
    for (const i of positions) rows.push({ epoch: e, panel: e < 0 ? 'init' : `epoch ${e}`, row: tt.sample.rows[i], digit: tt.sample.labels[i], x: clean(l.aligned[i][0]), y: clean(l.aligned[i][1]) });
  }
  const panels = shown.map((e) => (e < 0 ? 'init' : `epoch ${e}`)), columns = Math.min(6, shown.length);
  return topLevel(`${hiddenName(k)}: PCA of the sample at each epoch, rotated into the last epoch's axes`, rows, {
    facet: { field: 'panel', type: 'nominal', title: null, sort: panels, header: { labelFontSize: 12 } },
    columns,
    // the same scales everywhere; a part-filled last row gets an axis under each panel, not under empty places
    ...(shown.length % columns ? { resolve: { axis: { x: 'independent' } } } : {}),
    spacing: { row: 10, column: 10 },
    spec: {
      width: 150, height: 150,
      mark: { type: 'circle', size: 9, opacity: 0.7, aria: false },
      encoding: {
        x: { field: 'x', type: 'quantitative', title: 'aligned PC1', scale: { zero: false, nice: false }, axis: { tickCount: 4, labelFontSize: 9 } },
        y: { field: 'y', type: 'quantitative', title: 'aligned PC2', scale: { zero: false, nice: false }, axis: { tickCount: 4, labelFontSize: 9 } },
        color: classColor(tt.classes),
        tooltip: [{ field: 'row', title: 'test row' }, { field: 'digit' }, { field: 'epoch' }],
      },
    },
  });
}

// d3's RdBu (Vega's 'redblue'), reversed: −1 blue, 0 near white, +1 red
const RDBU = ['#053061', '#2166ac', '#4393c3', '#92c5de', '#d1e5f0', '#f7f7f7', '#fddbc7', '#f4a582', '#d6604d', '#b2182b', '#67001f']
  .map((h) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16)));

/** a value in [−1, 1] (clamped; NaN → the middle) → RGB on the reversed RdBu ramp */
export function divergingColor(v: number): number[] {
  const c = [0, 0, 0];
  divergingInto(v, c, 0);
  return c;
}

/** divergingColor(v) written to out[o], out[o + 1], out[o + 2] (no array per pixel) */
function divergingInto(v: number, out: Uint8Array | number[], o: number): void {
  const x = Number.isNaN(v) ? 0 : Math.max(-1, Math.min(1, v));
  const p = ((x + 1) / 2) * (RDBU.length - 1), i = Math.min(RDBU.length - 2, Math.floor(p)), f = p - i;
  const a = RDBU[i], b = RDBU[i + 1];
  for (let c = 0; c < 3; c++) out[o + c] = Math.round(a[c] + (b[c] - a[c]) * f);
}

/** the units the weight figure draws, at most `max` of them (the first) */
export const WEIGHT_UNITS_MAX = 64;

/** relative change ‖W_last − W_first‖ / ‖W_first‖ of the first layer (Frobenius) */
export function relativeChange(w: FirstLayerWeights): number {
  const a = w.W[0], b = w.W[w.W.length - 1];
  let d = 0, n = 0;
  for (let i = 0; i < a.length; i++) { d += (b[i] - a[i]) ** 2; n += a[i] ** 2; }
  return Math.sqrt(d / n);
}

/**
 * the first layer's incoming weights of each unit as a side×side image, one column per unit and one row
 * per epoch, in blocks of at most 16 units; each unit scaled to its largest |w| over the epochs shown
 * (red positive, blue negative)
 */
export function figureFirstLayerWeights(w: FirstLayerWeights, o: { size?: number; perBlock?: number } = {}): VegaLiteSpec {
  const side = Math.round(Math.sqrt(w.dIn));
  if (side * side !== w.dIn) throw new RangeError(`the first layer has ${w.dIn} inputs, not a square image`);
  const units = Math.min(w.dOut, WEIGHT_UNITS_MAX), blocks = Math.ceil(units / (o.perBlock ?? 16)), per = Math.ceil(units / blocks);
  const size = o.size ?? 44, gap = 4, left = 58, head = 18, blockGap = 16;
  const E = w.epochs.length, blockH = head + E * (size + gap) + blockGap;
  const rows: Row[] = [];
  for (let j = 0; j < units; j++) {
    let m = 0;
    for (const W of w.W) for (let p = 0; p < w.dIn; p++) { const v = Math.abs(W[p * w.dOut + j]); if (v > m) m = v; }
    const blk = Math.floor(j / per), col = j % per, x = left + col * (size + gap) + size / 2, y0 = blk * blockH + head;
    rows.push({ kind: 'col', text: `n${j}`, px: x, py: y0 - 4, unit: j });
    w.W.forEach((W, r) => {
      const px = new Uint8Array(w.dIn * 3);
      for (let p = 0; p < w.dIn; p++) divergingInto(m > 0 ? W[p * w.dOut + j] / m : 0, px, 3 * p);
      rows.push({ kind: 'tile', url: pngDataUri(encodePng(side, side, 3, px)), px: x, py: y0 + r * (size + gap) + size / 2, unit: j, epoch: w.epochs[r], maxAbs: clean(m) });
    });
  }
  for (let b = 0; b < blocks; b++) {
    w.epochs.forEach((e, r) => rows.push({ kind: 'row', text: e < 0 ? 'init' : `epoch ${e}`, px: left - 6, py: b * blockH + head + r * (size + gap) + size / 2 }));
  }
  const pos = (f: string) => ({ field: f, type: 'quantitative', scale: null, axis: null });
  const height = blocks * blockH - blockGap - gap;
  return topLevel(`Layer-1 weights of each unit across epochs (${units === w.dOut ? `all ${units}` : `the first ${units} of ${w.dOut}`} units)`, rows, {
    width: left + per * (size + gap) - gap, height,
    layer: [
      {
        transform: [{ filter: "datum.kind === 'tile'" }],
        mark: { type: 'image', width: size, height: size, align: 'center', baseline: 'middle', smooth: false, aria: false },
        encoding: { x: pos('px'), y: pos('py'), url: { field: 'url', type: 'nominal' }, tooltip: [{ field: 'unit' }, { field: 'epoch' }, { field: 'maxAbs', title: 'max |w| of the unit', format: '.3g' }] },
      },
      { transform: [{ filter: "datum.kind === 'col'" }], mark: { type: 'text', fontSize: 10, baseline: 'bottom' }, encoding: { x: pos('px'), y: pos('py'), text: { field: 'text' } } },
      { transform: [{ filter: "datum.kind === 'row'" }], mark: { type: 'text', fontSize: 10, align: 'right', baseline: 'middle' }, encoding: { x: pos('px'), y: pos('py'), text: { field: 'text' } } },
      {
        // an invisible mark that carries the colour scale, so Vega draws its gradient legend
        data: { values: [{ v: -1 }, { v: 1 }] },
        mark: { type: 'point', opacity: 0 },
        encoding: {
          x: { value: 0 }, y: { value: 0 },
          color: { field: 'v', type: 'quantitative', title: 'w / max |w| of the unit', scale: { scheme: 'redblue', reverse: true, domain: [-1, 1] }, legend: { gradientLength: Math.min(200, height) } },
        },
      },
    ],
    config: { ...CONFIG, view: { stroke: null } },
  });
}

/** one figure of the section, before index.ts adds it */
export interface SectionFigure { id: string; spec: VegaLiteSpec; caption: string; sources: string[] }

/**
 * every figure of the section that `tt` (the validated through-training.json) and `weights` (the first
 * layer from snapshots/) allow, with computed captions; what cannot be drawn is a note
 */
export function throughTrainingFigures(tt: ThroughTraining | undefined, weights: FirstLayerWeights | undefined): { figures: SectionFigure[]; notes: string[] } {
  const figures: SectionFigure[] = [], notes: string[] = [];
  const src = ['through-training.json'];
  if (tt) {
    const E = tt.epochs.length, H = tt.sizes.length - 2, n = tt.sample.rows.length, first = tt.epochs[0], last = tt.epochs[E - 1];
    const span = `${epochName(first)} to ${epochName(last)}`;
    for (let k = 0; k < H; k++) {
      const marks = neuronMarks(tt, k), sel = marks.filter((m) => m.selectiveFrom !== null);
      const died = marks.filter((m) => m.diesAt !== null), never = marks.filter((m) => m.neverFires);
      const earliest = sel.length ? Math.min(...sel.map((m) => m.selectiveFrom!)) : NaN;
      figures.push({
        id: `tt-biographies-layer${k + 1}`, spec: figureBiographies(tt, k, marks),
        caption: `S of each ${hiddenName(k)} neuron for its top class at the last epoch (after the arrow), on the ${n} sample images, epochs ${span}; ` +
          `green: becomes selective (the first epoch from which to the end its top class is that class and S ≥ ${SELECTIVE_S}); red: dies (dead on every sample row from then to the end); ` +
          `${sel.length} of ${marks.length} neurons end selective${sel.length ? `, the first from epoch ${epochName(earliest)}` : ''}, ${died.length} die, ${never.length} never fire.`,
        sources: src,
      });
    }
    const settled = Array.from({ length: H }, (_, k) => settledFrom(tt, k));
    figures.push({
      id: 'tt-cka-epochs', spec: figureCkaEpochs(tt),
      caption: `Linear CKA of each hidden layer's representation of the ${n} sample images between two epochs; CKA(${epochName(first)}, ${epochName(last)}) ` +
        `${tt.ckaEpochs.map((m, k) => `${hiddenName(k)} ${f2(m[0][E - 1])}`).join(', ')}; CKA with the last epoch stays ≥ 0.95 from epoch ` +
        `${settled.map((e, k) => `${e === null ? 'n/a' : epochName(e)} (${hiddenName(k)})`).join(', ')}.`,
      sources: src,
    });
    if (H >= 2) {
      const a = tt.perEpoch[0].ckaLayers[0][1], b = tt.perEpoch[E - 1].ckaLayers[0][1];
      figures.push({
        id: 'tt-cka-layers', spec: figureCkaLayers(tt),
        caption: `Linear CKA between the hidden layers on the sample: the matrix at the last epoch and each pair across epochs; ${hiddenName(0)}–${hiddenName(1)} ${f2(a)} at ${epochName(first)}, ${f2(b)} at ${epochName(last)}.`,
        sources: src,
      });
    } else notes.push('one hidden layer: no layer × layer CKA');
    const lastL = tt.perEpoch[E - 1].layers, firstL = tt.perEpoch[0].layers;
    figures.push({
      id: 'tt-probe-silhouette', spec: figureProbeSilhouette(tt),
      caption: `A logistic-regression probe per layer trained on ${n - tt.sample.heldOut.length} sample images and scored on the other ${tt.sample.heldOut.length}, and the silhouette of the classes in each layer; ` +
        `at ${epochName(last)}: probe ${lastL.map((l, k) => `${hiddenName(k)} ${f2(l.probe.heldOutAccuracy)} %`).join(', ')} (model ${f2(tt.perEpoch[E - 1].sampleAccuracy)} %, dashed); ` +
        `silhouette ${firstL.map((l, k) => `${hiddenName(k)} ${f2(l.silhouette)} → ${f2(lastL[k].silhouette)}`).join(', ')}.`,
      sources: src,
    });
    const shown = everyOtherEpoch(tt.epochs), positions = spreadPositions(n), step = Math.ceil(E / 12);
    for (let k = 0; k < H; k++) {
      const ev = (l: { explained: number[] }) => f2(100 * (l.explained[0] + l.explained[1]));
      figures.push({
        id: `tt-aligned-pca-layer${k + 1}`, spec: figureAlignedPca(tt, k, shown, positions),
        caption: `${hiddenName(k)} activations of ${positions.length === n ? `the ${n}` : `${positions.length} of the ${n}`} sample images projected on their top two principal components at ${shown.length === E ? 'each epoch' : `${step === 2 ? 'every other epoch' : `one epoch in ${step}`} (${shown.length} of ${E}, the last included)`}, ` +
          `rotated onto the last epoch's (orthogonal Procrustes), the same axes in every panel; the two components explain ${ev(firstL[k])} % of the variance at ${epochName(first)}, ${ev(lastL[k])} % at ${epochName(last)}.`,
        sources: src,
      });
    }
  }
  if (weights) {
    const side = Math.round(Math.sqrt(weights.dIn));
    figures.push({
      id: 'tt-weights-layer1', spec: figureFirstLayerWeights(weights),
      caption: `The ${weights.dIn} incoming weights of each layer-1 unit as a ${side}×${side} image at epochs ${weights.epochs.map(epochName).join(', ')} (snapshots/), ` +
        `each unit scaled to its largest |w| over these epochs (red positive, blue negative); ‖W − W_${epochName(weights.epochs[0])}‖ / ‖W_${epochName(weights.epochs[0])}‖ = ${f2(relativeChange(weights))} at ${epochName(weights.epochs[weights.epochs.length - 1])}.`,
      sources: ['snapshots/'],
    });
  }
  return { figures, notes };
}
