// run/files.ts writeAtomic: the file holds exactly what was given (a string, bytes, or pieces of both,
// concatenated, past its 1 MiB encoding buffer and with writes side by side), no temporary file is left,
// and a failed write leaves no file behind. readBytes: the
// file's bytes, in a SharedArrayBuffer when asked, and the same refusals either way.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { InputError } from '../../mlp/errors.ts';
import { readBytes, writeAtomic } from '../../run/files.ts';

const t = suite('run/files: writeAtomic');
const dir = mkdtempSync(join(tmpdir(), 'mlp-lens-files-'));
t.after(() => rmSync(dir, { recursive: true, force: true }));

t('a string, bytes and pieces of both give their UTF-8 bytes, the pieces in order', async () => {
  const text = 'x −1.5 “quoted” ü\n';
  await writeAtomic(join(dir, 'string.txt'), text);
  assert.equal(readFileSync(join(dir, 'string.txt')), Buffer.from(text, 'utf8'));
  await writeAtomic(join(dir, 'bytes.bin'), new Uint8Array([0, 255, 10]));
  assert.equal([...readFileSync(join(dir, 'bytes.bin'))], [0, 255, 10]);
  // a long piece among short ones, an empty one, bytes, and text beyond Latin-1
  const long = 'a'.repeat(300_000) + '−';
  const pieces = ['<svg>', '', long, '\n', new Uint8Array([0x41, 0x42]), '“end”'];
  await writeAtomic(join(dir, 'pieces.html'), pieces);
  const expected = Buffer.concat(pieces.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));
  assert.ok(readFileSync(join(dir, 'pieces.html')).equals(expected), 'the pieces concatenated');
  await writeAtomic(join(dir, 'none.txt'), []);
  assert.is(readFileSync(join(dir, 'none.txt')).length, 0);
  assert.equal(readdirSync(dir).filter((f) => f.includes('.tmp-')), [], 'no temporary file left');
});

t('pieces past the encoding buffer (1 MiB), characters of every width across its edges, writes side by side: each file exact', async () => {
  // 1-, 2-, 3- and 4-byte characters (a surrogate pair), so the buffer's edge falls inside some of them
  const mixed = 'aé−😀'.repeat(300_000) + 'z';
  const lone = 'x\ud800y\udc00'; // lone surrogates: U+FFFD, as Buffer.from writes them
  const big = new Uint8Array(1_500_000).map((_, i) => i & 255);
  const files: [string, (string | Uint8Array)[]][] = [
    ['mixed.txt', [mixed]], ['lone.txt', [lone, 'end']], ['big-bytes.bin', ['head', big, 'tail', mixed.slice(0, 1001)]],
    ['many.txt', Array.from({ length: 3000 }, (_, i) => `${i}−`.repeat(200))],
  ];
  await Promise.all(files.map(([name, pieces]) => writeAtomic(join(dir, name), pieces)));
  for (const [name, pieces] of files) {
    const expected = Buffer.concat(pieces.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));
    assert.ok(readFileSync(join(dir, name)).equals(expected), name);
  }
  await writeAtomic(join(dir, 'one.txt'), mixed);
  assert.ok(readFileSync(join(dir, 'one.txt')).equals(Buffer.from(mixed, 'utf8')), 'one string');
});

t('a write that fails leaves neither the file nor its temporary file', async () => {
  const path = join(dir, 'missing-folder', 'file.txt');
  const err = await writeAtomic(path, ['a', 'b']).then(() => null, (e: NodeJS.ErrnoException) => e);
  assert.ok(err && err.code === 'ENOENT', String(err));
  assert.not.ok(existsSync(path));
});

t('readBytes: the same bytes plain or shared (a SharedArrayBuffer only when asked), the same refusals', async () => {
  const path = join(dir, 'bytes.bin');
  // larger than one read of some runtimes, and not a multiple of a page
  const bytes = Uint8Array.from({ length: 3 * 65536 + 17 }, (_, i) => (i * 31 + 7) & 255);
  writeFileSync(path, bytes);
  const plain = await readBytes(path, { limit: 1 << 20 });
  const shared = await readBytes(path, { limit: 1 << 20, shared: true });
  assert.not.instance(plain.buffer, SharedArrayBuffer);
  assert.instance(shared.buffer, SharedArrayBuffer);
  assert.is(shared.length, bytes.length);
  assert.ok(Buffer.from(shared).equals(Buffer.from(bytes)) && Buffer.from(plain).equals(Buffer.from(bytes)));
  writeFileSync(join(dir, 'empty.bin'), new Uint8Array(0));
  assert.is((await readBytes(join(dir, 'empty.bin'), { limit: 10, shared: true })).length, 0);
  for (const shared of [false, true]) {
    const tooLarge = await readBytes(path, { limit: 100, shared }).then(() => null, (e: Error) => e);
    assert.instance(tooLarge, InputError);
    assert.match(String(tooLarge), /too large/);
    const missing = await readBytes(join(dir, 'nope.bin'), { limit: 100, shared }).then(() => null, (e: Error) => e);
    assert.match(String(missing), /not found/);
  }
});

t.run();
