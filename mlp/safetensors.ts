/**
 * The safetensors format (https://github.com/huggingface/safetensors), both ways.
 *
 * Layout: an 8-byte little-endian u64 N, then N bytes of UTF-8 JSON header
 * `{"__metadata__": {string: string}, "<name>": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ..}`
 * (padded with spaces to a multiple of 8), then the byte buffer. Offsets are relative to the buffer
 * start; tensors are little-endian, row-major, contiguous, and tile the buffer with no gaps or overlaps.
 *
 * `encodeSafetensors` / `decodeSafetensors` are pure (Uint8Array in/out) and run in browsers;
 * the file IO (`readSafetensorsFile` / `writeSafetensorsFile`, Node and Deno) is run/model-files.ts.
 */
import { clip, InputError, quote } from './errors.ts';

/** Element types we read and write (the safetensors names; F8 variants are recognised but rejected). */
export type Dtype =
  | 'BOOL' | 'U8' | 'I8' | 'I16' | 'U16' | 'F16' | 'BF16' | 'I32' | 'U32' | 'F32' | 'F64' | 'I64' | 'U64';

/** The array a decoded tensor of each dtype holds (F16 and BF16 are widened, exactly, to f32). */
export interface DecodedArrays {
  BOOL: Uint8Array; U8: Uint8Array; I8: Int8Array; I16: Int16Array; U16: Uint16Array;
  F16: Float32Array; BF16: Float32Array; I32: Int32Array; U32: Uint32Array;
  F32: Float32Array; F64: Float64Array; I64: BigInt64Array; U64: BigUint64Array;
}

/** The arrays accepted when encoding: as decoded, plus raw 16-bit patterns (Uint16Array) for F16/BF16. */
export interface EncodableArrays extends Omit<DecodedArrays, 'F16' | 'BF16'> {
  F16: Float32Array | Uint16Array; BF16: Float32Array | Uint16Array;
}

/** A decoded tensor: `data` holds product(shape) elements, row-major. */
export type SafeTensor<D extends Dtype = Dtype> =
  { [K in D]: { dtype: K; shape: number[]; data: DecodedArrays[K] } }[D];

/** A tensor to encode: `data` holds product(shape) elements, row-major. */
export type TensorInput<D extends Dtype = Dtype> =
  { [K in D]: { dtype: K; shape: readonly number[]; data: EncodableArrays[K] } }[D];

/** What `decodeSafetensors` returns: tensors in file (offset) order, and the `__metadata__` strings. */
export interface DecodedSafetensors {
  tensors: Record<string, SafeTensor>;
  metadata: Record<string, string>;
}

/**
 * Largest header we accept by default, as the reference implementation does (100 MB). Parsing a JSON
 * header costs memory in proportion to its bytes (up to ~30× for a hostile one of tiny values), so
 * readers of files from elsewhere pass a smaller `maxHeaderBytes` (mlp/weights.ts: 1 MiB for a model).
 */
export const MAX_HEADER_BYTES = 100_000_000;

/**
 * How deep a header's JSON may nest: the header object (1), a tensor's entry or `__metadata__` (2),
 * its `shape` and `data_offsets` (3). Checked before JSON.parse, which would otherwise build a deep
 * chain of arrays from a file of brackets (16 MB of `[` took 5.7 s and 857 MB).
 */
export const MAX_HEADER_DEPTH = 3;

/**
 * The most JSON values (array elements and object members) a header of `tensors` tensors may hold,
 * counted before JSON.parse: 16 per tensor (dtype, data_offsets and a shape of up to 13 dimensions)
 * and 4096 metadata entries. With the byte ceiling this bounds what parsing allocates: JSON.parse makes
 * one object per value (16 MB of `{},` made 586 MB), and a string costs about its bytes.
 */
function valuesFor(tensors: number): number {
  return 16 * tensors + 4096;
}

/** Ceilings a reader of safetensors bytes may set below the defaults; all are checked before JSON.parse runs. */
export interface DecodeLimits {
  /** the largest header in bytes (default MAX_HEADER_BYTES) */
  maxHeaderBytes?: number;
  /**
   * the most tensors the header may name, and so the most values it may hold (valuesFor); default: no
   * count, only the header's bytes bound them
   */
  maxTensors?: number;
}

const ITEM_SIZE: Record<Dtype, number> = {
  BOOL: 1, U8: 1, I8: 1, I16: 2, U16: 2, F16: 2, BF16: 2, I32: 4, U32: 4, F32: 4, F64: 8, I64: 8, U64: 8,
};

// the reference library's dtype order (increasing alignment); it writes tensors in the reverse of
// this order, then by name, so every tensor starts aligned without padding between tensors.
const DTYPE_RANK: Record<Dtype, number> = {
  BOOL: 0, U8: 1, I8: 2, I16: 5, U16: 6, F16: 7, BF16: 8, I32: 9, U32: 10, F32: 11, F64: 12, I64: 13, U64: 14,
};

// names from the spec that we know but do not convert, so the error can say "unsupported" rather than "unknown"
const KNOWN_UNSUPPORTED = new Set(['F8_E5M2', 'F8_E4M3', 'F8_E4M3FN', 'F8_E8M0', 'F4', 'F6_E2M3', 'F6_E3M2', 'C64']);

const ARRAY_CTOR = {
  BOOL: Uint8Array, U8: Uint8Array, I8: Int8Array, I16: Int16Array, U16: Uint16Array,
  I32: Int32Array, U32: Uint32Array, F32: Float32Array, F64: Float64Array, I64: BigInt64Array, U64: BigUint64Array,
} as const;

// typed arrays use the host's byte order; the format is little-endian, so a big-endian host swaps
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function isDtype(s: unknown): s is Dtype {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(ITEM_SIZE, s);
}

/** Copies `n` items of `size` bytes from `src[start..]` into a fresh buffer in host byte order. */
function toHostOrder(src: Uint8Array, start: number, n: number, size: number): ArrayBuffer {
  const out = new Uint8Array(n * size);
  out.set(src.subarray(start, start + n * size));
  if (!HOST_LITTLE_ENDIAN && size > 1) swapItems(out, size);
  return out.buffer;
}

function swapItems(bytes: Uint8Array, size: number): void {
  for (let i = 0; i < bytes.length; i += size) bytes.subarray(i, i + size).reverse();
}

// ---------- half-precision conversions ----------

// conversions work on bit patterns: a NaN passing through a JS number may get its quiet bit set,
// which would break bit-exact round trips of signalling NaNs
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** f16 bit pattern → f32 bit pattern (exact: every f16 is an f32, NaN payloads kept). */
function f16BitsToF32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >> 10) & 0x1f;
  let man = h & 0x3ff;
  if (exp === 31) return (sign | 0x7f800000 | (man << 13)) >>> 0;
  if (exp !== 0) return (sign | ((exp + 112) << 23) | (man << 13)) >>> 0;
  if (man === 0) return sign >>> 0;
  // subnormal f16: normalise into an f32 exponent
  let e = 113;
  while (!(man & 0x400)) { man <<= 1; e--; }
  return (sign | (e << 23) | ((man & 0x3ff) << 13)) >>> 0;
}

/** f32 bit pattern → f16 bit pattern, rounding to nearest even; overflow gives ±Inf, NaN stays NaN. */
function f32BitsToF16Bits(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff, man = bits & 0x7fffff;
  if (exp === 0xff) {
    if (man === 0) return sign | 0x7c00;
    // truncate the payload, but never to zero (that would be Inf)
    return sign | 0x7c00 | (man >>> 13) | (man >>> 13 ? 0 : 0x200);
  }
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    // subnormal f16 (or zero): shift the full significand right, rounding to nearest even
    if (e < -10) return sign;
    const sig = man | 0x800000;
    const shift = 14 - e;
    let half = sig >>> shift;
    const rem = sig & ((1 << shift) - 1), mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && (half & 1))) half++;
    return sign | half;
  }
  let half = (e << 10) | (man >>> 13);
  const rem = man & 0x1fff;
  // a carry out of the mantissa correctly bumps the exponent (up to Inf)
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1))) half++;
  return sign | half;
}

/** f32 bit pattern → bf16 bit pattern, rounding to nearest even; NaN stays NaN. */
function f32BitsToBf16Bits(bits: number): number {
  if ((bits & 0x7f800000) === 0x7f800000 && (bits & 0x7fffff) !== 0) {
    const top = bits >>> 16;
    return (top & 0x7f) ? top : top | 0x40;
  }
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

/** f16 bit pattern → value. */
export function f16ToF32(h: number): number {
  u32[0] = f16BitsToF32Bits(h);
  return f32[0];
}

/** Value (rounded to f32 first) → f16 bit pattern, rounding to nearest even; overflow gives ±Inf. */
export function f32ToF16(x: number): number {
  f32[0] = x;
  return f32BitsToF16Bits(u32[0]);
}

/** bf16 bit pattern → value (bf16 is the top half of an f32). */
export function bf16ToF32(h: number): number {
  u32[0] = h << 16;
  return f32[0];
}

/** Value (rounded to f32 first) → bf16 bit pattern, rounding to nearest even; NaN stays NaN. */
export function f32ToBf16(x: number): number {
  f32[0] = x;
  return f32BitsToBf16Bits(u32[0]);
}

// ---------- encode ----------

function checkShape(shape: readonly number[], what: string): number {
  if (!Array.isArray(shape)) throw new TypeError(`${what}: shape must be an array`);
  let n = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new RangeError(`${what}: bad dimension ${d} in shape [${shape}]`);
    n *= d;
  }
  if (!Number.isSafeInteger(n)) throw new RangeError(`${what}: shape [${shape}] is too large`);
  return n;
}

/** Little-endian bytes of one tensor's data (length product(shape)·itemsize; may be a view of `t.data`). */
function tensorBytes(name: string, t: TensorInput): Uint8Array {
  const what = `tensor '${name}' (${t.dtype})`;
  const n = checkShape(t.shape, what);
  const data = t.data as ArrayLike<unknown> & ArrayBufferView;
  if (data.length !== n) throw new RangeError(`${what}: data has ${data.length} elements, shape [${t.shape}] needs ${n}`);
  if (t.dtype === 'F16' || t.dtype === 'BF16') {
    let bits: Uint16Array;
    if (t.data instanceof Uint16Array) bits = t.data;
    else if (t.data instanceof Float32Array) {
      bits = new Uint16Array(n);
      const src = new Uint32Array(t.data.buffer, t.data.byteOffset, n);
      const conv = t.dtype === 'F16' ? f32BitsToF16Bits : f32BitsToBf16Bits;
      for (let i = 0; i < n; i++) bits[i] = conv(src[i]);
    } else throw new TypeError(`${what}: data must be a Float32Array or Uint16Array`);
    return littleEndianView(bits, 2);
  }
  const ctor = ARRAY_CTOR[t.dtype];
  if (!(t.data instanceof ctor)) throw new TypeError(`${what}: data must be a ${ctor.name}`);
  if (t.dtype === 'BOOL') {
    for (let i = 0; i < n; i++) if (data[i] as number > 1) throw new RangeError(`${what}: element ${i} is ${data[i]}, not 0 or 1`);
  }
  return littleEndianView(data, ITEM_SIZE[t.dtype]);
}

/** The bytes of a typed array in little-endian order: a view on little-endian hosts, a swapped copy otherwise. */
function littleEndianView(a: ArrayBufferView, size: number): Uint8Array {
  const view = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  if (HOST_LITTLE_ENDIAN || size === 1) return view;
  const copy = view.slice();
  swapItems(copy, size);
  return copy;
}

/**
 * Serialises tensors to safetensors bytes, byte-for-byte as the reference library does: tensors
 * ordered by dtype alignment (8-byte types first) then by name, `__metadata__` first in the header
 * (its keys sorted), compact JSON, header padded with spaces to a multiple of 8 bytes.
 *
 * @param tensors name → {dtype, shape (row-major), data with product(shape) elements}; F16/BF16
 *   take f32 values (rounded to nearest even) or raw bit patterns in a Uint16Array.
 * @param metadata optional string → string map stored as `__metadata__` (omitted when undefined).
 * @returns the whole file, 8 + header + Σ product(shape)·itemsize bytes.
 */
export function encodeSafetensors(tensors: Record<string, TensorInput>, metadata?: Record<string, string>): Uint8Array {
  const entries = Object.keys(tensors).map((name) => {
    if (name === '__metadata__') throw new RangeError(`'__metadata__' is reserved and cannot name a tensor`);
    const t = tensors[name];
    if (!isDtype(t.dtype)) throw new TypeError(`tensor '${name}': unknown dtype ${String(t.dtype)}`);
    return { name, t, bytes: tensorBytes(name, t) };
  });
  entries.sort((a, b) => DTYPE_RANK[b.t.dtype] - DTYPE_RANK[a.t.dtype] || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  // build the header by hand so the key order is fixed (JSON.stringify would put integer-like names first)
  const parts: string[] = [];
  if (metadata !== undefined) {
    const keys = Object.keys(metadata).sort();
    for (const k of keys) {
      if (typeof metadata[k] !== 'string') throw new TypeError(`metadata '${k}': value must be a string`);
    }
    parts.push(`"__metadata__":{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(metadata[k])}`).join(',')}}`);
  }
  let offset = 0;
  for (const { name, t, bytes } of entries) {
    const end = offset + bytes.length;
    parts.push(`${JSON.stringify(name)}:{"dtype":"${t.dtype}","shape":[${t.shape.join(',')}],"data_offsets":[${offset},${end}]}`);
    offset = end;
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const headerLen = Math.ceil(json.length / 8) * 8;

  const out = new Uint8Array(8 + headerLen + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLen), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLen);
  let at = 8 + headerLen;
  for (const { bytes } of entries) { out.set(bytes, at); at += bytes.length; }
  return out;
}

// ---------- decode ----------

/**
 * Finds a repeated key in any object of a JSON text that JSON.parse already accepted (JSON.parse
 * silently keeps the last one). Returns the first duplicate key, or undefined.
 */
function findDuplicateKey(text: string): string | undefined {
  // one set of seen keys per open object; arrays push null
  const stack: (Set<string> | null)[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '{') stack.push(new Set());
    else if (c === '[') stack.push(null);
    else if (c === '}' || c === ']') stack.pop();
    else if (c === '"') {
      const start = i;
      for (i++; text[i] !== '"'; i++) if (text[i] === '\\') i++;
      const top = stack[stack.length - 1];
      if (!top) continue;
      // a string inside an object is a key when a colon follows it
      let j = i + 1;
      while (text[j] === ' ' || text[j] === '\t' || text[j] === '\n' || text[j] === '\r') j++;
      if (text[j] !== ':') continue;
      const key = JSON.parse(text.slice(start, i + 1)) as string;
      if (top.has(key)) return key;
      top.add(key);
    }
  }
  return undefined;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const describe = (v: unknown): string => quote(v);

/** a shape for a message, `[1,32]` (or with `sep` between): at most 8 dimensions shown (a header may claim millions) */
export function shapeText(shape: readonly number[], sep = ','): string {
  return shape.length > 8 ? `[${shape.slice(0, 8).join(sep)}${sep}… (${shape.length} dimensions)]` : `[${shape.join(sep)}]`;
}

// an own property even for a name like `__proto__` (plain assignment would set the prototype instead)
function own<T>(o: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Walks header text once, before JSON.parse: the deepest nesting of `{`/`[` outside strings, the
 * number of entries of the outermost object (commas at depth 1, plus one) and of values at every depth
 * (all commas, plus one): upper bounds on what JSON.parse would make. Stops as soon as the depth or a
 * count passes its limit, and never reads past the text, so it is cheap and safe on text that is not
 * JSON (JSON.parse then says what is wrong with it).
 */
function scanHeader(text: string, maxDepth: number, maxEntries: number, maxValues: number): { depth: number; entries: number; values: number } {
  let depth = 0, deepest = 0, entries = 1, values = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) { // '"': skip the string, with its escapes
      for (i++; i < text.length && text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c) i++;
    } else if (c === 0x7b || c === 0x5b) { // '{' '['
      if (++depth > deepest) deepest = depth;
      if (deepest > maxDepth) break;
    } else if (c === 0x7d || c === 0x5d) depth--;
    else if (c === 0x2c) { // ','
      if (depth === 1 && ++entries > maxEntries) break;
      if (++values > maxValues) break;
    }
  }
  return { depth: deepest, entries, values };
}

interface HeaderEntry { name: string; dtype: Dtype; shape: number[]; begin: number; end: number }

/**
 * Parses and validates safetensors bytes. Every problem (truncated file, absurd header length,
 * header not UTF-8 JSON object, unknown dtype, bad shape or offsets, size mismatch, offsets outside
 * the buffer, overlaps, holes, duplicate names, bad metadata) throws `InputError(file, problem)`.
 *
 * @param bytes the whole file.
 * @param file the name used in error messages.
 * @returns tensors in offset order (F16/BF16 widened to Float32Array, I64/U64 as BigInt arrays;
 *   every array is a fresh copy) and the `__metadata__` map ({} when absent).
 */
export function decodeSafetensors(bytes: Uint8Array, file: string, limits: DecodeLimits = {}): DecodedSafetensors {
  function fail(problem: string): never { throw new InputError(file, problem); }
  const maxHeader = limits.maxHeaderBytes ?? MAX_HEADER_BYTES;
  if (bytes.length < 8) fail(`not a safetensors file: ${bytes.length} bytes, shorter than the 8-byte header length`);
  const n64 = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true);
  // check the declared length against the file before touching (or allocating) anything
  if (n64 > BigInt(maxHeader)) {
    fail(maxHeader === MAX_HEADER_BYTES
      ? `header length ${n64} is absurd (more than ${MAX_HEADER_BYTES} bytes)`
      : `header length ${n64} is more than the ${maxHeader} bytes this file may have`);
  }
  const n = Number(n64);
  if (n > bytes.length - 8) fail(`header length ${n} is larger than the file (${bytes.length} bytes)`);
  if (n === 0) fail('header is empty');

  let text = '';
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    fail('header is not valid UTF-8');
  }
  // the shape of the text before JSON.parse allocates anything from it
  const maxTensors = limits.maxTensors ?? Infinity, maxValues = valuesFor(maxTensors);
  const { depth, entries: named, values } = scanHeader(text, MAX_HEADER_DEPTH, maxTensors + 1, maxValues);
  if (depth > MAX_HEADER_DEPTH) fail(`header nests deeper than the ${MAX_HEADER_DEPTH} levels of a safetensors header`);
  if (named > maxTensors + 1) fail(`header names more than ${maxTensors} tensors, the most this file may hold`);
  if (values > maxValues) fail(`header holds more than ${maxValues} values, more than ${maxTensors} tensors and their metadata need`);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    // the parser quotes the text around the problem: keep the message on one line and short
    fail(`header is not valid JSON (${clip((e as Error).message, 120)})`);
  }
  if (!isPlainObject(header)) fail(`header is not a JSON object but ${describe(header)}`);
  const dup = findDuplicateKey(text);
  if (dup !== undefined) fail(`header names '${clip(dup)}' twice`);
  const h = header as Record<string, unknown>;
  if (limits.maxTensors !== undefined) {
    const count = Object.keys(h).length - ('__metadata__' in h ? 1 : 0);
    if (count > limits.maxTensors) fail(`header names ${count} tensors, more than the ${limits.maxTensors} this file may hold`);
  }

  const metadata: Record<string, string> = {};
  if ('__metadata__' in h) {
    const m = h.__metadata__;
    if (!isPlainObject(m)) fail(`__metadata__ is not an object of strings but ${describe(m)}`);
    for (const [k, v] of Object.entries(m as Record<string, unknown>)) {
      if (typeof v !== 'string') fail(`__metadata__ '${clip(k)}' is not a string but ${describe(v)}`);
      own(metadata, k, v as string);
    }
  }

  const bufferStart = 8 + n, bufferLen = bytes.length - bufferStart;
  const entries: HeaderEntry[] = [];
  for (const [name, info] of Object.entries(h)) {
    if (name === '__metadata__') continue;
    const where = `tensor '${clip(name)}'`;
    if (!isPlainObject(info)) fail(`${where}: entry is not an object but ${describe(info)}`);
    const { dtype, shape, data_offsets: offs } = info as Record<string, unknown>;
    if (dtype === undefined) fail(`${where}: no dtype`);
    if (!isDtype(dtype)) {
      fail(KNOWN_UNSUPPORTED.has(dtype as string)
        ? `${where}: dtype ${dtype} is not supported (supported: ${Object.keys(ITEM_SIZE).join(', ')})`
        : `${where}: unknown dtype ${describe(dtype)}`);
    }
    const dt = dtype as Dtype;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`${where}: shape ${describe(shape)} is not an array of non-negative integers`);
    }
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      fail(`${where}: data_offsets ${describe(offs)} is not two non-negative integers`);
    }
    const [begin, end] = offs as [number, number];
    if (begin > end) fail(`${where}: data_offsets [${begin}, ${end}] end before they begin`);
    // product(shape)·itemsize, bailing out once it passes the span so huge shapes cannot overflow
    let count = 1;
    for (const d of shape as number[]) count = Math.min(count * d, Number.MAX_SAFE_INTEGER);
    const need = count * ITEM_SIZE[dt];
    if (need !== end - begin) {
      // past 2^53 the count above was clamped: the exact product for a short shape, else a bound
      const needs = count < Number.MAX_SAFE_INTEGER ? String(need)
        : (shape as number[]).length <= 8 ? String((shape as number[]).reduce((p, d) => p * BigInt(d), BigInt(ITEM_SIZE[dt])))
        : 'more than 2^53';
      fail(`${where}: shape ${shapeText(shape as number[])} of ${dt} needs ${needs} bytes but data_offsets [${begin}, ${end}] span ${end - begin}`);
    }
    if (end > bufferLen) fail(`${where}: data_offsets [${begin}, ${end}] run past the end of the data (${bufferLen} bytes)`);
    entries.push({ name, dtype: dt, shape: shape as number[], begin, end });
  }

  // tensors must tile [0, bufferLen) exactly
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0, prev = '';
  for (const e of entries) {
    if (e.begin < at) fail(`tensors '${clip(prev)}' and '${clip(e.name)}' overlap (bytes ${e.begin}..${at})`);
    if (e.begin > at) fail(`hole of ${e.begin - at} unused bytes before tensor '${clip(e.name)}' (bytes ${at}..${e.begin})`);
    at = e.end;
    prev = e.name;
  }
  if (at !== bufferLen) fail(`${bufferLen - at} unused bytes after the last tensor`);

  const tensors: Record<string, SafeTensor> = {};
  for (const e of entries) {
    const count = (e.end - e.begin) / ITEM_SIZE[e.dtype];
    const start = bufferStart + e.begin;
    const shape = e.shape.slice();
    if (e.dtype === 'F16' || e.dtype === 'BF16') {
      const bits = new Uint16Array(toHostOrder(bytes, start, count, 2));
      const data = new Float32Array(count), out = new Uint32Array(data.buffer);
      if (e.dtype === 'F16') for (let i = 0; i < count; i++) out[i] = f16BitsToF32Bits(bits[i]);
      else for (let i = 0; i < count; i++) out[i] = bits[i] << 16;
      own(tensors, e.name, { dtype: e.dtype, shape, data });
      continue;
    }
    const buf = toHostOrder(bytes, start, count, ITEM_SIZE[e.dtype]);
    const data = new ARRAY_CTOR[e.dtype](buf);
    if (e.dtype === 'BOOL') {
      const bad = (data as Uint8Array).findIndex((v) => v > 1);
      if (bad >= 0) fail(`tensor '${clip(e.name)}': BOOL element ${bad} is ${data[bad]}, not 0 or 1`);
    }
    own(tensors, e.name, { dtype: e.dtype, shape, data } as SafeTensor);
  }
  return { tensors, metadata };
}
