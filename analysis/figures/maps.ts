// input-space maps of the layer's neurons (docs/notebooks.md items 36, 37: NB02 cells 130–136) as real images: gradient saliency of
// one test image per neuron (viridis) and one-hot pixel maps (hot, "eye of Sauron"). From
// analysis/saliency.json and oneHotMaps.json.
import type { HostTensor } from '../forward-cache.ts';
import { colorOf, mapToPng, pngDataUri } from '../png.ts';
import type { ImageSource } from './accuracy.ts';
import { clean, imageGrid, type Tile, type VegaLiteSpec } from './spec.ts';

/** rows × cols of a flattened image of d pixels (square unless told) */
function shapeOf(d: number, source?: ImageSource): [number, number] {
  if (source && source.rows * source.cols === d) return [source.rows, source.cols];
  const s = Math.round(Math.sqrt(d));
  return s * s === d ? [s, s] : [1, d];
}

// matplotlib's hot is piecewise linear with knees at 0.365 and 0.746
const HOT_STOPS = [0, 0.365079, 0.746032, 1];
const hex = (c: number[]) => '#' + c.map((v) => v.toString(16).padStart(2, '0')).join('');

const row = (t: HostTensor, r: number) => {
  const d = t.shape[1];
  return Array.prototype.slice.call(t.data, r * d, (r + 1) * d) as number[];
};

/**
 * item 36: |∂ pre-activation / ∂ pixel| of each neuron for one test image, clipped to its 1st–99th
 * percentile and scaled to [0, 1], on a 4-wide grid; the image itself first when `source` has it
 */
export function figureSaliency(
  s: { index: number; label: number; target: string; neurons: number[]; normalized: HostTensor }, source?: ImageSource,
): VegaLiteSpec {
  const d = s.normalized.shape[1], [rows, cols] = shapeOf(d, source);
  const tiles: Tile[] = [];
  const offset = source ? 1 : 0;
  if (source && s.index < source.count) {
    tiles.push({
      url: pngDataUri(mapToPng(source.images.subarray(s.index * d, (s.index + 1) * d), rows, cols, 'gray_r', [0, 255])),
      label: `input #${s.index} (${s.label})`, row: 0, col: 0, neuron: null,
    });
  }
  s.neurons.forEach((neuron, r) => {
    tiles.push({
      url: pngDataUri(mapToPng(row(s.normalized, r), rows, cols, 'viridis', [0, 1])),
      label: `neuron ${neuron}`, row: Math.floor(r / 4), col: offset + (r % 4), neuron,
    });
  });
  return imageGrid(`Gradient saliency of test image #${s.index} (class ${s.label}) for each neuron of ${s.target}`, tiles, {
    size: 96, legend: { title: '|grad| (1–99 % clipped)', scale: { scheme: 'viridis', domain: [0, 1] } },
  });
}

/**
 * item 37: activation of each neuron when only pixel p is lit (value v), as a rows×cols map per neuron,
 * each scaled to its own [0, max] (plt.imshow per subplot), cmap hot; the max is in the label
 */
export function figureOneHotMaps(m: { target: string; value: number; maps: HostTensor }, source?: ImageSource): VegaLiteSpec {
  const [w, d] = m.maps.shape, [rows, cols] = shapeOf(d, source);
  const tiles: Tile[] = Array.from({ length: w }, (_, j) => {
    const v = row(m.maps, j);
    const lo = Math.min(...v), hi = Math.max(...v);
    return {
      url: pngDataUri(mapToPng(v, rows, cols, 'hot', [lo, hi > lo ? hi : lo + 1])),
      label: `n${j}, max ${hi.toPrecision(2)}`, row: Math.floor(j / 4), col: j % 4, neuron: j, min: clean(lo), max: clean(hi),
    };
  });
  return imageGrid(`One-hot pixel maps of ${m.target}: activation with one pixel = ${m.value}`, tiles, {
    size: 96, legend: { title: 'share of the map’s max', scale: { domain: HOT_STOPS, range: HOT_STOPS.map((v) => hex(colorOf('hot', v))) } },
  });
}
