// hostile safetensors headers, by class: what a file can claim (a layer number, a count of names, a
// shape, a header length, a nesting depth) must never be what we allocate or loop over. Each case is
// decoded in a process of its own (test/helpers/decode-case.ts) as --init / --analyze / the page's
// upload read a model, or as --resume reads a checkpoint, and must end in one short line of InputError
// naming the file, within a memory ceiling and a time bound. Before the fix, a 92-byte file naming
// `linear999999999999.weight` ran 73 s and grew to 4.9 GB before V8 aborted. Also: non-finite weights
// are an input error, the hidden-layer limit (MAX_HIDDEN_LAYERS) is the same for writers and readers,
// and the command line exits 2 with one line for such files.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { checksum, decodeCheckpoint, encodeCheckpoint, type Checkpoint } from '../../mlp/checkpoint.ts';
import { InputError } from '../../mlp/errors.ts';
import { encodeSafetensors, MAX_HEADER_DEPTH, type TensorInput } from '../../mlp/safetensors.ts';
import {
  decodeModel, encodeModel, encodeModelWithNorm, MAX_HIDDEN_LAYERS, MAX_MODEL_TENSORS, torchStateDict, type LayerParams,
} from '../../mlp/weights.ts';
import type { CaseOutcome } from '../helpers/decode-case.ts';

/** the most a case's process may reach, Node and the TypeScript loader included (they take ~60–90 MB) */
const MAX_RSS_MB = 200;
/** a bound on the decoding alone, generous for a slow CI machine: not a benchmark */
const MAX_MS = 10_000;
/** the longest message we accept: one short line */
const MAX_MESSAGE = 300;

// FUZZ_HEADERS_REPORT=DIR keeps the cases' files in DIR and prints each case's measurements and message
const report = process.env.FUZZ_HEADERS_REPORT;
const tmp = report ? (mkdirSync(report, { recursive: true }), report) : mkdtempSync(join(tmpdir(), 'mlp-lens-fuzz-headers-'));

/** safetensors bytes from a header object (or its text) and a data buffer, written as the format says */
function rawFile(header: object | string, data = new Uint8Array(0)): Uint8Array {
  let json = typeof header === 'string' ? header : JSON.stringify(header);
  while (json.length % 8) json += ' ';
  const text = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + text.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
  out.set(text, 8);
  out.set(data, 8 + text.length);
  return out;
}

/** a chained model of the given sizes with small, exactly representable, distinct weights */
function layersOf(sizes: readonly number[]): LayerParams[] {
  return sizes.slice(1).map((dOut, k) => {
    const dIn = sizes[k];
    return { dIn, dOut, W: Float32Array.from({ length: dIn * dOut }, (_, i) => ((i % 7) - 3) / 8), b: new Float32Array(dOut).fill(k / 4) };
  });
}

const f32 = (shape: number[], fill = 0.5): TensorInput => ({ dtype: 'F32', shape, data: new Float32Array(shape.reduce((a, d) => a * d, 1)).fill(fill) });

/** decodes `bytes` as `kind` in a child process; returns what it reports */
function runCase(name: string, kind: 'model' | 'checkpoint' | 'safetensors', bytes: Uint8Array): CaseOutcome {
  const path = join(tmp, `${name}.safetensors`);
  writeFileSync(path, bytes);
  const r = spawnSync(process.execPath, ['--import', './bench/node-ts.mjs', 'test/helpers/decode-case.ts', kind, path], {
    encoding: 'utf8', timeout: 60_000, maxBuffer: 256 * 2 ** 20,
  });
  assert.is(r.status, 0, `${name}: the case's process failed (status ${r.status}, signal ${r.signal}): ${r.stderr.slice(-500)}`);
  return { ...JSON.parse(r.stdout) as CaseOutcome, file: path };
}

/** the case is refused with one short line of InputError naming the file, within the memory and time bounds */
function expectRefused(name: string, kind: 'model' | 'checkpoint' | 'safetensors', bytes: Uint8Array, pattern: RegExp): void {
  const o = runCase(name, kind, bytes);
  const path = o.file!;
  if (report) console.log(`| ${name} | ${o.maxRssMB.toFixed(0)} MB | ${o.ms.toFixed(0)} ms | ${o.message?.slice(path.length + 2)} |`);
  assert.not.ok(o.ok, `${name}: was accepted`);
  assert.is(o.error, 'InputError', `${name}: ${o.error}: ${o.message?.slice(0, 300)}`);
  const message = o.message!;
  assert.ok(message.startsWith(`${path}: `), `${name}: names the file: ${message.slice(0, 200)}`);
  assert.not.match(message, /[\r\n]/, `${name}: one line`);
  const problem = message.slice(path.length + 2);
  assert.ok(problem.length <= MAX_MESSAGE, `${name}: ${problem.length} characters: ${problem.slice(0, 400)}`);
  assert.match(problem, pattern, name);
  assert.ok(o.maxRssMB < MAX_RSS_MB, `${name}: peak memory ${o.maxRssMB.toFixed(0)} MB ≥ ${MAX_RSS_MB} MB`);
  assert.ok(o.ms < MAX_MS, `${name}: took ${o.ms.toFixed(0)} ms`);
}

/** in-process: an InputError of one short line matching `pattern` */
function expectInputError(f: () => unknown, pattern: RegExp, what: string): void {
  try {
    f();
  } catch (e) {
    assert.instance(e, InputError, `${what}: ${String(e).slice(0, 300)}`);
    const problem = (e as InputError).problem;
    assert.not.match(problem, /[\r\n]/, what);
    assert.ok(problem.length <= MAX_MESSAGE, `${what}: ${problem.length} characters`);
    assert.match(problem, pattern, what);
    return;
  }
  assert.unreachable(`${what}: was accepted`);
}

// --- layer numbers and counts

const layerNames = suite('hostile headers: layer numbers and counts');

layerNames('a lone linear999999999999.weight is missing layers, counted, not listed', () => {
  const bytes = rawFile({ 'linear999999999999.weight': { dtype: 'F32', shape: [1, 1], data_offsets: [0, 4] } }, new Uint8Array(4));
  expectRefused('huge-index', 'model', bytes,
    /missing linear1\.weight, linear1\.bias, linear2\.weight, linear2\.bias … and 1999999999995 more \(the file names 'linear999999999999' but holds 1 hidden layer\)/);
});

layerNames('linear99999999.weight beside a real model', () => {
  const tensors = { ...torchStateDict(layersOf([784, 32, 16, 10])), 'linear99999999.weight': f32([1, 1]) } as Record<string, TensorInput>;
  expectRefused('huge-index-beside-model', 'model', encodeSafetensors(tensors), /missing linear3\.weight, linear3\.bias, linear4\.weight, linear4\.bias … and \d+ more \(the file names 'linear99999999' but holds 3 hidden layers\)/);
});

layerNames('linear1000000.weight: a short line, not 40 MB of names', () => {
  const bytes = rawFile({ 'linear1000000.weight': { dtype: 'F32', shape: [1, 1], data_offsets: [0, 4] } }, new Uint8Array(4));
  expectRefused('million-index', 'model', bytes, /… and 1999997 more/);
});

layerNames('a layer number of 500 000 digits is quoted cut in the middle', () => {
  const name = `linear${'9'.repeat(500_000)}.weight`;
  const bytes = rawFile({ [name]: { dtype: 'F32', shape: [1, 1], data_offsets: [0, 4] } }, new Uint8Array(4));
  expectRefused('long-index', 'model', bytes, /… and more \(the file names 'linear9+…9+' but holds 1 hidden layer\)/);
});

layerNames('normalisation names past the model (ln999999999999, bn + 400 000 digits)', () => {
  const base = torchStateDict(layersOf([6, 4, 3])) as Record<string, TensorInput>;
  expectRefused('huge-ln', 'model', encodeSafetensors({ ...base, 'ln999999999999.weight': f32([4]), 'ln999999999999.bias': f32([4]) }),
    /'ln999999999999' normalises hidden layer 999999999999, but the model has 1 hidden layer$/);
  expectRefused('long-bn', 'model', encodeSafetensors({ ...base, [`bn${'7'.repeat(400_000)}.weight`]: f32([4]) }),
    /normalises hidden layer 7+…7+, but the model has 1 hidden layer$/);
});

layerNames('more tensors than a model can hold are refused before the header is parsed', () => {
  const many: Record<string, TensorInput> = {};
  for (let k = 1; k <= 400; k++) { many[`linear${k}.weight`] = f32([1, 1]); many[`linear${k}.bias`] = f32([1]); }
  expectRefused('many-layer-names', 'model', encodeSafetensors(many), new RegExp(`more than ${MAX_MODEL_TENSORS} tensors`));
});

layerNames('a chain of 200 hidden layers (within the tensor count) is past MAX_HIDDEN_LAYERS', () => {
  // by hand: torchStateDict refuses to make more than the limit
  const tensors: Record<string, TensorInput> = { 'output.weight': f32([1, 1]), 'output.bias': f32([1]) };
  for (let k = 1; k < 200; k++) { tensors[`linear${k}.weight`] = f32([1, 1]); tensors[`linear${k}.bias`] = f32([1]); }
  expectRefused('deep-chain', 'model', encodeSafetensors(tensors), new RegExp(`holds 199 hidden layers; mlp-lens takes at most ${MAX_HIDDEN_LAYERS}`));
});

layerNames('thousands of unexpected names are listed as the first few and a count', () => {
  const tensors: Record<string, TensorInput> = {};
  for (let k = 0; k < 300; k++) tensors[`encoder.block${k}.attn.weight`] = f32([1]);
  expectRefused('unexpected-names', 'model', encodeSafetensors(tensors), /unexpected encoder\.block\d+\.attn\.weight, .* … and 296 more/);
});

layerNames('a name with a newline and control characters stays on one line', () => {
  const bytes = rawFile({ 'linear1.weight\nrm -rf /\u0000': { dtype: 'F32', shape: [1, 1], data_offsets: [0, 4] } }, new Uint8Array(4));
  expectRefused('control-name', 'model', bytes, /unexpected linear1\.weight\\u000arm -rf \/\\u0000/);
});

// --- sizes a header claims

const sizes = suite('hostile headers: sizes, counts and nesting');

sizes('a header length of 2^63 - 1 and one beyond the model ceiling', () => {
  const b = rawFile({});
  new DataView(b.buffer).setBigUint64(0, 2n ** 63n - 1n, true);
  expectRefused('huge-header-length', 'model', b, /header length 9223372036854775807 is more than the 1048576 bytes/);
  const c = rawFile({ __metadata__: { pad: 'x'.repeat(2 ** 20) } });
  expectRefused('big-header', 'model', c, /is more than the 1048576 bytes this file may have/);
});

sizes('a shape of 2^40 × 2^40 over 4 bytes, and a shape of 100 000 dimensions', () => {
  expectRefused('huge-shape', 'model', rawFile({ 'output.weight': { dtype: 'F32', shape: [2 ** 40, 2 ** 40], data_offsets: [0, 4] } }, new Uint8Array(4)),
    /shape \[1099511627776,1099511627776\] of F32 needs 4835703278458516698824704 bytes but data_offsets \[0, 4\] span 4/);
  const manyDims = rawFile({ 'output.weight': { dtype: 'F32', shape: Array(100_000).fill(1), data_offsets: [0, 8] } }, new Uint8Array(8));
  // a model's header may not hold that many values; plain safetensors reads on and quotes the shape cut short
  expectRefused('many-dims', 'model', manyDims, /header holds more than 11296 values, more than 450 tensors and their metadata need/);
  expectRefused('many-dims-plain', 'safetensors', manyDims, /shape \[1,1,1,1,1,1,1,1,… \(100000 dimensions\)\] of F32 needs 4 bytes/);
});

sizes('half a megabyte of brackets is refused before JSON.parse builds the chain', () => {
  const deep = `{"a":${'['.repeat(250_000)}${']'.repeat(250_000)}}`;
  expectRefused('deep-nesting', 'model', rawFile(deep), new RegExp(`nests deeper than the ${MAX_HEADER_DEPTH} levels`));
  expectRefused('deep-nesting-checkpoint', 'checkpoint', rawFile(deep), /nests deeper/);
});

sizes('metadata of 200 000 entries in a checkpoint is refused before JSON.parse makes them', () => {
  const md: Record<string, string> = {};
  for (let i = 0; i < 200_000; i++) md[`k${i}`] = '';
  expectRefused('wide-metadata-checkpoint', 'checkpoint', rawFile({ __metadata__: md }), /header holds more than 8272 values/);
});

sizes('a checkpoint naming 100 000 empty tensors is refused before they are made', () => {
  const header: Record<string, object> = {};
  for (let i = 0; i < 100_000; i++) header[`t${i}`] = { dtype: 'U8', shape: [0], data_offsets: [0, 0] };
  expectRefused('many-tensors-checkpoint', 'checkpoint', rawFile(header), /header names more than \d+ tensors/);
});

sizes('plain safetensors: 30 000 empty tensors are read within bounds (their header bytes bound them)', () => {
  // no count ceiling here (the reference has none): memory grows with the header, ~1.2 KB per tensor
  const header: Record<string, object> = {};
  for (let i = 0; i < 30_000; i++) header[`t${i}`] = { dtype: 'U8', shape: [0], data_offsets: [0, 0] };
  const o = runCase('many-tensors-plain', 'safetensors', rawFile(header));
  assert.ok(o.ok, o.message);
  assert.ok(o.maxRssMB < MAX_RSS_MB, `peak memory ${o.maxRssMB.toFixed(0)} MB`);
  assert.ok(o.ms < MAX_MS, `took ${o.ms.toFixed(0)} ms`);
});

sizes('a tensor named __proto__ is a tensor, not the prototype', () => {
  const bytes = rawFile('{"__proto__":{"dtype":"F32","shape":[1,1],"data_offsets":[0,4]}}', new Uint8Array(4));
  expectRefused('proto-name', 'model', bytes, /unexpected __proto__/);
});

// --- non-finite weights

const finite = suite('non-finite weights are input errors');

finite('NaN, Inf and an F64 beyond f32 name the tensor and the element', () => {
  const withValue = (key: string, i: number, v: number) => {
    const t = torchStateDict(layersOf([6, 4, 3])) as Record<string, TensorInput>;
    (t[key].data as Float32Array)[i] = v;
    return encodeSafetensors(t);
  };
  expectInputError(() => decodeModel(withValue('linear1.weight', 7, NaN), 'm'), /^'linear1\.weight' holds NaN at element 7 \(\[1, 1\]\): a model's weights must be finite$/, 'NaN');
  expectInputError(() => decodeModel(withValue('output.bias', 2, -Infinity), 'm'), /'output\.bias' holds -Infinity at element 2/, '-Inf');
  const t = torchStateDict(layersOf([6, 4, 3])) as Record<string, TensorInput>;
  t['linear1.bias'] = { dtype: 'F64', shape: [4], data: Float64Array.of(0, 1e300, 0, 0) };
  expectInputError(() => decodeModel(encodeSafetensors(t), 'm'), /'linear1\.bias' holds Infinity at element 1/, 'F64 overflow');
});

finite('a LayerNorm weight of NaN, in a model file with normalisation', () => {
  const layers = layersOf([6, 4, 3]);
  const bytes = encodeModelWithNorm(layers, [{ kind: 'layernorm', layer: 0, weight: Float32Array.of(1, NaN, 1, 1), bias: new Float32Array(4) }]);
  expectRefused('nan-layernorm', 'model', bytes, /'ln1\.weight' holds NaN at element 1/);
});

finite('a checkpoint with NaN weights, re-signed so only the value is wrong', () => {
  const ck = checkpointOf(layersOf([6, 4, 3]));
  ck.layers[1].W[3] = NaN;
  expectRefused('nan-checkpoint', 'checkpoint', encodeCheckpoint(ck), /tensor 'layers\.1\.W' holds NaN at element 3/);
});

// --- one hidden-layer limit for writers and readers

const limit = suite('MAX_HIDDEN_LAYERS: what is written can be read back');

function checkpointOf(layers: LayerParams[]): Checkpoint {
  const sizes = [layers[0].dIn, ...layers.map((l) => l.dOut)];
  return {
    epoch: 0, layers, velocity: layers.flatMap(() => [null, null]), rng: { kind: 'mlp-lens', state: Uint32Array.of(1, 2, 3, 4) },
    history: [{ epoch: 0, trainLoss: 1, trainAccuracy: 50, testLoss: 1, testAccuracy: 50, samples: 10, steps: 1, seconds: 0.1 }],
    run: { sizes, epochs: 2, batch: 8, lr: 0.1, momentum: 0, weightDecay: 0, seed: 1, rng: 'mlp-lens', shuffle: true, steps: 1, trainCount: 10 },
  };
}

limit(`${MAX_HIDDEN_LAYERS - 1} and ${MAX_HIDDEN_LAYERS} hidden layers round-trip as a model and as a checkpoint`, () => {
  for (const hidden of [MAX_HIDDEN_LAYERS - 1, MAX_HIDDEN_LAYERS]) {
    const layers = layersOf([5, ...Array(hidden).fill(3), 2]);
    const back = decodeModel(encodeModel(layers), 'm').layers;
    assert.is(back.length, hidden + 1);
    assert.equal(back.map((l) => [...l.W]), layers.map((l) => [...l.W]), `${hidden}: model weights`);
    const ck = decodeCheckpoint(encodeCheckpoint(checkpointOf(layers)), 'ck');
    assert.is(ck.layers.length, hidden + 1, `${hidden}: checkpoint`);
    assert.equal(ck.run.sizes.length, hidden + 2);
  }
});

limit(`${MAX_HIDDEN_LAYERS + 1} hidden layers: the writers refuse, and so do the readers of a hand-made file`, () => {
  const layers = layersOf([5, ...Array(MAX_HIDDEN_LAYERS + 1).fill(3), 2]);
  assert.throws(() => encodeModel(layers), new RegExp(`at most ${MAX_HIDDEN_LAYERS} hidden layers, this one has ${MAX_HIDDEN_LAYERS + 1}`));
  assert.throws(() => encodeCheckpoint(checkpointOf(layers)), new RegExp(`at most ${MAX_HIDDEN_LAYERS} hidden layers`));
  // the same files made without the writers' check
  const tensors = torchStateDict(layers.slice(0, 2)) as Record<string, TensorInput>;
  const names = Object.fromEntries(layers.map((l, k) => [k === layers.length - 1 ? 'output' : `linear${k + 1}`, l]));
  for (const [name, l] of Object.entries(names)) {
    tensors[`${name}.weight`] = { dtype: 'F32', shape: [l.dOut, l.dIn], data: new Float32Array(l.dIn * l.dOut) };
    tensors[`${name}.bias`] = { dtype: 'F32', shape: [l.dOut], data: l.b };
  }
  expectInputError(() => decodeModel(encodeSafetensors(tensors), 'm'), new RegExp(`holds ${MAX_HIDDEN_LAYERS + 1} hidden layers; mlp-lens takes at most ${MAX_HIDDEN_LAYERS}`), 'model');
  const ck = checkpointOf(layers);
  const ckTensors: Record<string, TensorInput> = { 'rng.state': { dtype: 'U32', shape: [4], data: ck.rng.state } };
  layers.forEach((l, k) => {
    ckTensors[`layers.${k}.W`] = { dtype: 'F32', shape: [l.dIn, l.dOut], data: l.W };
    ckTensors[`layers.${k}.b`] = { dtype: 'F32', shape: [l.dOut], data: l.b };
  });
  const md: Record<string, string> = {
    format: 'mlp-lens/checkpoint', version: '1', epoch: '0', rng: 'mlp-lens', run: JSON.stringify(ck.run), history: JSON.stringify(ck.history),
  };
  md.crc32 = checksum(md, ckTensors as Record<string, { dtype: string; shape: readonly number[]; data: ArrayBufferView }>);
  expectInputError(() => decodeCheckpoint(encodeSafetensors(ckTensors, md), 'ck'),
    new RegExp(`expected 2 to ${MAX_HIDDEN_LAYERS + 2} layer sizes \\(at most ${MAX_HIDDEN_LAYERS} hidden layers\\)`), 'checkpoint');
});

// --- the command line

const cli = suite('the command line: a hostile model file exits 2 with one line');

const train = (...args: string[]) => spawnSync(process.execPath, ['bench/train.js', ...args], { encoding: 'utf8', timeout: 120_000 });
const hugeIndex = join(tmp, 'cli-huge-index.safetensors');
const nanModel = join(tmp, 'cli-nan.safetensors');

cli.before(() => {
  writeFileSync(hugeIndex, rawFile({ 'linear999999999999.weight': { dtype: 'F32', shape: [1, 1], data_offsets: [0, 4] } }, new Uint8Array(4)));
  const layers = layersOf([784, 32, 16, 10]);
  layers[0].W[100] = NaN;
  writeFileSync(nanModel, encodeModel(layers));
});

for (const [what, file, pattern] of [
  ['linear999999999999.weight', hugeIndex, /missing linear1\.weight.* … and 1999999999995 more/],
  ['NaN weights (an input error, not a divergence)', nanModel, /'linear1\.weight' holds NaN at element 3139 \(\[4, 3\]\)/],
] as const) {
  cli(`--init with ${what}`, () => {
    const t0 = performance.now();
    const r = train('--init', file, '--epochs', '1', '--steps', '1', '--no-analysis', '--no-report', '--out', join(tmp, 'run-init'));
    assert.is(r.status, 2, r.stderr.slice(0, 500));
    const lines = r.stderr.trim().split('\n');
    assert.is(lines.length, 1, r.stderr.slice(0, 500));
    assert.ok(lines[0].length <= MAX_MESSAGE + file.length + 20, `${lines[0].length} characters`);
    assert.match(lines[0], pattern);
    assert.ok(performance.now() - t0 < 60_000);
  });
  cli(`--analyze with ${what}`, () => {
    const r = train('--analyze', file, '--no-report');
    assert.is(r.status, 2, r.stderr.slice(0, 500));
    const lines = r.stderr.trim().split('\n');
    assert.is(lines.length, 1, r.stderr.slice(0, 500));
    assert.match(lines[0], pattern);
  });
}

cli.after(() => { if (!report) rmSync(tmp, { recursive: true, force: true }); });

layerNames.run();
sizes.run();
finite.run();
limit.run();
cli.run();
