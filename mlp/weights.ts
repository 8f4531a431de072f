/**
 * Weight import/export between mlp-lens parameters and the reference notebooks' PyTorch `MLP`
 * class, through safetensors files that `safetensors.torch.load_file` + `load_state_dict` accept.
 * Pure (bytes in and out); saving and loading the files is run/model-files.ts.
 */
import { clip, InputError, listSome } from './errors.ts';
import { decodeSafetensors, encodeSafetensors, shapeText, type DecodeLimits, type SafeTensor, type TensorInput } from './safetensors.ts';

/**
 * The most hidden layers a model may have: one limit for everything that makes or reads one. The
 * command line refuses a deeper model before training; torchStateDict, encodeCheckpoint and the
 * readers of model files and checkpoints refuse one too, so whatever a run writes it can read back.
 * It bounds the loops and names a file can make us build, far above the notebooks' 1 to 4 hidden layers.
 */
export const MAX_HIDDEN_LAYERS = 64;

// ceilings for model files (--init, --analyze, the page's upload), checked before the header is parsed

/** The most tensors a model file holds: each layer's weight and bias, and up to 5 normalisation tensors per hidden layer (450). */
export const MAX_MODEL_TENSORS = 2 * (MAX_HIDDEN_LAYERS + 1) + 5 * MAX_HIDDEN_LAYERS;
/**
 * The largest header of a model file: 1 MiB, ~20× what the largest model needs (about 40 KB of tensor
 * entries and a small metadata map). Parsing JSON can cost ~30× its bytes: this keeps a hostile header to tens of MB.
 */
export const MAX_MODEL_HEADER_BYTES = 2 ** 20;
const MODEL_LIMITS: DecodeLimits = { maxHeaderBytes: MAX_MODEL_HEADER_BYTES, maxTensors: MAX_MODEL_TENSORS };

/**
 * One weighted layer of mlp-lens: a dense layer y = x·W + b, or (with `shape`) a CNN's convolution
 * (mlp/cnn.ts), whose W is [out, in, kh, kw] in PyTorch's layout, dIn = in·kh·kw and dOut = out.
 */
export interface LayerParams {
  /** [dIn, dOut], row-major; a conv layer's: `shape` */
  W: Float32Array;
  /** a conv layer's weight shape [out, in, kh, kw]; absent for a dense layer */
  shape?: number[];
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
  if (layers.length > MAX_HIDDEN_LAYERS + 1) throw new RangeError(`a model has at most ${MAX_HIDDEN_LAYERS} hidden layers, this one has ${layers.length - 1}`);
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
export function transpose(src: ArrayLike<number>, rows: number, cols: number): Float32Array {
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
const PREFIXES = /^(?:(?:module|model)\.)*/;
function stripPrefixes(key: string): string {
  return key.replace(PREFIXES, '');
}

/** a key for a message: quoted, and cut in the middle when long (a file may name a tensor with a megabyte of digits) */
const q = (key: string): string => `'${clip(key)}'`;

/** the first non-finite value of `v` as `'key' holds NaN at element i ([r, c])`, or undefined when all are finite */
function nonFinite(v: Float32Array, key: string, shape: readonly number[]): string | undefined {
  for (let i = 0; i < v.length; i++) {
    if (Number.isFinite(v[i])) continue;
    const at = shape.length === 2 ? ` ([${Math.floor(i / shape[1])}, ${i % shape[1]}])` : '';
    return `${q(key)} holds ${v[i]} at element ${i}${at}: a model's weights must be finite`;
  }
  return undefined;
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
 * non-finite values, more than MAX_HIDDEN_LAYERS hidden layers, and a broken chain (layer k's out ≠
 * layer k+1's in) throw InputError naming `file` and the key, in one short line.
 *
 * The number of layers comes from the tensors present, never from the numbers in their names: a file
 * naming `linear999999999999.weight` is missing layers, reported as a count, not a list built to it.
 *
 * @returns layers in model order, each W [dIn, dOut] and b [dOut] (fresh arrays).
 */
export function fromTorchStateDict(tensors: Record<string, SafeTensor>, file: string): LayerParams[] {
  function fail(problem: string): never { throw new InputError(file, problem); }
  const byName = new Map<string, { key: string; t: SafeTensor }>();
  const unexpected: string[] = [];
  let unexpectedCount = 0;
  const hiddenSeen = new Set<string>();
  // the largest number in a hidden layer's name, as its digits (a name may carry a megabyte of them)
  let top = '0';
  for (const [key, t] of Object.entries(tensors)) {
    const name = stripPrefixes(key);
    const m = LAYER_KEY.exec(name);
    if (!m) {
      if (++unexpectedCount <= 4) unexpected.push(clip(key));
      continue;
    }
    const prior = byName.get(name);
    if (prior) fail(`${q(prior.key)} and ${q(key)} are the same parameter`);
    byName.set(name, { key, t });
    if (m[1] !== undefined) {
      hiddenSeen.add(m[1]);
      if (m[1].length > top.length || (m[1].length === top.length && m[1] > top)) top = m[1];
    }
  }
  // a model with `top` hidden layers needs linear1..linearTop: with only `hidden` distinct numbers
  // present, top > hidden means some are missing, counted without building their names
  const hidden = hiddenSeen.size;
  const claimed = top.length > 15 ? Infinity : Number(top);
  const missing: string[] = [];
  const need = (name: string) => { if (missing.length < 4 && !byName.has(name)) missing.push(name); };
  for (let k = 1; k <= Math.min(claimed, hidden + 4); k++) { need(`linear${k}.weight`); need(`linear${k}.bias`); }
  need('output.weight');
  need('output.bias');
  // every key in byName is one of the 2·claimed + 2 names of that model
  const missingCount = claimed === Infinity ? Infinity : 2 * claimed + 2 - byName.size;
  if (unexpectedCount || missingCount) {
    const parts: string[] = [];
    if (missingCount) {
      const beyond = claimed > hidden ? ` (the file names ${q(`linear${top}`)} but holds ${hidden} hidden layer${hidden === 1 ? '' : 's'})` : '';
      parts.push(`missing ${listSome(missing, missingCount)}${beyond}`);
    }
    if (unexpectedCount) parts.push(`unexpected ${listSome(unexpected, unexpectedCount)}`);
    fail(`not an MLP state dict (linear1..linearH, output): ${parts.join('; ')}`);
  }
  if (hidden > MAX_HIDDEN_LAYERS) fail(`holds ${hidden} hidden layers; mlp-lens takes at most ${MAX_HIDDEN_LAYERS}`);
  const names: string[] = [];
  for (let k = 0; k <= hidden; k++) names.push(torchLayerName(k, hidden + 1));

  const layers: LayerParams[] = [];
  for (const [k, name] of names.entries()) {
    const w = byName.get(`${name}.weight`)!, b = byName.get(`${name}.bias`)!;
    const wv = asF32(w.t), bv = asF32(b.t);
    if (!wv) fail(`${q(w.key)} has dtype ${w.t.dtype}, expected a float type (F32, F64, F16, BF16)`);
    if (!bv) fail(`${q(b.key)} has dtype ${b.t.dtype}, expected a float type (F32, F64, F16, BF16)`);
    const ws = w.t.shape, bs = b.t.shape;
    if (ws.length !== 2 || ws[0] === 0 || ws[1] === 0) fail(`${q(w.key)} has shape ${shapeText(ws)}, expected [out, in] with both > 0`);
    if (bs.length !== 1) fail(`${q(b.key)} has shape ${shapeText(bs)}, expected [${ws[0]}]`);
    const [dOut, dIn] = ws;
    if (bs[0] !== dOut) fail(`${q(b.key)} has shape ${shapeText(bs)} but ${q(w.key)} [${ws}] has ${dOut} outputs`);
    if (wv.length !== dOut * dIn || bv.length !== dOut) fail(`${q(w.key)} or ${q(b.key)} holds a wrong number of values`);
    const prev = layers[k - 1];
    if (prev && prev.dOut !== dIn) {
      const pk = byName.get(`${names[k - 1]}.weight`)!.key;
      fail(`${q(pk)} [${prev.dOut}, ${prev.dIn}] outputs ${prev.dOut} values but ${q(w.key)} [${ws}] takes ${dIn}`);
    }
    const bad = nonFinite(wv, w.key, ws) ?? nonFinite(bv, b.key, bs);
    if (bad) fail(bad);
    layers.push({ W: transpose(wv, dOut, dIn), b: Float32Array.from(bv), dIn, dOut });
  }
  return layers;
}

/** Default `__metadata__` of a saved model: PyTorch's format tag and the hidden sizes. */
export function modelMetadata(layers: readonly LayerParams[]): Record<string, string> {
  return { format: 'pt', 'mlp-lens': `hidden=${layers.slice(0, -1).map((l) => l.dOut).join(',')}` };
}

/**
 * A model from safetensors bytes already in memory (e.g. a browser upload): the pure counterpart of
 * run/model-files.ts loadModelFile. The header is held to MAX_MODEL_HEADER_BYTES and MAX_MODEL_TENSORS
 * before it is parsed; non-finite weights are refused (fromTorchStateDict).
 */
export function decodeModel(bytes: Uint8Array, file: string): { layers: LayerParams[]; metadata: Record<string, string> } {
  const { tensors, metadata } = decodeSafetensors(bytes, file, MODEL_LIMITS);
  return { layers: fromTorchStateDict(tensors, file), metadata };
}

/** The safetensors bytes of a model (the pure counterpart of run/model-files.ts's `saveModelFile`). */
export function encodeModel(layers: readonly LayerParams[], metadata?: Record<string, string>): Uint8Array {
  return encodeSafetensors(torchStateDict(layers), { ...modelMetadata(layers), ...metadata });
}

// --- normalisation layers (mlp/norm.ts): LayerNorm and BatchNorm1d parameters and running statistics

/** The parameters (and, for BatchNorm, the running statistics) of hidden layer `layer`'s normalisation. */
export interface NormParams {
  kind: 'layernorm' | 'batchnorm';
  /** hidden layer index K (the layer of `layers.K.norm`) */
  layer: number;
  /** [d] affine weight (γ) and bias (β) */
  weight: Float32Array;
  bias: Float32Array;
  /** batchnorm: [d] running mean and running (unbiased) variance, and the batches seen */
  runningMean?: Float32Array;
  runningVar?: Float32Array;
  numBatchesTracked?: number;
}

/**
 * PyTorch attribute name of the normalisation of hidden layer K, numbered like `linearK+1`: `ln1`,
 * `ln2`, … for nn.LayerNorm and `bn1`, `bn2`, … for nn.BatchNorm1d (a model class with
 * `self.ln1 = nn.LayerNorm(32)` next to `self.linear1 = nn.Linear(784, 32)`; dropout has no state).
 */
export function torchNormName(kind: NormParams['kind'], layer: number): string {
  return `${kind === 'layernorm' ? 'ln' : 'bn'}${layer + 1}`;
}

/**
 * The state-dict entries of normalisation layers: `lnK.weight`, `lnK.bias` (F32 [d]); `bnK.weight`,
 * `bnK.bias`, `bnK.running_mean`, `bnK.running_var` (F32 [d]) and `bnK.num_batches_tracked` (I64, shape
 * [], as torch saves it).
 */
export function normStateDict(norms: readonly NormParams[]): Record<string, TensorInput> {
  const out: Record<string, TensorInput> = {};
  for (const n of norms) {
    const name = torchNormName(n.kind, n.layer), d = n.weight.length;
    if (n.bias.length !== d) throw new RangeError(`${name}: weight has ${d} values, bias ${n.bias.length}`);
    out[`${name}.weight`] = { dtype: 'F32', shape: [d], data: Float32Array.from(n.weight) };
    out[`${name}.bias`] = { dtype: 'F32', shape: [d], data: Float32Array.from(n.bias) };
    if (n.kind === 'batchnorm') {
      if (n.runningMean?.length !== d || n.runningVar?.length !== d) throw new RangeError(`${name}: running statistics must have ${d} values`);
      out[`${name}.running_mean`] = { dtype: 'F32', shape: [d], data: Float32Array.from(n.runningMean) };
      out[`${name}.running_var`] = { dtype: 'F32', shape: [d], data: Float32Array.from(n.runningVar) };
      out[`${name}.num_batches_tracked`] = { dtype: 'I64', shape: [], data: BigInt64Array.of(BigInt(n.numBatchesTracked ?? 0)) };
    }
  }
  return out;
}

const NORM_KEY = /^(ln|bn)([1-9][0-9]*)\.(weight|bias|running_mean|running_var|num_batches_tracked)$/;

/**
 * Splits a state dict into its linear layers (for fromTorchStateDict) and its normalisation layers
 * (`lnK.*`, `bnK.*`, optionally under `module.` / `model.`). Checks dtypes, shapes, that each layer has
 * its keys (LayerNorm: weight, bias; BatchNorm: those, running_mean and running_var; num_batches_tracked
 * optional, default 0) and that sizes match the linear layer they follow; throws InputError naming `file`.
 */
export function fromTorchStateDictWithNorm(
  tensors: Record<string, SafeTensor>, file: string,
): { layers: LayerParams[]; norms: NormParams[] } {
  function fail(problem: string): never { throw new InputError(file, problem); }
  const linear: [string, SafeTensor][] = [];
  const found = new Map<string, Map<string, { key: string; t: SafeTensor }>>(); // lnK / bnK → field → tensor
  for (const [key, t] of Object.entries(tensors)) {
    const m = NORM_KEY.exec(stripPrefixes(key));
    if (!m) { linear.push([key, t]); continue; }
    const name = `${m[1]}${m[2]}`;
    if (!found.has(name)) found.set(name, new Map());
    if (found.get(name)!.has(m[3])) fail(`${q(key)} repeats ${clip(name)}.${m[3]}`);
    found.get(name)!.set(m[3], { key, t });
  }
  // (Object.fromEntries keeps a key like `__proto__` as an own property)
  const layers = fromTorchStateDict(Object.fromEntries(linear), file);
  const norms: NormParams[] = [];
  for (const [name, fields] of [...found.entries()].sort()) {
    const kind = name.startsWith('ln') ? 'layernorm' : 'batchnorm';
    // a number too long to convert exactly is past every layer (Infinity)
    const layer = Number(name.slice(2)) - 1;
    if (layer >= layers.length - 1) fail(`${q(name)} normalises hidden layer ${name.slice(2).length > 15 ? clip(name.slice(2), 20) : layer + 1}, but the model has ${layers.length - 1} hidden layer${layers.length === 2 ? '' : 's'}`);
    if (norms.some((n) => n.layer === layer)) fail(`hidden layer ${layer + 1} has both ln${layer + 1} and bn${layer + 1}`);
    const d = layers[layer].dOut;
    const need = kind === 'layernorm' ? ['weight', 'bias'] : ['weight', 'bias', 'running_mean', 'running_var'];
    const missing = need.filter((f) => !fields.has(f));
    if (missing.length) fail(`'${name}' lacks ${missing.map((f) => `${name}.${f}`).join(', ')}`);
    if (kind === 'layernorm' && fields.size > 2) fail(`'${name}' is a LayerNorm and has no ${[...fields.keys()].filter((f) => !need.includes(f)).join(', ')}`);
    const vec = (f: string): Float32Array => {
      const { key, t } = fields.get(f)!;
      const v = asF32(t);
      if (!v) fail(`${q(key)} has dtype ${t.dtype}, expected a float type`);
      if (t.shape.length !== 1 || t.shape[0] !== d) fail(`${q(key)} has shape ${shapeText(t.shape)}, expected [${d}] (the width of linear${layer + 1})`);
      const bad = nonFinite(v, key, t.shape);
      if (bad) fail(bad);
      return Float32Array.from(v);
    };
    const n: NormParams = { kind, layer, weight: vec('weight'), bias: vec('bias') };
    if (kind === 'batchnorm') {
      n.runningMean = vec('running_mean');
      n.runningVar = vec('running_var');
      const nb = fields.get('num_batches_tracked');
      n.numBatchesTracked = 0;
      if (nb) {
        if (nb.t.dtype !== 'I64' || nb.t.data.length !== 1) fail(`${q(nb.key)} must be one I64 value, got ${nb.t.dtype} ${shapeText(nb.t.shape)}`);
        n.numBatchesTracked = Number((nb.t.data as BigInt64Array)[0]);
      }
    }
    norms.push(n);
  }
  return { layers, norms: norms.sort((a, b) => a.layer - b.layer) };
}

/** The safetensors bytes of a model with normalisation layers (metadata as encodeModel, overridden by `metadata`). */
export function encodeModelWithNorm(
  layers: readonly LayerParams[], norms: readonly NormParams[], metadata?: Record<string, string>,
): Uint8Array {
  return encodeSafetensors({ ...torchStateDict(layers), ...normStateDict(norms) }, { ...modelMetadata(layers), ...metadata });
}

/** Pure counterpart of run/model-files.ts's loadModelFileWithNorm (limits and checks as decodeModel). */
export function decodeModelWithNorm(bytes: Uint8Array, file: string): { layers: LayerParams[]; norms: NormParams[]; metadata: Record<string, string> } {
  const { tensors, metadata } = decodeSafetensors(bytes, file, MODEL_LIMITS);
  return { ...fromTorchStateDictWithNorm(tensors, file), metadata };
}
