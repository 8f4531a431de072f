#!/usr/bin/env node
// `npm run serve` (node web/serve.js): bundles the page into web/dist/ and serves it, with the MNIST files,
// on a loopback address only. --port 0 picks any free port; the URL is printed either way.
import process from 'node:process';
import { parseArgs } from 'node:util';

const HELP = `usage: node web/serve.js [--port N] [--host ADDR] [--no-build] [--quiet]

Builds the browser page (web/src → web/dist, esbuild) and serves it on http://127.0.0.1:PORT/: training
on WebGPU (the CPU backend where the browser has no adapter), live charts, the neuron explorer, downloads.

  --port N      port to listen on (default 8080; 0: any free port)
  --host ADDR   loopback address to bind: 127.0.0.1 (default), ::1 or localhost; nothing else is accepted
  --no-build    serve web/dist as it is
  --quiet       no line per request
  --help        this text
`;

let values;
try {
  ({ values } = parseArgs({
    args: process.argv.slice(2), strict: true,
    options: { port: { type: 'string', default: '8080' }, host: { type: 'string', default: '127.0.0.1' }, 'no-build': { type: 'boolean' }, quiet: { type: 'boolean' }, help: { type: 'boolean' } },
  }));
} catch (e) {
  process.stderr.write(`error: ${e.message}\n\n${HELP}`);
  process.exit(2);
}
if (values.help) { process.stdout.write(HELP); process.exit(0); }
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`error: --port must be an integer from 0 to 65535, got '${values.port}'\n`);
  process.exit(2);
}

// Node 20 reads our TypeScript through esbuild-backed loader hooks (as bench/train.js does)
const hooks = '../bench/node-ts.mjs';
await import(hooks);
const { buildWeb } = await import('./build.ts');
const { startServer } = await import('./server.ts');

try {
  if (!values['no-build']) {
    const b = await buildWeb();
    process.stdout.write(`built web/dist: ${b.files.length} files, ${(b.bytes / 1e6).toFixed(1)} MB in ${b.seconds.toFixed(1)} s\n`);
  }
  const s = await startServer({ port, host: values.host, log: values.quiet ? undefined : (line) => process.stdout.write(line + '\n') });
  process.stdout.write(`mlp-lens page: ${s.url}\n`);
  const stop = () => { void s.close().then(() => process.exit(0)); };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
} catch (e) {
  process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(e?.code === 'EADDRINUSE' ? 2 : 1);
}
