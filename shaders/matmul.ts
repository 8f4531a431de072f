import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { ceilDiv, header, main1d, WG, type GpuKernel } from './kernel.ts';

// op(A) [rows, inner] · op(B) [inner, cols] → out [rows, cols]; a transposed operand is stored [inner, rows] / [cols, inner]
const layout = { rows: 'u32', cols: 'u32', inner: 'u32' } as const;
const TILE = 16;

/** WGSL reading element (i, p) of op(A) and (p, j) of op(B) from their stored layouts */
/**
 * WGSL `store(i, j, v)`: row i, columns j … j+lanes−1 of the output from v's first `lanes` components,
 * each guarded by the matrix's edges; `finish(x, col)` wraps each value (linear adds its bias, relu)
 */
export const storeRow = (lanes: 1 | 4 = 4, finish = (x: string, _col: string) => x): string => {
  const parts = ['x', 'y', 'z', 'w'].slice(0, lanes).map((c, q) => {
    const col = q ? `j + ${q}u` : 'j';
    return `  if (${col} < params.cols) { out[at${q ? ` + ${q}u` : ''}] = ${finish(`v.${c}`, col)}; }`;
  });
  return `fn store(i: u32, j: u32, v: vec4<f32>) {
  if (i >= params.rows) { return; }
  let at = i * params.cols + j;
${parts.join('\n')}
}`;
};

const loads = (transA: boolean, transB: boolean) => wgsl`
fn loadA(i: u32, p: u32) -> f32 {
#if ${transA}
  return a[p * params.rows + i];
#else
  return a[i * params.inner + p];
#endif
}
fn loadB(p: u32, j: u32) -> f32 {
#if ${transB}
  return b[j * params.inner + p];
#else
  return b[p * params.cols + j];
#endif
}`;

/** one invocation per output, the k loop straight from global memory: the baseline the tiled kernel is measured against */
const naive = (transA: boolean, transB: boolean) => wgsl`
${header(2, layout)}
${loads(transA, transB)}

${main1d}
  if (i >= params.rows * params.cols) { return; }
  let row = i / params.cols;
  let col = i % params.cols;
  var acc = 0.0;
  for (var p = 0u; p < params.inner; p++) { acc += loadA(row, p) * loadB(p, col); }
  out[i] = acc;
}`;

/**
 * 16×16 outputs per workgroup (256 invocations): each step stages a 16×16 tile of op(A) and of op(B) in
 * workgroup memory (one element per invocation), then every invocation reads 16 of each from there.
 * Edges: loads outside the matrices read 0 and stores outside are skipped; no invocation returns early,
 * so every one reaches each barrier (uniform control flow). Sums run over p in order, as in 'naive'.
 */
const tiled = (transA: boolean, transB: boolean) => wgsl`
${header(2, layout)}
${loads(transA, transB)}

var<workgroup> tileA: array<array<f32, ${TILE}>, ${TILE}>;
var<workgroup> tileB: array<array<f32, ${TILE}>, ${TILE}>;

@compute @workgroup_size(${TILE}, ${TILE})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row = wid.y * ${TILE}u + lid.y;
  let col = wid.x * ${TILE}u + lid.x;
  var acc = 0.0;
  let steps = (params.inner + ${TILE - 1}u) / ${TILE}u;
  for (var t = 0u; t < steps; t++) {
    let pa = t * ${TILE}u + lid.x;
    var va = 0.0;
    if (row < params.rows && pa < params.inner) { va = loadA(row, pa); }
    tileA[lid.y][lid.x] = va;
    let pb = t * ${TILE}u + lid.y;
    var vb = 0.0;
    if (pb < params.inner && col < params.cols) { vb = loadB(pb, col); }
    tileB[lid.y][lid.x] = vb;
    workgroupBarrier();
    for (var p = 0u; p < ${TILE}u; p++) { acc += tileA[lid.y][p] * tileB[p][lid.x]; }
    workgroupBarrier();
  }
  if (row < params.rows && col < params.cols) { out[row * params.cols + col] = acc; }
}`;

/**
 * 4×4 outputs per invocation in four vec4 accumulators, read straight from global memory: each step
 * loads 4 of op(A) and 4 of op(B) for 16 multiply-adds (naive: 2 loads per multiply-add). No workgroup
 * memory, no barriers: loads clamp their indices into the matrices (edge invocations compute values
 * nobody stores) and stores are guarded. Written without private arrays, which some translators spill.
 */
const blocked = (transA: boolean, transB: boolean) => wgsl`
${header(2, layout)}
${loads(transA, transB)}

${storeRow()}

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let r = gid.y * 4u;
  let c = gid.x * 4u;
  let rl = params.rows - 1u;
  let cl = params.cols - 1u;
  let i0 = min(r, rl); let i1 = min(r + 1u, rl); let i2 = min(r + 2u, rl); let i3 = min(r + 3u, rl);
  let j0 = min(c, cl); let j1 = min(c + 1u, cl); let j2 = min(c + 2u, cl); let j3 = min(c + 3u, cl);
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  for (var p = 0u; p < params.inner; p++) {
    let bv = vec4<f32>(loadB(p, j0), loadB(p, j1), loadB(p, j2), loadB(p, j3));
    acc0 += loadA(i0, p) * bv;
    acc1 += loadA(i1, p) * bv;
    acc2 += loadA(i2, p) * bv;
    acc3 += loadA(i3, p) * bv;
  }
  store(r, c, acc0);
  store(r + 1u, c, acc1);
  store(r + 2u, c, acc2);
  store(r + 3u, c, acc3);
}`;

/**
 * 'blocked' plus workgroup tiling: 32×32 outputs per 8×8-invocation workgroup, 4×4 per invocation in four
 * vec4 accumulators; each step stages a 32×16 slab of op(A) and a 16×32 slab of op(B) in workgroup
 * memory as vec4s (4 rows of A at one p; 4 columns of B at one p), 2 + 2 vec4 loads per invocation,
 * then 16 steps of 4 vec4 multiply-adds from there. Edges as in 'tiled' (zero loads, guarded stores,
 * no early return); sums run over p in order.
 */
// KT: the depth of one staged step (16; 32 measured no better on llvmpipe within the noise)
const tiled4 = (transA: boolean, transB: boolean, KT = 16) => wgsl`
${header(2, layout)}
${loads(transA, transB)}

// branchless: a clamped (always valid) load, zeroed outside the matrix
fn za(i: u32, p: u32) -> f32 { return select(0.0, loadA(min(i, params.rows - 1u), min(p, params.inner - 1u)), i < params.rows && p < params.inner); }
fn zb(p: u32, j: u32) -> f32 { return select(0.0, loadB(min(p, params.inner - 1u), min(j, params.cols - 1u)), p < params.inner && j < params.cols); }
${storeRow()}

// [p * 8 + q]: rows (or columns) 4q … 4q+3 of the slab at step p
var<workgroup> sa: array<vec4<f32>, ${KT * 8}>;
var<workgroup> sb: array<vec4<f32>, ${KT * 8}>;

@compute @workgroup_size(8, 8)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let li = lid.y * 8u + lid.x;
  let r0 = wid.y * 32u;
  let c0 = wid.x * 32u;
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  let steps = (params.inner + ${KT - 1}u) / ${KT}u;
  for (var t = 0u; t < steps; t++) {
    for (var e = 0u; e < ${KT / 8}u; e++) {
      let idx = li + e * 64u;
      let p = t * ${KT}u + idx / 8u;
      let q = (idx % 8u) * 4u;
      sa[idx] = vec4<f32>(za(r0 + q, p), za(r0 + q + 1u, p), za(r0 + q + 2u, p), za(r0 + q + 3u, p));
      sb[idx] = vec4<f32>(zb(p, c0 + q), zb(p, c0 + q + 1u), zb(p, c0 + q + 2u), zb(p, c0 + q + 3u));
    }
    workgroupBarrier();
    for (var p = 0u; p < ${KT}u; p++) {
      let av = sa[p * 8u + lid.y];
      let bv = sb[p * 8u + lid.x];
      acc0 += av.x * bv;
      acc1 += av.y * bv;
      acc2 += av.z * bv;
      acc3 += av.w * bv;
    }
    workgroupBarrier();
  }
  let r = r0 + lid.y * 4u;
  let c = c0 + lid.x * 4u;
  store(r, c, acc0);
  store(r + 1u, c, acc1);
  store(r + 2u, c, acc2);
  store(r + 3u, c, acc3);
}`;

/**
 * register tiling with subgroup broadcasts instead of workgroup memory (needs the device feature
 * `subgroups`): a 1-D workgroup of W invocations computes 8 rows × C·W columns, each invocation 8 rows × C
 * columns (C = 4 in eight vec4 accumulators for n ≥ 128, W = 64 past 128; C = 1 in two, W = 32, for
 * narrower products, so the MLP's 32, 16 and 10 columns do not leave most invocations idle). Each step of
 * 4 along k: invocations 0 … 3 of every subgroup load op(A)'s 8 rows at k = p0 + 0 … 3 (two vec4s each),
 * and every invocation takes them with subgroupBroadcast from lanes 0, 1, 2, 3 (constant lanes: a register
 * splat on SwiftShader, a shuffle with a constant on GPUs), times its own C values of op(B). All
 * invocations of a workgroup share its 8 rows, so any grouping into subgroups works, and WebGPU's smallest
 * subgroup is 4; it assumes lanes 0 … 3 of each subgroup are active (full subgroups: every W-wide workgroup
 * with a power-of-two subgroup size ≤ W, all adapters seen). Per k and invocation: C loads of B, 2 of A in
 * 4 of the lanes, 2 vec4 broadcasts, 8·C multiply-adds. Edges: clamped indices, zeros past k (the loads
 * of op(A) sit in a branch, the broadcasts after it in uniform control flow), guarded stores; sums run
 * over k in order.
 */
const subgroup = (transA: boolean, transB: boolean, W = 32, C = 4) => {
  // one k of the step (q a constant): op(B) at k = p0 + q, zero past the end of k
  const step = (q: number) => C === 4 ? `
    {
      let a = subgroupBroadcast(lo, ${q}u);
      let b = subgroupBroadcast(hi, ${q}u);
      let p = p0 + ${q}u;
      let pc = min(p, kl);
      let bv = select(vec4<f32>(0.0), vec4<f32>(loadB(pc, j0), loadB(pc, j1), loadB(pc, j2), loadB(pc, j3)), p <= kl);
      acc0 += a.x * bv; acc1 += a.y * bv; acc2 += a.z * bv; acc3 += a.w * bv;
      acc4 += b.x * bv; acc5 += b.y * bv; acc6 += b.z * bv; acc7 += b.w * bv;
    }` : `
    {
      let a = subgroupBroadcast(lo, ${q}u);
      let b = subgroupBroadcast(hi, ${q}u);
      let p = p0 + ${q}u;
      let bs = select(0.0, loadB(min(p, kl), j0), p <= kl);
      accLo += a * bs;
      accHi += b * bs;
    }`;
  return wgsl`
enable subgroups;
${header(2, layout)}
${loads(transA, transB)}

${storeRow(C === 4 ? 4 : 1)}

@compute @workgroup_size(${W}, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(subgroup_invocation_id) sid: u32) {
  let r = wid.y * 8u;
  let c = (wid.x * ${W}u + lid.x) * ${C}u;
  let rl = params.rows - 1u;
  let cl = params.cols - 1u;
  let kl = params.inner - 1u;
  let i0 = min(r, rl); let i1 = min(r + 1u, rl); let i2 = min(r + 2u, rl); let i3 = min(r + 3u, rl);
  let i4 = min(r + 4u, rl); let i5 = min(r + 5u, rl); let i6 = min(r + 6u, rl); let i7 = min(r + 7u, rl);
#if ${C === 4}
  let j0 = min(c, cl); let j1 = min(c + 1u, cl); let j2 = min(c + 2u, cl); let j3 = min(c + 3u, cl);
  var acc0 = vec4<f32>(0.0); var acc1 = vec4<f32>(0.0); var acc2 = vec4<f32>(0.0); var acc3 = vec4<f32>(0.0);
  var acc4 = vec4<f32>(0.0); var acc5 = vec4<f32>(0.0); var acc6 = vec4<f32>(0.0); var acc7 = vec4<f32>(0.0);
#else
  let j0 = min(c, cl);
  // rows r … r+3 and r+4 … r+7 of this invocation's column
  var accLo = vec4<f32>(0.0);
  var accHi = vec4<f32>(0.0);
#endif
  for (var p0 = 0u; p0 < params.inner; p0 += 4u) {
    var lo = vec4<f32>(0.0);
    var hi = vec4<f32>(0.0);
    let ks = p0 + sid;
    if (sid < 4u && ks <= kl) {
      lo = vec4<f32>(loadA(i0, ks), loadA(i1, ks), loadA(i2, ks), loadA(i3, ks));
      hi = vec4<f32>(loadA(i4, ks), loadA(i5, ks), loadA(i6, ks), loadA(i7, ks));
    }
${[0, 1, 2, 3].map(step).join('')}
  }
#if ${C === 4}
  store(r, c, acc0); store(r + 1u, c, acc1); store(r + 2u, c, acc2); store(r + 3u, c, acc3);
  store(r + 4u, c, acc4); store(r + 5u, c, acc5); store(r + 6u, c, acc6); store(r + 7u, c, acc7);
#else
  store(r, c, vec4<f32>(accLo.x)); store(r + 1u, c, vec4<f32>(accLo.y)); store(r + 2u, c, vec4<f32>(accLo.z)); store(r + 3u, c, vec4<f32>(accLo.w));
  store(r + 4u, c, vec4<f32>(accHi.x)); store(r + 5u, c, vec4<f32>(accHi.y)); store(r + 6u, c, vec4<f32>(accHi.z)); store(r + 7u, c, vec4<f32>(accHi.w));
#endif
}`;
};

const VARIANTS = { naive, tiled, blocked, tiled4, subgroup };
export type MatmulVariant = keyof typeof VARIANTS;
/** the staircase in order, for bench/; a variant in MATMUL_FEATURES runs only on a device with that feature */
export const MATMUL_VARIANTS = Object.keys(VARIANTS) as MatmulVariant[];

/** the device feature a variant needs (its WGSL `enable`s it): without it the shader does not compile */
export const MATMUL_FEATURES: Partial<Record<MatmulVariant, GPUFeatureName>> = { subgroup: 'subgroups' as GPUFeatureName };

/** the variants a device with `features` can run (device.features, or any set of feature names) */
export const matmulVariantsFor = (features: { has(f: string): boolean }): MatmulVariant[] =>
  MATMUL_VARIANTS.filter((v) => !MATMUL_FEATURES[v] || features.has(MATMUL_FEATURES[v]!));

/** the subgroup variant's shape for n output columns: W invocations per workgroup, C columns per invocation */
const subgroupShape = (n: number): { W: number; C: number } =>
  n > 128 ? { W: 64, C: 4 } : n === 128 ? { W: 32, C: 4 } : { W: 32, C: 1 };

/**
 * variants, side by side for bench/: 'naive' → 'tiled' → 'blocked' → 'tiled4' → 'subgroup' (only
 * where the device has `subgroups`); each with the transA/transB flags in the key
 */
export const matmulKernel: GpuKernel<{ transA: boolean; transB: boolean }> = ([sa], [m, n], { transA, transB }, ctx) => {
  const kind: MatmulVariant = ctx.variant && ctx.variant in VARIANTS ? ctx.variant as MatmulVariant : 'tiled';
  const params = { rows: m, cols: n, inner: transA ? sa[0] : sa[1] };
  const { W, C } = subgroupShape(n);
  const workgroups = kind === 'naive' ? ceilDiv(m * n, WG)
    : kind === 'tiled' ? [ceilDiv(n, TILE), ceilDiv(m, TILE), 1] as const
    : kind === 'subgroup' ? [ceilDiv(n, C * W), ceilDiv(m, 8), 1] as const // 8 rows × C·W columns per workgroup
    : [ceilDiv(n, 32), ceilDiv(m, 32), 1] as const; // blocked, tiled4: 32×32 outputs per workgroup
  return {
    variant: `${kind}${kind === 'subgroup' ? `:w${W}c${C}` : ''}${transA ? ':tA' : ''}${transB ? ':tB' : ''}`,
    source: () => kind === 'subgroup' ? subgroup(transA, transB, W, C) : VARIANTS[kind](transA, transB),
    layout,
    params,
    workgroups,
  };
};
