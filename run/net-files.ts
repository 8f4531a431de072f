// model files of either kind on disk (the codec: mlp/net-file.ts): model.safetensors, the snapshots, --init.
import type { Net } from '../mlp/net.ts';
import { decodeNet, encodeNet, type DecodedNet } from '../mlp/net-file.ts';
import type { LayerParams, NormParams } from '../mlp/weights.ts';
import { readBytes, writeAtomic } from './files.ts';
import { MAX_MODEL_FILE_BYTES } from './model-files.ts';

/** writes `model`'s file (its export() `layers`, `norms` for a normalised MLP) atomically */
export async function saveNetFile(path: string, model: Net, layers: readonly LayerParams[], norms: readonly NormParams[], metadata?: Record<string, string>): Promise<void> {
  await writeAtomic(path, encodeNet(model, layers, norms, metadata));
}

/** reads a model file of either kind (InputError naming `path` for anything wrong) */
export async function loadNetFile(path: string): Promise<DecodedNet> {
  const bytes = await readBytes(path, { limit: MAX_MODEL_FILE_BYTES, missing: 'cannot read: no such file', expected: 'a .safetensors file' });
  return decodeNet(bytes, path);
}
