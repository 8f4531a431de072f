// WebAssembly SIMD kernels built on V8's Math.exp and Math.log ported to WAT (engine/wasm/fdlibm.ts), on
// their own growable memory: t-SNE's perplexity calibration (analysis/tsne.ts conditionalP), the linear
// probe's softmax residuals (analysis/probe.ts fitWasm), and the
// functions over arrays that bench/fdlibm-check.ts and the self-check below compare with Math.exp/Math.log.
// Loaded as analysis/pair-kernels.ts is (assembled from the text by wabt on first use, the binary cached
// on disk): mathKernels() hands out the instance once ready and starts loading it on its first call (null
// until then: the caller's JS loops); a caller that can wait awaits mathKernelsReady(). Before anything
// uses them, the load compares the ported exp and log with this engine's Math.exp and Math.log on a few
// thousand inputs (selfCheck): where they differ (a V8 whose Math.log is no longer fdlibm's, a build that
// fuses multiply-adds) the kernels stay unused, since the point of them is the JS loops' numbers bit for bit.
// Never in use: MLP_LENS_WASM=0, no WebAssembly SIMD, wabt not importable (a browser bundle).
import { expF64x2, fdlibmWat, hexf } from './fdlibm.ts';
import { type GrowableKernels, LazyKernels } from './load.ts';

/** the f64x2 exp inlined into tsne_cond_p's loop (its locals, their set-up, the expression) */
const exp2 = expF64x2('e');

/** the kernels' signatures (pointers are byte offsets into `memory`; sizes in elements) */
export interface MathKernelExports {
  /** dst[i] = Math.exp(src[i]), f64 [n], one at a time (fdlibm.ts $fd_exp) */
  exp_n(src: number, dst: number, n: number): void;
  /** the same, two at a time ($fd_exp2; an odd last one by $fd_exp) */
  exp2_n(src: number, dst: number, n: number): void;
  /** dst[i] = Math.log(src[i]), f64 [n] */
  log_n(src: number, dst: number, n: number): void;
  /**
   * t-SNE's conditional probabilities (analysis/tsne.ts conditionalP, the same steps in the same order):
   * d2 f64 [n, n] squared distances, finite and ≥ 0 → p f64 [n, n], each row's β searched until its entropy is
   * `target`; rows [i0, i1) only (each row is its own search, so calls over row ranges give the same p)
   */
  tsne_cond_p(d2: number, p: number, n: number, target: number, i0: number, i1: number): void;
  /**
   * the linear probe's residuals (analysis/probe.ts softmaxResidual on every row, the same steps in the
   * same order): res f64 [rows, Cp] logits (the first C of each row) → (softmax − one-hot(label)) · invN,
   * labels i32 [rows] (−1: none), a padding column C (when Cp > C) set to 0. Two rows at a time (f64x2
   * lanes): `rows` even. Returns 1, or 0 having written nothing when a value of res is not finite (NaN's
   * bits are the compilers' to choose: the caller's JS loop then)
   */
  softmax_residual(res: number, rows: number, C: number, Cp: number, labels: number, invN: number): number;
}

export type MathKernels = GrowableKernels<MathKernelExports>;

// tsne_cond_p: conditionalP's row loop over pairs of columns, exp two at a time (the pair holding column i
// zeroed there), each sum in column order. For finite d2 ≥ 0 only (the caller checks): no NaN arises then,
// whereas which NaN an operation on two NaNs gives is up to the compilers (x64 keeps the first operand's,
// and V8 may swap the operands of a + b, in JS and in wasm)
export const mathKernelsWat = String.raw`(module
 (memory (export "memory") 1)
 ${fdlibmWat}

 (func (export "exp_n") (param $src i32) (param $dst i32) (param $n i32)
  (local $end i32)
  (local.set $end (i32.add (local.get $src) (i32.shl (local.get $n) (i32.const 3))))
  (block $done (loop $next
   (br_if $done (i32.ge_u (local.get $src) (local.get $end)))
   (f64.store (local.get $dst) (call $fd_exp (f64.load (local.get $src))))
   (local.set $src (i32.add (local.get $src) (i32.const 8)))
   (local.set $dst (i32.add (local.get $dst) (i32.const 8)))
   (br $next))))

 (func (export "exp2_n") (param $src i32) (param $dst i32) (param $n i32)
  (local $end i32)
  (local.set $end (i32.add (local.get $src) (i32.shl (i32.and (local.get $n) (i32.const -2)) (i32.const 3))))
  (block $done (loop $next
   (br_if $done (i32.ge_u (local.get $src) (local.get $end)))
   (v128.store (local.get $dst) (call $fd_exp2 (v128.load (local.get $src))))
   (local.set $src (i32.add (local.get $src) (i32.const 16)))
   (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
   (br $next)))
  (if (i32.and (local.get $n) (i32.const 1)) (then
   (f64.store (local.get $dst) (call $fd_exp (f64.load (local.get $src)))))))

 (func (export "log_n") (param $src i32) (param $dst i32) (param $n i32)
  (local $end i32)
  (local.set $end (i32.add (local.get $src) (i32.shl (local.get $n) (i32.const 3))))
  (block $done (loop $next
   (br_if $done (i32.ge_u (local.get $src) (local.get $end)))
   (f64.store (local.get $dst) (call $fd_log (f64.load (local.get $src))))
   (local.set $src (i32.add (local.get $src) (i32.const 8)))
   (local.set $dst (i32.add (local.get $dst) (i32.const 8)))
   (br $next))))

 (func (export "tsne_cond_p") (param $d2 i32) (param $p i32) (param $n i32) (param $target f64) (param $i0 i32) (param $i1 i32)
  (local $i i32) (local $j i32) (local $step i32) (local $row i32) (local $prow i32) (local $end2 i32)
  (local $beta f64) (local $lo f64) (local $hi f64) (local $sum f64) (local $sumDP f64) (local $diff f64) (local $x f64)
  (local $vb v128) (local $v v128) ${exp2.locals}
  ${exp2.init}
  (local.set $end2 (i32.and (local.get $n) (i32.const -2)))
  (local.set $i (local.get $i0))
  (block $rows (loop $rowloop
   (br_if $rows (i32.ge_s (local.get $i) (local.get $i1)))
   (local.set $row (i32.add (local.get $d2) (i32.shl (i32.mul (local.get $i) (local.get $n)) (i32.const 3))))
   (local.set $prow (i32.add (local.get $p) (i32.shl (i32.mul (local.get $i) (local.get $n)) (i32.const 3))))
   (local.set $beta (f64.const 1))
   (local.set $lo (f64.const -inf))
   (local.set $hi (f64.const inf))
   (local.set $step (i32.const 0))
   (block $found (loop $search
    (br_if $found (i32.ge_s (local.get $step) (i32.const 100)))
    ;; p_j = exp(−d2_j·β) (0 at j = i), summed in j order
    (local.set $sum (f64.const 0))
    (local.set $vb (f64x2.splat (local.get $beta)))
    (local.set $j (i32.const 0))
    (block $pairs (loop $pair
     (br_if $pairs (i32.ge_s (local.get $j) (local.get $end2)))
     (local.set $v ${exp2.expr(`(f64x2.mul (f64x2.neg (v128.load (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 3)))))
      (local.get $vb))`)})
     (if (i32.eq (i32.shr_u (local.get $j) (i32.const 1)) (i32.shr_u (local.get $i) (i32.const 1))) (then
      (if (i32.and (local.get $i) (i32.const 1))
       (then (local.set $v (f64x2.replace_lane 1 (local.get $v) (f64.const 0))))
       (else (local.set $v (f64x2.replace_lane 0 (local.get $v) (f64.const 0)))))))
     (v128.store (i32.add (local.get $prow) (i32.shl (local.get $j) (i32.const 3))) (local.get $v))
     (local.set $sum (f64.add (f64.add (local.get $sum) (f64x2.extract_lane 0 (local.get $v))) (f64x2.extract_lane 1 (local.get $v))))
     (local.set $j (i32.add (local.get $j) (i32.const 2)))
     (br $pair)))
    (if (i32.lt_s (local.get $j) (local.get $n)) (then
     (local.set $x (if (result f64) (i32.eq (local.get $j) (local.get $i))
      (then (f64.const 0))
      (else (call $fd_exp (f64.mul (f64.neg (f64.load (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 3))))) (local.get $beta))))))
     (f64.store (i32.add (local.get $prow) (i32.shl (local.get $j) (i32.const 3))) (local.get $x))
     (local.set $sum (f64.add (local.get $sum) (local.get $x)))))
    (if (f64.eq (local.get $sum) (f64.const 0)) (then (local.set $sum (f64.const 0x1p-52))))
    ;; p_j /= Σ, and Σ_j d2_j·p_j in j order
    (local.set $sumDP (f64.const 0))
    (local.set $vb (f64x2.splat (local.get $sum)))
    (local.set $j (i32.const 0))
    (block $pairs (loop $pair
     (br_if $pairs (i32.ge_s (local.get $j) (local.get $end2)))
     (local.set $v (f64x2.div (v128.load (i32.add (local.get $prow) (i32.shl (local.get $j) (i32.const 3)))) (local.get $vb)))
     (v128.store (i32.add (local.get $prow) (i32.shl (local.get $j) (i32.const 3))) (local.get $v))
     (local.set $v (f64x2.mul (v128.load (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 3)))) (local.get $v)))
     (local.set $sumDP (f64.add (f64.add (local.get $sumDP) (f64x2.extract_lane 0 (local.get $v))) (f64x2.extract_lane 1 (local.get $v))))
     (local.set $j (i32.add (local.get $j) (i32.const 2)))
     (br $pair)))
    (if (i32.lt_s (local.get $j) (local.get $n)) (then
     (local.set $x (f64.div (f64.load (i32.add (local.get $prow) (i32.shl (local.get $j) (i32.const 3)))) (local.get $sum)))
     (f64.store (i32.add (local.get $prow) (i32.shl (local.get $j) (i32.const 3))) (local.get $x))
     (local.set $sumDP (f64.add (local.get $sumDP) (f64.mul (f64.load (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 3)))) (local.get $x))))))
    ;; entropy − target, and the next β of the binary search
    (local.set $diff (f64.sub (f64.add (call $fd_log (local.get $sum)) (f64.mul (local.get $beta) (local.get $sumDP))) (local.get $target)))
    (br_if $found (f64.le (f64.abs (local.get $diff)) (f64.const ${hexf(1e-5)})))
    (if (f64.gt (local.get $diff) (f64.const 0))
     (then
      (local.set $lo (local.get $beta))
      (local.set $beta (if (result f64) (f64.eq (local.get $hi) (f64.const inf))
       (then (f64.mul (local.get $beta) (f64.const 2)))
       (else (f64.div (f64.add (local.get $beta) (local.get $hi)) (f64.const 2))))))
     (else
      (local.set $hi (local.get $beta))
      (local.set $beta (if (result f64) (f64.eq (local.get $lo) (f64.const -inf))
       (then (f64.div (local.get $beta) (f64.const 2)))
       (else (f64.div (f64.add (local.get $beta) (local.get $lo)) (f64.const 2)))))))
    (local.set $step (i32.add (local.get $step) (i32.const 1)))
    (br $search)))
   (local.set $i (i32.add (local.get $i) (i32.const 1)))
   (br $rowloop))))

 ;; softmax_residual: rows r and r + 1 in the two lanes; each row's max and sum over its classes in order,
 ;; as softmaxResidual's loops (max: x > max ? x : max, which f64x2.pmax(max, x) is)
 (func (export "softmax_residual") (param $res i32) (param $rows i32) (param $C i32) (param $Cp i32) (param $labels i32) (param $invN f64) (result i32)
  (local $p i32) (local $end i32) (local $r i32) (local $c i32) (local $a i32) (local $b i32) (local $rs i32)
  (local $v v128) (local $mx v128) (local $sum v128) (local $inv v128) (local $lab v128) (local $vinvN v128) ${exp2.locals}
  ${exp2.init}
  (if (i32.and (local.get $rows) (i32.const 1)) (then (return (i32.const 0))))
  (local.set $rs (i32.shl (local.get $Cp) (i32.const 3)))
  ;; every value finite (x − x is 0 exactly then), else nothing written
  (local.set $p (local.get $res))
  (local.set $end (i32.add (local.get $res) (i32.mul (local.get $rows) (local.get $rs))))
  (block $scanned (loop $scan
   (br_if $scanned (i32.ge_u (local.get $p) (local.get $end)))
   (if (f64.ne (f64.sub (f64.load (local.get $p)) (f64.load (local.get $p))) (f64.const 0)) (then (return (i32.const 0))))
   (local.set $p (i32.add (local.get $p) (i32.const 8)))
   (br $scan)))
  (local.set $vinvN (f64x2.splat (local.get $invN)))
  (local.set $r (i32.const 0))
  (block $done (loop $pair
   (br_if $done (i32.ge_u (local.get $r) (local.get $rows)))
   (local.set $a (i32.add (local.get $res) (i32.mul (local.get $r) (local.get $rs))))
   (local.set $b (i32.add (local.get $a) (local.get $rs)))
   ;; the two rows' labels as i64 lanes
   (local.set $lab (i64x2.extend_low_i32x4_s (v128.load64_zero (i32.add (local.get $labels) (i32.shl (local.get $r) (i32.const 2))))))
   (local.set $mx (v128.const f64x2 -inf -inf))
   (local.set $c (i32.const 0))
   (block $m (loop $max
    (br_if $m (i32.ge_s (local.get $c) (local.get $C)))
    (local.set $mx (f64x2.pmax (local.get $mx) (v128.load64_lane 1 (i32.add (local.get $b) (i32.shl (local.get $c) (i32.const 3)))
     (v128.load64_zero (i32.add (local.get $a) (i32.shl (local.get $c) (i32.const 3)))))))
    (local.set $c (i32.add (local.get $c) (i32.const 1)))
    (br $max)))
   (local.set $sum (v128.const f64x2 0 0))
   (local.set $c (i32.const 0))
   (block $e (loop $exps
    (br_if $e (i32.ge_s (local.get $c) (local.get $C)))
    (local.set $v ${exp2.expr(`(f64x2.sub (v128.load64_lane 1 (i32.add (local.get $b) (i32.shl (local.get $c) (i32.const 3)))
     (v128.load64_zero (i32.add (local.get $a) (i32.shl (local.get $c) (i32.const 3))))) (local.get $mx))`)})
    (v128.store64_lane 0 (i32.add (local.get $a) (i32.shl (local.get $c) (i32.const 3))) (local.get $v))
    (v128.store64_lane 1 (i32.add (local.get $b) (i32.shl (local.get $c) (i32.const 3))) (local.get $v))
    (local.set $sum (f64x2.add (local.get $sum) (local.get $v)))
    (local.set $c (i32.add (local.get $c) (i32.const 1)))
    (br $exps)))
   (local.set $inv (f64x2.div (local.get $vinvN) (local.get $sum)))
   (local.set $c (i32.const 0))
   (block $s (loop $scale
    (br_if $s (i32.ge_s (local.get $c) (local.get $C)))
    ;; e · inv − (c is the label ? invN : +0)
    (local.set $v (f64x2.sub
     (f64x2.mul (v128.load64_lane 1 (i32.add (local.get $b) (i32.shl (local.get $c) (i32.const 3)))
      (v128.load64_zero (i32.add (local.get $a) (i32.shl (local.get $c) (i32.const 3))))) (local.get $inv))
     (v128.and (i64x2.eq (local.get $lab) (i64x2.splat (i64.extend_i32_s (local.get $c)))) (local.get $vinvN))))
    (v128.store64_lane 0 (i32.add (local.get $a) (i32.shl (local.get $c) (i32.const 3))) (local.get $v))
    (v128.store64_lane 1 (i32.add (local.get $b) (i32.shl (local.get $c) (i32.const 3))) (local.get $v))
    (local.set $c (i32.add (local.get $c) (i32.const 1)))
    (br $scale)))
   (if (i32.gt_s (local.get $Cp) (local.get $C)) (then
    (f64.store (i32.add (local.get $a) (i32.shl (local.get $C) (i32.const 3))) (f64.const 0))
    (f64.store (i32.add (local.get $b) (i32.shl (local.get $C) (i32.const 3))) (f64.const 0))))
   (local.set $r (i32.add (local.get $r) (i32.const 2)))
   (br $pair)))
  (i32.const 1))
)`;


/**
 * '' when the ported exp (both forms) and log give Math.exp's and Math.log's bits on inputs that reach every
 * branch (each hot loop's range, the thresholds, specials), else the first input that differs
 */
function selfCheck(k: MathKernelExports, memory: WebAssembly.Memory): string {
  const xs: number[] = [0, -0, 1, -1, 2, 0.5, Infinity, -Infinity, NaN, 5e-324, -5e-324, 2.2250738585072014e-308, 1e-300, 1e300,
    709.782712893384, 709.7827128933841, -745.1332191019411, -745.1332191019412, -708.4, -709.1, 708.9, 0.34657359027997264,
    1.0397207708399179, 3.725290298461914e-9, 1.4142135623730951, 0.7071067811865476, 1 + 2 ** -52, 1 - 2 ** -53, 1e6];
  // a fixed stream: [−745, 0] (t-SNE), [−50, 50], (0, 1e6] and 2^[−40, 40] (log), random bit patterns
  let s = 0x9e3779b9;
  const u = () => ((s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 2 ** 32);
  for (let i = 0; i < 1024; i++) {
    xs.push(-745 * u(), 100 * u() - 50, 1e6 * u() + 1e-9, 2 ** (80 * u() - 40));
    xs.push(new Float64Array(new Uint32Array([u() * 2 ** 32, u() * 2 ** 32]).buffer)[0]);
  }
  const n = xs.length, src = 0, dst = 8 * n;
  if (memory.buffer.byteLength < 16 * n) memory.grow(Math.ceil((16 * n - memory.buffer.byteLength) / 65536));
  new Float64Array(memory.buffer, src, n).set(xs);
  const want = new Float64Array(n), wantBits = new BigUint64Array(want.buffer);
  const check = (name: string, run: () => void, f: (x: number) => number): string => {
    for (let i = 0; i < n; i++) want[i] = f(xs[i]);
    run();
    // bit patterns: NaN payloads and the signs of zeros included
    const got = new BigUint64Array(memory.buffer, dst, n);
    for (let i = 0; i < n; i++) if (got[i] !== wantBits[i]) return `${name}(${xs[i]}): bits ${got[i].toString(16)}, not ${wantBits[i].toString(16)}`;
    return '';
  };
  return check('exp', () => k.exp_n(src, dst, n), Math.exp) || check('exp2', () => k.exp2_n(src, dst, n), Math.exp) ||
    check('log', () => k.log_n(src, dst, n), Math.log);
}

const kernels = new LazyKernels<MathKernelExports>('math-kernels.wat', mathKernelsWat, (k, memory) => {
  const differs = selfCheck(k, memory);
  return differs && `fdlibm's exp/log are not this engine's Math.exp/Math.log: ${differs}`;
});

/** the kernels if loaded, checked (and not switched off), else null; the first call starts loading them */
export const mathKernels = (): MathKernels | null => kernels.get();

/** resolves once the kernels are loaded and checked (true) or cannot be used (false: mathKernelsUnavailable() says why) */
export const mathKernelsReady = (): Promise<boolean> => kernels.ready();

/** why the kernels are not in use ('' when they are, or before the load ends) */
export const mathKernelsUnavailable = (): string => kernels.unavailable();

/** tests and benchmarks: the JS loops (true) or the kernels when loaded (false) */
export const switchMathKernelsOff = (value: boolean): void => kernels.switchOff(value);
