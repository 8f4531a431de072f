import { unary } from './elementwise.ts';

// WGSL's exp is accurate to 3 + 2·|x| ulp, not correctly rounded: tests compare with a relative tolerance
export const expKernel = unary('exp(x)');
