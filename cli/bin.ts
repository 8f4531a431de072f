#!/usr/bin/env node
// the package's `mlp-lens` executable (built to dist/cli/bin.js); in a checkout, bin/mlp-lens.js runs it
import process from 'node:process';
import { main } from './mlp-lens.ts';

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  // the commands print bad input as one line and return 2 themselves: what arrives here is a bug
  process.stderr.write(`error: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exitCode = 1;
}
