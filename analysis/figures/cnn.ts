// the CNN's own figures, from analysis/cnn.json: the first conv layer's filters as images, the feature maps
// of one test digit at every conv layer (pre, ReLU, pooled), the nine test images that most activate each
// channel with the receptive field of the winning position outlined, and the flattened features' PCA and
// silhouettes beside the channel means'.
import type { CnnResults } from '../cnn-suite.ts';
import { colorOf, encodePng, pngDataUri } from '../png.ts';
import type { ImageSource } from './accuracy.ts';
import { clean, imageGrid, layerShort, topLevel, type Row, type Tile, type VegaLiteSpec } from './spec.ts';
import { divergingColor } from './through-training.ts';

const RED = [214, 39, 40];

/** values [h, w] as an RGB PNG scaled up `zoom` times: diverging around 0 (±m) or viridis over [0, m] */
function mapPng(v: ArrayLike<number>, h: number, w: number, m: number, signed: boolean, zoom = 1): string {
  const px = new Uint8Array(h * w * zoom * zoom * 3);
  for (let y = 0; y < h * zoom; y++) {
    for (let x = 0; x < w * zoom; x++) {
      const val = v[Math.floor(y / zoom) * w + Math.floor(x / zoom)];
      const c = signed ? divergingColor(m > 0 ? val / m : 0) : colorOf('viridis', m > 0 ? val / m : 0);
      px.set(c, 3 * (y * w * zoom + x));
    }
  }
  return pngDataUri(encodePng(w * zoom, h * zoom, 3, px));
}

const maxAbs = (v: ArrayLike<number>) => { let m = 0; for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(v[i])); return m; };

/** the filters of a conv layer: one k×k image per (output, input) channel, red positive, blue negative, on one scale (± the largest |w|) */
export function figureConvFilters(f: CnnResults['filters']): VegaLiteSpec {
  const [O, I, kh, kw] = f.shape, m = maxAbs(f.weights), perRow = I === 1 ? Math.min(O, 8) : I;
  const tiles: Tile[] = [];
  for (let o = 0; o < O; o++) {
    for (let i = 0; i < I; i++) {
      const at = (o * I + i) * kh * kw, r = I === 1 ? Math.floor(o / perRow) : o, c = I === 1 ? o % perRow : i;
      tiles.push({
        url: mapPng(f.weights.subarray(at, at + kh * kw), kh, kw, m, true), label: I === 1 ? `out ${o}, b ${f.bias[o].toFixed(2)}` : `${o}←${i}`,
        row: r, col: c, out: o, in: i, min: clean(Math.min(...f.weights.subarray(at, at + kh * kw))), max: clean(Math.max(...f.weights.subarray(at, at + kh * kw))),
      });
    }
  }
  return imageGrid(`Filters of conv layer ${f.layer + 1}: ${O} × [${I}, ${kh}, ${kw}]`, tiles, {
    size: I === 1 ? 84 : 40, legend: { title: `weight (±${m.toFixed(2)})`, scale: { scheme: 'redblue', reverse: true, domain: [-m, m] } } as never,
  });
}

/**
 * the feature maps of one test digit in conv layer `layer` (0-based): a row each for its pre-activation
 * (diverging), ReLU output and pooled map (viridis, each map on its own [0, max]); the digit first
 */
export function figureFeatureMaps(fm: CnnResults['featureMaps'], layer: number, source?: ImageSource): VegaLiteSpec {
  const maps = fm.maps.filter((m) => m.name.startsWith(`layers.${layer}.`));
  const tiles: Tile[] = [];
  if (source && fm.index < source.count) {
    const d = source.rows * source.cols, img = source.images.subarray(fm.index * d, (fm.index + 1) * d);
    tiles.push({ url: mapPng(Float32Array.from(img, (b) => -b / 255), source.rows, source.cols, 1, true), label: `#${fm.index} (${fm.label})`, row: 0, col: 0, map: 'input', channel: null });
  }
  const site = (n: string) => n.split('.')[2];
  maps.forEach((m, r) => {
    const [c, h, w] = m.shape;
    for (let ch = 0; ch < c; ch++) {
      const v = m.data.subarray(ch * h * w, (ch + 1) * h * w), signed = site(m.name) === 'pre';
      const top = signed ? maxAbs(v) : Math.max(0, ...v);
      tiles.push({ url: mapPng(v, h, w, top, signed), label: `${site(m.name)} c${ch} ${signed ? '±' : '≤'}${top.toPrecision(2)}`, row: r, col: ch + 1, map: m.name, channel: ch, max: clean(top) });
    }
  });
  return imageGrid(`Feature maps of test image #${fm.index} (a ${fm.label}) in conv layer ${layer + 1}: ${maps.map((m) => `${m.name} ${m.shape.join('×')}`).join(', ')}`, tiles, { size: 72 });
}

/**
 * per channel of a conv map, its top test images (largest value over positions), each drawn 3× with the
 * receptive field of the winning position outlined in red and the pixels outside it faded
 */
export function figureTopImages(t: CnnResults['topImages'][number], source: ImageSource): VegaLiteSpec {
  const { rows, cols } = source, d = rows * cols, zoom = 3;
  const tiles: Tile[] = [];
  for (const c of t.channels) {
    c.images.forEach((im, rank) => {
      const px = new Uint8Array(rows * cols * zoom * zoom * 3), f = im.field;
      for (let y = 0; y < rows * zoom; y++) {
        for (let x = 0; x < cols * zoom; x++) {
          const r = Math.floor(y / zoom), q = Math.floor(x / zoom), inside = r >= f.top && r <= f.bottom && q >= f.left && q <= f.right;
          // a 2-pixel outline just inside the field
          const edge = inside && (y < f.top * zoom + 2 || y >= (f.bottom + 1) * zoom - 2 || x < f.left * zoom + 2 || x >= (f.right + 1) * zoom - 2);
          const g = 255 - source.images[im.index * d + r * cols + q];
          px.set(edge ? RED : inside ? [g, g, g] : [Math.round(170 + g / 3), Math.round(170 + g / 3), Math.round(170 + g / 3)], 3 * (y * cols * zoom + x));
        }
      }
      tiles.push({
        url: pngDataUri(encodePng(cols * zoom, rows * zoom, 3, px)), label: `${rank === 0 ? `c${c.channel} │ ` : ''}${im.label}: ${im.value.toPrecision(2)}`,
        row: c.channel, col: rank, channel: c.channel, rank, index: im.index, digit: im.label, value: clean(im.value),
        top: f.top, left: f.left, bottom: f.bottom, right: f.right,
      });
    });
  }
  return imageGrid(`Top ${t.k} test images of each channel of ${layerShort(t.name)} (${t.name}, ${t.shape.join('×')}), ranked by the channel's max over positions; red: the receptive field of that position`, tiles, { size: rows * zoom });
}

/** the flattened features' silhouettes beside the channel means' (full space and PCA 2-D), as bars */
export function figureFlatSilhouette(f: CnnResults['features']): VegaLiteSpec {
  const flat = `flattened (${f.dims})`, ch = `channel means (${f.channels})`;
  const values: Row[] = [
    { space: flat, column: 'full space', silhouette: clean(f.silhouette.flattened.full) },
    { space: flat, column: 'PCA 2-D', silhouette: clean(f.silhouette.flattened.pca) },
    { space: ch, column: 'full space', silhouette: clean(f.silhouette.channels.full) },
    { space: ch, column: 'PCA 2-D', silhouette: clean(f.silhouette.channels.pca) },
  ];
  return topLevel(`Silhouette by true class of ${layerShort(f.name)} (${f.name}): flattened map vs channel means (${f.silhouette.rows} test images)`, values, {
    width: 320, height: 160,
    mark: { type: 'bar' },
    encoding: {
      y: { field: 'space', type: 'nominal', title: null, sort: [flat, ch] },
      yOffset: { field: 'column', type: 'nominal', sort: ['full space', 'PCA 2-D'] },
      x: { field: 'silhouette', type: 'quantitative', title: 'silhouette score' },
      color: { field: 'column', type: 'nominal', title: 'space', scale: { domain: ['full space', 'PCA 2-D'], range: ['#4c78a8', '#f58518'] } },
      tooltip: [{ field: 'space' }, { field: 'column' }, { field: 'silhouette', format: '.3f' }],
    },
  });
}
