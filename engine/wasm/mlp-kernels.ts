// WebAssembly text (WAT) of the fused MLP step's kernels (mlp/fused-cpu.ts), f32x4 SIMD. Like the WGSL
// shaders, the source is a TypeScript template: the column blocks of 32/16/8/4 outputs are the same loop
// with 8/4/2/1 vector accumulators, generated below rather than written out four times. Blocks that keep
// their sums in registers (mm, mm_sparse) stop at 4 accumulators: V8 loads a block's 8 B vectors before
// its arithmetic, and 8 sums + 8 loads + the splat overflow x64's 15 free xmm registers (a sum spilled to
// the stack every element: mm_sparse ≈ 47 → 40 µs a reference batch as two 16-column passes). Blocking
// never changes a result: each output still sums its own terms in ascending order. engine/wasm/load.ts
// assembles it with wabt's wat2wasm (an npm dependency) on first use and caches the module per process;
// nothing binary is committed. engine/wasm/mlp-kernels-js.ts is the same set of kernels in plain
// JavaScript (the fallback where WebAssembly SIMD or wabt is missing), bit for bit: every output element
// is accumulated in f32, in the same order (ascending over the inner index), with a product rounded to f32
// and then a sum rounded to f32 (mul then add, never a fused multiply-add).
//
// Conventions: every pointer is a byte offset into the one imported memory, f32 and i32 data 4-aligned;
// pointer 0 means "none" (the layout in mlp/fused-cpu.ts never places data there). Matrices are row-major.
// Sparse rows (the first layer's input: a whole split, copied in once) are CSR: `rowptr` i32 [rows + 1]
// (element offsets), `idx` u16 column of each stored element, `val` u8 its byte, whose value is `lut` f32
// [256] at that byte; zeros are never stored. A batch is `rows` i32 [n]: the CSR row of each of its rows. A dense operand marked "skips zeros"
// skips a zero element's row of the other operand, as the CPU oracle (engine/ops/matmul.ts) and reference
// BLAS do, so 0·Inf and 0·NaN count as 0 there.
//
// Exports:
//   mm(n, A, k, B, bias, C, m, skip)            C[n, m] = A[n, k]·B[k, m] (+ bias[m]); skip ≠ 0: A skips zeros
//   mm_sparse(n, rows, rowptr, idx, val, lut, B, bias, C, m)  C[n, m] = X·B (+ bias), X the sparse rows `rows`
//   mm_tn(n, A, k, D, m, G)                      G[k, m] = Aᵀ·D, A [n, k] skips zeros, D [n, m] (G overwritten)
//   mm_tn_sparse(n, rows, rowptr, idx, val, lut, k, D, m, G)  G[k, m] = Xᵀ·D, X the sparse rows (G overwritten)
//   colsum(n, D, m, out)                         out[m] = Σ_i D[i, :]
//   transpose(A, rows, cols, out)                out[cols, rows] = Aᵀ
//   relu(Z, H, count)                            H = Z > 0 ? Z : 0 (NaN → 0, as the oracle)
//   relu_back(dH, Z, dZ, count)                  dZ = dH · (Z > 0 ? 1 : 0) (a product, so NaN in dH survives)
//   sgd(p, g, v, count, lr, mu, wd, first, sq) → f32  torch.optim.SGD on one parameter (below); returns Σ 0·p_new;
//                                                with sq ≠ 0 stores Σ g² there as f64 (lanes 0+1, 2+3, then the tail)
//   probe(x, count) → f32                        Σ 0·x: 0 when every element is finite, NaN otherwise
//   xent(Z, dZ, loss, dloss, labels, n, c, e, grads, out) → f64   the softmax cross-entropy of mlp/fused-cpu.ts
//                                                fusedCrossEntropy, the same numbers for finite logits (below);
//                                                returns Σ loss in f64, stores the correct count (i32) at `out`
// xent is the one kernel in f64 and the one without a JS twin here: its exp and log are V8's Math.exp and
// Math.log ported (engine/wasm/fdlibm.ts), and where the JS kernels run so does fusedCrossEntropy itself.
import { expF64x2, fdlibmWat } from './fdlibm.ts';

/**
 * fusedCrossEntropy (mlp/fused-cpu.ts) step by step: per row of logits Z f32 [n, c] with class labels u8
 * [n] (each < c: the caller checks), m = max (f64.max: Math.max's NaN and ±0), the first maximal column,
 * e = exp(z − m) f64 [c] into scratch `e` (two columns at a time) and s = Σ e in column order; loss f32 [n]
 * = m + log s − z[label]; with `grads`, dloss = f32(1/n) and dZ = f32((e/s − onehot)·f32(1/n)), where
 * x − 0 is x bit for bit, so only the label's lane needs the 1 that JS subtracts from it. For finite logits
 * only (the caller checks): then no NaN arises, whereas which NaN an operation on two NaNs gives is up to
 * the compilers (x64 keeps the first operand's, and V8 may swap the operands of a + b, in JS and in wasm)
 */
const exp2 = expF64x2('e');
const xentWat = String.raw`
  (func (export "xent") (param $Z i32) (param $dZ i32) (param $loss i32) (param $dloss i32) (param $labels i32)
    (param $n i32) (param $c i32) (param $e i32) (param $grads i32) (param $out i32) (result f64)
    (local $i i32) (local $j i32) (local $row i32) (local $grow i32) (local $label i32) (local $best i32) (local $correct i32) (local $c2 i32)
    (local $m f64) (local $v f64) (local $top f64) (local $s f64) (local $l f32) (local $sum f64) (local $dy f64)
    (local $vm v128) (local $vs v128) (local $vdy v128) (local $x v128) ${exp2.locals}
    ${exp2.init}
    (local.set $c2 (i32.and (local.get $c) (i32.const -2)))
    (local.set $dy (f64.promote_f32 (f32.demote_f64 (f64.div (f64.const 1) (f64.convert_i32_s (local.get $n))))))
    (local.set $vdy (f64x2.splat (local.get $dy)))
    (block $rows (loop $rowloop
      (br_if $rows (i32.ge_s (local.get $i) (local.get $n)))
      (local.set $row (i32.add (local.get $Z) (i32.shl (i32.mul (local.get $i) (local.get $c)) (i32.const 2))))
      (local.set $label (i32.load8_u (i32.add (local.get $labels) (local.get $i))))
      ;; the maximum and the first column holding it
      (local.set $m (f64.const -inf))
      (local.set $best (i32.const 0))
      (local.set $top (f64.promote_f32 (f32.load (local.get $row))))
      (local.set $j (i32.const 0))
      (block $maxd (loop $max
        (br_if $maxd (i32.ge_s (local.get $j) (local.get $c)))
        (local.set $v (f64.promote_f32 (f32.load (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))))))
        (local.set $m (f64.max (local.get $m) (local.get $v)))
        (if (f64.gt (local.get $v) (local.get $top)) (then (local.set $top (local.get $v)) (local.set $best (local.get $j))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $max)))
      ;; e = exp(z − m), s = Σ e in column order
      (local.set $vm (f64x2.splat (local.get $m)))
      (local.set $s (f64.const 0))
      (local.set $j (i32.const 0))
      (block $expd (loop $exp
        (br_if $expd (i32.ge_s (local.get $j) (local.get $c2)))
        (local.set $x ${exp2.expr(`(f64x2.sub (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2)))))
          (local.get $vm))`)})
        (v128.store (i32.add (local.get $e) (i32.shl (local.get $j) (i32.const 3))) (local.get $x))
        (local.set $s (f64.add (f64.add (local.get $s) (f64x2.extract_lane 0 (local.get $x))) (f64x2.extract_lane 1 (local.get $x))))
        (local.set $j (i32.add (local.get $j) (i32.const 2)))
        (br $exp)))
      (if (i32.lt_s (local.get $j) (local.get $c)) (then
        (local.set $v (call $fd_exp (f64.sub (f64.promote_f32 (f32.load (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))))) (local.get $m))))
        (f64.store (i32.add (local.get $e) (i32.shl (local.get $j) (i32.const 3))) (local.get $v))
        (local.set $s (f64.add (local.get $s) (local.get $v)))))
      (local.set $l (f32.demote_f64 (f64.sub (f64.add (local.get $m) (call $fd_log (local.get $s)))
        (f64.promote_f32 (f32.load (i32.add (local.get $row) (i32.shl (local.get $label) (i32.const 2))))))))
      (f32.store (i32.add (local.get $loss) (i32.shl (local.get $i) (i32.const 2))) (local.get $l))
      (local.set $sum (f64.add (local.get $sum) (f64.promote_f32 (local.get $l))))
      (if (i32.eq (local.get $best) (local.get $label)) (then (local.set $correct (i32.add (local.get $correct) (i32.const 1)))))
      (if (local.get $grads) (then
        (f32.store (i32.add (local.get $dloss) (i32.shl (local.get $i) (i32.const 2))) (f32.demote_f64 (local.get $dy)))
        (local.set $grow (i32.add (local.get $dZ) (i32.shl (i32.mul (local.get $i) (local.get $c)) (i32.const 2))))
        (local.set $vs (f64x2.splat (local.get $s)))
        (local.set $j (i32.const 0))
        (block $gd (loop $g
          (br_if $gd (i32.ge_s (local.get $j) (local.get $c2)))
          (local.set $x (f64x2.div (v128.load (i32.add (local.get $e) (i32.shl (local.get $j) (i32.const 3)))) (local.get $vs)))
          (if (i32.eq (i32.shr_u (local.get $j) (i32.const 1)) (i32.shr_u (local.get $label) (i32.const 1))) (then
            (local.set $x (f64x2.sub (local.get $x) (if (result v128) (i32.and (local.get $label) (i32.const 1))
              (then (v128.const f64x2 0 1)) (else (v128.const f64x2 1 0)))))))
          (v128.store64_lane 0 (i32.add (local.get $grow) (i32.shl (local.get $j) (i32.const 2)))
            (f32x4.demote_f64x2_zero (f64x2.mul (local.get $x) (local.get $vdy))))
          (local.set $j (i32.add (local.get $j) (i32.const 2)))
          (br $g)))
        (if (i32.lt_s (local.get $j) (local.get $c)) (then
          (local.set $v (f64.div (f64.load (i32.add (local.get $e) (i32.shl (local.get $j) (i32.const 3)))) (local.get $s)))
          (if (i32.eq (local.get $j) (local.get $label)) (then (local.set $v (f64.sub (local.get $v) (f64.const 1)))))
          (f32.store (i32.add (local.get $grow) (i32.shl (local.get $j) (i32.const 2))) (f32.demote_f64 (f64.mul (local.get $v) (local.get $dy))))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $rowloop)))
    (i32.store (local.get $out) (local.get $correct))
    (local.get $sum))
`;

/** lines repeated for accumulators 0..nv-1, `$q` replaced by the index */
const each = (nv: number, line: string): string =>
  Array.from({ length: nv }, (_, q) => line.replaceAll('$q', String(q)).replaceAll('$off', String(16 * q))).join('\n');

const accLocals = Array.from({ length: 8 }, (_, q) => `(local $a${q} v128)`).join(' ');
const zeroAccs = (nv: number) => each(nv, '(local.set $a$q (v128.const i32x4 0 0 0 0))');

/**
 * the column blocks of one output row: `nv` vector accumulators (4·nv columns) per pass over the inner
 * index, for nv in `blocks` (largest first), then the remaining columns one by one. `inner(nv)` accumulates
 * into $a0.. from B's columns at $bp (advanced by the inner loop); `innerScalar` into $s from $bp.
 * Column j runs over [0, m); C's row is at $crow.
 */
function rowBlocks(blocks: number[], inner: (nv: number) => string, innerScalar: string): string {
  const vec = blocks.map((nv) => `
      (block $cols${nv}_done (loop $cols${nv}
        (br_if $cols${nv}_done (i32.gt_u (i32.add (local.get $j) (i32.const ${4 * nv})) (local.get $m)))
        ${zeroAccs(nv)}
        (local.set $bp (i32.add (local.get $B) (i32.shl (local.get $j) (i32.const 2))))
        ${inner(nv)}
        (local.set $cp (i32.add (local.get $crow) (i32.shl (local.get $j) (i32.const 2))))
        (if (local.get $bias) (then
          (local.set $bb (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2))))
          ${each(nv, '(local.set $a$q (f32x4.add (local.get $a$q) (v128.load offset=$off (local.get $bb))))')}))
        ${each(nv, '(v128.store offset=$off (local.get $cp) (local.get $a$q))')}
        (local.set $j (i32.add (local.get $j) (i32.const ${4 * nv})))
        (br $cols${nv})))`).join('\n');
  return `${vec}
      (block $cols1s_done (loop $cols1s
        (br_if $cols1s_done (i32.ge_u (local.get $j) (local.get $m)))
        (local.set $s (f32.const 0))
        (local.set $bp (i32.add (local.get $B) (i32.shl (local.get $j) (i32.const 2))))
        ${innerScalar}
        (local.set $cp (i32.add (local.get $crow) (i32.shl (local.get $j) (i32.const 2))))
        (if (local.get $bias) (then
          (local.set $s (f32.add (local.get $s) (f32.load (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2))))))))
        (f32.store (local.get $cp) (local.get $s))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $cols1s)))`;
}

// --- mm: the inner loop over a dense row of A ($arow, k elements); B rows are $rs bytes apart. With $skip,
// a zero of A adds nothing (not 0·B, which is NaN where B is not finite): its products are masked to +0
// ($mask from $keep, all ones without $skip) rather than branched over, since ReLU's zeros fall at
// random and a mispredicted branch cost more than the multiplies. Adding +0 leaves a sum as it was: it
// starts at +0 and only −0 + −0 is −0, so no sum of these is ever −0.
const denseInner = (nv: number) => `
        (local.set $ap (local.get $arow))
        (block $p${nv}_done (loop $p${nv}
          (br_if $p${nv}_done (i32.ge_u (local.get $ap) (local.get $aend)))
          (local.set $xv (v128.load32_splat (local.get $ap)))
          (local.set $mask (v128.or (f32x4.ne (local.get $xv) (v128.const i32x4 0 0 0 0)) (local.get $keep)))
          ${each(nv, '(local.set $a$q (f32x4.add (local.get $a$q) (v128.and (f32x4.mul (local.get $xv) (v128.load offset=$off (local.get $bp))) (local.get $mask))))')}
          (local.set $bp (i32.add (local.get $bp) (local.get $rs)))
          (local.set $ap (i32.add (local.get $ap) (i32.const 4)))
          (br $p${nv})))`;
const denseInnerScalar = `
        (local.set $ap (local.get $arow))
        (block $ps_done (loop $ps
          (br_if $ps_done (i32.ge_u (local.get $ap) (local.get $aend)))
          (local.set $x (f32.load (local.get $ap)))
          (local.set $s (f32.add (local.get $s) (select (f32.mul (local.get $x) (f32.load (local.get $bp))) (f32.const 0)
            (i32.or (i32.eqz (local.get $skip)) (f32.ne (local.get $x) (f32.const 0))))))
          (local.set $bp (i32.add (local.get $bp) (local.get $rs)))
          (local.set $ap (i32.add (local.get $ap) (i32.const 4)))
          (br $ps)))`;

// --- mm_sparse: the inner loop over the stored elements [$e0, $e1) of a CSR row
const sparseInner = (nv: number) => `
        (local.set $e (local.get $e0))
        (local.set $bj (local.get $bp))
        (block $e${nv}_done (loop $e${nv}
          (br_if $e${nv}_done (i32.ge_u (local.get $e) (local.get $e1)))
          (local.set $xv (f32x4.splat (f32.load (i32.add (local.get $lut) (i32.shl (i32.load8_u (i32.add (local.get $val) (local.get $e))) (i32.const 2))))))
          (local.set $bp (i32.add (local.get $bj) (i32.mul (i32.load16_u (i32.add (local.get $idx) (i32.shl (local.get $e) (i32.const 1)))) (local.get $rs))))
          ${each(nv, '(local.set $a$q (f32x4.add (local.get $a$q) (f32x4.mul (local.get $xv) (v128.load offset=$off (local.get $bp)))))')}
          (local.set $e (i32.add (local.get $e) (i32.const 1)))
          (br $e${nv})))`;
const sparseInnerScalar = `
        (local.set $e (local.get $e0))
        (local.set $bj (local.get $bp))
        (block $es_done (loop $es
          (br_if $es_done (i32.ge_u (local.get $e) (local.get $e1)))
          (local.set $bp (i32.add (local.get $bj) (i32.mul (i32.load16_u (i32.add (local.get $idx) (i32.shl (local.get $e) (i32.const 1)))) (local.get $rs))))
          (local.set $s (f32.add (local.get $s)
            (f32.mul (f32.load (i32.add (local.get $lut) (i32.shl (i32.load8_u (i32.add (local.get $val) (local.get $e))) (i32.const 2)))) (f32.load (local.get $bp)))))
          (local.set $e (i32.add (local.get $e) (i32.const 1)))
          (br $es)))`;

/**
 * Aᵀ·D accumulated into G, one row i of A and D at a time: D's row block (nv vectors at column $j) stays
 * in registers while every used row p of G gets G[p, block] += A[i, p]·D[i, block]. `rows(nv, body)` runs
 * body for each (p, a) with $gp = G + p·rs + 4j and $xv = splat(a).
 */
function tnBlocks(blocks: number[], rows: (tag: string, body: string) => string, masked = false): string {
  const product = (a: string) => masked ? `(v128.and (f32x4.mul (local.get $xv) ${a}) (local.get $mask))` : `(f32x4.mul (local.get $xv) ${a})`;
  const scalar = masked ? '(select (f32.mul (local.get $x) (local.get $d)) (f32.const 0) (f32.ne (local.get $x) (f32.const 0)))' : '(f32.mul (local.get $x) (local.get $d))';
  const vec = blocks.map((nv) => `
      (block $tc${nv}_done (loop $tc${nv}
        (br_if $tc${nv}_done (i32.gt_u (i32.add (local.get $j) (i32.const ${4 * nv})) (local.get $m)))
        (local.set $dp (i32.add (local.get $drow) (i32.shl (local.get $j) (i32.const 2))))
        ${each(nv, '(local.set $a$q (v128.load offset=$off (local.get $dp)))')}
        (local.set $gj (i32.add (local.get $G) (i32.shl (local.get $j) (i32.const 2))))
        ${rows(`v${nv}`, each(nv, `(v128.store offset=$off (local.get $gp)
            (f32x4.add (v128.load offset=$off (local.get $gp)) ${product('(local.get $a$q)')}))`))}
        (local.set $j (i32.add (local.get $j) (i32.const ${4 * nv})))
        (br $tc${nv})))`).join('\n');
  return `${vec}
      (block $tcs_done (loop $tcs
        (br_if $tcs_done (i32.ge_u (local.get $j) (local.get $m)))
        (local.set $d (f32.load (i32.add (local.get $drow) (i32.shl (local.get $j) (i32.const 2)))))
        (local.set $gj (i32.add (local.get $G) (i32.shl (local.get $j) (i32.const 2))))
        ${rows('s', `(f32.store (local.get $gp) (f32.add (f32.load (local.get $gp)) ${scalar}))`)}
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $tcs)))`;
}

// every row p of a dense row of A, its zeros' products masked to +0 (tnBlocks' masked: as mm's $skip)
const denseRows = (tag: string, body: string) => `
        (local.set $ap (local.get $arow))
        (local.set $gp (local.get $gj))
        (block $r${tag}_done (loop $r${tag}
          (br_if $r${tag}_done (i32.ge_u (local.get $ap) (local.get $aend)))
          (local.set $x (f32.load (local.get $ap)))
          (local.set $xv (f32x4.splat (local.get $x)))
          (local.set $mask (f32x4.ne (local.get $xv) (v128.const i32x4 0 0 0 0)))
          ${body}
          (local.set $gp (i32.add (local.get $gp) (local.get $rs)))
          (local.set $ap (i32.add (local.get $ap) (i32.const 4)))
          (br $r${tag})))`;

// the stored elements of a CSR row
const sparseRows = (tag: string, body: string) => `
        (local.set $e (local.get $e0))
        (block $r${tag}_done (loop $r${tag}
          (br_if $r${tag}_done (i32.ge_u (local.get $e) (local.get $e1)))
          (local.set $x (f32.load (i32.add (local.get $lut) (i32.shl (i32.load8_u (i32.add (local.get $val) (local.get $e))) (i32.const 2)))))
          (local.set $xv (f32x4.splat (local.get $x)))
          (local.set $gp (i32.add (local.get $gj) (i32.mul (i32.load16_u (i32.add (local.get $idx) (i32.shl (local.get $e) (i32.const 1)))) (local.get $rs))))
          ${body}
          (local.set $e (i32.add (local.get $e) (i32.const 1)))
          (br $r${tag})))`;

/**
 * one read of every cache line of the batch's sparse rows (their columns and bytes), before mm_sparse's
 * arithmetic. A training batch is 64 rows drawn at random from the split's ≈ 27 MB of sparse rows, so
 * each row starts with a cache miss that the arithmetic waits for, one row after another; this loop
 * does little besides the loads, so the misses of many rows are in flight at once (WebAssembly has no
 * prefetch instruction). The values read are dropped: the results do not change.
 */
const touchRows = `
    (local.set $i (i32.const 0))
    (block $touch_done (loop $touch
      (br_if $touch_done (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $rp (i32.add (local.get $rowptr) (i32.shl (i32.load (i32.add (local.get $rows) (i32.shl (local.get $i) (i32.const 2)))) (i32.const 2))))
      (local.set $e0 (i32.load (local.get $rp)))
      (local.set $e1 (i32.load offset=4 (local.get $rp)))
      (if (i32.lt_u (local.get $e0) (local.get $e1)) (then
        ${[['idx', 1], ['val', 0]].map(([base, shift]) => `
        (local.set $t (i32.add (local.get $${base}) (i32.shl (local.get $e0) (i32.const ${shift}))))
        (local.set $tend (i32.add (local.get $${base}) (i32.shl (local.get $e1) (i32.const ${shift}))))
        (block $${base}_done (loop $${base}_lines
          (br_if $${base}_done (i32.ge_u (local.get $t) (local.get $tend)))
          (local.set $seen (i32.xor (local.get $seen) (i32.load8_u (local.get $t))))
          (local.set $t (i32.add (local.get $t) (i32.const 64)))
          (br $${base}_lines)))
        (local.set $seen (i32.xor (local.get $seen) (i32.load8_u (i32.sub (local.get $tend) (i32.const 1)))))`).join('')}))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $touch)))
    (local.set $i (i32.const 0))`;

/** vector body over [$ptr, $end) in 16-byte steps, then the scalar tail; `v` and `s` see $ptr as the element's offset */
const elementwise = (v: string, s: string) => `
    (local.set $end (i32.add (local.get $off0) (i32.shl (i32.and (local.get $count) (i32.const -4)) (i32.const 2))))
    (local.set $o (local.get $off0))
    (block $v_done (loop $v
      (br_if $v_done (i32.ge_u (local.get $o) (local.get $end)))
      ${v}
      (local.set $o (i32.add (local.get $o) (i32.const 16)))
      (br $v)))
    (local.set $end (i32.add (local.get $off0) (i32.shl (local.get $count) (i32.const 2))))
    (block $s_done (loop $s
      (br_if $s_done (i32.ge_u (local.get $o) (local.get $end)))
      ${s}
      (local.set $o (i32.add (local.get $o) (i32.const 4)))
      (br $s)))`;

/** the WAT text of the kernel module */
export function mlpKernelsWat(): string {
  return `(module
  (import "env" "memory" (memory 1))
${fdlibmWat}
${xentWat}

  (func (export "mm") (param $n i32) (param $A i32) (param $k i32) (param $B i32) (param $bias i32) (param $C i32) (param $m i32) (param $skip i32)
    (local $i i32) (local $j i32) (local $rs i32) (local $arow i32) (local $aend i32) (local $ap i32) (local $bp i32) (local $bb i32)
    (local $crow i32) (local $cp i32) (local $x f32) (local $s f32) (local $xv v128) (local $mask v128) (local $keep v128) ${accLocals}
    (local.set $rs (i32.shl (local.get $m) (i32.const 2)))
    (local.set $keep (i32x4.splat (i32.sub (i32.const 0) (i32.eqz (local.get $skip)))))
    (local.set $arow (local.get $A))
    (local.set $crow (local.get $C))
    (block $rows_done (loop $rows
      (br_if $rows_done (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $aend (i32.add (local.get $arow) (i32.shl (local.get $k) (i32.const 2))))
      (local.set $j (i32.const 0))
      ${rowBlocks([4, 2, 1], denseInner, denseInnerScalar)}
      (local.set $arow (local.get $aend))
      (local.set $crow (i32.add (local.get $crow) (local.get $rs)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $rows))))

  (func (export "mm_sparse") (param $n i32) (param $rows i32) (param $rowptr i32) (param $idx i32) (param $val i32) (param $lut i32) (param $B i32) (param $bias i32) (param $C i32) (param $m i32)
    (local $i i32) (local $j i32) (local $rs i32) (local $e i32) (local $e0 i32) (local $e1 i32) (local $rp i32) (local $bp i32) (local $bj i32) (local $bb i32)
    (local $crow i32) (local $cp i32) (local $s f32) (local $xv v128) ${accLocals}
    (local $t i32) (local $tend i32) (local $seen i32)
    (local.set $rs (i32.shl (local.get $m) (i32.const 2)))
    (local.set $crow (local.get $C))
    ${touchRows}
    (block $rows_done (loop $rows
      (br_if $rows_done (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $rp (i32.add (local.get $rowptr) (i32.shl (i32.load (i32.add (local.get $rows) (i32.shl (local.get $i) (i32.const 2)))) (i32.const 2))))
      (local.set $e0 (i32.load (local.get $rp)))
      (local.set $e1 (i32.load offset=4 (local.get $rp)))
      (local.set $j (i32.const 0))
      ${rowBlocks([4, 2, 1], sparseInner, sparseInnerScalar)}
      (local.set $crow (i32.add (local.get $crow) (local.get $rs)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $rows))))

  (func (export "mm_tn") (param $n i32) (param $A i32) (param $k i32) (param $D i32) (param $m i32) (param $G i32)
    (local $i i32) (local $j i32) (local $rs i32) (local $arow i32) (local $aend i32) (local $ap i32) (local $drow i32) (local $dp i32)
    (local $gj i32) (local $gp i32) (local $x f32) (local $d f32) (local $xv v128) (local $mask v128) ${accLocals}
    (local.set $rs (i32.shl (local.get $m) (i32.const 2)))
    (memory.fill (local.get $G) (i32.const 0) (i32.mul (local.get $k) (local.get $rs)))
    (local.set $arow (local.get $A))
    (local.set $drow (local.get $D))
    (block $rows_done (loop $rows
      (br_if $rows_done (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $aend (i32.add (local.get $arow) (i32.shl (local.get $k) (i32.const 2))))
      (local.set $j (i32.const 0))
      ${tnBlocks([4, 2, 1], denseRows, true)}
      (local.set $arow (local.get $aend))
      (local.set $drow (i32.add (local.get $drow) (local.get $rs)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $rows))))

  (func (export "mm_tn_sparse") (param $n i32) (param $rows i32) (param $rowptr i32) (param $idx i32) (param $val i32) (param $lut i32) (param $k i32) (param $D i32) (param $m i32) (param $G i32)
    (local $i i32) (local $j i32) (local $rs i32) (local $e i32) (local $e0 i32) (local $e1 i32) (local $rp i32) (local $drow i32) (local $dp i32)
    (local $gj i32) (local $gp i32) (local $x f32) (local $d f32) (local $xv v128) ${accLocals}
    (local.set $rs (i32.shl (local.get $m) (i32.const 2)))
    (memory.fill (local.get $G) (i32.const 0) (i32.mul (local.get $k) (local.get $rs)))
    (local.set $drow (local.get $D))
    (block $rows_done (loop $rows
      (br_if $rows_done (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $rp (i32.add (local.get $rowptr) (i32.shl (i32.load (i32.add (local.get $rows) (i32.shl (local.get $i) (i32.const 2)))) (i32.const 2))))
      (local.set $e0 (i32.load (local.get $rp)))
      (local.set $e1 (i32.load offset=4 (local.get $rp)))
      (local.set $j (i32.const 0))
      ${tnBlocks([8, 4, 1], sparseRows)}
      (local.set $drow (i32.add (local.get $drow) (local.get $rs)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $rows))))

  (func (export "colsum") (param $n i32) (param $D i32) (param $m i32) (param $out i32)
    (local $i i32) (local $j i32) (local $rs i32) (local $dp i32) (local $s f32) (local $a0 v128)
    (local.set $rs (i32.shl (local.get $m) (i32.const 2)))
    (block $c_done (loop $c
      (br_if $c_done (i32.gt_u (i32.add (local.get $j) (i32.const 4)) (local.get $m)))
      (local.set $a0 (v128.const i32x4 0 0 0 0))
      (local.set $dp (i32.add (local.get $D) (i32.shl (local.get $j) (i32.const 2))))
      (local.set $i (i32.const 0))
      (block $r_done (loop $r
        (br_if $r_done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $a0 (f32x4.add (local.get $a0) (v128.load (local.get $dp))))
        (local.set $dp (i32.add (local.get $dp) (local.get $rs)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $r)))
      (v128.store (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2))) (local.get $a0))
      (local.set $j (i32.add (local.get $j) (i32.const 4)))
      (br $c)))
    (block $cs_done (loop $cs
      (br_if $cs_done (i32.ge_u (local.get $j) (local.get $m)))
      (local.set $s (f32.const 0))
      (local.set $dp (i32.add (local.get $D) (i32.shl (local.get $j) (i32.const 2))))
      (local.set $i (i32.const 0))
      (block $rs_done (loop $rs_loop
        (br_if $rs_done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $s (f32.add (local.get $s) (f32.load (local.get $dp))))
        (local.set $dp (i32.add (local.get $dp) (local.get $rs)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rs_loop)))
      (f32.store (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2))) (local.get $s))
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br $cs))))

  (func (export "transpose") (param $A i32) (param $rows i32) (param $cols i32) (param $out i32)
    (local $r i32) (local $c i32) (local $ap i32)
    (local.set $ap (local.get $A))
    (block $r_done (loop $r_loop
      (br_if $r_done (i32.ge_u (local.get $r) (local.get $rows)))
      (local.set $c (i32.const 0))
      (block $c_done (loop $c_loop
        (br_if $c_done (i32.ge_u (local.get $c) (local.get $cols)))
        (f32.store (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $c) (local.get $rows)) (local.get $r)) (i32.const 2)))
          (f32.load (local.get $ap)))
        (local.set $ap (i32.add (local.get $ap) (i32.const 4)))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $c_loop)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $r_loop))))

  (func (export "relu") (param $Z i32) (param $H i32) (param $count i32)
    (local $off0 i32) (local $o i32) (local $end i32) (local $d i32) (local $z v128) (local $zs f32)
    (local.set $off0 (local.get $Z))
    (local.set $d (i32.sub (local.get $H) (local.get $Z)))
    ${elementwise(`
      (local.set $z (v128.load (local.get $o)))
      (v128.store (i32.add (local.get $o) (local.get $d)) (v128.and (local.get $z) (f32x4.gt (local.get $z) (v128.const f32x4 0 0 0 0))))`, `
      (local.set $zs (f32.load (local.get $o)))
      (f32.store (i32.add (local.get $o) (local.get $d)) (select (local.get $zs) (f32.const 0) (f32.gt (local.get $zs) (f32.const 0))))`)})

  (func (export "relu_back") (param $dH i32) (param $Z i32) (param $dZ i32) (param $count i32)
    (local $off0 i32) (local $o i32) (local $end i32) (local $dz i32) (local $dh i32)
    (local.set $off0 (local.get $Z))
    (local.set $dh (i32.sub (local.get $dH) (local.get $Z)))
    (local.set $dz (i32.sub (local.get $dZ) (local.get $Z)))
    ${elementwise(`
      (v128.store (i32.add (local.get $o) (local.get $dz)) (f32x4.mul (v128.load (i32.add (local.get $o) (local.get $dh)))
        (v128.and (f32x4.gt (v128.load (local.get $o)) (v128.const f32x4 0 0 0 0)) (v128.const f32x4 1 1 1 1))))`, `
      (f32.store (i32.add (local.get $o) (local.get $dz)) (f32.mul (f32.load (i32.add (local.get $o) (local.get $dh)))
        (select (f32.const 1) (f32.const 0) (f32.gt (f32.load (local.get $o)) (f32.const 0)))))`)})

  ;; torch.optim.SGD on one parameter, in f32: d = g (+ wd·p); with momentum v = first ? d : mu·v + d, d = v;
  ;; p = p + (−lr)·d. Returns Σ 0·p over the updated values (NaN iff one is NaN or ±Inf).
  (func (export "sgd") (param $p i32) (param $g i32) (param $v i32) (param $count i32) (param $lr f32) (param $mu f32) (param $wd f32) (param $first i32) (param $sq i32) (result f32)
    (local $off0 i32) (local $o i32) (local $end i32) (local $gd i32) (local $vd i32)
    (local $pv v128) (local $dv v128) (local $nlr v128) (local $muv v128) (local $wdv v128) (local $probe v128)
    (local $sqa v128) (local $sqb v128) (local $t v128)
    (local $ps f32) (local $ds f32) (local $probes f32) (local $sqs f64)
    (local.set $off0 (local.get $p))
    (local.set $gd (i32.sub (local.get $g) (local.get $p)))
    (local.set $vd (i32.sub (local.get $v) (local.get $p)))
    (local.set $nlr (f32x4.splat (f32.neg (local.get $lr))))
    (local.set $muv (f32x4.splat (local.get $mu)))
    (local.set $wdv (f32x4.splat (local.get $wd)))
    ${elementwise(`
      (local.set $pv (v128.load (local.get $o)))
      (local.set $dv (v128.load (i32.add (local.get $o) (local.get $gd))))
      (if (local.get $sq) (then
        (local.set $t (f64x2.promote_low_f32x4 (local.get $dv)))
        (local.set $sqa (f64x2.add (local.get $sqa) (f64x2.mul (local.get $t) (local.get $t))))
        (local.set $t (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $dv) (local.get $dv))))
        (local.set $sqb (f64x2.add (local.get $sqb) (f64x2.mul (local.get $t) (local.get $t))))))
      (if (f32.ne (local.get $wd) (f32.const 0)) (then
        (local.set $dv (f32x4.add (local.get $dv) (f32x4.mul (local.get $wdv) (local.get $pv))))))
      (if (f32.ne (local.get $mu) (f32.const 0)) (then
        (if (i32.eqz (local.get $first)) (then
          (local.set $dv (f32x4.add (f32x4.mul (local.get $muv) (v128.load (i32.add (local.get $o) (local.get $vd)))) (local.get $dv)))))
        (v128.store (i32.add (local.get $o) (local.get $vd)) (local.get $dv))))
      (local.set $pv (f32x4.add (local.get $pv) (f32x4.mul (local.get $nlr) (local.get $dv))))
      (v128.store (local.get $o) (local.get $pv))
      (local.set $probe (f32x4.add (local.get $probe) (f32x4.mul (local.get $pv) (v128.const f32x4 0 0 0 0))))`, `
      (local.set $ps (f32.load (local.get $o)))
      (local.set $ds (f32.load (i32.add (local.get $o) (local.get $gd))))
      (local.set $sqs (f64.add (local.get $sqs) (f64.mul (f64.promote_f32 (local.get $ds)) (f64.promote_f32 (local.get $ds)))))
      (if (f32.ne (local.get $wd) (f32.const 0)) (then
        (local.set $ds (f32.add (local.get $ds) (f32.mul (local.get $wd) (local.get $ps))))))
      (if (f32.ne (local.get $mu) (f32.const 0)) (then
        (if (i32.eqz (local.get $first)) (then
          (local.set $ds (f32.add (f32.mul (local.get $mu) (f32.load (i32.add (local.get $o) (local.get $vd)))) (local.get $ds)))))
        (f32.store (i32.add (local.get $o) (local.get $vd)) (local.get $ds))))
      (local.set $ps (f32.add (local.get $ps) (f32.mul (f32.neg (local.get $lr)) (local.get $ds))))
      (f32.store (local.get $o) (local.get $ps))
      (local.set $probes (f32.add (local.get $probes) (f32.mul (local.get $ps) (f32.const 0))))`)}
    (if (local.get $sq) (then
      (f64.store (local.get $sq) (f64.add
        (f64.add (f64.add (f64x2.extract_lane 0 (local.get $sqa)) (f64x2.extract_lane 1 (local.get $sqa)))
          (f64.add (f64x2.extract_lane 0 (local.get $sqb)) (f64x2.extract_lane 1 (local.get $sqb))))
        (local.get $sqs)))))
    (f32.add (local.get $probes) (f32.add (f32.add (f32x4.extract_lane 0 (local.get $probe)) (f32x4.extract_lane 1 (local.get $probe)))
      (f32.add (f32x4.extract_lane 2 (local.get $probe)) (f32x4.extract_lane 3 (local.get $probe))))))

  (func (export "probe") (param $x i32) (param $count i32) (result f32)
    (local $off0 i32) (local $o i32) (local $end i32) (local $probe v128) (local $probes f32)
    (local.set $off0 (local.get $x))
    ${elementwise(`
      (local.set $probe (f32x4.add (local.get $probe) (f32x4.mul (v128.load (local.get $o)) (v128.const f32x4 0 0 0 0))))`, `
      (local.set $probes (f32.add (local.get $probes) (f32.mul (f32.load (local.get $o)) (f32.const 0))))`)}
    (f32.add (local.get $probes) (f32.add (f32.add (f32x4.extract_lane 0 (local.get $probe)) (f32x4.extract_lane 1 (local.get $probe)))
      (f32.add (f32x4.extract_lane 2 (local.get $probe)) (f32x4.extract_lane 3 (local.get $probe))))))
)`;
}
