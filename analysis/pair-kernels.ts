// WebAssembly SIMD kernels of the analyses' O(n²) pair loops (silhouette.ts; tsne.ts), assembled from the
// WAT text below by wabt (as engine/wasm/load.ts does the training's kernels) on first use, per thread.
// The analyses are synchronous: pairKernels() hands out the instance once it is ready and starts loading it
// on the first call (that call, and any before the load ends, get null: the caller's JavaScript loops).
// Either way the numbers are the same bit for bit — the two f64x2 lanes are two different rows i, each
// summing its terms in the JS loops' order (no lane ever holds part of another lane's sum, no FMA), so the
// lanes only do at once what the JS does one after the other (test/analysis/silhouette-rows4.test.ts and
// tsne-fast.test.ts, against the plain loops of silhouette-reference.ts and ../helpers/tsne-reference.ts). A
// caller that can wait (a helper thread's first task: suite-tasks.ts ready) awaits pairKernelsReady().
// Never in use: MLP_LENS_WASM=0, no WebAssembly SIMD, wabt not importable (a browser bundle).
import { type GrowableKernels, LazyKernels } from '../engine/wasm/load.ts';

/** the kernels' signatures (pointers are byte offsets into `memory`; indices and sizes in elements) */
export interface PairKernelExports {
  /**
   * silhouette: rows o/d .. o/d+3 of xs [., d] f64 against rows lo..end−1: acc[k] += dist(row k, q) in
   * increasing q; sums[back + q] = (((sums[back + q] + dist0) + dist1) + dist2) + dist3. T: [d, 4] f64 scratch
   */
  sil4(xs: number, d: number, o: number, lo: number, end: number, sums: number, back: number, acc: number, T: number): void;
  /** sil4 for d = 2, the columns unrolled (T: [2, 4] f64 scratch) */
  sil4d2(xs: number, o: number, lo: number, end: number, sums: number, back: number, acc: number, T: number): void;
  /**
   * sil4 for every prefix t of the columns (the first ends[t], i32 [S]): prefix t adds to acc[4t + k] and
   * sums[t·stride + back + q]
   */
  sil4prefix(xs: number, d: number, o: number, lo: number, end: number, sums: number, back: number, stride: number,
    ends: number, S: number, acc: number, T: number): void;
  /**
   * t-SNE's force sums of rows 0..(n & ~1)−1 (tsne.ts forcesRow's terms), two rows a lane pair, each over
   * j = 0..n−1 in order: P2 holds row pairs side by side (P2[(i/2)·2n + 2j + lane] = P[(i + lane)·n + j]);
   * y0, y1 [n]; writes at0, at1, re0, re1, zr [n] of those rows
   */
  tsne_forces(P2: number, y0: number, y1: number, n: number, at0: number, at1: number, re0: number, re1: number, zr: number): void;
}

export type PairKernels = GrowableKernels<PairKernelExports>;

/** tsne_forces' term of row pair (i, i+1) and point j (at $j, P2's at $pp + 16j); lane `zero` (j = that row) num 0 */
const tsneTerm = (zero?: 0 | 1): string => String.raw`
   (local.set $e0 (f64x2.sub (local.get $u0) (f64x2.splat (f64.load (i32.add (local.get $y0) (i32.shl (local.get $j) (i32.const 3)))))))
   (local.set $e1 (f64x2.sub (local.get $u1) (f64x2.splat (f64.load (i32.add (local.get $y1) (i32.shl (local.get $j) (i32.const 3)))))))
   (local.set $num (f64x2.div (v128.const f64x2 1 1) (f64x2.add (f64x2.add (v128.const f64x2 1 1)
     (f64x2.mul (local.get $e0) (local.get $e0))) (f64x2.mul (local.get $e1) (local.get $e1)))))
   ${zero === undefined ? '' : `(local.set $num (f64x2.replace_lane ${zero} (local.get $num) (f64.const 0)))`}
   (local.set $z (f64x2.add (local.get $z) (local.get $num)))
   (local.set $pa (f64x2.mul (v128.load (i32.add (local.get $pp) (i32.shl (local.get $j) (i32.const 4)))) (local.get $num)))
   (local.set $pr (f64x2.mul (local.get $num) (local.get $num)))
   (local.set $a0 (f64x2.add (local.get $a0) (f64x2.mul (local.get $pa) (local.get $e0))))
   (local.set $a1 (f64x2.add (local.get $a1) (f64x2.mul (local.get $pa) (local.get $e1))))
   (local.set $r0 (f64x2.add (local.get $r0) (f64x2.mul (local.get $pr) (local.get $e0))))
   (local.set $r1 (f64x2.add (local.get $r1) (f64x2.mul (local.get $pr) (local.get $e1))))
   (local.set $j (i32.add (local.get $j) (i32.const 1)))`;

const WAT = String.raw`(module
 (memory (export "memory") 1)

 ;; T[4j + k] = xs[o + k·d + j] (j < d, k < 4): the four rows' columns side by side
 (func $transpose (param $xs i32) (param $d i32) (param $o i32) (param $T i32)
  (local $j i32) (local $p i32) (local $t i32)
  (block $done (loop $next
   (br_if $done (i32.ge_u (local.get $j) (local.get $d)))
   (local.set $p (i32.add (local.get $xs) (i32.shl (i32.add (local.get $o) (local.get $j)) (i32.const 3))))
   (local.set $t (i32.add (local.get $T) (i32.shl (local.get $j) (i32.const 5))))
   (f64.store (local.get $t) (f64.load (local.get $p)))
   (f64.store offset=8 (local.get $t) (f64.load (i32.add (local.get $p) (i32.shl (local.get $d) (i32.const 3)))))
   (f64.store offset=16 (local.get $t) (f64.load (i32.add (local.get $p) (i32.shl (local.get $d) (i32.const 4)))))
   (f64.store offset=24 (local.get $t) (f64.load (i32.add (local.get $p) (i32.mul (local.get $d) (i32.const 24)))))
   (local.set $j (i32.add (local.get $j) (i32.const 1)))
   (br $next))))

 (func (export "sil4") (param $xs i32) (param $d i32) (param $o i32) (param $lo i32) (param $end i32)
  (param $sums i32) (param $back i32) (param $acc i32) (param $T i32)
  (local $q i32) (local $p i32) (local $t i32) (local $tend i32) (local $sp i32)
  (local $s01 v128) (local $s23 v128) (local $x v128) (local $v v128) (local $w v128) (local $a01 v128) (local $a23 v128)
  (call $transpose (local.get $xs) (local.get $d) (local.get $o) (local.get $T))
  (local.set $tend (i32.add (local.get $T) (i32.shl (local.get $d) (i32.const 5))))
  (local.set $a01 (v128.load (local.get $acc)))
  (local.set $a23 (v128.load offset=16 (local.get $acc)))
  (local.set $q (local.get $lo))
  (local.set $p (i32.add (local.get $xs) (i32.shl (i32.mul (local.get $lo) (local.get $d)) (i32.const 3))))
  (local.set $sp (i32.add (local.get $sums) (i32.shl (i32.add (local.get $back) (local.get $lo)) (i32.const 3))))
  (block $done (loop $next
   (br_if $done (i32.ge_s (local.get $q) (local.get $end)))
   (local.set $s01 (v128.const f64x2 0 0))
   (local.set $s23 (v128.const f64x2 0 0))
   (local.set $t (local.get $T))
   ;; the squared distance of each row to q, column by column from 0
   (block $cols (loop $col
    (br_if $cols (i32.ge_u (local.get $t) (local.get $tend)))
    (local.set $x (f64x2.splat (f64.load (local.get $p))))
    (local.set $v (f64x2.sub (v128.load (local.get $t)) (local.get $x)))
    (local.set $w (f64x2.sub (v128.load offset=16 (local.get $t)) (local.get $x)))
    (local.set $s01 (f64x2.add (local.get $s01) (f64x2.mul (local.get $v) (local.get $v))))
    (local.set $s23 (f64x2.add (local.get $s23) (f64x2.mul (local.get $w) (local.get $w))))
    (local.set $p (i32.add (local.get $p) (i32.const 8)))
    (local.set $t (i32.add (local.get $t) (i32.const 32)))
    (br $col)))
   (local.set $s01 (f64x2.sqrt (local.get $s01)))
   (local.set $s23 (f64x2.sqrt (local.get $s23)))
   (local.set $a01 (f64x2.add (local.get $a01) (local.get $s01)))
   (local.set $a23 (f64x2.add (local.get $a23) (local.get $s23)))
   (f64.store (local.get $sp) (f64.add (f64.add (f64.add (f64.add (f64.load (local.get $sp))
     (f64x2.extract_lane 0 (local.get $s01))) (f64x2.extract_lane 1 (local.get $s01)))
     (f64x2.extract_lane 0 (local.get $s23))) (f64x2.extract_lane 1 (local.get $s23))))
   (local.set $sp (i32.add (local.get $sp) (i32.const 8)))
   (local.set $q (i32.add (local.get $q) (i32.const 1)))
   (br $next)))
  (v128.store (local.get $acc) (local.get $a01))
  (v128.store offset=16 (local.get $acc) (local.get $a23)))

 (func (export "sil4d2") (param $xs i32) (param $o i32) (param $lo i32) (param $end i32)
  (param $sums i32) (param $back i32) (param $acc i32) (param $T i32)
  (local $q i32) (local $p i32) (local $sp i32) (local $c001 v128) (local $c023 v128) (local $c101 v128) (local $c123 v128)
  (local $s01 v128) (local $s23 v128) (local $x v128) (local $y v128) (local $v v128) (local $w v128) (local $a01 v128) (local $a23 v128)
  (call $transpose (local.get $xs) (i32.const 2) (local.get $o) (local.get $T))
  (local.set $c001 (v128.load (local.get $T)))
  (local.set $c023 (v128.load offset=16 (local.get $T)))
  (local.set $c101 (v128.load offset=32 (local.get $T)))
  (local.set $c123 (v128.load offset=48 (local.get $T)))
  (local.set $a01 (v128.load (local.get $acc)))
  (local.set $a23 (v128.load offset=16 (local.get $acc)))
  (local.set $q (local.get $lo))
  (local.set $p (i32.add (local.get $xs) (i32.shl (local.get $lo) (i32.const 4))))
  (local.set $sp (i32.add (local.get $sums) (i32.shl (i32.add (local.get $back) (local.get $lo)) (i32.const 3))))
  (block $done (loop $next
   (br_if $done (i32.ge_s (local.get $q) (local.get $end)))
   (local.set $x (f64x2.splat (f64.load (local.get $p))))
   (local.set $y (f64x2.splat (f64.load offset=8 (local.get $p))))
   ;; e0·e0 + e1·e1 of each row (as (0 + e0²) + e1², the JS loops' sum: 0 + e0² is e0²)
   (local.set $v (f64x2.sub (local.get $c001) (local.get $x)))
   (local.set $w (f64x2.sub (local.get $c101) (local.get $y)))
   (local.set $s01 (f64x2.sqrt (f64x2.add (f64x2.mul (local.get $v) (local.get $v)) (f64x2.mul (local.get $w) (local.get $w)))))
   (local.set $v (f64x2.sub (local.get $c023) (local.get $x)))
   (local.set $w (f64x2.sub (local.get $c123) (local.get $y)))
   (local.set $s23 (f64x2.sqrt (f64x2.add (f64x2.mul (local.get $v) (local.get $v)) (f64x2.mul (local.get $w) (local.get $w)))))
   (local.set $a01 (f64x2.add (local.get $a01) (local.get $s01)))
   (local.set $a23 (f64x2.add (local.get $a23) (local.get $s23)))
   (f64.store (local.get $sp) (f64.add (f64.add (f64.add (f64.add (f64.load (local.get $sp))
     (f64x2.extract_lane 0 (local.get $s01))) (f64x2.extract_lane 1 (local.get $s01)))
     (f64x2.extract_lane 0 (local.get $s23))) (f64x2.extract_lane 1 (local.get $s23))))
   (local.set $p (i32.add (local.get $p) (i32.const 16)))
   (local.set $sp (i32.add (local.get $sp) (i32.const 8)))
   (local.set $q (i32.add (local.get $q) (i32.const 1)))
   (br $next)))
  (v128.store (local.get $acc) (local.get $a01))
  (v128.store offset=16 (local.get $acc) (local.get $a23)))

 (func (export "sil4prefix") (param $xs i32) (param $d i32) (param $o i32) (param $lo i32) (param $end i32)
  (param $sums i32) (param $back i32) (param $stride i32) (param $ends i32) (param $S i32) (param $acc i32) (param $T i32)
  (local $q i32) (local $p i32) (local $t i32) (local $tstop i32) (local $at i32) (local $ap i32) (local $ep i32) (local $eend i32)
  (local $s01 v128) (local $s23 v128) (local $x v128) (local $v v128) (local $w v128) (local $d01 v128) (local $d23 v128)
  (call $transpose (local.get $xs) (local.get $d) (local.get $o) (local.get $T))
  (local.set $eend (i32.add (local.get $ends) (i32.shl (local.get $S) (i32.const 2))))
  (local.set $q (local.get $lo))
  (block $done (loop $next
   (br_if $done (i32.ge_s (local.get $q) (local.get $end)))
   (local.set $s01 (v128.const f64x2 0 0))
   (local.set $s23 (v128.const f64x2 0 0))
   (local.set $t (local.get $T))
   (local.set $p (i32.add (local.get $xs) (i32.shl (i32.mul (local.get $q) (local.get $d)) (i32.const 3))))
   (local.set $at (i32.add (local.get $sums) (i32.shl (i32.add (local.get $back) (local.get $q)) (i32.const 3))))
   (local.set $ap (local.get $acc))
   (local.set $ep (local.get $ends))
   (block $prefixes (loop $prefix
    (br_if $prefixes (i32.ge_u (local.get $ep) (local.get $eend)))
    (local.set $tstop (i32.add (local.get $T) (i32.shl (i32.load (local.get $ep)) (i32.const 5))))
    ;; the squared distances grow by this prefix's columns
    (block $cols (loop $col
     (br_if $cols (i32.ge_u (local.get $t) (local.get $tstop)))
     (local.set $x (f64x2.splat (f64.load (local.get $p))))
     (local.set $v (f64x2.sub (v128.load (local.get $t)) (local.get $x)))
     (local.set $w (f64x2.sub (v128.load offset=16 (local.get $t)) (local.get $x)))
     (local.set $s01 (f64x2.add (local.get $s01) (f64x2.mul (local.get $v) (local.get $v))))
     (local.set $s23 (f64x2.add (local.get $s23) (f64x2.mul (local.get $w) (local.get $w))))
     (local.set $p (i32.add (local.get $p) (i32.const 8)))
     (local.set $t (i32.add (local.get $t) (i32.const 32)))
     (br $col)))
    (local.set $d01 (f64x2.sqrt (local.get $s01)))
    (local.set $d23 (f64x2.sqrt (local.get $s23)))
    (v128.store (local.get $ap) (f64x2.add (v128.load (local.get $ap)) (local.get $d01)))
    (v128.store offset=16 (local.get $ap) (f64x2.add (v128.load offset=16 (local.get $ap)) (local.get $d23)))
    (f64.store (local.get $at) (f64.add (f64.add (f64.add (f64.add (f64.load (local.get $at))
      (f64x2.extract_lane 0 (local.get $d01))) (f64x2.extract_lane 1 (local.get $d01)))
      (f64x2.extract_lane 0 (local.get $d23))) (f64x2.extract_lane 1 (local.get $d23))))
    (local.set $at (i32.add (local.get $at) (i32.shl (local.get $stride) (i32.const 3))))
    (local.set $ap (i32.add (local.get $ap) (i32.const 32)))
    (local.set $ep (i32.add (local.get $ep) (i32.const 4)))
    (br $prefix)))
   (local.set $q (i32.add (local.get $q) (i32.const 1)))
   (br $next))))

 (func (export "tsne_forces") (param $P2 i32) (param $y0 i32) (param $y1 i32) (param $n i32)
  (param $at0 i32) (param $at1 i32) (param $re0 i32) (param $re1 i32) (param $zr i32)
  (local $i i32) (local $j i32) (local $pp i32) (local $off i32)
  (local $u0 v128) (local $u1 v128) (local $e0 v128) (local $e1 v128) (local $num v128) (local $pa v128) (local $pr v128)
  (local $z v128) (local $a0 v128) (local $a1 v128) (local $r0 v128) (local $r1 v128)
  (block $rows (loop $row
   (br_if $rows (i32.gt_s (i32.add (local.get $i) (i32.const 2)) (local.get $n)))
   (local.set $off (i32.shl (local.get $i) (i32.const 3)))
   (local.set $u0 (v128.load (i32.add (local.get $y0) (local.get $off))))
   (local.set $u1 (v128.load (i32.add (local.get $y1) (local.get $off))))
   (local.set $pp (i32.add (local.get $P2) (i32.mul (local.get $off) (local.get $n))))
   (local.set $z (v128.const f64x2 0 0))
   (local.set $a0 (v128.const f64x2 0 0))
   (local.set $a1 (v128.const f64x2 0 0))
   (local.set $r0 (v128.const f64x2 0 0))
   (local.set $r1 (v128.const f64x2 0 0))
   (local.set $j (i32.const 0))
   (block $before (loop $b
    (br_if $before (i32.ge_s (local.get $j) (local.get $i)))
    ${tsneTerm()}
    (br $b)))
   ${tsneTerm(0)}
   ${tsneTerm(1)}
   (block $after (loop $a
    (br_if $after (i32.ge_s (local.get $j) (local.get $n)))
    ${tsneTerm()}
    (br $a)))
   (v128.store (i32.add (local.get $zr) (local.get $off)) (local.get $z))
   (v128.store (i32.add (local.get $at0) (local.get $off)) (local.get $a0))
   (v128.store (i32.add (local.get $at1) (local.get $off)) (local.get $a1))
   (v128.store (i32.add (local.get $re0) (local.get $off)) (local.get $r0))
   (v128.store (i32.add (local.get $re1) (local.get $off)) (local.get $r1))
   (local.set $i (i32.add (local.get $i) (i32.const 2)))
   (br $row))))
)`;

const kernels = new LazyKernels<PairKernelExports>('pair-kernels.wat', WAT);

/** the kernels if loaded (and not switched off), else null; the first call starts loading them */
export const pairKernels = (): PairKernels | null => kernels.get();

/** resolves once the kernels are loaded (true) or cannot be (false: pairKernelsUnavailable() says why) */
export const pairKernelsReady = (): Promise<boolean> => kernels.ready();

/** why the kernels are not in use ('' when they are, or before the load ends) */
export const pairKernelsUnavailable = (): string => kernels.unavailable();

/** tests and benchmarks: the JS loops (true) or the kernels when loaded (false) */
export const switchPairKernelsOff = (value: boolean): void => kernels.switchOff(value);
