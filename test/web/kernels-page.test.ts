// the page's "Kernel timings" panel end to end: the bundle built into a temporary folder, web/server.ts on
// a free loopback port, headless Chromium (Debian's, playwright-core, --enable-unsafe-webgpu: SwiftShader),
// as test/web/e2e.test.ts. The button runs bench/kernels-run.ts's benchmark in quick mode in the page's
// worker; the table must fill, and the downloaded kernels.json must have the CLI's schema (rows, the
// adapter) and go through bench/kernels-compare.js against itself. Skips, saying why, only where
// /usr/bin/chromium is missing (a failure under MLP_LENS_REQUIRE_CHROMIUM=1).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { KernelResults } from '../../bench/kernels-run.ts';
import type { WebServer } from '../../web/server.ts';
import { chromiumMissing, servePage, launchChromium } from '../helpers/web-page.ts';

const tmp = mkdtempSync(join(tmpdir(), 'mlp-lens-kernels-page-'));
let server: WebServer | undefined;

test('the page times the kernels in quick mode, shows the table and offers the CLI\'s JSON', async () => {
  if (chromiumMissing()) return;
  server = await servePage(tmp);
  const browser = await launchChromium(['--enable-unsafe-webgpu']);
  try {
    const page = await browser.newPage({ acceptDownloads: true });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    // the panel is a developer's: behind the developer switch (?dev=1), not on the user's page
    await page.goto(`${server.url}?dev=1`);
    assert.ok(await page.isVisible('#kernels'), 'the kernel panel is shown with ?dev=1');
    const t0 = performance.now();
    assert.ok(await page.isChecked('#kt-quick'), 'quick is the default');
    await page.click('#kt-go');
    await page.waitForSelector('#kt-table:not(.hidden) tbody tr', { timeout: 60_000 });
    const seconds = (performance.now() - t0) / 1000;
    const cells = await page.$$eval('#kt-table tbody tr', (trs) => trs.map((tr) => Array.from(tr.children).map((c) => c.textContent ?? '')));
    assert.ok(cells.some((c) => c[0] === 'matmul' && /^webgpu /.test(c[2]) && /GFLOP\/s/.test(c[4])), 'a WebGPU matmul row');
    assert.ok(cells.some((c) => c[2] === 'cpu'), 'a CPU row');
    assert.ok(cells.some((c) => /%$/.test(c[5])), 'a fraction of a ceiling');

    const [d] = await Promise.all([page.waitForEvent('download', { timeout: 10_000 }), page.click('#kt-download')]);
    assert.is(d.suggestedFilename(), 'kernels.json');
    const path = join(tmp, 'kernels.json');
    await d.saveAs(path);
    const r = JSON.parse(readFileSync(path, 'utf8')) as KernelResults;
    assert.is(r.schema, 'mlp-lens/kernels@1');
    assert.is(r.runtime.name, 'browser');
    assert.ok(r.adapter, 'adapter info present');
    assert.type(r.adapter!.vendor, 'string');
    assert.ok(Array.isArray(r.adapter!.features));
    assert.is(r.rows.length, cells.length);
    assert.ok(r.rows.some((x) => x.impl === 'webgpu' && x.op === 'matmul' && x.ms > 0));
    assert.ok(r.rows.some((x) => x.impl === 'cpu'));
    assert.ok(!r.rows.some((x) => x.impl === 'tfjs-webgpu'), 'no tfjs in the page');
    assert.ok(r.ceilings.copyGBps! > 0 && r.ceilings.matmulGFlops! > 0);
    // the timing method follows the adapter: Chromium's SwiftShader offers timestamp-query and subgroups, so
    // its rows are GPU time and the subgroup variant runs; elsewhere wall clock and a skipped subgroup row
    const gpu = r.rows.filter((x) => x.impl === 'webgpu' && !x.skipped);
    const ts = gpu.filter((x) => x.timing === 'timestamp');
    if (r.adapter!.features.includes('timestamp-query')) {
      assert.match(r.timing, /^GPU timestamps/);
      assert.ok(ts.length >= gpu.length / 2, `${ts.length} of ${gpu.length} rows by timestamps`);
      assert.ok(cells.some((c) => /^GPU timestamps/.test(c[6] ?? '')), 'the table says which rows are GPU time');
    } else {
      assert.is(ts.length, 0);
      assert.ok(cells.filter((c) => c[2] !== 'cpu' && !/^skipped/.test(c[3])).every((c) => c[6] === 'wall clock'));
    }
    const sub = r.rows.filter((x) => x.op === 'matmul' && x.variant === 'subgroup');
    assert.ok(sub.length, 'a subgroup row, measured or skipped');
    if (r.adapter!.features.includes('subgroups')) assert.ok(sub.every((x) => x.ms > 0 && !x.skipped), JSON.stringify(sub));
    else assert.ok(sub.every((x) => /subgroups/.test(x.skipped ?? '')), JSON.stringify(sub));
    // the file bench/kernels-compare.js reads
    const { compareResults } = await import('../../bench/kernels-compare.js' as string) as { compareResults(a: unknown, b: unknown): string[] };
    const lines = compareResults(r, r);
    assert.ok(lines.some((l) => /\| webgpu \| matmul \|/.test(l)), lines.join('\n'));
    assert.equal(errors, []);
    console.log(`  kernels (quick) in the page: ${r.rows.length} rows in ${seconds.toFixed(1)} s on ${r.adapter!.vendor} ${r.adapter!.architecture}, ` +
      `${ts.length} of ${gpu.length} webgpu rows by GPU timestamps, subgroup rows ${sub.every((x) => x.skipped) ? 'skipped' : 'measured'}`);
  } finally {
    await browser.close();
  }
});

test.after(async () => {
  await server?.close();
  rmSync(tmp, { recursive: true, force: true });
});

test.run();
