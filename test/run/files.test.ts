// run/files.ts writeAtomic: the file holds exactly what was given (a string, bytes, or pieces of both,
// concatenated), no temporary file is left, and a failed write leaves no file behind.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { writeAtomic } from '../../run/files.ts';

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

t('a write that fails leaves neither the file nor its temporary file', async () => {
  const path = join(dir, 'missing-folder', 'file.txt');
  const err = await writeAtomic(path, ['a', 'b']).then(() => null, (e: NodeJS.ErrnoException) => e);
  assert.ok(err && err.code === 'ENOENT', String(err));
  assert.not.ok(existsSync(path));
});

t.run();
