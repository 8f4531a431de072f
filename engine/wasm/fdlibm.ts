// WebAssembly text (WAT) of V8's Math.exp and Math.log: fdlibm's e_exp.c and e_log.c as V8 carries them
// (src/base/ieee754.cc, which Math.exp/Math.log call, interpreted or optimised), step by step, so that a
// kernel calling these gets Math.exp's and Math.log's results bit for bit and can stand in for a JS loop
// whose output the regression oracle compares byte for byte. Spliced into a module's text (`fdlibmWat`):
//   $fd_exp (f64) → f64      exp, every branch of e_exp.c in its order
//   $fd_log (f64) → f64      log, every branch of e_log.c in its order
//   $fd_exp2 (v128) → v128   exp of both f64x2 lanes (expF64x2 splices the same into a loop)
// The f64x2 exp takes one path for every x in (−708, 709], e_exp.c's branches folded into it, each fold
// giving the bits of the branch it replaces: for |x| ≤ ½ln2, k = 0 and hi = x, lo = +0 make the general
// formula the k = 0 one (a/(c − 2) is −(a/(2 − c)) exactly; the signs of zeros could differ only for
// x = 0, which the |x| < 2⁻²⁸ select decides); for ½ln2 < |x| < 1.5ln2, trunc(x/ln2 ± ½) is ±1 already, and
// t = ±1 makes t·ln2HI and t·ln2LO e_exp.c's ±ln2HI, ±ln2LO; in that range k is in [−1021, 1023], so the
// scale is 2^k itself. A pair with a lane outside it (NaN, ±Inf, overflow, underflow, k < −1021 or 1024:
// rare in the loops that use it) goes to $fd_exp lane by lane.
// Exactness is checked, not argued only: bench/fdlibm-check.ts compares these with Math.exp/Math.log over
// ~10⁸ inputs (random bit patterns, the hot loops' ranges, every branch's thresholds ± a few ulps), and
// engine/wasm/math-kernels.ts compares a few thousand before anything uses them: a V8 whose Math.exp or
// Math.log is no longer fdlibm's (newer V8s take log from LLVM's libc) or a build that contracts a·b + c
// into an FMA leaves the callers on their JS loops. No FMA here either: wasm has none.

/** `v` as a WAT hex float literal (exact: no decimal round trip through wabt's parser) */
export function hexf(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  const bits = new BigUint64Array(new Float64Array([v]).buffer)[0];
  const sign = bits >> 63n ? '-' : '', e = Number((bits >> 52n) & 0x7ffn), m = (bits & 0xfffffffffffffn).toString(16).padStart(13, '0');
  if (e === 0) return m === '0000000000000' ? `${sign}0x0p+0` : `${sign}0x0.${m}p-1022`;
  return `${sign}0x1.${m}p${e - 1023}`;
}

/** the double of fdlibm's hex words (high, low), as a WAT literal */
const w = (hi: number, lo = 0): string => {
  const b = new Uint32Array([lo, hi]);
  return hexf(new Float64Array(b.buffer)[0]);
};

// e_exp.c
const O_THRESHOLD = w(0x40862e42, 0xfefa39ef), U_THRESHOLD = w(0xc0874910, 0xd52d3051);
const LN2HI = w(0x3fe62e42, 0xfee00000), LN2LO = w(0x3dea39ef, 0x35793c76), INVLN2 = w(0x3ff71547, 0x652b82fe);
const P1 = w(0x3fc55555, 0x5555553e), P2 = w(0xbf66c16c, 0x16bebd93), P3 = w(0x3f11566a, 0xaf25de2c);
const P4 = w(0xbebbbd41, 0xc5d26bf1), P5 = w(0x3e663769, 0x72bea4d0), E = w(0x4005bf0a, 0x8b145769);
const TWOM1000 = w(0x01700000), TWO1023 = w(0x7fe00000);
// e_log.c
const TWO54 = w(0x43500000), LG1 = w(0x3fe55555, 0x55555593), LG2 = w(0x3fd99999, 0x9997fa04), LG3 = w(0x3fd24924, 0x94229359);
const LG4 = w(0x3fcc71c5, 0x1d8e78af), LG5 = w(0x3fc74664, 0x96cb03de), LG6 = w(0x3fc39a09, 0xd078c69f), LG7 = w(0x3fc2f112, 0xdf3e5244);
const THIRD = hexf(0.33333333333333333);
// std::numeric_limits<double>::signaling_NaN(), what ieee754::log returns for x < 0
const SNAN = '(f64.reinterpret_i64 (i64.const 0x7ff4000000000000))';

/** e_exp.c's polynomial and reconstruction, shared by the scalar and the f64x2 exp: c = x − t·(P1 + t·(P2 + …)) */
const poly = (mul: string, add: string, sub: string, splat: (c: string) => string, x: string, t: string): string =>
  `(${sub} ${x} (${mul} ${t} (${add} ${splat(P1)} (${mul} ${t} (${add} ${splat(P2)} (${mul} ${t} (${add} ${splat(P3)}
    (${mul} ${t} (${add} ${splat(P4)} (${mul} ${t} ${splat(P5)}))))))))))`;

/** the f64x2 exp of the v128 expression `x` as a block expression, its locals $<p>… */
const expBlock = (p: string, x: string): string => String.raw`(block $${p}done (result v128)
  (local.set $${p}x ${x})
  ;; a NaN, x ≤ −708 (k < −1021: 2^k not normal; underflow) or x > 709 (k = 1024; overflow): lane by lane
  (if (i32.eqz (i64x2.all_true (v128.and (f64x2.le (local.get $${p}x) (v128.const f64x2 709 709))
   (f64x2.gt (local.get $${p}x) (v128.const f64x2 -708 -708))))) (then
   (br $${p}done (f64x2.replace_lane 1 (f64x2.splat (call $fd_exp (f64x2.extract_lane 0 (local.get $${p}x))))
    (call $fd_exp (f64x2.extract_lane 1 (local.get $${p}x)))))))
  (local.set $${p}ax (f64x2.abs (local.get $${p}x)))
  ;; t = k = trunc(x/ln2 ± ½), +0 for |x| ≤ ½ln2 (hx ≤ 0x3fd62e42); ±1 below 1.5ln2 without e_exp.c's branch
  (local.set $${p}t (v128.and (f64x2.trunc (f64x2.add (f64x2.mul (v128.const f64x2 ${INVLN2} ${INVLN2}) (local.get $${p}x))
    (v128.or (v128.const f64x2 0.5 0.5) (v128.and (local.get $${p}x) (v128.const i64x2 0x8000000000000000 0x8000000000000000)))))
   (f64x2.ge (local.get $${p}ax) (v128.const f64x2 ${w(0x3fd62e43)} ${w(0x3fd62e43)}))))
  (local.set $${p}hi (f64x2.sub (local.get $${p}x) (f64x2.mul (local.get $${p}t) (v128.const f64x2 ${LN2HI} ${LN2HI}))))
  (local.set $${p}lo (f64x2.mul (local.get $${p}t) (v128.const f64x2 ${LN2LO} ${LN2LO})))
  (local.set $${p}r (f64x2.sub (local.get $${p}hi) (local.get $${p}lo)))
  (local.set $${p}tt (f64x2.mul (local.get $${p}r) (local.get $${p}r)))
  (local.set $${p}c ${poly('f64x2.mul', 'f64x2.add', 'f64x2.sub', (c) => `(v128.const f64x2 ${c} ${c})`, `(local.get $${p}r)`, `(local.get $${p}tt)`)})
  ;; y·2^k: k + 1023 from the low bits of t + 1.5·2⁵², shifted into the exponent
  (local.set $${p}y (f64x2.mul (f64x2.sub (v128.const f64x2 1 1) (f64x2.sub (f64x2.sub (local.get $${p}lo)
    (f64x2.div (f64x2.mul (local.get $${p}r) (local.get $${p}c)) (f64x2.sub (v128.const f64x2 2 2) (local.get $${p}c)))) (local.get $${p}hi)))
   (i64x2.shl (i64x2.add (f64x2.add (local.get $${p}t) (v128.const f64x2 0x1.8p52 0x1.8p52)) (v128.const i64x2 1023 1023)) (i32.const 52))))
  ;; exp(1) = E (V8's special case), |x| < 2⁻²⁸: 1 + x
  (local.set $${p}y (v128.bitselect (v128.const f64x2 ${E} ${E}) (local.get $${p}y) (f64x2.eq (local.get $${p}x) (v128.const f64x2 1 1))))
  (v128.bitselect (f64x2.add (v128.const f64x2 1 1) (local.get $${p}x)) (local.get $${p}y)
   (f64x2.lt (local.get $${p}ax) (v128.const f64x2 ${w(0x3e300000)} ${w(0x3e300000)}))))`;

/**
 * exp of both f64x2 lanes, to splice into a loop rather than call ($fd_exp2 through a call a pair made
 * t-SNE's calibration ≈ 10 % slower): `locals` to declare in the function, `init` to run once before the
 * loop (its v128 constants, into locals), then `expr(x)`, a block expression (v128) of the v128
 * expression x. Its locals are named $<p>…; the module needs $fd_exp (fdlibmWat).
 */
export function expF64x2(p: string): { locals: string; init: string; expr: (x: string) => string } {
  const consts = [...new Set(expBlock(p, '').match(/\(v128\.const [^)]*\)/g))].filter((c) => !/^\(v128\.const \w+( 0)+\)$/.test(c));
  const temps = ['x', 'ax', 't', 'hi', 'lo', 'r', 'tt', 'c', 'y'];
  return {
    locals: [...temps.map((n) => `$${p}${n}`), ...consts.map((_, q) => `$${p}k${q}`)].map((n) => `(local ${n} v128)`).join(' '),
    init: consts.map((c, q) => `(local.set $${p}k${q} ${c})`).join('\n  '),
    expr: (x) => consts.reduce((t, c, q) => t.replaceAll(c, `(local.get $${p}k${q})`), expBlock(p, x)),
  };
}

const exp2 = expF64x2('e');

export const fdlibmWat = String.raw`
 (func $fd_exp (param $x f64) (result f64)
  (local $hx i32) (local $xsb i32) (local $k i32) (local $hi f64) (local $lo f64) (local $t f64) (local $c f64) (local $y f64) (local $twopk f64)
  (local.set $hx (i32.wrap_i64 (i64.shr_u (i64.reinterpret_f64 (local.get $x)) (i64.const 32))))
  (local.set $xsb (i32.shr_u (local.get $hx) (i32.const 31)))
  (local.set $hx (i32.and (local.get $hx) (i32.const 0x7fffffff)))
  ;; |x| ≥ 709.78…: NaN, ±Inf, overflow, underflow
  (if (i32.ge_u (local.get $hx) (i32.const 0x40862e42)) (then
   (if (i32.ge_u (local.get $hx) (i32.const 0x7ff00000)) (then
    (if (i32.or (i32.and (local.get $hx) (i32.const 0xfffff)) (i32.wrap_i64 (i64.reinterpret_f64 (local.get $x))))
     (then (return (f64.add (local.get $x) (local.get $x)))))
    (return (select (local.get $x) (f64.const 0) (i32.eqz (local.get $xsb))))))
   (if (f64.gt (local.get $x) (f64.const ${O_THRESHOLD})) (then (return (f64.const inf))))
   (if (f64.lt (local.get $x) (f64.const ${U_THRESHOLD})) (then (return (f64.const 0))))))
  ;; argument reduction: x = k·ln2 + (hi − lo)
  (if (i32.gt_u (local.get $hx) (i32.const 0x3fd62e42))
   (then
    (if (i32.lt_u (local.get $hx) (i32.const 0x3ff0a2b2))
     (then
      (if (f64.eq (local.get $x) (f64.const 1)) (then (return (f64.const ${E}))))
      (local.set $hi (f64.sub (local.get $x) (select (f64.const -${LN2HI}) (f64.const ${LN2HI}) (local.get $xsb))))
      (local.set $lo (select (f64.const -${LN2LO}) (f64.const ${LN2LO}) (local.get $xsb)))
      (local.set $k (i32.sub (i32.const 1) (i32.shl (local.get $xsb) (i32.const 1)))))
     (else
      (local.set $k (i32.trunc_f64_s (f64.add (f64.mul (f64.const ${INVLN2}) (local.get $x))
       (select (f64.const -0.5) (f64.const 0.5) (local.get $xsb)))))
      (local.set $t (f64.convert_i32_s (local.get $k)))
      (local.set $hi (f64.sub (local.get $x) (f64.mul (local.get $t) (f64.const ${LN2HI}))))
      (local.set $lo (f64.mul (local.get $t) (f64.const ${LN2LO})))))
    (local.set $x (f64.sub (local.get $hi) (local.get $lo))))
   (else
    (if (i32.lt_u (local.get $hx) (i32.const 0x3e300000)) (then (return (f64.add (f64.const 1) (local.get $x)))))))
  (local.set $t (f64.mul (local.get $x) (local.get $x)))
  (local.set $twopk (f64.reinterpret_i64 (i64.shl (i64.extend_i32_s (i32.add (local.get $k)
   (select (i32.const 1023) (i32.const 2023) (i32.ge_s (local.get $k) (i32.const -1021))))) (i64.const 52))))
  (local.set $c ${poly('f64.mul', 'f64.add', 'f64.sub', (c) => `(f64.const ${c})`, '(local.get $x)', '(local.get $t)')})
  (if (i32.eqz (local.get $k)) (then
   (return (f64.sub (f64.const 1) (f64.sub (f64.div (f64.mul (local.get $x) (local.get $c)) (f64.sub (local.get $c) (f64.const 2))) (local.get $x))))))
  (local.set $y (f64.sub (f64.const 1) (f64.sub (f64.sub (local.get $lo)
   (f64.div (f64.mul (local.get $x) (local.get $c)) (f64.sub (f64.const 2) (local.get $c)))) (local.get $hi))))
  (if (i32.ge_s (local.get $k) (i32.const -1021)) (then
   (if (i32.eq (local.get $k) (i32.const 1024)) (then
    (return (f64.mul (f64.mul (local.get $y) (f64.const 2)) (f64.const ${TWO1023})))))
   (return (f64.mul (local.get $y) (local.get $twopk)))))
  (f64.mul (f64.mul (local.get $y) (local.get $twopk)) (f64.const ${TWOM1000})))

 (func $fd_exp2 (param $x v128) (result v128)
  ${exp2.locals}
  ${exp2.init}
  ${exp2.expr('(local.get $x)')})

 (func $fd_log (param $x f64) (result f64)
  (local $hx i32) (local $lx i32) (local $k i32) (local $i i32) (local $j i32)
  (local $f f64) (local $s f64) (local $z f64) (local $w f64) (local $R f64) (local $t1 f64) (local $t2 f64) (local $dk f64) (local $hfsq f64)
  (local.set $hx (i32.wrap_i64 (i64.shr_u (i64.reinterpret_f64 (local.get $x)) (i64.const 32))))
  (local.set $lx (i32.wrap_i64 (i64.reinterpret_f64 (local.get $x))))
  ;; x < 2⁻¹⁰²²: ±0, negative, subnormal (scaled up by 2⁵⁴)
  (if (i32.lt_s (local.get $hx) (i32.const 0x00100000)) (then
   (if (i32.eqz (i32.or (i32.and (local.get $hx) (i32.const 0x7fffffff)) (local.get $lx))) (then (return (f64.const -inf))))
   (if (i32.lt_s (local.get $hx) (i32.const 0)) (then (return ${SNAN})))
   (local.set $k (i32.const -54))
   (local.set $x (f64.mul (local.get $x) (f64.const ${TWO54})))
   (local.set $hx (i32.wrap_i64 (i64.shr_u (i64.reinterpret_f64 (local.get $x)) (i64.const 32))))))
  (if (i32.ge_s (local.get $hx) (i32.const 0x7ff00000)) (then (return (f64.add (local.get $x) (local.get $x)))))
  (local.set $k (i32.add (local.get $k) (i32.sub (i32.shr_s (local.get $hx) (i32.const 20)) (i32.const 1023))))
  (local.set $hx (i32.and (local.get $hx) (i32.const 0x000fffff)))
  (local.set $i (i32.and (i32.add (local.get $hx) (i32.const 0x95f64)) (i32.const 0x100000)))
  ;; x or x/2 normalised into [√2/2, √2)
  (local.set $x (f64.reinterpret_i64 (i64.or (i64.and (i64.reinterpret_f64 (local.get $x)) (i64.const 0xffffffff))
   (i64.shl (i64.extend_i32_u (i32.or (local.get $hx) (i32.xor (local.get $i) (i32.const 0x3ff00000)))) (i64.const 32)))))
  (local.set $k (i32.add (local.get $k) (i32.shr_s (local.get $i) (i32.const 20))))
  (local.set $f (f64.sub (local.get $x) (f64.const 1)))
  ;; −2⁻²⁰ ≤ f < 2⁻²⁰
  (if (i32.lt_s (i32.and (i32.const 0x000fffff) (i32.add (i32.const 2) (local.get $hx))) (i32.const 3)) (then
   (if (f64.eq (local.get $f) (f64.const 0)) (then
    (if (i32.eqz (local.get $k)) (then (return (f64.const 0))))
    (local.set $dk (f64.convert_i32_s (local.get $k)))
    (return (f64.add (f64.mul (local.get $dk) (f64.const ${LN2HI})) (f64.mul (local.get $dk) (f64.const ${LN2LO}))))))
   (local.set $R (f64.mul (f64.mul (local.get $f) (local.get $f)) (f64.sub (f64.const 0.5) (f64.mul (f64.const ${THIRD}) (local.get $f)))))
   (if (i32.eqz (local.get $k)) (then (return (f64.sub (local.get $f) (local.get $R)))))
   (local.set $dk (f64.convert_i32_s (local.get $k)))
   (return (f64.sub (f64.mul (local.get $dk) (f64.const ${LN2HI}))
    (f64.sub (f64.sub (local.get $R) (f64.mul (local.get $dk) (f64.const ${LN2LO}))) (local.get $f))))))
  (local.set $s (f64.div (local.get $f) (f64.add (f64.const 2) (local.get $f))))
  (local.set $dk (f64.convert_i32_s (local.get $k)))
  (local.set $z (f64.mul (local.get $s) (local.get $s)))
  (local.set $i (i32.sub (local.get $hx) (i32.const 0x6147a)))
  (local.set $w (f64.mul (local.get $z) (local.get $z)))
  (local.set $j (i32.sub (i32.const 0x6b851) (local.get $hx)))
  (local.set $t1 (f64.mul (local.get $w) (f64.add (f64.const ${LG2}) (f64.mul (local.get $w) (f64.add (f64.const ${LG4}) (f64.mul (local.get $w) (f64.const ${LG6})))))))
  (local.set $t2 (f64.mul (local.get $z) (f64.add (f64.const ${LG1}) (f64.mul (local.get $w) (f64.add (f64.const ${LG3})
   (f64.mul (local.get $w) (f64.add (f64.const ${LG5}) (f64.mul (local.get $w) (f64.const ${LG7})))))))))
  (local.set $i (i32.or (local.get $i) (local.get $j)))
  (local.set $R (f64.add (local.get $t2) (local.get $t1)))
  (if (i32.gt_s (local.get $i) (i32.const 0)) (then
   (local.set $hfsq (f64.mul (f64.mul (f64.const 0.5) (local.get $f)) (local.get $f)))
   (if (i32.eqz (local.get $k)) (then
    (return (f64.sub (local.get $f) (f64.sub (local.get $hfsq) (f64.mul (local.get $s) (f64.add (local.get $hfsq) (local.get $R))))))))
   (return (f64.sub (f64.mul (local.get $dk) (f64.const ${LN2HI})) (f64.sub (f64.sub (local.get $hfsq)
    (f64.add (f64.mul (local.get $s) (f64.add (local.get $hfsq) (local.get $R))) (f64.mul (local.get $dk) (f64.const ${LN2LO})))) (local.get $f))))))
  (if (i32.eqz (local.get $k)) (then
   (return (f64.sub (local.get $f) (f64.mul (local.get $s) (f64.sub (local.get $f) (local.get $R)))))))
  (f64.sub (f64.mul (local.get $dk) (f64.const ${LN2HI}))
   (f64.sub (f64.sub (f64.mul (local.get $s) (f64.sub (local.get $f) (local.get $R))) (f64.mul (local.get $dk) (f64.const ${LN2LO}))) (local.get $f))))
`;
