// bench/node-ts-hooks.mjs: the cache of esbuild's transforms (MLP_LENS_TS_CACHE=FOLDER here, a temporary
// one). A changed source is transformed again (never a stale entry), its path keeps one entry, and a
// cache that cannot be written (or is off) does not stop the import.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const hooks = new URL('../../bench/node-ts.mjs', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'mlp-lens-ts-cache-'));
const cache = join(tmp, 'cache');
test.after(() => rmSync(tmp, { recursive: true, force: true }));

// (strings printed, and colours off: uvu's runner sets FORCE_COLOR, which a child inherits)
const run = (file: string, cacheSetting = cache) => spawnSync(process.execPath, ['--import', hooks, file], {
  encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1', MLP_LENS_TS_CACHE: cacheSetting },
});
const entries = (file: string) => {
  const key = createHash('sha256').update(file).digest('hex').slice(0, 16);
  return readdirSync(cache).filter((f) => f.startsWith(key));
};

test('a changed source is transformed again; its path keeps one entry', () => {
  const file = join(tmp, 'probe.ts');
  for (const value of [1, 2, 1]) {
    writeFileSync(file, `const v: number = ${value};\nconsole.log(String(v));\n`);
    const r = run(file);
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout.trim(), String(value));
    assert.is(entries(file).length, 1, 'one entry for the path');
  }
  assert.is(run(file).stdout.trim(), '1', 'read from the cache');
  assert.ok(!readdirSync(cache).some((f) => f.endsWith('.tmp')), 'no temporaries left');
});

test('a cache that cannot be written, or none: the import still works', () => {
  const file = join(tmp, 'other.ts');
  writeFileSync(file, 'export const x: string = "ok";\nconsole.log(x);\n');
  const blocker = join(tmp, 'a-file');
  writeFileSync(blocker, 'not a folder');
  for (const setting of [join(blocker, 'cache'), 'off']) {
    const r = run(file, setting);
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout.trim(), 'ok', setting);
  }
  assert.ok(!existsSync(join(tmp, 'off')));
});

test.run();
