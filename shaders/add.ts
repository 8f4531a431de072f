import { binary } from './elementwise.ts';

export const addKernel = binary('add', 'x + y');
