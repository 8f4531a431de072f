// fuzzing every reader of the files the program takes in: IDX (plain and .gz, through the real file
// reader), safetensors models, checkpoints, config.json and saved epoch statistics. Seeded mutations of
// valid files (truncations, bit flips, byte edits, inserted/deleted/duplicated ranges, interesting
// integers in header fields, structure-aware edits of the JSON headers and metadata, re-signed with a
// valid checksum where the format has one). Every outcome must be a parsed value or an InputError
// naming the file in one line: never another exception, never a slow case, and a header claiming
// gigabytes must be refused before anything of that size is allocated. Gzip bombs go through the CLI
// in a child process whose peak memory is measured.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { gzipSync } from 'node:zlib';
import { defaultMnistDir } from '../../run/mnist-files.ts';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { computeEpochStats } from '../../analysis/epoch-stats.ts';
import { createRng } from '../../engine/rng.ts';
import { checksum, decodeCheckpoint, encodeCheckpoint, parseRunConfig } from '../../mlp/checkpoint.ts';
import { InputError } from '../../mlp/errors.ts';
import { parseIdx } from '../../mlp/idx.ts';
import { readIdxFile } from '../../run/mnist-files.ts';
import { Mlp } from '../../mlp/model.ts';
import type { EpochRecord } from '../../mlp/recorder.ts';
import { decodeSafetensors, encodeSafetensors, type TensorInput } from '../../mlp/safetensors.ts';
import { validateEpochStats } from '../../analysis/stats-json.ts';
import { decodeModel, encodeModel } from '../../mlp/weights.ts';

const SEED = 20261126;
const rng = createRng('mlp-lens', SEED);
const rand = (n: number) => rng.nextU32() % n;
const pick = <T>(xs: readonly T[]): T => xs[rand(xs.length)];

// --- the oracle

interface Tally { cases: number; parsed: number; rejected: number; slowest: number; slowestCase: string }
const tallies = new Map<string, Tally>();

/** runs one case: a value or an InputError naming `file` in one line; anything else fails with the case's description */
async function expectOutcome(family: string, file: string, how: string, f: () => unknown): Promise<void> {
  const t = tallies.get(family) ?? { cases: 0, parsed: 0, rejected: 0, slowest: 0, slowestCase: '' };
  tallies.set(family, t);
  const t0 = performance.now();
  try {
    await f();
    t.parsed++;
  } catch (e) {
    if (!(e instanceof InputError)) {
      assert.unreachable(`${family} [${how}]: ${(e as Error)?.constructor?.name}: ${(e as Error)?.message ?? e}`);
    }
    const err = e as InputError;
    assert.is(err.file, file, `${family} [${how}]: names the file`);
    assert.ok(err.message.startsWith(`${file}: `) && !/[\r\n]/.test(err.message), `${family} [${how}]: one line: ${err.message}`);
    t.rejected++;
  }
  const ms = performance.now() - t0;
  t.cases++;
  if (ms > t.slowest) { t.slowest = ms; t.slowestCase = how; }
}

// --- mutations

const INTERESTING_U32 = [0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, 784, 60000];

function mutateBytes(src: Uint8Array): { bytes: Uint8Array; how: string } {
  let b = src.slice();
  const hows: string[] = [];
  for (let round = 0, rounds = 1 + rand(3); round < rounds; round++) {
    const at = b.length ? rand(b.length) : 0;
    switch (rand(8)) {
      case 0: { const n = rand(b.length + 1); b = b.slice(0, n); hows.push(`truncate to ${n}`); break; }
      case 1: {
        const flips = 1 + rand(8);
        for (let i = 0; i < flips && b.length; i++) b[rand(b.length)] ^= 1 << rand(8);
        hows.push(`flip ${flips} bits`);
        break;
      }
      case 2: { if (b.length) b[at] = pick([0, 0xff, 0x7f, 0x80, rand(256)]); hows.push(`byte ${at} = ${b[at]}`); break; }
      case 3: {
        const ins = Uint8Array.from({ length: 1 + rand(16) }, () => rand(256));
        b = Uint8Array.from([...b.subarray(0, at), ...ins, ...b.subarray(at)]);
        hows.push(`insert ${ins.length} at ${at}`);
        break;
      }
      case 4: { const n = 1 + rand(32); b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + n)]); hows.push(`delete ${n} at ${at}`); break; }
      case 5: {
        const n = 1 + rand(64);
        b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(at, at + n), ...b.subarray(at)]);
        hows.push(`duplicate ${n} at ${at}`);
        break;
      }
      case 6: {
        const v = pick(INTERESTING_U32), le = rand(2) === 1;
        if (at + 4 <= b.length) new DataView(b.buffer, b.byteOffset).setUint32(at, v, le);
        hows.push(`u32 ${v} (${le ? 'LE' : 'BE'}) at ${at}`);
        break;
      }
      default: {
        const extra = Uint8Array.from({ length: 1 + rand(64) }, () => rand(256));
        b = Uint8Array.from([...b, ...extra]);
        hows.push(`append ${extra.length}`);
      }
    }
  }
  return { bytes: b, how: hows.join(', ') };
}

const deep = (n: number): unknown => { let v: unknown = 0; for (let i = 0; i < n; i++) v = [v]; return v; };
// JSON.stringify itself overflows on 20000 levels: such a value is written as this marker, then spliced in as text
const DEEP = '__deep_array__';
const DEEP_TEXT = '['.repeat(20000) + '0' + ']'.repeat(20000);
const toText = (v: unknown): string => JSON.stringify(v).split(`"${DEEP}"`).join(DEEP_TEXT);
const INTERESTING_JSON: unknown[] = [
  null, true, false, 0, -0, 1, -1, 1.5, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 64, 1e308, -1e308, '', 'x', 'F32', 'torch', '__proto__',
  [], {}, [0], [-1], [2 ** 31, 2 ** 31], [1.5], ['1'], { a: 1 }, [0, 2 ** 62], deep(50),
];

/** every path to a value inside `v` */
function paths(v: unknown, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(at);
  if (Array.isArray(v)) v.slice(0, 20).forEach((x, i) => paths(x, [...at, i], out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) paths(x, [...at, k], out);
  return out;
}

/** a structure-aware edit of a JSON value: one node replaced, removed, emptied, duplicated or renamed */
function mutateJson(src: unknown): { value: unknown; how: string } {
  const value = JSON.parse(JSON.stringify(src));
  const all = paths(value).filter((p) => p.length > 0);
  const path = pick(all);
  const parent = path.slice(0, -1).reduce((o: any, k) => o[k], value);
  const key = path[path.length - 1];
  const where = path.join('.');
  // a 20000-deep array is slow to build and reject (~30 ms): one edit in 25
  const op = rand(25);
  switch (op === 24 ? 4 : op % 4) {
    case 0: {
      const v = pick(INTERESTING_JSON);
      parent[key] = v;
      return { value, how: `${where} = ${JSON.stringify(v)?.slice(0, 40)}` };
    }
    case 1:
      if (Array.isArray(parent)) parent.splice(Number(key), 1); else delete parent[key];
      return { value, how: `remove ${where}` };
    case 2:
      if (Array.isArray(parent)) parent.push(parent[key as number]); else parent[`${key}_`] = parent[key];
      return { value, how: `duplicate ${where}` };
    case 3: {
      const v = parent[key];
      parent[key] = typeof v === 'number' ? -v * 1e6 : typeof v === 'string' ? v + v : Array.isArray(v) ? [] : typeof v === 'object' && v ? null : 'x';
      return { value, how: `twist ${where}` };
    }
    default:
      parent[key] = DEEP;
      return { value, how: `${where} = 20000-deep array` };
  }
}

// --- fixtures: one valid file of each kind

function idxBytes(code: number, dims: number[], size: number): Uint8Array {
  const n = dims.reduce((a, b) => a * b, 1);
  const b = new Uint8Array(4 + 4 * dims.length + n * size);
  const v = new DataView(b.buffer);
  b[2] = code;
  b[3] = dims.length;
  dims.forEach((d, i) => v.setUint32(4 + 4 * i, d, false));
  for (let i = 0; i < n * size; i++) b[4 + 4 * dims.length + i] = (i * 37) & 0xff;
  return b;
}
const IDX_BASES = [
  idxBytes(0x08, [3, 4, 4], 1), idxBytes(0x08, [12], 1), idxBytes(0x0c, [2, 3], 4), idxBytes(0x0d, [5], 4),
  idxBytes(0x0e, [2, 2], 8), idxBytes(0x0b, [3], 2), idxBytes(0x09, [2, 2, 2, 2], 1),
];

const smallModel = await Mlp.init([6, 4, 3], createRng('torch', 1)).export();
const MODEL = encodeModel(smallModel);
const MIXED = encodeSafetensors({
  a: { dtype: 'F16', shape: [3], data: Float32Array.of(1, -2, 0.5) },
  b: { dtype: 'BF16', shape: [2], data: Float32Array.of(3, 4) },
  c: { dtype: 'I64', shape: [2], data: BigInt64Array.of(1n, -1n) },
  d: { dtype: 'BOOL', shape: [2, 2], data: Uint8Array.of(0, 1, 1, 0) },
  e: { dtype: 'F64', shape: [], data: Float64Array.of(Math.PI) },
} as Record<string, TensorInput>, { note: 'fuzz' });

const ckRng = createRng('torch', 7);
const CHECKPOINT = {
  epoch: 1, layers: smallModel,
  velocity: smallModel.flatMap((l) => [l.W.map((x) => x / 3), l.b.map((x) => x / 3)]),
  rng: { kind: 'torch' as const, state: ckRng.state() },
  history: [0, 1].map((epoch) => ({ epoch, trainLoss: 1, trainAccuracy: 50, testLoss: 1, testAccuracy: 50, samples: 10, steps: 2, seconds: 0.1 })),
  run: { sizes: [6, 4, 3], epochs: 3, batch: 5, lr: 0.1, momentum: 0.9, weightDecay: 0, seed: 7, rng: 'torch' as const, shuffle: true, steps: null, trainCount: 10 },
};
const CHECKPOINT_BYTES = encodeCheckpoint(CHECKPOINT);

const CONFIG = {
  sizes: [784, 32, 16, 10], epochs: 20, batch: 64, lr: 0.01, momentum: 0, weightDecay: 0, seed: 31416, rng: 'torch',
  device: { backend: 'cpu' }, deviceOption: 'auto', data: '/data/mnist', out: 'runs/x', shuffle: true, steps: 20,
  record: true, quiet: false, started: '2026-11-26T00:00:00.000Z', trainCount: 60000, testCount: 10000,
};

const rec: EpochRecord = {
  epoch: 0, count: 3, labels: Uint8Array.of(0, 1, 1), indices: Uint32Array.of(0, 1, 2),
  acts: { 'layers.0.post': { width: 2, data: Float32Array.of(0, 1, 0, 2, 0, 3) } },
  grads: { 'layers.0.post': { width: 2, data: Float32Array.of(0.5, -1, 0, 0, 1, 1) } },
  batchOffsets: Uint32Array.of(0, 2, 3),
  paramGrads: { names: ['layers.0.W'], steps: 2, norms: Float32Array.of(1, 2) },
};
const STATS = JSON.parse(JSON.stringify(computeEpochStats(rec, { classes: 3, firstBatch: 2 })));
const statsJson = (text: string) => JSON.parse(text, (_k, v) => (v === null ? NaN : v));

/** the bytes of a checkpoint whose metadata and tensors are `md` and `tensors`, with a valid checksum */
function resigned(md: Record<string, string>, tensors: Record<string, TensorInput>): Uint8Array {
  const meta = { ...md };
  delete meta.crc32;
  meta.crc32 = checksum(meta, tensors as Record<string, { dtype: string; shape: readonly number[]; data: ArrayBufferView }>);
  return encodeSafetensors(tensors, meta);
}

// --- the families

const fuzz = suite('fuzz: every malformed input is a value or one InputError, fast, without huge allocations');
const tmp = mkdtempSync(join(tmpdir(), 'mlp-lens-fuzz-'));
const t0 = performance.now();

fuzz('IDX bytes (parseIdx): 2500 mutations of 7 valid files, header fields included', async () => {
  for (let i = 0; i < 2500; i++) {
    const base = pick(IDX_BASES);
    let { bytes, how } = mutateBytes(base);
    if (rand(3) === 0 && bytes.length >= 8) {
      // a header field on purpose: dtype code, ndim, or a dimension
      const field = rand(3);
      if (field === 0) bytes[2] = rand(256);
      else if (field === 1) bytes[3] = rand(256);
      else new DataView(bytes.buffer, bytes.byteOffset).setUint32(4 + 4 * rand(Math.max(1, Math.min(bytes[3], (bytes.length - 4) >> 2))), pick(INTERESTING_U32), false);
      how += `, header field ${field}`;
    }
    await expectOutcome('idx', 'f.idx', how, () => parseIdx(bytes, 'f.idx'));
  }
});

fuzz('IDX files through readIdxFile: 300 mutated .gz files (corrupt gzip, corrupt content, plain bytes named .gz)', async () => {
  for (let i = 0; i < 300; i++) {
    const base = pick(IDX_BASES);
    const kind = rand(3);
    const { bytes, how } = kind === 0 ? mutateBytes(gzipSync(base)) : kind === 1 ? (() => { const m = mutateBytes(base); return { bytes: gzipSync(m.bytes), how: `gzip(${m.how})` }; })() : mutateBytes(base);
    const file = join(tmp, `case-${i}.gz`);
    writeFileSync(file, bytes);
    await expectOutcome('idx.gz', file, how, () => readIdxFile(file));
  }
});

fuzz('safetensors models (decodeModel) and mixed dtypes (decodeSafetensors): 1500 byte mutations, 700 header edits', async () => {
  for (let i = 0; i < 1500; i++) {
    const { bytes, how } = mutateBytes(pick([MODEL, MIXED]));
    await expectOutcome('safetensors', 'm.st', how, () => decodeModel(bytes, 'm.st'));
  }
  for (let i = 0; i < 700; i++) {
    const src = pick([MODEL, MIXED]);
    const n = Number(new DataView(src.buffer).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(src.subarray(8, 8 + n)));
    let { value, how } = mutateJson(header);
    const json = new TextEncoder().encode(JSON.stringify(value));
    const out = new Uint8Array(8 + json.length + (src.length - 8 - n));
    const lengthField = rand(10) === 0 ? pick([0n, 1n, 2n ** 62n, BigInt(json.length + 1), 100_000_001n]) : BigInt(json.length);
    new DataView(out.buffer).setBigUint64(0, lengthField, true);
    out.set(json, 8);
    out.set(src.subarray(8 + n), 8 + json.length);
    await expectOutcome('safetensors header', 'm.st', `${how}; length ${lengthField}`, () => decodeSafetensors(out, 'm.st'));
  }
});

fuzz('checkpoints (decodeCheckpoint): 700 byte mutations, 700 metadata/tensor edits re-signed with a valid checksum', async () => {
  for (let i = 0; i < 700; i++) {
    const { bytes, how } = mutateBytes(CHECKPOINT_BYTES);
    await expectOutcome('checkpoint bytes', 'c.st', how, () => decodeCheckpoint(bytes, 'c.st'));
  }
  const { tensors, metadata } = decodeSafetensors(CHECKPOINT_BYTES, 'c');
  for (let i = 0; i < 700; i++) {
    const md = { ...metadata };
    const ts: Record<string, TensorInput> = { ...(tensors as Record<string, TensorInput>) };
    let how: string;
    const what = rand(4);
    if (what <= 1) {
      // the JSON metadata: run or history
      const key = what === 0 ? 'run' : 'history';
      const m = mutateJson(JSON.parse(md[key]));
      md[key] = toText(m.value);
      how = `${key}: ${m.how}`;
    } else if (what === 2) {
      const key = pick(Object.keys(md).filter((k) => k !== 'crc32'));
      md[key] = pick(['', '0', '-1', '1e9', '2', 'x', '{}', 'mlp-lens/checkpoint', 'torch', 'mlp-lens', '01', '4294967296']);
      how = `metadata ${key} = ${md[key]}`;
    } else {
      const name = pick(Object.keys(ts));
      const t = ts[name] as { dtype: string; shape: readonly number[]; data: ArrayBufferView };
      switch (rand(4)) {
        case 0: delete ts[name]; how = `drop ${name}`; break;
        case 1: ts[name] = { dtype: 'F32', shape: [t.data.byteLength / 4], data: new Float32Array(t.data.byteLength / 4) }; how = `${name} flattened`; break;
        case 2: ts[`${name}.extra`] = ts[name]; how = `extra ${name}`; break;
        default: ts[name] = { dtype: 'U8', shape: [t.data.byteLength], data: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength) } as TensorInput; how = `${name} as U8`;
      }
    }
    const bytes = resigned(md, ts);
    await expectOutcome('checkpoint content', 'c.st', how, () => decodeCheckpoint(bytes, 'c.st'));
  }
});

fuzz('config.json (parseRunConfig): 500 text mutations, 700 structure-aware edits', async () => {
  const text = new TextEncoder().encode(JSON.stringify(CONFIG, null, 2));
  for (let i = 0; i < 500; i++) {
    const { bytes, how } = mutateBytes(text);
    const s = new TextDecoder().decode(bytes);
    await expectOutcome('config text', 'config.json', how, () => parseRunConfig(s, 'config.json'));
  }
  for (let i = 0; i < 700; i++) {
    const { value, how } = mutateJson(CONFIG);
    await expectOutcome('config fields', 'config.json', how, () => parseRunConfig(toText(value), 'config.json'));
  }
});

fuzz('saved epoch statistics (validateEpochStats): 300 text mutations, 600 structure-aware edits', async () => {
  const text = new TextEncoder().encode(JSON.stringify(STATS));
  for (let i = 0; i < 300; i++) {
    const { bytes, how } = mutateBytes(text);
    await expectOutcome('stats text', 'epoch-000.json', how, () => {
      let v: unknown;
      try { v = statsJson(new TextDecoder().decode(bytes)); } catch { throw new InputError('epoch-000.json', 'is not valid JSON'); }
      return validateEpochStats(v, 'epoch-000.json');
    });
  }
  for (let i = 0; i < 600; i++) {
    let { value, how } = mutateJson(STATS);
    await expectOutcome('stats fields', 'epoch-000.json', how, () => validateEpochStats(statsJson(JSON.stringify(value)), 'epoch-000.json'));
  }
});

fuzz('headers claiming gigabytes are refused before allocating (arrayBuffers before/after)', async () => {
  const before = process.memoryUsage().arrayBuffers;
  const cases: [string, () => unknown][] = [];
  // IDX: 2^31 - 1 uint8 images of 1×1, 8 dims of 2^32 - 1 float64, a 1.9 GB int32 claim: 8 to 36 bytes on disk
  cases.push(['idx 2^31-1 uint8', () => parseIdx(idxBytes(0x08, [0x7fffffff, 1, 1], 0).subarray(0, 16), 'big.idx')]);
  const huge = new Uint8Array(4 + 32); huge[2] = 0x0e; huge[3] = 8; huge.fill(0xff, 4);
  cases.push(['idx 8 dims of 2^32-1 float64', () => parseIdx(huge, 'big.idx')]);
  cases.push(['idx 1.9 GB int32', () => parseIdx(Uint8Array.from([0, 0, 0x0c, 1, 0x1c, 0x52, 0x00, 0x00, 1, 2, 3, 4]), 'big.idx')]);
  // safetensors: a tensor of 2^31 F32 elements in a 100-byte file; a header length of 2^62
  const claim = (shape: number[], end: number) => {
    const json = new TextEncoder().encode(JSON.stringify({ w: { dtype: 'F32', shape, data_offsets: [0, end] } }));
    const b = new Uint8Array(8 + json.length + 16);
    new DataView(b.buffer).setBigUint64(0, BigInt(json.length), true);
    b.set(json, 8);
    return b;
  };
  cases.push(['safetensors 2^31 F32', () => decodeSafetensors(claim([2 ** 31], 2 ** 33), 'big.st')]);
  cases.push(['safetensors 2^53 elements', () => decodeSafetensors(claim([2 ** 26, 2 ** 27], 2 ** 53 - 1), 'big.st')]);
  const long = new Uint8Array(16); new DataView(long.buffer).setBigUint64(0, 2n ** 62n, true);
  cases.push(['safetensors header 2^62', () => decodeSafetensors(long, 'big.st')]);
  cases.push(['checkpoint of a 2^31 tensor', () => decodeCheckpoint(claim([2 ** 31], 2 ** 33), 'big.st')]);
  for (const [how, f] of cases) {
    for (let k = 0; k < 20; k++) await expectOutcome('absurd sizes', how.startsWith('idx') ? 'big.idx' : 'big.st', how, f);
  }
  const grown = process.memoryUsage().arrayBuffers - before;
  console.log(`  absurd-size claims: arrayBuffers grew by ${(grown / 1024).toFixed(0)} KiB over ${cases.length * 20} cases`);
  assert.ok(grown < 16 * 2 ** 20, `no allocation proportional to a claimed size (grew ${grown} bytes)`);
  assert.is(tallies.get('absurd sizes')!.parsed, 0, 'every absurd claim is rejected');
});

fuzz('20000-deep JSON in a safetensors header or a stats file is an InputError, not a stack overflow', async () => {
  // mlp/safetensors.ts describe() and analysis/stats-json.ts Check messages JSON.stringify the offending value:
  // a deeply nested value throws RangeError (Maximum call stack size exceeded) instead of an InputError
  const json = new TextEncoder().encode(toText({ w: { dtype: 'F32', shape: DEEP, data_offsets: [0, 0] } }));
  const b = new Uint8Array(8 + json.length);
  new DataView(b.buffer).setBigUint64(0, BigInt(json.length), true);
  b.set(json, 8);
  await expectOutcome('known gaps', 'd.st', 'deep shape', () => decodeSafetensors(b, 'd.st'));
  await expectOutcome('known gaps', 'e.json', 'deep epoch', () => validateEpochStats({ ...STATS, epoch: JSON.parse(DEEP_TEXT) }, 'e.json'));
});

fuzz('totals: thousands of cases, none slow', () => {
  let total = 0, slowest = 0, slowestWhere = '';
  for (const [family, t] of tallies) {
    total += t.cases;
    console.log(`  ${family.padEnd(20)} ${String(t.cases).padStart(5)} cases: ${t.parsed} parsed, ${t.rejected} InputError; slowest ${t.slowest.toFixed(1)} ms`);
    if (t.slowest > slowest) { slowest = t.slowest; slowestWhere = `${family} [${t.slowestCase}]`; }
  }
  console.log(`  ${total} fuzz cases (seed ${SEED}) in ${((performance.now() - t0) / 1000).toFixed(2)} s; slowest ${slowest.toFixed(1)} ms: ${slowestWhere}`);
  assert.ok(total >= 5000, `${total} cases`);
  assert.ok(slowest < 1000, `every case bounded in time: slowest ${slowest.toFixed(0)} ms (${slowestWhere})`);
});

// --- gzip bombs, through the CLI

// a gzip file of an IDX header claiming `dims` (uint8) and then `gib` GiB of zeros. gzip allows a file
// of several members (RFC 1952 2.2; zlib and gunzip read them all), so one member of 64 MiB of zeros
// (64 KiB compressed, made once) repeated builds 3 GiB in ~3 MB and a fraction of a second
const ZEROS_64M = gzipSync(new Uint8Array(64 * 2 ** 20), { level: 9 });
const bomb = (dims: number[], gib: number): Uint8Array =>
  Buffer.concat([gzipSync(idxBytes(0x08, dims, 0)), ...new Array(gib * 16).fill(ZEROS_64M)]);

/** the CLI on `dir`: its exit code, stderr, its own peak RSS (MB) and seconds */
function trainOn(dir: string): { code: number | null; err: string; mb: number; s: number } {
  const rssFile = join(tmp, 'maxrss');
  rmSync(rssFile, { force: true });
  // the child's own peak (test/helpers/peak-memory.mjs says why not resourceUsage().maxRSS)
  const hook = './test/helpers/peak-memory.mjs';
  const t = performance.now();
  const r = spawnSync(process.execPath, ['--import', hook, 'bench/train.js', '--data', dir, '--epochs', '1', '--steps', '1', '--no-analysis', '--no-report', '--out', join(tmp, 'run')], {
    encoding: 'utf8', timeout: 60_000, env: { ...process.env, MLP_LENS_RSS_FILE: rssFile },
  });
  const s = (performance.now() - t) / 1000;
  return { code: r.status, err: r.stderr, mb: Number(readFileSync(rssFile, 'utf8')), s };
}

const bombs = suite('gzip bombs: unpacked no further than the IDX header says, one file after the other');

bombs('a 3 GiB bomb as one file, as all four, and a header over the total limit: exit 2, one line, < 400 MB, < 20 s', () => {
  const real = defaultMnistDir();
  const names = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'];
  const mnistBomb = bomb([60000, 28, 28], 3);
  const cases: [string, Record<string, Uint8Array | null>, RegExp][] = [
    // the case: 3 GiB of zeros behind a train-images header; before: 24 s and 2.2 GB, or 90 s and 8.7 GB as all four
    ['one file', { [names[0]]: mnistBomb }, /train-images-idx3-ubyte\.gz: holds more than its header's 47040016 bytes \(a 16-byte header and 60000×28×28 uint8\): stopped unpacking there$/],
    ['all four', Object.fromEntries(names.map((n) => [n, mnistBomb])), /train-images-idx3-ubyte\.gz: holds more than its header's 47040016 bytes/],
    // 1.5 GB claimed: under the 2 GiB per file, over the 1 GiB for the four; refused before anything is allocated
    ['a header over the total', { [names[0]]: bomb([1_500_000, 1000], 0) }, /train-images-idx3-ubyte\.gz: header claims 1500000012 bytes \(1500000×1000 uint8\), above the 1073741824-byte limit on the four MNIST files$/],
  ];
  for (const [how, files, message] of cases) {
    const dir = join(tmp, `bomb-${how.replace(/ /g, '-')}`);
    mkdirSync(dir);
    for (const name of names) {
      if (files[name]) writeFileSync(join(dir, `${name}.gz`), files[name]!);
      else copyFileSync(join(real, name), join(dir, name));
    }
    const r = trainOn(dir);
    console.log(`  bomb, ${how}: exit ${r.code} in ${r.s.toFixed(1)} s, peak RSS ${r.mb.toFixed(0)} MB`);
    assert.is(r.code, 2, `${how}: ${r.err}`);
    const lines = r.err.trim().split('\n');
    assert.is(lines.length, 1, `${how}: one line: ${r.err}`);
    assert.match(lines[0]!, message, how);
    assert.ok(r.mb < 400, `${how}: peak RSS ${r.mb.toFixed(0)} MB < 400 MB`);
    assert.ok(r.s < 20, `${how}: ${r.s.toFixed(1)} s < 20 s`);
  }
});

fuzz.run();
bombs.after(() => rmSync(tmp, { recursive: true, force: true }));
bombs.run();
