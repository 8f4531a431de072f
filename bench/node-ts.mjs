// Lets Node 20 import our .ts sources directly: esbuild strips the types on load.
// Deno and esbuild bundles need none of this (they read TypeScript themselves).
// Use: `node --import ./bench/node-ts.mjs file.ts`, or import this module before a dynamic import.
import { register } from 'node:module';

register('./node-ts-hooks.mjs', import.meta.url);
