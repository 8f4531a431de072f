// a CNN's feature maps for one image: every conv layer's pre-activation, ReLU output and pooled map, and
// the first conv layer's filters as images.
import { noGrad, Tensor } from '../engine/tensor.ts';
import type { Cnn } from '../mlp/cnn.ts';
import type { ActName } from '../mlp/names.ts';

/** one named map of one image: shape [C, H, W], values row-major */
export interface FeatureMap { name: ActName; shape: number[]; data: Float32Array }

/** every feature map (the names whose per-sample shape is [C, H, W]) of `image` [pixels], in model order */
export async function featureMaps(model: Cnn, image: ArrayLike<number>): Promise<FeatureMap[]> {
  const d = model.inputSize;
  if (image.length !== d) throw new RangeError(`image has ${image.length} values, the model takes ${d}`);
  const names = model.actNames().filter((n) => n !== 'input' && n !== 'logits' && n !== 'loss' && model.unitShape(n).length === 3);
  const acts = noGrad(() => model.forward(Tensor.from(Float32Array.from(image), [1, d], { backend: model.backend })));
  const out: FeatureMap[] = [];
  for (const name of names) out.push({ name, shape: model.unitShape(name), data: Float32Array.from(await acts[name]!.read()) });
  return out;
}

/** the weights of conv layer `layer` [out, in, k, k] (PyTorch's layout) and its biases [out] */
export interface ConvFilters { layer: number; shape: number[]; weights: Float32Array; bias: Float32Array }

/** conv layer `layer`'s filters: each [in, k, k] weight drawn as `in` k×k images */
export async function convFilters(model: Cnn, layer = 0): Promise<ConvFilters> {
  const l = model.layers[layer];
  if (!l || l.spec.kind !== 'conv' || layer === model.layers.length - 1) throw new RangeError(`layer ${layer} of ${model.arch} is not a conv layer`);
  return { layer, shape: [...l.W.shape], weights: Float32Array.from(await l.W.read()), bias: Float32Array.from(await l.b.read()) };
}
