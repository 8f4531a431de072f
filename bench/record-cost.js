#!/usr/bin/env node
// Benchmark: seconds per epoch of the reference run with recording on and off, in one run.
//   node bench/record-cost.js [--epochs N] [--repeats R] [--device cpu|webgpu] [--steps N] [--runtime node|deno] [--stats device|host]
// Runs bench/train.js as child processes, alternating on/off so machine noise hits both alike, and
// reports the median epoch time of each and their ratio. Two clocks per epoch, both from metrics.json:
//   wall   the whole epoch as the CLI lives it: training, test evaluation, the recorder's end of epoch,
//          the statistics (kernels on webgpu, loops on cpu) and their file, the checkpoint (wallSeconds)
//   train  training and test evaluation only (EpochMetrics.seconds, taken before any of the above)
// plus, with recording on, the statistics alone (statsSeconds). The first epoch of each run also builds
// pipelines and uploads the data: with --epochs ≥ 2 the medians are of warm epochs mostly. --stats host
// computes the statistics of a webgpu run with the cpu loops instead of the kernels (MLP_LENS_STATS).
// A benchmark, never a test.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values: o } = parseArgs({
  options: {
    epochs: { type: 'string', default: '2' }, repeats: { type: 'string', default: '2' },
    device: { type: 'string', default: 'cpu' }, steps: { type: 'string' }, runtime: { type: 'string', default: 'node' },
    stats: { type: 'string', default: 'device' },
    help: { type: 'boolean' },
  },
});
if (o.help) {
  console.log('usage: node bench/record-cost.js [--epochs N] [--repeats R] [--device cpu|webgpu] [--steps N] [--runtime node|deno] [--stats device|host]');
  process.exit(0);
}
const tmp = mkdtempSync(join(tmpdir(), 'mlp-lens-record-cost-'));
const times = { on: { wall: [], train: [], stats: [] }, off: { wall: [], train: [], stats: [] } };
const [cmd, pre] = o.runtime === 'deno' ? ['node_modules/.bin/deno', ['run', '-A']] : [process.execPath, []];
try {
  for (let r = 0; r < Number(o.repeats); r++) {
    for (const mode of ['on', 'off']) {
      const out = join(tmp, `${mode}-${r}`);
      const args = [...pre, 'bench/train.js', '--quiet', '--no-analysis', '--no-report', '--epochs', o.epochs,
        '--device', o.device, '--out', out, ...(o.steps ? ['--steps', o.steps] : []), ...(mode === 'off' ? ['--no-record'] : [])];
      const p = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, MLP_LENS_STATS: o.stats } });
      if (p.status !== 0) throw new Error(`train.js failed:\n${p.stderr}`);
      const { epochs } = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
      for (const e of epochs) {
        times[mode].wall.push(e.wallSeconds ?? e.seconds);
        times[mode].train.push(e.seconds);
        if (e.statsSeconds !== undefined) times[mode].stats.push(e.statsSeconds);
      }
      process.stderr.write(`  recording ${mode}: wall ${epochs.map((e) => (e.wallSeconds ?? e.seconds).toFixed(2)).join(', ')} s` +
        (mode === 'on' ? ` (statistics ${epochs.map((e) => (e.statsSeconds ?? 0).toFixed(2)).join(', ')} s)` : '') + '\n');
    }
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const on = median(times.on.wall), off = median(times.off.wall);
const onTrain = median(times.on.train), offTrain = median(times.off.train);
console.log(`device ${o.device} (${o.runtime}, statistics ${o.device === 'cpu' ? 'loops' : o.stats === 'host' ? 'cpu loops after a read-back' : 'kernels'}), ${times.on.wall.length} epochs each, median s/epoch`);
console.log(`  recording on    wall ${on.toFixed(3)} s   train+test ${onTrain.toFixed(3)} s   statistics ${median(times.on.stats)?.toFixed(3) ?? '-'} s`);
console.log(`  recording off   wall ${off.toFixed(3)} s   train+test ${offTrain.toFixed(3)} s`);
console.log(`  ratio on/off    wall ${(on / off).toFixed(3)}   train+test ${(onTrain / offTrain).toFixed(3)}`);
// on a shared machine the fastest epochs are the least disturbed ones
const min = (a) => Math.min(...a);
console.log(`  fastest epochs  wall ${min(times.on.wall).toFixed(3)} / ${min(times.off.wall).toFixed(3)} s = ${(min(times.on.wall) / min(times.off.wall)).toFixed(3)}`);
