// bench/kernels.js in its tiny mode (1 iteration, small shapes): the JSON it writes has the documented
// shape, every matmul variant and the cpu backend are in it, and kernels-compare reads two of them. The
// timing method follows the device: GPU timestamps where it has 'timestamp-query' (Deno's lavapipe here),
// submit + onSubmittedWorkDone where not (Node's llvmpipe through Dawn/GL), each row saying which; in Node,
// Dawn's Vulkan backend on Chromium's SwiftShader driver has both timestamps and subgroups.
import { existsSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { adapterName, formatResults, runKernels, SWIFTSHADER_ICD, type KernelResults } from '../../bench/kernels-run.ts';
import { MATMUL_FEATURES, MATMUL_VARIANTS } from '../../shaders/matmul.ts';
// @ts-ignore: a plain-JS entry point
import { compareResults } from '../../bench/kernels-compare.js';

const gpuRows = (r: KernelResults) => r.rows.filter((x) => x.impl === 'webgpu');
const timed = (r: KernelResults) => gpuRows(r).filter((x) => !x.skipped);

/** what any run must satisfy: one row per variant (measured, or skipped for a missing feature), the timing method per row */
function checkGpuRows(r: KernelResults): void {
  const a = r.adapter!;
  assert.type(a.software, 'boolean');
  assert.ok(Array.isArray(a.features));
  const gpu = gpuRows(r);
  for (const v of MATMUL_VARIANTS) {
    const vr = gpu.filter((x) => x.op === 'matmul' && x.variant === v);
    assert.ok(vr.length, v);
    const need = MATMUL_FEATURES[v];
    if (need && !a.features.includes(need)) {
      for (const x of vr) assert.match(x.skipped ?? '', new RegExp(`needs the device feature '${need}'`), JSON.stringify(x));
    } else {
      for (const x of vr) assert.ok(!x.skipped, JSON.stringify(x));
    }
  }
  assert.ok(r.ceilings.copyGBps! > 0 && r.ceilings.matmulGFlops! > 0);
  for (const x of timed(r)) {
    assert.ok(x.ms > 0 && x.ofCeiling! > 0, JSON.stringify(x));
    assert.ok(x.timing === 'timestamp' || x.timing === 'wall', JSON.stringify(x));
    // a timestamp row carries the wall clock of the same calls, which includes the GPU time
    if (x.timing === 'timestamp') assert.ok(x.wallMs! > 0 && x.ms <= 1.05 * x.wallMs! + 0.01, JSON.stringify(x));
  }
  assert.is(Math.max(...timed(r).filter((x) => x.op === 'matmul').map((x) => x.ofCeiling!)), 1);
  if (a.features.includes('timestamp-query')) {
    assert.match(r.timing, /^GPU timestamps/);
    // a row falls back to the wall clock only when its timestamps were unusable (e.g. all zero-length)
    const ts = timed(r).filter((x) => x.timing === 'timestamp').length;
    assert.ok(ts >= timed(r).length / 2, `${ts} of ${timed(r).length} rows by timestamps`);
  } else {
    assert.match(r.timing, /onSubmittedWorkDone.*no timestamp-query/);
    for (const x of timed(r)) assert.is(x.timing, 'wall');
  }
}

const t = suite('bench/kernels.js --quick');
let r: KernelResults;
t.before(async () => { r = await runKernels({ quick: true, tfjs: false }); });

t('the result names its schema, date, runtime, versions and timing method', () => {
  assert.is(r.schema, 'mlp-lens/kernels@1');
  assert.ok(!Number.isNaN(Date.parse(r.date)), r.date);
  assert.ok(['node', 'deno'].includes(r.runtime.name), r.runtime.name);
  assert.type(r.versions.webgpu, 'string');
  assert.match(r.timing, /onSubmittedWorkDone|timestamp/);
  assert.equal(JSON.parse(JSON.stringify(r)).rows.length, r.rows.length);
});

t('cpu rows: every matmul shape and every other primitive, with a positive time, wall-clock', () => {
  const cpuRows = r.rows.filter((x) => x.impl === 'cpu');
  assert.ok(cpuRows.some((x) => x.op === 'matmul') && cpuRows.some((x) => x.op === 'sum'));
  // the CNN primitives: conv2d forward and both gradients in GFLOP/s, max pooling both ways in GB/s
  for (const v of ['forward', 'input grad', 'weight grad']) assert.ok(cpuRows.some((x) => x.op === 'conv2d' && x.variant === v && x.gflops! > 0), v);
  for (const v of ['forward', 'backward']) assert.ok(cpuRows.some((x) => x.op === 'max_pool2d' && x.variant === v && x.gbps! > 0), v);
  for (const x of cpuRows) assert.ok(x.ms > 0 && (x.gflops! > 0 || x.gbps! > 0) && x.timing === 'wall', JSON.stringify(x));
});

t('webgpu rows (when there is an adapter): every variant of the staircase, the timing method of each, fractions of the ceilings', () => {
  if (!r.adapter) { console.log(`skipped: ${r.notes.join('; ')}`); return; }
  checkGpuRows(r);
  for (const v of ['forward', 'input grad', 'weight grad']) assert.ok(timed(r).some((x) => x.op === 'conv2d' && x.variant === v && x.gflops! > 0), v);
  for (const v of ['forward', 'backward']) assert.ok(timed(r).some((x) => x.op === 'max_pool2d' && x.variant === v && x.gbps! > 0), v);
  const by = timed(r).filter((x) => x.timing === 'timestamp').length;
  console.log(`  ${adapterName(r.adapter)}: ${by} of ${timed(r).length} webgpu rows by GPU timestamps; features ${r.adapter.features.join(', ')}`);
});

t('the table has one line per row, and compare gives ×1.00 for a file against itself', () => {
  const table = formatResults(r).split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| op') && !l.startsWith('| ---'));
  assert.is(table.length, r.rows.length);
  const lines: string[] = compareResults(r, r);
  const ratios = lines.filter((l: string) => /\| ×\d/.test(l));
  assert.is(ratios.length, r.rows.filter((x) => Number.isFinite(x.ms)).length);
  for (const l of ratios) assert.match(l, /×1\.00 \|$/);
});

t('compare marks rows timed one way in one file and another in the other', () => {
  const wall = { ...r, rows: r.rows.map((x) => ({ ...x, timing: 'wall' as const })) };
  const ts = { ...r, rows: r.rows.map((x) => ({ ...x, timing: 'timestamp' as const })) };
  const lines: string[] = compareResults(wall, ts);
  assert.ok(lines.some((l) => /×1\.00 \(wall vs timestamp\) \|$/.test(l)), lines.join('\n'));
  assert.ok(lines.some((l) => /timed differently/.test(l)));
});

t.run();

// --wall on a device that has timestamp-query: the wall-clock branch, said so
const w = suite('bench/kernels.js --quick --wall');
w('every webgpu row is wall-clock, and the timing line says the timestamps were not used', async () => {
  const rw = await runKernels({ quick: true, tfjs: false, cpu: false, timing: 'wall', variants: ['blocked'] });
  if (!rw.adapter) { console.log(`skipped: ${rw.notes.join('; ')}`); return; }
  for (const x of timed(rw)) assert.is(x.timing, 'wall', JSON.stringify(x));
  assert.match(rw.timing, rw.adapter.features.includes('timestamp-query') ? /not used \(--wall\)/ : /no timestamp-query/);
});
w.run();

// Node: the adapter with both features (Dawn/Vulkan on Chromium's SwiftShader): timestamps and the subgroup rows for real
const v = suite('bench/kernels.js --quick --vulkan-swiftshader');
v('GPU timestamps on every webgpu row that had usable ones, the subgroup variant measured', async () => {
  const g = globalThis as any;
  if (g.Deno || !existsSync(SWIFTSHADER_ICD)) { console.log(`skipped: ${g.Deno ? 'Node only (Dawn)' : `${SWIFTSHADER_ICD} missing (apt-get install chromium)`}`); return; }
  const rv = await runKernels({ quick: true, tfjs: false, cpu: false, adapter: 'vulkan-swiftshader' });
  assert.ok(rv.adapter, rv.notes.join('; '));
  assert.match(rv.adapter!.device + rv.adapter!.description, /swiftshader/i);
  assert.ok(rv.adapter!.features.includes('timestamp-query') && rv.adapter!.features.includes('subgroups'), rv.adapter!.features.join(', '));
  checkGpuRows(rv);
  assert.ok(timed(rv).some((x) => x.op === 'matmul' && x.variant === 'subgroup' && x.timing === 'timestamp'));
  console.log(`  ${adapterName(rv.adapter!)}: ${timed(rv).filter((x) => x.timing === 'timestamp').length} of ${timed(rv).length} webgpu rows by GPU timestamps`);
});
v.run();
