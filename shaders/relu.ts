import { unary } from './elementwise.ts';

// select, not max(): max(NaN, 0) is unspecified in WGSL; the oracle gives 0 (NaN > 0 is false), and relu(-0) = +0
export const reluKernel = unary('select(0.0, x, x > 0.0)');
