// one case of test/mlp/fuzz-headers.test.ts, in a process of its own so that its peak memory is its own:
//   node --import ./bench/node-ts.mjs test/helpers/decode-case.ts model|checkpoint|safetensors FILE
// decodes FILE as the command line's readers do (a model as --init / --analyze read it, a checkpoint as
// --resume does, or plain safetensors) and prints one JSON line: the outcome, the time it took and the
// process's peak resident memory.
import { readFileSync } from 'node:fs';
import process from 'node:process';
import { decodeCheckpoint } from '../../mlp/checkpoint.ts';
import { InputError } from '../../mlp/errors.ts';
import { decodeSafetensors } from '../../mlp/safetensors.ts';
import { decodeModelWithNorm } from '../../mlp/weights.ts';
// @ts-expect-error: a plain .mjs helper without types
import { peakRssMB } from './peak-memory.mjs';

export interface CaseOutcome {
  ok: boolean;
  /** the error's class, and for an InputError the file it names */
  error?: string;
  file?: string;
  message?: string;
  ms: number;
  maxRssMB: number;
}

const [kind, path] = process.argv.slice(2);
const decode = { model: decodeModelWithNorm, checkpoint: decodeCheckpoint, safetensors: decodeSafetensors }[kind];
if (!decode || !path) throw new Error('usage: decode-case.ts model|checkpoint|safetensors FILE');
const bytes = readFileSync(path);
const t0 = performance.now();
let outcome: Omit<CaseOutcome, 'ms' | 'maxRssMB'>;
try {
  decode(bytes, path);
  outcome = { ok: true };
} catch (e) {
  const err = e as Error;
  outcome = { ok: false, error: err?.constructor?.name, file: e instanceof InputError ? e.file : undefined, message: err?.message };
}
const ms = performance.now() - t0;
process.stdout.write(JSON.stringify({ ...outcome, ms, maxRssMB: peakRssMB() }) + '\n');
