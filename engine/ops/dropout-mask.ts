import { apply, type Tensor } from '../tensor.ts';
import type { Primitive } from '../primitive.ts';
import { unaryShape } from './elementwise.ts';
import { dropoutMaskKernel } from '../../shaders/dropout-mask.ts';

/**
 * which stream of random bits one dropout call draws: `seed` (the run's, low 32 bits), `step` (a counter
 * the model advances every training forward pass) and `stream` (the layer). All u32.
 */
export interface DropoutKey { seed: number; step: number; stream: number }

export interface DropoutMaskAttrs extends DropoutKey { p: number }

/**
 * pcg4d (Jarzynski & Olano, "Hash Functions for GPU Rendering", JCGT 9(3), 2020): a counter-based hash
 * of four u32 to four u32 (only 32-bit multiply-add, xor and shift, so TS and WGSL agree bit for bit).
 * Returns the first output word, as shaders/dropout-mask.ts does.
 */
export function pcg4dX(a: number, b: number, c: number, d: number): number {
  let x = (Math.imul(a, 1664525) + 1013904223) >>> 0;
  let y = (Math.imul(b, 1664525) + 1013904223) >>> 0;
  let z = (Math.imul(c, 1664525) + 1013904223) >>> 0;
  let w = (Math.imul(d, 1664525) + 1013904223) >>> 0;
  for (let round = 0; round < 2; round++) {
    x = (x + Math.imul(y, w)) >>> 0;
    y = (y + Math.imul(z, x)) >>> 0;
    z = (z + Math.imul(x, y)) >>> 0;
    w = (w + Math.imul(y, z)) >>> 0;
    if (round === 0) { x ^= x >>> 16; y ^= y >>> 16; z ^= z >>> 16; w ^= w >>> 16; }
  }
  return x >>> 0;
}

/** an element is dropped when the top 24 bits of its hash are < this: P(drop) = threshold / 2²⁴ (p to ±2⁻²⁵) */
export const dropThreshold = (p: number): number => Math.round(p * 2 ** 24);

/** the value a kept element is multiplied by: 1/(1 − p), as f32 */
export const keepScale = (p: number): number => Math.fround(1 / (1 - p));

function checkAttrs({ p, seed, step, stream }: DropoutMaskAttrs): void {
  if (!(p >= 0 && p < 1)) throw new Error(`dropoutMask: p must be in [0, 1), got ${p}`);
  for (const [k, v] of [['seed', seed], ['step', step], ['stream', stream]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new Error(`dropoutMask: ${k} must be a u32, got ${v}`);
  }
}

/**
 * the inverted-dropout mask shaped like x: element i is 1/(1 − p) (kept) or 0 (dropped), decided by
 * pcg4d(i, step, seed, stream) alone, so every backend draws the same mask (the input only gives the
 * shape). A constant: no gradient. NOTE: not PyTorch's dropout stream (its masks come from the global
 * generator and are not reproduced); the keep rate and scaling are the same.
 */
export const dropoutMaskOp: Primitive<DropoutMaskAttrs> = {
  name: 'dropoutMask',
  arity: 1,
  gpu: dropoutMaskKernel,
  shape: (inputs, attrs) => { checkAttrs(attrs); return unaryShape(inputs); },
  cpu: (_, __, out, { p, seed, step, stream }) => {
    const threshold = dropThreshold(p), s = keepScale(p);
    for (let i = 0; i < out.length; i++) out[i] = pcg4dX(i, step, seed, stream) >>> 8 >= threshold ? s : 0;
  },
};

/** the mask shaped like `like` (see dropoutMaskOp); key fields must be u32 (take a wider seed's low bits: seed >>> 0) */
export const dropoutMask = (like: Tensor, p: number, key: DropoutKey): Tensor =>
  apply(dropoutMaskOp, [like], { p, seed: key.seed, step: key.step, stream: key.stream });
