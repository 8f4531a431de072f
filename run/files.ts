// the few file operations every part of a run shares, for Node and Deno (through their node: builtins):
// atomic writes, so a file that exists is complete, and reads that refuse a file too large before
// reading it. Every problem with a file the user named is an InputError naming it.
import { open, readFile, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import process from 'node:process';
import { InputError } from '../mlp/errors.ts';

/**
 * writes to `path.tmp-<pid>`, flushes it to disk, then renames it over `path`, so a reader (or a run
 * killed mid-write) never sees a half-written file; the temporary file is removed if anything fails.
 * `data` as pieces: the file is their concatenation, each piece encoded (UTF-8) on its own
 */
export async function writeAtomic(path: string, data: string | Uint8Array | readonly (string | Uint8Array)[]): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    const fh = await open(tmp, 'w');
    try {
      await writePieces(fh, typeof data === 'string' || data instanceof Uint8Array ? [data] : data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    // a failed write(2) names no file: say which (run/run.ts fileProblem reports it in one line)
    if (e && typeof e === 'object' && !(e as NodeJS.ErrnoException).path) (e as NodeJS.ErrnoException).path = path;
    throw e;
  }
}

/** the size of the buffers strings are encoded into before they are written */
const ENCODE_CHUNK = 1 << 20;
/** encoding buffers kept between writes: each write takes one of its own (writes under way never share one) */
const spareChunks: Uint8Array[] = [];
const utf8 = new TextEncoder();

/**
 * the pieces written in order, each string encoded (UTF-8) into a reused 1 MiB buffer, written whenever
 * it fills: encoding each into a fresh buffer of its size (Buffer.from) touched fresh pages every time,
 * ≈ 7 000 page faults in the main job (≈ 10 µs each on this VM), most of them the report's page
 */
async function writePieces(fh: FileHandle, pieces: readonly (string | Uint8Array)[]): Promise<void> {
  if (pieces.every((p) => typeof p !== 'string')) return writeAll(fh, pieces as Uint8Array[]);
  const chunk = spareChunks.pop() ?? new Uint8Array(ENCODE_CHUNK);
  let used = 0;
  const flush = async () => {
    if (used) await writeAll(fh, [chunk.subarray(0, used)]);
    used = 0;
  };
  try {
    for (const piece of pieces) {
      if (typeof piece !== 'string') {
        if (piece.length > chunk.length - used) {
          await flush();
          await writeAll(fh, [piece]);
        } else {
          chunk.set(piece, used);
          used += piece.length;
        }
        continue;
      }
      // encodeInto stops before a character that does not fit (a surrogate pair is never split): the
      // rest goes into the emptied buffer; a lone surrogate is U+FFFD either way, as with Buffer.from
      for (let rest = piece; rest.length;) {
        const { read, written } = utf8.encodeInto(rest, chunk.subarray(used));
        used += written;
        rest = read < rest.length ? rest.slice(read) : '';
        if (rest.length) await flush();
      }
    }
    await flush();
  } finally {
    if (spareChunks.length < 4) spareChunks.push(chunk);
  }
}

/** every byte of `chunks` written in order (writev may write less than asked: the rest goes again) */
async function writeAll(fh: FileHandle, chunks: Uint8Array[]): Promise<void> {
  let left = chunks.filter((c) => c.length);
  while (left.length) {
    let { bytesWritten } = await fh.writev(left);
    while (left.length && bytesWritten >= left[0].length) bytesWritten -= left.shift()!.length;
    if (bytesWritten) left[0] = left[0].subarray(bytesWritten);
  }
}

/** `<dir>/<name>` as indented JSON (two spaces, a final newline), atomically */
export const writeJson = (dir: string, name: string, value: unknown): Promise<void> =>
  writeAtomic(join(dir, name), JSON.stringify(value, null, 2) + '\n');

export interface ReadBytesOptions {
  /** larger files are refused before reading ('too large: N bytes (limit L)') */
  limit: number;
  /** the problem when the file does not exist (default 'not found') */
  missing?: string;
  /** what a directory in its place should have been: 'is a directory, expected <this>' (default 'a file') */
  expected?: string;
  /** refuse what is neither a file nor a directory (a pipe, a device): 'is not a regular file' (default true) */
  regularOnly?: boolean;
  /**
   * a regular file's bytes in a SharedArrayBuffer, where the runtime has one: helper threads are then
   * handed them as they are, where a plain buffer is copied into every call that sends them (default false)
   */
  shared?: boolean;
}

/** the bytes of the file at `path`; every problem (missing, a directory, too large, unreadable) throws InputError(path, …) */
export async function readBytes(path: string, opts: ReadBytesOptions): Promise<Uint8Array> {
  try {
    const info = await stat(path);
    if (info.isDirectory()) throw new InputError(path, `is a directory, expected ${opts.expected ?? 'a file'}`);
    if ((opts.regularOnly ?? true) && !info.isFile()) throw new InputError(path, 'is not a regular file');
    if (info.size > opts.limit) throw new InputError(path, `too large: ${info.size} bytes (limit ${opts.limit})`);
    if (opts.shared && info.isFile() && typeof SharedArrayBuffer === 'function') return (await readShared(path, info.size)) ?? await readFile(path);
    return await readFile(path);
  } catch (e) {
    if (e instanceof InputError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(path, code === 'ENOENT' ? opts.missing ?? 'not found' : `cannot read: ${code ?? (e as Error).message}`);
  }
}

/** the `size` bytes of the file at `path` in a SharedArrayBuffer; null when the file no longer has that size (readFile reads it then) */
async function readShared(path: string, size: number): Promise<Uint8Array | null> {
  const fh = await open(path, 'r');
  try {
    const out = new Uint8Array(new SharedArrayBuffer(size));
    let at = 0;
    while (at < size) {
      const { bytesRead } = await fh.read(out, at, size - at, at);
      if (bytesRead === 0) return null;
      at += bytesRead;
    }
    // (grown since its size was read: one byte more is there)
    return (await fh.read(new Uint8Array(1), 0, 1, size)).bytesRead === 0 ? out : null;
  } finally {
    await fh.close();
  }
}

/** the UTF-8 text of the file at `path`; a missing or unreadable file throws InputError(path, 'not found' | 'cannot read: …') */
export async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(path, code === 'ENOENT' ? 'not found' : `cannot read: ${code ?? (e as Error).message}`);
  }
}

/** whether `path` is a directory; InputError(path, `missing`) when it does not exist */
export async function isDirectory(path: string, missing = 'not found'): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch (e) {
    throw new InputError(path, (e as NodeJS.ErrnoException).code === 'ENOENT' ? missing : String(e));
  }
}
