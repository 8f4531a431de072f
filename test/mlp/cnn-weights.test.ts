import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ArchSpec, formatArch, MAX_SPEC_LAYERS, parseArch, REFERENCE_CNN, resolveCnn, type ResolvedLayer } from '../../mlp/arch.ts';
import {
  archFromMetadata, cnnModelMetadata, cnnStateDict, cnnTorchNames, decodeCnnModel, detectModelKind, encodeCnnModel,
  fromCnnStateDict, MAX_CNN_MODEL_TENSORS,
} from '../../mlp/cnn-weights.ts';
import { InputError } from '../../mlp/errors.ts';
import { encodeSafetensors, type SafeTensor, type TensorInput } from '../../mlp/safetensors.ts';
import { decodeModel, encodeModel, type LayerParams } from '../../mlp/weights.ts';
import { loadCnnModelFile, saveCnnModelFile } from '../../run/model-files.ts';

const FILE = 'cnn.safetensors';
const REF = 'cnn:conv8x5,pool2,conv16x5,pool2,32';
/** stride, padding, an unpooled conv and two hidden linear layers: 1×28×28 → 6×14×14 → 6×7×7 → 12×7×7 → 588 → 40 → 20 → 10 */
const SP = 'cnn:conv6x3s2p1,pool2,conv12x3p1,40,20';

function resolve(text: string): ResolvedLayer[] {
  const spec = parseArch(text);
  if (spec.kind !== 'cnn') throw new Error(`${text} is not a cnn`);
  return resolveCnn(spec.layers, [1, 28, 28], 10);
}

/** Deterministic pseudo-random floats in [-1, 1) (an LCG). */
function randomF32(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** parameters as Cnn.export() gives them: a conv's W [out, in, k, k] with its shape, a linear's W [dIn, dOut] */
function randomCnn(resolved: readonly ResolvedLayer[], seed: number): LayerParams[] {
  return resolved.filter((l) => l.kind !== 'pool').map((l, k): LayerParams => {
    const b = randomF32(l.out, seed + 2 * k + 1);
    if (l.kind === 'conv') {
      const shape = [l.out, l.inShape[0], l.kernel, l.kernel], dIn = shape[1] * shape[2] * shape[3];
      return { W: randomF32(l.out * dIn, seed + 2 * k), shape, b, dIn, dOut: l.out };
    }
    const dIn = (l.inShape as [number])[0];
    return { W: randomF32(dIn * l.out, seed + 2 * k), b, dIn, dOut: l.out };
  });
}

function rawBytes(a: ArrayBufferView): number[] {
  return Array.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
}

function assertSameLayers(actual: LayerParams[], expected: LayerParams[]): void {
  assert.is(actual.length, expected.length);
  actual.forEach((l, k) => {
    assert.is(l.dIn, expected[k].dIn, `layers.${k}.dIn`);
    assert.is(l.dOut, expected[k].dOut, `layers.${k}.dOut`);
    assert.equal(l.shape, expected[k].shape, `layers.${k}.shape`);
    assert.is(l.W.length, expected[k].W.length, `layers.${k}.W length`);
    const got = new Uint32Array(l.W.buffer, l.W.byteOffset, l.W.length), want = new Uint32Array(expected[k].W.buffer, expected[k].W.byteOffset, expected[k].W.length);
    const differs = got.findIndex((v, i) => v !== want[i]);
    assert.is(differs, -1, `layers.${k}.W bit-exact`);
    assert.equal(rawBytes(l.b), rawBytes(expected[k].b), `layers.${k}.b`);
  });
}

/** the reference CNN's state dict, as tensors a decoder would give */
const refDict = (seed = 1): Record<string, SafeTensor> => {
  const r = resolve(REF);
  return cnnStateDict(r, randomCnn(r, seed)) as Record<string, SafeTensor>;
};

/** the InputError of `f`, checked: names FILE, one line, problem matches `pattern` */
function expectError(f: () => unknown, pattern: RegExp): string {
  try {
    f();
  } catch (e) {
    assert.instance(e, InputError);
    const err = e as InputError;
    assert.is(err.file, FILE);
    assert.ok(err.message.startsWith(`${FILE}: `), err.message);
    assert.not.match(err.message, /\n/);
    assert.ok(err.message.length < 240, `a short line: ${err.message}`);
    assert.match(err.problem, pattern, `${pattern} ≠ ${err.problem}`);
    return err.problem;
  }
  return assert.unreachable(`expected an InputError matching ${pattern}`) as never;
}

const expectDictError = (sd: Record<string, SafeTensor>, pattern: RegExp, text = REF) => expectError(() => fromCnnStateDict(sd, FILE, resolve(text)), pattern);

// ---------- names, shapes, layout ----------

test('golden: the reference CNN is conv1, conv2, linear1, output with PyTorch\'s shapes', () => {
  assert.is(formatArch(parseArch('cnn')), REFERENCE_CNN);
  const r = resolve(REF);
  assert.equal(cnnTorchNames(r), ['conv1', 'conv2', 'linear1', 'output']);
  const sd = cnnStateDict(r, randomCnn(r, 7));
  assert.equal(Object.entries(sd).map(([k, t]) => `${k} ${t.dtype} [${t.shape.join(', ')}]`), [
    'conv1.weight F32 [8, 1, 5, 5]',
    'conv1.bias F32 [8]',
    'conv2.weight F32 [16, 8, 5, 5]',
    'conv2.bias F32 [16]',
    'linear1.weight F32 [32, 256]',
    'linear1.bias F32 [32]',
    'output.weight F32 [10, 32]',
    'output.bias F32 [10]',
  ]);
});

test('conv weights are copied as they are, linear weights transposed to [out, in]', () => {
  const r = resolve(REF);
  const layers = randomCnn(r, 11);
  const sd = cnnStateDict(r, layers);
  assert.equal(rawBytes(sd['conv2.weight'].data), rawBytes(layers[1].W));
  assert.is.not(sd['conv2.weight'].data, layers[1].W, 'a copy');
  // linear1 W [256, 32]: weight[o][i] = W[i][o]
  for (const [o, i] of [[0, 0], [7, 100], [31, 255]]) assert.is(sd['linear1.weight'].data[o * 256 + i], layers[2].W[i * 32 + o]);
  assert.is(sd['output.weight'].data[3 * 32 + 5], layers[3].W[5 * 10 + 3]);
  assert.equal(rawBytes(sd['output.bias'].data), rawBytes(layers[3].b));
});

test('round trip, bit-exact: the reference CNN through the state dict and a file image', () => {
  const r = resolve(REF);
  const layers = randomCnn(r, 31416);
  layers[0].W[3] = -0;
  layers[1].b[2] = 1e-45; // a subnormal
  layers[2].W[17] = -3.4028234663852886e38;
  assertSameLayers(fromCnnStateDict(cnnStateDict(r, layers), FILE, r), layers);
  const { layers: back, metadata } = decodeCnnModel(encodeCnnModel(r, layers), FILE, r);
  assertSameLayers(back, layers);
  assert.equal(metadata, { format: 'pt', 'mlp-lens': `arch=${REF}` });
  assert.equal(back[0].shape, [8, 1, 5, 5]);
  assert.is(back[0].dIn, 25);
  assert.is(back[2].shape, undefined);
  assert.equal([back[2].dIn, back[2].dOut], [256, 32]);
});

test('round trip, bit-exact: stride, padding and two linear layers (linear1, linear2, output)', () => {
  const r = resolve(SP);
  assert.equal(cnnTorchNames(r), ['conv1', 'conv2', 'linear1', 'linear2', 'output']);
  const layers = randomCnn(r, 5);
  const sd = cnnStateDict(r, layers);
  assert.equal(Object.fromEntries(Object.entries(sd).map(([k, t]) => [k, t.shape])), {
    'conv1.weight': [6, 1, 3, 3], 'conv1.bias': [6],
    'conv2.weight': [12, 6, 3, 3], 'conv2.bias': [12],
    'linear1.weight': [40, 588], 'linear1.bias': [40],
    'linear2.weight': [20, 40], 'linear2.bias': [20],
    'output.weight': [10, 20], 'output.bias': [10],
  });
  const { layers: back, metadata } = decodeCnnModel(encodeCnnModel(r, layers, { seed: '5' }), FILE, r);
  assertSameLayers(back, layers);
  assert.equal(metadata, { format: 'pt', 'mlp-lens': `arch=${SP}`, seed: '5' });
});

test('module. / model. prefixes are accepted; the same key twice is refused', () => {
  const r = resolve(REF);
  const layers = randomCnn(r, 3);
  const sd = cnnStateDict(r, layers);
  for (const prefix of ['module.', 'model.', 'module.model.']) {
    const p: Record<string, SafeTensor> = {};
    for (const [k, t] of Object.entries(sd)) p[`${prefix}${k}`] = t;
    assertSameLayers(fromCnnStateDict(p, FILE, r), layers);
    assert.is(detectModelKind(p), 'cnn');
  }
  const twice: Record<string, SafeTensor> = { ...sd, 'module.conv2.bias': sd['conv2.bias'] };
  expectDictError(twice, /^'conv2\.bias' and 'module\.conv2\.bias' are the same parameter$/);
});

test('F64, F16 and BF16 files are converted to f32; other dtypes are refused', () => {
  const r = resolve(REF);
  const layers = randomCnn(r, 9);
  const sd = cnnStateDict(r, layers);
  const wide: Record<string, TensorInput> = {};
  for (const [k, t] of Object.entries(sd)) wide[k] = { dtype: 'F64', shape: t.shape, data: Float64Array.from(t.data) };
  assertSameLayers(decodeCnnModel(encodeSafetensors(wide), FILE, r).layers, layers);
  const half: Record<string, TensorInput> = {};
  for (const [k, t] of Object.entries(sd)) half[k] = { dtype: k.startsWith('conv') ? 'F16' : 'BF16', shape: t.shape, data: t.data };
  const got = decodeCnnModel(encodeSafetensors(half), FILE, r).layers;
  assert.ok(Math.abs(got[1].W[10] - layers[1].W[10]) < 1e-3);
  assert.ok(Math.abs(got[2].W[40] - layers[2].W[40]) < 1e-2, 'BF16, transposed back');
  const bad = refDict();
  bad['conv1.bias'] = { dtype: 'I64', shape: [8], data: new BigInt64Array(8) };
  expectDictError(bad, /^'conv1\.bias' has dtype I64; expected a float type \(F32, F64, F16, BF16\)$/);
});

// ---------- refusals ----------

test('refuses missing and unexpected keys, lists capped', () => {
  let sd = refDict();
  delete sd['conv2.bias'];
  expectDictError(sd, /^not the state dict of --arch cnn:conv8x5,pool2,conv16x5,pool2,32: missing conv2\.bias$/);
  sd = refDict();
  sd['conv3.weight'] = sd['conv2.weight'];
  sd['fc.weight'] = sd['output.weight'];
  expectDictError(sd, /: unexpected conv3\.weight, fc\.weight$/);
  // six missing and six unexpected: four of each named, then counts
  sd = refDict();
  for (const k of ['conv1.weight', 'conv1.bias', 'conv2.weight', 'linear1.weight', 'linear1.bias', 'output.bias']) delete sd[k];
  for (let i = 1; i <= 6; i++) sd[`extra${i}`] = sd['output.weight'];
  expectDictError(sd, /: missing conv1\.weight, conv1\.bias, conv2\.weight, linear1\.weight … and 2 more; unexpected extra1, extra2, extra3, extra4 … and 2 more$/);
  // a name with a megabyte of digits is clipped in the message
  sd = refDict();
  sd[`conv${'9'.repeat(1 << 20)}.weight`] = sd['conv1.bias'];
  expectDictError(sd, /unexpected conv9+…9+\.weight$/);
  expectDictError({}, /missing conv1\.weight, conv1\.bias, conv2\.weight, conv2\.bias … and 4 more$/);
});

test('refuses wrong shapes, saying what the spec expects', () => {
  let sd = refDict();
  sd['conv1.weight'] = { dtype: 'F32', shape: [6, 1, 5, 5], data: new Float32Array(150) };
  assert.is(expectDictError(sd, /conv1/), "holds 'conv1.weight' [6, 1, 5, 5]; --arch cnn:conv8x5,pool2,conv16x5,pool2,32 expects [8, 1, 5, 5]");
  sd = refDict();
  sd['conv2.weight'] = { dtype: 'F32', shape: [16, 8, 25], data: new Float32Array(16 * 8 * 25) };
  expectDictError(sd, /^holds 'conv2\.weight' \[16, 8, 25\]; --arch \S+ expects \[16, 8, 5, 5\]$/);
  sd = refDict();
  sd['linear1.weight'] = { dtype: 'F32', shape: [32, 784], data: new Float32Array(32 * 784) };
  expectDictError(sd, /^holds 'linear1\.weight' \[32, 784\]; --arch \S+ expects \[32, 256\] \(its input: the 16×4×4 map, flattened\)$/);
  // a linear weight stored as nn.Linear does not ([in, out]) is a wrong shape too
  sd = refDict();
  sd['output.weight'] = { dtype: 'F32', shape: [32, 10], data: new Float32Array(320) };
  expectDictError(sd, /^holds 'output\.weight' \[32, 10\]; --arch \S+ expects \[10, 32\]$/);
  sd = refDict();
  sd['module.conv1.bias'] = { dtype: 'F32', shape: [1, 8], data: new Float32Array(8) };
  delete sd['conv1.bias'];
  expectDictError(sd, /^holds 'module\.conv1\.bias' \[1, 8\]; --arch \S+ expects \[8\]$/);
  // the right shape for another spec: the message names the spec it was read against
  sd = cnnStateDict(resolve(SP), randomCnn(resolve(SP), 1)) as Record<string, SafeTensor>;
  expectDictError(sd, /^not the state dict of --arch cnn:conv8x5,pool2,conv16x5,pool2,32: unexpected linear2\.weight, linear2\.bias$/);
  delete sd['linear2.weight'];
  delete sd['linear2.bias'];
  expectDictError(sd, /^holds 'conv1\.weight' \[6, 1, 3, 3\]; --arch \S+ expects \[8, 1, 5, 5\]$/);
  // a tensor whose values do not fill its shape (a caller's, not a decoder's)
  sd = refDict();
  sd['conv1.bias'] = { dtype: 'F32', shape: [8], data: new Float32Array(7) };
  expectDictError(sd, /^'conv1\.bias' holds 7 values, its shape \[8\] needs 8$/);
});

test('refuses non-finite values, naming the element', () => {
  let sd = refDict();
  (sd['conv2.weight'].data as Float32Array)[1 * 200 + 3 * 25 + 2 * 5 + 4] = NaN;
  expectDictError(sd, /^'conv2\.weight' holds NaN at element 289 \(\[1, 3, 2, 4\]\): a model's weights must be finite$/);
  sd = refDict();
  (sd['linear1.bias'].data as Float32Array)[5] = -Infinity;
  expectDictError(sd, /^'linear1\.bias' holds -Infinity at element 5: a model's weights must be finite$/);
  // an F64 value past float32's range would become Infinity
  const r = resolve(REF);
  const wide: Record<string, TensorInput> = {};
  for (const [k, t] of Object.entries(cnnStateDict(r, randomCnn(r, 1)))) wide[k] = { dtype: 'F64', shape: t.shape, data: Float64Array.from(t.data) };
  (wide['output.weight'].data as Float64Array)[33] = 1e300;
  expectError(() => decodeCnnModel(encodeSafetensors(wide), FILE, r), /^'output\.weight' holds 1e\+300 at element 33 \(\[1, 1\]\), beyond float32's range: a model's weights must be finite$/);
});

test('refuses too many tensors and too large a header before parsing them', () => {
  const r = resolve(REF);
  const many: Record<string, TensorInput> = {};
  for (let i = 0; i <= MAX_CNN_MODEL_TENSORS; i++) many[`t${i}`] = { dtype: 'F32', shape: [1], data: new Float32Array(1) };
  expectError(() => decodeCnnModel(encodeSafetensors(many), FILE, r), new RegExp(`^header names 131 tensors, more than the ${MAX_CNN_MODEL_TENSORS} this file may hold$`));
  assert.is(MAX_CNN_MODEL_TENSORS, 2 * (MAX_SPEC_LAYERS + 1));
  // the largest spec (MAX_SPEC_LAYERS layers and the output) fits
  const deep = resolve(`cnn:conv1x1,${Array(MAX_SPEC_LAYERS - 1).fill('1').join(',')}`);
  assert.is(cnnTorchNames(deep).length, MAX_SPEC_LAYERS + 1);
  const deepLayers = randomCnn(deep, 2);
  assertSameLayers(decodeCnnModel(encodeCnnModel(deep, deepLayers), FILE, deep).layers, deepLayers);
  const big = encodeSafetensors(cnnStateDict(r, randomCnn(r, 1)), { pad: 'x'.repeat(2 ** 20) });
  expectError(() => decodeCnnModel(big, FILE, r), /^header length \d+ is more than the 1048576 bytes this file may have$/);
  assert.throws(() => encodeCnnModel(r, randomCnn(r, 1), { pad: 'x'.repeat(2 ** 20) }), (e: unknown) => e instanceof RangeError && /too much metadata/.test((e as Error).message));
});

test('an MLP file given to a CNN spec, and a CNN file given to an MLP, are refused', () => {
  const r = resolve(REF);
  const mlp: LayerParams[] = [[784, 32], [32, 16], [16, 10]].map(([dIn, dOut], k) => ({ W: randomF32(dIn * dOut, k), b: randomF32(dOut, k + 9), dIn, dOut }));
  const mlpFile = encodeModel(mlp);
  expectError(() => decodeCnnModel(mlpFile, FILE, r), /^holds an MLP's state dict \(no conv layers\); --arch cnn:conv8x5,pool2,conv16x5,pool2,32 expects conv1, conv2, linear1, output$/);
  const cnnFile = encodeCnnModel(r, randomCnn(r, 1));
  expectError(() => decodeModel(cnnFile, FILE), /^not an MLP state dict \(linear1\.\.linearH, output\): unexpected conv1\.(weight|bias), conv1\.(weight|bias), conv2\./);
  // a file whose metadata names another spec is refused even where the shapes agree (pool2 vs pool3s2 here)
  const a = resolve('cnn:conv4x2,pool2,8'), b = resolve('cnn:conv4x2,pool3s2,8');
  assert.equal(a.at(-2)!.inShape, b.at(-2)!.inShape);
  const fileA = encodeCnnModel(a, randomCnn(a, 4));
  assert.is(decodeCnnModel(fileA, FILE, a).layers.length, 3);
  expectError(() => decodeCnnModel(fileA, FILE, b), /^was saved from --arch cnn:conv4x2,pool2,8 \(its metadata\), not --arch cnn:conv4x2,pool3s2,8$/);
});

test('detectModelKind: conv<digits>. keys make a CNN, anything else an MLP', () => {
  assert.is(detectModelKind(refDict()), 'cnn');
  const mlp = { 'linear1.weight': refDict()['output.weight'], 'output.bias': refDict()['output.bias'] };
  assert.is(detectModelKind(mlp), 'mlp');
  assert.is(detectModelKind({}), 'mlp');
  assert.is(detectModelKind({ 'model.conv12.bias': refDict()['conv1.bias'] }), 'cnn');
  assert.is(detectModelKind({ 'convx.weight': refDict()['conv1.bias'], 'conv.weight': refDict()['conv1.bias'] }), 'mlp');
});

test('archFromMetadata reads back the spec the file records (CNN and MLP), null otherwise', () => {
  for (const text of [REF, SP, 'cnn:conv3x3s2p1,pool3s2,conv5x1,pool2s1,7', 'cnn:conv2x28']) {
    const spec = parseArch(text) as Extract<ArchSpec, { kind: 'cnn' }>;
    const r = resolveCnn(spec.layers, [1, 28, 28], 10);
    assert.equal(archFromMetadata(cnnModelMetadata(r)), spec, text);
    assert.equal(archFromMetadata(decodeCnnModel(encodeCnnModel(r, randomCnn(r, 1)), FILE, r).metadata), spec, text);
  }
  assert.equal(archFromMetadata({ format: 'pt', 'mlp-lens': 'hidden=32,16' }), { kind: 'mlp', hidden: [32, 16] });
  assert.equal(archFromMetadata({ 'mlp-lens': 'hidden=' }), { kind: 'mlp', hidden: [] });
  const mlpMeta = decodeModel(encodeModel([{ W: new Float32Array(6), b: new Float32Array(3), dIn: 2, dOut: 3 }]), FILE).metadata;
  assert.equal(archFromMetadata(mlpMeta), { kind: 'mlp', hidden: [] });
  assert.equal(archFromMetadata({ 'mlp-lens': 'arch=mlp:8' }), { kind: 'mlp', hidden: [8] });
  for (const bad of [{}, { format: 'pt' }, { 'mlp-lens': 'arch=cnn:conv0x5' }, { 'mlp-lens': 'arch=rnn:4' }, { 'mlp-lens': 'hidden=a,b' },
    { 'mlp-lens': 'seed=1' }, { 'mlp-lens': `arch=cnn:conv1x1,${'1,'.repeat(5000)}1` }, JSON.parse('{"__proto__": "arch=cnn"}')]) {
    assert.is(archFromMetadata(bad), null, JSON.stringify(bad).slice(0, 80));
  }
});

test('cnnStateDict refuses parameters that do not fit the spec (a programming error, not an InputError)', () => {
  const r = resolve(REF);
  const l = randomCnn(r, 1);
  const rangeError = (f: () => unknown, pattern: RegExp) => assert.throws(f, (e: unknown) => e instanceof RangeError && pattern.test((e as Error).message));
  rangeError(() => cnnStateDict(r, l.slice(1)), /has 4 weighted layers, got parameters for 3/);
  rangeError(() => cnnStateDict(r, [{ ...l[0], b: new Float32Array(7) }, ...l.slice(1)]), /layers\.0\.b has 7 values/);
  rangeError(() => cnnStateDict(r, [{ ...l[0], shape: [8, 1, 25, 1] }, ...l.slice(1)]), /layers\.0\.W has shape \[8, 1, 25, 1\]/);
  rangeError(() => cnnStateDict(r, [...l.slice(0, 2), { ...l[2], dIn: 784, W: new Float32Array(784 * 32) }, l[3]]), /layers\.2 \(linear1\) is 784→32, the spec's is 256→32/);
  rangeError(() => cnnTorchNames([]), /ends with its linear output layer/);
});

test('saveCnnModelFile / loadCnnModelFile', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mlp-lens-cnn-'));
  try {
    const path = join(dir, 'model.safetensors');
    const r = resolve(SP);
    const layers = randomCnn(r, 27);
    await saveCnnModelFile(path, r, layers, { seed: '27' });
    const { layers: back, metadata } = await loadCnnModelFile(path, r);
    assertSameLayers(back, layers);
    assert.equal(metadata, { format: 'pt', 'mlp-lens': `arch=${SP}`, seed: '27' });
    try {
      await loadCnnModelFile(path, resolve(REF));
      assert.unreachable('read against the wrong spec');
    } catch (e) {
      assert.instance(e, InputError);
      assert.is((e as InputError).file, path);
    }
    try {
      await loadCnnModelFile(join(dir, 'none.safetensors'), r);
      assert.unreachable('a missing file');
    } catch (e) {
      assert.instance(e, InputError);
      assert.match((e as Error).message, /no such file/);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
