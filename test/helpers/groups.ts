// test data for the group kernels (group-sums, hist-edges, group-spread): a group index from labels,
// and a parity helper that runs the same call on a backend and on the cpu oracle.
import type { Backend } from '../../engine/backend.ts';
import { cpu } from '../../engine/cpu.ts';
import { Tensor } from '../../engine/tensor.ts';

/**
 * the group index [G + 1 + n] (engine/ops/group-sums.ts): group c lists the rows labelled c in row order
 * (groups = classes), then `extra` more groups each listing the given rows
 */
export function indexOf(labels: ArrayLike<number>, classes: number, extra: number[][] = []): number[] {
  const lists: number[][] = Array.from({ length: classes }, () => []);
  for (let r = 0; r < labels.length; r++) lists[labels[r]].push(r);
  lists.push(...extra);
  const offsets = [0];
  for (const l of lists) offsets.push(offsets[offsets.length - 1] + l.length);
  return [...offsets, ...lists.flat()];
}

/** runs `fn` on inputs uploaded to `backend` and to the cpu; both outputs read back */
export async function onBoth(backend: Backend, inputs: [ArrayLike<number>, number[]][], fn: (...t: Tensor[]) => Tensor): Promise<{ got: Float32Array; want: Float32Array }> {
  const run = async (b: Backend) => Float32Array.from(await fn(...inputs.map(([d, s]) => Tensor.from(d, s, { backend: b }))).read());
  return { got: await run(backend), want: await run(cpu) };
}
