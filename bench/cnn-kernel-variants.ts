// The CNN's WebGPU kernels, variant against variant, at the reference CNN's training shapes (batch 64:
// conv 1→8 5×5 on 28×28 and 8→16 5×5 on 12×12; the 2×2 pooling gradients of their maps), interleaved in one
// process so that machine noise hits every variant alike: ms per call, minimum and median over rounds of
// `reps` calls; a line MISMATCH when a variant's output differs from the first one's by more than 1e-4.
//   node --import ./bench/node-ts.mjs bench/cnn-kernel-variants.ts OP REPS ROUNDS VARIANT…
//   OP: fwd | dx | dw | pool | poolg; VARIANT: 'loops' (the first kernels) or '' (the default, 'v4' where it applies)
//   e.g. node --import ./bench/node-ts.mjs bench/cnn-kernel-variants.ts dw 10 5 loops ""
// A benchmark, never a test.
import process from 'node:process';
import { acquireDevice } from '../engine/device.ts';
import { createWebGpuBackend } from '../engine/webgpu.ts';
import { Tensor } from '../engine/tensor.ts';
import { conv2d, conv2dInputGrad, conv2dWeightGrad, maxPool2d, maxPool2dGrad } from '../engine/ops/index.ts';
import { dispose } from '../engine/memory.ts';
const got = await acquireDevice({ mode: 'webgpu' });
const [op, reps, rounds, ...vs] = process.argv.slice(2);
const opName = ({ fwd: "conv2d", dx: "conv2dInputGrad", dw: "conv2dWeightGrad", pool: "maxPool2d", poolg: "maxPool2dGrad" } as any)[op];
const bs = vs.map((v) => createWebGpuBackend(got!.device, { variants: { [opName]: v } }));
const rnd = (b: any, shape: number[], seed: number) => { let s = seed; const n = shape.reduce((a, c) => a * c, 1); const d = new Float32Array(n); for (let i = 0; i < n; i++) { s = (s * 1103515245 + 12345) >>> 0; d[i] = (s / 2 ** 32) - 0.5; } return Tensor.from(d, shape, { backend: b }); };
const shapes = [[[64, 1, 28, 28], [8, 1, 5, 5]], [[64, 8, 12, 12], [16, 8, 5, 5]]];
const res: Record<string, number[]> = {};
const mk = bs.map((b) => shapes.map(([x, w]) => {
  const X = rnd(b, x, 1), W = rnd(b, w, 2), B = rnd(b, [w[0]], 3), oh = x[2] - w[2] + 1, D = rnd(b, [x[0], w[0], oh, oh], 4);
  const P = rnd(b, [x[0], w[0], oh, oh], 5), PD = rnd(b, [x[0], w[0], oh / 2, oh / 2], 6);
  const fl = 2 * x[0] * w[0] * oh * oh * x[1] * w[2] * w[3];
  const f = op === 'fwd' ? () => conv2d(X, W, B) : op === 'dx' ? () => conv2dInputGrad(D, W, { stride: 1, padding: 0, height: x[2], width: x[3] })
    : op === 'dw' ? () => conv2dWeightGrad(X, D, { stride: 1, padding: 0, kh: w[2], kw: w[3] }) : op === 'pool' ? () => maxPool2d(P) : () => maxPool2dGrad(P, PD, { kernel: 2, stride: 2, padding: 0 });
  return { f, fl, name: `${x[1]}->${w[0]}`, b };
}));
// check agreement
for (let s = 0; s < shapes.length; s++) {
  const ref = await mk[0][s].f().read();
  for (let v = 1; v < vs.length; v++) { const o = await mk[v][s].f().read(); let e = 0; for (let i = 0; i < o.length; i++) e = Math.max(e, Math.abs(o[i] - ref[i])); if (e > 1e-4) console.log(`MISMATCH ${vs[v]} ${mk[v][s].name} ${e}`); }
}
for (let r = 0; r < Number(rounds); r++) for (let v = 0; v < vs.length; v++) for (const c of mk[v]) {
  if (op === 'dx' && c.name === '1->8') continue;
  dispose(c.f()); await (c.b as any).sync();
  const t0 = performance.now();
  for (let i = 0; i < Number(reps); i++) dispose(c.f());
  await (c.b as any).sync();
  (res[`${vs[v]} ${c.name}`] ??= []).push((performance.now() - t0) / Number(reps));
}
for (const [k, t] of Object.entries(res)) { const s = [...t].sort((a, b) => a - b); console.log(`${k.padEnd(18)} min ${s[0].toFixed(2)} med ${s[Math.floor(s.length / 2)].toFixed(2)} ms`); }
process.exit(0);
