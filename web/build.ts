// bundles the page (web/src/main.ts) and its training worker (web/src/worker.ts) with esbuild into
// web/dist/ (build output, gitignored). The page reuses the engine, the training loop and the analyses
// as they are; the few of their modules that also read or write files import `node:` builtins at top
// level, for functions the page never calls (readIdxFile, readSafetensorsFile, writeAtomic, …). Those
// builtins resolve here to a stub whose every export throws "not available in the browser" when called,
// so the pure parts (parseIdx, decodeSafetensors, encodeModel, …) bundle unchanged and any accidental
// use fails loudly. Dawn (`webgpu`, Node only, imported lazily by engine/device.ts) and resvg (PNG
// export, Node only) stay external: their dynamic imports are never reached in a browser.
import { mkdir, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

export const WEB_DIR = dirname(fileURLToPath(import.meta.url));
export const DIST_DIR = join(WEB_DIR, 'dist');

/** `node:*` (and bare node builtins) → a module whose exports throw when called */
const nodeStub: Plugin = {
  name: 'node-stub',
  setup(b) {
    const builtins = /^(node:.*|fs|fs\/promises|path|os|url|util|zlib|module|process|child_process|crypto)$/;
    b.onResolve({ filter: builtins }, (args) => ({ path: args.path, namespace: 'node-stub' }));
    b.onLoad({ filter: /.*/, namespace: 'node-stub' }, async (args) => {
      // the builtin's own export names (read from Node here), each bound to a function that throws when
      // called; CommonJS, so nothing runs at import time except what a module does at its top level:
      // mlp/idx.ts calls promisify(gunzip) there, so promisify returns a thrower instead of throwing
      const spec = args.path.startsWith('node:') ? args.path : `node:${args.path}`;
      const names = Object.keys(await import(spec)).filter((k) => k !== 'default' && /^[A-Za-z_$][\w$]*$/.test(k));
      return {
        contents: [
          `const name = ${JSON.stringify(spec)};`,
          "const thrower = (what) => function () { throw new Error(name + '.' + what + ' is not available in the browser'); };",
          ...names.map((k) => `exports.${k} = ${k === 'promisify' ? '() => thrower("promisified function")' : `thrower(${JSON.stringify(k)})`};`),
        ].join('\n'),
        loader: 'js',
      };
    });
  },
};

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
    external: ['webgpu', '@resvg/resvg-js', '@tensorflow/*', 'esbuild', 'playwright-core', './kernels-browser.ts'],
    plugins: [nodeStub],
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  if (r.errors.length) throw new Error(r.errors.map((e) => e.text).join('\n'));
  const outputs = Object.entries(r.metafile!.outputs);
  return {
    outdir, files: outputs.map(([f]) => resolve(WEB_DIR, '..', f)),
    bytes: outputs.reduce((s, [, o]) => s + o.bytes, 0), seconds: (performance.now() - t0) / 1000,
  };
}
