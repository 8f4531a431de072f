// the CPU backend: storage is a Float32Array (or Float64Array for gradient checks); ops run their oracle loop.
import { arrayFor, type Backend, type DType } from './backend.ts';
import type { CpuArray } from './primitive.ts';
import { sizeOf } from './shape.ts';

export const cpu: Backend = {
  name: 'cpu',
  upload(data, dtype) {
    const a = arrayFor(dtype, data.length);
    a.set(data);
    return a;
  },
  run(prim, inputs, outShape, dtype, attrs) {
    const out = arrayFor(dtype, sizeOf(outShape));
    prim.cpu(inputs.map((t) => t.storage as CpuArray), inputs.map((t) => t.shape), out, attrs);
    return out;
  },
  read: async (storage) => storage as CpuArray,
  readSync: (storage) => storage as CpuArray,
  copyInto(src, dst, dstOffset, n, srcOffset = 0) {
    (dst as CpuArray).set((src as CpuArray).subarray(srcOffset, srcOffset + n), dstOffset);
  },
  release() { /* garbage collected */ },
};

