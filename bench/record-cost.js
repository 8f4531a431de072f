#!/usr/bin/env node
// Benchmark: seconds per epoch of the reference run with recording on and off, in one run.
//   node bench/record-cost.js [--epochs N] [--repeats R] [--device cpu|webgpu] [--steps N]
// Runs bench/train.js as child processes, alternating on/off so machine noise hits both alike, and
// reports the median epoch time of each and their ratio. A benchmark, never a test.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values: o } = parseArgs({
  options: {
    epochs: { type: 'string', default: '2' }, repeats: { type: 'string', default: '2' },
    device: { type: 'string', default: 'cpu' }, steps: { type: 'string' }, help: { type: 'boolean' },
  },
});
if (o.help) {
  console.log('usage: node bench/record-cost.js [--epochs N] [--repeats R] [--device cpu|webgpu] [--steps N]');
  process.exit(0);
}
const tmp = mkdtempSync(join(tmpdir(), 'mlp-lens-record-cost-'));
const times = { on: [], off: [] };
try {
  for (let r = 0; r < Number(o.repeats); r++) {
    for (const mode of ['on', 'off']) {
      const out = join(tmp, `${mode}-${r}`);
      const args = ['bench/train.js', '--quiet', '--epochs', o.epochs, '--device', o.device, '--out', out,
        ...(o.steps ? ['--steps', o.steps] : []), ...(mode === 'off' ? ['--no-record'] : [])];
      const p = spawnSync(process.execPath, args, { encoding: 'utf8' });
      if (p.status !== 0) throw new Error(`train.js failed:\n${p.stderr}`);
      const { epochs } = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
      for (const e of epochs) times[mode].push(e.seconds);
      process.stderr.write(`  recording ${mode}: ${epochs.map((e) => e.seconds.toFixed(2)).join(', ')} s\n`);
    }
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const on = median(times.on), off = median(times.off);
console.log(`device ${o.device}, ${times.on.length} epochs each (median s/epoch, test evaluation included)`);
console.log(`  recording on   ${on.toFixed(3)} s`);
console.log(`  recording off  ${off.toFixed(3)} s`);
console.log(`  ratio on/off   ${(on / off).toFixed(3)}`);
