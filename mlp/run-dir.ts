// the run directory: config.json, metrics.json, model.safetensors, predictions.json (+ later: statistics,
// figures, report.html). Every file is written atomically, so a file that exists is complete.
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import process from 'node:process';

export async function createRunDir(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  return dir;
}

/** a default name that sorts by time: runs/2026-11-26T15-52-10 */
export function defaultRunDir(root = 'runs', now = new Date()): string {
  return join(root, now.toISOString().slice(0, 19).replace(/:/g, '-'));
}

/**
 * writes to `path.tmp-<pid>`, flushes it to disk, then renames it over `path`, so a reader (or a run
 * killed mid-write) never sees a half-written file; the temporary file is removed if anything fails
 */
export async function writeAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

export const writeJson = (dir: string, name: string, value: unknown): Promise<void> =>
  writeAtomic(join(dir, name), JSON.stringify(value, null, 2) + '\n');
