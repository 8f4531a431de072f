// a run's checkpoint, config.json and metrics.json on disk (the format and its validation: mlp/checkpoint.ts).
import { join } from 'node:path';
import { InputError } from '../mlp/errors.ts';
import { decodeCheckpoint, encodeCheckpoint, parseRunConfig, type Checkpoint, type RunConfig } from '../mlp/checkpoint.ts';
import { readBytes, writeAtomic } from './files.ts';

export const CHECKPOINT_FILE = 'checkpoint.safetensors';
/** larger files are refused before reading: far above any MLP this project trains */
export const MAX_CHECKPOINT_BYTES = 2 ** 30;
/** config.json and metrics.json are small; a huge one is not ours */
export const MAX_JSON_BYTES = 64 * 2 ** 20;

/** writes `<dir>/checkpoint.safetensors` atomically (temporary file, fsync, rename); returns its path */
export async function saveCheckpoint(dir: string, c: Checkpoint): Promise<string> {
  const path = join(dir, CHECKPOINT_FILE);
  await writeAtomic(path, encodeCheckpoint(c));
  return path;
}

/** `<dir>/checkpoint.safetensors`, validated (InputError when missing or damaged) */
export async function loadCheckpoint(dir: string): Promise<Checkpoint> {
  const path = join(dir, CHECKPOINT_FILE);
  const bytes = await readBytes(path, {
    limit: MAX_CHECKPOINT_BYTES,
    missing: 'not found: the run stopped before its first epoch ended, so there is nothing to resume (start it again)',
  });
  return decodeCheckpoint(bytes, path);
}

/** `<dir>/config.json`, validated */
export async function loadRunConfig(dir: string): Promise<RunConfig> {
  const path = join(dir, 'config.json');
  const bytes = await readBytes(path, { limit: MAX_JSON_BYTES, missing: `not found: ${dir} is not a run directory of bench/train.js` });
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new InputError(path, 'is not UTF-8 text; the file is damaged');
  }
  return parseRunConfig(text, path);
}

/** the `status` of a run's metrics.json ('running', 'done', 'diverged', 'failed'), or undefined when unreadable */
export async function readRunStatus(dir: string): Promise<string | undefined> {
  try {
    const v = JSON.parse(new TextDecoder().decode(await readBytes(join(dir, 'metrics.json'), { limit: MAX_JSON_BYTES })));
    return typeof v?.status === 'string' ? v.status : undefined;
  } catch {
    return undefined;
  }
}
