// The weights after every epoch, and before the first, kept in RUN/snapshots/ as model.safetensors files
// (PyTorch names, loadable as any model): init.safetensors, epoch-000.safetensors, … So any analysis can
// run at any epoch later (mlp-lens analyze RUN --epoch K), and the analyses through training
// (analysis/through-training.ts) read them.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../mlp/errors.ts';
import type { Net } from '../mlp/net.ts';
import type { LayerParams, NormParams } from '../mlp/weights.ts';
import { loadNetFile, saveNetFile } from './net-files.ts';
import { mkdir } from 'node:fs/promises';

export const SNAPSHOTS_DIR = 'snapshots';
/** runs whose weights are larger than this keep no snapshots unless asked (20 epochs of them would be 20× this) */
export const SNAPSHOT_DEFAULT_MAX_BYTES = 16 * 2 ** 20;

/** the file of an epoch's snapshot: −1 is the initial weights */
export const snapshotFile = (epoch: number): string => (epoch < 0 ? 'init.safetensors' : `epoch-${String(epoch).padStart(3, '0')}.safetensors`);

/** writes `model`'s weights after `epoch` (−1: before training; its export() `layers` and `norms`) into RUN/snapshots/, atomically */
export async function saveSnapshot(dir: string, epoch: number, model: Net, layers: readonly LayerParams[], norms: readonly NormParams[]): Promise<void> {
  const folder = join(dir, SNAPSHOTS_DIR);
  await mkdir(folder, { recursive: true });
  await saveNetFile(join(folder, snapshotFile(epoch)), model, layers, norms, { epoch: String(epoch) });
}

/** the epochs a run directory holds snapshots of, ascending (−1 for the initial weights); [] when none */
export async function listSnapshots(dir: string): Promise<number[]> {
  const names = await readdir(join(dir, SNAPSHOTS_DIR)).catch(() => [] as string[]);
  const epochs: number[] = [];
  for (const n of names) {
    if (n === 'init.safetensors') epochs.push(-1);
    const m = /^epoch-(\d{3,})\.safetensors$/.exec(n);
    if (m) epochs.push(Number(m[1]));
  }
  return epochs.sort((a, b) => a - b);
}

/** the model as it was after `epoch` (−1: the initial weights), on the cpu backend */
export async function loadSnapshot(dir: string, epoch: number): Promise<{ model: Net; layers: LayerParams[]; file: string }> {
  const file = join(dir, SNAPSHOTS_DIR, snapshotFile(epoch));
  const kept = await listSnapshots(dir);
  if (!kept.includes(epoch)) {
    const which = kept.length ? `it holds ${describeEpochs(kept)}` : 'it holds none (the run kept no snapshots)';
    throw new InputError(join(dir, SNAPSHOTS_DIR), `has no snapshot of ${epoch < 0 ? 'the initial weights' : `epoch ${epoch}`}: ${which}`);
  }
  const { model, layers } = await loadNetFile(file);
  return { model, layers, file };
}

/** '−1 (initial), 0–19' */
export function describeEpochs(epochs: readonly number[]): string {
  const parts: string[] = [];
  const rest = epochs.filter((e) => e >= 0);
  if (epochs.includes(-1)) parts.push('the initial weights');
  if (rest.length) parts.push(rest.length === rest[rest.length - 1] - rest[0] + 1 ? `epochs ${rest[0]}–${rest[rest.length - 1]}` : `epochs ${rest.join(', ')}`);
  return parts.join(' and ');
}
