// the statistics of a run on disk: stats/epoch-NNN.json per epoch and stats/input.json, written
// atomically; loading validates every file (analysis/stats-json.ts) so a missing or damaged one is named
// in an InputError. NaN (an absent class's mean, a std of one value) is written as JSON null and read back as NaN.
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { EpochStats } from '../analysis/epoch-stats.ts';
import type { InputStats } from '../analysis/input-stats.ts';
import { parseStatsJson, validateEpochStats, validateInputStats } from '../analysis/stats-json.ts';
import { InputError } from '../mlp/errors.ts';
import { readText, writeAtomic } from './files.ts';

export const STATS_DIR = 'stats';

/** `stats/epoch-007.json` for epoch 7 (three digits at least, so names sort by epoch) */
export const epochStatsFile = (epoch: number): string => join(STATS_DIR, `epoch-${String(epoch).padStart(3, '0')}.json`);

/**
 * writes `<dir>/stats/epoch-NNN.json` (compact JSON and a newline: `file` when those bytes are made
 * already, run/session.ts's helper thread makes them) atomically; returns its path
 */
export async function saveEpochStats(dir: string, stats: EpochStats, file?: Uint8Array): Promise<string> {
  return saveEpochStatsFile(dir, stats.epoch, file ?? JSON.stringify(stats) + '\n');
}

/** writes `<dir>/stats/epoch-NNN.json` of `epoch` from its text or bytes (saveEpochStats's), atomically; returns its path */
export async function saveEpochStatsFile(dir: string, epoch: number, file: string | Uint8Array): Promise<string> {
  await mkdir(join(dir, STATS_DIR), { recursive: true });
  const path = join(dir, epochStatsFile(epoch));
  await writeAtomic(path, file);
  return path;
}

/** writes `<dir>/stats/input.json` atomically; returns its path */
export async function saveInputStats(dir: string, stats: InputStats): Promise<string> {
  await mkdir(join(dir, STATS_DIR), { recursive: true });
  const path = join(dir, STATS_DIR, 'input.json');
  await writeAtomic(path, JSON.stringify(stats) + '\n');
  return path;
}

/**
 * every epoch's statistics of a run, in epoch order [epochs]. Throws InputError when the run has no
 * stats folder or no epoch file, when an epoch between the first and the last is missing, or when a
 * file is not valid JSON or not epoch statistics of the expected shape.
 */
export async function loadRunStats(dir: string): Promise<EpochStats[]> {
  const folder = join(dir, STATS_DIR);
  let names: string[];
  try {
    names = await readdir(folder);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(folder, code === 'ENOENT'
      ? 'not found: this run has no saved statistics (trained with recording off, or before they were saved)'
      : `cannot read folder: ${code ?? (e as Error).message}`);
  }
  const files = names.map((n) => /^epoch-(\d{3,})\.json$/.exec(n)).filter((m) => m !== null)
    .map((m) => ({ name: m![0], epoch: Number(m![1]) })).sort((a, b) => a.epoch - b.epoch);
  if (!files.length) throw new InputError(folder, 'holds no epoch-NNN.json file');
  const out: EpochStats[] = [];
  for (let i = 0; i < files.length; i++) {
    const expected = files[0].epoch + i;
    if (files[i].epoch !== expected) throw new InputError(join(dir, epochStatsFile(expected)), 'missing (the epochs around it were saved)');
    const path = join(folder, files[i].name);
    const stats = validateEpochStats(parseStatsJson(await readText(path), path), path);
    if (stats.epoch !== files[i].epoch) throw new InputError(path, `holds epoch ${stats.epoch}, not ${files[i].epoch}`);
    out.push(stats);
  }
  return out;
}

/** `<dir>/stats/input.json`, validated */
export async function loadInputStats(dir: string): Promise<InputStats> {
  const path = join(dir, STATS_DIR, 'input.json');
  return validateInputStats(parseStatsJson(await readText(path), path), path);
}
