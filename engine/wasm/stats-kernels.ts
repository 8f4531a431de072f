// WebAssembly text (WAT) of the per-epoch statistics' two passes over a slot (analysis/epoch-stats.ts:
// accumulateActs/accumulateGrads and spreadActs/spreadGrads there are the same loops in JavaScript, and the
// fallback where WebAssembly SIMD or wabt is missing). engine/wasm/load.ts assembles it with wabt on first
// use (instantiateStatsKernels). Bit for bit the JavaScript loops' results:
// - every float64 sum adds its terms in the same order: the vectors run ACROSS accumulators (neurons j..j+3
//   of one row, each its own class × neuron sum, in f64x2 lanes), rows in order, so no accumulator's terms
//   are reordered; Σx² of a step is one scalar chain over the row's neurons in order, as in JS.
// - min and max are kept in f32 (the values are float32; ±Infinity at the start): f32x4.pmin(mn, x) is
//   `x < mn ? x : mn` and pmax(mx, x) `mx < x ? x : mx`, JS's `if (x < mn) mn = x` (NaN ignored, −0 and +0
//   as JS leaves them).
// - the bins are binOf of analysis/histogram.ts step by step (f64 guess truncated, clamped to the last bin,
//   one bin down or up by the edges); values outside [lo, hi] or NaN are skipped. The guess is in
//   [0, bins] for any value that passes the range test (lo < hi finite), where JS's `| 0` is floor: taken
//   as the low bits of floor(t) + 2^52 (exact below 2^52), three instructions where V8 emits six and two
//   branches for i32.trunc_sat_f64_s.
// - histogram counts are integers: they are spread over 4 copies (by the neuron's lane j mod 4) so that
//   neighbouring increments of one bin do not wait on each other, and summed by the caller.
//
// Conventions: pointers are byte offsets into the imported memory. Per class × neuron arrays are
// [classes, width] (class c, neuron j at c·width + j); histogram copies are [classes, bins, 4] i32.
// Exports:
//   acc_acts(D, w, RC, OFF, steps, SUM, MN, MX, POS)   rows OFF[0] .. OFF[steps]: SUM f64 += x, MN/MX f32,
//                                                      POS i32 [w] += (x > 0)
//   acc_grads(D, w, RC, OFF, steps, SUM, MN, MX, SQ)   the same without POS; SQ f64 [steps] = Σ x² over each
//                                                      step's rows (a row's neurons in order)
//   spread_acts(D, w, count, RC, bins, MEAN, M2, HS, HO, lo, hi, scale, E, OLO, OHI, OSC, OE)
//       M2 f64 += (x − MEAN)²; HS counts on the shared edges E f64 [bins + 1] over [lo, hi] (scale =
//       bins / (hi − lo)); HO on class c's own: OLO/OHI/OSC f64 [classes], OE f64 [classes, bins + 1]
//   spread_grads(D, w, count, RC, bins, MEAN, M2, HS, lo, hi, scale, E)   the same without HO
// D is the slot, f32 [count, w]; RC the rows' classes, i32 [count]; OFF u32 [steps + 1].

const shuffleHigh = 'i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7';

/** pass 1: `acts` counts positives into $AUX (i32 [w]); otherwise Σx² per step into $AUX (f64 [steps]) */
function accumulate(acts: boolean): string {
  const name = acts ? 'acc_acts' : 'acc_grads';
  return `
  (func (export "${name}") (param $D i32) (param $w i32) (param $RC i32) (param $OFF i32) (param $steps i32)
    (param $SUM i32) (param $MN i32) (param $MX i32) (param $AUX i32)
    (local $s i32) (local $r i32) (local $rend i32) (local $k i32) (local $p i32) (local $pv i32) (local $pe i32)
    (local $ps i32) (local $pm i32) (local $pM i32) (local $pp i32)
    (local $x v128) (local $a v128) (local $b v128) (local $xs f32) (local $xd f64) (local $sq f64) (local $w4 i32)
    (local.set $w4 (i32.and (local.get $w) (i32.const -4)))
    (block $steps_done (loop $steps
      (br_if $steps_done (i32.ge_u (local.get $s) (local.get $steps)))
      (local.set $sq (f64.const 0))
      (local.set $r (i32.load (i32.add (local.get $OFF) (i32.shl (local.get $s) (i32.const 2)))))
      (local.set $rend (i32.load offset=4 (i32.add (local.get $OFF) (i32.shl (local.get $s) (i32.const 2)))))
      (block $rows_done (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $r) (local.get $rend)))
        (local.set $k (i32.mul (i32.load (i32.add (local.get $RC) (i32.shl (local.get $r) (i32.const 2)))) (local.get $w)))
        (local.set $p (i32.add (local.get $D) (i32.shl (i32.mul (local.get $r) (local.get $w)) (i32.const 2))))
        (local.set $pv (i32.add (local.get $p) (i32.shl (local.get $w4) (i32.const 2))))
        (local.set $pe (i32.add (local.get $p) (i32.shl (local.get $w) (i32.const 2))))
        (local.set $ps (i32.add (local.get $SUM) (i32.shl (local.get $k) (i32.const 3))))
        (local.set $pm (i32.add (local.get $MN) (i32.shl (local.get $k) (i32.const 2))))
        (local.set $pM (i32.add (local.get $MX) (i32.shl (local.get $k) (i32.const 2))))
        (local.set $pp (local.get $AUX))
        (block $vec_done (loop $vec
          (br_if $vec_done (i32.ge_u (local.get $p) (local.get $pv)))
          (local.set $x (v128.load (local.get $p)))
          (local.set $a (f64x2.promote_low_f32x4 (local.get $x)))
          (local.set $b (f64x2.promote_low_f32x4 (${shuffleHigh} (local.get $x) (local.get $x))))
          (v128.store (local.get $ps) (f64x2.add (v128.load (local.get $ps)) (local.get $a)))
          (v128.store offset=16 (local.get $ps) (f64x2.add (v128.load offset=16 (local.get $ps)) (local.get $b)))
          (v128.store (local.get $pm) (f32x4.pmin (v128.load (local.get $pm)) (local.get $x)))
          (v128.store (local.get $pM) (f32x4.pmax (v128.load (local.get $pM)) (local.get $x)))
          ${acts ? `
          (v128.store (local.get $pp) (i32x4.sub (v128.load (local.get $pp)) (f32x4.gt (local.get $x) (v128.const f32x4 0 0 0 0))))
          (local.set $pp (i32.add (local.get $pp) (i32.const 16)))` : `
          (local.set $a (f64x2.mul (local.get $a) (local.get $a)))
          (local.set $b (f64x2.mul (local.get $b) (local.get $b)))
          (local.set $sq (f64.add (local.get $sq) (f64x2.extract_lane 0 (local.get $a))))
          (local.set $sq (f64.add (local.get $sq) (f64x2.extract_lane 1 (local.get $a))))
          (local.set $sq (f64.add (local.get $sq) (f64x2.extract_lane 0 (local.get $b))))
          (local.set $sq (f64.add (local.get $sq) (f64x2.extract_lane 1 (local.get $b))))`}
          (local.set $p (i32.add (local.get $p) (i32.const 16)))
          (local.set $ps (i32.add (local.get $ps) (i32.const 32)))
          (local.set $pm (i32.add (local.get $pm) (i32.const 16)))
          (local.set $pM (i32.add (local.get $pM) (i32.const 16)))
          (br $vec)))
        (block $tail_done (loop $tail
          (br_if $tail_done (i32.ge_u (local.get $p) (local.get $pe)))
          (local.set $xs (f32.load (local.get $p)))
          (local.set $xd (f64.promote_f32 (local.get $xs)))
          (f64.store (local.get $ps) (f64.add (f64.load (local.get $ps)) (local.get $xd)))
          (if (f32.lt (local.get $xs) (f32.load (local.get $pm))) (then (f32.store (local.get $pm) (local.get $xs))))
          (if (f32.gt (local.get $xs) (f32.load (local.get $pM))) (then (f32.store (local.get $pM) (local.get $xs))))
          ${acts ? `
          (i32.store (local.get $pp) (i32.add (i32.load (local.get $pp)) (f32.gt (local.get $xs) (f32.const 0))))
          (local.set $pp (i32.add (local.get $pp) (i32.const 4)))` : `
          (local.set $sq (f64.add (local.get $sq) (f64.mul (local.get $xd) (local.get $xd))))`}
          (local.set $p (i32.add (local.get $p) (i32.const 4)))
          (local.set $ps (i32.add (local.get $ps) (i32.const 8)))
          (local.set $pm (i32.add (local.get $pm) (i32.const 4)))
          (local.set $pM (i32.add (local.get $pM) (i32.const 4)))
          (br $tail)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows)))
      ${acts ? '' : '(f64.store (i32.add (local.get $AUX) (i32.shl (local.get $s) (i32.const 3))) (local.get $sq))'}
      (local.set $s (i32.add (local.get $s) (i32.const 1)))
      (br $steps)))
    )`;
}

/**
 * one value's bin (binOf's steps) counted into copy `q` of the histogram whose class row starts at $h:
 * the value is $xd (f64), the range [$lo, $hi] with $scale, the edges f64 at $e
 */
function bin(lo: string, hi: string, scale: string, e: string, h: string, q: number): string {
  return `
          (if (i32.and (f64.ge (local.get $xd) (local.get ${lo})) (f64.le (local.get $xd) (local.get ${hi}))) (then
            (local.set $i (i32.wrap_i64 (i64.reinterpret_f64 (f64.add (f64.floor (f64.mul (f64.sub (local.get $xd) (local.get ${lo})) (local.get ${scale}))) (f64.const 4503599627370496)))))
            (if (i32.gt_s (local.get $i) (local.get $last)) (then (local.set $i (local.get $last))))
            (local.set $ep (i32.add (local.get ${e}) (i32.shl (local.get $i) (i32.const 3))))
            (if (f64.lt (local.get $xd) (f64.load (local.get $ep)))
              (then (local.set $i (i32.sub (local.get $i) (i32.const 1))))
              (else (if (i32.and (i32.ne (local.get $i) (local.get $last)) (f64.ge (local.get $xd) (f64.load offset=8 (local.get $ep))))
                (then (local.set $i (i32.add (local.get $i) (i32.const 1)))))))
            (local.set $hp (i32.add (local.get ${h}) (i32.shl (local.get $i) (i32.const 4))))
            (i32.store offset=${4 * q} (local.get $hp) (i32.add (i32.load offset=${4 * q} (local.get $hp)) (i32.const 1)))))`;
}

/** pass 2: Σ(x − mean)² and the shared histogram; `own` also each class's own histogram */
function spread(own: boolean): string {
  const name = own ? 'spread_acts' : 'spread_grads';
  const bins = (q: number) => bin('$lo', '$hi', '$scale', '$E', '$hs', q) + (own ? bin('$clo', '$chi', '$csc', '$oe', '$ho', q) : '');
  const lane = (v: string, l: number, q: number) => `
          (local.set $xd (f64x2.extract_lane ${l} (local.get ${v})))${bins(q)}`;
  return `
  (func (export "${name}") (param $D i32) (param $w i32) (param $count i32) (param $RC i32) (param $bins i32)
    (param $MEAN i32) (param $M2 i32) (param $HS i32) ${own ? '(param $HO i32)' : ''}
    (param $lo f64) (param $hi f64) (param $scale f64) (param $E i32)
    ${own ? '(param $OLO i32) (param $OHI i32) (param $OSC i32) (param $OE i32)' : ''}
    (local $r i32) (local $c i32) (local $k i32) (local $p i32) (local $pv i32) (local $pe i32) (local $pmean i32) (local $pm2 i32)
    (local $hs i32) (local $ho i32) (local $oe i32) (local $clo f64) (local $chi f64) (local $csc f64)
    (local $i i32) (local $last i32) (local $ep i32) (local $hp i32) (local $w4 i32)
    (local $x v128) (local $a v128) (local $b v128) (local $da v128) (local $xd f64)
    (local.set $w4 (i32.and (local.get $w) (i32.const -4)))
    (local.set $last (i32.sub (local.get $bins) (i32.const 1)))
    (block $rows_done (loop $rows
      (br_if $rows_done (i32.ge_u (local.get $r) (local.get $count)))
      (local.set $c (i32.load (i32.add (local.get $RC) (i32.shl (local.get $r) (i32.const 2)))))
      (local.set $k (i32.mul (local.get $c) (local.get $w)))
      (local.set $p (i32.add (local.get $D) (i32.shl (i32.mul (local.get $r) (local.get $w)) (i32.const 2))))
      (local.set $pv (i32.add (local.get $p) (i32.shl (local.get $w4) (i32.const 2))))
      (local.set $pe (i32.add (local.get $p) (i32.shl (local.get $w) (i32.const 2))))
      (local.set $pmean (i32.add (local.get $MEAN) (i32.shl (local.get $k) (i32.const 3))))
      (local.set $pm2 (i32.add (local.get $M2) (i32.shl (local.get $k) (i32.const 3))))
      (local.set $hs (i32.add (local.get $HS) (i32.shl (i32.mul (local.get $c) (local.get $bins)) (i32.const 4))))
      ${own ? `
      (local.set $ho (i32.add (local.get $HO) (i32.shl (i32.mul (local.get $c) (local.get $bins)) (i32.const 4))))
      (local.set $oe (i32.add (local.get $OE) (i32.shl (i32.mul (local.get $c) (i32.add (local.get $bins) (i32.const 1))) (i32.const 3))))
      (local.set $clo (f64.load (i32.add (local.get $OLO) (i32.shl (local.get $c) (i32.const 3)))))
      (local.set $chi (f64.load (i32.add (local.get $OHI) (i32.shl (local.get $c) (i32.const 3)))))
      (local.set $csc (f64.load (i32.add (local.get $OSC) (i32.shl (local.get $c) (i32.const 3)))))` : ''}
      (block $vec_done (loop $vec
        (br_if $vec_done (i32.ge_u (local.get $p) (local.get $pv)))
        (local.set $x (v128.load (local.get $p)))
        (local.set $a (f64x2.promote_low_f32x4 (local.get $x)))
        (local.set $b (f64x2.promote_low_f32x4 (${shuffleHigh} (local.get $x) (local.get $x))))
        (local.set $da (f64x2.sub (local.get $a) (v128.load (local.get $pmean))))
        (v128.store (local.get $pm2) (f64x2.add (v128.load (local.get $pm2)) (f64x2.mul (local.get $da) (local.get $da))))
        (local.set $da (f64x2.sub (local.get $b) (v128.load offset=16 (local.get $pmean))))
        (v128.store offset=16 (local.get $pm2) (f64x2.add (v128.load offset=16 (local.get $pm2)) (f64x2.mul (local.get $da) (local.get $da))))
        ${lane('$a', 0, 0)}${lane('$a', 1, 1)}${lane('$b', 0, 2)}${lane('$b', 1, 3)}
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (local.set $pmean (i32.add (local.get $pmean) (i32.const 32)))
        (local.set $pm2 (i32.add (local.get $pm2) (i32.const 32)))
        (br $vec)))
      (block $tail_done (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $p) (local.get $pe)))
        (local.set $xd (f64.promote_f32 (f32.load (local.get $p))))
        (f64.store (local.get $pm2) (f64.add (f64.load (local.get $pm2))
          (f64.mul (f64.sub (local.get $xd) (f64.load (local.get $pmean))) (f64.sub (local.get $xd) (f64.load (local.get $pmean))))))
        ${bins(0)}
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (local.set $pmean (i32.add (local.get $pmean) (i32.const 8)))
        (local.set $pm2 (i32.add (local.get $pm2) (i32.const 8)))
        (br $tail)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rows)))
    )`;
}

export function statsKernelsWat(): string {
  return `(module
  (import "env" "memory" (memory 1))
  ${accumulate(true)}
  ${accumulate(false)}
  ${spread(true)}
  ${spread(false)}
)`;
}
