import { binary } from './elementwise.ts';

export const mulKernel = binary('mul', 'x * y');
