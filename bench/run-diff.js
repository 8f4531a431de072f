#!/usr/bin/env node
// Compares two run directories file by file, ignoring what differs between two runs of the same job:
// timings (any key ending in "seconds"/"Seconds", the `timings` objects), when it started, where it was
// written. Everything else must match: every statistic, analysis, CSV, figure, the model's bytes.
//   node bench/run-diff.js RUN_A RUN_B        exit 0 when the runs match, 1 with the differences listed
// Used to check that a speed-up changed no output (docs/performance.md).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import process from 'node:process';

const [a, b] = process.argv.slice(2);
if (!a || !b || a === '--help') {
  console.log('usage: node bench/run-diff.js RUN_A RUN_B   (compares two run directories, timings ignored)');
  process.exit(a === '--help' ? 0 : 2);
}

const TIMING_KEY = /(^|[a-z])(seconds|Seconds)$|^timings$|^started$|^out$|^wallSeconds$/;
// through-training.json's per-part timings sit under "timings"; metrics' per-epoch times end in "seconds"
function strip(value, key = '') {
  if (TIMING_KEY.test(key)) return '<timing>';
  if (Array.isArray(value)) return value.map((v) => strip(v));
  if (value && typeof value === 'object') {
    const out = {};
    // a timing key is left out, not just its value: a run that records one more timing differs in nothing
    for (const [k, v] of Object.entries(value)) if (!TIMING_KEY.test(k)) out[k] = strip(v, k);
    return out;
  }
  return value;
}

function files(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else out.push(p);
  }
  return out;
}

/** a safetensors file as its tensors' bytes and its metadata with the history's timings stripped */
function safetensors(buf) {
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  const meta = header.__metadata__ ?? {};
  if (typeof meta.history === 'string') meta.history = strip(JSON.parse(meta.history));
  delete meta.crc32; // covers the history, timings included
  return { header: JSON.stringify(strip(header)), data: buf.subarray(8 + n) };
}

function same(rel) {
  const x = readFileSync(join(a, rel)), y = readFileSync(join(b, rel));
  if (rel.endsWith('.json')) return JSON.stringify(strip(JSON.parse(x))) === JSON.stringify(strip(JSON.parse(y)));
  if (rel.endsWith('.safetensors')) {
    const p = safetensors(x), q = safetensors(y);
    return p.header === q.header && p.data.equals(q.data);
  }
  // the report names its run directory in its title and heading, and says when it was generated (only
  // those: replacing the folder's name everywhere made a run in a folder named, say, "run" or "base"
  // differ wherever the page's text has that word)
  const html = (buf) => buf.toString().replace(/mlp-lens report: [^<]*/g, 'mlp-lens report: RUN').replace(/generated \d{4}-\d\d-\d\d \d\d:\d\d:\d\d/, 'generated WHEN');
  if (rel.endsWith('.html')) return html(x) === html(y);
  return x.equals(y);
}

// timings.json files (RUN/timings.json, analysis/timings.json) hold nothing but timings
const listed = (dir) => files(dir).map((f) => relative(dir, f)).filter((f) => !f.endsWith('timings.json'));
const ra = new Set(listed(a)), rb = new Set(listed(b));
const problems = [];
for (const f of ra) if (!rb.has(f)) problems.push(`only in ${a}: ${f}`);
for (const f of rb) if (!ra.has(f)) problems.push(`only in ${b}: ${f}`);
let compared = 0;
for (const f of [...ra].filter((f) => rb.has(f)).sort()) {
  compared++;
  if (!same(f)) problems.push(`differs: ${f}`);
}
for (const p of problems) console.log(p);
console.log(`${compared} files compared, ${problems.length} differences`);
process.exit(problems.length ? 1 : 0);
