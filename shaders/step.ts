import { unary } from './elementwise.ts';

// 1 where x > 0, else 0 (also for NaN and -0), exactly as the oracle
export const stepKernel = unary('select(0.0, 1.0, x > 0.0)');
