// the analyses through training (docs/notebooks.md's items looked at after every epoch): the weights kept
// before training and after each epoch (run/snapshots.ts) are each run once on a fixed, seeded,
// class-stratified sample of test images, and every hidden layer's ReLU output (`layers.K.post`) is
// measured the same way at every epoch: selectivity, dead units, silhouette, a linear probe, a 2-D PCA
// aligned across epochs, linear CKA. Findings in words come from analysis/findings.ts. No node: imports
// (the page runs it in a worker). A CNN's snapshots too: a conv layer's units are its channels (the
// spatial means of its ReLU map), a linear layer's its neurons; `sizes` are then the units per layer.
import { pixel } from '../mlp/batch.ts';
import type { Split } from '../mlp/mnist.ts';
import { postName, type ActName } from '../mlp/names.ts';
import type { Net } from '../mlp/net.ts';
import { centreRep, ckaMatrixCentred, type CentredRep } from './cka.ts';
import { meanPerClass } from './class-means.ts';
import { findingsThroughTraining } from './findings.ts';
import { cacheImages, hiddenCount, unitSizes, type HostTensor, type LabelledImages } from './forward-cache.ts';
import { pairKernelsReady } from './pair-kernels.ts';
import { pca } from './pca.ts';
import { probeAccuracy } from './probe.ts';
import { procrustesRotation, rotate } from './procrustes.ts';
import { heldOutRows, stratifiedSample } from './sample.ts';
import { selectivityPerClass } from './selectivity.ts';
import { silhouetteScore } from './silhouette.ts';
import {
  THROUGH_TRAINING_FORMAT, type EpochAnalysis, type EpochSample, type LayerAtEpoch, type ThroughTraining,
} from './through-training-types.ts';
import { topKPerRow } from './topk.ts';

export interface ThroughTrainingOptions {
  /** test images per class in the sample (default THROUGH_TRAINING_DEFAULTS.perClass) */
  perClass?: number;
  /** seed of the sample and of the probe's held-out part */
  seed?: number;
  /** gradient steps of each linear probe */
  probeIterations?: number;
  /** the probe's held-out share of the sample, per class */
  heldOutFraction?: number;
  /** progress lines */
  log?: (line: string) => void;
}

/**
 * the defaults, chosen with bench/through-training-cost.js so that the reference main job (20 epochs,
 * 21 snapshots) with these analyses takes at most 1.3× its time without: 1000 rows make the exact
 * silhouette ≈ 0.5 M pairs a layer and keep each probe under a tenth of a second
 */
export const THROUGH_TRAINING_DEFAULTS = { perClass: 80, seed: 314, probeIterations: 80, heldOutFraction: 0.2 } as const;

/** a neuron counts as rare when it fires on fewer than this share of the sample's rows (but on some) */
export const RARE_FRACTION = 0.01;

/** the rows `rows` of a split as labelled images (pixels / 255, as the model was trained on) */
function sampleImages(split: Split, rows: readonly number[]): LabelledImages {
  const d = split.rows * split.cols;
  const x = new Float32Array(rows.length * d); // [count, d_in]
  rows.forEach((s, r) => {
    for (let j = 0; j < d; j++) x[r * d + j] = pixel(split.images[s * d + j]);
  });
  return { x, labels: Uint8Array.from(rows, (s) => split.labels[s]), indices: Uint32Array.from(rows), count: rows.length, dim: d };
}

/** per column of x [n, width], the share of rows where it is > 0 → [width] */
function activeFractionPerNeuron(x: HostTensor): number[] {
  const n = x.shape[0], w = n ? x.data.length / n : 0;
  return Array.from(positivesPerColumn(x.data, n, w), (c) => (n ? c / n : 0));
}

/** per column of d [n, w], how many rows hold a value > 0 (the hot loop on its own, on typed arrays) */
function positivesPerColumn(d: Float32Array, n: number, w: number): Int32Array {
  const count = new Int32Array(w);
  for (let i = 0; i < n; i++) for (let j = 0; j < w; j++) if (d[i * w + j] > 0) count[j]++;
  return count;
}

/**
 * per neuron (column of s [classes][width]) the class it is most selective for, the lower class on
 * ties; −1 for a neuron that fires on none of the rows (all its class means are 0: no class to name)
 */
function topClassPerNeuron(s: readonly (readonly number[])[], active: readonly number[]): number[] {
  return active.map((a, i) => {
    if (a === 0) return -1;
    let best = 0;
    for (let c = 1; c < s.length; c++) if (s[c][i] > s[best][i]) best = c;
    return best;
  });
}

/** argmax of logits [n, classes] per row compared with the labels → % */
function accuracyOf(logits: HostTensor, labels: ArrayLike<number>): number {
  const n = logits.shape[0];
  return n ? (100 * correctRows(logits.data, n, logits.shape[1], labels)) / n : NaN;
}

/** rows of logits d [n, c] whose argmax (the lower class on ties) is the label (the hot loop on its own, on typed arrays) */
function correctRows(d: Float32Array, n: number, c: number, labels: ArrayLike<number>): number {
  let correct = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < c; k++) if (d[i * c + k] > d[i * c + best]) best = k;
    if (best === labels[i]) correct++;
  }
  return correct;
}

const seconds = (t0: number): number => (performance.now() - t0) / 1000;

/** what every snapshot's measurements share: the sample of test images, its labels, the probe's split and the options */
export interface ThroughTrainingSample {
  /** units per layer, input to classes (the first snapshot's) */
  sizes: number[];
  /** the snapshots' architecture ('784-32-16-10', or a CNN's spec): every one must have it */
  shape: string;
  classes: number;
  hidden: number;
  images: LabelledImages;
  labels: number[];
  /** the probe's training and held-out rows: positions in the sample */
  train: number[];
  heldOut: number[];
  sample: EpochSample;
  iterations: number;
  /** all of the above that a measurement depends on, as one string: measurements on equal keys are interchangeable */
  key: string;
}

/** one snapshot measured on the sample: its EpochAnalysis (`aligned` still empty: that needs the last epoch), and its parts of the epoch × epoch results */
export interface SnapshotAnalysis {
  analysis: EpochAnalysis;
  /** per hidden layer: the activations centred for CKA [hidden] */
  reps: CentredRep[];
  /** per hidden layer: the 2-D PCA projection before alignment [hidden][n · 2] */
  projections: Float32Array[];
  /** seconds of each part */
  timings: Record<string, number>;
  /** the sample's key (ThroughTrainingSample.key) */
  sampleKey: string;
}

const netShape = (m: Net): string => (m.kind === 'cnn' ? m.arch : m.sizes.join('-'));

/** the sample every snapshot of a model like `model` is measured on (analyzeThroughTraining's options) */
export function throughTrainingSample(model: Net, test: Split, opts: ThroughTrainingOptions = {}): ThroughTrainingSample {
  const sizes = unitSizes(model);
  const perClass = opts.perClass ?? THROUGH_TRAINING_DEFAULTS.perClass, seed = opts.seed ?? THROUGH_TRAINING_DEFAULTS.seed;
  const iterations = opts.probeIterations ?? THROUGH_TRAINING_DEFAULTS.probeIterations;
  const fraction = opts.heldOutFraction ?? THROUGH_TRAINING_DEFAULTS.heldOutFraction;
  const classes = sizes[sizes.length - 1], hidden = hiddenCount(model);
  // the sample, and the probe's split of it (positions in the sample)
  const picked = stratifiedSample(test.labels, classes, perClass, seed);
  const images = sampleImages(test, picked.rows);
  const labels = Array.from(images.labels);
  const heldOut = heldOutRows(labels, classes, fraction, seed);
  const held = new Set(heldOut);
  const train = labels.map((_, i) => i).filter((i) => !held.has(i));
  const sample: EpochSample = { rows: picked.rows, labels, seed, perClass: picked.perClass, heldOut };
  const shape = netShape(model);
  const key = JSON.stringify([shape, sizes, iterations, sample.seed, sample.rows, sample.heldOut]);
  return { sizes, shape, classes, hidden, images, labels, train, heldOut, sample, iterations, key };
}

/**
 * one snapshot measured on the sample: per hidden layer the selectivity S [classes][width] from the class
 * means, its top 3 per class and each neuron's top class, dead and rare neurons, the silhouette of the
 * labels (exact), a linear probe's accuracy, the 2-D PCA (aligned later), the centred representation for
 * CKA; the CKA between hidden layers and the sample accuracy. Depends on this snapshot alone, so
 * snapshots can be measured as they are written (run/through-training.ts does, while the run trains).
 */
export async function analyzeSnapshot(s: ThroughTrainingSample, epoch: number, model: Net): Promise<SnapshotAnalysis> {
  if (netShape(model) !== s.shape) throw new RangeError(`snapshot of epoch ${epoch} is ${netShape(model)}, the first ${s.shape}`);
  const { classes, hidden, labels } = s;
  // the silhouette's SIMD kernels, loaded before the first measurement (until then the JS loops run)
  await pairKernelsReady();
  const timings: Record<string, number> = { forward: 0, selectivity: 0, silhouette: 0, probe: 0, pca: 0, cka: 0 };
  const names: ActName[] = [...Array.from({ length: hidden }, (_, k) => postName(k)), 'logits'];
  let t0 = performance.now();
  const cache = await cacheImages(model, s.images, { names, grads: [], batch: model.kind === 'cnn' ? 1000 : undefined });
  timings.forward += seconds(t0);
  const layers: LayerAtEpoch[] = [], reps: CentredRep[] = [], projections: Float32Array[] = [];
  for (let k = 0; k < hidden; k++) {
    const post = cache.acts[postName(k)]!; // [n, d_hidden]
    t0 = performance.now();
    reps.push(centreRep(post, `ckaMatrix reps[${k}]`));
    timings.cka += seconds(t0);
    t0 = performance.now();
    const selectivity = selectivityPerClass(meanPerClass(post, labels, classes)); // [classes, d_hidden]
    const activeFraction = activeFractionPerNeuron(post); // [d_hidden]
    const dead = activeFraction.flatMap((a, i) => (a === 0 ? [i] : []));
    const rare = activeFraction.flatMap((a, i) => (a > 0 && a < RARE_FRACTION ? [i] : []));
    timings.selectivity += seconds(t0);
    t0 = performance.now();
    const silhouette = silhouetteScore(post, labels);
    timings.silhouette += seconds(t0);
    t0 = performance.now();
    const probe = probeAccuracy(post, labels, classes, { train: s.train, test: s.heldOut, iterations: s.iterations });
    timings.probe += seconds(t0);
    t0 = performance.now();
    const p = pca(post, 2);
    projections.push(p.projected.data);
    timings.pca += seconds(t0);
    layers.push({
      selectivity, top3: topKPerRow(selectivity, 3), topClass: topClassPerNeuron(selectivity, activeFraction),
      dead, rare, activeFraction, silhouette,
      probe: { heldOutAccuracy: probe.heldOutAccuracy, trainAccuracy: probe.trainAccuracy },
      aligned: [], explained: p.explainedVarianceRatio.slice(0, 2),
    });
  }
  t0 = performance.now();
  const ckaLayers = ckaMatrixCentred(reps);
  timings.cka += seconds(t0);
  return { analysis: { epoch, layers, ckaLayers, sampleAccuracy: accuracyOf(cache.acts.logits!, labels) }, reps, projections, timings, sampleKey: s.key };
}

/**
 * the record from every snapshot's measurements (ascending epochs): each epoch's 2-D PCA rotated into the
 * last epoch's axes (orthogonal Procrustes, so the points of one image form a comparable trajectory), per
 * layer the epoch × epoch CKA, then the findings
 */
export function finishThroughTraining(s: ThroughTrainingSample, parts: readonly SnapshotAnalysis[]): ThroughTraining {
  const { hidden } = s, n = s.labels.length;
  const timings: Record<string, number> = { forward: 0, selectivity: 0, silhouette: 0, probe: 0, pca: 0, cka: 0, findings: 0 };
  for (const p of parts) for (const [k, v] of Object.entries(p.timings)) timings[k] += v;
  const perEpoch = parts.map((p) => p.analysis);
  // every epoch's 2-D PCA rotated onto the last epoch's (R = I for the last one itself)
  let t0 = performance.now();
  for (let k = 0; k < hidden; k++) {
    const last = parts[parts.length - 1].projections[k];
    parts.forEach((part, e) => {
      const r = procrustesRotation(part.projections[k], last, n, 2);
      const a = rotate(part.projections[k], n, 2, r); // [n, 2]
      perEpoch[e].layers[k].aligned = Array.from({ length: n }, (_, i) => [a[2 * i], a[2 * i + 1]]);
    });
  }
  timings.pca += seconds(t0);
  t0 = performance.now();
  const ckaEpochs = Array.from({ length: hidden }, (_, k) => ckaMatrixCentred(parts.map((p) => p.reps[k]))); // [hidden][epochs][epochs]
  timings.cka += seconds(t0);

  const out: ThroughTraining = {
    format: THROUGH_TRAINING_FORMAT, version: 1, sizes: s.sizes, classes: s.classes, sample: s.sample, epochs: perEpoch.map((p) => p.epoch),
    perEpoch, ckaEpochs, findings: [], timings,
  };
  t0 = performance.now();
  out.findings = findingsThroughTraining(out);
  timings.findings = seconds(t0);
  return out;
}

/**
 * every snapshot (weights before training, epoch −1, and after each epoch) measured on one fixed
 * sample of the test split (analyzeSnapshot), then aligned, compared across epochs and put into words
 * (finishThroughTraining). Snapshots are taken in ascending epoch order; they must share the model's
 * sizes. `done`: snapshots measured already (on this sample: others are ignored), used instead of
 * measuring them again.
 */
export async function analyzeThroughTraining(
  snapshots: readonly { epoch: number; model: Net }[], test: Split,
  opts: ThroughTrainingOptions & { done?: readonly SnapshotAnalysis[] } = {},
): Promise<ThroughTraining> {
  if (snapshots.length === 0) throw new RangeError('analyzeThroughTraining needs at least one snapshot');
  const snaps = [...snapshots].sort((a, b) => a.epoch - b.epoch);
  const s = throughTrainingSample(snaps[0].model, test, opts);
  for (const { epoch, model } of snaps) {
    if (netShape(model) !== s.shape) throw new RangeError(`snapshot of epoch ${epoch} is ${netShape(model)}, the first ${s.shape}`);
  }
  opts.log?.(`through training: ${snaps.length} snapshots, ${s.hidden} hidden layers, sample of ${s.labels.length} test images (${opts.perClass ?? THROUGH_TRAINING_DEFAULTS.perClass} per class, seed ${s.sample.seed}), probe on ${s.train.length} / held out ${s.heldOut.length}`);
  const done = new Map((opts.done ?? []).filter((p) => p.sampleKey === s.key).map((p) => [p.analysis.epoch, p]));
  const parts: SnapshotAnalysis[] = [];
  for (const { epoch, model } of snaps) {
    const part = done.get(epoch) ?? await analyzeSnapshot(s, epoch, model);
    parts.push(part);
    const { layers, sampleAccuracy } = part.analysis;
    opts.log?.(`  ${epoch < 0 ? 'initial weights' : `epoch ${epoch}`}: sample accuracy ${sampleAccuracy.toFixed(1)} %, ` +
      `silhouette ${layers.map((l) => l.silhouette.toFixed(2)).join(' / ')}, probe ${layers.map((l) => l.probe.heldOutAccuracy.toFixed(1)).join(' / ')} %`);
  }
  return finishThroughTraining(s, parts);
}
