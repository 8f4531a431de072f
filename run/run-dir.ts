// the run directory: config.json, metrics.json, model.safetensors, predictions.json, checkpoint.safetensors,
// stats/, analysis/, figures/, report.html. Every file is written atomically (run/files.ts), so a file
// that exists is complete. A directory belongs to one run: a new run takes only an empty or absent
// folder (or replaces an earlier run's when asked), and a lock file names the process training in it,
// so two processes never write one run directory at once.
import { existsSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { InputError } from '../mlp/errors.ts';

export { writeAtomic, writeJson } from './files.ts';

/** the lock file: present while a process trains in the directory */
export const LOCK_FILE = '.lock';

/** the files that make a folder an mlp-lens run directory (what --replace may empty) */
const RUN_MARKERS = ['config.json', 'metrics.json', 'checkpoint.safetensors', LOCK_FILE];

/** a held run directory: release() removes the lock (idempotent) */
export interface RunDirLock { dir: string; release(): Promise<void> }

/**
 * makes `dir` this run's and locks it: created when absent; an empty folder is taken as it is; a folder
 * holding an earlier run is refused unless `replace`, which empties it first; a folder holding anything
 * else is refused even then (nothing that is not a run is deleted). Every refusal is an InputError naming
 * the folder.
 */
export async function claimRunDir(dir: string, opts: { replace?: boolean } = {}): Promise<RunDirLock> {
  if (dir.trim() === '') throw new InputError(JSON.stringify(dir), 'is not a folder name (--out needs a directory)');
  const info = await stat(dir).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return null;
    throw new InputError(dir, `cannot be used as the run directory: ${e.code ?? e.message}`);
  });
  if (info && !info.isDirectory()) throw new InputError(dir, 'exists and is not a folder: --out needs a directory for the run');
  if (info) {
    const names = await readdir(dir);
    if (names.length) {
      const isRun = names.some((n) => RUN_MARKERS.includes(n));
      if (!isRun) {
        throw new InputError(dir, `holds ${names.length} file(s) that are not an mlp-lens run (${names.slice(0, 3).join(', ')}${names.length > 3 ? ', …' : ''}): choose an empty or new folder for --out`);
      }
      // a run still being written is refused first, naming its process (a killed one's lock is taken over)
      const lock = await lockRunDir(dir);
      if (!opts.replace) {
        await lock.release();
        throw new InputError(dir, `holds an earlier run: continue it with --resume ${dir}, replace it with --replace, or choose another --out`);
      }
      for (const n of names) if (n !== LOCK_FILE) await rm(join(dir, n), { recursive: true, force: true });
      return lock;
    }
  }
  try {
    await mkdir(dir, { recursive: true });
  } catch (e) {
    throw new InputError(dir, `cannot create the run directory: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return lockRunDir(dir);
}

/**
 * takes the directory's lock (RUN/.lock: pid, host, start time), made with O_EXCL so that of two
 * processes only one gets it. A lock whose process is gone (killed) is taken over; one whose process
 * still runs is an InputError naming it.
 */
export async function lockRunDir(dir: string): Promise<RunDirLock> {
  const path = join(dir, LOCK_FILE);
  const mine = JSON.stringify({ pid: process.pid, host: hostname(), started: new Date().toISOString() }) + '\n';
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(path, 'wx');
      try { await fh.writeFile(mine); } finally { await fh.close(); }
      let released = false;
      return {
        dir,
        release: async () => {
          if (released) return;
          released = true;
          await rm(path, { force: true });
        },
      };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') throw new InputError(dir, `cannot lock the run directory: ${code ?? (e as Error).message}`);
    }
    const holder = await readHolder(path);
    if (holder && holder.host === hostname() && alive(holder.pid)) {
      throw new InputError(dir, `is in use by process ${holder.pid} (training since ${holder.started}): wait for it to end, or choose another --out`);
    }
    if (holder && holder.host !== hostname()) {
      throw new InputError(dir, `is locked by process ${holder.pid} on ${holder.host} (since ${holder.started}); if that run is over, delete ${path}`);
    }
    // the holder was killed: its lock is stale
    await rm(path, { force: true });
  }
  throw new InputError(dir, 'another process took the run directory\'s lock at the same moment');
}

async function readHolder(path: string): Promise<{ pid: number; host: string; started: string } | null> {
  try {
    const v = JSON.parse(await readFile(path, 'utf8'));
    return Number.isSafeInteger(v?.pid) && typeof v.host === 'string' ? { pid: v.pid, host: v.host, started: String(v.started) } : null;
  } catch { return null; }
}

/** whether a process with this pid exists (EPERM: it does, owned by someone else) */
function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

/** a default name that sorts by time: runs/2026-11-26T15-52-10 (with -2, -3, … when that exists already) */
export function defaultRunDir(root = 'runs', now = new Date()): string {
  const base = join(root, now.toISOString().slice(0, 19).replace(/:/g, '-'));
  let dir = base;
  for (let k = 2; existsSync(dir); k++) dir = `${base}-${k}`;
  return dir;
}
