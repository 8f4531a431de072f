import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../engine/tensor.ts';
import { matmul } from '../../engine/ops/index.ts';
import { MATMUL_VARIANTS, matmulOp, pickMatmulVariant } from '../../engine/ops/matmul.ts';
import type { Backend } from '../../engine/backend.ts';
import { createWebGpuBackend, type WebGpuBackend } from '../../engine/webgpu.ts';
import { MATMUL_FEATURES, matmulVariantsFor } from '../../shaders/matmul.ts';
import { acquireVulkanSwiftShader, SWIFTSHADER_ICD } from '../../bench/kernels-run.ts';
import { describeGpu, extraBackend, testGpu } from '../setup/gpu.ts';
import { MNIST, backendSuites, finiteDifferenceCheck, parityCheck, prng, tensorOn, values } from '../helpers/check-op.ts';
import { skipped } from '../helpers/skip.ts';

// the four stored layouts of op(A) [m, k] · op(B) [k, n]
const LAYOUTS = [
  { transA: false, transB: false }, { transA: true, transB: false },
  { transA: false, transB: true }, { transA: true, transB: true },
];
const tag = (o: { transA: boolean; transB: boolean }): string => `A${o.transA ? 'ᵀ' : ''}·B${o.transB ? 'ᵀ' : ''}`;
const stored = (o: { transA: boolean; transB: boolean }, m: number, k: number, n: number): [number[], number[]] =>
  [o.transA ? [k, m] : [m, k], o.transB ? [n, k] : [k, n]];

const t = suite('matmul');

t('output shape is [m, n] for every layout', () => {
  for (const o of LAYOUTS) {
    const [sa, sb] = stored(o, 2, 3, 4);
    const y = matmul(Tensor.zeros(sa), Tensor.zeros(sb), o);
    assert.equal([...y.shape], [2, 4], tag(o));
  }
});

t('mismatched shapes throw an error naming matmul', () => {
  assert.throws(() => matmul(Tensor.zeros([2, 3]), Tensor.zeros([4, 2])), /^matmul: inner sizes differ: \[2, 3\] · \[4, 2\]/);
  assert.throws(() => matmul(Tensor.zeros([3, 2]), Tensor.zeros([2, 2]), { transA: true }), /^matmul: inner sizes differ: \[3, 2\]ᵀ · \[2, 2\]/);
  assert.throws(() => matmul(Tensor.zeros([2, 3]), Tensor.zeros([3, 2]), { transB: true }), /^matmul: inner sizes differ: \[2, 3\] · \[3, 2\]ᵀ/);
  assert.throws(() => matmul(Tensor.zeros([3]), Tensor.zeros([3, 2])), /^matmul: operands must be 2-D, got \[3\] and \[3, 2\]/);
  assert.throws(() => matmul(Tensor.zeros([1, 2, 3]), Tensor.zeros([3, 2])), /^matmul: operands must be 2-D/);
});

for (const o of LAYOUTS) {
  t(`gradients match finite differences, ${tag(o)}`, () => {
    const [sa, sb] = stored(o, 3, 4, 5);
    const r = prng(3);
    finiteDifferenceCheck((a, b) => matmul(a, b, o), [
      { data: r.uniform(12), shape: sa, grad: true },
      { data: r.uniform(20), shape: sb, grad: true },
    ], { label: `matmul ${tag(o)}` });
  });
}

t('a constant operand gets no gradient', () => {
  const a = Tensor.from([1, 2, 3, 4], [2, 2], { dtype: 'f64' });
  const b = Tensor.from([1, 0, 0, 1], [2, 2], { dtype: 'f64', requiresGrad: true });
  matmul(a, b).backward();
  assert.is(a.grad, null);
  // dB = Aᵀ·ones
  assert.equal(Array.from(b.grad!.data()), [4, 4, 6, 6]);
});

t.run();

// [[1, 2], [3, 4]] · [[5, 6], [7, 8]] = [[1·5 + 2·7, 1·6 + 2·8], [3·5 + 4·7, 3·6 + 4·8]]
const A = [1, 2, 3, 4], At = [1, 3, 2, 4], B = [5, 6, 7, 8], Bt = [5, 7, 6, 8];
const AB = [19, 22, 43, 50];

// m, k, n: tiny, around 64, and the MNIST layers with full, partial (60000 mod 64) and odd batches
const PARITY_SHAPES: [number, number, number][] = [
  [1, 1, 1], [1, 784, 10], [63, 65, 64], [65, 64, 63],
  [MNIST.batch, MNIST.dIn, MNIST.hidden[0]], [MNIST.lastBatch, MNIST.dIn, MNIST.hidden[0]],
  [MNIST.batch, MNIST.hidden[0], MNIST.hidden[1]], [MNIST.batch, MNIST.hidden[1], MNIST.classes],
  [MNIST.oddBatch, MNIST.hidden[0], MNIST.hidden[1]], [MNIST.oddBatch, MNIST.hidden[1], MNIST.classes],
];

backendSuites('matmul', (test, backend) => {
  test('forward: a 2×2 hand case in all four layouts', async () => {
    const data = [[A, B], [At, B], [A, Bt], [At, Bt]];
    for (const [i, o] of LAYOUTS.entries()) {
      const y = matmul(tensorOn(backend, data[i][0], [2, 2]), tensorOn(backend, data[i][1], [2, 2]), o);
      assert.equal(await values(y), AB, tag(o));
    }
  });

  test('forward: a row times a column, and a column times a row', async () => {
    const row = tensorOn(backend, [1, 2, 3], [1, 3]), col = tensorOn(backend, [1, 0, -1], [3, 1]);
    assert.equal(await values(matmul(row, col)), [-2]);
    // [1, 2, 3]ᵀ · [1, 2]: the outer product
    assert.equal(await values(matmul(tensorOn(backend, [1, 2, 3], [3, 1]), tensorOn(backend, [1, 2], [1, 2]))), [1, 2, 2, 4, 3, 6]);
  });

  test('backward: dA = dC·Bᵀ and dB = Aᵀ·dC on the hand case', async () => {
    const a = tensorOn(backend, A, [2, 2], { requiresGrad: true }), b = tensorOn(backend, B, [2, 2], { requiresGrad: true });
    matmul(a, b).backward(tensorOn(backend, [1, 0, 0, 2], [2, 2]));
    // dC·Bᵀ = [[1,0],[0,2]]·[[5,7],[6,8]]; Aᵀ·dC = [[1,3],[2,4]]·[[1,0],[0,2]]
    assert.equal(await values(a.grad!), [5, 7, 12, 16]);
    assert.equal(await values(b.grad!), [1, 6, 2, 8]);
  });

  for (const [m, k, n] of PARITY_SHAPES) {
    for (const o of LAYOUTS) {
      test(`parity ${tag(o)} with m, k, n = ${m}, ${k}, ${n}`, async () => {
        const [sa, sb] = stored(o, m, k, n);
        const r = prng(m * 1000 + k * 10 + n);
        await parityCheck((a, b) => matmul(a, b, o), [
          { data: r.uniform(m * k), shape: sa, grad: true },
          { data: r.uniform(k * n), shape: sb, grad: true },
        ], backend, undefined, `matmul ${tag(o)}`);
      });
    }
  }
});

// --- the staircase variants added for bench/kernels.js, each forced on its own backend, against the cpu
// oracle on awkward shapes (edges of the 32×32 tile and of its 16-deep steps) in all four layouts

const VARIANT_SHAPES: [number, number, number][] = [
  [1, 1, 1], [1, 784, 10], [17, 15, 33], [31, 17, 33], [33, 16, 31], [63, 65, 64], [65, 64, 63],
  [MNIST.batch, MNIST.dIn, MNIST.hidden[0]], [MNIST.dIn, MNIST.batch, MNIST.hidden[0]], [MNIST.oddBatch, MNIST.hidden[1], MNIST.classes],
];

for (const variant of ['tiled4', 'auto:software', 'auto:swiftshader', 'auto:gpu']) {
  const s = suite(`matmul [webgpu, variant ${variant}]`);
  let backend: Backend | null = null;
  s.before(async () => { backend = await extraBackend({ variants: { matmul: variant } }); });
  for (const [m, k, n] of VARIANT_SHAPES) {
    s(`parity with the cpu oracle, all layouts, m, k, n = ${m}, ${k}, ${n}`, async () => {
      if (!backend) { skipped('no WebGPU adapter'); return; }
      for (const o of LAYOUTS) {
        const [sa, sb] = stored(o, m, k, n);
        const r = prng(m * 1000 + k * 10 + n + 7);
        await parityCheck((a, b) => matmul(a, b, o), [
          { data: r.uniform(m * k), shape: sa, grad: true },
          { data: r.uniform(k * n), shape: sb, grad: true },
        ], backend, undefined, `matmul ${variant} ${tag(o)} ${m}×${k}·${k}×${n}`);
      }
    });
  }
  s.run();
}

// --- the subgroup variant (needs the device feature `subgroups`): on the shared device where it has the
// feature (hardware GPUs), else in Node on Dawn's Vulkan backend over the SwiftShader Vulkan driver that
// Debian's chromium ships (subgroups of 4); a printed skip elsewhere (Deno's wgpu offers no subgroups on
// lavapipe or SwiftShader; Dawn's GL backend on llvmpipe none either)

const SUBGROUP_SHAPES: [number, number, number][] = [
  ...VARIANT_SHAPES, [10, 63, 65], [65, 784, 10], [784, 10, 63], [63, 1, 784],
  // n = 128: 4 columns per invocation; n > 128: that in a 64-wide workgroup (below 128: 1 column, 32 wide)
  [9, 40, 128], [17, 65, 300], [3, 200, 129],
];
const sg = suite('matmul [webgpu, variant subgroup]');
let sgBackend: Backend | null = null, sgWhy = '', sgRelease: (() => void) | undefined;
sg.before(async () => {
  const g = await testGpu();
  if (!('skip' in g) && g.device.features.has('subgroups')) {
    sgBackend = createWebGpuBackend(g.device, { variants: { matmul: 'subgroup' } });
    console.log(`  subgroup variant on ${describeGpu(g.info)}`);
    return;
  }
  const gl = globalThis as any;
  const { existsSync } = await import('node:fs');
  if (gl.Deno || !gl.process?.versions?.node) { sgWhy = `no adapter with 'subgroups' under Deno here (${'skip' in g ? g.skip : describeGpu(g.info)} has none)`; return; }
  if (!existsSync(SWIFTSHADER_ICD)) { sgWhy = `no adapter with 'subgroups' (${SWIFTSHADER_ICD} missing: apt-get install chromium)`; return; }
  const got = await acquireVulkanSwiftShader();
  if (!got.device.features.has('subgroups')) { got.device.destroy(); sgWhy = `${describeGpu(got.info)} has no 'subgroups'`; return; }
  sgBackend = createWebGpuBackend(got.device, { variants: { matmul: 'subgroup' } });
  sgRelease = () => got.device.destroy();
  console.log(`  subgroup variant on ${describeGpu(got.info)}`);
});
sg.after(() => { sgRelease?.(); });
sg('the default pick on a SwiftShader device with subgroups: subgroup at 1024³, blocked at the MLP\'s shapes (bit-equal to those variants)', async () => {
  if (!sgBackend) { skipped(sgWhy); return; }
  const device = (sgBackend as WebGpuBackend).device;
  const auto = createWebGpuBackend(device);
  const run = async (backend: Backend, m: number, k: number, n: number) => {
    const r = prng(m + k + n);
    const a = Tensor.from(r.uniform(m * k), [m, k], { backend }), b = Tensor.from(r.uniform(k * n), [k, n], { backend });
    return matmul(a, b).read();
  };
  const forced = (variant: string) => createWebGpuBackend(device, { variants: { matmul: variant } });
  const info = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  const swift = /swiftshader/i.test(`${info?.description ?? ''} ${info?.device ?? ''} ${info?.vendor ?? ''}`);
  if (!swift) console.log('  (not SwiftShader: the default pick has no subgroup rule there; nothing to compare)');
  for (const [m, k, n, want] of [[1024, 1024, 1024, swift ? 'subgroup' : null], [64, 784, 32, swift ? 'blocked' : null]] as const) {
    if (!want) continue;
    const [x, y] = [await run(auto, m, k, n), await run(forced(want), m, k, n)];
    assert.ok(x.every((v, i) => Object.is(v, y[i])), `${m}×${k}·${k}×${n}: the default pick is not '${want}'`);
  }
});
for (const [m, k, n] of SUBGROUP_SHAPES) {
  sg(`parity with the cpu oracle, all layouts, m, k, n = ${m}, ${k}, ${n}`, async () => {
    if (!sgBackend) { skipped(sgWhy); return; }
    for (const o of LAYOUTS) {
      const [sa, sb] = stored(o, m, k, n);
      const r = prng(m * 1000 + k * 10 + n + 11);
      await parityCheck((a, b) => matmul(a, b, o), [
        { data: r.uniform(m * k), shape: sa, grad: true },
        { data: r.uniform(k * n), shape: sb, grad: true },
      ], sgBackend, undefined, `matmul subgroup ${tag(o)} ${m}×${k}·${k}×${n}`);
    }
  });
}
sg.run();

const rule = suite('pickMatmulVariant');
rule('software adapters: tiled4 from 2²⁴ multiply-adds, blocked below (every MLP product)', () => {
  assert.is(pickMatmulVariant(64, 32, 784, 'software'), 'blocked');
  assert.is(pickMatmulVariant(784, 32, 64, 'software'), 'blocked');
  assert.is(pickMatmulVariant(64, 10, 16, 'software'), 'blocked');
  assert.is(pickMatmulVariant(10000, 32, 784, 'software'), 'tiled4');
  assert.is(pickMatmulVariant(1024, 32, 784, 'software'), 'tiled4');
  assert.is(pickMatmulVariant(1024, 1024, 1024, 'software'), 'tiled4');
  assert.is(pickMatmulVariant(256, 256, 255, 'software'), 'blocked');
});
rule('SwiftShader: blocked at every shape', () => {
  for (const [m, n, k] of [[1, 1, 1], [64, 32, 784], [1024, 1024, 1024]]) assert.is(pickMatmulVariant(m, n, k, 'swiftshader'), 'blocked');
});
rule('hardware GPUs: tiled4 from 64×64 outputs with k ≥ 16, tiled below', () => {
  assert.is(pickMatmulVariant(4096, 4096, 4096, 'gpu'), 'tiled4');
  assert.is(pickMatmulVariant(64, 64, 16, 'gpu'), 'tiled4');
  assert.is(pickMatmulVariant(64, 32, 784, 'gpu'), 'tiled');
  assert.is(pickMatmulVariant(64, 64, 8, 'gpu'), 'tiled');
});
rule('never a variant that needs a device feature the device lacks; subgroup only on SwiftShader from 1024³', () => {
  const sizes = [1, 10, 16, 63, 64, 65, 784, 1024, 4096];
  for (const d of ['software', 'swiftshader', 'gpu'] as const) {
    for (const features of [new Set<string>(), new Set(['subgroups', 'timestamp-query'])]) {
      for (const m of sizes) for (const n of sizes) for (const k of sizes) {
        const v = pickMatmulVariant(m, n, k, d, features);
        assert.ok(matmulVariantsFor(features).includes(v), `${d} ${m}×${k}·${k}×${n} with [${[...features]}]: ${v}`);
        const wanted = d === 'swiftshader' && features.has('subgroups') && m * n * k >= 2 ** 30;
        assert.is(v === 'subgroup', wanted, `${d} ${m}×${k}·${k}×${n} with [${[...features]}]: ${v}`);
      }
    }
  }
  assert.is(pickMatmulVariant(1024, 1024, 1024, 'swiftshader', new Set(['subgroups'])), 'subgroup');
  assert.is(pickMatmulVariant(64, 32, 784, 'swiftshader', new Set(['subgroups'])), 'blocked');
});
rule('the op plans with the device\'s features: the kernel context carries them to the pick', () => {
  const plan = (features: Set<string>, m: number, k: number, n: number) => {
    const p = matmulOp.gpu!([[m, k], [k, n]], [m, n], { transA: false, transB: false }, { maxWorkgroupsPerDimension: 65535, variant: 'auto:swiftshader', features });
    return 'variant' in p ? p.variant : 'alias';
  };
  assert.match(plan(new Set(['subgroups']), 1024, 1024, 1024), /^subgroup/);
  assert.match(plan(new Set(), 1024, 1024, 1024), /^blocked/);
  assert.match(plan(new Set(['subgroups']), 64, 784, 32), /^blocked/);
});
rule('matmulVariantsFor: subgroup only with the feature', () => {
  assert.ok(!matmulVariantsFor(new Set(['timestamp-query'])).includes('subgroup'));
  assert.ok(matmulVariantsFor(new Set(['subgroups'])).includes('subgroup'));
  assert.equal(matmulVariantsFor(new Set()), ['naive', 'tiled', 'blocked', 'tiled4']);
});
rule('every picked variant is a kernel of shaders/matmul.ts', () => {
  for (const d of ['software', 'swiftshader', 'gpu'] as const) {
    for (const [m, n, k] of [[1, 1, 1], [64, 32, 784], [4096, 4096, 4096]]) assert.ok(MATMUL_VARIANTS.includes(pickMatmulVariant(m, n, k, d)));
  }
});
rule.run();
