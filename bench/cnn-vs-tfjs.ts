// Benchmark: the reference CNN's training step against TensorFlow.js's WebGPU backend on the same adapter,
// in one run: tfjs-webgpu 4.22 in a child process (two Dawn instances in one Node process abort on
// llvmpipe, docs/kernels.md), then ours in this one. Same model (mlp/arch.ts's REFERENCE_CNN: conv 1→8 5×5,
// relu, pool 2, conv 8→16 5×5, relu, pool 2, flatten, linear 256→32, relu, linear 32→10) from the same
// initial weights, batch 64, SGD lr 0.01, the same sample order. tfjs trains as its users write it: NHWC
// maps, tf.fused.conv2d / tf.fused.matMul with their bias (tf.layers' path; relu apart, as tfjs's fused
// ops take gradients only with a linear activation), tf.maxPool, a batch tensor uploaded per step,
// optimizer.minimize; linear1's rows are permuted once so its NHWC flatten meets the same weights as our
// NCHW one. Ours trains as the CLI does (the generic autograd step, the finiteness check on, recording
// off here; evaluation left out on both sides). Warm: one untimed round first on each side. Prints ms/step,
// the epoch it implies (938 steps), the mean training loss of the timed steps on both sides (they should
// agree to a few digits: same weights, same batches) and the ratio.
//   node bench/cnn-vs-tfjs.js [--steps 100] [--rounds 2] [--ours-only] [--loops]
//   deno run -A bench/cnn-vs-tfjs.ts --steps 100     (tfjs on Deno's navigator.gpu, lavapipe here)
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { pathToFileURL } from 'node:url';
import { acquireDevice } from '../engine/device.ts';
import { dispose } from '../engine/memory.ts';
import { createRng, type Rng } from '../engine/rng.ts';
import { createWebGpuBackend } from '../engine/webgpu.ts';
import { parseArch, REFERENCE_CNN, type LayerSpec } from '../mlp/arch.ts';
import { gatherBatch } from '../mlp/batch.ts';
import { Cnn } from '../mlp/cnn.ts';
import { type Mnist } from '../mlp/mnist.ts';
import { train } from '../mlp/train.ts';
import { loadMnist } from '../run/mnist-files.ts';
import { benchArgs, int } from '../cli/args.ts';
import { peerDevice } from './kernels-run.ts';

const g = globalThis as { Deno?: { execPath(): string } };
const o = benchArgs('bench/cnn-vs-tfjs.js', 'The reference CNN\'s training step: tfjs-webgpu 4.22 vs mlp-lens (generic step) on the same adapter.', {
  steps: { type: 'string', arg: 'N', default: '100', help: 'steps per round' },
  rounds: { type: 'string', arg: 'R', default: '2', help: 'measured rounds (after one untimed warm-up round)' },
  'tfjs-only': { type: 'boolean', help: 'internal: the child process that runs tfjs and prints one RESULT line' },
  'ours-only': { type: 'boolean', help: 'run only our side (no child process)' },
  loops: { type: 'boolean', help: 'ours with the first conv and pooling-gradient kernels (variant \'loops\') instead of the \'v4\' ones: the before of docs/performance.md' },
}, (o) => ({ steps: int('steps', o.steps), rounds: int('rounds', o.rounds), tfjsOnly: !!o['tfjs-only'], oursOnly: !!o['ours-only'], loops: !!o.loops }));
const { steps, rounds } = o;
const SEED = 31416, BATCH = 64, LR = 0.01, EPOCH_STEPS = 938, IMAGE = [1, 28, 28] as const, CLASSES = 10;
const SPEC = (parseArch(REFERENCE_CNN) as { layers: LayerSpec[] }).layers;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** the reference CNN's initial weights and the first epoch's order, as our CLI draws them */
async function start(): Promise<{ data: Mnist; layers: { W: Float32Array; b: Float32Array }[]; order: Uint32Array }> {
  const data = await loadMnist();
  const rng = createRng('torch', SEED);
  const layers = await Cnn.init(SPEC, IMAGE, CLASSES, rng).export();
  return { data, layers, order: rng.epochPermutation(data.train.count) };
}

/** tfjs-core's main build registers no gradients: its ESM build's module that does, packed by esbuild (as bench/vs-tfjs.ts) */
function gradientsModule(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mlp-lens-tfjs-'));
  const out = join(dir, 'gradients.mjs');
  const r = spawnSync('node_modules/.bin/esbuild', ['node_modules/@tensorflow/tfjs-core/dist/register_all_gradients.js',
    '--bundle', '--format=esm', '--platform=neutral', '--external:@tensorflow/tfjs-core', `--outfile=${out}`, '--log-level=error'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`esbuild could not pack tfjs's gradients: ${r.stderr || r.error}`);
  return pathToFileURL(out).href;
}

/** conv weight [O, C, KH, KW] (PyTorch) → tfjs filter [KH, KW, C, O] */
function filterHwio(w: Float32Array, O: number, C: number, K: number): Float32Array {
  const f = new Float32Array(w.length);
  for (let o = 0; o < O; o++) for (let c = 0; c < C; c++) for (let a = 0; a < K; a++) for (let e = 0; e < K; e++) {
    f[((a * K + e) * C + c) * O + o] = w[((o * C + c) * K + a) * K + e];
  }
  return f;
}

/** linear weight [C·H·W (NCHW flatten), d] → [H·W·C (NHWC flatten), d] */
function rowsNhwc(w: Float32Array, C: number, H: number, W: number, d: number): Float32Array {
  const f = new Float32Array(w.length);
  for (let c = 0; c < C; c++) for (let h = 0; h < H; h++) for (let v = 0; v < W; v++) {
    f.set(w.subarray(((c * H + h) * W + v) * d, ((c * H + h) * W + v + 1) * d), ((h * W + v) * C + c) * d);
  }
  return f;
}

/** tfjs: ms/step over `rounds` runs of `steps` steps (after one untimed round) and the timed steps' mean loss */
async function tfjsSteps(): Promise<{ ms: number[]; loss: number[]; adapter: string }> {
  const { data, layers, order } = await start();
  // Node: a device on the adapter ours uses (Dawn, GL, compatibility); Deno: tfjs's own navigator.gpu
  const device = g.Deno ? null : await peerDevice('default');
  const tf: any = await import('@tensorflow/tfjs-core');
  await import(gradientsModule());
  const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu') as any;
  if (device) {
    if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
    tf.registerBackend('webgpu', () => new WebGPUBackend(device, (device as any).adapterInfo));
  }
  if (!(await tf.setBackend('webgpu'))) throw new Error('tfjs: setBackend(webgpu) failed');
  await tf.ready();
  const [c1, c2, l1, out] = layers;
  const vars = [
    tf.variable(tf.tensor4d(filterHwio(c1.W, 8, 1, 5), [5, 5, 1, 8])), tf.variable(tf.tensor1d(c1.b)),
    tf.variable(tf.tensor4d(filterHwio(c2.W, 16, 8, 5), [5, 5, 8, 16])), tf.variable(tf.tensor1d(c2.b)),
    tf.variable(tf.tensor2d(rowsNhwc(l1.W, 16, 4, 4, 32), [256, 32])), tf.variable(tf.tensor1d(l1.b)),
    tf.variable(tf.tensor2d(out.W, [32, 10])), tf.variable(tf.tensor1d(out.b)),
  ];
  const opt = tf.train.sgd(LR);
  const x = new Float32Array(BATCH * 784), y = new Float32Array(BATCH);
  let lossSum: any = tf.keep(tf.scalar(0));
  const step = (s: number) => {
    gatherBatch(data.train, order, (s % Math.floor(order.length / BATCH)) * BATCH, BATCH, x, y);
    const next = tf.tidy(() => {
      const xs = tf.tensor4d(x, [BATCH, 28, 28, 1]);
      const ys = tf.oneHot(tf.tensor1d(Int32Array.from(y), 'int32'), CLASSES);
      const loss = opt.minimize(() => {
        let h = tf.relu(tf.fused.conv2d({ x: xs, filter: vars[0], strides: 1, pad: 'valid', bias: vars[1] }));
        h = tf.maxPool(h, 2, 2, 'valid');
        h = tf.relu(tf.fused.conv2d({ x: h, filter: vars[2], strides: 1, pad: 'valid', bias: vars[3] }));
        h = tf.maxPool(h, 2, 2, 'valid');
        h = tf.reshape(h, [BATCH, 256]);
        h = tf.relu(tf.fused.matMul({ a: h, b: vars[4], bias: vars[5] }));
        h = tf.fused.matMul({ a: h, b: vars[6], bias: vars[7] });
        return tf.losses.softmaxCrossEntropy(ys, h);
      }, true);
      return tf.add(lossSum, loss); // the loss stays on the device: no read-back inside a round
    });
    lossSum.dispose();
    lossSum = next;
  };
  const initial = vars.map((v: any) => tf.keep(v.clone()));
  const round = async (first: number) => {
    // every round from the initial weights, as ours starts each from a fresh model
    vars.forEach((v: any, k: number) => v.assign(initial[k]));
    lossSum.dispose();
    lossSum = tf.keep(tf.scalar(0));
    const t0 = performance.now();
    for (let s = 0; s < steps; s++) step(first + s);
    const loss = (await lossSum.data())[0] / steps; // the one wait: the queue drains behind it
    return { ms: (performance.now() - t0) / steps, loss };
  };
  await round(0); // warm-up: pipelines compiled, buffers pooled
  const ms: number[] = [], loss: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const got = await round(steps * (r + 1));
    ms.push(got.ms);
    loss.push(got.loss);
  }
  return { ms, loss, adapter: tf.backend().adapterInfo?.description ?? tf.backend().adapterInfo?.device ?? '' };
}

/**
 * ours: ms/step of the generic step over `rounds` runs of `steps` steps (after one untimed run), each a
 * fresh model from the same weights training the same steps the same round of tfjs trains; the timed
 * steps' mean loss. train() here includes one small per-epoch set-up (the order's upload, the tiny
 * evaluation of one image), less than 1 % of a round.
 */
async function oursSteps(): Promise<{ ms: number[]; loss: number[]; adapter: string }> {
  const { data, layers, order } = await start();
  const got = await acquireDevice({ mode: 'webgpu' });
  if (!got) throw new Error('no WebGPU adapter');
  const backend = createWebGpuBackend(got.device, o.loops ? { variants: { conv2d: 'loops', conv2dInputGrad: 'loops', conv2dWeightGrad: 'loops', maxPool2dGrad: 'loops' } } : {});
  const tiny = { ...data, test: { ...data.test, count: 1, images: data.test.images.subarray(0, 784), labels: data.test.labels.subarray(0, 1) } };
  const params = layers.map((l, k) => ({ ...l, dIn: 0, dOut: l.b.length, ...(k < 2 ? { shape: k === 0 ? [8, 1, 5, 5] : [16, 8, 5, 5] } : {}) }));
  const round = async (first: number) => {
    const model = Cnn.fromParams(SPEC, IMAGE, CLASSES, params, backend);
    // the round's steps are the epoch order's rows [first·64, (first + steps)·64): the same batches tfjs trains
    const shifted = Uint32Array.from({ length: data.train.count }, (_, i) => order[(i + (first % Math.floor(order.length / BATCH)) * BATCH) % order.length]);
    const rng: Rng = Object.assign(Object.create(createRng('torch', SEED)), { epochPermutation: () => shifted });
    const t0 = performance.now();
    const [m] = await train(model, tiny, rng, { epochs: 1, batch: BATCH, lr: LR, steps, record: false });
    const ms = (performance.now() - t0) / steps;
    dispose(...model.params().map((p) => p.tensor));
    return { ms, loss: m.trainLoss };
  };
  await round(0);
  const out = { ms: [] as number[], loss: [] as number[], adapter: `${got.info.description || got.info.device} (${got.info.backend}, ${got.info.runtime})` };
  for (let r = 0; r < rounds; r++) {
    const x = await round(steps * (r + 1));
    out.ms.push(x.ms);
    out.loss.push(x.loss);
  }
  return out;
}

if (o.tfjsOnly) {
  // the child: one JSON line
  const r = await tfjsSteps().catch((e: Error) => ({ error: e.message.split('\n')[0] }));
  console.log(`RESULT ${JSON.stringify(r)}`);
  process.exit(0);
}

// the parent: tfjs in a child process first, then ours here
let tfjs: { ms: number[]; loss: number[]; adapter: string } | { error: string } = { error: 'not run (--ours-only)' };
if (!o.oursOnly) {
  const args = ['--tfjs-only', '--steps', String(steps), '--rounds', String(rounds)];
  const child = g.Deno
    ? spawnSync(g.Deno.execPath(), ['run', '-A', 'bench/cnn-vs-tfjs.ts', ...args], { encoding: 'utf8' })
    : spawnSync(process.execPath, ['--import', './bench/node-ts.mjs', 'bench/cnn-vs-tfjs.ts', ...args], { encoding: 'utf8' });
  const line = `${child.stdout}`.split('\n').find((l) => l.startsWith('RESULT '));
  tfjs = line ? JSON.parse(line.slice(7)) : { error: `child failed: ${`${child.stderr}`.split('\n').filter(Boolean).slice(-2).join(' | ')}` };
}
const ours = await oursSteps();
const epoch = (ms: number) => `${((ms * EPOCH_STEPS) / 1000).toFixed(1)} s/epoch`;
const list = (xs: number[], d = 2) => xs.map((x) => x.toFixed(d)).join(', ');
console.log(`${ours.adapter}: reference CNN, ${steps} steps × ${rounds} rounds (after a warm-up round), batch ${BATCH}, recording off, evaluation left out`);
const m = median(ours.ms);
console.log(`  mlp-lens generic${o.loops ? ' (\'loops\' kernels)' : ''}  ${m.toFixed(2)} ms/step (${epoch(m)}); rounds ${list(ours.ms)}; mean loss ${list(ours.loss, 4)}`);
if ('error' in tfjs) console.log(`  tfjs-webgpu: did not run (${tfjs.error})`);
else {
  const t = median(tfjs.ms);
  console.log(`  tfjs-webgpu 4.22  ${t.toFixed(2)} ms/step (${epoch(t)}); rounds ${list(tfjs.ms)}; mean loss ${list(tfjs.loss, 4)}`);
  console.log(`  ours ${t >= m ? `× ${(t / m).toFixed(2)} faster` : `× ${(m / t).toFixed(2)} slower`} than tfjs-webgpu`);
}
process.exit(0);
