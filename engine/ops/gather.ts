import { apply, type Tensor } from '../tensor.ts';
import type { Primitive } from '../primitive.ts';
import { fmt } from '../shape.ts';
import { gatherKernel } from '../../shaders/gather.ts';

export interface GatherAttrs {
  /** rows order[start .. start + count) are gathered */
  start: number;
  count: number;
  /** the table holds u8 values packed four to a float32 word, decoded through a lut [256] input */
  bytes: boolean;
}

/**
 * rows of a table picked by an index list: out[r] = table[order[start + r]]. This is how a mini-batch
 * is assembled where the dataset lives (on the GPU: no upload per step). Inputs: table [N, d] (f32), or
 * with `bytes` a packed dataset [⌈N·d/4⌉] plus the byte decoding lut [256]; order [M] (indices as
 * floats). Output [count, d] with d = `cols`. A constant: no gradient.
 */
export const gatherOp: Primitive<GatherAttrs & { cols: number }> = {
  name: 'gather',
  arity: 3,
  gpu: gatherKernel,
  shape: ([table, order, lut], { start, count, bytes, cols }) => {
    if (order.length !== 1 || start + count > order[0]) {
      throw new Error(`gather: rows ${start}..${start + count} of an order of shape ${fmt(order)}`);
    }
    if (bytes && (lut.length !== 1 || lut[0] !== 256)) throw new Error(`gather: the byte lut must be [256], got ${fmt(lut)}`);
    if (!bytes && (table.length !== 2 || table[1] !== cols)) throw new Error(`gather: table must be [N, ${cols}], got ${fmt(table)}`);
    return [count, cols];
  },
  cpu: ([table, order, lut], _, out, { start, count, bytes, cols }) => {
    const u8 = bytes ? new Uint8Array(table.buffer, table.byteOffset, table.byteLength) : null;
    for (let r = 0; r < count; r++) {
      const row = order[start + r];
      for (let j = 0; j < cols; j++) {
        out[r * cols + j] = u8 ? lut[u8[row * cols + j]] : table[row * cols + j];
      }
    }
  },
};

/** rows order[start .. start+count) of table [N, d] → [count, d] (the third input is unused: order again) */
export const gatherRows = (table: Tensor, order: Tensor, start: number, count: number): Tensor =>
  apply(gatherOp, [table, order, order], { start, count, bytes: false, cols: table.shape[1] });

/** the same from a packed u8 dataset (see packBytes) decoded through lut [256] → [count, d] */
export const gatherBytes = (packed: Tensor, order: Tensor, lut: Tensor, d: number, start: number, count: number): Tensor =>
  apply(gatherOp, [packed, order, lut], { start, count, bytes: true, cols: d });

/** u8 values packed four to a float32 word, to live in an f32 tensor (the bits are kept as they are) */
export function packBytes(bytes: Uint8Array): Float32Array {
  const padded = new Uint8Array(Math.ceil(bytes.length / 4) * 4);
  padded.set(bytes);
  return new Float32Array(padded.buffer);
}
