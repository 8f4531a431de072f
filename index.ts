// mlp-lens's public API in Node and Deno: `import { loadMnist, Mlp, train, … } from 'mlp-lens'`.
// Everything of the core (core.ts: engine, model, training, analyses, from and to bytes; browser-safe),
// plus files: MNIST from IDX files, models as model.safetensors, whole runs in a run directory, the
// post-training suite saved to RUN/analysis, and the report. README.md has an example.
export * from './core.ts';

export { loadMnist, readIdxFile, defaultMnistDir } from './run/mnist-files.ts';
export { saveModelFile, loadModelFile, saveModelFileWithNorm, loadModelFileWithNorm, readSafetensorsFile, writeSafetensorsFile } from './run/model-files.ts';
export { runInDirectory, analyzeSaved, formatEpoch, type RunOptions, type RunEvents, type RunOutput } from './run/run.ts';
export { runCompare } from './run/compare.ts';
export { analyzeModel, loadSavedModel, savePostTrainingResults } from './run/analyze.ts';
export { writeReport } from './run/report.ts';
export { loadRunStats, loadInputStats } from './run/stats-files.ts';
export { main as cli } from './cli/mlp-lens.ts';
