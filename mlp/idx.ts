// IDX files (the MNIST container): a 4-byte magic, big-endian uint32 dims, then big-endian data.
//
// we decode the data ourselves instead of with the `idx-data` package (measured on idx-data 1.1.0):
// - it cannot be loaded here: its compiled code requires `tslib`, which it does not declare;
// - with tslib supplied it takes ~1 s for the 47 MB training images (one Buffer.readUInt8 call per
//   byte), where a view takes no time;
// - it reads a multi-byte element split across two stream chunks wrongly, and throws uncaught
//   RangeErrors from its stream handler while doing so;
// - it knows only uint8/int32/float32, and throws from inside the event handler on other codes.
// the format is simple enough that validating and decoding in one place is the smaller risk.
//
// this module is pure (bytes in, arrays out) and runs in browsers; reading files (and gunzipping them) is
// run/mnist-files.ts's readIdxFile, fetching them in the page web/src/data.ts.
import { InputError } from './errors.ts';

export type IdxDtype = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';
export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

/** A decoded IDX array: `data` holds prod(shape) elements in row-major order, host byte order. */
export interface IdxArray {
  dtype: IdxDtype;
  shape: number[];
  data: IdxData;
}

// the most dimensions we accept: the format allows 255, no real file has more than a handful
const MAX_NDIM = 8;

const DTYPES: Record<number, { dtype: IdxDtype; size: number }> = {
  0x08: { dtype: 'uint8', size: 1 },
  0x09: { dtype: 'int8', size: 1 },
  0x0b: { dtype: 'int16', size: 2 },
  0x0c: { dtype: 'int32', size: 4 },
  0x0d: { dtype: 'float32', size: 4 },
  0x0e: { dtype: 'float64', size: 8 },
};
const DTYPE_SIZE = Object.fromEntries(Object.values(DTYPES).map((t) => [t.dtype, t.size])) as Record<IdxDtype, number>;

/** `0x0803`-style hex of a byte (or of two bytes, with `digits` 4), as the error messages write magic numbers */
export const hex = (b: number, digits = 2): string => '0x' + b.toString(16).padStart(digits, '0');

/** whether `bytes` start with the gzip magic 1f 8b */
export const isGzip = (bytes: Uint8Array): boolean => bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;

/** What an IDX header says: the data type, the dims and the byte counts they imply. */
export interface IdxHeader {
  dtype: IdxDtype;
  shape: number[];
  /** 4 + 4·ndim */
  headerBytes: number;
  /** prod(shape) · the element size; a bigint, exact for absurd headers (8 dims of 2^32-1 overflow a double) */
  dataBytes: bigint;
}

/**
 * The header of an IDX file from its first bytes, validated (magic, type code, ndim, no zero dim);
 * null while `bytes` is too short to hold all of it. Problems throw `InputError(file, …)`.
 */
export function parseIdxHeader(bytes: Uint8Array, file: string): IdxHeader | null {
  const fail = (problem: string): never => {
    throw new InputError(file, problem);
  };
  if (bytes.length < 4) return null;

  if (bytes[0] !== 0 || bytes[1] !== 0) {
    const magic = hex((bytes[0]! << 8) | bytes[1]!, 4);
    const hint = bytes[0] === 0x1f && bytes[1] === 0x8b ? ' (gzip? name it .gz)' : ' (an IDX file starts with 0x0000)';
    fail(`not an IDX file: magic bytes ${magic}${hint}`);
  }

  const code = bytes[2]!;
  const type = DTYPES[code];
  if (!type) {
    const known = Object.entries(DTYPES).map(([c, t]) => `${hex(Number(c))} ${t.dtype}`).join(', ');
    return fail(`unknown IDX data type code ${hex(code)} (known: ${known})`);
  }

  const ndim = bytes[3]!;
  if (ndim === 0) fail('ndim is 0: an IDX array needs at least 1 dimension');
  if (ndim > MAX_NDIM) fail(`ndim is ${ndim}: more than the ${MAX_NDIM} dimensions we accept`);

  const headerBytes = 4 + 4 * ndim;
  if (bytes.length < headerBytes) return null;

  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  for (let i = 0; i < ndim; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    if (d === 0) fail(`dimension ${i} of ${ndim} is 0: every dimension must be positive`);
    shape.push(d);
  }
  const dataBytes = shape.reduce((p, d) => p * BigInt(d), 1n) * BigInt(type.size);
  return { dtype: type.dtype, shape, headerBytes, dataBytes };
}

/**
 * Parses the bytes of an (uncompressed) IDX file.
 *
 * Shapes: header dims [d0, …, dk-1] → `shape` = those dims, `data.length` = d0·…·dk-1.
 * uint8 and int8 data are zero-copy views into `bytes` (they share its memory); wider types are
 * decoded from big-endian into a fresh typed array. Every problem throws `InputError(file, …)`;
 * sizes are checked against the byte count before anything is allocated.
 */
export function parseIdx(bytes: Uint8Array, file: string): IdxArray {
  const fail = (problem: string): never => {
    throw new InputError(file, problem);
  };
  const header = parseIdxHeader(bytes, file);
  if (!header) {
    if (bytes.length < 4) fail(`too short for an IDX file: ${bytes.length} bytes, the header alone needs at least 4`);
    const need = 4 + 4 * bytes[3]!;
    return fail(`header truncated: ${bytes[3]} dimensions need ${need} header bytes, file has ${bytes.length}`);
  }
  const { dtype, shape, headerBytes, dataBytes: expected } = header;
  const actual = bytes.length - headerBytes;
  if (expected !== BigInt(actual)) {
    const what = `header says ${shape.join('×')} ${dtype} = ${expected} bytes of data, file has ${actual}`;
    fail(expected > BigInt(actual) ? `truncated: ${what}` : `trailing bytes: ${what} (${BigInt(actual) - expected} extra)`);
  }

  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = actual / DTYPE_SIZE[dtype];
  const start = bytes.byteOffset + headerBytes;
  let data: IdxData;
  switch (dtype) {
    case 'uint8':
      data = new Uint8Array(bytes.buffer, start, n);
      break;
    case 'int8':
      data = new Int8Array(bytes.buffer, start, n);
      break;
    case 'int16': {
      const out = new Int16Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt16(headerBytes + 2 * i, false);
      data = out;
      break;
    }
    case 'int32': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt32(headerBytes + 4 * i, false);
      data = out;
      break;
    }
    case 'float32': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(headerBytes + 4 * i, false);
      data = out;
      break;
    }
    case 'float64': {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(headerBytes + 8 * i, false);
      data = out;
      break;
    }
  }
  return { dtype, shape, data };
}

/** The most bytes an IDX file may hold (unpacked), and how a refusal names that limit. */
export interface IdxLimit {
  bytes: number;
  /** completes "header claims N bytes, above …" */
  text: string;
}

/** the largest IDX file we accept, unpacked (2 GiB); MNIST's biggest is 47 MB */
export const MAX_IDX_BYTES = 2 ** 31;

/** the per-file limit, MAX_IDX_BYTES */
export const IDX_FILE_LIMIT: IdxLimit = { bytes: MAX_IDX_BYTES, text: `the limit of ${MAX_IDX_BYTES} bytes per IDX file` };

/**
 * Builds an IDX file from the chunks of a stream (a decompressor's output) without trusting the
 * stream: the header, read from the first bytes, gives the file's size, which is checked against
 * `limit` before the one buffer of that size is allocated, and a chunk that would go past that size
 * is refused at once. A gzip bomb so unpacks no more than its header claims, plus one chunk.
 * `push` every chunk in order, then `finish()` → the array, as `parseIdx` (uint8 data is a view of
 * the buffer). Every problem throws `InputError(file, …)`; the caller stops reading on the first.
 */
export class IdxAssembler {
  // the header is at most 4 + 4·MAX_NDIM bytes; a longer one fails on its ndim
  private readonly head = new Uint8Array(4 + 4 * MAX_NDIM);
  private headLength = 0;
  private header: IdxHeader | null = null;
  private out: Uint8Array | null = null;
  private filled = 0;

  constructor(readonly file: string, readonly limit: IdxLimit = IDX_FILE_LIMIT) {}

  /** the file's size by its header, once the header has arrived */
  get totalBytes(): number | null {
    return this.out ? this.out.length : null;
  }

  push(chunk: Uint8Array): void {
    if (this.out) return this.append(chunk);
    const n = Math.min(chunk.length, this.head.length - this.headLength);
    this.head.set(chunk.subarray(0, n), this.headLength);
    this.headLength += n;
    const header = parseIdxHeader(this.head.subarray(0, this.headLength), this.file);
    // NOTE: null only while the head is not full, so all of `chunk` is in it
    if (!header) return;
    const total = BigInt(header.headerBytes) + header.dataBytes;
    const what = `${header.shape.join('×')} ${header.dtype}`;
    if (total > BigInt(this.limit.bytes)) throw new InputError(this.file, `header claims ${total} bytes (${what}), above ${this.limit.text}`);
    this.header = header;
    this.out = new Uint8Array(Number(total));
    this.append(this.head.subarray(0, this.headLength));
    this.append(chunk.subarray(n));
  }

  finish(): IdxArray {
    return parseIdx(this.out ? this.out.subarray(0, this.filled) : this.head.subarray(0, this.headLength), this.file);
  }

  private append(bytes: Uint8Array): void {
    const out = this.out!;
    if (this.filled + bytes.length > out.length) {
      const { shape, dtype, headerBytes } = this.header!;
      throw new InputError(
        this.file,
        `holds more than its header's ${out.length} bytes (a ${headerBytes}-byte header and ${shape.join('×')} ${dtype}): stopped unpacking there`,
      );
    }
    out.set(bytes, this.filled);
    this.filled += bytes.length;
  }
}
