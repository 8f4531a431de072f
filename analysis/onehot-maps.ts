// one-hot pixel maps (NB02 cells 134–136): the activation of each neuron when the input is a single
// lit pixel, for every pixel: all d_in one-hot images in one forward pass.
import { noGrad, Tensor } from '../engine/tensor.ts';
import type { Mlp } from '../mlp/model.ts';
import { layerName, widthOf, type HostTensor } from './forward-cache.ts';

/**
 * map[j][p] = activation of neuron j of hidden layer `layer` (post-ReLU by default) for the image whose
 * only non-zero pixel is p, set to `value` (default 1.0) → [width, d_in] (each row a rows×cols image)
 */
export async function oneHotMaps(
  model: Mlp, layer: number, opts: { site?: 'pre' | 'post'; value?: number } = {},
): Promise<{ target: string; value: number; maps: HostTensor }> {
  const backend = model.layers[0].W.backend, d = model.sizes[0], value = opts.value ?? 1;
  const target = layerName(model, layer, opts.site ?? 'post'), w = widthOf(model, target);
  const x = new Float32Array(d * d); // [d_in, d_in]: row p lights pixel p
  for (let p = 0; p < d; p++) x[p * d + p] = value;
  const a = await noGrad(() => model.forward(Tensor.from(x, [d, d], { backend }))[target]!).read(); // [d_in, width]
  const maps = new Float32Array(w * d); // [width, d_in]
  for (let p = 0; p < d; p++) for (let j = 0; j < w; j++) maps[j * d + p] = a[p * w + j];
  return { target, value, maps: { shape: [w, d], data: maps } };
}
