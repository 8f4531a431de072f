// A network's model file (model.safetensors, the snapshots, an upload), whichever kind it is: the MLP's
// codec (mlp/weights.ts, with its normalisation layers) or the CNN's (mlp/cnn-weights.ts). Written by the
// model's kind; read back by what the file holds (conv<N>.* tensors make a CNN, whose architecture and
// input map the metadata names). Pure: bytes in and out (run/net-files.ts reads and writes the files).
import { resolveCnn } from './arch.ts';
import { Cnn } from './cnn.ts';
import { archFromMetadata, decodeCnnModel, detectModelKind, encodeCnnModel } from './cnn-weights.ts';
import { InputError } from './errors.ts';
import { Mlp } from './model.ts';
import type { Net } from './net.ts';
import { isPlain, NORM_METADATA_KEY, planToJson, savedNormSpec } from './norm.ts';
import { decodeSafetensors } from './safetensors.ts';
import { decodeModelWithNorm, encodeModel, encodeModelWithNorm, MAX_MODEL_HEADER_BYTES, MAX_MODEL_TENSORS, modelMetadata, type LayerParams, type NormParams } from './weights.ts';

/** the metadata key of a CNN's input map, 'C,H,W' (its architecture is in cnn-weights' 'mlp-lens' tag) */
export const INPUT_METADATA_KEY = 'mlp-lens.input';

/**
 * the bytes of a model file of `model` holding `layers` (its export()) and, for a normalised MLP, `norms`;
 * `metadata` adds to (and overrides) the default tags
 */
export function encodeNet(model: Net, layers: readonly LayerParams[], norms: readonly NormParams[], metadata: Record<string, string> = {}): Uint8Array {
  if (model.kind === 'cnn') {
    const resolved = resolveCnn(model.spec, model.input, model.classes);
    return encodeCnnModel(resolved, layers, { [INPUT_METADATA_KEY]: model.input.join(','), ...metadata });
  }
  const meta = { ...modelMetadata(layers), ...metadata };
  return isPlain(model.plan) ? encodeModel(layers, meta) : encodeModelWithNorm(layers, norms, { ...meta, [NORM_METADATA_KEY]: planToJson(model.plan) });
}

/** a decoded model file: the model (cpu backend unless given), its layers and metadata */
export interface DecodedNet { model: Net; layers: LayerParams[]; metadata: Record<string, string> }

/** a model file's bytes → the network they hold (InputError naming `file` for anything wrong) */
export function decodeNet(bytes: Uint8Array, file: string): DecodedNet {
  // the header alone first: which kind of model this is
  const { tensors, metadata } = decodeSafetensors(bytes, file, { maxHeaderBytes: MAX_MODEL_HEADER_BYTES, maxTensors: MAX_MODEL_TENSORS });
  if (detectModelKind(tensors) === 'mlp') {
    const { layers, norms, metadata: md } = decodeModelWithNorm(bytes, file);
    return { model: Mlp.fromParams(layers, undefined, savedNormSpec(norms, md, layers.length - 1)), layers, metadata: md };
  }
  const spec = archFromMetadata(metadata);
  if (!spec || spec.kind !== 'cnn') {
    throw new InputError(file, `holds a CNN (conv layers) without mlp-lens' architecture tag in its metadata: train or load it with --arch, or save it from mlp-lens`);
  }
  const input = inputShapeOf(metadata, file);
  const classes = outputCount(tensors) ?? 10;
  let resolved;
  try { resolved = resolveCnn(spec.layers, input, classes); } catch (e) { throw new InputError(file, (e as Error).message); }
  const { layers } = decodeCnnModel(bytes, file, resolved);
  return { model: Cnn.fromParams(spec.layers, input, classes, layers), layers, metadata };
}

/** a CNN file's input map from its metadata (1×28×28 when absent: MNIST) */
function inputShapeOf(metadata: Record<string, string>, file: string): [number, number, number] {
  const text = metadata[INPUT_METADATA_KEY];
  if (text === undefined) return [1, 28, 28];
  const m = /^(\d{1,5}),(\d{1,5}),(\d{1,5})$/.exec(text);
  if (!m || [m[1], m[2], m[3]].some((v) => Number(v) < 1)) throw new InputError(file, `metadata ${INPUT_METADATA_KEY} must be C,H,W (whole numbers ≥ 1), got '${text.slice(0, 40)}'`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

/** the output layer's width, from its bias (any module./model. prefix), or undefined */
function outputCount(tensors: Record<string, { shape: number[] }>): number | undefined {
  for (const [k, t] of Object.entries(tensors)) if (/(^|\.)output\.bias$/.test(k) && t.shape.length === 1) return t.shape[0];
  return undefined;
}
