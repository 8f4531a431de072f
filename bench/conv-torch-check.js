#!/usr/bin/env node
// The JS half of bench/conv_torch_check.py (run that, not this): writes random conv2d and max_pool2d cases
// with our CPU oracle's forward and gradients (f32, CPU backend) to DIR/cases.json, for PyTorch to redo.
//   node bench/conv-torch-check.js DIR
import process from 'node:process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

if (typeof globalThis.Deno === 'undefined') await import('./node-ts.mjs');
const { Tensor } = await import('../engine/tensor.ts');
const { conv2d, maxPool2d } = await import('../engine/ops/index.ts');

// mulberry32, as test/helpers/check-op.ts
function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}
const size = (s) => s.reduce((a, b) => a * b, 1);
const uniform = (r, n) => Array.from(Float32Array.from({ length: n }, () => 2 * r() - 1));
const ints = (r, n, hi) => Array.from({ length: n }, () => Math.floor(hi * r()));
const arr = (t) => Array.from(t.data());

const dir = process.argv[2];
if (!dir) { console.error('usage: node bench/conv-torch-check.js DIR'); process.exit(2); }

const convCases = [];
let seed = 1;
for (const [x, w] of [[[2, 3, 9, 8], [4, 3, 3, 3]], [[3, 1, 11, 10], [5, 1, 5, 4]], [[64, 1, 28, 28], [8, 1, 5, 5]], [[64, 8, 12, 12], [16, 8, 5, 5]]]) {
  for (const stride of [1, 2]) {
    for (const padding of [0, 1, 2]) {
      const r = rng(seed++);
      const xd = uniform(r, size(x)), wd = uniform(r, size(w)), bd = uniform(r, w[0]);
      const X = Tensor.from(xd, x, { requiresGrad: true }), W = Tensor.from(wd, w, { requiresGrad: true }), B = Tensor.from(bd, [w[0]], { requiresGrad: true });
      const y = conv2d(X, W, B, { stride, padding });
      const dy = uniform(r, y.size);
      y.backward(Tensor.from(dy, y.shape));
      convCases.push({ x, w, stride, padding, xd, wd, bd, dy, y: arr(y), dx: arr(X.grad), dw: arr(W.grad), db: arr(B.grad) });
    }
  }
}

const poolCases = [];
for (const [x, kernel, stride, padding, ties] of [
  [[2, 3, 8, 8], 2, 2, 0, false], [[2, 3, 7, 9], 2, 2, 0, false], [[2, 3, 9, 9], 3, 2, 1, false], [[2, 2, 9, 10], 3, 1, 0, false],
  [[64, 8, 24, 24], 2, 2, 0, false], [[64, 16, 8, 8], 2, 2, 0, false],
  [[2, 3, 8, 8], 2, 2, 0, true], [[2, 3, 9, 9], 3, 2, 1, true], [[2, 2, 9, 10], 3, 1, 0, true], [[2, 2, 7, 7], 2, 1, 1, true], [[2, 2, 10, 9], 4, 3, 2, true],
]) {
  const r = rng(seed++);
  const xd = ties ? ints(r, size(x), 3) : uniform(r, size(x));
  const X = Tensor.from(xd, x, { requiresGrad: true });
  const y = maxPool2d(X, { kernel, stride, padding });
  const dy = uniform(r, y.size);
  y.backward(Tensor.from(dy, y.shape));
  poolCases.push({ x, kernel, stride, padding, ties, xd, dy, y: arr(y), dx: arr(X.grad) });
}

writeFileSync(join(dir, 'cases.json'), JSON.stringify({ conv: convCases, pool: poolCases }));
console.error(`wrote ${convCases.length} conv2d and ${poolCases.length} max_pool2d cases to ${join(dir, 'cases.json')}`);
