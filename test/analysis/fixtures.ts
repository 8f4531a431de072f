// small constructed networks and datasets whose analyses are known by hand (shared by the analysis tests)
import { createRng } from '../../engine/rng.ts';
import type { Split } from '../../mlp/mnist.ts';
import { Mlp } from '../../mlp/model.ts';
import type { LabelledImages } from '../../analysis/forward-cache.ts';

/** a split of 1×cols images from raw bytes [count][cols] and labels */
export function makeSplit(images: number[][], labels: number[], rows = 1): Split {
  const cols = images[0].length / rows;
  return { images: Uint8Array.from(images.flat()), labels: Uint8Array.from(labels), count: labels.length, rows, cols };
}

/**
 * 2 inputs → hidden [2] (identity, ReLU) → 3 logits (h0, h1, 0.5). Neuron 0 of layer 0 fires only for
 * class 0 inputs (1, 0), neuron 1 only for class 1 inputs (0, 1); class 2 inputs (0, 0) win by the bias.
 * Scaling neuron 0 by s makes class 0's logits (s, 0, 0.5): right iff s > 0.5.
 */
export function selectiveNet(): Mlp {
  return Mlp.fromParams([
    { W: Float32Array.from([1, 0, 0, 1]), b: Float32Array.from([0, 0]), dIn: 2, dOut: 2 },
    { W: Float32Array.from([1, 0, 0, 0, 1, 0]), b: Float32Array.from([0, 0, 0.5]), dIn: 2, dOut: 3 },
  ]);
}

/** the same with a second identity hidden layer in between (to check "any hidden layer") */
export function selectiveNet2(): Mlp {
  return Mlp.fromParams([
    { W: Float32Array.from([1, 0, 0, 1]), b: Float32Array.from([0, 0]), dIn: 2, dOut: 2 },
    { W: Float32Array.from([1, 0, 0, 1]), b: Float32Array.from([0, 0]), dIn: 2, dOut: 2 },
    { W: Float32Array.from([1, 0, 0, 0, 1, 0]), b: Float32Array.from([0, 0, 0.5]), dIn: 2, dOut: 3 },
  ]);
}

/** `per` samples of each class for selectiveNet, as unit-scaled floats (x = bytes / 255) */
export function selectiveData(per = [4, 3, 2]): LabelledImages {
  const rows: number[][] = [], labels: number[] = [];
  const proto = [[1, 0], [0, 1], [0, 0]];
  per.forEach((m, c) => { for (let i = 0; i < m; i++) { rows.push(proto[c]); labels.push(c); } });
  return {
    x: Float32Array.from(rows.flat()), labels: Uint8Array.from(labels), indices: Uint32Array.from(labels, (_, i) => i),
    count: labels.length, dim: 2,
  };
}

/** a random model and a random split of `count` 3×3 images over `classes` classes */
export function randomCase(seed: number, count = 60, sizes = [9, 6, 5, 4]): { model: Mlp; split: Split } {
  const rng = createRng('mlp-lens', seed);
  const model = Mlp.init(sizes, rng);
  const images = Array.from({ length: count }, () => Array.from({ length: 9 }, () => rng.nextU32() % 256));
  const labels = Array.from({ length: count }, (_, i) => i % sizes[sizes.length - 1]);
  return { model, split: makeSplit(images, labels, 3) };
}
