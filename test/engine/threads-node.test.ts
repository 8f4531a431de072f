// engine/threads-node.ts: a process started with V8's flags or process-wide options (which Node refuses a
// worker: ERR_WORKER_INVALID_EXEC_ARGV) still gets its helper thread; before, such a run silently did
// every call on the main thread. Node only (the child is `node --max-old-space-size=… …`).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const root = new URL('../../', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'mlp-lens-threads-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));
const probe = join(tmp, 'probe.ts');
const helpers = new URL('../helpers/', import.meta.url).href;
writeFileSync(probe, `
import { HelperThread, taskModule } from '${new URL('../../engine/threads.ts', import.meta.url).href}';
import { onWorker } from '${helpers}thread-task.ts';
const h = new HelperThread(true);
const there = await h.call({ url: taskModule('${helpers}x.ts', './thread-task'), fn: 'onWorker', local: onWorker }, []);
console.log(JSON.stringify({ there, fallback: h.fallback }));
await h.close();
`);

for (const flags of [['--max-old-space-size=3000'], ['--stack-size=2000', '--max-semi-space-size=8', '--enable-source-maps']]) {
  test(`node ${flags.join(' ')}: the call runs on the helper`, () => {
    const r = spawnSync(process.execPath, [...flags, '--import', './bench/node-ts.mjs', probe], { cwd: root, encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout.trim().split('\n').pop()!), { there: true, fallback: null });
  });
}

test.run();
