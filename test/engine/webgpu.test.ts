// the WebGPU backend itself: device acquisition, every kernel against the cpu oracle with a tolerance
// per op (and why), MLP gradients, error reporting, the buffer pool and tidy(). Runs under Node (Dawn on
// llvmpipe without a GPU) and Deno (lavapipe): `deno run -A test/engine/webgpu.test.ts`.
import { suite, type Test } from 'uvu';
import * as assert from 'uvu/assert';
import { cpu } from '../../engine/cpu.ts';
import type { Backend } from '../../engine/backend.ts';
import { crossEntropy, linear } from '../../engine/composite.ts';
import { acquireDevice, releaseDevice, runtime } from '../../engine/device.ts';
import * as P from '../../engine/ops/index.ts';
import type { Primitive } from '../../engine/primitive.ts';
import { apply, noGrad, Tensor } from '../../engine/tensor.ts';
import { dispose, keep, tidy } from '../../engine/memory.ts';
import { compileKernel, createWebGpuBackend, type WebGpuBackend } from '../../engine/webgpu.ts';
import { header, main1d } from '../../shaders/kernel.ts';
import { assertClose } from '../helpers/close.ts';
import { describeGpu, extraBackend, testGpu } from '../setup/gpu.ts';
import { skipped } from '../helpers/skip.ts';

const g = await testGpu();
const gpu = 'skip' in g ? null : g;
if (gpu) console.log(`  webgpu tests on ${describeGpu(gpu.info)}`);

/** a suite whose tests are skipped, with the reason printed, when there is no adapter */
function gpuSuite(name: string): Test {
  const s = suite(name);
  if (gpu) return s;
  s.before(() => console.log(`skipped: ${(g as { skip: string }).skip}`));
  const skip = (n?: string) => s.skip(n);
  return Object.assign(skip, { only: skip, skip, before: s.before, after: s.after, run: s.run });
}

const be = (): WebGpuBackend => gpu!.backend;

// seeded test data (mulberry32)
function rand(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}
const uniform = (n: number, seed: number, lo = -1, hi = 1): Float32Array => {
  const r = rand(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * r());
};
const ints = (n: number, seed: number, hi: number): Float32Array => {
  const r = rand(seed);
  return Float32Array.from({ length: n }, () => Math.floor(hi * r()));
};
const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

interface Input { shape: number[]; data?: Float32Array }
const filled = (inputs: Input[], seed: number) =>
  inputs.map((i, k) => ({ shape: i.shape, data: i.data ?? uniform(size(i.shape), seed * 10 + k) }));

/** runs `fn` on `backend` and on the cpu with the same f32 inputs: [gpu values, cpu values, cpu inputs] */
async function both(backend: Backend, fn: (...t: Tensor[]) => Tensor, inputs: Input[], seed = 1) {
  const ins = filled(inputs, seed);
  const onCpu = ins.map((i) => Tensor.from(i.data, i.shape));
  const want = fn(...onCpu);
  const got = fn(...ins.map((i) => Tensor.from(i.data, i.shape, { backend })));
  assert.equal([...got.shape], [...want.shape], 'output shape');
  return { got: await got.read(), want: want.data(), ins: ins.map((i) => i.data) };
}

const exact = (got: ArrayLike<number>, want: ArrayLike<number>, label: string) =>
  assertClose(got, want, { atol: 0, rtol: 0 }, label);

/**
 * |got − want| ≤ rel · Σ|terms| per element: the error of a float sum is bounded by the size of its
 * terms, not of its result (which cancellation can bring near 0). f32 sums in another order than the
 * oracle's double one err by about √k·2⁻²⁴ of Σ|terms| on random data; rel = 1e-5·√k leaves ~100× room.
 */
function withinSumBound(got: ArrayLike<number>, want: ArrayLike<number>, absTerms: ArrayLike<number>, rel: number, label: string) {
  assert.is(got.length, want.length, `${label}: length`);
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]);
    if (!(err <= rel * absTerms[i] + 1e-30)) {
      assert.unreachable(`${label}: [${i}] ${got[i]} vs ${want[i]}: |err| ${err} > ${rel} · ${absTerms[i]}`);
    }
  }
}

// ---
const device = gpuSuite('webgpu: device acquisition');

device('mode webgpu finds an adapter and describes it', () => {
  const { info, device: d } = gpu!;
  assert.is(info.runtime, runtime());
  assert.ok(['core', 'compatibility'].includes(info.featureLevel));
  assert.ok(info.device || info.description, 'adapter has a name');
  assert.ok(d.limits.maxComputeInvocationsPerWorkgroup >= 256, 'asked for 256 invocations');
  // Mesa's rasterisers are what CI has: they must be recognised as software
  if (/llvmpipe|lavapipe/i.test(`${info.device} ${info.description}`)) assert.ok(info.software);
  if (info.runtime === 'node' && info.software) {
    assert.is(info.backend, 'opengl');
    assert.is(info.featureLevel, 'compatibility');
  }
});

device("mode auto takes only a hardware adapter (null on a software-only machine)", async () => {
  const got = await acquireDevice({ mode: 'auto' });
  if (gpu!.info.software) assert.is(got, null);
  if (got) {
    assert.not.ok(got.info.software);
    releaseDevice(got.device);
  }
});

device('f64 is refused with a clear error, and readSync points at read()', () => {
  assert.throws(() => Tensor.from([1, 2], [2], { backend: be(), dtype: 'f64' }), /webgpu: upload: dtype f64 is not supported/);
  const t = Tensor.from([1, 2], [2], { backend: be() });
  assert.throws(() => t.data(), /await tensor\.read\(\)/);
});

device('a Node script that acquires a device, runs one op and reads it exits by itself', async () => {
  if (runtime() !== 'node') { skipped(`Node only (${runtime()} owns its event loop)`); return; }
  const { spawnSync } = await import('node:child_process');
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const root = new URL('../../', import.meta.url);
  const dir = mkdtempSync(join(tmpdir(), 'mlp-lens-exit-'));
  const script = join(dir, 'exit.ts');
  writeFileSync(script, `
    import { acquireDevice } from '${new URL('engine/device.ts', root).href}';
    import { createWebGpuBackend } from '${new URL('engine/webgpu.ts', root).href}';
    import { Tensor } from '${new URL('engine/tensor.ts', root).href}';
    const { device } = (await acquireDevice({ mode: 'webgpu' }))!;
    const backend = createWebGpuBackend(device);
    const y = Tensor.from([-1, 2], [2], { backend }).relu();
    console.log('read', Array.from(await y.read()).join(','));
  `);
  try {
    const r = spawnSync(process.execPath, ['--import', new URL('bench/node-ts.mjs', root).href, script],
      { timeout: 30_000, encoding: 'utf8' });
    assert.is(r.signal, null, `still running after 30 s (Dawn kept the process alive): ${r.stderr}`);
    assert.ok(r.stdout.includes('read 0,2'), r.stdout + r.stderr);
    assert.is(r.status, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

device.run();

// ---
const fwd = gpuSuite('webgpu: every kernel matches the cpu oracle');

// sizes around the 64-wide workgroup, a row of classes, an image, and the MNIST shapes (batch 64, a partial batch of 32)
const SIZES = [[1], [10], [63], [64], [65], [784], [64, 784], [32, 10]];

// exact: a single f32 operation or a selection (relu, step, eq, argmax, oneHot, fill, reshape, max, add,
// mul: the oracle computes a+b and a·b in double and rounds once, which equals the f32 operation exactly)
const EXACT_UNARY: [string, (x: Tensor) => Tensor][] = [
  ['relu', (x) => P.relu(x)], ['step', (x) => P.step(x)], ['fill', (x) => P.fill(x, -2.5)],
  ['reshape', (x) => P.reshape(x, [x.size])],
];
for (const [name, fn] of EXACT_UNARY) {
  fwd(`${name}: exact on sizes 1…784 and [64, 784]`, async () => {
    for (const shape of SIZES) {
      // exact zeros and -0 in the data: relu/step must give +0 there
      const data = uniform(size(shape), 3).map((v, i) => (i % 5 === 0 ? 0 : i % 5 === 1 ? -0 : v));
      const { got, want } = await both(be(), fn, [{ shape, data }]);
      exact(got, want, `${name} [${shape}]`);
      if (name === 'relu') for (const v of got) assert.ok(!Object.is(v, -0), 'relu gives +0, never -0');
    }
  });
}

fwd('exp, log, reciprocal: within 1e-5 relative (WGSL allows a few ulp: exp 3+2|x|, log 3 or 2⁻²¹ abs, 1/x 2.5)', async () => {
  for (const shape of SIZES) {
    let r = await both(be(), (x) => P.exp(x), [{ shape, data: uniform(size(shape), 4, -10, 10) }]);
    assertClose(r.got, r.want, { rtol: 1e-5, atol: 0 }, `exp [${shape}]`);
    r = await both(be(), (x) => P.log(x), [{ shape, data: uniform(size(shape), 5, 1e-3, 100) }]);
    assertClose(r.got, r.want, { rtol: 1e-5, atol: 1e-6 }, `log [${shape}]`);
    r = await both(be(), (x) => P.reciprocal(x), [{ shape, data: uniform(size(shape), 6, 0.01, 10).map((v, i) => (i % 2 ? -v : v)) }]);
    assertClose(r.got, r.want, { rtol: 4e-7, atol: 0 }, `reciprocal [${shape}]`);
  }
});

fwd('scale: within 2 ulp (s rounds to f32 before the product; the oracle rounds once)', async () => {
  for (const shape of SIZES) {
    const { got, want } = await both(be(), (x) => P.scale(x, 1 / 784), [{ shape }]);
    assertClose(got, want, { rtol: 2.4e-7, atol: 0 }, `scale [${shape}]`);
  }
});

// [a, b]: same shape, a bias row (b a suffix of a), a column, an outer product, a scalar, ranks 3 and 4
const BROADCASTS: [number[], number[]][] = [
  [[1], [1]], [[65], [65]], [[64, 784], [64, 784]], [[64, 32], [32]], [[32, 10], [10]], [[65, 10], [65, 1]],
  [[65, 1], [1, 10]], [[], [63]], [[63], []], [[10], [64, 10]], [[4, 1, 5], [3, 1]], [[2, 3, 1, 5], [1, 3, 4, 1]],
];
for (const [name, fn] of [['add', P.add], ['mul', P.mul]] as const) {
  fwd(`${name}: exact with every broadcast (same shape, bias row, column, outer, scalar, rank 3 and 4)`, async () => {
    for (const [sa, sb] of BROADCASTS) {
      const { got, want } = await both(be(), fn, [{ shape: sa }, { shape: sb }]);
      exact(got, want, `${name} [${sa}] [${sb}]`);
    }
  });
}

fwd('eq: exact with broadcasting, on integer data full of ties', async () => {
  for (const [sa, sb] of BROADCASTS) {
    const { got, want } = await both(be(), P.eq, [{ shape: sa, data: ints(size(sa), 7, 3) }, { shape: sb, data: ints(size(sb), 8, 3) }]);
    exact(got, want, `eq [${sa}] [${sb}]`);
  }
});

fwd('binary ops over rank 5 throw an error naming the op', () => {
  const a = Tensor.zeros([2, 1, 2, 1, 2], { backend: be() }), b = Tensor.zeros([2, 1, 2, 1], { backend: be() });
  assert.throws(() => P.add(a, b), /add: broadcasting over rank 5 > 4 has no webgpu kernel/);
});

// reductions over every axis of MNIST-shaped and awkward tensors
const REDUCE: number[][] = [[1], [784], [64, 784], [32, 10], [65, 1], [1, 65], [3, 65, 64], [4, 63, 5], [2, 3, 4, 5]];

fwd('max and argmax: exact over every axis (argmax: the first index on ties)', async () => {
  for (const shape of REDUCE) {
    for (let axis = 0; axis < shape.length; axis++) {
      for (const data of [uniform(size(shape), 9), ints(size(shape), 10, 3)]) {
        let r = await both(be(), (x) => P.max(x, axis), [{ shape, data }]);
        exact(r.got, r.want, `max [${shape}] axis ${axis}`);
        r = await both(be(), (x) => P.argmax(x, axis), [{ shape, data }]);
        exact(r.got, r.want, `argmax [${shape}] axis ${axis}`);
      }
    }
  }
});

for (const variant of ['seq', 'wide']) {
  fwd(`sum (${variant}): within 1e-5·√len of Σ|x| over every axis`, async () => {
    const backend = (await extraBackend({ variants: { sum: variant } }))!;
    for (const shape of [...REDUCE, [1000, 3], [70000]]) {
      for (let axis = 0; axis < shape.length; axis++) {
        const { got, want, ins } = await both(backend, (x) => P.sum(x, axis), [{ shape }]);
        const abs = Tensor.from(ins[0].map(Math.abs), shape);
        withinSumBound(got, want, P.sum(abs, axis).data(), 1e-5 * Math.sqrt(shape[axis]), `sum [${shape}] axis ${axis}`);
      }
    }
  });
}

fwd('oneHot: exact, and labels that are not integers in range give a zero row', async () => {
  for (const n of [1, 32, 63, 64, 65]) {
    const { got, want } = await both(be(), (y) => P.oneHot(y, 10), [{ shape: [n], data: ints(n, n, 10) }]);
    exact(got, want, `oneHot [${n}]`);
  }
  const { got, want } = await both(be(), (y) => P.oneHot(y, 3), [{ shape: [5], data: Float32Array.from([2, -1, 3, 1.5, 0]) }]);
  exact(got, want, 'oneHot with bad labels');
  exact(got, [0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0], 'oneHot with bad labels, by hand');
});

fwd('softmaxCrossEntropy: within 1e-5 relative + 1e-5 (exp/log ulps around a max-shifted sum)', async () => {
  for (const [n, c] of [[1, 10], [32, 10], [63, 10], [64, 10], [65, 10], [17, 63], [3, 784], [65, 1]]) {
    const { got, want } = await both(be(), P.softmaxCrossEntropy,
      [{ shape: [n, c], data: uniform(n * c, n + c, -8, 8) }, { shape: [n], data: ints(n, n, c) }]);
    assertClose(got, want, { rtol: 1e-5, atol: 1e-5 }, `softmaxCrossEntropy [${n}, ${c}]`);
  }
  // logits of ±1000 stay finite thanks to the max shift
  const { got } = await both(be(), P.softmaxCrossEntropy, [{ shape: [2, 2], data: Float32Array.from([1000, -1000, -1000, 1000]) }, { shape: [2], data: Float32Array.from([1, 1]) }]);
  assertClose(got, [2000, 0], { rtol: 1e-6, atol: 0 }, 'softmaxCrossEntropy ±1000');
  // the oracle throws on a bad label; the GPU cannot check without a read-back and gives NaN instead
  const y = await P.softmaxCrossEntropy(Tensor.from([1, 2, 3, 4, 5, 6], [3, 2], { backend: be() }),
    Tensor.from([1, 2, 0.5], [3], { backend: be() })).read();
  assert.ok(Number.isFinite(y[0]) && Number.isNaN(y[1]) && Number.isNaN(y[2]), `bad labels give NaN: ${Array.from(y)}`);
});

// op(A) [m, k] · op(B) [k, n]: the MNIST products (64×784·784×32, its partial batch of 32, the dW and dX
// of each layer) and awkward edges around the 16×16 tile
const MATMULS: [number, number, number][] = [
  [64, 784, 32], [32, 784, 32], [784, 64, 32], [64, 32, 784], [65, 32, 16], [16, 65, 10], [1, 1, 1], [1, 784, 1],
  [17, 15, 33], [63, 64, 65], [65, 10, 1],
];
for (const variant of ['tiled', 'naive', 'blocked']) {
  fwd(`matmul (${variant}), all four layouts: within 1e-5·√k of Σ|a·b|`, async () => {
    const backend = (await extraBackend({ variants: { matmul: variant } }))!;
    for (const [m, k, n] of MATMULS) {
      for (const transA of [false, true]) {
        for (const transB of [false, true]) {
          const o = { transA, transB };
          const sa = transA ? [k, m] : [m, k], sb = transB ? [n, k] : [k, n];
          const { got, want, ins } = await both(backend, (a, b) => P.matmul(a, b, o), [{ shape: sa }, { shape: sb }], m + k + n);
          const absProd = P.matmul(Tensor.from(ins[0].map(Math.abs), sa), Tensor.from(ins[1].map(Math.abs), sb), o).data();
          withinSumBound(got, want, absProd, 1e-5 * Math.sqrt(k), `matmul ${variant} ${m}×${k}·${k}×${n} ${JSON.stringify(o)}`);
        }
      }
    }
    assert.is(backend.stats().pipelines, 4, 'one pipeline per transpose variant');
  });
}

fwd('an elementwise op over more than 65535 workgroups splits its grid over y', async () => {
  const n = 65535 * 64 + 65;
  const data = uniform(n, 12);
  const { got, want } = await both(be(), (x) => P.relu(x), [{ shape: [n], data }]);
  exact(got, want, 'relu over 4 194 305 values');
});

fwd.run();

// ---
const mlp = gpuSuite('webgpu: MLP gradients match the cpu');

mlp('784-32-16-10, batch 65, mean softmax cross-entropy: loss and every parameter gradient', async () => {
  const sizes = [784, 32, 16, 10], batch = 65;
  const x = uniform(batch * 784, 20, 0, 1), y = ints(batch, 21, 10);
  const params = sizes.slice(1).map((d, k) => [uniform(sizes[k] * d, 30 + k, -0.1, 0.1), uniform(d, 40 + k, -0.1, 0.1)]);
  const run = async (backend: Backend) => {
    const ps = params.map(([W, b], k) => [
      Tensor.from(W, [sizes[k], sizes[k + 1]], { backend, requiresGrad: true }),
      Tensor.from(b, [sizes[k + 1]], { backend, requiresGrad: true }),
    ]);
    let h = Tensor.from(x, [batch, 784], { backend });
    ps.forEach(([W, b], k) => { h = linear(h, W, b); if (k < ps.length - 1) h = h.relu(); });
    const loss = crossEntropy(h, Tensor.from(y, [batch], { backend }));
    loss.backward();
    return { loss: await loss.read(), grads: await Promise.all(ps.flat().map((p) => p.grad!.read())) };
  };
  const want = await run(cpu), got = await run(be());
  assertClose(got.loss, want.loss, { rtol: 1e-5, atol: 0 }, 'loss');
  const names = ['layers.0.W', 'layers.0.b', 'layers.1.W', 'layers.1.b', 'layers.2.W', 'layers.2.b'];
  // the gradients are sums over the batch of products of backpropagated terms: relative to the largest
  // gradient element, f32 on either side agrees to well within 1e-4 (the op suites' parity tolerance)
  want.grads.forEach((w, k) => {
    const scale = Array.from(w).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    assert.ok(scale > 0, `${names[k]}: gradient is not all zero`);
    assertClose(got.grads[k], w, { rtol: 1e-4, atol: 1e-5 * scale }, `grad ${names[k]}`);
  });
});

mlp.run();

// ---
const errors = gpuSuite('webgpu: errors name the op');

errors('a WGSL compile error rejects with the kernel label and the compiler messages', async () => {
  const { pipeline, checked } = compileKernel(gpu!.device, 'brokenOp:variant', 'fn main() { let x: f32 = undefined_thing; }');
  assert.ok(pipeline, 'a (possibly invalid) pipeline comes back synchronously');
  try {
    await checked;
    assert.unreachable('expected a rejection');
  } catch (e) {
    const msg = (e as Error).message;
    assert.match(msg, /kernel 'brokenOp:variant' failed to build/);
    assert.match(msg, /undefined_thing/);
    assert.match(msg, /error at 1:\d+/);
  }
});

errors('an op whose kernel does not compile fails at the next read, naming the op', async () => {
  const backend = (await extraBackend({}))!;
  const layout = { size: 'u32' } as const;
  const broken: Primitive = {
    name: 'brokenRelu', arity: 1, shape: ([s]) => [...s], cpu: () => {},
    gpu: (_, out) => ({
      variant: '', layout, params: { size: size(out) }, workgroups: 1,
      source: () => `${header(1, layout)}\n${main1d}\n  out[i] = a[i] +* 2.0;\n}`,
    }),
  };
  const y = apply(broken, [Tensor.from([1, 2, 3], [3], { backend })], {});
  try {
    await y.read();
    assert.unreachable('expected the read to reject');
  } catch (e) {
    assert.match((e as Error).message, /kernel 'brokenRelu' failed to build/);
  }
  assert.throws(() => apply({ ...broken, gpu: undefined }, [Tensor.from([1], [1], { backend })], {}), /op 'brokenRelu' has no kernel/);
});

errors('MLP_LENS_DEBUG=shaders:relu prints the WGSL of relu only', async () => {
  const g = globalThis as any;
  const setEnv = (v: string | undefined) => {
    if (g.Deno) { if (v === undefined) g.Deno.env.delete('MLP_LENS_DEBUG'); else g.Deno.env.set('MLP_LENS_DEBUG', v); } else if (v === undefined) delete g.process.env.MLP_LENS_DEBUG; else g.process.env.MLP_LENS_DEBUG = v;
  };
  const printed: string[] = [];
  const orig = console.error;
  setEnv('shaders:relu');
  console.error = (...a: unknown[]) => { printed.push(a.join(' ')); };
  try {
    const backend = (await extraBackend({}))!;
    const x = Tensor.from([1, -1], [2], { backend });
    await P.add(P.relu(x), x).read();
  } finally {
    console.error = orig;
    setEnv(undefined);
  }
  assert.is(printed.length, 1, printed.join('\n'));
  assert.match(printed[0], /^\/\/ --- relu\n/);
  assert.match(printed[0], /fn main/);
});

errors.run();

// ---
const memory = gpuSuite('webgpu: buffer pool and tidy');

memory('reshape shares its input storage: no dispatch, no buffer', () => {
  const b = be(), x = Tensor.from(uniform(12, 1), [3, 4], { backend: b });
  const s0 = b.stats();
  const y = P.reshape(x, [12]);
  assert.is(y.storage, x.storage);
  assert.is(b.stats().dispatches, s0.dispatches);
  assert.is(b.stats().buffersCreated, s0.buffersCreated);
});

memory('a released buffer is handed out again for the same size', () => {
  const backend = createWebGpuBackend(gpu!.device);
  const x = Tensor.from(uniform(100, 2), [100], { backend });
  const y = x.relu();
  const created = backend.stats().buffersCreated;
  dispose(y);
  const z = x.exp();
  assert.is(backend.stats().buffersCreated, created, 'no new buffer');
  assert.is(backend.stats().buffersReused, 1);
  assert.is(z.storage === y.storage, false, 'a new storage object around the reused buffer');
  dispose(x, z);
  assert.is(backend.stats().buffersLive, 0);
  backend.trim();
  assert.is(backend.stats().buffersPooled, 0);
});

memory('an upload into a reused buffer does not overtake the unsubmitted op that read it', async () => {
  const backend = createWebGpuBackend(gpu!.device);
  const a = Tensor.from([1, -2, 3, -4], [4], { backend });
  const r = a.relu();          // encoded, not submitted: reads a's buffer later
  dispose(a);                  // a's buffer back to the pool while that command is pending
  const b = Tensor.from([9, 9, 9, 9], [4], { backend }); // reuses it: writeBuffer would run before the relu
  assert.is(backend.stats().buffersReused, 1, 'the upload got the released buffer');
  assert.equal(Array.from(await r.read()), [1, 0, 3, 0]);
  assert.equal(Array.from(await b.read()), [9, 9, 9, 9]);
});

memory('tidy releases what was made inside except the returned tensors, and is idempotent with views', async () => {
  const backend = createWebGpuBackend(gpu!.device);
  const x = Tensor.from(uniform(64, 3), [8, 8], { backend });
  const live0 = backend.stats().buffersLive;
  const { y } = tidy(() => {
    const a = x.relu(), v = a.detach(), r = P.reshape(a, [64]);
    void v; void r;
    const b = a.exp();
    const c = tidy(() => P.scale(b, 2)); // kept by the inner tidy, released by the outer one
    return { y: P.add(c, x) };
  });
  assert.is(backend.stats().buffersLive, live0 + 1, 'only y survives');
  const want = noGrad(() => P.add(P.scale(P.exp(P.relu(Tensor.from(uniform(64, 3), [8, 8]))), 2), Tensor.from(uniform(64, 3), [8, 8]))).data();
  assertClose(await y.read(), want, { rtol: 1e-5 }, 'y');
  let kept: Tensor | undefined;
  tidy(() => { kept = x.scale(3); keep(kept); });
  assert.equal(Array.from(await kept!.read()).slice(0, 2), Array.from(uniform(64, 3)).slice(0, 2).map((v) => Math.fround(3 * v)));
  assert.throws(() => tidy(() => Promise.resolve(1)), /tidy: fn must be synchronous/);
});

memory('2 000 training steps under tidy: no buffer created after the first step, no read-back', async () => {
  const backend = createWebGpuBackend(gpu!.device);
  const sizes = [20, 16, 8, 4], batch = 8;
  const ps = sizes.slice(1).flatMap((d, k) => [
    Tensor.from(uniform(sizes[k] * d, 50 + k, -0.3, 0.3), [sizes[k], d], { backend, requiresGrad: true }),
    Tensor.from(uniform(d, 60 + k, -0.1, 0.1), [d], { backend, requiresGrad: true }),
  ]);
  const x = uniform(batch * sizes[0], 70, 0, 1), y = ints(batch, 71, sizes[3]);
  const step = () => tidy(() => {
    let h = Tensor.from(x, [batch, sizes[0]], { backend });
    for (let k = 0; k < 3; k++) { h = linear(h, ps[2 * k], ps[2 * k + 1]); if (k < 2) h = h.relu(); }
    const loss = crossEntropy(h, Tensor.from(y, [batch], { backend }));
    loss.backward();
    noGrad(() => { for (const p of ps) p.assign(P.add(p, P.scale(p.grad!, -0.1))); });
    for (const p of ps) p.grad = null;
    return { ps, loss };
  });
  const first = step().loss;
  const l0 = (await first.read())[0];
  dispose(first);
  const s0 = backend.stats();
  let last: Tensor | undefined;
  for (let i = 0; i < 2000; i++) {
    if (last) dispose(last);
    last = step().loss;
  }
  const s1 = backend.stats();
  assert.is(s1.readBacks, s0.readBacks, 'no read-back inside the loop');
  assert.is(s1.buffersCreated, s0.buffersCreated, 'the pool served every step');
  assert.is(s1.buffersLive, s0.buffersLive + 1, 'live buffers: the parameters and the last loss');
  const perStep = (s1.dispatches - s0.dispatches) / 2000;
  assert.ok(perStep > 10 && perStep < 100, `dispatches per step ${perStep}`);
  const l1 = (await last!.read())[0];
  assert.ok(l1 < l0, `the loss went down: ${l0} → ${l1}`);
});

memory.run();
