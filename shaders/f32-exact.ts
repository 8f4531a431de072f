// WGSL helpers for the statistics kernels (group-sums, hist-edges, group-spread) that must agree with the
// CPU bit for bit: order keys (exact comparisons and min/max in integers) and float32 arithmetic with
// round-to-nearest-even done in integers. Not a primitive: kernels paste these functions in.
//
// why integers: WGSL allows a float32 +, −, × to round to either neighbour of the exact result ("correctly
// rounded" in the WGSL sense), division to be 2.5 ulp off, a multiply-add to be fused, subnormals to be
// flushed and NaN/Inf to be assumed away. Histogram edges must be numpy's float32 edges exactly (a value on
// an edge goes to the bin above it), so they are computed here with u32 operations only, which WGSL
// defines exactly; test/engine/hist-edges.test.ts checks them against analysis/histogram.ts.

/**
 * order keys: key(a) < key(b) ⇔ a < b for non-NaN float32 bits, with −0 and +0 one key (0x80000000).
 * A positive NaN sorts above +Inf and a negative NaN below −Inf, so a range test [key(lo), key(hi)] with
 * finite ends never admits a NaN. fromKey gives the float bits back (+0 for either zero).
 */
export const orderKeys = /* wgsl */ `
fn isNanBits(b: u32) -> bool { return (b & 0x7fffffffu) > 0x7f800000u; }
fn isFiniteBits(b: u32) -> bool { return (b & 0x7f800000u) != 0x7f800000u; }
// branch-free: lanes of a SIMD rasteriser (llvmpipe) do not diverge on it
fn orderKey(b: u32) -> u32 {
  let k = select(b | 0x80000000u, ~b, b >= 0x80000000u);
  return select(k, 0x80000000u, (b & 0x7fffffffu) == 0u);
}
fn fromKey(k: u32) -> u32 {
  if ((k & 0x80000000u) != 0u) { return k & 0x7fffffffu; }
  return ~k;
}`;

/**
 * float32 arithmetic on bits, round to nearest, ties to even, subnormals kept (results may overflow to
 * ±Inf; inputs must be finite): sfAdd(a, b) = a + b, sfMulInt(a, k) = a · k for an integer k ≤ 255,
 * sfDivInt(a, n) = a / n for an integer 1 ≤ n ≤ 64.
 */
export const softFloat = /* wgsl */ `
// value = m · 2^(e − 150), m < 2^24 (e = 1 for zero and subnormals)
struct Unpacked { sign: u32, e: i32, m: u32 }
fn sfUnpack(b: u32) -> Unpacked {
  let ex = (b >> 23u) & 0xffu;
  if (ex == 0u) { return Unpacked(b & 0x80000000u, 1, b & 0x7fffffu); }
  return Unpacked(b & 0x80000000u, i32(ex), (b & 0x7fffffu) | 0x800000u);
}
// the float32 nearest (ties to even) to (m + f) · 2^(e − 150), 0 ≤ f < 1 known only as sticky = (f > 0);
// m > 0. callers keep at least one bit of m below the result's last bit whenever sticky can be true.
fn sfRound(sign: u32, e: i32, m: u32, sticky: bool) -> u32 {
  var shift = i32(firstLeadingBit(m)) - 23;
  var ex = e + shift;
  if (ex < 1) { shift += 1 - ex; ex = 0; }
  var q = 0u;
  if (shift <= 0) {
    q = m << u32(-shift);
  } else if (shift <= 32) {
    let s = u32(shift);
    // WGSL takes shift amounts modulo 32: a shift by 32 is spelled out
    q = select(m >> s, 0u, s == 32u);
    let rem = m & select((1u << s) - 1u, 0xffffffffu, s == 32u);
    let half = 1u << (s - 1u);
    if (rem > half || (rem == half && (sticky || (q & 1u) == 1u))) { q += 1u; }
  }
  if (ex > 0 && q == 0x1000000u) { q = 0x800000u; ex += 1; }
  if (ex >= 255) { return sign | 0x7f800000u; }
  if (ex == 0) { return sign | q; }
  return sign | (u32(ex) << 23u) | (q & 0x7fffffu);
}
fn sfAdd(a: u32, b: u32) -> u32 {
  var ab = a;
  var bb = b;
  if ((ab & 0x7fffffffu) < (bb & 0x7fffffffu)) { ab = b; bb = a; }
  let x = sfUnpack(ab);
  let y = sfUnpack(bb);
  if (y.m == 0u) {
    // −0 + −0 = −0, +0 + −0 = +0, x + 0 = x
    if (x.m == 0u) { return ab & bb & 0x80000000u; }
    return ab;
  }
  // three guard bits; what the alignment shifts out is kept as a sticky 1 in the lowest bit
  let d = u32(x.e - y.e);
  let mx = x.m << 3u;
  var my = y.m << 3u;
  if (d >= 27u) {
    my = 1u;
  } else if (d > 0u) {
    let lost = my & ((1u << d) - 1u);
    my = (my >> d) | select(0u, 1u, lost != 0u);
  }
  var m = 0u;
  if (x.sign == y.sign) { m = mx + my; } else { m = mx - my; }
  if (m == 0u) { return 0u; }
  return sfRound(x.sign, x.e - 3, m, false);
}
fn sfMulInt(a: u32, k: u32) -> u32 {
  let x = sfUnpack(a);
  let m = x.m * k;
  if (m == 0u) { return x.sign; }
  return sfRound(x.sign, x.e, m, false);
}
fn sfDivInt(a: u32, n: u32) -> u32 {
  let x = sfUnpack(a);
  if (x.m == 0u) { return x.sign; }
  // normalise (subnormals), then 31 bits of dividend: the quotient keeps ≥ 25 bits for n ≤ 64
  let up = 23u - firstLeadingBit(x.m);
  let big = (x.m << up) << 7u;
  return sfRound(x.sign, x.e - i32(up) - 7, big / n, big % n != 0u);
}`;

/**
 * numpy.histogram's float32 edges (analysis/histogram.ts) from the data's extremes, on bits:
 * range [lo, hi] (widened by ±0.5 when min == max), step = f32(f32(hi − lo) / bins),
 * e[i] = f32(f32(i · step) + lo) for i < bins, e[bins] = hi. Needs orderKeys and softFloat.
 */
export const numpyEdges = /* wgsl */ `
struct Range { lo: u32, hi: u32, step: u32 }
fn histRange(mnBits: u32, mxBits: u32, bins: u32) -> Range {
  var lo = mnBits;
  var hi = mxBits;
  if (orderKey(lo) == orderKey(hi)) {
    lo = sfAdd(lo, 0xbf000000u);
    hi = sfAdd(hi, 0x3f000000u);
  }
  return Range(lo, hi, sfDivInt(sfAdd(hi, lo ^ 0x80000000u), bins));
}
fn histEdge(r: Range, i: u32, bins: u32) -> u32 {
  if (i >= bins) { return r.hi; }
  return sfAdd(sfMulInt(r.step, i), r.lo);
}`;
