import { unary } from './elementwise.ts';

// WGSL's f32 division is accurate to 2.5 ulp (not correctly rounded)
export const reciprocalKernel = unary('1.0 / x');
