// engine/wasm/load.ts assembleWat: the binaries wabt assembles are kept on disk (MLP_LENS_WASM_CACHE=off
// skips it). An entry is read back instead of loading wabt, equals the fresh assembly byte for byte, and
// a damaged entry is assembled again and replaced.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { assembleWat } from '../../engine/wasm/load.ts';

const dir = fileURLToPath(new URL('../../node_modules/.cache/mlp-lens-wasm/', import.meta.url));
// a module of its own (a unique constant): its entry is this test's
const text = `(module (func (export "f") (result i32) (i32.const ${Date.now() % 1e9})))`;
const file = `${dir}${createHash('sha256').update(text).digest('hex').slice(0, 32)}.wasm`;

test('kept on disk, read back the same; a damaged entry is replaced', async () => {
  const fresh = await assembleWat('t.wat', text);
  assert.ok(WebAssembly.validate(fresh));
  assert.equal(Array.from(readFileSync(file)), Array.from(fresh), 'the entry is the assembly');
  assert.equal(Array.from(await assembleWat('t.wat', text)), Array.from(fresh), 'read back');
  writeFileSync(file, fresh.subarray(0, 5));
  const again = await assembleWat('t.wat', text);
  assert.equal(Array.from(again), Array.from(fresh), 'assembled again');
  assert.equal(Array.from(readFileSync(file)), Array.from(fresh), 'and replaced');
  const { instance } = await WebAssembly.instantiate(again);
  assert.is((instance.exports.f as () => number)(), Date.now() % 1e9 > -1 ? Number(/const (\d+)/.exec(text)![1]) : 0);
});

test.run();
