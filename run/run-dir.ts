// the run directory: config.json, metrics.json, model.safetensors, predictions.json, checkpoint.safetensors,
// stats/, analysis/, figures/, report.html. Every file is written atomically (run/files.ts), so a file
// that exists is complete.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';

export { writeAtomic, writeJson } from './files.ts';

export async function createRunDir(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  return dir;
}

/** a default name that sorts by time: runs/2026-11-26T15-52-10 */
export function defaultRunDir(root = 'runs', now = new Date()): string {
  return join(root, now.toISOString().slice(0, 19).replace(/:/g, '-'));
}
