// the import rules of docs/architecture.md ("Folders and what they may import"), enforced on every
// import, export … from and import('literal') of our sources. Keep RULES below and that table the same.
import { existsSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { importsOf, sourceFiles, type ImportRef } from './helpers/imports.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * the areas of the repository: a top-level folder, or one of the package's two entry points at the root:
 * `index` (index.ts, 'mlp-lens') and `core` (core.ts, 'mlp-lens/core', browser-safe)
 */
type Area = 'shaders' | 'engine' | 'mlp' | 'analysis' | 'run' | 'cli' | 'core' | 'index' | 'web' | 'bench' | 'test' | 'bin';

const CORE: Area[] = ['shaders', 'engine', 'mlp', 'analysis'];
const ALL: Area[] = ['shaders', 'engine', 'mlp', 'analysis', 'run', 'cli', 'core', 'index', 'web', 'bench', 'test', 'bin'];
const ROOT_FILES: Partial<Record<string, Area>> = { 'index.ts': 'index', 'core.ts': 'core' };

/** what each area's files may import of ours besides their own area (docs/architecture.md; npm packages are not ruled here) */
const RULES: Record<Area, readonly Area[]> = {
  shaders: [],
  engine: ['engine', 'shaders'],
  mlp: ['engine', 'mlp'],
  analysis: ['engine', 'mlp', 'analysis'],
  run: [...CORE, 'run'],
  cli: [...CORE, 'run', 'cli'],
  // the public entry points: the core (browser-safe: it takes only run/'s file-free parts) and the index
  core: [...CORE, 'run'],
  index: [...CORE, 'core', 'run', 'cli'],
  web: ALL.filter((a) => a !== 'bench' && a !== 'cli'),
  // the benchmarks, the tests and the checkout's dev entry (bin/mlp-lens.js) may import anything
  bench: ALL,
  test: ALL,
  bin: ALL,
};

/** single imports allowed against the table, each with its reason */
const EXCEPTIONS: { from: string; to: string; why: string }[] = [
  // the page's developer panel runs the kernel benchmarks in the browser
  { from: 'web/src/worker.ts', to: 'bench/kernels-run.ts', why: "the page's developer panel (kernel benchmarks)" },
  { from: 'web/src/protocol.ts', to: 'bench/kernels-run.ts', why: "the same panel's result type, in the worker's messages" },
  { from: 'web/src/main.ts', to: 'bench/kernels-run.ts', why: "the same panel's result type, drawn as a table" },
];

/** areas that run unchanged in Node, Deno and the browser: no node: module, except in files named *-node.ts */
const PORTABLE: Area[] = ['engine', 'mlp', 'analysis', 'shaders'];

const NODE_BUILTINS = new Set(builtinModules);
const isNodeModule = (spec: string) => spec.startsWith('node:') || NODE_BUILTINS.has(spec) || NODE_BUILTINS.has(spec.split('/')[0]);

function areaOf(path: string): Area | undefined {
  if (!path.includes('/')) return ROOT_FILES[path];
  const top = path.split('/')[0];
  return (ALL as string[]).includes(top) && !(top in { index: 1, core: 1 }) ? top as Area : undefined;
}

const files = sourceFiles(root, [...Object.keys(ROOT_FILES), ...ALL.filter((a) => !Object.values(ROOT_FILES).includes(a))])
  .filter((f) => f in ROOT_FILES || f.includes('/'));
const imports: ImportRef[] = files.flatMap((f) => importsOf(root, f));
const show = (r: ImportRef) => `${r.file}:${r.line} → ${r.target ?? r.specifier}`;

test('the scan sees our sources and their imports', () => {
  for (const a of ['engine', 'mlp', 'analysis', 'shaders', 'cli', 'test'] as const) {
    assert.ok(files.some((f) => areaOf(f) === a), `no files found under ${a}/`);
  }
  assert.ok(imports.filter((r) => r.target).length > 200, `only ${imports.length} imports found`);
  assert.ok(imports.some((r) => r.file === 'engine/tensor.ts'), 'engine/tensor.ts has no imports?');
  for (const f of Object.keys(ROOT_FILES)) if (existsSync(join(root, f))) assert.ok(files.includes(f), `${f} not scanned`);
});

for (const area of ALL) {
  const allowed = RULES[area];
  const name = (a: Area) => Object.keys(ROOT_FILES).find((f) => ROOT_FILES[f] === a) ?? `${a}/`;
  const others = allowed.filter((a) => a !== area);
  test(`${name(area)} imports ${others.length === ALL.length - 1 ? 'anything' : others.length ? `only ${others.map(name).join(', ')} (and itself)` : 'nothing of ours outside it'}`, () => {
    const bad = imports.filter((r) => {
      if (areaOf(r.file) !== area || !r.target) return false;
      const to = areaOf(r.target);
      if (to === undefined) return false; // outside the areas (e.g. a root file other than index.ts)
      if (to === area || allowed.includes(to)) return false;
      return !EXCEPTIONS.some((e) => e.from === r.file && e.to === r.target);
    });
    if (bad.length) assert.unreachable(`${bad.length} import(s) against the rule:\n  ${bad.map((r) => `${show(r)} (${name(areaOf(r.target!)!)} is not allowed here)`).join('\n  ')}`);
  });
}

test('every exception in the table is still used (remove it when the import goes)', () => {
  const unused = EXCEPTIONS.filter((e) => !imports.some((r) => r.file === e.from && r.target === e.to));
  if (unused.length) assert.unreachable(`unused exception(s): ${unused.map((e) => `${e.from} → ${e.to}`).join(', ')}`);
});

test(`${PORTABLE.map((a) => `${a}/`).join(', ')} import no node: module (except in files named *-node.ts)`, () => {
  const bad = imports.filter((r) => {
    const a = areaOf(r.file);
    return a !== undefined && PORTABLE.includes(a) && !/-node\.ts$/.test(r.file) && isNodeModule(r.specifier);
  });
  if (bad.length) assert.unreachable(`${bad.length} Node import(s) in portable code:\n  ${bad.map(show).join('\n  ')}`);
});

test('core.ts (mlp-lens/core, what the page bundles) reaches no node: module through its imports', () => {
  // follows our imports from core.ts; a file named *-node.ts is the Node-only adapter that its importer
  // loads lazily under Node (engine/device.ts → engine/device-node.ts), so the walk stops there
  const byFile = new Map<string, ImportRef[]>();
  for (const r of imports) byFile.set(r.file, [...(byFile.get(r.file) ?? []), r]);
  const seen = new Set<string>(), bad: string[] = [], stack = [{ file: 'core.ts', via: ['core.ts'] }];
  while (stack.length) {
    const { file, via } = stack.pop()!;
    if (seen.has(file) || /-node\.ts$/.test(file)) continue;
    seen.add(file);
    for (const r of byFile.get(file) ?? []) {
      if (isNodeModule(r.specifier)) bad.push(`${show(r)} (via ${via.join(' → ')})`);
      else if (r.target) stack.push({ file: r.target, via: [...via, r.target] });
    }
  }
  assert.ok(seen.has('run/session.ts') && seen.has('mlp/train.ts'), `the walk did not reach the run layer: ${[...seen].length} files`);
  if (bad.length) assert.unreachable(`${bad.length} Node import(s) reachable from core.ts:\n  ${bad.join('\n  ')}`);
});

test.run();
