// the network view's data, computed in the worker: one test image through a CPU copy of the weights
// (model.forward on that image alone, eval mode), every named activation of it, the softmax of its
// logits, and each weighted layer's weights — thinned to what the page draws (at most MAX_UNITS neurons or
// channels per layer) so that the message stays small: ≈ 110 KB for the reference MLP (its 784×32 first
// layer whole, for the weight images), ≈ 20 KB for the reference CNN. Sent once per epoch's end while
// training (the `network` event) and on request (another digit, another epoch's weights); never per step.
import { noGrad, Tensor } from '../../engine/tensor.ts';
import type { Split } from '../../mlp/mnist.ts';
import type { Net } from '../../mlp/net.ts';

/** the most neurons (or channels) of one layer the page draws; the weights of the others are not sent */
export const MAX_UNITS = 64;
/** a dense layer's weights larger than this (values sent) are left out: no edges drawn for it */
const MAX_SENT = 1 << 20;

/** one named activation of the sample: [C, H, W] for a feature map, [D] for a vector */
export interface SampleAct { name: string; shape: number[]; data: Float32Array }

/** a weighted layer's weights as sent */
export interface SentLayer {
  /** layers.K */
  name: string;
  kind: 'dense' | 'conv';
  /** the layer's whole weight shape: [dIn, dOut] (dense) or [out, in, kh, kw] (conv) */
  full: number[];
  /**
   * the part sent: dense [rows, cols], the first `rows` inputs (all of them after the image or a feature
   * map, else at most MAX_UNITS) × the first `cols` outputs; conv [out, in, kh, kw] of the first MAX_UNITS
   * channels each way. [0, 0] with W empty when it would be over MAX_SENT values
   */
  shape: number[];
  /** row-major in `shape` */
  W: Float32Array;
  /** the first `cols` (or `out`) biases */
  b: Float32Array;
}

/** the network view's answer: a test image through one set of weights */
export interface NetworkView {
  kind: 'mlp' | 'cnn';
  /** the weights' epoch (0-based, −1: the initial weights); null: the model as trained or uploaded */
  epoch: number | null;
  /** sent at an epoch's end while the model trains (or from a paused run's weights) */
  live: boolean;
  image: number;
  label: number;
  predicted: number;
  /** softmax of the logits [classes] */
  probabilities: number[];
  /** the sample's named activations in model order, the input and the loss left out (logits last) */
  acts: SampleAct[];
  /** every weighted layer, input to output */
  layers: SentLayer[];
  seconds: number;
}

/** the buffers of a view, to transfer rather than copy */
export const viewBuffers = (v: NetworkView): ArrayBuffer[] => [
  ...v.acts.map((a) => a.data.buffer as ArrayBuffer), ...v.layers.flatMap((l) => [l.W.buffer as ArrayBuffer, l.b.buffer as ArrayBuffer]),
];

/** the rows × cols top-left block of a row-major [R, C] matrix */
function block(W: Float32Array, C: number, rows: number, cols: number): Float32Array {
  if (cols === C) return W.slice(0, rows * C);
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) out.set(W.subarray(i * C, i * C + cols), i * cols);
  return out;
}

/**
 * test image `image` of `split` through `model` (a CPU model in eval mode: the worker's host copy): its
 * activations, probabilities and the weights the page draws
 */
export async function networkView(model: Net, split: Split, image: number, opts: { epoch: number | null; live: boolean }): Promise<NetworkView> {
  const t0 = performance.now(), d = model.inputSize;
  if (!Number.isInteger(image) || image < 0 || image >= split.count) throw new RangeError(`test image ${image}: the test set has images 0..${split.count - 1}`);
  const x = Float32Array.from(split.images.subarray(image * d, (image + 1) * d), (v) => v / 255);
  const out = noGrad(() => model.forward(Tensor.from(x, [1, d], { backend: model.backend })));
  const acts: SampleAct[] = [];
  for (const name of model.actNames()) {
    if (name === 'input' || name === 'loss' || !out[name]) continue;
    acts.push({ name, shape: model.unitShape(name), data: Float32Array.from(await out[name]!.read()) });
  }
  const logits = Array.from(acts.find((a) => a.name === 'logits')!.data);
  const top = Math.max(...logits), e = logits.map((v) => Math.exp(v - top)), z = e.reduce((a, b) => a + b, 0);

  const params = await model.export();
  const layers = params.map((p, k): SentLayer => {
    const name = `layers.${k}`;
    if (p.shape) {
      const [o, i, kh, kw] = p.shape, so = Math.min(o, MAX_UNITS), si = Math.min(i, MAX_UNITS), kk = kh * kw;
      const W = new Float32Array(so * si * kk);
      for (let a = 0; a < so; a++) for (let c = 0; c < si; c++) W.set(p.W.subarray((a * i + c) * kk, (a * i + c + 1) * kk), (a * si + c) * kk);
      return { name, kind: 'conv', full: [...p.shape], shape: [so, si, kh, kw], W, b: p.b.slice(0, so) };
    }
    // every input where they come from the image or a feature map (drawn per pixel or summed per channel)
    const fromMaps = k === 0 || (model.kind === 'cnn' && params[k - 1].shape !== undefined);
    const rows = fromMaps ? p.dIn : Math.min(p.dIn, MAX_UNITS), cols = Math.min(p.dOut, MAX_UNITS);
    if (rows * cols > MAX_SENT) return { name, kind: 'dense', full: [p.dIn, p.dOut], shape: [0, 0], W: new Float32Array(0), b: p.b.slice(0, cols) };
    return { name, kind: 'dense', full: [p.dIn, p.dOut], shape: [rows, cols], W: block(p.W, p.dOut, rows, cols), b: p.b.slice(0, cols) };
  });
  return {
    kind: model.kind, epoch: opts.epoch, live: opts.live, image, label: split.labels[image], predicted: logits.indexOf(top),
    probabilities: e.map((v) => v / z), acts, layers, seconds: (performance.now() - t0) / 1000,
  };
}
