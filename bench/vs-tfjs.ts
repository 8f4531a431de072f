// Benchmark: the reference training step against TensorFlow.js's WebGPU backend on the same adapter, in
// one run: tfjs-webgpu 4.22 in a child process (two Dawn instances in one Node process abort on
// llvmpipe, docs/kernels.md), then ours, fused and generic, in this one. Same model (784-32-16-10 from
// the same initial weights), batch 64, SGD lr 0.01, the same sample order; tfjs trains as its users
// write it (a batch tensor uploaded per step, optimizer.minimize), ours as the CLI does (recording off
// here; evaluation left out on both sides). Prints ms/step, the epoch it implies (938 steps) and ratios.
//   node --import ./bench/node-ts.mjs bench/vs-tfjs.ts [--steps 200] [--rounds 2]
//   deno run -A bench/vs-tfjs.ts --steps 200      (tfjs on Deno's navigator.gpu, lavapipe here)
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { pathToFileURL } from 'node:url';
import { acquireDevice } from '../engine/device.ts';
import { createRng } from '../engine/rng.ts';
import { createWebGpuBackend } from '../engine/webgpu.ts';
import { gatherBatch } from '../mlp/batch.ts';
import { loadMnist } from '../run/mnist-files.ts';
import { type Mnist } from '../mlp/mnist.ts';
import { Mlp } from '../mlp/model.ts';
import { train } from '../mlp/train.ts';
import { benchArgs, int } from '../cli/args.ts';
import { peerDevice } from './kernels-run.ts';

const g = globalThis as { Deno?: { execPath(): string } };
const o = benchArgs('bench/vs-tfjs.ts', 'The reference training step: tfjs-webgpu 4.22 vs mlp-lens (fused and generic) on the same adapter.', {
  steps: { type: 'string', arg: 'N', default: '200', help: 'steps per round' },
  rounds: { type: 'string', arg: 'R', default: '2', help: 'measured rounds (after one warm-up step)' },
  'tfjs-only': { type: 'boolean', help: 'internal: the child process that runs tfjs and prints one RESULT line' },
}, (o) => ({ steps: int('steps', o.steps), rounds: int('rounds', o.rounds), tfjsOnly: !!o['tfjs-only'] }));
const { steps, rounds } = o;
const SEED = 31416, SIZES = [784, 32, 16, 10], BATCH = 64, LR = 0.01, EPOCH_STEPS = 938;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** the reference model's initial weights and the first epoch's order, as our CLI draws them */
async function start(): Promise<{ data: Mnist; layers: { W: Float32Array; b: Float32Array }[]; order: Uint32Array }> {
  const data = await loadMnist();
  const rng = createRng('torch', SEED);
  const layers = await Mlp.init(SIZES, rng).export();
  return { data, layers, order: rng.epochPermutation(data.train.count) };
}

/**
 * tfjs-core's main build registers no gradients (the full tfjs package does); its ESM build has a module
 * that does, but imports its own files without extensions, which neither Node nor Deno resolve. esbuild
 * (the project's bundler, a native binary) packs it into one file; the gradients land in tfjs's global
 * registry and its ops run on tfjs's global engine, both shared with the main build. Returns its URL.
 */
function gradientsModule(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mlp-lens-tfjs-'));
  const out = join(dir, 'gradients.mjs');
  const r = spawnSync('node_modules/.bin/esbuild', ['node_modules/@tensorflow/tfjs-core/dist/register_all_gradients.js',
    '--bundle', '--format=esm', '--platform=neutral', '--external:@tensorflow/tfjs-core', `--outfile=${out}`, '--log-level=error'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`esbuild could not pack tfjs's gradients: ${r.stderr || r.error}`);
  return pathToFileURL(out).href;
}

/** tfjs: ms/step over `rounds` runs of `steps` steps, and the last loss */
async function tfjsSteps(): Promise<{ ms: number[]; loss: number; adapter: string }> {
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
  const vars = layers.flatMap((l, k) => [
    tf.variable(tf.tensor2d(l.W, [SIZES[k], SIZES[k + 1]])), tf.variable(tf.tensor1d(l.b)),
  ]);
  const opt = tf.train.sgd(LR);
  const x = new Float32Array(BATCH * 784), y = new Float32Array(BATCH);
  let lastLoss: any = null;
  const step = (s: number) => {
    gatherBatch(data.train, order, s * BATCH, BATCH, x, y);
    lastLoss?.dispose();
    lastLoss = tf.tidy(() => {
      const xs = tf.tensor2d(x, [BATCH, 784]);
      const ys = tf.oneHot(tf.tensor1d(Int32Array.from(y), 'int32'), 10);
      return opt.minimize(() => {
        let h = xs;
        for (let k = 0; k < SIZES.length - 1; k++) {
          h = tf.add(tf.matMul(h, vars[2 * k]), vars[2 * k + 1]);
          if (k < SIZES.length - 2) h = tf.relu(h);
        }
        return tf.losses.softmaxCrossEntropy(ys, h);
      }, true);
    });
  };
  step(0);
  await lastLoss.data();
  const ms: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (let s = 0; s < steps; s++) step(s);
    const loss = (await lastLoss.data())[0]; // the one wait: the queue drains behind it
    ms.push((performance.now() - t0) / steps);
    if (r === rounds - 1) return { ms, loss, adapter: tf.backend().adapterInfo?.description ?? tf.backend().adapterInfo?.device ?? '' };
  }
  throw new Error('unreachable');
}

/** ours: ms/step fused and generic, interleaved */
async function oursSteps(): Promise<{ fused: number[]; generic: number[]; adapter: string }> {
  const { data } = await start();
  const got = await acquireDevice({ mode: 'webgpu' });
  if (!got) throw new Error('no WebGPU adapter');
  const backend = createWebGpuBackend(got.device);
  const tiny = { ...data, test: { ...data.test, count: 1, images: data.test.images.subarray(0, 784), labels: data.test.labels.subarray(0, 1) } };
  const once = async (fused: boolean) => {
    const rng = createRng('torch', SEED);
    const model = Mlp.init(SIZES, rng, backend);
    const t0 = performance.now();
    await train(model, tiny, rng, { epochs: 1, batch: BATCH, lr: LR, steps, record: false, fused });
    return (performance.now() - t0) / steps;
  };
  await once(true);
  await once(false);
  const out = { fused: [] as number[], generic: [] as number[], adapter: `${got.info.description || got.info.device} (${got.info.backend}, ${got.info.runtime})` };
  for (let r = 0; r < rounds; r++) {
    out.fused.push(await once(true));
    out.generic.push(await once(false));
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
const child = g.Deno
  ? spawnSync(g.Deno.execPath(), ['run', '-A', 'bench/vs-tfjs.ts', '--tfjs-only', '--steps', String(steps), '--rounds', String(rounds)], { encoding: 'utf8' })
  : spawnSync(process.execPath, ['--import', './bench/node-ts.mjs', 'bench/vs-tfjs.ts', '--tfjs-only', '--steps', String(steps), '--rounds', String(rounds)], { encoding: 'utf8' });
const line = `${child.stdout}`.split('\n').find((l) => l.startsWith('RESULT '));
const tfjs = line ? JSON.parse(line.slice(7)) : { error: `child failed: ${`${child.stderr}`.split('\n').filter(Boolean).slice(-2).join(' | ')}` };
const ours = await oursSteps();
const epoch = (ms: number) => `${((ms * EPOCH_STEPS) / 1000).toFixed(2)} s/epoch`;
console.log(`${ours.adapter}: ${steps} steps × ${rounds} rounds, batch ${BATCH}, recording off, evaluation left out`);
const [f, gn] = [median(ours.fused), median(ours.generic)];
console.log(`  mlp-lens fused   ${f.toFixed(2)} ms/step (${epoch(f)}); rounds ${ours.fused.map((x) => x.toFixed(2)).join(', ')}`);
console.log(`  mlp-lens generic ${gn.toFixed(2)} ms/step (${epoch(gn)}); rounds ${ours.generic.map((x) => x.toFixed(2)).join(', ')}`);
if ('error' in tfjs) console.log(`  tfjs-webgpu: did not run (${tfjs.error})`);
else {
  const t = median(tfjs.ms);
  console.log(`  tfjs-webgpu 4.22 ${t.toFixed(2)} ms/step (${epoch(t)}); rounds ${tfjs.ms.map((x: number) => x.toFixed(2)).join(', ')}; last loss ${tfjs.loss}`);
  console.log(`  fused × ${(t / f).toFixed(2)} faster than tfjs; generic × ${(t / gn).toFixed(2)}`);
}
process.exit(0);
