import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../engine/tensor.ts';
import { conv2d, conv2dInputGrad, conv2dWeightGrad, maxPool2d, relu } from '../../engine/ops/index.ts';
import { backendSuites, finiteDifferenceCheck, parityCheck, prng, tensorOn, values, type InputSpec } from '../helpers/check-op.ts';
import { assertClose } from '../helpers/close.ts';

const f32 = (data: ArrayLike<number>, shape: number[], requiresGrad = false): Tensor => Tensor.from(data, shape, { requiresGrad });
const range = (n: number, from = 1): number[] => Array.from({ length: n }, (_, i) => i + from);
const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

/** x, w and b of one case, uniform in [-1, 1), every gradient checked */
function convInputs(x: number[], w: number[], seed: number): InputSpec[] {
  const r = prng(seed);
  return [
    { data: r.uniform(size(x)), shape: x, grad: true },
    { data: r.uniform(size(w)), shape: w, grad: true },
    { data: r.uniform(w[0]), shape: [w[0]], grad: true },
  ];
}

const t = suite('conv2d');

t('output is [N, O, OH, OW] with OH = floor((H + 2p − KH)/s) + 1', () => {
  const out = (x: number[], w: number[], opts = {}) => [...conv2d(Tensor.zeros(x), Tensor.zeros(w), Tensor.zeros([w[0]]), opts).shape];
  assert.equal(out([64, 1, 28, 28], [8, 1, 5, 5]), [64, 8, 24, 24]);
  assert.equal(out([64, 8, 12, 12], [16, 8, 5, 5]), [64, 16, 8, 8]);
  assert.equal(out([2, 3, 7, 8], [4, 3, 3, 2], { stride: 2, padding: 1 }), [2, 4, 4, 5]);
  assert.equal(out([1, 1, 5, 5], [1, 1, 5, 5]), [1, 1, 1, 1]);
  assert.equal(out([1, 1, 3, 3], [1, 1, 5, 5], { padding: 1 }), [1, 1, 1, 1]);
});

t('mismatched shapes and bad options throw errors naming conv2d', () => {
  const msg = /^conv2d: expects x \[N, C, H, W\], w \[O, C, KH, KW\] and b \[O\], got/;
  const c = (x: number[], w: number[], b: number[], opts = {}) => () => conv2d(Tensor.zeros(x), Tensor.zeros(w), Tensor.zeros(b), opts);
  assert.throws(c([1, 2, 5, 5], [3, 1, 3, 3], [3]), msg);
  assert.throws(c([1, 2, 5, 5], [3, 2, 3, 3], [2]), msg);
  assert.throws(c([2, 5, 5], [3, 2, 3, 3], [3]), msg);
  assert.throws(c([1, 2, 5, 5], [3, 2, 3], [3]), msg);
  assert.throws(c([1, 2, 5, 5], [3, 2, 3, 3], [3, 1]), msg);
  assert.throws(c([1, 1, 3, 3], [1, 1, 5, 5], [1]), /^conv2d: kernel 5 is larger than the padded input 3/);
  assert.throws(c([1, 1, 5, 5], [1, 1, 3, 3], [1], { stride: 0 }), /^conv2d: stride must be a positive integer, got 0/);
  assert.throws(c([1, 1, 5, 5], [1, 1, 3, 3], [1], { stride: 1.5 }), /^conv2d: stride must be a positive integer/);
  assert.throws(c([1, 1, 5, 5], [1, 1, 3, 3], [1], { padding: -1 }), /^conv2d: padding must be a non-negative integer, got -1/);
});

t('the gradient primitives check their shapes and name themselves', () => {
  assert.throws(() => conv2dInputGrad(Tensor.zeros([1, 2, 3, 3]), Tensor.zeros([3, 1, 3, 3]), { stride: 1, padding: 0, height: 5, width: 5 }),
    /^conv2dInputGrad: expects dy \[N, O, OH, OW\] and w \[O, C, KH, KW\]/);
  assert.throws(() => conv2dInputGrad(Tensor.zeros([1, 3, 4, 3]), Tensor.zeros([3, 1, 3, 3]), { stride: 1, padding: 0, height: 5, width: 5 }),
    /^conv2dInputGrad: dy \[1, 3, 4, 3\] does not fit an input 5×5/);
  assert.throws(() => conv2dWeightGrad(Tensor.zeros([2, 2, 5, 5]), Tensor.zeros([1, 3, 3, 3]), { stride: 1, padding: 0, kh: 3, kw: 3 }),
    /^conv2dWeightGrad: expects x \[N, C, H, W\], dy \[N, O, OH, OW\]/);
  assert.throws(() => conv2dWeightGrad(Tensor.zeros([1, 2, 5, 5]), Tensor.zeros([1, 3, 3, 2]), { stride: 1, padding: 0, kh: 3, kw: 3 }),
    /^conv2dWeightGrad: dy \[1, 3, 3, 2\] does not fit x \[1, 2, 5, 5\]/);
  // stride 2: inputs of 7 and 8 both give 3 outputs; the attribute decides
  assert.equal([...conv2dInputGrad(Tensor.zeros([1, 1, 3, 3]), Tensor.zeros([1, 2, 3, 3]), { stride: 2, padding: 0, height: 8, width: 7 }).shape], [1, 2, 8, 7]);
});

t('hand-computed: a 2×2 difference kernel, padding 1 with stride 2, two channels into two outputs', () => {
  const x = f32(range(9), [1, 1, 3, 3]);
  // x[i, j] − x[i+1, j+1] = −4 everywhere, + 0.5
  assert.equal([...conv2d(x, f32([1, 0, 0, -1], [1, 1, 2, 2]), f32([0.5], [1])).data()], [-3.5, -3.5, -3.5, -3.5]);
  // a 3×3 box over the zero-padded 3×3 image at (−1, −1), (−1, 1), (1, −1), (1, 1)
  assert.equal([...conv2d(x, f32(new Array(9).fill(1), [1, 1, 3, 3]), f32([0], [1]), { stride: 2, padding: 1 }).data()], [12, 16, 24, 28]);
  // o0 = x0 + 0.5·x1, o1 = −x0 + 2·x1 + 1
  const x2 = f32([1, 2, 3, 4, 10, 20, 30, 40], [1, 2, 2, 2]);
  assert.equal([...conv2d(x2, f32([1, 0.5, -1, 2], [2, 2, 1, 1]), f32([0, 1], [2])).data()], [6, 12, 18, 24, 20, 39, 58, 77]);
});

t('hand-computed gradients: dx, dw and db of a 1×1×3×3 image under a 2×2 kernel', () => {
  const x = f32(range(9), [1, 1, 3, 3], true), w = f32([1, 2, 3, 4], [1, 1, 2, 2], true), b = f32([0], [1], true);
  conv2d(x, w, b).backward(f32([1, 0, 0, 1], [1, 1, 2, 2]));
  // dy picks outputs (0,0) and (1,1): dx is w placed at (0,0) plus w placed at (1,1)
  assert.equal([...x.grad!.data()], [1, 2, 0, 3, 4 + 1, 2, 0, 3, 4]);
  // dw[a, e] = x[a, e] + x[a+1, e+1]
  assert.equal([...w.grad!.data()], [1 + 5, 2 + 6, 4 + 8, 5 + 9]);
  assert.equal([...b.grad!.data()], [2]);
});

const FD_CASES: { what: string; x: number[]; w: number[]; stride?: number; padding?: number }[] = [
  { what: 'stride 1, padding 0', x: [2, 3, 5, 6], w: [4, 3, 3, 3] },
  { what: 'stride 2, padding 1', x: [2, 2, 6, 5], w: [3, 2, 3, 3], stride: 2, padding: 1 },
  { what: 'one channel, one output, padding 2', x: [1, 1, 4, 4], w: [1, 1, 3, 3], padding: 2 },
  { what: 'non-square 2×3 kernel, stride 3, padding 2', x: [2, 2, 7, 8], w: [3, 2, 2, 3], stride: 3, padding: 2 },
  { what: 'kernel as large as the image', x: [2, 2, 3, 3], w: [2, 2, 3, 3] },
];
for (const c of FD_CASES) {
  t(`gradients w.r.t. x, w and b match finite differences: ${c.what}`, () => {
    const opts = { stride: c.stride, padding: c.padding };
    finiteDifferenceCheck((x, w, b) => conv2d(x, w, b, opts), convInputs(c.x, c.w, size(c.x) + size(c.w)), { label: `conv2d ${c.what}` });
  });
}

t('the gradient primitives are differentiable too (finite differences, stride 2, padding 1)', () => {
  const r = prng(7);
  const a = { stride: 2, padding: 1 };
  // x [2, 2, 5, 6], w [3, 2, 3, 2] → dy [2, 3, 3, 4]
  finiteDifferenceCheck((dy, w) => conv2dInputGrad(dy, w, { ...a, height: 5, width: 6 }), [
    { data: r.uniform(2 * 3 * 3 * 4), shape: [2, 3, 3, 4], grad: true }, { data: r.uniform(3 * 2 * 3 * 2), shape: [3, 2, 3, 2], grad: true },
  ], { label: 'conv2dInputGrad' });
  finiteDifferenceCheck((x, dy) => conv2dWeightGrad(x, dy, { ...a, kh: 3, kw: 2 }), [
    { data: r.uniform(2 * 2 * 5 * 6), shape: [2, 2, 5, 6], grad: true }, { data: r.uniform(2 * 3 * 3 * 4), shape: [2, 3, 3, 4], grad: true },
  ], { label: 'conv2dWeightGrad' });
});

t.run();

/** the reference CNN's feature extractor: conv 1→8 5×5, relu, pool 2, conv 8→16 5×5, relu, pool 2 */
const referenceCnn = (x: Tensor, w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor): Tensor =>
  maxPool2d(relu(conv2d(maxPool2d(relu(conv2d(x, w1, b1))), w2, b2)));

backendSuites('conv2d', (test, backend) => {
  test('forward: hand-computed, with padding and stride', async () => {
    const x = tensorOn(backend, range(9), [1, 1, 3, 3]);
    assert.equal(await values(conv2d(x, tensorOn(backend, [1, 0, 0, -1], [1, 1, 2, 2]), tensorOn(backend, [0.5], [1]))), [-3.5, -3.5, -3.5, -3.5]);
    assert.equal(await values(conv2d(x, tensorOn(backend, new Array(9).fill(1), [1, 1, 3, 3]), tensorOn(backend, [0], [1]), { stride: 2, padding: 1 })), [12, 16, 24, 28]);
    const x2 = tensorOn(backend, [1, 2, 3, 4, 10, 20, 30, 40], [1, 2, 2, 2]);
    assert.equal(await values(conv2d(x2, tensorOn(backend, [1, 0.5, -1, 2], [2, 2, 1, 1]), tensorOn(backend, [0, 1], [2]))), [6, 12, 18, 24, 20, 39, 58, 77]);
  });

  // batch 1, one channel, a partial batch, odd images, 63/65 channels and outputs, strides and paddings, the reference shapes
  const cases: { x: number[]; w: number[]; stride?: number; padding?: number }[] = [
    { x: [1, 1, 7, 7], w: [3, 1, 3, 3] },
    { x: [1, 1, 7, 7], w: [1, 1, 7, 7] },
    { x: [17, 3, 27, 29], w: [5, 3, 5, 5], padding: 2 },
    { x: [17, 2, 27, 29], w: [6, 2, 3, 4], stride: 2, padding: 1 },
    { x: [2, 65, 7, 7], w: [63, 65, 3, 3], stride: 2, padding: 1 },
    { x: [2, 63, 9, 8], w: [65, 63, 3, 2] },
    { x: [3, 2, 9, 8], w: [4, 2, 3, 2], stride: 3, padding: 2 },
    { x: [64, 1, 28, 28], w: [8, 1, 5, 5] },
    { x: [64, 8, 12, 12], w: [16, 8, 5, 5] },
    // shapes the WebGPU 'v4' kernels take (stride 1, no padding, rows of whole vec4s): channels past a
    // block of 4, two input channels unrolled, 1-wide and 9-wide kernels, odd batches
    { x: [3, 2, 12, 8], w: [6, 2, 5, 5] },
    { x: [5, 4, 9, 12], w: [7, 4, 3, 1] },
    { x: [2, 8, 6, 16], w: [5, 8, 2, 9] },
  ];
  for (const c of cases) {
    const what = `[${c.x}]·[${c.w}]${c.stride ? ` stride ${c.stride}` : ''}${c.padding ? ` padding ${c.padding}` : ''}`;
    test(`parity on ${what}: value and the gradients of x, w and b`, async () => {
      const opts = { stride: c.stride, padding: c.padding };
      await parityCheck((x, w, b) => conv2d(x, w, b, opts), convInputs(c.x, c.w, size(c.x) + size(c.w) + (c.stride ?? 0)), backend, undefined, `conv2d ${what}`);
    });
  }

  test('parity of the gradient primitives called directly: stride 2 leaves the last input row and column untouched', async () => {
    const r = prng(3);
    const dy = { data: r.uniform(2 * 5 * 3 * 3), shape: [2, 5, 3, 3] }, w = { data: r.uniform(5 * 3 * 3 * 3), shape: [5, 3, 3, 3] };
    await parityCheck((d, k) => conv2dInputGrad(d, k, { stride: 2, padding: 0, height: 8, width: 8 }), [dy, w], backend, undefined, 'conv2dInputGrad');
    const x = { data: r.uniform(2 * 3 * 8 * 8), shape: [2, 3, 8, 8] };
    await parityCheck((a, d) => conv2dWeightGrad(a, d, { stride: 2, padding: 0, kh: 3, kw: 3 }), [x, dy], backend, undefined, 'conv2dWeightGrad');
    const got = await values(conv2dInputGrad(tensorOn(backend, dy.data, dy.shape), tensorOn(backend, w.data, w.shape), { stride: 2, padding: 0, height: 8, width: 8 }));
    for (let nc = 0; nc < 6; nc++) for (let q = 0; q < 8; q++) assert.is(got[nc * 64 + 7 * 8 + q] + got[nc * 64 + q * 8 + 7], 0);
  });

  test('parity of the reference CNN (conv 1→8 5×5, relu, pool, conv 8→16 5×5, relu, pool) on a batch of 64: value and every gradient', async () => {
    const r = prng(28);
    const inputs: InputSpec[] = [
      { data: r.uniform(64 * 28 * 28, 0, 1), shape: [64, 1, 28, 28] },
      { data: r.uniform(8 * 25, -0.4, 0.4), shape: [8, 1, 5, 5], grad: true }, { data: r.uniform(8, -0.1, 0.1), shape: [8], grad: true },
      { data: r.uniform(16 * 8 * 25, -0.14, 0.14), shape: [16, 8, 5, 5], grad: true }, { data: r.uniform(16, -0.1, 0.1), shape: [16], grad: true },
    ];
    await parityCheck(referenceCnn, inputs, backend, undefined, 'reference CNN');
  });

  test('same numbers as the composition of its backward on this backend: db = Σ dy over N, OH, OW', async () => {
    const r = prng(9);
    const x = tensorOn(backend, r.uniform(3 * 2 * 6 * 6), [3, 2, 6, 6]), w = tensorOn(backend, r.uniform(4 * 2 * 3 * 3), [4, 2, 3, 3]);
    const b = tensorOn(backend, [0, 0, 0, 0], [4], { requiresGrad: true });
    const dyv = r.uniform(3 * 4 * 4 * 4);
    conv2d(x, w, b).backward(tensorOn(backend, dyv, [3, 4, 4, 4]));
    const want = [0, 1, 2, 3].map((o) => { let s = 0; for (let n = 0; n < 3; n++) for (let q = 0; q < 16; q++) s += dyv[(n * 4 + o) * 16 + q]; return s; });
    assertClose(await values(b.grad!), want, { atol: 1e-5, rtol: 1e-5 }, 'db');
  });
});
