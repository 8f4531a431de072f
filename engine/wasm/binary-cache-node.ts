// The assembled WebAssembly binaries kept on disk (engine/wasm/load.ts assembleWat reads and writes them):
// node_modules/.cache/mlp-lens-wasm/<hash of the WAT text>.wasm beside the sources or the package. Node and
// Deno only (node: modules); loaded dynamically, never in a browser bundle (web/build.ts leaves it out).
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export interface BinaryCache {
  key(text: string): string;
  read(key: string): Promise<Uint8Array<ArrayBuffer> | null>;
  write(key: string, bytes: Uint8Array): Promise<void>;
}

/** the cache of the tree that `loadUrl` (engine/wasm/load.ts's URL, in the sources or dist/) belongs to */
export function binaryCacheFor(loadUrl: string): BinaryCache {
  const dir = fileURLToPath(new URL(`../../${loadUrl.includes('/dist/') ? '../' : ''}node_modules/.cache/mlp-lens-wasm/`, loadUrl));
  return {
    key: (text) => createHash('sha256').update(text).digest('hex').slice(0, 32),
    read: (key) => readFile(`${dir}${key}.wasm`).then((b) => Uint8Array.from(b), () => null),
    async write(key, bytes) {
      try {
        await mkdir(dir, { recursive: true });
        // written whole before it appears: threads and processes race for the same entry
        const tmp = `${dir}${key}.${Math.random().toString(36).slice(2)}.tmp`;
        await writeFile(tmp, bytes);
        await rename(tmp, `${dir}${key}.wasm`);
      } catch {
        // a read-only tree, a full disk: assembled again next time
      }
    },
  };
}
