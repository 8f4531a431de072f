// A/B of whole warm training epochs (fused cpu step, recording on, test evaluation included) between two
// source trees in one process, rounds interleaved, medians: the tree under test and a copy of an older one.
//   node --import ./bench/node-ts.mjs bench/fused-epoch-ab.ts <base-tree> [--rounds R] [--epochs E] [--no-record]
// <base-tree>: e.g. `mkdir /tmp/base && git archive HEAD | tar -x -C /tmp/base && ln -s $PWD/node_modules /tmp/base/`.
// Each round trains a fresh reference model (784-32-16-10, batch 64, lr 0.01, seed 31416) for E epochs
// with each tree, recorder slots reused as in the main job; the first epoch of a run is left out (JIT,
// first touches). Also checks that both trees give the same parameters bit for bit. A benchmark, never a test.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values: o, positionals } = parseArgs({ allowPositionals: true, options: {
  rounds: { type: 'string', default: '4' }, epochs: { type: 'string', default: '3' }, 'no-record': { type: 'boolean' },
} });
if (positionals.length !== 1) throw new Error('usage: bench/fused-epoch-ab.ts <base-tree> [--rounds R] [--epochs E] [--no-record]');
const trees = { base: resolve(positionals[0]), new: resolve(new URL('..', import.meta.url).pathname) };
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Mod = Record<string, any>;
async function load(root: string): Promise<{ train: Mod; model: Mod; rng: Mod; mnist: Mod }> {
  const imp = (p: string) => import(pathToFileURL(`${root}/${p}`).href) as Promise<Mod>;
  return { train: await imp('mlp/train.ts'), model: await imp('mlp/model.ts'), rng: await imp('engine/rng.ts'), mnist: await imp('run/mnist-files.ts') };
}
const mods = { base: await load(trees.base), new: await load(trees.new) };
const data = await mods.new.mnist.loadMnist();
const epochs = Number(o.epochs), record = !o['no-record'];
const secs: Record<string, number[]> = { base: [], new: [] };
const bytes: Record<string, Uint8Array> = {};
for (let r = 0; r < Number(o.rounds); r++) {
  for (const k of (r % 2 ? ['new', 'base'] : ['base', 'new']) as ('base' | 'new')[]) {
    const m = mods[k], rng = m.rng.createRng('torch', 31416);
    const model = m.model.Mlp.init([784, 32, 16, 10], rng);
    const hist = await m.train.train(model, data, rng, { epochs, batch: 64, lr: 0.01, record, reuseRecordSlots: true });
    for (const e of hist.slice(1)) secs[k].push(e.seconds);
    const flat = new Uint8Array(model.params().flatMap((p: Mod) => [...new Uint8Array(Float32Array.from(p.tensor.data()).buffer)]));
    if (bytes[k] && bytes[k].some((b, i) => b !== flat[i])) throw new Error(`${k}: parameters differ between rounds`);
    bytes[k] = flat;
    process.stderr.write(`  round ${r} ${k.padEnd(4)} ${hist.map((e: Mod) => e.seconds.toFixed(3)).join(' ')} s/epoch\n`);
  }
}
const same = bytes.base.length === bytes.new.length && bytes.base.every((b, i) => b === bytes.new[i]);
console.log(`warm epochs, recording ${record ? 'on' : 'off'}, ${secs.base.length} per tree: median base ${median(secs.base).toFixed(4)} s, new ${median(secs.new).toFixed(4)} s (min ${Math.min(...secs.base).toFixed(4)} / ${Math.min(...secs.new).toFixed(4)}); parameters ${same ? 'bit-identical' : 'DIFFER'}`);
