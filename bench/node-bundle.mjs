// One esbuild bundle of a Node entry (the main job's cli/train.ts), cached on disk, in place of loading its
// ≈ 500 modules one by one through the TypeScript loader hooks (bench/node-ts.mjs).
//
// Why: every module the hooks load is a round trip to Node's loader thread, and each helper thread has
// its own loader thread and loads its own modules again. Measured on the 2-core machine: importing
// cli/train.ts through the hooks costs ≈ 0.6 s of CPU, Vega and the report's renderer ≈ 0.7 s in a
// helper; the same code as one bundle ≈ 0.14 s. The main job pays that on its main thread and in both
// of its helpers.
//
// What is the same as the sources: every module's code (esbuild only strips types, as the hooks do) and
// every module's `import.meta.url`, which is replaced by the module's own source URL (the run layer
// finds its helper-thread modules, the kernels' cache and the MNIST files from it). The helper threads
// start the bundle itself: it holds engine/thread-entry-node.ts, which serves calls in a helper, and
// the namespaces of the modules helpers are asked to call (found in the sources where the run layer
// names them, `taskModule(import.meta.url, '…')`), which engine/thread-entry.ts looks up by URL.
//
// The cache: node_modules/.cache/mlp-lens-bundle/ (MLP_LENS_BUNDLE=FOLDER elsewhere, MLP_LENS_BUNDLE=off
// loads the sources through the hooks as before). A bundle is used while every file it was built from
// has the size and modification time it had then, and esbuild, Node and this file are the same;
// otherwise it is built again (≈ 0.45 s). Anything that fails (no esbuild, an unwritable cache) returns
// null, and the caller loads the sources through the hooks instead (MLP_LENS_BUNDLE_DEBUG=1 prints why).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** packages that must be loaded from their own folder: native code found next to their own files */
const EXTERNAL = ['webgpu', 'esbuild', 'wabt', '@resvg/resvg-js'];
/** where the run layer names a module its helper threads call into */
const TASK_MODULE = /taskModule\(import\.meta\.url,\s*'([^']+)'\)/g;
/** the folders whose sources may name helper-thread modules */
const SOURCE_DIRS = ['engine', 'mlp', 'analysis', 'run', 'cli'];

/**
 * the URL of a fresh bundle of `entry` (a path relative to the repository root) that exports what the
 * entry exports, built now if the cached one is missing or stale; null where none can be had
 */
export async function bundledEntry(entry, setting = process.env.MLP_LENS_BUNDLE) {
  if (setting === 'off') return null;
  const cacheDir = setting ? resolve(setting) : join(ROOT, 'node_modules', '.cache', 'mlp-lens-bundle');
  // the tree's own (worktrees may share one node_modules, and so one cache folder, through a link)
  const name = `${entry.replace(/[^A-Za-z0-9]+/g, '-')}-${createHash('sha256').update(ROOT).digest('hex').slice(0, 8)}`;
  try {
    const key = await bundleKey(entry);
    const cached = readManifest(join(cacheDir, `${name}.json`));
    if (cached && cached.key === key && inputsUnchanged(cached.inputs)) return pathToFileURL(join(cacheDir, cached.bundle)).href;
    return pathToFileURL(await build(entry, key, cacheDir, name)).href;
  } catch (e) {
    if (process.env.MLP_LENS_BUNDLE_DEBUG) console.error(e);
    return null;
  }
}

/** what, besides the inputs' files, a bundle depends on: esbuild's and Node's versions, this file, the entry */
async function bundleKey(entry) {
  const esbuildVersion = JSON.parse(readFileSync(join(ROOT, 'node_modules', 'esbuild', 'package.json'), 'utf8')).version;
  return createHash('sha256').update([esbuildVersion, process.version, readFileSync(fileURLToPath(import.meta.url), 'utf8'), entry].join('\0')).digest('hex');
}

function readManifest(path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return null;
  }
}

/** whether every input file still has the size and modification time recorded at build time */
export function inputsUnchanged(inputs) {
  for (const [path, size, mtimeMs] of inputs) {
    let st;
    try {
      st = statSync(resolve(ROOT, path));
    } catch {
      return false;
    }
    if (st.size !== size || st.mtimeMs !== mtimeMs) return false;
  }
  return true;
}

/** the modules the sources name as helper-thread modules (repository-relative paths of .ts files) */
export function taskModules() {
  const found = new Set();
  for (const dir of SOURCE_DIRS) {
    for (const file of readdirSync(join(ROOT, dir), { recursive: true })) {
      if (!file.endsWith('.ts')) continue;
      const path = join(ROOT, dir, file);
      for (const m of readFileSync(path, 'utf8').matchAll(TASK_MODULE)) {
        const task = resolve(dirname(path), `${m[1]}.ts`);
        if (existsSync(task)) found.add(relative(ROOT, task)); // (and not a comment's example)
      }
    }
  }
  return [...found].sort();
}

/** the bundle's entry: the entry's exports, the helper thread's side, and the helper modules by URL */
function entrySource(entry, tasks) {
  const abs = (p) => JSON.stringify(join(ROOT, p));
  return [
    `export * from ${abs(entry)};`,
    `import { provideTaskModules } from ${abs('engine/thread-entry.ts')};`,
    `import { startHelpersFrom } from ${abs('engine/threads.ts')};`,
    // serves calls when this bundle is a helper thread's entry (does nothing on the main thread)
    `import ${abs('engine/thread-entry-node.ts')};`,
    ...tasks.map((t, i) => `import * as task${i} from ${abs(t)};`),
    `provideTaskModules({ ${tasks.map((t, i) => `${JSON.stringify(pathToFileURL(join(ROOT, t)).href)}: task${i}`).join(', ')} });`,
    'startHelpersFrom(import.meta.url);',
    '',
  ].join('\n');
}

/** each of our .ts files with `import.meta.url` made its own source URL (a bundle's would be the bundle's) */
const sourceUrls = {
  name: 'source-urls',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, (args) => {
      if (args.path.includes(`${'/'}node_modules${'/'}`)) return undefined;
      const text = readFileSync(args.path, 'utf8');
      return { contents: text.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)), loader: 'ts' };
    });
  },
};

/** builds the bundle into the cache: written whole under a name of its own, then the manifest naming it */
async function build(entry, key, cacheDir, name) {
  const { build: esbuild } = await import('esbuild');
  const result = await esbuild({
    stdin: { contents: entrySource(entry, taskModules()), resolveDir: ROOT, sourcefile: `${name}-entry.js`, loader: 'js' },
    absWorkingDir: ROOT, bundle: true, format: 'esm', platform: 'node', target: 'node20', write: false, metafile: true,
    outfile: join(cacheDir, `${name}.mjs`), sourcemap: 'external', sourcesContent: false,
    // whitespace and comments out (names and syntax kept): each of the job's three threads reads, decodes
    // and parses the whole bundle, 3.1 → 2.3 MB: ≈ 10–20 ms less a thread (`node --cpu-prof bench/train.js --help`)
    minifyWhitespace: true,
    external: EXTERNAL, plugins: [sourceUrls], logLevel: 'silent',
    // bundled CommonJS packages call require(): give the ES module one
    banner: { js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);" },
  });
  const code = result.outputFiles.find((f) => f.path.endsWith('.mjs')).text;
  const map = result.outputFiles.find((f) => f.path.endsWith('.map')).text;
  const bundle = `${name}-${createHash('sha256').update(code).digest('hex').slice(0, 16)}.mjs`;
  const inputs = Object.keys(result.metafile.inputs).filter((p) => p !== `${name}-entry.js`).map((p) => {
    const st = statSync(join(ROOT, p));
    return [p, st.size, st.mtimeMs];
  });
  mkdirSync(cacheDir, { recursive: true });
  const unique = `${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  const put = (file, text) => { writeFileSync(join(cacheDir, `${file}.${unique}`), text); renameSync(join(cacheDir, `${file}.${unique}`), join(cacheDir, file)); };
  put(`${bundle}.map`, map);
  put(bundle, `${code}//# sourceMappingURL=${bundle}.map\n`);
  put(`${name}.json`, JSON.stringify({ key, bundle, inputs }));
  // older bundles of this entry, once an hour old: a run still going may yet start helpers from its own
  for (const f of readdirSync(cacheDir)) {
    if (!f.startsWith(`${name}-`) || f.startsWith(bundle) || !/\.mjs(\.map)?$/.test(f)) continue;
    try {
      if (Date.now() - statSync(join(cacheDir, f)).mtimeMs > 3600e3) unlinkSync(join(cacheDir, f));
    } catch { /* raced with another process */ }
  }
  return join(cacheDir, bundle);
}
