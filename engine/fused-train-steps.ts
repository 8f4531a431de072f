// The engine side of the fused GPU training step (shaders/train-steps.ts: whole SGD steps of the plain
// ReLU MLP in one workgroup, many per dispatch): its state and record layout, its cost in loop iterations,
// and one function that encodes a dispatch of it. mlp/fused-gpu.ts (the step engine) goes through this
// module, so the models never import shaders/ themselves (docs/architecture.md: mlp/ imports engine/ only).
import type { WebGpuBackend } from './webgpu.ts';
import { type StepsParams, type TrainStepsConfig, trainStepsKernel } from '../shaders/train-steps.ts';

export {
  loopIterationsPerStep, rowTableWords, type StepsParams, type TrainStepsConfig, type TrainStepsLayout, trainStepsLayout,
} from '../shaders/train-steps.ts';

/**
 * encodes one dispatch of `p.steps` fused steps of the model `config` describes. `storages`, bound in this
 * order: the split's sparse rows, its labels, the byte → pixel table, the epoch table, the state buffer,
 * and the record buffer when config.record (the binding list at the top of shaders/train-steps.ts)
 */
export function dispatchTrainSteps(backend: WebGpuBackend, config: TrainStepsConfig, p: StepsParams, storages: readonly unknown[]): void {
  backend.dispatch('trainSteps', trainStepsKernel(config, p), storages);
}

/** builds the kernel of `config` before its first dispatch (WebGpuBackend.warm): the params do not change the WGSL */
export function warmTrainSteps(backend: WebGpuBackend, config: TrainStepsConfig): Promise<void> {
  return backend.warm('trainSteps', trainStepsKernel(config, { step0: 0, steps: 1, count: config.count, vReady: false, first: true, lr: 0, momentum: 0, weightDecay: 0 }));
}
