// Module loader hooks (run on Node's loader thread): .ts files are transformed by esbuild.
//
// Transforms are cached on disk (node_modules/.cache/mlp-lens-ts/), keyed by the file's path and a hash
// of its text and of esbuild's version and options: every process and every helper thread (each has its
// own loader thread) otherwise transforms the same ≈ 150 files again, and starts esbuild's service to do
// it — ≈ 0.35 s of the main job's start-up and as much again in each helper. A source that changed
// misses and replaces its path's older entry; a cache that cannot be written is skipped silently.
// MLP_LENS_TS_CACHE=FOLDER puts the cache elsewhere, MLP_LENS_TS_CACHE=off does without.
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rename, unlink, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const OPTIONS = { loader: 'ts', format: 'esm', target: 'node20', sourcemap: 'inline' };
const cacheSetting = process.env.MLP_LENS_TS_CACHE;
const cacheDir = cacheSetting === 'off' ? null
  : cacheSetting ? cacheSetting.replace(/\/*$/, '/') : fileURLToPath(new URL('../node_modules/.cache/mlp-lens-ts/', import.meta.url));
let esbuild = null; // imported on the first miss only: a warm cache never starts esbuild's service
let dirReady = null;

const hash = (...parts) => createHash('sha256').update(parts.join('\0')).digest('hex');

/** esbuild's transform of one file */
async function transformed(path, source) {
  esbuild ??= await import('esbuild');
  const { code } = await esbuild.transform(source, { ...OPTIONS, sourcefile: path });
  return code;
}

/** keep `code` as `name`, written whole before it appears (threads and processes race for the same entry), and drop the path's older entries */
async function store(pathKey, name, code) {
  try {
    dirReady ??= mkdir(cacheDir, { recursive: true });
    await dirReady;
    const tmp = `${cacheDir}${name}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    await writeFile(tmp, code);
    await rename(tmp, cacheDir + name);
    for (const f of await readdir(cacheDir)) {
      if (f.startsWith(pathKey) && f !== name && f.endsWith('.js')) await unlink(cacheDir + f).catch(() => {});
    }
  } catch {
    // read-only tree, full disk: run without the cache
  }
}

export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return nextLoad(url, context);
  const path = fileURLToPath(url);
  const source = await readFile(path, 'utf8');
  // the version is only known once esbuild is loaded: the package.json's (cheap) stands for it
  const pathKey = hash(path).slice(0, 16);
  const name = `${pathKey}-${hash(await esbuildVersion(), JSON.stringify(OPTIONS), source).slice(0, 32)}.js`;
  let code = cacheDir === null ? null : await readFile(cacheDir + name, 'utf8').catch(() => null);
  if (code === null) {
    code = await transformed(path, source);
    if (cacheDir !== null) await store(pathKey, name, code);
  }
  return { format: 'module', source: code, shortCircuit: true };
}

let versionText = null;
function esbuildVersion() {
  versionText ??= readFile(new URL('../node_modules/esbuild/package.json', import.meta.url), 'utf8')
    .then((t) => JSON.parse(t).version).catch(() => 'unknown');
  return versionText;
}
