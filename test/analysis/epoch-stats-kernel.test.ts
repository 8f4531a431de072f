// analysis/epoch-stats.ts's specialised loops against the straightforward ones they replaced
// (test/helpers/epoch-stats-reference.ts): the same statistics file to the byte, on awkward shapes and
// values (one row, widths around a multiple of 64, a short last batch, an absent class, NaN, ±Infinity,
// −0, all-equal columns), on records whose labels are not a Uint8Array, and on a real recorded epoch.
// Every case runs twice: with the JavaScript loops and with the WebAssembly SIMD passes
// (analysis/epoch-stats-wasm.ts; skipped, and said so, where SIMD or wabt is unavailable).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { computeEpochStats, type EpochStatsOptions, loadEpochStatsKernels } from '../../analysis/epoch-stats.ts';
import { createRng } from '../../engine/rng.ts';
import { type KernelKind, wasmUnavailable } from '../../engine/wasm/load.ts';
import type { Mnist, Split } from '../../mlp/mnist.ts';
import { Mlp } from '../../mlp/model.ts';
import type { EpochRecord } from '../../mlp/recorder.ts';
import { train } from '../../mlp/train.ts';
import { loadMnist } from '../../run/mnist-files.ts';
import { referenceEpochStats } from '../helpers/epoch-stats-reference.ts';

const simd = (await loadEpochStatsKernels('wasm-simd')) === 'wasm-simd';
if (!simd) console.log(`  NOTE: WebAssembly SIMD statistics unavailable (${wasmUnavailable()}): the JS loops are tested alone`);
const kinds: KernelKind[] = simd ? ['js', 'wasm-simd'] : ['js'];

/** mulberry32: deterministic values */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** a record of `count` rows: acts and grads of the given widths, values from `value(r, j, rand)` */
function record(count: number, widths: number[], classes: number, batch: number, value: (r: number, j: number, rand: () => number) => number, seed = 1): EpochRecord {
  const rand = prng(seed);
  const labels = Uint8Array.from({ length: count }, () => Math.floor(rand() * classes));
  const slot = (w: number) => ({ width: w, data: Float32Array.from({ length: count * w }, (_, i) => value(Math.floor(i / w), i % w, rand)) });
  const names = widths.map((_, k) => (k === widths.length - 1 ? 'logits' : `layers.${k}.post`));
  const offsets: number[] = [];
  for (let r = 0; r < count; r += batch) offsets.push(r);
  offsets.push(count);
  return {
    epoch: 2, count, labels, indices: Uint32Array.from(labels.keys()),
    acts: Object.fromEntries(names.map((n, k) => [n, slot(widths[k])])),
    grads: Object.fromEntries(names.map((n, k) => [n, slot(widths[k])])),
    batchOffsets: Uint32Array.from(offsets),
  };
}

function same(r: EpochRecord, opts: EpochStatsOptions, label: string): void {
  const expected = JSON.stringify(referenceEpochStats(r, opts));
  assert.is(JSON.stringify(computeEpochStats(r, opts)), expected, label);
}

const relu = (x: number) => (x > 0 ? x : 0);
const gauss = (rand: () => number) => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());

for (const kind of kinds) {
  const t = suite(`epoch stats (${kind}): the specialised loops equal the reference, byte for byte`);
  t.before(async () => {
    assert.is(await loadEpochStatsKernels(kind), kind);
  });

  t(`${kind}: one row; widths 1, 63, 64, 65; batches with a short last one; first batch longer than the epoch`, () => {
    same(record(1, [3, 2], 10, 64, (_r, _j, rand) => rand() - 0.5), { classes: 10, firstBatch: 64 }, 'one row');
    for (const w of [1, 63, 64, 65]) {
      same(record(300, [w, 10], 10, 64, (_r, _j, rand) => relu(gauss(rand))), { classes: 10, firstBatch: 64 }, `width ${w}, ReLU values`);
      same(record(300, [w, 10], 10, 64, (_r, _j, rand) => gauss(rand) * 1e-3), { classes: 10, firstBatch: 64, bins: 7 }, `width ${w}, gradients, 7 bins`);
    }
    same(record(131, [5], 3, 64, (_r, _j, rand) => gauss(rand)), { classes: 3, firstBatch: 64 }, '131 rows in batches of 64');
    same(record(50, [5], 3, 64, (_r, _j, rand) => gauss(rand)), { classes: 3, firstBatch: 64 }, 'first batch of 64 in a 50-row epoch');
  });

  t(`${kind}: absent classes, equal values, NaN, ±Infinity, −0, subnormals`, () => {
    same(record(200, [8, 4], 3, 64, (_r, _j, rand) => gauss(rand)), { classes: 10 }, 'classes 3..9 absent');
    same(record(200, [8], 10, 64, () => 0.25), { classes: 10, firstBatch: 64 }, 'every value equal');
    same(record(200, [8], 10, 64, (_r, j, rand) => (j === 3 ? 1 : gauss(rand))), { classes: 10 }, 'one constant column');
    const special = [NaN, Infinity, -Infinity, -0, 0, 1e-45, -1e-45, 3.4e38, -3.4e38];
    same(record(200, [9, 3], 10, 64, (r, j, rand) => (rand() < 0.05 ? special[(r + j) % special.length] : gauss(rand))), { classes: 10, firstBatch: 64 }, 'specials among normal values');
    same(record(200, [9], 10, 64, (r, j, rand) => (rand() < 0.05 ? [NaN, -0][(r + j) % 2] : relu(gauss(rand)))), { classes: 10, firstBatch: 64 }, 'NaN and −0 among ReLU values (finite range)');
    same(record(120, [4], 10, 64, (r, j) => (j === 1 ? NaN : r * 0.5 - 20)), { classes: 10 }, 'a column of NaN');
  });

  t(`${kind}: labels as a plain array and as an Int32Array give the same file`, () => {
    const r = record(150, [6, 3], 10, 64, (_r, _j, rand) => gauss(rand));
    const opts = { classes: 10, firstBatch: 64 };
    const expected = JSON.stringify(referenceEpochStats(r, opts));
    assert.is(JSON.stringify(computeEpochStats({ ...r, labels: Array.from(r.labels) as unknown as Uint8Array }, opts)), expected, 'plain array');
    assert.is(JSON.stringify(computeEpochStats({ ...r, labels: Int32Array.from(r.labels) as unknown as Uint8Array }, opts)), expected, 'Int32Array');
  });

  t(`${kind}: widths 2..9 (vectors of 4 and a tail), 1 bin, one class only, no batch offsets, a large epoch between small ones`, () => {
    for (let w = 2; w <= 9; w++) same(record(97, [w, 1], 10, 32, (_r, _j, rand) => gauss(rand)), { classes: 10, firstBatch: 64 }, `width ${w}`);
    same(record(200, [7, 3], 10, 64, (_r, _j, rand) => relu(gauss(rand))), { classes: 10, bins: 1 }, 'one bin');
    same(record(100, [6], 1, 64, (_r, _j, rand) => gauss(rand)), { classes: 10, firstBatch: 64 }, 'class 0 only');
    const { batchOffsets: _o, ...noOffsets } = record(130, [5, 2], 10, 64, (_r, _j, rand) => gauss(rand));
    same(noOffsets as EpochRecord, { classes: 10 }, 'no batch offsets');
    same(record(0, [4], 10, 64, () => 1), { classes: 10 }, 'no rows');
    same(record(40, [3], 10, 64, (_r, _j, rand) => gauss(rand)), { classes: 10 }, 'small');
    same(record(6000, [33, 10], 10, 64, (_r, _j, rand) => relu(gauss(rand))), { classes: 10, firstBatch: 64 }, 'large');
    same(record(40, [3], 10, 64, (_r, _j, rand) => gauss(rand), 7), { classes: 10 }, 'small again');
  });

  t(`${kind}: a recorded epoch of the reference model (2000 samples, a short last batch)`, async () => {
    const mnist = await loadMnist();
    const head = (s: Split, n: number): Split => ({ ...s, count: n, images: s.images.subarray(0, n * 784), labels: s.labels.subarray(0, n) });
    const data: Mnist = { ...mnist, train: head(mnist.train, 2000), test: head(mnist.test, 10) };
    const rng = createRng('torch', 0);
    const model = Mlp.init([784, 32, 16, 10], rng);
    const seen: string[] = [];
    await train(model, data, rng, { epochs: 2, batch: 64, lr: 0.05, momentum: 0.9, record: true }, {
      onEpoch: (_m, r) => {
        const opts = { classes: 10, firstBatch: 64 };
        assert.is(JSON.stringify(computeEpochStats(r!, opts)), JSON.stringify(referenceEpochStats(r!, opts)), `epoch ${r!.epoch}`);
        seen.push(`epoch ${r!.epoch}`);
      },
    });
    assert.equal(seen, ['epoch 0', 'epoch 1']);
  });

  t.run();
}
