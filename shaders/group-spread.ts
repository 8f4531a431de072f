import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import { orderKeys } from './f32-exact.ts';
import { GROUP_WG, groupColumns } from './group-sums.ts';
import type { GpuKernel } from './kernel.ts';

const layout = { width: 'u32', groups: 'u32', ownFrom: 'u32' } as const;

// one workgroup per group g: Σ(x − mean)² per column (the group's own column mean from group-sums), and
// two histograms of the group's values counted with workgroup atomics: over the shared edges (row G of
// hist-edges) and, for g ≥ ownFrom, over the group's own edges (row g). The bin is found exactly: a float
// guess, then moved while the value's order key is below its lower edge's or not below its upper edge's
// (edges are numpy's, so the bin is numpy's: e[i] ≤ x < e[i+1], the last bin closed).
export const groupSpreadKernel: GpuKernel<{ width: number; groups: number; bins: number; ownFrom: number }> =
  (_, __, { width, groups, bins, ownFrom }) => ({
    variant: `b${bins}`,
    source: () => wgsl`
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> idx: array<f32>;
@group(0) @binding(2) var<storage, read> sums: array<f32>;
@group(0) @binding(3) var<storage, read> edges: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
struct Params { width: u32, groups: u32, ownFrom: u32, }
@group(0) @binding(5) var<uniform> params: Params;
${orderKeys}
${groupColumns}
const B = ${bins}u;
// keys of the shared edges [0, B], then of the group's own [B + 1, 2B + 1]
var<workgroup> ekeys: array<u32, ${2 * (bins + 1)}>;
var<workgroup> hist: array<atomic<u32>, ${2 * bins}>;
var<workgroup> part: array<f32, ${GROUP_WG}>;

// a histogram's edges: keys at ekeys[base ..], the range's keys and the float guess's lo and scale
struct Binning { on: bool, lo: f32, scale: f32, base: u32, loKey: u32, hiKey: u32 }

fn binning(row: u32, base: u32, on: bool) -> Binning {
  let lo = edges[row * (B + 1u)];
  let hi = edges[row * (B + 1u) + B];
  let valid = on && isFiniteBits(bitcast<u32>(lo)) && isFiniteBits(bitcast<u32>(hi));
  return Binning(valid, lo, f32(B) / (hi - lo), base, ekeys[base], ekeys[base + B]);
}

fn count(v: f32, key: u32, h: Binning, at: u32) {
  if (!(h.on && key >= h.loKey && key <= h.hiKey)) { return; }
  // any guess will do: the loops below settle the bin on the keys alone
  var i = min(u32(clamp((v - h.lo) * h.scale, 0.0, f32(B - 1u))), B - 1u);
  for (var t = 0u; t < B; t++) {
    if (i == 0u || key >= ekeys[h.base + i]) { break; }
    i -= 1u;
  }
  for (var t = 0u; t < B; t++) {
    if (i + 1u >= B || key < ekeys[h.base + i + 1u]) { break; }
    i += 1u;
  }
  atomicAdd(&hist[at + i], 1u);
}

// Σ(x − mean)² of column j over positions first, first + stride, … < end; counts every value
fn column(j: u32, mean: f32, first: u32, stride: u32, end: u32, hs: Binning, ho: Binning) -> f32 {
  let w = params.width;
  var m2 = 0.0;
  var p = first;
  loop {
    if (p >= end) { break; }
    var block = 0.0;
    for (var k = 0u; k < 32u && p < end; k++) {
      let v = x[rowAt(p) * w + j];
      let d = v - mean;
      block += d * d;
      let key = orderKey(bitcast<u32>(v));
      count(v, key, hs, 0u);
      count(v, key, ho, B);
      p += stride;
    }
    m2 += block;
  }
  return m2;
}

fn columnMean(g: u32, j: u32, n: u32) -> f32 { return sums[g * 4u * params.width + j] / f32(n); }

@compute @workgroup_size(${GROUP_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let g = wid.x + wid.y * nwg.x;
  let live = g < params.groups;
  let w = params.width;
  let G = params.groups;
  // 2·(B + 1) keys may outnumber the invocations (B = 64)
  for (var k = lid; live && k < 2u * (B + 1u); k += WGS) {
    let row = select(g, G, k <= B);
    ekeys[k] = orderKey(bitcast<u32>(edges[row * (B + 1u) + k % (B + 1u)]));
  }
  workgroupBarrier();
  var start = 0u;
  var end = 0u;
  if (live) { start = groupStart(g); end = groupEnd(g); }
  let n = end - start;
  let hs = binning(G, 0u, live);
  let ho = binning(g, B + 1u, live && g >= params.ownFrom);
  if (w <= WGS) {
    let lanes = WGS / w;
    var m2 = 0.0;
    if (live && lid < lanes * w) {
      let j = lid % w;
      m2 = column(j, columnMean(g, j, n), start + lid / w, lanes, end, hs, ho);
    }
    part[lid] = m2;
  } else if (live) {
    for (var j = lid; j < w; j += WGS) {
      out[g * (w + 2u * B) + j] = column(j, columnMean(g, j, n), start, 1u, end, hs, ho);
    }
  }
  workgroupBarrier();
  if (!live) { return; }
  if (w <= WGS && lid < w) {
    var m2 = 0.0;
    for (var l = 0u; l < WGS / w; l++) { m2 += part[l * w + lid]; }
    out[g * (w + 2u * B) + lid] = m2;
  }
  for (var k = lid; k < 2u * B; k += WGS) { out[g * (w + 2u * B) + w + k] = f32(atomicLoad(&hist[k])); }
}`,
    layout,
    params: { width, groups, ownFrom },
    workgroups: groups,
  });
