import { f32bits } from './kernel.ts';
import { unary } from './elementwise.ts';

// WGSL's inverseSqrt is accurate to 2 ulp and indeterminate for x ≤ 0: the oracle's +inf at 0 and NaN
// below 0 are picked explicitly, so a bad variance is loud on every backend
export const rsqrtKernel = unary(
  `select(select(inverseSqrt(x), ${f32bits(0x7f800000, 'size')}, x == 0.0), ${f32bits(0x7fc00000, 'size')}, x < 0.0)`);
