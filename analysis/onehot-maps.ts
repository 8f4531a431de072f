// one-hot pixel maps (NB02 cells 134–136): the activation of each neuron when the input is a single
// lit pixel, for every pixel: all d_in one-hot images in one forward pass (a CNN's channels: their maps' spatial means).
import { noGrad, Tensor } from '../engine/tensor.ts';
import type { Net } from '../mlp/net.ts';
import { channelReduce } from '../mlp/units.ts';
import { layerName, sizeOf, widthOf, type HostTensor, type Site } from './forward-cache.ts';

/**
 * map[j][p] = activation of neuron j of hidden layer `layer` (post-ReLU by default) for the image whose
 * only non-zero pixel is p, set to `value` (default 1.0) → [width, d_in] (each row a rows×cols image)
 */
export async function oneHotMaps(
  model: Net, layer: number, opts: { site?: Site; value?: number } = {},
): Promise<{ target: string; value: number; maps: HostTensor }> {
  const backend = model.layers[0].W.backend, d = model.inputSize, value = opts.value ?? 1;
  const target = layerName(model, layer, opts.site ?? 'post'), w = widthOf(model, target), size = sizeOf(model, target);
  const x = new Float32Array(d * d); // [d_in, d_in]: row p lights pixel p
  for (let p = 0; p < d; p++) x[p * d + p] = value;
  let a = await noGrad(() => model.forward(Tensor.from(x, [d, d], { backend }))[target]!).read(); // [d_in, width]
  if (size !== w) { // a conv map [d_in, C, H, W] → its channels' spatial means [d_in, C]
    const units = new Float32Array(d * w);
    channelReduce(a, d, w, size / w, true, units);
    a = units;
  }
  const maps = new Float32Array(w * d); // [width, d_in]
  for (let p = 0; p < d; p++) for (let j = 0; j < w; j++) maps[j * d + p] = a[p * w + j];
  return { target, value, maps: { shape: [w, d], data: maps } };
}
