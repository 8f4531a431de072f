// The parts of the post-training suite (suite.ts) that draw nothing from its generator, as pure functions
// of plain (structured-clonable) data: what a helper thread (engine/threads.ts) can run while the calling
// thread goes on with the generator's parts. Each returns its result and the seconds it took where it ran.
import type { ActName } from '../mlp/names.ts';
import type { Split } from '../mlp/mnist.ts';
import type { HostTensor, Site } from './forward-cache.ts';
import type { PlainMlp, SparseInput } from './plain-mlp.ts';
import { sparseRows } from '../mlp/fused-cpu.ts';
import {
  evaluatePlain, layerSweepWith, linspace, neuronAnalysisWith, neuronSweepWith, plainTarget, scalesWithOne,
  type Evaluate, type LayerSweep, type NeuronAnalysis, type NeuronSweep,
} from './scaling.ts';
import { mathKernelsReady } from '../engine/wasm/math-kernels.ts';
import { pairKernelsReady } from './pair-kernels.ts';
import { prefixSilhouetteScores } from './silhouette.ts';
import { tsne, type TsneOptions } from './tsne.ts';

/**
 * nothing: a first call that has a helper thread load this module, and the kernels that its t-SNE and
 * silhouettes use (pair-kernels.ts, engine/wasm/math-kernels.ts: the same numbers with or without them),
 * while the caller computes
 */
export async function ready(): Promise<boolean> {
  await Promise.all([pairKernelsReady(), mathKernelsReady()]);
  return true;
}

/** what the suite's interventions take besides the model (SuiteOptions' defaults resolved) */
export interface InterventionArgs {
  layer: number; site: Site;
  /** the focus neuron's sweep: the neuron, the interval and steps */
  focusNeuron: number; interval: [number, number]; steps: number;
  /** NB02 cells 60–67's sweep: the neuron, interval and steps */
  sweepNeuron: number; sweepInterval: [number, number]; sweepSteps: number;
  /** steps of the every-neuron sweep */
  layerSteps: number;
  /** and the raw-pixel variant (NB02 cells 53–57)? */
  raw: boolean;
}

export interface SuiteInterventions {
  focus: NeuronAnalysis; neuronSweep: NeuronSweep; sweep: LayerSweep; raw: NeuronAnalysis | null; seconds: number;
}

/**
 * items 27–31 over any model: the focus neuron's sweep, NB02's one-neuron sweep, every neuron's sweep of
 * `target` (`width` units) and the raw-pixel variant, in that order, each variant's results from
 * `evaluate` on the samples (the raw-pixel variant: on the raw pixels)
 */
export async function interventionsWith(
  evaluate: (on: 'samples' | 'raw') => Evaluate, target: ActName, width: number, a: InterventionArgs,
): Promise<SuiteInterventions> {
  const t0 = performance.now();
  const [lo, hi] = a.interval, on = evaluate('samples');
  const focus = await neuronAnalysisWith(on, target, a.focusNeuron, [lo, hi], a.steps);
  const neuronSweep = await neuronSweepWith(on, target, a.sweepNeuron, linspace(a.sweepInterval[0], a.sweepInterval[1], a.sweepSteps));
  const sweep = await layerSweepWith(on, target, width, scalesWithOne(lo, hi, a.layerSteps).filter((s) => s !== 1));
  const raw = a.raw ? await neuronAnalysisWith(evaluate('raw'), target, a.focusNeuron, [lo, hi], 2) : null;
  return { focus, neuronSweep, sweep, raw, seconds: (performance.now() - t0) / 1000 };
}

/**
 * interventionsWith over a plain MLP's weights (pure, plain data: what a helper thread runs): the
 * analysed tensor's values `cached` [count, width] on the samples with `labels`; the raw pixels, when
 * asked for, from the split
 */
export function suiteInterventions(
  net: PlainMlp, a: InterventionArgs, cached: HostTensor, labels: Uint8Array, split: Split | null,
): Promise<SuiteInterventions> {
  const target = plainTarget(net, a.layer, a.site), count = labels.length;
  return interventionsWith((on) => (t, v) => {
    if (on === 'samples') return evaluatePlain(net, { x: new Float32Array(0), labels, count }, t, v, cached);
    return evaluatePlain(net, rawPixels(split!, net.sizes[0]), t, v);
  }, target, net.sizes[a.layer + 1], a);
}

/** a byte's value as a raw pixel: the byte itself */
const RAW_LUT = Float32Array.from({ length: 256 }, (_, b) => b);

/**
 * the split's bytes 0..255 as the inputs (forward-cache.ts imagesFromSplit's `raw`): its sparse rows, their
 * bytes as the values, where its columns fit them and the net's inputs (the same sums as over the dense rows, whose zeros
 * plain-mlp.ts skips alike, without 4 floats made of every byte: 31 MB for MNIST's test split), else the floats
 */
function rawPixels(split: Split, inputs: number): { x: Float32Array; labels: Uint8Array; count: number; sparse?: SparseInput } {
  const d = split.rows * split.cols;
  // (a net of another input width: the floats, which evaluatePlain refuses with the sizes)
  if (d > 65536 || d !== inputs) return { x: Float32Array.from(split.images.subarray(0, split.count * d)), labels: split.labels, count: split.count };
  return { x: new Float32Array(0), labels: split.labels, count: split.count, sparse: { ...sparseRows(split), lut: RAW_LUT, start: 0 } };
}

/** tsne.ts tsne of x, and its seconds */
export function suiteTsne(x: HostTensor, opts: TsneOptions): { embedding: HostTensor; kl: number; seconds: number } {
  const t0 = performance.now();
  return { ...tsne(x, opts), seconds: (performance.now() - t0) / 1000 };
}

/** silhouette.ts prefixSilhouetteScores of each order (item 34's curves), and their seconds */
export function suitePrefixScores(
  x: HostTensor, labels: Uint8Array, orders: readonly (readonly number[])[], sizes: readonly number[],
): { scores: number[][]; seconds: number } {
  const t0 = performance.now();
  const scores = orders.map((o) => prefixSilhouetteScores(x, labels, o, sizes));
  return { scores, seconds: (performance.now() - t0) / 1000 };
}
