// Writes a CNN model file (deterministic pseudo-random weights) for checking by hand that PyTorch's
// twin of the spec loads it (mlp/cnn-weights.ts): never run by the tests.
//   node --import ./bench/node-ts.mjs bench/cnn-torch-file.ts OUT.safetensors [ARCH]   (ARCH: default `cnn`)
// then, in Python: CNN().load_state_dict(safetensors.torch.load_file('OUT.safetensors'))  (strict)
import { writeFileSync } from 'node:fs';
import process from 'node:process';
import { parseArch, resolveCnn } from '../mlp/arch.ts';
import { encodeCnnModel } from '../mlp/cnn-weights.ts';
import type { LayerParams } from '../mlp/weights.ts';

const [out, arch = 'cnn'] = process.argv.slice(2);
if (!out) { console.error('usage: bench/cnn-torch-file.ts OUT.safetensors [ARCH]'); process.exit(2); }
const spec = parseArch(arch);
if (spec.kind !== 'cnn') { console.error(`${arch} is not a cnn spec`); process.exit(2); }
const resolved = resolveCnn(spec.layers, [1, 28, 28], 10);

let s = 12345;
const rnd = (n: number) => Float32Array.from({ length: n }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 31 - 1) * 0.1);
const layers = resolved.filter((l) => l.kind !== 'pool').map((l): LayerParams => {
  if (l.kind === 'conv') {
    const shape = [l.out, l.inShape[0], l.kernel, l.kernel], dIn = shape[1] * shape[2] * shape[3];
    return { W: rnd(l.out * dIn), shape, b: rnd(l.out), dIn, dOut: l.out };
  }
  const dIn = (l.inShape as [number])[0];
  return { W: rnd(dIn * l.out), b: rnd(l.out), dIn, dOut: l.out };
});
writeFileSync(out, encodeCnnModel(resolved, layers));
console.log(`${out}: ${arch}, ${layers.length} weighted layers`);
