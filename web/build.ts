// bundles the page (web/src/main.ts) and its training worker (web/src/worker.ts) with esbuild into
// web/dist/ (build output, gitignored). The page reuses the engine, the models and the analyses as they
// are: engine/, mlp/ and analysis/ import no `node:` module (file reading and writing is run/'s), so no
// stub stands in for Node's builtins. What is Node-only is reached through dynamic imports on Node-only
// paths, left external here and never run in a browser: Dawn (`webgpu`) and engine/device-node.ts
// (from engine/device.ts), engine/threads-node.ts (Node's worker_threads, from engine/threads.ts), resvg (PNG export), and the `node:` builtins the kernel benchmark
// (bench/kernels-run.ts) loads lazily for its Node runs. A static `node:` import anywhere in the page's
// graph fails the build, naming the file.
import { mkdir, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export const WEB_DIR = dirname(fileURLToPath(import.meta.url));
export const DIST_DIR = join(WEB_DIR, 'dist');

export interface BuildResult { outdir: string; files: string[]; bytes: number; seconds: number }

/** builds web/dist/main.js and web/dist/worker.js (plus source maps); throws on any build error */
export async function buildWeb(opts: { outdir?: string; minify?: boolean; sourcemap?: boolean } = {}): Promise<BuildResult> {
  const t0 = performance.now();
  const outdir = resolve(opts.outdir ?? DIST_DIR);
  await rm(outdir, { recursive: true, force: true });
  await mkdir(outdir, { recursive: true });
  const r = await build({
    absWorkingDir: resolve(WEB_DIR, '..'),
    entryPoints: { main: join(WEB_DIR, 'src', 'main.ts'), worker: join(WEB_DIR, 'src', 'worker.ts') },
    outdir, bundle: true, format: 'esm', platform: 'browser', target: ['chrome113', 'firefox121', 'safari17'],
    minify: opts.minify ?? true, sourcemap: opts.sourcemap ?? false, metafile: true, logLevel: 'silent',
    legalComments: 'none', charset: 'utf8',
    // the kernel benchmark's (bench/kernels-run.ts) Node-only peers: tfjs (a child process), its CLI's --browser runner
    external: [
      'webgpu', './device-node.ts', './threads-node.ts', './binary-cache-node.ts', '@resvg/resvg-js', '@tensorflow/*', 'esbuild', 'playwright-core', './kernels-browser.ts',
      // only for dynamic imports: a static one is refused below
      'node:*',
    ],
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  if (r.errors.length) throw new Error(r.errors.map((e) => e.text).join('\n'));
  const nodeImports = Object.entries(r.metafile!.inputs).flatMap(([file, input]) => input.imports
    .filter((i) => i.path.startsWith('node:') && i.kind !== 'dynamic-import').map((i) => `${file} imports ${i.path}`));
  if (nodeImports.length) {
    throw new Error(`the page cannot import Node's builtins (file access belongs in run/): ${nodeImports.join('; ')}`);
  }
  const outputs = Object.entries(r.metafile!.outputs);
  return {
    outdir, files: outputs.map(([f]) => resolve(WEB_DIR, '..', f)),
    bytes: outputs.reduce((s, [, o]) => s + o.bytes, 0), seconds: (performance.now() - t0) / 1000,
  };
}
