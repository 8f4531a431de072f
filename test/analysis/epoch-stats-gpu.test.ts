// the epoch statistics computed by WGSL kernels on the recorder's device slots must be the CPU's
// computeEpochStats: every count, extreme, edge and histogram identical; means and stds within f32
// summation error (the CPU sums in float64). Run on hand-made records with the edge cases and on a
// real recorded epoch.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { computeEpochStats, type EpochStats, type EpochStatsOptions } from '../../analysis/epoch-stats.ts';
import { computeEpochStatsOnDevice, groupIndex } from '../../analysis/epoch-stats-gpu.ts';
import { Binner } from '../../analysis/histogram.ts';
import { cpu } from '../../engine/cpu.ts';
import { createRng } from '../../engine/rng.ts';
import { loadMnist } from '../../run/mnist-files.ts';
import { type Mnist, type Split } from '../../mlp/mnist.ts';
import { Mlp } from '../../mlp/model.ts';
import { deviceEpochOf, type EpochRecord, Recorder, type Slot } from '../../mlp/recorder.ts';
import { Tensor } from '../../engine/tensor.ts';
import { train } from '../../mlp/train.ts';
import { prng } from '../helpers/check-op.ts';
import { testGpu } from '../setup/gpu.ts';

// --- comparing two EpochStats

/**
 * tolerances, GPU vs CPU. mean: |Δ| ≤ MEAN_TOL·(|mean| + std), the scale of Σ|x|/n that bounds an f32
 * sum's error; std: |Δ| ≤ STD_TOL·(std + 1e-3·|mean|) (M2 is summed about an f32 mean). Gradient norms
 * relative. Everything else (counts, extremes, edges, histograms, fractions, health) exactly.
 */
const MEAN_TOL = 1e-6, STD_TOL = 1e-5, NORM_TOL = 1e-6;

interface Worst { mean: number; std: number; norm: number; where: Record<string, string> }

function compareStats(got: EpochStats, want: EpochStats, label: string): Worst {
  const worst: Worst = { mean: 0, std: 0, norm: 0, where: {} };
  const note = (k: 'mean' | 'std' | 'norm', err: number, path: string) => {
    if (err > worst[k] || Number.isNaN(err)) { worst[k] = err; worst.where[k] = path; }
  };
  const flat = (v: unknown): number[] => (Array.isArray(v) ? (v as unknown[]).flatMap(flat) : [v as number]);
  const same = (a: number, b: number) => a === b || (Number.isNaN(a) && Number.isNaN(b));
  const walk = (a: any, b: any, path: string): void => {
    if (typeof b === 'number' || typeof b === 'string' || typeof b === 'boolean' || b === undefined) {
      if (!(typeof b === 'number' ? same(a, b) : a === b)) assert.unreachable(`${label}: ${path} is ${a}, the cpu's ${b}`);
      return;
    }
    if (Array.isArray(b) || ArrayBuffer.isView(b)) {
      assert.is(a?.length, (b as ArrayLike<unknown>).length, `${label}: ${path} length`);
      for (let i = 0; i < (b as ArrayLike<unknown>).length; i++) walk(a[i], (b as any)[i], `${path}[${i}]`);
      return;
    }
    assert.equal(Object.keys(a).sort(), Object.keys(b).sort(), `${label}: keys of ${path}`);
    for (const k of Object.keys(b)) {
      const p = `${path}.${k}`;
      if ((k === 'mean' || k === 'std') && 'mean' in b && 'std' in b) {
        const [gm, gs, wm, ws] = [flat(a.mean), flat(a.std), flat(b.mean), flat(b.std)];
        const i0 = k === 'mean' ? 0 : 1;
        const [g, w] = i0 === 0 ? [gm, wm] : [gs, ws];
        for (let i = 0; i < w.length; i++) {
          if (same(g[i], w[i])) continue;
          const scale = k === 'mean' ? Math.abs(wm[i]) + (Number.isNaN(ws[i]) ? 0 : ws[i]) : ws[i] + 1e-3 * Math.abs(wm[i]);
          const err = Math.abs(g[i] - w[i]) / scale;
          note(k, err, `${p}[${i}]`);
          if (!(err <= (k === 'mean' ? MEAN_TOL : STD_TOL))) assert.unreachable(`${label}: ${p}[${i}] is ${g[i]}, the cpu's ${w[i]} (${err.toExponential(2)} of the scale)`);
        }
      } else if (k === 'norm' || k === 'stepNorm') {
        const g = flat(a[k]), w = flat(b[k]);
        assert.is(g.length, w.length, `${label}: ${p} length`);
        for (let i = 0; i < w.length; i++) {
          const err = Math.abs(g[i] - w[i]) / Math.abs(w[i] || 1);
          note('norm', err, `${p}[${i}]`);
          if (!(err <= NORM_TOL)) assert.unreachable(`${label}: ${p}[${i}] is ${g[i]}, the cpu's ${w[i]}`);
        }
      } else {
        walk(a[k], b[k], p);
      }
    }
  };
  walk(got, want, 'stats');
  return worst;
}

/** a hand-made record: slots from plain rows */
function record(labels: number[], acts: Record<string, number[][]>, grads: Record<string, number[][]> = {}, batchOffsets?: number[]): EpochRecord {
  const slot = (rows: number[][]): Slot => ({ width: rows[0].length, data: Float32Array.from(rows.flat()) });
  return {
    epoch: 2, count: labels.length, labels: Uint8Array.from(labels), indices: Uint32Array.from(labels.keys()),
    acts: Object.fromEntries(Object.entries(acts).map(([k, v]) => [k, slot(v)])),
    grads: Object.fromEntries(Object.entries(grads).map(([k, v]) => [k, slot(v)])),
    batchOffsets: batchOffsets && Uint32Array.from(batchOffsets),
    paramGrads: { names: ['layers.0.W'], steps: 2, norms: Float32Array.of(0.5, 0.25) },
  };
}

const gpu = await testGpu();
const mnist = await loadMnist();

// --- the host side

const host = suite('epoch stats on the device: the host side');

host('the group index lists each class\'s rows in visiting order, then the first batch', () => {
  assert.equal(Array.from(groupIndex([2, 0, 2, 1, 0], 4, 2)), [0, 2, 3, 5, 5, 7, /* class 0 */ 1, 4, /* 1 */ 3, /* 2 */ 0, 2, /* first */ 0, 1]);
  assert.equal(Array.from(groupIndex([1, 1], 2, null)), [0, 0, 2, 0, 1]);
});

host('on the cpu backend it is computeEpochStats', async () => {
  const rec = record([0, 1, 0], { logits: [[1, 2], [3, 4], [5, 6]] });
  const opts = { classes: 2, firstBatch: 2 };
  assert.equal(await computeEpochStatsOnDevice(deviceEpochOf(rec, cpu), opts), computeEpochStats(rec, opts));
});

host.run();

// --- hand-made records with the edge cases

const cases = suite('epoch stats on the device: hand-made records, webgpu vs cpu');

/** the stats of `rec` both ways; the device path must read back exactly once */
async function both(rec: EpochRecord, opts: EpochStatsOptions, label: string): Promise<Worst> {
  if ('skip' in gpu) throw new Error('unreachable');
  const dev = deviceEpochOf(rec, gpu.backend);
  const reads = gpu.backend.stats().readBacks;
  const got = await computeEpochStatsOnDevice(dev, opts);
  assert.is(gpu.backend.stats().readBacks - reads, 1, `${label}: one read-back`);
  dev.release();
  return compareStats(got, computeEpochStats(rec, opts), label);
}

if ('skip' in gpu) {
  cases.before(() => console.log(`skipped: ${gpu.skip}`));
  cases.skip('every edge case', () => {});
} else {
  cases('7 × 3 slots: class 3 absent, class 2 seen once, a partial last batch, the first batch of 3 rows', async () => {
    const labels = [0, 1, 0, 2, 1, 1, 0];
    const pre = [[0.5, -1, 2], [1.25, 0, -0.75], [3, -2, 0.125], [-1, 4, 0], [0, 0, 1], [2.5, -0.5, 1.5], [-3, 1, 0.25]];
    const g = pre.map((r, i) => r.map((v, j) => (i + 1) * 0.01 * (v > 0 ? 1 : -0.5) + j * 0.001));
    const rec = record(labels, { 'layers.0.pre': pre, 'layers.0.post': pre.map((r) => r.map((v) => Math.max(v, 0))) },
      { 'layers.0.pre': g }, [0, 3, 6, 7]);
    await both(rec, { classes: 4, bins: 30, firstBatch: 3 }, 'small');
  });

  cases('all-equal values: [v − 0.5, v + 0.5], every value in the middle bin; one class of one row', async () => {
    await both(record([0, 1, 1, 0], { logits: [[2, 2], [2, 2], [2, 2], [2, 2]] }, { logits: [[0, 0], [0, 0], [0, 0], [0, 0]] }), { classes: 2, firstBatch: 64 }, 'equal');
    await both(record([1], { loss: [[0.25]] }, { loss: [[1]] }, [0, 1]), { classes: 3, firstBatch: 64 }, 'one row');
  });

  cases('values exactly on the bin edges, for the shared range and each class\'s own', async () => {
    // the epoch's edges of [−1.7, 2.3] as values, and each class's own edges too
    const shared = Array.from(new Binner(-1.7, 2.3, 30).edges);
    const own0 = Array.from(new Binner(-1.7, 1.1, 30).edges), own1 = Array.from(new Binner(-0.3, 2.3, 30).edges);
    const vals = [...shared.map((v) => [v, 0]), ...own0.map((v) => [v, 0]), ...own1.map((v) => [v, 1])];
    const labels = vals.map(([, c]) => c);
    // each row's class decides its own range: class 0 holds shared[0] = −1.7 ... 1.1, class 1 −0.3 ... 2.3
    const clamp = (v: number, c: number) => (c === 0 ? Math.min(Math.max(v, -1.7), Math.fround(1.1)) : Math.min(Math.max(v, Math.fround(-0.3)), 2.3));
    const rows = vals.map(([v, c]) => [clamp(v, c), Math.fround(-v)]);
    rows.push([2.3, -2.3]); labels.push(1);
    rows.push([-1.7, 1.7]); labels.push(0);
    await both(record(labels, { 'layers.0.pre': rows, logits: rows.map((r) => [r[0]]) }, { logits: rows.map((r) => [r[1]]) }), { classes: 2, firstBatch: 40 }, 'edges');
  });

  cases('random records: 10 classes (one absent), widths 1 to 300, batches of 64 with a partial last one', async () => {
    for (const w of [1, 10, 16, 32, 129, 300]) {
      const r = prng(w), n = 3 * 64 + 17;
      const labels = r.ints(n, 0, 10).map((c) => (c === 4 ? 9 : c));
      const rows = (scale: number) => Array.from({ length: n }, () => r.uniform(w, -scale, scale).map((v) => (v < -scale / 2 ? 0 : v)));
      const offsets = [0, 64, 128, 192, n];
      const worst = await both(record(labels, { 'layers.0.post': rows(3), logits: rows(10) }, { 'layers.0.post': rows(1e-3), logits: rows(0.1) }, offsets),
        { classes: 10, firstBatch: 64 }, `random width ${w}`);
      console.log(`  width ${w}: worst mean ${worst.mean.toExponential(2)}, std ${worst.std.toExponential(2)}, norm ${worst.norm.toExponential(2)}`);
    }
  });

  cases('batch offsets that do not tile the rows: no step norms, the epoch norm over every row', async () => {
    const n = 200, r = prng(3);
    const g = Array.from({ length: n }, () => r.uniform(4, -1, 1));
    for (const offsets of [[0, 100], undefined]) {
      await both(record(Array.from({ length: n }, (_, i) => i % 3), { logits: g }, { logits: g }, offsets), { classes: 3 }, `offsets ${offsets}`);
    }
  });
}

cases.run();

// --- the recorder's hand-over

const handover = suite('epoch stats on the device: the recorder hands its slots over without reading them');

if ('skip' in gpu) {
  handover.before(() => console.log(`skipped: ${gpu.skip}`));
  handover.skip('endEpoch({ read: false }) and endEpochOnDevice', () => {});
} else {
  handover('endEpoch({ read: false }) reads nothing; the device statistics equal the loops on the exported record; release frees', async () => {
    const b = gpu.backend, r = prng(11);
    // 3 batches of 4, 4, 2 rows (a partial last one) of a width-3 tensor and its gradient, 5 rows unused
    const rec = new Recorder({ names: ['logits'], widths: { logits: 3 }, count: 15, steps: 3 });
    const sent: number[][] = [];
    rec.beginEpoch(4);
    for (const [step, start, n] of [[0, 0, 4], [1, 4, 4], [2, 8, 2]]) {
      const v = r.uniform(n * 3, -2, 2), g = r.uniform(n * 3, -1e-2, 1e-2);
      const t = Tensor.from(v, [n, 3], { backend: b });
      t.grad = Tensor.from(g, [n, 3], { backend: b });
      const p = Tensor.from([0], [1], { backend: b });
      p.grad = Tensor.from([step + 1], [1], { backend: b });
      rec.recordBatch(start, { logits: t }, r.ints(n, 0, 3), Array.from({ length: n }, (_, i) => start + i));
      rec.recordParamGrads(step, [{ name: 'layers.0.b', tensor: p }]);
      sent.push(v);
    }
    const reads = b.stats().readBacks;
    const record = await rec.endEpoch({ read: false });
    assert.is(b.stats().readBacks, reads, 'no read-back at the end of the epoch');
    assert.equal([record.count, Object.keys(record.acts).length, record.paramGrads], [10, 0, undefined]);
    const opts = { classes: 3, firstBatch: 4 };
    const onDevice = await computeEpochStatsOnDevice(record.device!, opts);
    assert.is(b.stats().readBacks, reads + 1, 'one read-back for the statistics');
    const host = await record.device!.read();
    assert.equal(Array.from(host.acts.logits!.data), sent.flat().map(Math.fround), 'the export holds what was recorded');
    assert.equal(Array.from(host.paramGrads!.norms), [1, 2, 3]);
    compareStats(onDevice, computeEpochStats(host, opts), 'hand-over');
    assert.equal(onDevice.params!.stepNorm, [[1, 2, 3]]);
    const live = b.stats().buffersLive;
    record.device!.release();
    assert.is(b.stats().buffersLive, live - 3, 'the two slots and the norms go back to the pool');
    let failed = '';
    try { await record.device!.read(); } catch (e) { failed = (e as Error).message; }
    assert.match(failed, /released/);
    // the next epoch starts clean; endEpochOnDevice on a cpu recorder wraps the host record
    const onCpu = new Recorder({ names: ['logits'], widths: { logits: 1 }, count: 2 });
    onCpu.beginEpoch(0);
    const c = Tensor.from([1, 2], [2, 1]);
    onCpu.recordBatch(0, { logits: c }, [0, 1], [0, 1]);
    const ended = onCpu.endEpochOnDevice();
    assert.is(ended.onDevice, false);
    assert.equal(Array.from((await ended.read()).acts.logits!.data), [1, 2]);
  });
}

handover.run();

// --- a real epoch

const head = (split: Split, n: number): Split => ({ ...split, count: n, images: split.images.subarray(0, n * 784), labels: split.labels.subarray(0, n) });

const real = suite('epoch stats on the device: a recorded epoch of MNIST, webgpu vs cpu');

if ('skip' in gpu) {
  real.before(() => console.log(`skipped: ${gpu.skip}`));
  real.skip('the recorded epoch', () => {});
} else {
  real('3 000 samples of the reference model: the device statistics of the webgpu epoch are the cpu loops\' on the same slots; the cpu run agrees within training drift', async () => {
    const data: Mnist = { ...mnist, train: head(mnist.train, 3000), test: head(mnist.test, 100) };
    const opts = { classes: 10, firstBatch: 64 };
    const run = async (backend: typeof cpu) => {
      const rng = createRng('torch', 31416);
      const model = Mlp.init([784, 32, 16, 10], rng, backend);
      let out: { host: EpochStats; device?: EpochStats; reads?: number } | null = null;
      await train(model, data, rng, { epochs: 1, batch: 64, lr: 0.01, record: true }, {
        onEpoch: async (_, rec) => {
          const hostStats = computeEpochStats(rec!, opts);
          if (!rec!.device) { out = { host: hostStats }; return; }
          const reads = gpu.backend.stats().readBacks;
          const device = await computeEpochStatsOnDevice(rec!.device, opts);
          out = { host: hostStats, device, reads: gpu.backend.stats().readBacks - reads };
          rec!.device.release();
        },
      });
      return out!;
    };
    const onGpu = await run(gpu.backend);
    assert.is(onGpu.reads, 1, 'the statistics come home in one read');
    const worst = compareStats(onGpu.device!, onGpu.host, 'real epoch');
    console.log(`  device vs host statistics of the same slots: worst mean ${worst.mean.toExponential(2)} (${worst.where.mean}), ` +
      `std ${worst.std.toExponential(2)} (${worst.where.std}), norm ${worst.norm.toExponential(2)}`);
    // the cpu run drifts from the webgpu run by f32 rounding: its statistics agree loosely
    const onCpu = await run(cpu);
    for (const name of Object.keys(onCpu.host.acts)) {
      const a = onCpu.host.acts[name], b = onGpu.device!.acts[name];
      assert.ok(Math.abs(a.all.mean - b.all.mean) <= 1e-3 * (Math.abs(a.all.mean) + a.all.std), `${name} mean across backends`);
      const moved = a.histogram.counts.reduce((s, c, i) => s + Math.abs(c - b.histogram.counts[i]), 0);
      assert.ok(moved <= 1e-3 * a.all.count, `${name}: ${moved} histogram counts differ across backends`);
    }
  });
}

real.run();
