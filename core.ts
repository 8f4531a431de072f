/// <reference types="@webgpu/types" />
// mlp-lens's public API for every runtime (Node, Deno, the browser): `import … from 'mlp-lens/core'`.
// No file is read or written here — give it bytes (parseIdx, mnistFromIdx, decodeModel) and take
// bytes back (encodeModel). index.ts adds the Node/Deno side: files, run directories, the report.
//
// The core feature: every intermediate tensor of the model has a canonical name (mlp/names.ts:
// `input`, `layers.K.pre`, `layers.K.post`, `logits`, `loss`), its gradient has the same name, and
// training records them all, every epoch (train(…, { record: true }) → onEpoch's record.acts/grads).

// the tensor engine
export { Tensor, noGrad } from './engine/tensor.ts';
export type { Backend } from './engine/backend.ts';
export { cpu } from './engine/cpu.ts';
export { acquireDevice, type AcquiredDevice, type DeviceInfo } from './engine/device.ts';
export { createWebGpuBackend, GpuDeviceError, type WebGpuBackend } from './engine/webgpu.ts';
export { dispose, keep, tidy } from './engine/memory.ts';
export { createRng, type Rng, type RngKind } from './engine/rng.ts';

// data: MNIST/IDX from bytes
export { parseIdx, type IdxArray } from './mlp/idx.ts';
export { mnistFromIdx, toSplit, MNIST_FILE_NAMES, type Mnist, type Split } from './mlp/mnist.ts';
export { InputError } from './mlp/errors.ts';

// the model, its names, training
export { Mlp, type Acts, type Replacements } from './mlp/model.ts';
export { Cnn } from './mlp/cnn.ts';
export { meanLoss, type Net } from './mlp/net.ts';
export {
  parseArch, formatArch, resolveCnn, REFERENCE_CNN, ArchError, type ArchSpec, type LayerSpec, type ResolvedLayer,
} from './mlp/arch.ts';
export { channelMeans, channelSums } from './mlp/units.ts';
export { actNames, REFERENCE_ACT_NAMES, REFERENCE_CNN_ACT_NAMES, type ActName, type ParamName } from './mlp/names.ts';
export { resolveNorm, describeNorm, type NormConfig, type NormPlan } from './mlp/norm.ts';
export {
  train, evaluate, DivergenceError,
  type TrainOptions, type TrainHooks, type EpochMetrics, type Evaluation, type StepInfo,
} from './mlp/train.ts';
export { pickStepEngine, type StepEngine } from './mlp/step-engine.ts';
export type { EpochRecord, Slot } from './mlp/recorder.ts';
export { inspectBatch, type BatchInspection, type NamedArray } from './mlp/inspect.ts';

// weights: safetensors under PyTorch's state-dict names, from and to bytes
export { encodeSafetensors, decodeSafetensors } from './mlp/safetensors.ts';
export {
  encodeModel, decodeModel, encodeModelWithNorm, decodeModelWithNorm, torchStateDict, fromTorchStateDict,
  type LayerParams, type NormParams,
} from './mlp/weights.ts';
export { encodeCnnModel, decodeCnnModel, cnnStateDict, fromCnnStateDict } from './mlp/cnn-weights.ts';
export { encodeNet, decodeNet, type DecodedNet } from './mlp/net-file.ts';

// analyses: pure functions from recorded tensors or a model to results
export { computeEpochStats, type EpochStats } from './analysis/epoch-stats.ts';
export { computeInputStats, type InputStats } from './analysis/input-stats.ts';
export { drift, topNeurons, type Drift } from './analysis/drift.ts';
export { cacheImages, imagesFromSplit, type HostTensor, type LabelledImages, type NamedHost } from './analysis/forward-cache.ts';
export { meanPerClass, meanOverBatch } from './analysis/class-means.ts';
export { selectivityPerClass, overlapOrder } from './analysis/selectivity.ts';
export { topK, topKPerRow } from './analysis/topk.ts';
export { accuracyPerClass, misclassified } from './analysis/accuracy.ts';
export { confusionMatrix, topConfusions } from './analysis/confusion.ts';
export { analyzeNeuron, sweepLayer } from './analysis/intervention.ts';
export { saliencyMaps } from './analysis/saliency.ts';
export { oneHotMaps } from './analysis/onehot-maps.ts';
export { pca } from './analysis/pca.ts';
export { tsne } from './analysis/tsne.ts';
export { silhouetteScore, silhouetteSamples } from './analysis/silhouette.ts';
export { runPostTrainingSuite, formatSuiteTables, type PostTrainingResults, type SuiteOptions } from './analysis/suite.ts';
export { runCnnAnalyses, formatCnnTables, type CnnOptions, type CnnResults } from './analysis/cnn-suite.ts';
export { featureMaps, convFilters } from './analysis/feature-maps.ts';
export { receptiveField } from './analysis/receptive-field.ts';
export { positionStats, measureProbe, type PositionStats, type ProbeStats } from './analysis/position-stats.ts';
export { buildFigures } from './analysis/figures/index.ts';

// a training run without files (the page's worker runs this)
export {
  prepareSession, trainSession, checkSettings, REFERENCE_SETTINGS,
  type TrainSettings, type Session, type RunSink, type SessionEvents, type SessionResult, type EpochRow,
} from './run/session.ts';
export { pickBackend, describeBackend, type DeviceChoice } from './run/backend.ts';
export { ConfigError, RunStopped } from './run/errors.ts';
