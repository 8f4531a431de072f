// Architectures as specs: `--arch mlp:32,16` (the notebooks' MLP, the default) and `--arch cnn` (the
// CNN of the notebooks' own next step), or any stack of conv / pool / linear layers written in a small
// grammar. A spec is plain data: parsed and checked here once, then built by mlp/model.ts (an MLP) or
// mlp/cnn.ts (anything with a conv or pool layer), named by mlp/names.ts, exported under PyTorch's
// module names by mlp/weights.ts and mlp/cnn-weights.ts.
//
// Grammar (spaces ignored, case-insensitive):
//   arch   := 'mlp' [':' widths] | 'cnn' [':' layers]
//   widths := N (',' N)*                 hidden Linear+ReLU layers; `mlp:` alone is logistic regression
//   layers := layer (',' layer)*
//   layer  := 'conv' C 'x' K ['s' S] ['p' P]   Conv2d(·, C, K, stride S = 1, padding P = 0) + ReLU
//           | 'pool' K ['s' S]                  max_pool2d(K, stride S = K)
//           | N                                 Linear(·, N) + ReLU (the feature map flattened first)
// The output Linear(·, classes) is implicit, as in the MLP's widths. `cnn` alone is the reference CNN,
// `cnn:conv8x5,pool2,conv16x5,pool2,32`: 1×28×28 → 8×24×24 → 8×12×12 → 16×8×8 → 16×4×4 → 256 → 32 → 10.

/** a convolution with its ReLU: `out` channels, a k×k kernel */
export interface ConvSpec { kind: 'conv'; out: number; kernel: number; stride: number; padding: number }
/** a max pooling, PyTorch's floor mode */
export interface PoolSpec { kind: 'pool'; kernel: number; stride: number }
/** a Linear layer (with its ReLU, except the output layer) */
export interface LinearSpec { kind: 'linear'; out: number }
export type LayerSpec = ConvSpec | PoolSpec | LinearSpec;

/** an architecture: what --arch says, before it meets the data */
export type ArchSpec =
  | { kind: 'mlp'; hidden: number[] }
  | { kind: 'cnn'; layers: LayerSpec[] };

/** an activation's shape per sample: [C, H, W] for a feature map, [D] for a vector */
export type UnitShape = readonly number[];

/** one layer of a resolved CNN, with the shapes it maps between (per sample) */
export type ResolvedLayer =
  | (ConvSpec & { inShape: [number, number, number]; outShape: [number, number, number] })
  | (PoolSpec & { inShape: [number, number, number]; outShape: [number, number, number] })
  | (LinearSpec & { inShape: [number]; outShape: [number]; flatten: boolean });

export const REFERENCE_CNN = 'cnn:conv8x5,pool2,conv16x5,pool2,32';
export const DEFAULT_ARCH = 'mlp:32,16';

/** the most layers a spec may list (parameters and names grow with it; the MLP's limit is mlp/weights.ts's) */
export const MAX_SPEC_LAYERS = 64;
/** the largest channel count, kernel, stride, padding or width one layer may ask for */
export const MAX_LAYER_SIZE = 65536;

export class ArchError extends Error {}

const POS = '(\\d+)';

/** `--arch` text → a spec, or an ArchError saying which part is wrong and what the grammar is */
export function parseArch(text: string): ArchSpec {
  const t = text.replace(/\s+/g, '').toLowerCase();
  const [kind, rest, ...more] = t.split(':');
  if (more.length) throw new ArchError(`--arch: one ':' at most, got '${text}'`);
  if (kind === 'mlp') {
    if (rest === undefined) return { kind: 'mlp', hidden: [32, 16] };
    if (rest === '') return { kind: 'mlp', hidden: [] };
    const hidden = rest.split(',').map((w, i) => size(w, `hidden width ${i + 1}`));
    if (hidden.length > MAX_SPEC_LAYERS) throw new ArchError(`--arch: at most ${MAX_SPEC_LAYERS} layers, got ${hidden.length}`);
    return { kind: 'mlp', hidden };
  }
  if (kind === 'cnn') {
    if (rest === undefined) return parseArch(REFERENCE_CNN);
    const parts = rest.split(',');
    if (parts.length > MAX_SPEC_LAYERS) throw new ArchError(`--arch: at most ${MAX_SPEC_LAYERS} layers, got ${parts.length}`);
    const layers = parts.map((p, i) => layer(p, i));
    if (!layers.some((l) => l.kind !== 'linear')) throw new ArchError(`--arch ${text}: a cnn needs a conv or pool layer (for linear layers only, use mlp:${rest})`);
    return { kind: 'cnn', layers };
  }
  throw new ArchError(`--arch: expected mlp[:W,W,…] or cnn[:LAYER,…] (LAYER: convCxK[sS][pP] | poolK[sS] | N), got '${text}'`);
}

function size(w: string, what: string): number {
  if (!/^\d+$/.test(w)) throw new ArchError(`--arch: ${what} must be a positive whole number, got '${w}'`);
  const n = Number(w);
  if (n < 1 || n > MAX_LAYER_SIZE) throw new ArchError(`--arch: ${what} must be 1 to ${MAX_LAYER_SIZE}, got ${w}`);
  return n;
}

function layer(p: string, i: number): LayerSpec {
  const at = `layer ${i + 1} ('${p}')`;
  let m = new RegExp(`^conv${POS}x${POS}(?:s${POS})?(?:p${POS})?$`).exec(p);
  if (m) {
    const padding = m[4] === undefined ? 0 : Number(m[4]);
    if (padding > MAX_LAYER_SIZE) throw new ArchError(`--arch: ${at}: padding must be at most ${MAX_LAYER_SIZE}`);
    return { kind: 'conv', out: size(m[1], `${at}: channels`), kernel: size(m[2], `${at}: kernel`), stride: m[3] === undefined ? 1 : size(m[3], `${at}: stride`), padding };
  }
  m = new RegExp(`^pool${POS}(?:s${POS})?$`).exec(p);
  if (m) {
    const kernel = size(m[1], `${at}: kernel`);
    return { kind: 'pool', kernel, stride: m[2] === undefined ? kernel : size(m[2], `${at}: stride`) };
  }
  if (/^\d+$/.test(p)) return { kind: 'linear', out: size(p, `${at}: width`) };
  throw new ArchError(`--arch: ${at} is not convCxK[sS][pP], poolK[sS] or a width N`);
}

/** a spec as --arch would write it (parseArch(formatArch(s)) gives s back) */
export function formatArch(spec: ArchSpec): string {
  if (spec.kind === 'mlp') return `mlp:${spec.hidden.join(',')}`;
  return `cnn:${spec.layers.map((l) => {
    if (l.kind === 'conv') return `conv${l.out}x${l.kernel}${l.stride !== 1 ? `s${l.stride}` : ''}${l.padding ? `p${l.padding}` : ''}`;
    if (l.kind === 'pool') return `pool${l.kernel}${l.stride !== l.kernel ? `s${l.stride}` : ''}`;
    return String(l.out);
  }).join(',')}`;
}

/**
 * the CNN's layers with their shapes, from an input of `input` = [C, H, W] to `classes` outputs (the
 * implicit output layer last); an ArchError where a layer does not fit (a kernel larger than its padded
 * input, a conv or pool after a linear layer)
 */
export function resolveCnn(layers: readonly LayerSpec[], input: readonly [number, number, number], classes: number): ResolvedLayer[] {
  const out: ResolvedLayer[] = [];
  let map: [number, number, number] | null = [input[0], input[1], input[2]];
  let width = 0;
  const all: LayerSpec[] = [...layers, { kind: 'linear', out: classes }];
  all.forEach((l, i) => {
    const at = i === layers.length ? 'the output layer' : `layer ${i + 1} (${l.kind})`;
    if (l.kind === 'linear') {
      const flatten = map !== null;
      const dIn: number = map ? map[0] * map[1] * map[2] : width;
      out.push({ ...l, inShape: [dIn], outShape: [l.out], flatten });
      map = null;
      width = l.out;
      return;
    }
    if (!map) throw new ArchError(`--arch: ${at} comes after a linear layer; conv and pool layers come first`);
    // a pool is named after the conv it follows (layers.K.pool): one pool per conv, after it
    if (l.kind === 'pool' && out[out.length - 1]?.kind !== 'conv') throw new ArchError(`--arch: ${at}: a pool layer follows a conv layer (one pool per conv)`);
    const [c, h, w] = map;
    const pad = l.kind === 'conv' ? l.padding : 0;
    const oh = Math.floor((h + 2 * pad - l.kernel) / l.stride) + 1, ow = Math.floor((w + 2 * pad - l.kernel) / l.stride) + 1;
    if (h + 2 * pad < l.kernel || w + 2 * pad < l.kernel) {
      throw new ArchError(`--arch: ${at}: a ${l.kernel}×${l.kernel} kernel does not fit its ${c}×${h}×${w} input${pad ? ` padded by ${pad}` : ''}`);
    }
    const next: [number, number, number] = [l.kind === 'conv' ? l.out : c, oh, ow];
    out.push({ ...l, inShape: map, outShape: next } as ResolvedLayer);
    map = next;
  });
  return out;
}

/** parameters of a resolved CNN (weights and biases) */
export function cnnParamCount(layers: readonly ResolvedLayer[]): number {
  let n = 0;
  for (const l of layers) {
    if (l.kind === 'conv') n += l.out * l.inShape[0] * l.kernel * l.kernel + l.out;
    if (l.kind === 'linear') n += l.inShape[0] * l.out + l.out;
  }
  return n;
}

/** multiply-adds of one sample's forward pass */
export function cnnMacs(layers: readonly ResolvedLayer[]): number {
  let n = 0;
  for (const l of layers) {
    if (l.kind === 'conv') n += l.outShape[0] * l.outShape[1] * l.outShape[2] * l.inShape[0] * l.kernel * l.kernel;
    if (l.kind === 'linear') n += l.inShape[0] * l.out;
  }
  return n;
}

/** each weighted layer's parameter shapes: W [out, in, k, k] (conv, PyTorch's layout) or [d_in, d_out] (linear), b [out] */
export function cnnParamShapes(layers: readonly ResolvedLayer[]): { W: number[]; b: number[] }[] {
  return layers.filter((l) => l.kind !== 'pool').map((l) => ({
    W: l.kind === 'conv' ? [l.out, l.inShape[0], l.kernel, l.kernel] : [l.inShape[0], l.out],
    b: [l.out],
  }));
}
