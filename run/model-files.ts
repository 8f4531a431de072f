// model and safetensors files on disk, for Node and Deno (the formats: mlp/safetensors.ts, mlp/weights.ts).
import { decodeSafetensors, type DecodedSafetensors } from '../mlp/safetensors.ts';
import {
  decodeModel, decodeModelWithNorm, encodeModel, encodeModelWithNorm, type LayerParams, type NormParams,
} from '../mlp/weights.ts';
import { decodeCnnModel, encodeCnnModel } from '../mlp/cnn-weights.ts';
import type { ResolvedLayer } from '../mlp/arch.ts';
import { readBytes, writeAtomic } from './files.ts';

/** Reads and decodes a safetensors file; a missing/unreadable file or bad content throws InputError naming `path`. */
export async function readSafetensorsFile(path: string): Promise<DecodedSafetensors> {
  return decodeSafetensors(await readSafetensorsBytes(path), path);
}

/**
 * the most a model file is read into memory: Node reads no more than 2 GiB into one buffer anyway, and a
 * 784-100000-10 model in F64 is 0.6 GB. Larger files are refused before they are read.
 */
export const MAX_MODEL_FILE_BYTES = 2 ** 31 - 1;

function readSafetensorsBytes(path: string): Promise<Uint8Array> {
  return readBytes(path, { limit: MAX_MODEL_FILE_BYTES, missing: 'cannot read: no such file', expected: 'a .safetensors file' });
}

/** writes the bytes atomically (run/files.ts writeAtomic): a reader never sees a half-written file */
export async function writeSafetensorsFile(path: string, bytes: Uint8Array): Promise<void> {
  await writeAtomic(path, bytes);
}

/**
 * Saves layers as a safetensors file loadable by PyTorch (`load_state_dict` of the notebooks' MLP
 * for 784-32-16-10), atomically. Metadata is `modelMetadata(layers)` overridden by `metadata`.
 */
export async function saveModelFile(
  path: string, layers: readonly LayerParams[], metadata?: Record<string, string>,
): Promise<void> {
  await writeSafetensorsFile(path, encodeModel(layers, metadata));
}

/** Loads a model saved by `saveModelFile` (or by PyTorch's `safetensors.torch.save_file(model.state_dict())`). */
export async function loadModelFile(path: string): Promise<{ layers: LayerParams[]; metadata: Record<string, string> }> {
  return decodeModel(await readSafetensorsBytes(path), path);
}

/** Saves a model with normalisation layers, atomically (see mlp/weights.ts encodeModelWithNorm). */
export async function saveModelFileWithNorm(
  path: string, layers: readonly LayerParams[], norms: readonly NormParams[], metadata?: Record<string, string>,
): Promise<void> {
  await writeSafetensorsFile(path, encodeModelWithNorm(layers, norms, metadata));
}

/**
 * Loads any model file: plain (as loadModelFile) or with `lnK.*` / `bnK.*` normalisation layers. The
 * placement of each normalisation, the input standardisation and dropout are not in a PyTorch state
 * dict: mlp-lens keeps them in the metadata (mlp/norm.ts NORM_METADATA_KEY).
 */
export async function loadModelFileWithNorm(path: string): Promise<{ layers: LayerParams[]; norms: NormParams[]; metadata: Record<string, string> }> {
  return decodeModelWithNorm(await readSafetensorsBytes(path), path);
}

/**
 * Saves a CNN (one LayerParams per weighted layer of `resolved`, as Cnn.export() gives them) as a
 * safetensors file that its PyTorch twin's `load_state_dict` accepts (mlp/cnn-weights.ts), atomically.
 * Metadata is `cnnModelMetadata(resolved)` (the spec, `arch=cnn:…`) overridden by `metadata`.
 */
export async function saveCnnModelFile(
  path: string, resolved: readonly ResolvedLayer[], layers: readonly LayerParams[], metadata?: Record<string, string>,
): Promise<void> {
  await writeSafetensorsFile(path, encodeCnnModel(resolved, layers, metadata));
}

/**
 * Loads a CNN saved by `saveCnnModelFile` (or by PyTorch's `safetensors.torch.save_file(model.state_dict())`
 * of the spec's twin), strictly against the spec `resolved` (mlp/cnn-weights.ts decodeCnnModel).
 */
export async function loadCnnModelFile(path: string, resolved: readonly ResolvedLayer[]): Promise<{ layers: LayerParams[]; metadata: Record<string, string> }> {
  return decodeCnnModel(await readSafetensorsBytes(path), path, resolved);
}
