// The WAT ports of V8's Math.exp and Math.log (engine/wasm/fdlibm.ts) against this Node's, bit for bit:
// bench/fdlibm-check.ts's families at 1 % of its ≈ 150 M inputs (run it whole after changing either). Node
// only: the ports are of the fdlibm that Node 20's V8 carries (other engines' Math.log may not be fdlibm's;
// engine/wasm/math-kernels.ts then leaves its kernels unused).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const root = fileURLToPath(new URL('../..', import.meta.url));

test('exp (scalar and f64x2) and log: Math.exp\'s and Math.log\'s bits on 1.5 M inputs', () => {
  if (process.env.MLP_LENS_WASM === '0') return;
  const r = spawnSync(process.execPath, ['--import', './bench/node-ts.mjs', 'bench/fdlibm-check.ts', '--scale', '0.01'], { cwd: root, encoding: 'utf8' });
  assert.is(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /every result identical to Math\.exp \/ Math\.log, bit for bit/);
});

test.run();
