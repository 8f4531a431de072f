// the page tests' shared set-up (test/web/*.test.ts): Debian's Chromium or a skip that says why, the
// page built into a temporary folder and served by web/server.ts on a free loopback port, headless
// Chromium with the tests' flags, and a page whose console and page errors are collected.
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as assert from 'uvu/assert';
import type { Browser, Page } from 'playwright-core';
import { buildWeb } from '../../web/build.ts';
import { startServer, type WebServer } from '../../web/server.ts';
import { skipped } from './skip.ts';

export const CHROMIUM = '/usr/bin/chromium';

/** true where Chromium is missing: the test then returns, skipped with the reason (a failure under MLP_LENS_REQUIRE_CHROMIUM=1) */
export function chromiumMissing(): boolean {
  if (existsSync(CHROMIUM)) return false;
  if (process.env.MLP_LENS_REQUIRE_CHROMIUM) assert.unreachable(`${CHROMIUM} is missing and MLP_LENS_REQUIRE_CHROMIUM is set`);
  skipped(`${CHROMIUM} not found (apt-get install chromium; .ci/run does)`);
  return true;
}

/** the page (web/index.html and its bundle) built into `dir`/root and served there */
export async function servePage(dir: string): Promise<WebServer> {
  const root = join(dir, 'root');
  mkdirSync(root, { recursive: true });
  copyFileSync(resolve('web/index.html'), join(root, 'index.html'));
  await buildWeb({ outdir: join(root, 'dist') });
  return startServer({ port: 0, root });
}

/** headless Chromium with the flags every page test uses, plus `flags` (e.g. --enable-unsafe-webgpu) */
export async function launchChromium(flags: readonly string[] = []): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: [...flags, '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

/** the page's console errors and uncaught errors, as they happen */
export function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console.error: ${m.text()}`); });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  return errors;
}

/** lens(f) evaluates window.mlpLens.f, the page's test hook */
export const lensOf = (page: Page) => <T>(f: string): Promise<T> => page.evaluate(`window.mlpLens.${f}`) as Promise<T>;
