// The linear probe's two hot loops (analysis/probe.ts fit) as WebAssembly SIMD, f64x2 across pairs of
// classes, bit for bit the plain loops: every lane is one of the scalar loop's accumulators, given the same
// terms in the same order (IEEE f64 + and · per lane; products commute), so only independent sums run side
// by side. The module is small and encoded here byte by byte (no assembler: probeAccuracy is synchronous,
// and wabt, which engine/wasm/load.ts uses, loads asynchronously), compiled synchronously once per
// process; where that fails (no WebAssembly or no SIMD, or MLP_LENS_WASM=0) probeKernels() is null and
// probe.ts keeps its JavaScript loops.
//
// Layouts (byte offsets into the instance's own memory, f64, row-major): z [nPad, d1] the design rows
// (nPad a multiple of 4, padded with zero rows), q and g [d1, Cp] the weights and gradient transposed
// (Cp even: column pairs (c, c + 1) are adjacent), res [nPad, Cp] logits, then residuals.
//   fwd(z, nPad, d1, q, Cp, res)   res[i, c] = Σ_j z[i, j]·q[j, c], j ascending (from +0)
//   grad(z, nPad, d1, res, Cp, g)  per block of 4 rows i..i+3, ascending, for every (j, c):
//                                  g[j, c] += res[i, c]·z[i, j] + res[i+1, c]·z[i+1, j] + res[i+2, c]·z[i+2, j] + res[i+3, c]·z[i+3, j]
//                                  (left to right, then added to g; g is not cleared)
// Both take the classes in blocks of 4 (2 vectors), then a last block of 2, with 4 rows at a time.
import { envVar } from '../engine/wasm/load.ts';

export interface ProbeKernels {
  fwd(z: number, nPad: number, d1: number, q: number, Cp: number, res: number): void;
  grad(z: number, nPad: number, d1: number, res: number, Cp: number, g: number): void;
}

export interface ProbeKernelInstance {
  memory: WebAssembly.Memory;
  k: ProbeKernels;
}

// --- a minimal encoder of the WebAssembly binary format (what the two kernels use)
const uleb = (v: number): number[] => {
  const out: number[] = [];
  do { let b = v & 0x7f; v >>>= 7; if (v) b |= 0x80; out.push(b); } while (v);
  return out;
};
const sleb = (v: number): number[] => {
  const out: number[] = [];
  for (;;) {
    const b = v & 0x7f; v >>= 7;
    if ((v === 0 && !(b & 0x40)) || (v === -1 && b & 0x40)) { out.push(b); return out; }
    out.push(b | 0x80);
  }
};
const str = (s: string): number[] => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];

const I32 = 0x7f, V128 = 0x7b;
const get = (l: number) => [0x20, ...uleb(l)], set = (l: number) => [0x21, ...uleb(l)];
const i32 = (v: number) => [0x41, ...sleb(v)];
const ADD = [0x6a], MUL = [0x6c], GE_U = [0x4f], GT_U = [0x4b];
const simd = (op: number, ...imm: number[]) => [0xfd, ...uleb(op), ...imm];
const memarg = (offset: number) => [3, ...uleb(offset)]; // align 2³ (a hint), offset
const V_LOAD = (off: number) => simd(0x00, ...memarg(off)), V_STORE = (off: number) => simd(0x0b, ...memarg(off));
const V_SPLAT64 = (off: number) => simd(0x0a, ...memarg(off)); // v128.load64_splat
const V_ZERO = simd(0x0c, ...new Array<number>(16).fill(0)); // v128.const 0
const F64X2_ADD = simd(0xf0), F64X2_MUL = simd(0xf2);
const BLOCK = [0x02, 0x40], LOOP = [0x03, 0x40], END = [0x0b];
const BR = (l: number) => [0x0c, ...uleb(l)], BR_IF = (l: number) => [0x0d, ...uleb(l)];
const inc = (l: number, by: number[]) => [...get(l), ...by, ...ADD, ...set(l)];
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

// parameters of both kernels: 0 z, 1 nPad, 2 d1, 3 q|res, 4 Cp, 5 res|g; then the locals below
const P_Z = 0, P_N = 1, P_D1 = 2, P_A = 3, P_CP = 4, P_B = 5;
const L_I = 6, L_C = 7, L_J = 8, L_ROWB = 9, L_CPB = 10, L_ZR = 11, L_AP = 12, L_BP = 13; // i32
const L_Z0 = 14; // i32 ×4: the 4 rows' z pointers
const L_V = 18; // v128 ×16: accumulators / residuals, then 4 splats of z
const i32Locals = L_V - L_I, v128Locals = 20;

/**
 * the class loop of one block of 4 rows for `np` pairs of classes per pass (np = 2, then 1): $c from
 * its current value while c + 2·np ≤ Cp; body(np) does one pass
 */
const classBlocks = (np: number, body: (np: number) => number[]): number[] => [
  ...BLOCK, ...LOOP,
  ...get(L_C), ...i32(2 * np), ...ADD, ...get(P_CP), ...GT_U, ...BR_IF(1),
  ...body(np),
  ...inc(L_C, i32(2 * np)), ...BR(0),
  ...END, ...END,
];

/** the 4 rows' z pointers at row $i (z + i·d1·8 + r·d1·8) */
const rowPointers = (): number[] => [
  ...get(P_Z), ...get(L_I), ...get(L_ROWB), ...MUL, ...ADD, ...set(L_Z0),
  ...range(3).flatMap((r) => [...get(L_Z0 + r), ...get(L_ROWB), ...ADD, ...set(L_Z0 + r + 1)]),
];

/** the outer loop over blocks of 4 rows: $i = 0, 4, .. < nPad; inner runs with $c = 0 */
const rowLoop = (inner: number[]): number[] => [
  ...get(P_D1), ...i32(8), ...MUL, ...set(L_ROWB),
  ...get(P_CP), ...i32(8), ...MUL, ...set(L_CPB),
  ...i32(0), ...set(L_I),
  ...BLOCK, ...LOOP,
  ...get(L_I), ...get(P_N), ...GE_U, ...BR_IF(1),
  ...i32(0), ...set(L_C),
  ...inner,
  ...inc(L_I, i32(4)), ...BR(0),
  ...END, ...END,
];

/** the j loop: $j = 0 .. d1 − 1, the 4 z pointers reset to row $i and advanced by 8, $ap by Cp·8 */
const jLoop = (body: number[]): number[] => [
  ...rowPointers(),
  ...i32(0), ...set(L_J),
  ...BLOCK, ...LOOP,
  ...get(L_J), ...get(P_D1), ...GE_U, ...BR_IF(1),
  ...body,
  ...range(4).flatMap((r) => inc(L_Z0 + r, i32(8))),
  ...inc(L_AP, get(L_CPB)),
  ...inc(L_J, i32(1)), ...BR(0),
  ...END, ...END,
];

// fwd: accumulator (row r, pair m) = local L_V + 4·m + r; the z splats at L_V + 16 + r
const fwdPass = (np: number): number[] => [
  ...range(4 * np).flatMap((a) => [...V_ZERO, ...set(L_V + a)]),
  ...get(P_A), ...get(L_C), ...i32(8), ...MUL, ...ADD, ...set(L_AP), // q + c·8
  ...jLoop([
    ...range(4).flatMap((r) => [...get(L_Z0 + r), ...V_SPLAT64(0), ...set(L_V + 16 + r)]),
    ...range(np).flatMap((m) => range(4).flatMap((r) => [
      ...get(L_V + 4 * m + r), ...get(L_V + 16 + r), ...get(L_AP), ...V_LOAD(16 * m), ...F64X2_MUL, ...F64X2_ADD, ...set(L_V + 4 * m + r),
    ])),
  ]),
  // res + ((i + r)·Cp + c)·8 + 16m
  ...get(P_B), ...get(L_I), ...get(L_CPB), ...MUL, ...ADD, ...get(L_C), ...i32(8), ...MUL, ...ADD, ...set(L_BP),
  ...range(4).flatMap((r) => [
    ...range(np).flatMap((m) => [...get(L_BP), ...get(L_V + 4 * m + r), ...V_STORE(16 * m)]),
    ...inc(L_BP, get(L_CPB)),
  ]),
];

// grad: residual (row r, pair m) = local L_V + 4·m + r, loaded once per pass; $ap walks g
const gradPass = (np: number): number[] => [
  ...get(P_A), ...get(L_I), ...get(L_CPB), ...MUL, ...ADD, ...get(L_C), ...i32(8), ...MUL, ...ADD, ...set(L_BP),
  ...range(4).flatMap((r) => [
    ...range(np).flatMap((m) => [...get(L_BP), ...V_LOAD(16 * m), ...set(L_V + 4 * m + r)]),
    ...inc(L_BP, get(L_CPB)),
  ]),
  ...get(P_B), ...get(L_C), ...i32(8), ...MUL, ...ADD, ...set(L_AP), // g + c·8
  ...jLoop([
    ...range(4).flatMap((r) => [...get(L_Z0 + r), ...V_SPLAT64(0), ...set(L_V + 16 + r)]),
    ...range(np).flatMap((m) => [
      ...get(L_AP), ...get(L_AP), ...V_LOAD(16 * m),
      ...get(L_V + 4 * m), ...get(L_V + 16), ...F64X2_MUL,
      ...range(3).flatMap((r) => [...get(L_V + 4 * m + r + 1), ...get(L_V + 16 + r + 1), ...F64X2_MUL, ...F64X2_ADD]),
      ...F64X2_ADD, ...V_STORE(16 * m),
    ]),
  ]),
];

const body = (pass: (np: number) => number[]): number[] => {
  const code = [
    ...vec([[...uleb(i32Locals), I32], [...uleb(v128Locals), V128]]),
    ...rowLoop([...classBlocks(2, pass), ...classBlocks(1, pass)]),
    ...END,
  ];
  return [...uleb(code.length), ...code];
};

/** the module's bytes: imports memory e.m, exports fwd and grad */
export function probeModuleBytes(): Uint8Array<ArrayBuffer> {
  const sig = [0x60, ...vec(range(6).map(() => [I32])), ...vec([])];
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([sig])),
    ...section(2, vec([[...str('e'), ...str('m'), 0x02, 0x00, ...uleb(1)]])),
    ...section(3, vec([[0], [0]])),
    ...section(7, vec([[...str('fwd'), 0x00, 0], [...str('grad'), 0x00, 1]])),
    ...section(10, vec([body(fwdPass), body(gradPass)])),
  ]);
}

let cached: ProbeKernelInstance | null | undefined;

/** the kernels on their own memory (grown by the caller as needed), or null where they cannot run */
export function probeKernels(): ProbeKernelInstance | null {
  if (cached !== undefined) return cached;
  cached = null;
  if (envVar('MLP_LENS_WASM') === '0' || typeof WebAssembly !== 'object') return null;
  try {
    const module = new WebAssembly.Module(probeModuleBytes());
    const memory = new WebAssembly.Memory({ initial: 1 });
    const instance = new WebAssembly.Instance(module, { e: { m: memory } });
    cached = { memory, k: instance.exports as unknown as ProbeKernels };
  } catch {
    cached = null; // no SIMD here (or no synchronous compile): the JavaScript loops
  }
  return cached;
}
