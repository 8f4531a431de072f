// bench/kernels.js in its tiny mode (1 iteration, small shapes): the JSON it writes has the documented
// shape, every matmul variant and the cpu backend are in it, and kernels-compare reads two of them.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { formatResults, runKernels, type KernelResults } from '../../bench/kernels-run.ts';
import { MATMUL_VARIANTS } from '../../shaders/matmul.ts';
// @ts-ignore: a plain-JS entry point
import { compareResults } from '../../bench/kernels-compare.js';

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

t('cpu rows: every matmul shape and every other primitive, with a positive time', () => {
  const cpuRows = r.rows.filter((x) => x.impl === 'cpu');
  assert.ok(cpuRows.some((x) => x.op === 'matmul') && cpuRows.some((x) => x.op === 'sum'));
  for (const x of cpuRows) assert.ok(x.ms > 0 && (x.gflops! > 0 || x.gbps! > 0), JSON.stringify(x));
});

t('webgpu rows (when there is an adapter): every variant of the staircase, and fractions of the ceilings', () => {
  if (!r.adapter) { console.log(`skipped: ${r.notes.join('; ')}`); return; }
  assert.type(r.adapter.software, 'boolean');
  assert.ok(Array.isArray(r.adapter.features));
  const gpu = r.rows.filter((x) => x.impl === 'webgpu');
  for (const v of MATMUL_VARIANTS) assert.ok(gpu.some((x) => x.op === 'matmul' && x.variant === v), v);
  assert.ok(r.ceilings.copyGBps! > 0 && r.ceilings.matmulGFlops! > 0);
  for (const x of gpu) assert.ok(x.ms > 0 && x.ofCeiling! > 0, JSON.stringify(x));
  assert.is(Math.max(...gpu.filter((x) => x.op === 'matmul').map((x) => x.ofCeiling!)), 1);
});

t('the table has one line per row, and compare gives ×1.00 for a file against itself', () => {
  const table = formatResults(r).split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| op') && !l.startsWith('| ---'));
  assert.is(table.length, r.rows.length);
  const lines: string[] = compareResults(r, r);
  const ratios = lines.filter((l: string) => l.includes('×'));
  assert.is(ratios.length, r.rows.filter((x) => Number.isFinite(x.ms)).length);
  for (const l of ratios) assert.match(l, /×1\.00 \|$/);
});

t.run();
