// shared machinery of the elementwise primitives: one loop shape for unary maps, one for broadcasting binaries.
import type { CpuArray } from '../primitive.ts';
import { broadcastShapes, broadcastStrides, sameShape, sizeOf, type Shape } from '../shape.ts';

export const unaryShape = (inputs: readonly Shape[]): number[] => [...inputs[0]];

export function mapCpu(x: CpuArray, out: CpuArray, f: (v: number) => number): void {
  for (let i = 0; i < out.length; i++) out[i] = f(x[i]);
}

export const binaryShape = (name: string) => (inputs: readonly Shape[]): number[] =>
  broadcastShapes(name, inputs[0], inputs[1]);

/** out[i] = f(a[ia], b[ib]) with numpy broadcasting; the same-shape and row-broadcast cases skip the index math */
export function zipCpu(
  a: CpuArray, b: CpuArray, shapes: readonly Shape[], out: CpuArray, f: (x: number, y: number) => number,
): void {
  const [sa, sb] = shapes;
  const n = out.length;
  if (sameShape(sa, sb)) {
    for (let i = 0; i < n; i++) out[i] = f(a[i], b[i]);
    return;
  }
  if (a.length === n && n % b.length === 0 && sameShape(sb, sa.slice(sa.length - sb.length))) {
    // b is a suffix of a (a bias row): b repeats every b.length elements
    const m = b.length;
    for (let i = 0; i < n; i++) out[i] = f(a[i], b[i % m]);
    return;
  }
  const outShape = broadcastShapes('zip', sa, sb);
  const stA = broadcastStrides(sa, outShape), stB = broadcastStrides(sb, outShape);
  const rank = outShape.length;
  const idx = new Array<number>(rank).fill(0);
  for (let i = 0; i < sizeOf(outShape); i++) {
    let ia = 0, ib = 0;
    for (let d = 0; d < rank; d++) { ia += idx[d] * stA[d]; ib += idx[d] * stB[d]; }
    out[i] = f(a[ia], b[ib]);
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d] < outShape[d]) break;
      idx[d] = 0;
    }
  }
}
