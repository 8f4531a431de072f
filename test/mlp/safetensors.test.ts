import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../mlp/errors.ts';
import {
  bf16ToF32, decodeSafetensors, encodeSafetensors, f16ToF32, f32ToBf16, f32ToF16, type SafeTensor, type TensorInput,
} from '../../mlp/safetensors.ts';
import { decodeModel, encodeModel, fromTorchStateDict, torchStateDict, type LayerParams } from '../../mlp/weights.ts';
import { loadModelFile, readSafetensorsFile, saveModelFile, writeSafetensorsFile } from '../../run/model-files.ts';

const FILE = 'bad.safetensors';

/** Raw bytes of any typed array, for bit-exact comparisons (NaN payloads, -0). */
function rawBytes(a: ArrayBufferView): number[] {
  return Array.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
}

/** A file with the given header text (not padded) and data bytes. */
function fileOf(header: string, data: ArrayLike<number> = [], declared?: bigint): Uint8Array {
  const json = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, declared ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(Array.from(data), 8 + json.length);
  return out;
}

function expectInputError(bytes: Uint8Array, pattern: RegExp): void {
  try {
    decodeSafetensors(bytes, FILE);
  } catch (e) {
    assert.instance(e, InputError);
    const err = e as InputError;
    assert.is(err.file, FILE);
    assert.ok(err.message.startsWith(`${FILE}: `), err.message);
    assert.not.match(err.message, /\n/);
    assert.match(err.problem, pattern);
    return;
  }
  assert.unreachable(`expected an InputError matching ${pattern}`);
}

/** Deterministic pseudo-random floats in [-1, 1) (an LCG; tests need variety, not quality). */
function randomF32(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

function randomModel(sizes: number[], seed: number): LayerParams[] {
  return sizes.slice(1).map((dOut, k) => {
    const dIn = sizes[k];
    return { W: randomF32(dIn * dOut, seed + 2 * k), b: randomF32(dOut, seed + 2 * k + 1), dIn, dOut };
  });
}

function assertSameLayers(actual: LayerParams[], expected: LayerParams[]): void {
  assert.is(actual.length, expected.length);
  actual.forEach((l, k) => {
    assert.is(l.dIn, expected[k].dIn, `layers.${k}.dIn`);
    assert.is(l.dOut, expected[k].dOut, `layers.${k}.dOut`);
    assert.equal(rawBytes(l.W), rawBytes(expected[k].W), `layers.${k}.W`);
    assert.equal(rawBytes(l.b), rawBytes(expected[k].b), `layers.${k}.b`);
  });
}

// ---------- format: round trips ----------

test('F32 round-trips bit-exactly, including NaN payloads, -0, subnormals and infinities', () => {
  const bits = new Uint32Array([
    0x00000000, 0x80000000, 0x00000001, 0x807fffff, 0x00400000, 0x7f7fffff, 0xff7fffff,
    0x7f800000, 0xff800000, 0x7fc00000, 0xffc00001, 0x7f800001, 0x7fbfffff, 0x3f800000, 0x3eaaaaab,
  ]);
  const data = new Float32Array(bits.buffer);
  const { tensors } = decodeSafetensors(encodeSafetensors({ x: { dtype: 'F32', shape: [3, 5], data } }), FILE);
  const x = tensors.x;
  assert.is(x.dtype, 'F32');
  assert.equal(x.shape, [3, 5]);
  assert.instance(x.data, Float32Array);
  assert.equal(rawBytes(x.data), rawBytes(data));
});

test('every supported dtype round-trips bit-exactly', () => {
  const input: Record<string, TensorInput> = {
    f64: { dtype: 'F64', shape: [4], data: new Float64Array([-0, Number.MIN_VALUE, NaN, Math.PI]) },
    i64: { dtype: 'I64', shape: [3], data: new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n, -1n]) },
    u64: { dtype: 'U64', shape: [2], data: new BigUint64Array([0n, 2n ** 64n - 1n]) },
    i32: { dtype: 'I32', shape: [2, 2], data: new Int32Array([-(2 ** 31), 2 ** 31 - 1, 0, -7]) },
    u32: { dtype: 'U32', shape: [1], data: new Uint32Array([2 ** 32 - 1]) },
    i16: { dtype: 'I16', shape: [3], data: new Int16Array([-32768, 32767, 5]) },
    u16: { dtype: 'U16', shape: [1, 1, 2], data: new Uint16Array([65535, 1]) },
    i8: { dtype: 'I8', shape: [3], data: new Int8Array([-128, 127, 0]) },
    u8: { dtype: 'U8', shape: [5], data: new Uint8Array([0, 1, 127, 128, 255]) },
    bool: { dtype: 'BOOL', shape: [3], data: new Uint8Array([1, 0, 1]) },
    scalar: { dtype: 'F32', shape: [], data: new Float32Array([42]) },
    empty: { dtype: 'F32', shape: [0, 3], data: new Float32Array(0) },
  };
  const bytes = encodeSafetensors(input, { note: 'ünïcode ✓', format: 'pt' });
  const { tensors, metadata } = decodeSafetensors(bytes, FILE);
  assert.equal(metadata, { format: 'pt', note: 'ünïcode ✓' });
  assert.equal(Object.keys(tensors).sort(), Object.keys(input).sort());
  for (const [name, t] of Object.entries(input)) {
    const got = tensors[name];
    assert.is(got.dtype, t.dtype, name);
    assert.equal(got.shape, [...t.shape], name);
    assert.is(got.data.constructor, t.data.constructor, name);
    assert.equal(rawBytes(got.data), rawBytes(t.data), name);
  }
  // re-encoding the decoded tensors gives the same file
  assert.equal(rawBytes(encodeSafetensors(tensors, metadata)), rawBytes(bytes));
});

test('F16 and BF16: all 65536 bit patterns survive decode (to f32) and re-encode', () => {
  const all = new Uint16Array(65536).map((_, i) => i);
  for (const dtype of ['F16', 'BF16'] as const) {
    const bytes = encodeSafetensors({ h: { dtype, shape: [256, 256], data: all } });
    const h = decodeSafetensors(bytes, FILE).tensors.h;
    assert.instance(h.data, Float32Array);
    assert.equal(rawBytes(encodeSafetensors({ h })), rawBytes(bytes), dtype);
  }
  // every non-NaN f16 against the textbook formula (-1)^s · 2^(e-15) · (1 + m/1024), subnormals 2^-14 · m/1024
  for (let h = 0; h < 65536; h++) {
    const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 31, m = h & 1023;
    if (e === 31) {
      if (m === 0) assert.is(f16ToF32(h), s * Infinity);
      else assert.ok(Number.isNaN(f16ToF32(h)));
      continue;
    }
    const want = e === 0 ? s * 2 ** -14 * (m / 1024) : s * 2 ** (e - 15) * (1 + m / 1024);
    if (!Object.is(f16ToF32(h), want)) assert.unreachable(`f16 0x${h.toString(16)}: ${f16ToF32(h)} != ${want}`);
  }
  // spot values, by hand
  assert.is(f16ToF32(0x3c00), 1);
  assert.is(f16ToF32(0xc000), -2);
  assert.is(f16ToF32(0x7bff), 65504);
  assert.is(f16ToF32(0x0001), 2 ** -24);
  assert.is(Object.is(f16ToF32(0x8000), -0), true);
  assert.is(f16ToF32(0x7c00), Infinity);
  assert.ok(Number.isNaN(f16ToF32(0x7e00)));
  assert.is(bf16ToF32(0x3f80), 1);
  assert.is(bf16ToF32(0xc0a0), -5);
});

test('f32 → F16/BF16 rounds to nearest even, overflows to Inf, keeps NaN', () => {
  assert.is(f32ToF16(1 + 2 ** -11), 0x3c00); // tie, even stays
  assert.is(f32ToF16(1 + 3 * 2 ** -11), 0x3c02); // tie, odd rounds up
  assert.is(f32ToF16(1 + 2 ** -11 + 2 ** -20), 0x3c01);
  assert.is(f32ToF16(65519), 0x7bff);
  assert.is(f32ToF16(65520), 0x7c00);
  assert.is(f32ToF16(-1e9), 0xfc00);
  assert.is(f32ToF16(2 ** -24), 0x0001);
  assert.is(f32ToF16(2 ** -25), 0x0000); // tie to even zero
  assert.is(f32ToF16(1.5 * 2 ** -25), 0x0001);
  assert.is(f32ToF16(3 * 2 ** -25), 0x0002); // subnormal tie, odd rounds up
  assert.is(f32ToF16(2 ** -14 - 2 ** -25), 0x0400); // rounds up into the normals
  assert.is(f32ToF16(-0), 0x8000);
  assert.is(f32ToF16(NaN) & 0x7c00, 0x7c00);
  assert.ok((f32ToF16(NaN) & 0x3ff) !== 0);
  assert.is(f32ToBf16(1 + 2 ** -8), 0x3f80);
  assert.is(f32ToBf16(1 + 3 * 2 ** -8), 0x3f82);
  assert.is(f32ToBf16(1 + 2 ** -8 + 2 ** -20), 0x3f81);
  assert.is(f32ToBf16(Infinity), 0x7f80);
  assert.is(f32ToBf16(3.4e38), 0x7f80); // rounds past the largest bf16
  assert.ok(Number.isNaN(bf16ToF32(f32ToBf16(NaN))));
  // an f32-valued F16 tensor encodes through the rounding
  const t = decodeSafetensors(encodeSafetensors({ h: { dtype: 'F16', shape: [2], data: new Float32Array([0.1, 1e6]) } }), FILE).tensors.h;
  assert.equal(Array.from(t.data as Float32Array), [0.0999755859375, Infinity]);
});

// ---------- format: golden bytes ----------

test('golden: one F32 tensor, laid out as the spec says', () => {
  const data = new Float32Array([0, 1, 2, 3, 4, 5]);
  const got = encodeSafetensors({ 'attn.0': { dtype: 'F32', shape: [1, 2, 3], data } });
  const header = '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}';
  assert.is(header.length, 64); // already a multiple of 8: no padding
  const expected: number[] = [64, 0, 0, 0, 0, 0, 0, 0, ...Array.from(header, (c) => c.charCodeAt(0))];
  // 1.0f = 0x3f800000, little-endian
  expected.push(0, 0, 0, 0, 0, 0, 0x80, 0x3f, 0, 0, 0, 0x40, 0, 0, 0x40, 0x40, 0, 0, 0x80, 0x40, 0, 0, 0xa0, 0x40);
  assert.equal(Array.from(got), expected);
});

test('golden: header padded with spaces to 8 bytes, metadata first, dtype-then-name order', () => {
  const got = encodeSafetensors({
    b: { dtype: 'U8', shape: [3], data: new Uint8Array([7, 8, 9]) },
    a: { dtype: 'U8', shape: [1], data: new Uint8Array([6]) },
    w: { dtype: 'F64', shape: [1], data: new Float64Array([1]) },
  }, { z: '1', framework: 'pt' });
  const header = '{"__metadata__":{"framework":"pt","z":"1"},'
    + '"w":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},'
    + '"a":{"dtype":"U8","shape":[1],"data_offsets":[8,9]},'
    + '"b":{"dtype":"U8","shape":[3],"data_offsets":[9,12]}}';
  const padded = header + ' '.repeat((8 - (header.length % 8)) % 8);
  assert.is(padded.length % 8, 0);
  assert.ok(padded.length > header.length);
  const expected = [padded.length, 0, 0, 0, 0, 0, 0, 0, ...Array.from(padded, (c) => c.charCodeAt(0)),
    0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 6, 7, 8, 9];
  assert.equal(Array.from(got), expected);
});

test('golden: empty file and metadata-only file', () => {
  assert.equal(Array.from(encodeSafetensors({})), [8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]);
  const meta = encodeSafetensors({}, { framework: 'pt' });
  const header = '{"__metadata__":{"framework":"pt"}}     ';
  assert.equal(Array.from(meta), [40, 0, 0, 0, 0, 0, 0, 0, ...Array.from(header, (c) => c.charCodeAt(0))]);
  assert.equal(decodeSafetensors(meta, FILE), { tensors: {}, metadata: { framework: 'pt' } });
});

test('decode accepts any tensor order in the header, and unpadded headers', () => {
  // b is listed first but stored second
  const bytes = fileOf('{"b":{"dtype":"U8","shape":[1],"data_offsets":[2,3]},"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}', [1, 2, 3]);
  const { tensors } = decodeSafetensors(bytes, FILE);
  assert.equal(Array.from(tensors.a.data as Uint8Array), [1, 2]);
  assert.equal(Array.from(tensors.b.data as Uint8Array), [3]);
});

test('decode copies: the result does not alias the input bytes', () => {
  const bytes = encodeSafetensors({ x: { dtype: 'F32', shape: [1], data: new Float32Array([1]) } });
  const x = decodeSafetensors(bytes, FILE).tensors.x;
  bytes.fill(0);
  assert.is(x.data[0], 1);
});

test('encode rejects inconsistent input', () => {
  assert.throws(() => encodeSafetensors({ x: { dtype: 'F32', shape: [2, 2], data: new Float32Array(3) } }), /needs 4/);
  assert.throws(() => encodeSafetensors({ x: { dtype: 'F32', shape: [-1], data: new Float32Array(0) } }), /bad dimension/);
  assert.throws(() => encodeSafetensors({ x: { dtype: 'F32', shape: [1], data: new Float64Array(1) as unknown as Float32Array } }), /Float32Array/);
  assert.throws(() => encodeSafetensors({ __metadata__: { dtype: 'U8', shape: [0], data: new Uint8Array(0) } }), /reserved/);
  assert.throws(() => encodeSafetensors({}, { a: 1 as unknown as string }), /string/);
});

// ---------- format: malformed files ----------

const U8_1 = '{"dtype":"U8","shape":[1],"data_offsets":[0,1]}';

test('malformed: too short, absurd or oversized header length', () => {
  expectInputError(new Uint8Array(0), /shorter than/);
  expectInputError(new Uint8Array(7), /shorter than/);
  expectInputError(fileOf('{}', [], 2n ** 64n - 1n), /absurd/);
  expectInputError(fileOf('{}', [], 100_000_001n), /absurd/);
  expectInputError(fileOf('{}', [], 3n), /larger than the file/);
  expectInputError(fileOf('', []), /empty/);
});

test('malformed: header not UTF-8 JSON object', () => {
  const bad = fileOf('{"a":1}');
  bad[10] = 0xff;
  expectInputError(bad, /UTF-8/);
  expectInputError(fileOf('{"a":'), /not valid JSON/);
  expectInputError(fileOf('[]'), /not a JSON object/);
  expectInputError(fileOf('null'), /not a JSON object/);
  expectInputError(fileOf('"x"'), /not a JSON object/);
});

test('malformed: dtype, shape, data_offsets, entries, metadata', () => {
  expectInputError(fileOf('{"a":{"dtype":"F33","shape":[1],"data_offsets":[0,4]}}', [0, 0, 0, 0]), /unknown dtype "F33"/);
  expectInputError(fileOf('{"a":{"dtype":"F8_E5M2","shape":[1],"data_offsets":[0,1]}}', [0]), /F8_E5M2 is not supported/);
  expectInputError(fileOf('{"a":{"shape":[1],"data_offsets":[0,1]}}', [0]), /no dtype/);
  for (const shape of ['3', '[-1]', '[1.5]', '["1"]', 'null', '[1e400]']) {
    expectInputError(fileOf(`{"a":{"dtype":"U8","shape":${shape},"data_offsets":[0,1]}}`, [0]), /shape .* not an array of non-negative integers/);
  }
  for (const offs of ['[0]', '[0,1,2]', '[-1,1]', '["0",1]', '[0.5,1]', '{}']) {
    expectInputError(fileOf(`{"a":{"dtype":"U8","shape":[1],"data_offsets":${offs}}}`, [0]), /data_offsets .* not two non-negative integers/);
  }
  expectInputError(fileOf('{"a":{"dtype":"U8","shape":[1],"data_offsets":[1,0]}}', [0]), /end before they begin/);
  expectInputError(fileOf('{"a":[1,2]}', [0]), /tensor 'a': entry is not an object/);
  expectInputError(fileOf(`{"__metadata__":{"k":1},"a":${U8_1}}`, [0]), /__metadata__ 'k' is not a string/);
  expectInputError(fileOf(`{"__metadata__":["x"],"a":${U8_1}}`, [0]), /__metadata__ is not an object/);
});

test('malformed: sizes, bounds, overlaps, holes, duplicates', () => {
  const f32 = (shape: string, offs: string) => `{"dtype":"F32","shape":${shape},"data_offsets":${offs}}`;
  expectInputError(fileOf(`{"a":${f32('[2]', '[0,4]')}}`, [0, 0, 0, 0]), /needs 8 bytes but data_offsets \[0, 4\] span 4/);
  expectInputError(fileOf(`{"a":${f32('[2,3]', '[0,8]')}}`, new Array(8).fill(0)), /needs 24 bytes/);
  expectInputError(fileOf(`{"a":${f32('[4294967296,4294967296,4294967296]', '[0,8]')}}`, new Array(8).fill(0)), /needs \d+ bytes/);
  expectInputError(fileOf(`{"a":${f32('[2]', '[0,8]')}}`, [0, 0, 0, 0]), /past the end of the data \(4 bytes\)/);
  expectInputError(fileOf(`{"a":${f32('[2]', '[0,8]')},"b":${f32('[2]', '[4,12]')}}`, new Array(12).fill(0)), /'a' and 'b' overlap/);
  expectInputError(fileOf(`{"a":${f32('[1]', '[0,4]')},"b":${f32('[1]', '[8,12]')}}`, new Array(12).fill(0)), /hole of 4 unused bytes before tensor 'b'/);
  expectInputError(fileOf(`{"b":${f32('[1]', '[4,8]')}}`, new Array(8).fill(0)), /hole of 4 unused bytes before tensor 'b'/);
  expectInputError(fileOf(`{"a":${f32('[1]', '[0,4]')}}`, new Array(8).fill(0)), /4 unused bytes after the last tensor/);
  expectInputError(fileOf(`{"a":${U8_1},"a":${U8_1}}`, [0]), /names 'a' twice/);
  // the same key spelled with an escape is still the same key
  expectInputError(fileOf(`{"a":${U8_1},"\\u0061":${U8_1}}`, [0]), /names 'a' twice/);
  expectInputError(fileOf(`{"a":{"dtype":"U8","dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, [0]), /names 'dtype' twice/);
  expectInputError(fileOf('{"a":{"dtype":"BOOL","shape":[1],"data_offsets":[0,1]}}', [2]), /not 0 or 1/);
  // strings that look like keys inside arrays or values are not keys
  const ok = fileOf(`{"__metadata__":{"x":"a:","y":"{\\"a\\":1}"},"a":${U8_1}}`, [5]);
  assert.equal(decodeSafetensors(ok, FILE).metadata, { x: 'a:', y: '{"a":1}' });
});

// ---------- file IO ----------

test('file IO: atomic write, read back, missing file is an InputError', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mlp-lens-st-'));
  try {
    const path = join(dir, 'x.safetensors');
    const bytes = encodeSafetensors({ x: { dtype: 'F32', shape: [2], data: new Float32Array([1, -0]) } }, { k: 'v' });
    await writeSafetensorsFile(path, bytes);
    // overwrite in place works too (rename over an existing file)
    await writeSafetensorsFile(path, bytes);
    assert.equal(await readdir(dir), ['x.safetensors']);
    const { tensors, metadata } = await readSafetensorsFile(path);
    assert.equal(metadata, { k: 'v' });
    assert.equal(rawBytes(tensors.x.data), rawBytes(new Float32Array([1, -0])));
    const missing = join(dir, 'nope.safetensors');
    try {
      await readSafetensorsFile(missing);
      assert.unreachable('expected an InputError');
    } catch (e) {
      assert.instance(e, InputError);
      assert.match((e as Error).message, `${missing}: cannot read: no such file`);
    }
    // a failed write leaves no temporary file behind
    let threw = false;
    try { await writeSafetensorsFile(join(dir, 'no-such-dir', 'y.safetensors'), bytes); } catch { threw = true; }
    assert.ok(threw);
    assert.equal(await readdir(dir), ['x.safetensors']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

// ---------- weights ----------

test('torchStateDict transposes W [in, out] to weight [out, in] (2×3 by hand)', () => {
  // W [2, 3]: row i = input i, column j = output j
  const layers: LayerParams[] = [{ W: new Float32Array([1, 2, 3, 4, 5, 6]), b: new Float32Array([7, 8, 9]), dIn: 2, dOut: 3 }];
  const sd = torchStateDict(layers);
  assert.equal(Object.keys(sd), ['output.weight', 'output.bias']);
  assert.equal(sd['output.weight'].shape, [3, 2]);
  assert.equal(Array.from(sd['output.weight'].data), [1, 4, 2, 5, 3, 6]);
  assert.equal(sd['output.bias'].shape, [3]);
  assert.equal(Array.from(sd['output.bias'].data), [7, 8, 9]);
  assertSameLayers(fromTorchStateDict(sd, FILE), layers);
});

test('784-32-16-10 uses the notebook names and round-trips bit-exactly through a file image', () => {
  const layers = randomModel([784, 32, 16, 10], 31416);
  layers[0].W[5] = -0;
  layers[2].b[3] = 1e-45;
  const sd = torchStateDict(layers);
  assert.equal(Object.keys(sd).sort(), [
    'linear1.bias', 'linear1.weight', 'linear2.bias', 'linear2.weight', 'output.bias', 'output.weight',
  ]);
  assert.equal(sd['linear1.weight'].shape, [32, 784]);
  assert.equal(sd['linear1.bias'].shape, [32]);
  assert.equal(sd['linear2.weight'].shape, [16, 32]);
  assert.equal(sd['output.weight'].shape, [10, 16]);
  // weight[o][i] = W[i][o]
  assert.is(sd['linear1.weight'].data[7 * 784 + 100], layers[0].W[100 * 32 + 7]);
  assertSameLayers(fromTorchStateDict(sd, FILE), layers);
  const { layers: back, metadata } = decodeModel(encodeModel(layers), FILE);
  assertSameLayers(back, layers);
  assert.equal(metadata, { format: 'pt', 'mlp-lens': 'hidden=32,16' });
});

test('deeper 20-8-8-8-3 model: linear1..linear3 then output', () => {
  const layers = randomModel([20, 8, 8, 8, 3], 7);
  const sd = torchStateDict(layers);
  assert.equal(Object.keys(sd), [
    'linear1.weight', 'linear1.bias', 'linear2.weight', 'linear2.bias',
    'linear3.weight', 'linear3.bias', 'output.weight', 'output.bias',
  ]);
  assert.equal(sd['linear1.weight'].shape, [8, 20]);
  assert.equal(sd['output.weight'].shape, [3, 8]);
  assertSameLayers(fromTorchStateDict(sd, FILE), layers);
  assertSameLayers(decodeModel(encodeModel(layers, { extra: 'x' }), FILE).layers, layers);
});

test('fromTorchStateDict tolerates module./model. prefixes and converts F64/F16/BF16', () => {
  const layers = randomModel([4, 3, 2], 3);
  const sd = torchStateDict(layers);
  const prefixed: Record<string, SafeTensor> = {};
  for (const [k, t] of Object.entries(sd)) prefixed[`module.${k}`] = t;
  assertSameLayers(fromTorchStateDict(prefixed, FILE), layers);
  const model: Record<string, SafeTensor> = {};
  for (const [k, t] of Object.entries(sd)) model[`model.${k}`] = t;
  assertSameLayers(fromTorchStateDict(model, FILE), layers);

  // F64 and BF16/F16 files decode to f32 layers
  const wide: Record<string, TensorInput> = {};
  for (const [k, t] of Object.entries(sd)) wide[k] = { dtype: 'F64', shape: t.shape, data: Float64Array.from(t.data) };
  assertSameLayers(decodeModel(encodeSafetensors(wide), FILE).layers, layers);
  const half: Record<string, TensorInput> = {};
  for (const [k, t] of Object.entries(sd)) half[k] = { dtype: k.startsWith('linear') ? 'F16' : 'BF16', shape: t.shape, data: t.data };
  const got = decodeModel(encodeSafetensors(half), FILE).layers;
  assert.ok(Math.abs(got[0].W[0] - layers[0].W[0]) < 1e-3);
  assert.ok(Math.abs(got[1].b[1] - layers[1].b[1]) < 1e-2);
});

function expectModelError(sd: Record<string, SafeTensor>, pattern: RegExp): void {
  try {
    fromTorchStateDict(sd, FILE);
  } catch (e) {
    assert.instance(e, InputError);
    assert.is((e as InputError).file, FILE);
    assert.match((e as InputError).problem, pattern);
    return;
  }
  assert.unreachable(`expected an InputError matching ${pattern}`);
}

test('fromTorchStateDict: missing/unexpected keys, dtypes, ranks and shape-chain errors', () => {
  const base = () => torchStateDict(randomModel([784, 32, 16, 10], 1)) as Record<string, SafeTensor>;
  let sd = base();
  delete sd['linear2.bias'];
  delete sd['output.weight'];
  expectModelError(sd, /missing linear2\.bias, output\.weight/);
  sd = base();
  sd['linear1.running_mean'] = { dtype: 'F32', shape: [1], data: new Float32Array(1) };
  sd['fc.weight'] = { dtype: 'F32', shape: [1], data: new Float32Array(1) };
  expectModelError(sd, /unexpected linear1\.running_mean, fc\.weight/);
  sd = base();
  sd['linear3.weight'] = sd['output.weight'];
  expectModelError(sd, /missing linear3\.bias/);
  sd = base();
  sd['module.output.bias'] = sd['output.bias'];
  expectModelError(sd, /'output\.bias' and 'module\.output\.bias' are the same parameter/);
  expectModelError({}, /missing output\.weight, output\.bias/);

  // the chain: linear2 takes 31 inputs but linear1 gives 32
  sd = base();
  sd['linear2.weight'] = { dtype: 'F32', shape: [16, 31], data: new Float32Array(16 * 31) };
  expectModelError(sd, /'linear1\.weight' \[32, 784\] outputs 32 values but 'linear2\.weight' \[16,31\] takes 31/);
  sd = base();
  sd['output.weight'] = { dtype: 'F32', shape: [10, 17], data: new Float32Array(170) };
  expectModelError(sd, /'output\.weight' \[10,17\] takes 17/);
  sd = base();
  sd['linear1.bias'] = { dtype: 'F32', shape: [31], data: new Float32Array(31) };
  expectModelError(sd, /'linear1\.bias' has shape \[31\] but 'linear1\.weight' \[32,784\] has 32 outputs/);
  sd = base();
  sd['linear1.bias'] = { dtype: 'F32', shape: [1, 32], data: new Float32Array(32) };
  expectModelError(sd, /'linear1\.bias' has shape \[1,32\], expected \[32\]/);
  sd = base();
  sd['linear2.weight'] = { dtype: 'F32', shape: [512], data: new Float32Array(512) };
  expectModelError(sd, /'linear2\.weight' has shape \[512\], expected \[out, in\]/);
  sd = base();
  sd['output.bias'] = { dtype: 'I64', shape: [10], data: new BigInt64Array(10) };
  expectModelError(sd, /'output\.bias' has dtype I64, expected a float type/);
});

test('saveModelFile / loadModelFile', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mlp-lens-w-'));
  try {
    const path = join(dir, 'model.safetensors');
    const layers = randomModel([784, 32, 16, 10], 31416);
    await saveModelFile(path, layers, { seed: '31416' });
    const { layers: back, metadata } = await loadModelFile(path);
    assertSameLayers(back, layers);
    assert.equal(metadata, { format: 'pt', 'mlp-lens': 'hidden=32,16', seed: '31416' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('torchStateDict rejects inconsistent layers (a programming error, not an InputError)', () => {
  const l = randomModel([4, 3, 2], 1);
  assert.throws(() => torchStateDict([]), /at least one layer/);
  assert.throws(() => torchStateDict([l[0], { ...l[1], dIn: 4, W: new Float32Array(8) }]), /outputs 3 values but layers\.1 takes 4/);
  assert.throws(() => torchStateDict([{ ...l[0], b: new Float32Array(2) }]), /layers\.0\.b/);
});

test.run();
