// MNIST from its four IDX files, validated so that a bad download fails with a one-line reason. Pure:
// the arrays come parsed (mlp/idx.ts parseIdx); reading them from a folder is run/mnist-files.ts's
// loadMnist, fetching them in the page web/src/data.ts's fetchMnist.
import { InputError } from './errors.ts';
import { IDX_FILE_LIMIT, type IdxArray, type IdxLimit } from './idx.ts';

/** One split: `images` is [count, rows*cols] row-major raw pixels 0..255, `labels` is [count]. */
export interface Split {
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
  rows: number;
  cols: number;
}

/** the four files of MNIST, by role */
export interface MnistFiles { trainImages: string; trainLabels: string; testImages: string; testLabels: string }

/** Both splits, the folder they came from and the full path of each file read. */
export interface Mnist {
  train: Split;
  test: Split;
  dir: string;
  files: MnistFiles;
}

/** the file names of each role, standard spelling first; the dotted one is how some mirrors ship them (each also as .gz) */
export const MNIST_FILE_NAMES = {
  trainImages: ['train-images-idx3-ubyte', 'train-images.idx3-ubyte'],
  trainLabels: ['train-labels-idx1-ubyte', 'train-labels.idx1-ubyte'],
  testImages: ['t10k-images-idx3-ubyte', 't10k-images.idx3-ubyte'],
  testLabels: ['t10k-labels-idx1-ubyte', 't10k-labels.idx1-ubyte'],
} as const satisfies Record<keyof MnistFiles, readonly string[]>;

/**
 * The most bytes the four files may unpack to, together (1 GiB): MNIST and Fashion-MNIST are 55 MB,
 * EMNIST's largest split (byclass) 640 MB. Read one after the other, each against what is left, the
 * four files never hold more memory than this, whatever their headers claim or their gzip data unpacks to.
 */
export const MAX_MNIST_BYTES = 2 ** 30;

/** the limit on the next file once `used` bytes of the four are read: what is left of `max`, at most IDX_FILE_LIMIT */
export function mnistFileLimit(used: number, max = MAX_MNIST_BYTES): IdxLimit {
  const left = Math.max(0, max - used);
  if (left >= IDX_FILE_LIMIT.bytes) return IDX_FILE_LIMIT;
  const text = used > 0 ? `the ${left} bytes left of the ${max}-byte limit on the four MNIST files` : `the ${max}-byte limit on the four MNIST files`;
  return { bytes: left, text };
}

/** the bytes an IDX file holds (its header and data), for counting against MAX_MNIST_BYTES */
export const idxFileBytes = (a: IdxArray): number => 4 + 4 * a.shape.length + a.data.byteLength;

// the last part of a path ('/' or '\' separated), for messages that name a second file
const baseName = (path: string): string => path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);

/** the number of classes, checked: an integer from 1 to 256 (labels are uint8); default 10 */
export function mnistClasses(classes = 10): number {
  if (!Number.isInteger(classes) || classes < 1 || classes > 256) {
    throw new InputError('classes', `must be an integer from 1 to 256 (labels are uint8), got ${classes}`);
  }
  return classes;
}

/**
 * Both splits from the four parsed IDX arrays; `files` names each array in errors. Shapes: images
 * [n, rows, cols] uint8 → Split.images [n, rows*cols] (a view, no copy), labels [n] uint8, each label
 * < `classes`; train and test images must have the same size. Every problem throws `InputError`.
 */
export function mnistFromIdx(arrays: Record<keyof MnistFiles, IdxArray>, files: MnistFiles, classes = 10): { train: Split; test: Split } {
  const train = toSplit(arrays.trainImages, files.trainImages, arrays.trainLabels, files.trainLabels, classes);
  const test = toSplit(arrays.testImages, files.testImages, arrays.testLabels, files.testLabels, classes);
  // a model trained on one image size cannot be tested on another
  if (train.rows !== test.rows || train.cols !== test.cols) {
    throw new InputError(
      files.testImages,
      `images are ${test.rows}×${test.cols} but ${baseName(files.trainImages)} has ${train.rows}×${train.cols}`,
    );
  }
  return { train, test };
}

/** one split from its parsed images [n, rows, cols] and labels [n] (uint8, each < `classes`); InputError naming the file at fault */
export function toSplit(images: IdxArray, imagesFile: string, labels: IdxArray, labelsFile: string, classes: number): Split {
  if (images.dtype !== 'uint8' || images.shape.length !== 3) {
    throw new InputError(imagesFile, `expected uint8 images [n, rows, cols], got ${images.dtype} [${images.shape.join(', ')}]`);
  }
  if (labels.dtype !== 'uint8' || labels.shape.length !== 1) {
    throw new InputError(labelsFile, `expected uint8 labels [n], got ${labels.dtype} [${labels.shape.join(', ')}]`);
  }
  const [count, rows, cols] = images.shape as [number, number, number];
  if (labels.shape[0] !== count) {
    throw new InputError(imagesFile, `has ${count} images but ${baseName(labelsFile)} has ${labels.shape[0]} labels`);
  }
  const labelData = labels.data as Uint8Array;
  for (let i = 0; i < count; i++) {
    if (labelData[i]! >= classes) {
      throw new InputError(labelsFile, `label ${labelData[i]} at index ${i} is out of range for ${classes} classes (0..${classes - 1})`);
    }
  }
  return { images: images.data as Uint8Array, labels: labelData, count, rows, cols };
}
