// `npm run test:deno`: every test file that runs on backends, run under Deno too (`deno run -A FILE`,
// one process per file, in order; the first failure stops the run). The list is computed, not kept:
// a test file runs on backends when it, or a test helper or bench/ module it imports (transitively),
// imports one of the MARKERS below. Product modules are not followed: what matters is what the test
// itself reaches for, not what a library module happens to import. Files that cannot run under Deno
// are listed in SKIPS with the reason, and printed as skipped.
//   node --import ./bench/node-ts.mjs test/deno-files.ts [REGEX] [--list]
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { importClosure, sourceFiles } from './helpers/imports.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** reaching one of these makes a test file runtime-dependent: it runs under Deno too */
export const MARKERS: Record<string, string> = {
  'test/setup/backends.ts': 'suites on every backend',
  'test/setup/gpu.ts': 'the shared WebGPU test device',
  'engine/device.ts': 'WebGPU device acquisition',
  'engine/wasm/load.ts': 'the WebAssembly kernels',
  'engine/threads.ts': 'the helper thread (worker_threads in Node, Web Workers in Deno)',
};

/** selected files that do not run under Deno, and why */
export const SKIPS: Record<string, string> = {
  'test/web/kernels-page.test.ts': 'drives headless Chromium through playwright-core: the browser is the runtime under test',
};

export interface DenoPlan { file: string; why: string[]; skip?: string }

/** the test files that run on backends, each with the markers it reaches and a skip reason if any */
export function denoPlan(): DenoPlan[] {
  const plan: DenoPlan[] = [];
  for (const file of sourceFiles(root, ['test']).filter((f) => f.endsWith('.test.ts'))) {
    const reach = importClosure(root, file, (f) => f.startsWith('test/') || f.startsWith('bench/'));
    const why = Object.keys(MARKERS).filter((m) => reach.has(m)).map((m) => MARKERS[m]);
    if (!why.length) continue;
    plan.push({ file, why, skip: SKIPS[file] });
  }
  return plan;
}

function denoBinary(): string {
  const local = join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'deno.cmd' : 'deno');
  return existsSync(local) ? local : 'deno';
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('/test/deno-files.ts')) {
  const args = process.argv.slice(2);
  const filter = args.find((a) => !a.startsWith('--'));
  const plan = denoPlan().filter((p) => !filter || new RegExp(filter).test(p.file));
  const run = plan.filter((p) => !p.skip);
  console.log(`deno: ${run.length} test files run on backends under Deno (${plan.length - run.length} skipped)`);
  for (const p of plan) if (p.skip) console.log(`deno: skipped ${p.file}: ${p.skip}`);
  if (args.includes('--list')) {
    for (const p of run) console.log(`  ${p.file}  (${p.why.join(', ')})`);
    process.exit(0);
  }
  const deno = denoBinary();
  for (const [i, p] of run.entries()) {
    console.log(`\ndeno [${i + 1}/${run.length}]: ${p.file}`);
    const t0 = performance.now();
    const r = spawnSync(deno, ['run', '-A', p.file], { cwd: root, stdio: 'inherit' });
    const status = r.status ?? 1;
    if (r.error || status !== 0) {
      console.log(`deno: ${p.file} failed (${r.error ? r.error.message : `exit ${r.status ?? r.signal}`}) after ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      process.exit(status || 1);
    }
  }
}
