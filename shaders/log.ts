import { unary } from './elementwise.ts';

// WGSL's log: 3 ulp outside [0.5, 2], absolute 2⁻²¹ inside; log(x ≤ 0) is undefined there (the oracle gives -inf/NaN)
export const logKernel = unary('log(x)');
