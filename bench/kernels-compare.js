#!/usr/bin/env node
// Per-kernel ratios between two result files of bench/kernels.js:
//   node bench/kernels-compare.js BASE.json NEW.json      (deno run -A bench/kernels-compare.js … works too)
// prints, for every row present in both (same impl, op, variant, shape), the times and NEW's speed-up
// over BASE (BASE ms / NEW ms: > 1 means NEW is faster); rows in one file only are listed after. A row
// timed one way in BASE and another in NEW (GPU timestamps vs wall clock) is marked: its ratio mixes two
// measures (files from before per-row timing count as wall clock).
import { readFileSync } from 'node:fs';
import process from 'node:process';

const key = (r) => `${r.impl} | ${r.op} | ${r.variant} | ${r.shape}`;
const who = (j) => `${j.adapter ? ((!/^\d*$/.test(j.adapter.device) && j.adapter.device) || j.adapter.description || `${j.adapter.vendor} ${j.adapter.architecture}`) : 'no adapter'} (${j.runtime.name} ${j.runtime.version}, ${j.date})`;

/** the comparison as lines of text (exported for tests) */
export function compareResults(a, b) {
  const lines = [`base: ${who(a)}`, `new:  ${who(b)}`, '', '| impl | op | variant | shape | base ms | new ms | speed-up |', '| --- | --- | --- | --- | ---: | ---: | ---: |'];
  const bm = new Map(b.rows.map((r) => [key(r), r]));
  const seen = new Set();
  const how = (r) => r.timing ?? 'wall';
  let mixed = 0;
  for (const r of a.rows) {
    const s = bm.get(key(r));
    if (!s) continue;
    seen.add(key(r));
    const ok = Number.isFinite(r.ms) && Number.isFinite(s.ms) && s.ms > 0;
    const differ = ok && how(r) !== how(s);
    if (differ) mixed++;
    lines.push(`| ${key(r)} | ${Number.isFinite(r.ms) ? r.ms.toFixed(3) : 'skipped'} | ${Number.isFinite(s.ms) ? s.ms.toFixed(3) : 'skipped'} | ${ok ? `×${(r.ms / s.ms).toFixed(2)}${differ ? ` (${how(r)} vs ${how(s)})` : ''}` : ''} |`);
  }
  if (mixed) lines.push('', `${mixed} rows were timed differently in the two files (timestamp: GPU time of the passes; wall: submit + wait around N calls): their ratios are not kernel against kernel`);
  const onlyA = a.rows.filter((r) => !seen.has(key(r))).map(key);
  const onlyB = b.rows.filter((r) => !seen.has(key(r)) && !a.rows.some((x) => key(x) === key(r))).map(key);
  if (onlyA.length) lines.push('', `only in base: ${onlyA.join('; ')}`);
  if (onlyB.length) lines.push('', `only in new: ${onlyB.join('; ')}`);
  return lines;
}

const isMain = import.meta.url.endsWith('/bench/kernels-compare.js') && (process.argv[1] ?? '').endsWith('kernels-compare.js');
if (isMain || (globalThis.Deno && globalThis.Deno.mainModule === import.meta.url)) {
  const [fa, fb] = process.argv.slice(2);
  if (!fa || !fb) { console.error('usage: bench/kernels-compare.js BASE.json NEW.json'); process.exit(2); }
  const read = (f) => {
    const j = JSON.parse(readFileSync(f, 'utf8'));
    if (j.schema !== 'mlp-lens/kernels@1') { console.error(`error: ${f} is not a bench/kernels.js result (schema ${j.schema})`); process.exit(2); }
    return j;
  };
  console.log(compareResults(read(fa), read(fb)).join('\n'));
}
