import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../engine/tensor.ts';
import { maxPool2d, maxPool2dGrad } from '../../engine/ops/index.ts';
import { backendSuites, finiteDifferenceCheck, parityCheck, prng, tensorOn, values } from '../helpers/check-op.ts';

const f32 = (data: ArrayLike<number>, shape: number[], requiresGrad = false): Tensor => Tensor.from(data, shape, { requiresGrad });
const range = (n: number, from = 1): number[] => Array.from({ length: n }, (_, i) => i + from);
const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
type PoolOpts = { kernel?: number; stride?: number; padding?: number };

const t = suite('maxPool2d');

t('defaults: kernel 2, stride 2, no padding, floor mode', () => {
  const out = (x: number[], o: PoolOpts = {}) => [...maxPool2d(Tensor.zeros(x), o).shape];
  assert.equal(out([64, 8, 24, 24]), [64, 8, 12, 12]);
  assert.equal(out([64, 16, 8, 8]), [64, 16, 4, 4]);
  assert.equal(out([1, 1, 7, 7]), [1, 1, 3, 3]);
  assert.equal(out([2, 3, 7, 6], { kernel: 3 }), [2, 3, 2, 2]);
  assert.equal(out([2, 3, 7, 6], { kernel: 3, stride: 2, padding: 1 }), [2, 3, 4, 3]);
  assert.equal(out([1, 1, 5, 5], { kernel: 3, stride: 1 }), [1, 1, 3, 3]);
});

t('bad shapes and options throw errors naming maxPool2d', () => {
  const p = (x: number[], o: PoolOpts = {}) => () => maxPool2d(Tensor.zeros(x), o);
  assert.throws(p([3, 4, 4]), /^maxPool2d: expects x \[N, C, H, W\], got \[3, 4, 4\]/);
  assert.throws(p([1, 1, 4, 4], { kernel: 0 }), /^maxPool2d: kernel must be a positive integer, got 0/);
  assert.throws(p([1, 1, 4, 4], { stride: 0 }), /^maxPool2d: stride must be a positive integer, got 0/);
  assert.throws(p([1, 1, 4, 4], { kernel: 2, padding: 2 }), /^maxPool2d: padding 2 must be at most half the kernel 2/);
  assert.throws(p([1, 1, 1, 4], { kernel: 2 }), /^maxPool2d: kernel 2 is larger than the padded input 1/);
  assert.throws(() => maxPool2dGrad(Tensor.zeros([1, 1, 4, 4]), Tensor.zeros([1, 1, 3, 2]), { kernel: 2, stride: 2, padding: 0 }),
    /^maxPool2dGrad: dy \[1, 1, 3, 2\] does not fit x \[1, 1, 4, 4\] \(expects \[1, 1, 2, 2\]\)/);
});

t('hand-computed: 2×2 windows of a 4×4 image, an odd 5×5 (last row and column dropped), 3×3 stride 2 padding 1', () => {
  const x = [1, 5, 2, 0, 3, 4, 8, 1, -1, -2, 0, 6, -3, -4, 7, 2];
  assert.equal([...maxPool2d(f32(x, [1, 1, 4, 4])).data()], [5, 8, -1, 7]);
  assert.equal([...maxPool2d(f32(range(25), [1, 1, 5, 5])).data()], [7, 9, 17, 19]);
  // windows rows/cols {−1..1, 1..3}: padding is −inf, so negative images keep their own maxima
  assert.equal([...maxPool2d(f32(range(16).map((v) => -v), [1, 1, 4, 4]), { kernel: 3, stride: 2, padding: 1 }).data()], [-1, -2, -5, -6]);
});

t('hand-computed gradient: each window sends dy to its max; overlapping windows (stride < kernel) add up', () => {
  const x = f32([1, 5, 2, 0, 3, 4, 8, 1, -1, -2, 0, 6, -3, -4, 7, 2], [1, 1, 4, 4], true);
  maxPool2d(x).backward(f32([1, 2, 3, 4], [1, 1, 2, 2]));
  assert.equal([...x.grad!.data()], [0, 1, 0, 0, 0, 0, 2, 0, 3, 0, 0, 0, 0, 0, 4, 0]);
  // a 3×3 window sliding by 1 over a 4×4 image with its max at (1, 2): every one of the 4 windows holds it
  const y = f32([0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0], [1, 1, 4, 4], true);
  maxPool2d(y, { kernel: 3, stride: 1 }).backward(f32([1, 2, 3, 4], [1, 1, 2, 2]));
  assert.equal([...y.grad!.data()], [0, 0, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
});

t('ties: the gradient goes to the first maximum in scan order (row by row), as PyTorch CPU does', () => {
  // window 0: 3 at (0,1) and (1,0): first is (0,1); window 1: all 2: first is (0,2)
  const x = f32([1, 3, 2, 2, 3, 0, 2, 2], [1, 1, 2, 4], true);
  maxPool2d(x).backward(f32([10, 20], [1, 1, 1, 2]));
  assert.equal([...x.grad!.data()], [0, 10, 20, 0, 0, 0, 0, 0]);
  // overlapping windows on a constant image: each window's first element, so (0,0), (0,1), (1,0), (1,1)
  const c = f32(new Array(9).fill(1), [1, 1, 3, 3], true);
  maxPool2d(c, { kernel: 2, stride: 1 }).backward(f32([1, 2, 3, 4], [1, 1, 2, 2]));
  assert.equal([...c.grad!.data()], [1, 2, 0, 3, 4, 0, 0, 0, 0]);
});

t('NaN wins its window (the last NaN takes the gradient); an all −inf window picks its first element', () => {
  const x = f32([NaN, 1, 2, NaN, 5, 6, 7, 8], [1, 1, 2, 4], true);
  const y = maxPool2d(x);
  assert.ok(Number.isNaN(y.data()[0]) && Number.isNaN(y.data()[1]));
  y.backward(f32([10, 20], [1, 1, 1, 2]));
  assert.equal([...x.grad!.data()], [10, 0, 0, 20, 0, 0, 0, 0]);
  const z = f32([-Infinity, -Infinity, -Infinity, -Infinity], [1, 1, 2, 2], true);
  assert.equal([...maxPool2d(z).data()], [-Infinity]);
  maxPool2d(z).backward(f32([3], [1, 1, 1, 1]));
  assert.equal([...z.grad!.data()], [3, 0, 0, 0]);
});

// distinct values at least 1/size apart: no ties within h, so the pick is constant around each point
const FD_CASES: { x: number[]; o: PoolOpts }[] = [
  { x: [2, 3, 4, 6], o: {} },
  { x: [1, 1, 7, 7], o: {} },
  { x: [2, 2, 7, 6], o: { kernel: 3, stride: 2, padding: 1 } },
  { x: [1, 2, 5, 6], o: { kernel: 3, stride: 1 } },
  { x: [2, 1, 6, 5], o: { kernel: 2, stride: 1, padding: 1 } },
  { x: [1, 2, 9, 8], o: { kernel: 4, stride: 3, padding: 2 } },
];
for (const c of FD_CASES) {
  t(`gradient matches finite differences: [${c.x}] ${JSON.stringify(c.o)}`, () => {
    finiteDifferenceCheck((x) => maxPool2d(x, c.o), [{ data: prng(size(c.x)).distinct(size(c.x)), shape: c.x, grad: true }], { label: 'maxPool2d' });
  });
}

t('the gradient of maxPool2dGrad w.r.t. dy is refused with an error naming it', () => {
  const x = f32(range(16), [1, 1, 4, 4]), dy = f32([1, 2, 3, 4], [1, 1, 2, 2], true);
  const g = maxPool2dGrad(x, dy, { kernel: 2, stride: 2, padding: 0 });
  assert.throws(() => g.backward(f32(range(16), [1, 1, 4, 4])), /^maxPool2dGrad: the gradient with respect to dy/);
});

t.run();

backendSuites('maxPool2d', (test, backend) => {
  test('forward and backward: hand-computed, ties to the first in scan order, overlapping windows add up', async () => {
    const x = tensorOn(backend, [1, 5, 2, 0, 3, 4, 8, 1, -1, -2, 0, 6, -3, -4, 7, 2], [1, 1, 4, 4], { requiresGrad: true });
    const y = maxPool2d(x);
    assert.equal(await values(y), [5, 8, -1, 7]);
    y.backward(tensorOn(backend, [1, 2, 3, 4], [1, 1, 2, 2]));
    assert.equal(await values(x.grad!), [0, 1, 0, 0, 0, 0, 2, 0, 3, 0, 0, 0, 0, 0, 4, 0]);
    const tie = tensorOn(backend, [1, 3, 2, 2, 3, 0, 2, 2], [1, 1, 2, 4], { requiresGrad: true });
    maxPool2d(tie).backward(tensorOn(backend, [10, 20], [1, 1, 1, 2]));
    assert.equal(await values(tie.grad!), [0, 10, 20, 0, 0, 0, 0, 0]);
    const c = tensorOn(backend, new Array(9).fill(1), [1, 1, 3, 3], { requiresGrad: true });
    maxPool2d(c, { kernel: 2, stride: 1 }).backward(tensorOn(backend, [1, 2, 3, 4], [1, 1, 2, 2]));
    assert.equal(await values(c.grad!), [1, 2, 0, 3, 4, 0, 0, 0, 0]);
    const neg = tensorOn(backend, range(16).map((v) => -v), [1, 1, 4, 4]);
    assert.equal(await values(maxPool2d(neg, { kernel: 3, stride: 2, padding: 1 })), [-1, -2, -5, -6]);
  });

  test('NaN wins (the last NaN takes the gradient); an all −inf window picks its first element', async () => {
    const x = tensorOn(backend, [NaN, 1, 2, NaN, 5, 6, 7, 8], [1, 1, 2, 4], { requiresGrad: true });
    const y = maxPool2d(x);
    assert.ok((await values(y)).every(Number.isNaN));
    y.backward(tensorOn(backend, [10, 20], [1, 1, 1, 2]));
    assert.equal(await values(x.grad!), [10, 0, 0, 20, 0, 0, 0, 0]);
    const z = tensorOn(backend, [-Infinity, -Infinity, -Infinity, -Infinity], [1, 1, 2, 2], { requiresGrad: true });
    assert.equal(await values(maxPool2d(z)), [-Infinity]);
    maxPool2d(z).backward(tensorOn(backend, [3], [1, 1, 1, 1]));
    assert.equal(await values(z.grad!), [3, 0, 0, 0]);
    // two windows side by side (the shape WebGPU's 'v4' gradient takes)
    const z2 = tensorOn(backend, new Array(8).fill(-Infinity), [1, 1, 2, 4], { requiresGrad: true });
    maxPool2d(z2).backward(tensorOn(backend, [3, 5], [1, 1, 1, 2]));
    assert.equal(await values(z2.grad!), [3, 0, 5, 0, 0, 0, 0, 0]);
  });

  const cases: { x: number[]; o: PoolOpts; ties?: boolean }[] = [
    { x: [1, 1, 7, 7], o: {} },
    { x: [17, 3, 27, 29], o: { kernel: 3, stride: 2, padding: 1 } },
    { x: [2, 65, 9, 9], o: {} },
    { x: [3, 63, 10, 11], o: { kernel: 3, stride: 1 } },
    { x: [3, 2, 10, 11], o: { kernel: 4, stride: 3, padding: 2 } },
    { x: [64, 8, 24, 24], o: {} },
    { x: [64, 16, 8, 8], o: {} },
    // small integers: ties everywhere, and with overlapping windows
    { x: [5, 4, 9, 9], o: { kernel: 3, stride: 2 }, ties: true },
    { x: [64, 8, 24, 24], o: {}, ties: true },
  ];
  for (const c of cases) {
    test(`parity on [${c.x}] ${JSON.stringify(c.o)}${c.ties ? ' with ties' : ''}: value and gradient`, async () => {
      const r = prng(size(c.x));
      const data = c.ties ? r.ints(size(c.x), 0, 4) : r.uniform(size(c.x));
      // exact where windows do not overlap (one dy per x at most); overlapping ones add in f32 here and
      // in double on the cpu, a rounding apart
      const k = c.o.kernel ?? 2, overlap = (c.o.stride ?? k) < k;
      await parityCheck((x) => maxPool2d(x, c.o), [{ data, shape: c.x, grad: true }], backend, overlap ? { atol: 1e-6, rtol: 1e-6 } : { atol: 0, rtol: 0 }, 'maxPool2d');
    });
  }
});
