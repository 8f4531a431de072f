/**
 * Weight import/export between an mlp-lens CNN (mlp/cnn.ts) and its PyTorch twin, through safetensors
 * files that `safetensors.torch.load_file` + `load_state_dict` accept. Pure (bytes in and out); saving
 * and loading the files is run/model-files.ts. The MLP's counterpart is mlp/weights.ts.
 *
 * The twin of a spec names its conv layers `conv1`, `conv2`, … (nn.Conv2d: weight [out, in, kh, kw],
 * bias [out]), then its linear layers `linear1`, … (nn.Linear: weight [out, in]), the last one `output`.
 * Pools and ReLUs have no parameters. For the reference CNN (mlp/arch.ts REFERENCE_CNN):
 *
 *   class CNN(nn.Module):
 *       def __init__(self):
 *           super().__init__()
 *           self.conv1 = nn.Conv2d(1, 8, 5)
 *           self.conv2 = nn.Conv2d(8, 16, 5)
 *           self.linear1 = nn.Linear(256, 32)
 *           self.output = nn.Linear(32, 10)
 *       def forward(self, x):
 *           x = F.max_pool2d(F.relu(self.conv1(x)), 2)
 *           x = F.max_pool2d(F.relu(self.conv2(x)), 2)
 *           return self.output(F.relu(self.linear1(x.flatten(1))))
 *
 * Unlike an MLP file, whose layer sizes the file itself says, a CNN's strides, paddings and pools are not
 * in its state dict: a file is read against the spec it is expected to hold (`resolved`, from
 * mlp/arch.ts resolveCnn), and mlp-lens records the spec in the file's metadata (`archFromMetadata`).
 */
import { type ArchSpec, formatArch, type LayerSpec, MAX_SPEC_LAYERS, parseArch, type ResolvedLayer } from './arch.ts';
import { clip, InputError, listSome } from './errors.ts';
import { decodeSafetensors, encodeSafetensors, shapeText, type DecodeLimits, type SafeTensor } from './safetensors.ts';
import { MAX_MODEL_HEADER_BYTES, transpose, type LayerParams, type TorchTensorF32 } from './weights.ts';

// ceilings for CNN model files, checked before the header is parsed (as mlp/weights.ts's for an MLP)

/** The most tensors a CNN model file holds: a weight and a bias for each of MAX_SPEC_LAYERS layers and the output layer (130). */
export const MAX_CNN_MODEL_TENSORS = 2 * (MAX_SPEC_LAYERS + 1);
/**
 * The largest header of a CNN model file: the MLP's 1 MiB (mlp/weights.ts MAX_MODEL_HEADER_BYTES), far
 * above the ~14 KB of tensor entries of the largest spec; what is left is room for the metadata callers add.
 */
export const MAX_CNN_MODEL_HEADER_BYTES = MAX_MODEL_HEADER_BYTES;
/** the limits decodeCnnModel reads a file under */
export const CNN_MODEL_LIMITS: Readonly<DecodeLimits> = { maxHeaderBytes: MAX_CNN_MODEL_HEADER_BYTES, maxTensors: MAX_CNN_MODEL_TENSORS };

type Weighted = Extract<ResolvedLayer, { kind: 'conv' | 'linear' }>;

/** the weighted layers of a resolved spec, checked: at least the output layer, the last one linear, at most MAX_SPEC_LAYERS + 1 */
function weightedLayers(resolved: readonly ResolvedLayer[]): Weighted[] {
  const weighted = resolved.filter((l): l is Weighted => l.kind !== 'pool');
  if (!weighted.length || resolved[resolved.length - 1].kind !== 'linear') throw new RangeError('a resolved CNN ends with its linear output layer');
  if (weighted.length > MAX_SPEC_LAYERS + 1) throw new RangeError(`a CNN has at most ${MAX_SPEC_LAYERS + 1} weighted layers, this one has ${weighted.length}`);
  return weighted;
}

/** the spec a resolved CNN was resolved from: its layers without the implicit output layer */
export function cnnSpecOf(resolved: readonly ResolvedLayer[]): ArchSpec {
  const layers = resolved.slice(0, -1).map((l): LayerSpec => {
    if (l.kind === 'conv') return { kind: 'conv', out: l.out, kernel: l.kernel, stride: l.stride, padding: l.padding };
    if (l.kind === 'pool') return { kind: 'pool', kernel: l.kernel, stride: l.stride };
    return { kind: 'linear', out: l.out };
  });
  return { kind: 'cnn', layers };
}

/**
 * PyTorch module name of each weighted layer (conv and linear, in order; pools have none): `conv1`,
 * `conv2`, … for the convolutions, `linear1`, … for the hidden linear layers, `output` for the last. For
 * the reference CNN: ['conv1', 'conv2', 'linear1', 'output'].
 */
export function cnnTorchNames(resolved: readonly ResolvedLayer[]): string[] {
  const weighted = weightedLayers(resolved);
  let conv = 0, lin = 0;
  return weighted.map((l, k) => (k === weighted.length - 1 ? 'output' : l.kind === 'conv' ? `conv${++conv}` : `linear${++lin}`));
}

/** PyTorch's weight shape of a weighted layer: [out, in, kh, kw] (nn.Conv2d) or [out, in] (nn.Linear) */
function torchWeightShape(l: Weighted): number[] {
  return l.kind === 'conv' ? [l.out, l.inShape[0], l.kernel, l.kernel] : [l.out, l.inShape[0]];
}

const product = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);


/**
 * PyTorch state dict of a CNN: one entry per weighted layer of `resolved`, in order, as Cnn.export()
 * gives them. A conv layer's W (already [out, in, kh, kw]) becomes `convN.weight` as it is; a linear
 * layer's W [dIn, dOut] becomes `<name>.weight` [dOut, dIn] (transposed: nn.Linear stores [out, in]);
 * each b becomes `<name>.bias` [dOut]. Values are copied, bit-exact. Parameters that do not fit the spec
 * (count, sizes, a conv's `shape`) throw RangeError: a programming error, not bad input.
 */
export function cnnStateDict(resolved: readonly ResolvedLayer[], layers: readonly LayerParams[]): Record<string, TorchTensorF32> {
  const weighted = weightedLayers(resolved), names = cnnTorchNames(resolved);
  if (layers.length !== weighted.length) throw new RangeError(`${formatArch(cnnSpecOf(resolved))} has ${weighted.length} weighted layers, got parameters for ${layers.length}`);
  const out: Record<string, TorchTensorF32> = {};
  weighted.forEach((l, k) => {
    const p = layers[k], name = names[k], shape = torchWeightShape(l);
    const dIn = product(shape.slice(1));
    if (p.dIn !== dIn || p.dOut !== l.out) throw new RangeError(`layers.${k} (${name}) is ${p.dIn}→${p.dOut}, the spec's is ${dIn}→${l.out}`);
    if (p.W.length !== dIn * l.out) throw new RangeError(`layers.${k}.W has ${p.W.length} values, ${name}.weight [${shape.join(', ')}] needs ${dIn * l.out}`);
    if (p.b.length !== l.out) throw new RangeError(`layers.${k}.b has ${p.b.length} values, expected ${l.out}`);
    if (l.kind === 'conv') {
      if (p.shape && p.shape.join() !== shape.join()) throw new RangeError(`layers.${k}.W has shape [${p.shape.join(', ')}], ${name}.weight is [${shape.join(', ')}]`);
      out[`${name}.weight`] = { dtype: 'F32', shape, data: Float32Array.from(p.W) };
    } else {
      if (p.shape) throw new RangeError(`layers.${k} is a linear layer (${name}) but has a conv weight shape [${p.shape.join(', ')}]`);
      out[`${name}.weight`] = { dtype: 'F32', shape, data: transpose(p.W, dIn, l.out) };
    }
    out[`${name}.bias`] = { dtype: 'F32', shape: [l.out], data: Float32Array.from(p.b) };
  });
  return out;
}

// wrappers that prefix every key: nn.DataParallel adds `module.`, many training scripts keep the net in `self.model`
const PREFIXES = /^(?:(?:module|model)\.)*/;
function stripPrefixes(key: string): string {
  return key.replace(PREFIXES, '');
}

const CONV_KEY = /^conv[0-9]+\./;
const MLP_KEY = /^(?:linear[1-9][0-9]*|output)\.(?:weight|bias)$/;

/**
 * What a state dict holds: 'cnn' when any key (past `module.` / `model.` prefixes) starts with
 * `conv<digits>.`, else 'mlp' (to be read by fromCnnStateDict or mlp/weights.ts fromTorchStateDict).
 */
export function detectModelKind(tensors: Record<string, SafeTensor>): 'cnn' | 'mlp' {
  return Object.keys(tensors).some((key) => CONV_KEY.test(stripPrefixes(key))) ? 'cnn' : 'mlp';
}

/** a key for a message: quoted, and cut in the middle when long */
const q = (key: string): string => `'${clip(key)}'`;

/** Float32 values of a float tensor (F16/BF16 are decoded to f32 already, F64 is rounded), or undefined for other dtypes. */
function asF32(t: SafeTensor): Float32Array | undefined {
  switch (t.dtype) {
    case 'F32': case 'F16': case 'BF16': return t.data;
    case 'F64': return Float32Array.from(t.data);
    default: return undefined;
  }
}

/** element i of a row-major tensor of `shape` as its index `[a, b, c]` */
function indexText(i: number, shape: readonly number[]): string {
  const idx: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) { idx.unshift(i % shape[d]); i = Math.floor(i / shape[d]); }
  return `[${idx.join(', ')}]`;
}

/**
 * Loads a CNN's layers from a PyTorch state dict (as decoded from safetensors), strictly against the spec
 * it must hold (`resolved`, mlp/arch.ts resolveCnn): exactly the keys of `cnnTorchNames` (`.weight` and
 * `.bias` each), optionally all under `module.` / `model.` prefixes, with exactly the spec's shapes. F64,
 * F16 and BF16 values are converted to f32. Missing or unexpected keys (an MLP's file among them), a key
 * given twice (with and without a prefix), wrong dtypes or shapes and non-finite values throw InputError
 * naming `file` and the key, in one short line that says what the spec expects.
 *
 * @returns one entry per weighted layer, as Cnn.export() gives them: a conv layer's W [out, in, kh, kw]
 *   with its `shape`, dIn = in·kh·kw; a linear layer's W [dIn, dOut] (transposed from [out, in]); fresh arrays.
 */
export function fromCnnStateDict(tensors: Record<string, SafeTensor>, file: string, resolved: readonly ResolvedLayer[]): LayerParams[] {
  function fail(problem: string): never { throw new InputError(file, problem); }
  const weighted = weightedLayers(resolved), names = cnnTorchNames(resolved);
  const arch = `--arch ${clip(formatArch(cnnSpecOf(resolved)), 80)}`;
  const expected = new Set(names.flatMap((n) => [`${n}.weight`, `${n}.bias`]));

  const byName = new Map<string, { key: string; t: SafeTensor }>();
  const unexpected: string[] = [];
  let unexpectedCount = 0, convKeys = 0, mlpKeys = 0;
  for (const [key, t] of Object.entries(tensors)) {
    const name = stripPrefixes(key);
    if (CONV_KEY.test(name)) convKeys++;
    else if (MLP_KEY.test(name)) mlpKeys++;
    if (!expected.has(name)) {
      if (++unexpectedCount <= 4) unexpected.push(clip(key));
      continue;
    }
    const prior = byName.get(name);
    if (prior) fail(`${q(prior.key)} and ${q(key)} are the same parameter`);
    byName.set(name, { key, t });
  }
  const missing = [...expected].filter((n) => !byName.has(n));
  if (missing.length || unexpectedCount) {
    // an MLP's file (linear1.., output and no conv layer): say so rather than list its keys
    if (!convKeys && mlpKeys) fail(`holds an MLP's state dict (no conv layers); ${arch} expects ${listSome(names, names.length)}`);
    const parts: string[] = [];
    if (missing.length) parts.push(`missing ${listSome(missing)}`);
    if (unexpectedCount) parts.push(`unexpected ${listSome(unexpected, unexpectedCount)}`);
    fail(`not the state dict of ${arch}: ${parts.join('; ')}`);
  }

  const values = (name: string, shape: readonly number[], why: string): Float32Array => {
    const { key, t } = byName.get(name)!;
    const v = asF32(t);
    if (!v) fail(`${q(key)} has dtype ${t.dtype}; expected a float type (F32, F64, F16, BF16)`);
    if (t.shape.join() !== shape.join()) fail(`holds ${q(key)} ${shapeText(t.shape, ', ')}; ${arch} expects ${shapeText(shape, ', ')}${why}`);
    if (v.length !== product(shape)) fail(`${q(key)} holds ${v.length} values, its shape ${shapeText(shape, ', ')} needs ${product(shape)}`);
    for (let i = 0; i < v.length; i++) {
      if (Number.isFinite(v[i])) continue;
      const at = `element ${i}${shape.length > 1 ? ` (${indexText(i, shape)})` : ''}`;
      // an F64 value past float32's range becomes ±Infinity here: name the value the file holds
      const held = t.dtype === 'F64' ? t.data[i] : v[i];
      fail(`${q(key)} holds ${held} at ${at}${Number.isFinite(held) ? ", beyond float32's range" : ''}: a model's weights must be finite`);
    }
    return Float32Array.from(v);
  };
  return weighted.map((l, k): LayerParams => {
    const name = names[k], shape = torchWeightShape(l);
    const [c, h, w] = l.kind === 'linear' && l.flatten ? (resolved[resolved.indexOf(l) - 1].outShape as number[]) : [];
    const why = l.kind === 'linear' && l.flatten ? ` (its input: the ${c}×${h}×${w} map, flattened)` : '';
    const weight = values(`${name}.weight`, shape, why);
    const b = values(`${name}.bias`, [l.out], '');
    const dIn = product(shape.slice(1));
    return l.kind === 'conv'
      ? { W: weight, shape, b, dIn, dOut: l.out }
      : { W: transpose(weight, l.out, dIn), b, dIn, dOut: l.out };
  });
}

/** the longest `mlp-lens` metadata tag archFromMetadata reads (64 layers of `conv65536x65536s65536p65536,` fit) */
const MAX_TAG_CHARS = 4096;

/** Default `__metadata__` of a saved CNN: PyTorch's format tag and the spec, `arch=cnn:…` (formatArch). */
export function cnnModelMetadata(resolved: readonly ResolvedLayer[]): Record<string, string> {
  return { format: 'pt', 'mlp-lens': `arch=${formatArch(cnnSpecOf(resolved))}` };
}

/**
 * The architecture a model file's metadata records: `mlp-lens: arch=<spec>` (a CNN's, cnnModelMetadata)
 * or `mlp-lens: hidden=32,16` (an MLP's, mlp/weights.ts modelMetadata). Null when the tag is absent, too
 * long or does not parse (a file from PyTorch has none: tell it by its keys, detectModelKind).
 */
export function archFromMetadata(metadata: Record<string, string>): ArchSpec | null {
  const tag = Object.prototype.hasOwnProperty.call(metadata, 'mlp-lens') ? metadata['mlp-lens'] : undefined;
  if (typeof tag !== 'string' || tag.length > MAX_TAG_CHARS) return null;
  const m = /^\s*(arch|hidden)=(.*)$/s.exec(tag);
  if (!m) return null;
  try {
    return parseArch(m[1] === 'arch' ? m[2] : `mlp:${m[2]}`);
  } catch {
    return null;
  }
}

/**
 * The safetensors bytes of a CNN (the pure counterpart of run/model-files.ts saveCnnModelFile). Metadata
 * is cnnModelMetadata(resolved) overridden by `metadata`. Throws RangeError when the parameters do not
 * fit the spec, or when the metadata would make a header decodeCnnModel refuses.
 */
export function encodeCnnModel(resolved: readonly ResolvedLayer[], layers: readonly LayerParams[], metadata?: Record<string, string>): Uint8Array {
  const bytes = encodeSafetensors(cnnStateDict(resolved, layers), { ...cnnModelMetadata(resolved), ...metadata });
  const header = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (header > BigInt(MAX_CNN_MODEL_HEADER_BYTES)) throw new RangeError(`the header would be ${header} bytes, more than the ${MAX_CNN_MODEL_HEADER_BYTES} a model file may have (too much metadata)`);
  return bytes;
}

/**
 * A CNN from safetensors bytes already in memory (e.g. a browser upload), read against the spec it must
 * hold: the header is held to CNN_MODEL_LIMITS before it is parsed, then fromCnnStateDict checks every
 * tensor. A file whose metadata records a different spec (cnnModelMetadata) is refused too, even where the
 * shapes agree: strides, paddings and pools are not in the tensors.
 */
export function decodeCnnModel(bytes: Uint8Array, file: string, resolved: readonly ResolvedLayer[]): { layers: LayerParams[]; metadata: Record<string, string> } {
  const { tensors, metadata } = decodeSafetensors(bytes, file, CNN_MODEL_LIMITS);
  const layers = fromCnnStateDict(tensors, file, resolved);
  const saved = archFromMetadata(metadata), want = formatArch(cnnSpecOf(resolved));
  if (saved && formatArch(saved) !== want) {
    throw new InputError(file, `was saved from --arch ${clip(formatArch(saved), 80)} (its metadata), not --arch ${clip(want, 80)}`);
  }
  return { layers, metadata };
}
