// the checkpoint of a run: everything needed to continue it bit for bit (the weights, the SGD momentum
// buffers, the generator's state, the epoch reached and the metrics so far), in one safetensors file
// written atomically at the end of every epoch, so a run killed at any moment keeps the last complete
// epoch. Reading validates everything: a damaged or foreign file is an InputError naming the problem.
//
// checkpoint.safetensors:
//   tensors   layers.K.W F32 [d_in, d_out], layers.K.b F32 [d_out]   (mlp-lens layout, not PyTorch's)
//             velocity.layers.K.W / .b F32, same shapes               (only where SGD has a momentum buffer)
//             rng.state U32 [625] (torch: 624 MT19937 words + index) or [4] (mlp-lens: xoshiro128**)
//   metadata  format "mlp-lens/checkpoint", version "1", epoch (the last completed one, 0-based),
//             rng (kind), run (JSON: the options that must match config.json), history (JSON: one
//             EpochMetrics per completed epoch), crc32 (of the metadata above and every tensor)
//
// this module is pure (bytes and objects in and out); reading and writing the files is run/checkpoint-files.ts.
import { crc32 } from './crc32.ts';
import { createRng, type RngKind } from '../engine/rng.ts';
import { clip, InputError } from './errors.ts';
import { decodeSafetensors, encodeSafetensors, shapeText, type SafeTensor, type TensorInput } from './safetensors.ts';
import type { EpochMetrics } from './train.ts';
import { MAX_HIDDEN_LAYERS, type LayerParams } from './weights.ts';
import { ArchError, cnnParamShapes, parseArch, resolveCnn, type ResolvedLayer } from './arch.ts';

export const CHECKPOINT_FORMAT = 'mlp-lens/checkpoint';
const VERSION = '1';

const RNG_KINDS: readonly RngKind[] = ['torch', 'mlp-lens'];

/**
 * The most tensors a checkpoint holds: W, b and their momentum buffers for each of at most
 * MAX_HIDDEN_LAYERS + 1 layers, and rng.state. A header naming more is refused before it is parsed.
 */
const MAX_CHECKPOINT_TENSORS = 4 * (MAX_HIDDEN_LAYERS + 1) + 1;
const DEVICE_OPTIONS = ['auto', 'cpu', 'webgpu'] as const;

/** the options of a run that a checkpoint must agree with (and that fix its bit-exact continuation) */
export interface RunIdentity {
  /** the MLP's layer sizes, input to classes; a CNN's [pixels, classes] */
  sizes: number[];
  /** a CNN run's architecture (mlp/arch.ts formatArch) and input map [C, H, W]; absent for an MLP */
  arch?: string;
  inputShape?: number[];
  epochs: number;
  batch: number;
  lr: number;
  momentum: number;
  weightDecay: number;
  seed: number;
  rng: RngKind;
  shuffle: boolean;
  /** --steps, or null for whole epochs */
  steps: number | null;
  trainCount: number;
}

export interface Checkpoint {
  /** the last completed epoch (0-based): a resumed run starts at epoch + 1 */
  epoch: number;
  /** the weights after that epoch, W [d_in, d_out] */
  layers: LayerParams[];
  /** SGD momentum buffers, one per parameter (layers.0.W, layers.0.b, layers.1.W, …); null where there is none */
  velocity: (Float32Array | null)[];
  /** the generator's state after that epoch (Rng.state()) */
  rng: { kind: RngKind; state: Uint32Array };
  /** metrics of epochs 0..epoch */
  history: EpochMetrics[];
  run: RunIdentity;
}

// CRC-32 over a sequence of chunks (mlp/crc32.ts), so the format stays readable in a browser
function crcOf(chunks: Iterable<Uint8Array>): number {
  let c = 0;
  for (const bytes of chunks) c = crc32(bytes, c);
  return c;
}

/** the checksum: metadata entries (sorted, without the checksum) then every tensor by name: name, dtype, shape, values */
export function checksum(metadata: Record<string, string>, tensors: Record<string, { dtype: string; shape: readonly number[]; data: ArrayBufferView }>): string {
  const enc = new TextEncoder();
  function* chunks(): Generator<Uint8Array> {
    for (const k of Object.keys(metadata).sort()) if (k !== 'crc32') yield enc.encode(`${k}=${metadata[k]}\n`);
    for (const name of Object.keys(tensors).sort()) {
      const t = tensors[name];
      yield enc.encode(`${name}:${t.dtype}[${t.shape.join(',')}]\n`);
      yield new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    }
  }
  return crcOf(chunks()).toString(16).padStart(8, '0');
}

const paramNames = (layers: number): string[] =>
  Array.from({ length: layers }, (_, k) => [`layers.${k}.W`, `layers.${k}.b`]).flat();

// NaN (never in a good epoch's metrics, but a run's data may lack a class) is written as null
const toJson = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'number' && !Number.isFinite(x) ? null : x));

/** the bytes of checkpoint.safetensors */
export function encodeCheckpoint(c: Checkpoint): Uint8Array {
  // the reader's limit (validateRunIdentity): never write what --resume would refuse
  if (c.layers.length > MAX_HIDDEN_LAYERS + 1) throw new RangeError(`checkpoint: a model has at most ${MAX_HIDDEN_LAYERS} hidden layers, this one has ${c.layers.length - 1}`);
  const tensors: Record<string, TensorInput> = {};
  c.layers.forEach((l, k) => {
    tensors[`layers.${k}.W`] = { dtype: 'F32', shape: l.shape ?? [l.dIn, l.dOut], data: l.W };
    tensors[`layers.${k}.b`] = { dtype: 'F32', shape: [l.dOut], data: l.b };
  });
  const names = paramNames(c.layers.length);
  if (c.velocity.length !== names.length) throw new RangeError(`checkpoint: ${c.velocity.length} momentum buffers for ${names.length} parameters`);
  c.velocity.forEach((v, i) => {
    if (v) tensors[`velocity.${names[i]}`] = { dtype: 'F32', shape: tensors[names[i]].shape, data: v };
  });
  tensors['rng.state'] = { dtype: 'U32', shape: [c.rng.state.length], data: c.rng.state };
  const metadata: Record<string, string> = {
    format: CHECKPOINT_FORMAT, version: VERSION, epoch: String(c.epoch), rng: c.rng.kind,
    run: toJson(c.run), history: toJson(c.history),
  };
  metadata.crc32 = checksum(metadata, tensors as Record<string, { dtype: string; shape: readonly number[]; data: ArrayBufferView }>);
  return encodeSafetensors(tensors, metadata);
}

// --- validation helpers: the first problem, with where it is

class Check {
  constructor(readonly file: string, readonly where: string) {}
  fail(path: string, problem: string): never { throw new InputError(this.file, `${this.where}${path}: ${problem}`); }
  obj(v: unknown, path: string): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(path, `expected an object, got ${brief(v)}`);
    return v as Record<string, unknown>;
  }
  num(v: unknown, path: string, min = -Infinity, strict = false): number {
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(path, `expected a finite number, got ${brief(v)}`);
    if (v < min || (strict && v === min)) this.fail(path, `expected a number ${strict ? '>' : '≥'} ${min}, got ${v}`);
    return v;
  }
  /** a number, or null standing for NaN */
  numOrNaN(v: unknown, path: string): number {
    if (v === null) return NaN;
    if (typeof v !== 'number') this.fail(path, `expected a number, got ${brief(v)}`);
    return v;
  }
  int(v: unknown, path: string, min = 0): number {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) this.fail(path, `expected a whole number ≥ ${min}, got ${brief(v)}`);
    return v;
  }
  bool(v: unknown, path: string): boolean {
    if (typeof v !== 'boolean') this.fail(path, `expected true or false, got ${brief(v)}`);
    return v;
  }
  str(v: unknown, path: string): string {
    if (typeof v !== 'string') this.fail(path, `expected a string, got ${brief(v)}`);
    return v;
  }
  oneOf<T extends string>(v: unknown, path: string, allowed: readonly T[]): T {
    if (typeof v !== 'string' || !allowed.includes(v as T)) this.fail(path, `expected one of ${allowed.join(', ')}, got ${brief(v)}`);
    return v as T;
  }
  sizes(v: unknown, path: string): number[] {
    // the input, up to MAX_HIDDEN_LAYERS hidden layers and the classes
    const most = MAX_HIDDEN_LAYERS + 2;
    if (!Array.isArray(v) || v.length < 2 || v.length > most) this.fail(path, `expected 2 to ${most} layer sizes (at most ${MAX_HIDDEN_LAYERS} hidden layers), got ${brief(v)}`);
    return (v as unknown[]).map((d, i) => this.int(d, `${path}[${i}]`, 1));
  }
}

function brief(v: unknown): string {
  let s: string | undefined;
  // a value nested too deeply for JSON.stringify (stack overflow) is described by its kind alone
  try { s = JSON.stringify(v); } catch { s = Array.isArray(v) ? 'a deeply nested array' : 'a deeply nested object'; }
  s ??= typeof v;
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function parseJson(text: string, file: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    // the parser quotes the text around the problem: keep the message on one line
    const reason = (e as Error).message.replace(/[\u0000-\u001f\u007f]+/g, ' ');
    throw new InputError(file, `${what} is not valid JSON (${reason}); the file is damaged or was cut short`);
  }
}

/** checks the run identity stored in a checkpoint (or built from config.json) */
export function validateRunIdentity(v: unknown, file: string, where = ''): RunIdentity {
  const c = new Check(file, where);
  const o = c.obj(v, '$');
  const id: RunIdentity = {
    sizes: c.sizes(o.sizes, '$.sizes'),
    epochs: c.int(o.epochs, '$.epochs', 1),
    batch: c.int(o.batch, '$.batch', 1),
    lr: c.num(o.lr, '$.lr', 0, true),
    momentum: c.num(o.momentum, '$.momentum', 0),
    weightDecay: c.num(o.weightDecay, '$.weightDecay', 0),
    seed: c.int(o.seed, '$.seed', 0),
    rng: c.oneOf(o.rng, '$.rng', RNG_KINDS),
    shuffle: c.bool(o.shuffle, '$.shuffle'),
    steps: o.steps === null ? null : c.int(o.steps, '$.steps', 1),
    trainCount: c.int(o.trainCount, '$.trainCount', 1),
  };
  if (o.arch !== undefined) {
    id.arch = c.str(o.arch, '$.arch');
    const input = o.inputShape;
    if (!Array.isArray(input) || input.length !== 3) c.fail('$.inputShape', `expected [channels, height, width], got ${brief(input)}`);
    id.inputShape = (input as unknown[]).map((d, i) => c.int(d, `$.inputShape[${i}]`, 1));
    try { cnnLayersOf(id); } catch (e) { c.fail('$.arch', (e as Error).message); }
  }
  return id;
}

/** a CNN run's resolved layers (mlp/arch.ts), or null for an MLP run; throws ArchError for a bad spec */
export function cnnLayersOf(id: RunIdentity): ResolvedLayer[] | null {
  if (id.arch === undefined) return null;
  const spec = parseArch(id.arch);
  if (spec.kind !== 'cnn') throw new ArchError(`expected a cnn architecture, got '${id.arch}'`);
  const [c, h, w] = id.inputShape ?? [];
  return resolveCnn(spec.layers, [c, h, w], id.sizes[id.sizes.length - 1]);
}

function validateHistory(v: unknown, file: string, epochs: number): EpochMetrics[] {
  const c = new Check(file, 'metadata history ');
  if (!Array.isArray(v)) c.fail('$', `expected an array, got ${brief(v)}`);
  const a = v as unknown[];
  if (a.length !== epochs) c.fail('$', `holds ${a.length} epochs, the checkpoint is after ${epochs}`);
  return a.map((e, i) => {
    const p = `$[${i}]`, o = c.obj(e, p);
    const m: EpochMetrics = {
      epoch: c.int(o.epoch, `${p}.epoch`), trainLoss: c.numOrNaN(o.trainLoss, `${p}.trainLoss`),
      trainAccuracy: c.numOrNaN(o.trainAccuracy, `${p}.trainAccuracy`), testLoss: c.numOrNaN(o.testLoss, `${p}.testLoss`),
      testAccuracy: c.numOrNaN(o.testAccuracy, `${p}.testAccuracy`), samples: c.int(o.samples, `${p}.samples`),
      steps: c.int(o.steps, `${p}.steps`), seconds: c.numOrNaN(o.seconds, `${p}.seconds`),
    };
    if (m.epoch !== i) c.fail(`${p}.epoch`, `expected ${i}, got ${m.epoch}`);
    return m;
  });
}

/**
 * parses and validates the bytes of a checkpoint; every problem (not safetensors, not a checkpoint, a
 * newer version, a checksum mismatch, a missing or misshapen tensor, an impossible generator state,
 * non-finite weights, metadata that does not add up) throws InputError(file, …).
 */
export function decodeCheckpoint(bytes: Uint8Array, file: string): Checkpoint {
  const fail = (problem: string): never => { throw new InputError(file, problem); };
  let decoded: ReturnType<typeof decodeSafetensors>;
  try {
    decoded = decodeSafetensors(bytes, file, { maxTensors: MAX_CHECKPOINT_TENSORS });
  } catch (e) {
    // the safetensors decoder names what it finds wrong; anything else (e.g. a header nested so deeply
    // that describing it overflows the stack) is still this file's problem
    if (e instanceof InputError) throw e;
    throw new InputError(file, `unreadable safetensors header (${(e as Error).message})`);
  }
  const { tensors, metadata: md } = decoded;
  if (md.format !== CHECKPOINT_FORMAT) {
    fail(`not an mlp-lens checkpoint (metadata format ${brief(md.format ?? null)}, expected "${CHECKPOINT_FORMAT}")`);
  }
  if (md.version !== VERSION) fail(`checkpoint version ${brief(md.version ?? null)} is not supported (this build reads ${VERSION})`);
  for (const k of ['epoch', 'rng', 'run', 'history', 'crc32']) if (md[k] === undefined) fail(`metadata has no '${k}'`);
  const sum = checksum(md, tensors as Record<string, SafeTensor & { data: ArrayBufferView }>);
  if (md.crc32 !== sum) fail(`checksum mismatch (stored ${brief(md.crc32)}, computed "${sum}"): the file is damaged`);

  if (!/^(0|[1-9][0-9]{0,8})$/.test(md.epoch)) fail(`metadata epoch ${brief(md.epoch)} is not a whole number`);
  const epoch = Number(md.epoch);
  const run = validateRunIdentity(parseJson(md.run, file, 'metadata run'), file, 'metadata run ');
  if (md.rng !== run.rng) fail(`metadata rng "${md.rng}" differs from the run's "${run.rng}"`);
  if (epoch >= run.epochs) fail(`epoch ${epoch} is past the run's ${run.epochs} epochs`);
  const history = validateHistory(parseJson(md.history, file, 'metadata history'), file, epoch + 1);

  // each weighted layer's shapes: from the sizes (an MLP) or the architecture (a CNN)
  const cnn = cnnLayersOf(run);
  const shapes = cnn ? cnnParamShapes(cnn) : run.sizes.slice(1).map((dOut, k) => ({ W: [run.sizes[k], dOut], b: [dOut] }));
  const layerCount = shapes.length;
  const names = paramNames(layerCount);
  const expected = new Set([...names, ...names.map((n) => `velocity.${n}`), 'rng.state']);
  for (const name of Object.keys(tensors)) if (!expected.has(name)) fail(`unexpected tensor '${clip(name)}'`);
  const f32 = (name: string, shape: number[], optional: boolean): Float32Array | null => {
    const t = tensors[name];
    if (!t) return optional ? null : fail(`tensor '${name}' is missing`);
    if (t.dtype !== 'F32') fail(`tensor '${name}' has dtype ${t.dtype}, expected F32`);
    if (t.shape.join() !== shape.join()) fail(`tensor '${name}' has shape ${shapeText(t.shape, ', ')}, expected [${shape.join(', ')}]`);
    const data = t.data as Float32Array;
    for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) fail(`tensor '${name}' holds ${data[i]} at element ${i}`);
    return data;
  };
  const layers: LayerParams[] = [];
  const velocity: (Float32Array | null)[] = [];
  for (const [k, { W, b }] of shapes.entries()) {
    const conv = W.length === 4, dIn = conv ? W[1] * W[2] * W[3] : W[0], dOut = b[0];
    const layer: LayerParams = { W: f32(`layers.${k}.W`, W, false)!, b: f32(`layers.${k}.b`, b, false)!, dIn, dOut };
    if (conv) layer.shape = W;
    layers.push(layer);
    velocity.push(f32(`velocity.layers.${k}.W`, W, true), f32(`velocity.layers.${k}.b`, b, true));
  }
  // SGD keeps a momentum buffer for every parameter from the first step on, and none without momentum
  const buffers = velocity.filter((v) => v !== null).length;
  if (run.momentum > 0 && buffers !== velocity.length) fail(`holds ${buffers} momentum buffers for ${velocity.length} parameters (momentum ${run.momentum} needs all)`);
  if (run.momentum === 0 && buffers > 0) fail(`holds ${buffers} momentum buffers but the run has no momentum`);
  const rs = tensors['rng.state'];
  if (!rs) fail(`tensor 'rng.state' is missing`);
  if (rs.dtype !== 'U32' || rs.shape.length !== 1) fail(`tensor 'rng.state' is ${rs.dtype} ${shapeText(rs.shape, ', ')}, expected U32 [n]`);
  const state = rs.data as Uint32Array;
  try {
    createRng(run.rng, 0).restore(state);
  } catch (e) {
    fail(`tensor 'rng.state' is not a ${run.rng} generator state: ${(e as Error).message}`);
  }
  return { epoch, layers, velocity, rng: { kind: run.rng, state }, history, run };
}

// --- config.json

/** what --resume needs from a run's config.json (the rest of the file is kept as it is) */
export interface RunConfig extends RunIdentity {
  record: boolean;
  /** the MNIST folder the run read */
  data: string;
  /** --device of the run; absent in runs written before it was saved */
  deviceOption?: 'auto' | 'cpu' | 'webgpu';
  testCount: number;
  /** every field of the file, for rewriting it */
  raw: Record<string, unknown>;
}

/** checks a parsed config.json (InputError naming the first bad field) */
export function validateRunConfig(v: unknown, file: string): RunConfig {
  const c = new Check(file, '');
  const o = c.obj(v, '$');
  const id = validateRunIdentity({ ...o, steps: o.steps ?? null }, file);
  return {
    ...id,
    record: c.bool(o.record, '$.record'),
    data: c.str(o.data, '$.data'),
    deviceOption: o.deviceOption === undefined ? undefined : c.oneOf(o.deviceOption, '$.deviceOption', DEVICE_OPTIONS),
    testCount: c.int(o.testCount, '$.testCount', 1),
    raw: o,
  };
}

/** parses and validates the text of a config.json */
export function parseRunConfig(text: string, file: string): RunConfig {
  return validateRunConfig(parseJson(text, file, 'the file'), file);
}

/** the first option in which a checkpoint's run differs from config.json, or undefined when they agree */
export function identityMismatch(a: RunIdentity, b: RunIdentity): string | undefined {
  for (const k of Object.keys(a) as (keyof RunIdentity)[]) {
    const x = JSON.stringify(a[k]), y = JSON.stringify(b[k]);
    if (x !== y) return `${k} ${x} in the checkpoint, ${y} in config.json`;
  }
  return undefined;
}
