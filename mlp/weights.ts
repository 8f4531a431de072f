/**
 * Weight import/export between mlp-lens parameters and the reference notebooks' PyTorch `MLP`
 * class, through safetensors files that `safetensors.torch.load_file` + `load_state_dict` accept.
 */
import { InputError } from './errors.ts';
import {
  decodeSafetensors, encodeSafetensors, readSafetensorsFile, writeSafetensorsFile, type SafeTensor,
} from './safetensors.ts';

/** One dense layer of mlp-lens: y = x·W + b. */
export interface LayerParams {
  /** [dIn, dOut], row-major */
  W: Float32Array;
  /** [dOut] */
  b: Float32Array;
  dIn: number;
  dOut: number;
}

/** A float32 tensor of a PyTorch state dict. */
export interface TorchTensorF32 { dtype: 'F32'; shape: number[]; data: Float32Array }

/**
 * PyTorch module name of mlp-lens layer `k` of `count` layers: hidden layers are `linear1` ..
 * `linearH` (H = count − 1), the last layer is `output`. For the reference 784-32-16-10 model:
 * layers.0 → `linear1` (nn.Linear(784, 32)), layers.1 → `linear2` (nn.Linear(32, 16)),
 * layers.2 → `output` (nn.Linear(16, 10)).
 */
export function torchLayerName(k: number, count: number): string {
  return k === count - 1 ? 'output' : `linear${k + 1}`;
}

function checkLayers(layers: readonly LayerParams[]): void {
  if (layers.length === 0) throw new RangeError('a model needs at least one layer');
  layers.forEach((l, k) => {
    if (!(Number.isSafeInteger(l.dIn) && l.dIn > 0 && Number.isSafeInteger(l.dOut) && l.dOut > 0)) {
      throw new RangeError(`layers.${k}: bad size ${l.dIn}→${l.dOut}`);
    }
    if (l.W.length !== l.dIn * l.dOut) throw new RangeError(`layers.${k}.W has ${l.W.length} values, [${l.dIn}, ${l.dOut}] needs ${l.dIn * l.dOut}`);
    if (l.b.length !== l.dOut) throw new RangeError(`layers.${k}.b has ${l.b.length} values, expected ${l.dOut}`);
    if (k > 0 && layers[k - 1].dOut !== l.dIn) {
      throw new RangeError(`layers.${k - 1} outputs ${layers[k - 1].dOut} values but layers.${k} takes ${l.dIn}`);
    }
  });
}

/** Transposes a row-major [rows, cols] matrix into a fresh row-major [cols, rows] one. */
function transpose(src: ArrayLike<number>, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[c * rows + r] = src[r * cols + c];
  }
  return out;
}

/**
 * PyTorch state dict of an mlp-lens model. Layer k with W [dIn, dOut] and b [dOut] becomes
 * `<name>.weight` [dOut, dIn] (W transposed: nn.Linear stores [out, in]) and `<name>.bias` [dOut],
 * with `<name>` from `torchLayerName` (`linear1`.. for hidden layers, `output` for the last).
 * Values are copied, bit-exact.
 */
export function torchStateDict(layers: readonly LayerParams[]): Record<string, TorchTensorF32> {
  checkLayers(layers);
  const out: Record<string, TorchTensorF32> = {};
  layers.forEach((l, k) => {
    const name = torchLayerName(k, layers.length);
    out[`${name}.weight`] = { dtype: 'F32', shape: [l.dOut, l.dIn], data: transpose(l.W, l.dIn, l.dOut) };
    out[`${name}.bias`] = { dtype: 'F32', shape: [l.dOut], data: Float32Array.from(l.b) };
  });
  return out;
}

const LAYER_KEY = /^(?:linear([1-9][0-9]*)|output)\.(weight|bias)$/;

// wrappers that prefix every key: nn.DataParallel adds `module.`, many training scripts keep the net in `self.model`
function stripPrefixes(key: string): string {
  let k = key;
  while (k.startsWith('module.') || k.startsWith('model.')) k = k.slice(k.indexOf('.') + 1);
  return k;
}

/** Float32 copy of a float tensor's values, or undefined for other dtypes. */
function asF32(t: SafeTensor): Float32Array | undefined {
  switch (t.dtype) {
    case 'F32': case 'F16': case 'BF16': return t.data;
    case 'F64': return Float32Array.from(t.data);
    default: return undefined;
  }
}

/**
 * mlp-lens layers from a PyTorch state dict (as decoded from safetensors). Expects exactly
 * `linear1..linearH.{weight,bias}` and `output.{weight,bias}` (see `torchLayerName`), optionally all
 * under `module.` / `model.` prefixes; weights [out, in] are transposed to W [in, out]. F64, F16
 * and BF16 values are converted to f32. Missing or unexpected keys, wrong ranks, dtypes or sizes,
 * and a broken chain (layer k's out ≠ layer k+1's in) throw InputError naming `file` and the key.
 *
 * @returns layers in model order, each W [dIn, dOut] and b [dOut] (fresh arrays).
 */
export function fromTorchStateDict(tensors: Record<string, SafeTensor>, file: string): LayerParams[] {
  function fail(problem: string): never { throw new InputError(file, problem); }
  const byName = new Map<string, { key: string; t: SafeTensor }>();
  const unexpected: string[] = [];
  let hidden = 0;
  for (const [key, t] of Object.entries(tensors)) {
    const name = stripPrefixes(key);
    const m = LAYER_KEY.exec(name);
    if (!m) { unexpected.push(key); continue; }
    const prior = byName.get(name);
    if (prior) fail(`'${prior.key}' and '${key}' are the same parameter`);
    byName.set(name, { key, t });
    if (m[1] !== undefined) hidden = Math.max(hidden, Number(m[1]));
  }
  const names: string[] = [];
  for (let k = 0; k <= hidden; k++) names.push(torchLayerName(k, hidden + 1));
  const missing = names.flatMap((n) => [`${n}.weight`, `${n}.bias`]).filter((k) => !byName.has(k));
  if (unexpected.length || missing.length) {
    const parts: string[] = [];
    if (missing.length) parts.push(`missing ${missing.join(', ')}`);
    if (unexpected.length) parts.push(`unexpected ${unexpected.join(', ')}`);
    fail(`not an MLP state dict (linear1..linearH, output): ${parts.join('; ')}`);
  }

  const layers: LayerParams[] = [];
  for (const [k, name] of names.entries()) {
    const w = byName.get(`${name}.weight`)!, b = byName.get(`${name}.bias`)!;
    const wv = asF32(w.t), bv = asF32(b.t);
    if (!wv) fail(`'${w.key}' has dtype ${w.t.dtype}, expected a float type (F32, F64, F16, BF16)`);
    if (!bv) fail(`'${b.key}' has dtype ${b.t.dtype}, expected a float type (F32, F64, F16, BF16)`);
    const ws = w.t.shape, bs = b.t.shape;
    if (ws.length !== 2 || ws[0] === 0 || ws[1] === 0) fail(`'${w.key}' has shape [${ws}], expected [out, in] with both > 0`);
    if (bs.length !== 1) fail(`'${b.key}' has shape [${bs}], expected [${ws[0]}]`);
    const [dOut, dIn] = ws;
    if (bs[0] !== dOut) fail(`'${b.key}' has shape [${bs}] but '${w.key}' [${ws}] has ${dOut} outputs`);
    if (wv.length !== dOut * dIn || bv.length !== dOut) fail(`'${w.key}' or '${b.key}' holds a wrong number of values`);
    const prev = layers[k - 1];
    if (prev && prev.dOut !== dIn) {
      const pk = byName.get(`${names[k - 1]}.weight`)!.key;
      fail(`'${pk}' [${prev.dOut}, ${prev.dIn}] outputs ${prev.dOut} values but '${w.key}' [${ws}] takes ${dIn}`);
    }
    layers.push({ W: transpose(wv, dOut, dIn), b: Float32Array.from(bv), dIn, dOut });
  }
  return layers;
}

/** Default `__metadata__` of a saved model: PyTorch's format tag and the hidden sizes. */
export function modelMetadata(layers: readonly LayerParams[]): Record<string, string> {
  return { format: 'pt', 'mlp-lens': `hidden=${layers.slice(0, -1).map((l) => l.dOut).join(',')}` };
}

/**
 * Saves layers as a safetensors file loadable by PyTorch (`load_state_dict` of the notebooks' MLP
 * for 784-32-16-10), atomically. Metadata is `modelMetadata(layers)` overridden by `metadata`.
 */
export async function saveModelFile(
  path: string, layers: readonly LayerParams[], metadata?: Record<string, string>,
): Promise<void> {
  await writeSafetensorsFile(path, encodeModel(layers, metadata));
}

/** Loads a model saved by `saveModelFile` (or by PyTorch's `safetensors.torch.save_file(model.state_dict())`). */
export async function loadModelFile(path: string): Promise<{ layers: LayerParams[]; metadata: Record<string, string> }> {
  const { tensors, metadata } = await readSafetensorsFile(path);
  return { layers: fromTorchStateDict(tensors, path), metadata };
}

/** Pure counterpart of `loadModelFile`, for bytes already in memory (e.g. a browser upload). */
export function decodeModel(bytes: Uint8Array, file: string): { layers: LayerParams[]; metadata: Record<string, string> } {
  const { tensors, metadata } = decodeSafetensors(bytes, file);
  return { layers: fromTorchStateDict(tensors, file), metadata };
}

/** Pure counterpart of `saveModelFile`: the safetensors bytes of a model. */
export function encodeModel(layers: readonly LayerParams[], metadata?: Record<string, string>): Uint8Array {
  return encodeSafetensors(torchStateDict(layers), { ...modelMetadata(layers), ...metadata });
}
