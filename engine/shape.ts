// shape helpers shared by the op records: sizes, broadcasting, reductions over one axis.

export type Shape = readonly number[];

export const sizeOf = (shape: Shape): number => shape.reduce((a, b) => a * b, 1);

export const sameShape = (a: Shape, b: Shape): boolean =>
  a.length === b.length && a.every((d, i) => d === b[i]);

export const fmt = (shape: Shape): string => `[${shape.join(', ')}]`;

/** numpy broadcasting: dims aligned from the right, each pair equal or one of them 1. */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1, db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(`${op}: shapes ${fmt(a)} and ${fmt(b)} do not broadcast`);
    }
    out.push(Math.max(da, db));
  }
  return out;
}

/** row-major strides of `shape` as seen from an output of `outShape`: 0 on broadcast dims. */
export function broadcastStrides(shape: Shape, outShape: Shape): number[] {
  const strides = new Array<number>(outShape.length).fill(0);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const o = outShape.length - shape.length + i;
    strides[o] = shape[i] === 1 && outShape[o] !== 1 ? 0 : s;
    s *= shape[i];
  }
  return strides;
}

/** checks an axis against a rank and turns a negative axis into a positive one. */
export function normAxis(op: string, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw new Error(`${op}: axis ${axis} out of range for rank ${rank}`);
  return a;
}

/** a reduction over `axis` seen as [outer, len, inner]: the layout both the loops and the kernels use. */
export function splitAxis(shape: Shape, axis: number): { outer: number; len: number; inner: number } {
  return { outer: sizeOf(shape.slice(0, axis)), len: shape[axis], inner: sizeOf(shape.slice(axis + 1)) };
}

export function reducedShape(shape: Shape, axis: number, keepDims: boolean): number[] {
  return keepDims ? shape.map((d, i) => (i === axis ? 1 : d)) : shape.filter((_, i) => i !== axis);
}
