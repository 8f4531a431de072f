// bench/kernels.js --browser: the same benchmark (kernels-run.ts, bundled by esbuild) in headless
// Chromium (Debian's chromium, driven by playwright-core). Adapter: SwiftShader by default, or WebGPU
// over GLES over ANGLE over lavapipe with `angle` (featureLevel 'compatibility'). tfjs is not run there.
import type { KernelOptions, KernelResults } from './kernels-run.ts';

export async function runInChromium(o: KernelOptions & { angle?: boolean }): Promise<KernelResults> {
  const esbuild = await import('esbuild');
  const { fileURLToPath } = await import('node:url');
  const entry = fileURLToPath(new URL('./kernels-run.ts', import.meta.url));
  const opts = JSON.stringify({ quick: !!o.quick, big: !!o.big, iters: o.iters, cpu: o.cpu, variants: o.variants, tfjs: false });
  const built = await esbuild.build({
    stdin: { contents: `import { runKernels } from ${JSON.stringify(entry)};\n` +
      `runKernels(${opts}).then((r) => { globalThis.__kernels = r; }, (e) => { globalThis.__kernels = { error: String(e && e.stack || e) }; });`,
      resolveDir: fileURLToPath(new URL('.', import.meta.url)), loader: 'ts' },
    bundle: true, format: 'esm', platform: 'browser', write: false, external: ['node:*', 'webgpu', '@tensorflow/*', 'esbuild', 'playwright-core', './kernels-browser.ts'], logLevel: 'silent',
  });
  const js = built.outputFiles[0].text;
  const { chromium } = await import('playwright-core');
  const args = ['--enable-unsafe-webgpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
    ...(o.angle ? ['--use-angle=vulkan', '--use-webgpu-adapter=opengles'] : [])];
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args });
  try {
    const page = await browser.newPage();
    // (the versions lookup tries node:fs and fails there: expected, not echoed)
    page.on('console', (m) => { if (!/node:|ERR_FAILED/.test(m.text())) o.log?.(`[chromium] ${m.text()}`); });
    await page.route('http://localhost/**', (route) => {
      const url = route.request().url();
      if (url.endsWith('/k.js')) return route.fulfill({ contentType: 'text/javascript', body: js });
      return route.fulfill({ contentType: 'text/html', body: '<!doctype html><script type="module" src="/k.js"></script>' });
    });
    await page.goto('http://localhost/');
    await page.waitForFunction(() => (globalThis as any).__kernels, undefined, { timeout: 0, polling: 500 });
    const r = await page.evaluate(() => (globalThis as any).__kernels);
    if (r.error) throw new Error(`in Chromium: ${r.error}`);
    r.versions.chromium = browser.version();
    return r as KernelResults;
  } finally {
    await browser.close();
  }
}
