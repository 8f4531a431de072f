import { binary } from './elementwise.ts';

// NaN == NaN is false, as in the oracle
export const eqKernel = binary('eq', 'select(0.0, 1.0, x == y)');
