// WebAssembly text (WAT) of the fused CNN step's kernels (mlp/fused-cnn-cpu.ts), f32x4 SIMD; a second
// module beside engine/wasm/mlp-kernels.ts, instantiated over the same memory (engine/wasm/load.ts
// instantiateCnnKernels), so one step uses both sets (the MLP's mm, mm_tn, colsum, relu, sgd, probe for
// the linear layers, biases, ReLUs and the update). engine/wasm/cnn-kernels-js.ts is the same set in plain
// JavaScript, bit for bit: every output element accumulates in f32 in the same order, a product rounded to
// f32 and then a sum rounded to f32 (mul then add, never a fused multiply-add); channel sums in f64.
//
// Layout: feature maps are NHWC per sample, [H, W, C] with C a multiple of 4 (padded channels hold 0), so
// one f32x4 is 4 channels of one position. Pointers are byte offsets into the memory; 0 means "none".
// Weights come packed by the caller (mlp/fused-cnn-cpu.ts):
//   forward  Wf [k, k, Ip, Op]  (a K×Op matrix, K = (ky·k + kx)·Ip + i); the first conv's [k, k, Op] is
//            flipped along kx: Wf[ky, k−1−kx, o], so that at stride 1 a pixel's taps of one kernel row
//            meet a contiguous run of outputs in the same direction
//   backward Wb [O, k, k, Ip]   (per output channel, the taps of one kernel row contiguous over kx and i)
//
// Exports:
//   conv_sparse_fwd(n, rows, rowptr, idx, val, lut, pyx, W, bias, Z, Ho, Wo, Op, k, s, p)
//       the first conv from the sparse images (CSR as in mlp-kernels.ts; pyx i32 [pixels] = row << 16 | col):
//       Z = bias, then every stored pixel scattered into the outputs it touches: Z[oy, ox] += x · Wf[ky, k−1−kx]
//       (pixels in CSR order, then ky, then kx ascending)
//   conv_sparse_bwd(n, rows, rowptr, idx, val, lut, pyx, dZ, Ho, Wo, Op, k, s, p, dW)
//       its weight gradient dW [k, k, Op] (flipped as Wf) = Σ x · dZ[oy, ox] in the same order (dW overwritten)
//   conv_fwd(n, X, Hi, Wi, Ip, W, bias, Z, Ho, Wo, Op, k, s, p)
//       Z[oy, ox, o] = Σ_{ky, kx, i} X[oy·s + ky − p, ox·s + kx − p, i] · Wf[ky, kx, i, o] (taps in the image
//       only, ascending K) + bias[o]
//   conv_bwd_dx(n, X, Hi, Wi, Ip, Wb, dZ, Ho, Wo, Op, O, k, s, p, dX, cnt, ent, tmp, pat)
//       the lists of conv_bwd_dw: per channel o, every dz = dZ[oy, ox, o] ≠ 0 (samples, positions ascending) as
//       (dz, byte address of its window's first tap, the window's row stride in bytes), count in cnt i32 [O],
//       entries at ent + o·(n·Ho·Wo·12); a window that crosses the input's edge (padding) is first copied into
//       a zero-padded k×k×Ip patch at pat (rows of k·Ip). And, if dX ≠ 0, the input gradient (overwritten):
//       per position, every tap row of dX held in registers while the position's dz's (tmp: (dz, o·k·k·Ip·4)
//       pairs, channels ascending) add dz · Wb[o, ky, kx, i] — per element the order of a plain scatter over
//       (samples, positions, channels) ascending
//   conv_bwd_dw(n, Ho, Wo, O, k, Ip, dW, cnt, ent)
//       dW[o, ky, kx, i] = Σ over channel o's list (in order) of dz · X[…] (a padded patch reads 0 outside the
//       input: + 0 leaves a sum that started at +0 unchanged), a tap row of it in registers (dW overwritten)
//   pool_fwd(n, X, Hi, Wi, C, k, s, Ho, Wo, P, arg)
//       max over each k×k window (stride s, no padding), PyTorch's rule: scanned row by row, a value replaces
//       the running max when greater or NaN; arg i32 = the window tap (ky·k + kx) picked
//   pool_bwd(n, dP, arg, Hi, Wi, C, k, s, Ho, Wo, dX)
//       dX = 0, then dX[tap picked] += dP (per output, taps ascending; the others get + 0)
//   pool_relu_bwd(n, dP, arg, C, k, Ho, Wo, dH, Z, dZ)
//       pool_bwd then relu_back (mlp-kernels.ts) in one pass, for a pooling with stride k that tiles its
//       input exactly (Hi = Ho·k, Wi = Wo·k): dH = 0 + (dP where picked, else 0), dZ = dH · (Z > 0 ? 1 : 0)
//   chan_sums(n, X, hw, C, Cr, out, div)
//       out f32 [n, Cr] = (Σ over the hw positions of each channel, in f64, positions ascending) / div;
//       up to 16 channels summed side by side (independent f64 chains, the same order per channel)

const each = (nv: number, line: string): string =>
  Array.from({ length: nv }, (_, q) => line.replaceAll('$q', String(q)).replaceAll('$off', String(16 * q))).join('\n');

const get = (v: string) => `(local.get ${v})`;
const set = (v: string, e: string) => `(local.set ${v} ${e})`;
const add = (a: string, b: string) => `(i32.add ${a} ${b})`;
const sub = (a: string, b: string) => `(i32.sub ${a} ${b})`;
const mul = (a: string, b: string) => `(i32.mul ${a} ${b})`;
const c = (x: number) => `(i32.const ${x})`;
const x4 = (a: string) => `(i32.shl ${a} (i32.const 2))`;
const maxS = (a: string, b: string) => `(select ${a} ${b} (i32.gt_s ${a} ${b}))`;
const minS = (a: string, b: string) => `(select ${a} ${b} (i32.lt_s ${a} ${b}))`;

/** for (v = from; v < to; v += step) body — signed compare, `to` evaluated each pass */
const loop = (v: string, from: string, to: string, body: string, step = c(1)): string => `
    ${set(v, from)}
    (block ${v}_done (loop ${v}_loop
      (br_if ${v}_done (i32.ge_s ${get(v)} ${to}))
      ${body}
      ${set(v, add(get(v), step))}
      (br ${v}_loop)))`;

/** the window of taps (ky0..ky1, kx0..kx1, exclusive ends) of output position (oy, ox) that lies inside the input */
const tapRange = (o: string, lo: string, hi: string, len: string) => `
    ${set(lo, maxS(c(0), sub(get('$p'), mul(get(o), get('$s')))))}
    ${set(hi, minS(get('$k'), sub(add(len, get('$p')), mul(get(o), get('$s')))))}`;

/** the conv_fwd column blocks: nv vectors (4·nv output channels) at a time */
const fwdBlock = (nv: number) => `
        (block $b${nv}_done (loop $b${nv}
          (br_if $b${nv}_done (i32.gt_s ${add(get('$j'), c(4 * nv))} ${get('$Op')}))
          ${each(nv, '(local.set $a$q (v128.const i32x4 0 0 0 0))')}
          ${loop('$ky', get('$ky0'), get('$ky1'), `
            ${set('$xp', add(get('$xs'), x4(mul(add(mul(sub(add(mul(get('$oy'), get('$s')), get('$ky')), get('$p')), get('$Wi')), sub(add(mul(get('$ox'), get('$s')), get('$kx0')), get('$p'))), get('$Ip')))))}
            ${set('$xe', add(get('$xp'), get('$seg')))}
            ${set('$wp', add(get('$W'), x4(add(mul(mul(add(mul(get('$ky'), get('$k')), get('$kx0')), get('$Ip')), get('$Op')), get('$j')))))}
            (block $e${nv}_done (loop $e${nv}
              (br_if $e${nv}_done (i32.ge_u ${get('$xp')} ${get('$xe')}))
              (local.set $xv (v128.load32_splat ${get('$xp')}))
              ${each(nv, '(local.set $a$q (f32x4.add (local.get $a$q) (f32x4.mul (local.get $xv) (v128.load offset=$off (local.get $wp)))))')}
              ${set('$xp', add(get('$xp'), c(4)))}
              ${set('$wp', add(get('$wp'), get('$wrs')))}
              (br $e${nv})))`)}
          ${set('$bp', add(get('$bias'), x4(get('$j'))))}
          ${set('$cp', add(get('$zp'), x4(get('$j'))))}
          ${each(nv, '(v128.store offset=$off (local.get $cp) (f32x4.add (local.get $a$q) (v128.load offset=$off (local.get $bp))))')}
          ${set('$j', add(get('$j'), c(4 * nv)))}
          (br $b${nv})))`;

/** conv_fwd's blocks for two neighbouring positions (ox, ox+1) whose windows lie wholly inside the input: the weights loaded once for both */
const fwdPairBlock = (nv: number) => `
        (block $pb${nv}_done (loop $pb${nv}
          (br_if $pb${nv}_done (i32.gt_s ${add(get('$j'), c(4 * nv))} ${get('$Op')}))
          ${each(nv, '(local.set $a$q (v128.const i32x4 0 0 0 0)) (local.set $c$q (v128.const i32x4 0 0 0 0))')}
          ${loop('$ky', get('$ky0'), get('$ky1'), `
            ${set('$xp', add(get('$xs'), x4(mul(add(mul(sub(add(mul(get('$oy'), get('$s')), get('$ky')), get('$p')), get('$Wi')), sub(mul(get('$ox'), get('$s')), get('$p'))), get('$Ip')))))}
            ${set('$xe', add(get('$xp'), get('$seg')))}
            ${set('$wp', add(get('$W'), x4(add(mul(mul(mul(get('$ky'), get('$k')), get('$Ip')), get('$Op')), get('$j')))))}
            (block $pe${nv}_done (loop $pe${nv}
              (br_if $pe${nv}_done (i32.ge_u ${get('$xp')} ${get('$xe')}))
              (local.set $xv (v128.load32_splat ${get('$xp')}))
              (local.set $yv (v128.load32_splat ${add(get('$xp'), get('$dx'))}))
              ${each(nv, `(local.set $wv (v128.load offset=$off (local.get $wp)))
              (local.set $a$q (f32x4.add (local.get $a$q) (f32x4.mul (local.get $xv) (local.get $wv))))
              (local.set $c$q (f32x4.add (local.get $c$q) (f32x4.mul (local.get $yv) (local.get $wv))))`)}
              ${set('$xp', add(get('$xp'), c(4)))}
              ${set('$wp', add(get('$wp'), get('$wrs')))}
              (br $pe${nv})))`)}
          ${set('$bp', add(get('$bias'), x4(get('$j'))))}
          ${set('$cp', add(get('$zp'), x4(get('$j'))))}
          ${each(nv, `(local.set $wv (v128.load offset=$off (local.get $bp)))
          (v128.store offset=$off (local.get $cp) (f32x4.add (local.get $a$q) (local.get $wv)))
          (v128.store offset=$off (i32.add (local.get $cp) (local.get $wrs)) (f32x4.add (local.get $c$q) (local.get $wv)))`)}
          ${set('$j', add(get('$j'), c(4 * nv)))}
          (br $pb${nv})))`;

/** a mod s and a / s (a ≥ 0) with no division at stride 1 (a division costs tens of cycles, paid per pixel) */
const remS = (a: string) => `(if (result i32) (i32.eq ${get('$s')} (i32.const 1)) (then (i32.const 0)) (else (i32.rem_u ${a} ${get('$s')})))`;
const divS = (a: string) => `(if (result i32) (i32.eq ${get('$s')} (i32.const 1)) (then ${a}) (else (i32.div_u ${a} ${get('$s')})))`;

/**
 * the sparse first conv's walk: every stored pixel of every sample, every tap (ky, kx) whose output lies in
 * [0, Ho)×[0, Wo); `tap` runs with $zp at Z[oy, ox] and $wp at W[ky, kx] (both rows of Op floats)
 */
const sparseWalk = (perSample: string, tap: string) => `
    ${set('$wrs', x4(get('$Op')))}
    ${set('$zsz', mul(mul(get('$Ho'), get('$Wo')), get('$wrs')))}
    ${set('$zs', get('$Z'))}
    ${loop('$i', c(0), get('$n'), `
      ${perSample}
      ${set('$rp', add(get('$rowptr'), x4(i32load(add(get('$rows'), x4(get('$i')))))))}
      ${loop('$e', i32load(get('$rp')), `(i32.load offset=4 ${get('$rp')})`, `
        ${set('$pix', `(i32.load16_u ${add(get('$idx'), `(i32.shl ${get('$e')} (i32.const 1))`)})`)}
        ${set('$xv', `(v128.load32_splat ${add(get('$lut'), x4(`(i32.load8_u ${add(get('$val'), get('$e'))})`))})`)}
        ${set('$pp', i32load(add(get('$pyx'), x4(get('$pix')))))}
        ${set('$ty', add(`(i32.shr_u ${get('$pp')} (i32.const 16))`, get('$p')))}
        ${set('$tx', add(`(i32.and ${get('$pp')} (i32.const 65535))`, get('$p')))}
        ;; ky ∈ [max(0, ty − (Ho−1)·s), min(k, ty + 1)) with ty − ky ≡ 0 (mod s); oy = (ty − ky)/s, falling by 1 a tap
        ${set('$ky0', maxS(c(0), sub(get('$ty'), mul(sub(get('$Ho'), c(1)), get('$s')))))}
        ${set('$ky1', minS(get('$k'), add(get('$ty'), c(1))))}
        (if (i32.lt_s ${get('$ky0')} ${get('$ky1')}) (then
          ${set('$ky0', add(get('$ky0'), remS(sub(get('$ty'), get('$ky0')))))}
          ${set('$kx0', maxS(c(0), sub(get('$tx'), mul(sub(get('$Wo'), c(1)), get('$s')))))}
          ${set('$kx1', minS(get('$k'), add(get('$tx'), c(1))))}
          (if (i32.lt_s ${get('$kx0')} ${get('$kx1')}) (then
            ${set('$kx0', add(get('$kx0'), remS(sub(get('$tx'), get('$kx0')))))}
            ${set('$oy', divS(sub(get('$ty'), get('$ky0'))))}
            ${set('$ox0', divS(sub(get('$tx'), get('$kx0'))))}
            (if (i32.eq ${get('$s')} (i32.const 1)) (then
              ;; stride 1: the taps of one kernel row are one run of outputs Z[oy, tx−kx1+1 .. tx−kx0] against
              ;; the flipped weights W[ky, k−kx1 .. k−1−kx0], both contiguous and ascending
              ${loop('$ky', get('$ky0'), get('$ky1'), `
                ${set('$zp', add(get('$zs'), mul(add(mul(get('$oy'), get('$Wo')), add(sub(get('$tx'), get('$kx1')), c(1))), get('$wrs'))))}
                ${set('$wp', add(get('$W'), mul(add(mul(get('$ky'), get('$k')), sub(get('$k'), get('$kx1'))), get('$wrs'))))}
                ${set('$ze', add(get('$zp'), mul(sub(get('$kx1'), get('$kx0')), get('$wrs'))))}
                (block $w_done (loop $w_loop
                  (br_if $w_done (i32.gt_u (i32.add ${get('$zp')} (i32.const 32)) ${get('$ze')}))
                  ${tap}
                  ${tap.replaceAll('(v128.load ', '(v128.load offset=16 ').replaceAll('(v128.store ', '(v128.store offset=16 ')}
                  ${set('$zp', add(get('$zp'), c(32)))}
                  ${set('$wp', add(get('$wp'), c(32)))}
                  (br $w_loop)))
                (if (i32.lt_u ${get('$zp')} ${get('$ze')}) (then ${tap}))
                ${set('$oy', sub(get('$oy'), c(1)))}`)})
            (else
            ${loop('$ky', get('$ky0'), get('$ky1'), `
              ${set('$ox', get('$ox0'))}
              ${loop('$kx', get('$kx0'), get('$kx1'), `
                ${set('$zp', add(get('$zs'), mul(add(mul(get('$oy'), get('$Wo')), get('$ox')), get('$wrs'))))}
                ${set('$wp', add(get('$W'), mul(add(mul(get('$ky'), get('$k')), sub(sub(get('$k'), c(1)), get('$kx'))), get('$wrs'))))}
                ${set('$ze', add(get('$zp'), get('$wrs')))}
                (block $v_done (loop $v_loop
                  (br_if $v_done (i32.ge_u ${get('$zp')} ${get('$ze')}))
                  ${tap}
                  ${set('$zp', add(get('$zp'), c(16)))}
                  ${set('$wp', add(get('$wp'), c(16)))}
                  (br $v_loop)))
                ${set('$ox', sub(get('$ox'), c(1)))}`, get('$s'))}
              ${set('$oy', sub(get('$oy'), c(1)))}`, get('$s'))}))))))`)}
      ${set('$zs', add(get('$zs'), get('$zsz')))}`)}`;

const i32load = (a: string) => `(i32.load ${a})`;

/** chan_sums over nv vectors of channels (from channel cv) at once: 2·nv f64x2 sums, each over the positions in order */
const sumBlock = (nv: number) => `
      (block $sb${nv}_done (loop $sb${nv}
        (br_if $sb${nv}_done (i32.gt_s ${add(get('$cv'), c(4 * nv))} ${get('$C')}))
        ${Array.from({ length: 2 * nv }, (_, q) => `(local.set $s${q} (v128.const i32x4 0 0 0 0))`).join(' ')}
        ${set('$p', add(get('$xp'), x4(get('$cv'))))}
        (block $sp${nv}_done (loop $sp${nv}
          (br_if $sp${nv}_done (i32.ge_u ${get('$p')} ${get('$pe')}))
          ${Array.from({ length: nv }, (_, q) => `
          (local.set $v (v128.load offset=${16 * q} ${get('$p')}))
          (local.set $s${2 * q} (f64x2.add ${get(`$s${2 * q}`)} (f64x2.promote_low_f32x4 ${get('$v')})))
          (local.set $s${2 * q + 1} (f64x2.add ${get(`$s${2 * q + 1}`)} (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 ${get('$v')} ${get('$v')}))))`).join('')}
          ${set('$p', add(get('$p'), get('$crs')))}
          (br $sp${nv})))
        ${Array.from({ length: 4 * nv }, (_, l) => `
        (if (i32.lt_s ${add(get('$cv'), c(l))} ${get('$Cr')}) (then
          (f32.store ${add(get('$op'), x4(add(get('$cv'), c(l))))}
            (f32.demote_f64 (f64.div (f64x2.extract_lane ${l & 1} ${get(`$s${l >> 1}`)}) ${get('$div')})))))`).join('')}
        ${set('$cv', add(get('$cv'), c(4 * nv)))}
        (br $sb${nv})))`;


const sparseLocals = `(local $i i32) (local $e i32) (local $rp i32) (local $pix i32) (local $pp i32) (local $ty i32) (local $tx i32)
    (local $ky i32) (local $kx i32) (local $ky0 i32) (local $ky1 i32) (local $kx0 i32) (local $kx1 i32) (local $oy i32) (local $ox i32) (local $ox0 i32)
    (local $wrs i32) (local $zsz i32) (local $zs i32) (local $zp i32) (local $ze i32) (local $wp i32) (local $q i32) (local $xv v128)`;

/** conv_bwd_dx's input gradient over one tap row: nv vectors of dX in registers, every dz of the position (tmp) added in turn */
const dxBlock = (nv: number) => `
              (block $dx${nv}_done (loop $dx${nv}
                (br_if $dx${nv}_done (i32.gt_u ${add(get('$dxp'), c(16 * nv))} ${get('$de')}))
                ${each(nv, '(local.set $a$q (v128.load offset=$off (local.get $dxp)))')}
                ${set('$mp', get('$tmp'))}
                (block $dm${nv}_done (loop $dm${nv}
                  (br_if $dm${nv}_done (i32.ge_u ${get('$mp')} ${get('$m')}))
                  (local.set $dzv (v128.load32_splat ${get('$mp')}))
                  ${set('$wp', add(get('$wo'), `(i32.load offset=4 ${get('$mp')})`))}
                  ${each(nv, '(local.set $a$q (f32x4.add (local.get $a$q) (f32x4.mul (local.get $dzv) (v128.load offset=$off (local.get $wp)))))')}
                  ${set('$mp', add(get('$mp'), c(8)))}
                  (br $dm${nv})))
                ${each(nv, '(v128.store offset=$off (local.get $dxp) (local.get $a$q))')}
                ${set('$dxp', add(get('$dxp'), c(16 * nv)))}
                ${set('$wo', add(get('$wo'), c(16 * nv)))}
                (br $dx${nv})))`;

/** conv_bwd_dw: channel o, tap row ky, nv vectors (from byte cho of the row) in registers over the channel's list */
const dwBlock = (nv: number) => `
        (block $dw${nv}_done (loop $dw${nv}
          (br_if $dw${nv}_done (i32.gt_u ${add(get('$cho'), c(16 * nv))} ${get('$segb')}))
          ${each(nv, '(local.set $a$q (v128.const i32x4 0 0 0 0))')}
          ${set('$ep', get('$eb'))}
          (block $de${nv}_done (loop $de${nv}
            (br_if $de${nv}_done (i32.ge_u ${get('$ep')} ${get('$ee')}))
            (local.set $dzv (v128.load32_splat ${get('$ep')}))
            ${set('$xp', add(add(`(i32.load offset=4 ${get('$ep')})`, mul(get('$ky'), `(i32.load offset=8 ${get('$ep')})`)), get('$cho')))}
            ${each(nv, '(local.set $a$q (f32x4.add (local.get $a$q) (f32x4.mul (local.get $dzv) (v128.load offset=$off (local.get $xp)))))')}
            ${set('$ep', add(get('$ep'), c(12)))}
            (br $de${nv})))
          ${each(nv, '(v128.store offset=$off (i32.add (local.get $wrow) (local.get $cho)) (local.get $a$q))')}
          ${set('$cho', add(get('$cho'), c(16 * nv)))}
          (br $dw${nv})))`;

export function cnnKernelsWat(): string {
  return `(module
  (import "env" "memory" (memory 1))

  (func (export "conv_sparse_fwd") (param $n i32) (param $rows i32) (param $rowptr i32) (param $idx i32) (param $val i32) (param $lut i32) (param $pyx i32)
    (param $W i32) (param $bias i32) (param $Z i32) (param $Ho i32) (param $Wo i32) (param $Op i32) (param $k i32) (param $s i32) (param $p i32)
    ${sparseLocals}
    ${sparseWalk(`
      ;; every output position starts at the bias
      ${loop('$q', c(0), get('$zsz'), `
        ${set('$zp', add(get('$zs'), get('$q')))}
        ${loop('$ze', c(0), get('$wrs'), `(v128.store ${add(get('$zp'), get('$ze'))} (v128.load ${add(get('$bias'), get('$ze'))}))`, c(16))}`, get('$wrs'))}`,
    `(v128.store ${get('$zp')} (f32x4.add (v128.load ${get('$zp')}) (f32x4.mul ${get('$xv')} (v128.load ${get('$wp')}))))`)})

  ;; the walk of conv_sparse_fwd with Z read as dZ ($zp) and W as dW ($wp): dW[ky, kx] += x · dZ[oy, ox]
  (func (export "conv_sparse_bwd") (param $n i32) (param $rows i32) (param $rowptr i32) (param $idx i32) (param $val i32) (param $lut i32) (param $pyx i32)
    (param $Z i32) (param $Ho i32) (param $Wo i32) (param $Op i32) (param $k i32) (param $s i32) (param $p i32) (param $W i32)
    ${sparseLocals}
    (memory.fill ${get('$W')} (i32.const 0) ${x4(mul(mul(get('$k'), get('$k')), get('$Op')))})
    ${sparseWalk('', `(v128.store ${get('$wp')} (f32x4.add (v128.load ${get('$wp')}) (f32x4.mul ${get('$xv')} (v128.load ${get('$zp')}))))`)})

  (func (export "conv_fwd") (param $n i32) (param $X i32) (param $Hi i32) (param $Wi i32) (param $Ip i32) (param $W i32) (param $bias i32) (param $Z i32)
    (param $Ho i32) (param $Wo i32) (param $Op i32) (param $k i32) (param $s i32) (param $p i32)
    (local $i i32) (local $oy i32) (local $ox i32) (local $j i32) (local $ky i32) (local $ky0 i32) (local $ky1 i32) (local $kx0 i32) (local $kx1 i32)
    (local $xs i32) (local $xsz i32) (local $zp i32) (local $xp i32) (local $xe i32) (local $wp i32) (local $wrs i32) (local $seg i32) (local $bp i32) (local $cp i32)
    (local $dx i32) (local $xv v128) (local $yv v128) (local $wv v128) (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128)
    ${set('$wrs', x4(get('$Op')))}
    ${set('$dx', x4(mul(get('$s'), get('$Ip'))))}
    ${set('$xsz', x4(mul(mul(get('$Hi'), get('$Wi')), get('$Ip'))))}
    ${set('$zp', get('$Z'))}
    ${set('$xs', get('$X'))}
    ${loop('$i', c(0), get('$n'), `
      ${loop('$oy', c(0), get('$Ho'), `
        ${tapRange('$oy', '$ky0', '$ky1', get('$Hi'))}
        ${set('$ox', c(0))}
        (block $ox_done (loop $ox_loop
          (br_if $ox_done (i32.ge_s ${get('$ox')} ${get('$Wo')}))
          ${set('$j', c(0))}
          ;; a pair of positions when both windows are whole: ox·s ≥ p and (ox+1)·s + k ≤ Wi + p
          (if (i32.and (i32.lt_s ${add(get('$ox'), c(1))} ${get('$Wo')})
                (i32.and (i32.ge_s ${mul(get('$ox'), get('$s'))} ${get('$p')})
                  (i32.le_s ${add(mul(add(get('$ox'), c(1)), get('$s')), get('$k'))} ${add(get('$Wi'), get('$p'))})))
            (then
              ${set('$seg', x4(mul(get('$k'), get('$Ip'))))}
              ${fwdPairBlock(4)}
              ${fwdPairBlock(2)}
              ${fwdPairBlock(1)}
              ${set('$zp', add(get('$zp'), x4(get('$Op'))))}
              ${set('$ox', add(get('$ox'), c(1)))})
            (else
              ${tapRange('$ox', '$kx0', '$kx1', get('$Wi'))}
              ${set('$seg', x4(mul(sub(get('$kx1'), get('$kx0')), get('$Ip'))))}
              ${fwdBlock(4)}
              ${fwdBlock(2)}
              ${fwdBlock(1)}))
          ${set('$zp', add(get('$zp'), get('$wrs')))}
          ${set('$ox', add(get('$ox'), c(1)))}
          (br $ox_loop)))`)}
      ${set('$xs', add(get('$xs'), get('$xsz')))}`)})

  (func (export "conv_bwd_dx") (param $n i32) (param $X i32) (param $Hi i32) (param $Wi i32) (param $Ip i32) (param $Wb i32) (param $dZ i32)
    (param $Ho i32) (param $Wo i32) (param $Op i32) (param $O i32) (param $k i32) (param $s i32) (param $p i32) (param $dX i32)
    (param $cnt i32) (param $ent i32) (param $tmp i32) (param $pat i32)
    (local $i i32) (local $oy i32) (local $ox i32) (local $o i32) (local $ky i32) (local $ky0 i32) (local $ky1 i32) (local $kx0 i32) (local $kx1 i32)
    (local $xs i32) (local $xsz i32) (local $zp i32) (local $wos i32) (local $yrs i32) (local $chs i32) (local $xo i32) (local $xoff i32) (local $rs i32)
    (local $m i32) (local $mp i32) (local $cp i32) (local $ep i32) (local $segb i32) (local $pp i32)
    (local $dxp i32) (local $de i32) (local $wo i32) (local $wp i32) (local $dz f32) (local $dzv v128)
    ${each(5, "(local $a$q v128)")}
    ${set('$xsz', x4(mul(mul(get('$Hi'), get('$Wi')), get('$Ip'))))}
    ${set('$wos', x4(mul(mul(get('$k'), get('$k')), get('$Ip'))))}
    ${set('$yrs', x4(mul(get('$Wi'), get('$Ip'))))}
    ${set('$segb', x4(mul(get('$k'), get('$Ip'))))}
    ${set('$chs', mul(mul(mul(get('$n'), get('$Ho')), get('$Wo')), c(12)))}
    (if ${get('$dX')} (then (memory.fill ${get('$dX')} (i32.const 0) ${mul(get('$n'), get('$xsz'))})))
    (memory.fill ${get('$cnt')} (i32.const 0) ${x4(get('$O'))})
    ${set('$zp', get('$dZ'))}
    ${set('$pp', get('$pat'))}
    ${loop('$i', c(0), get('$n'), `
      ${set('$xs', add(get('$X'), mul(get('$i'), get('$xsz'))))}
      ${loop('$oy', c(0), get('$Ho'), `
        ${tapRange('$oy', '$ky0', '$ky1', get('$Hi'))}
        ${loop('$ox', c(0), get('$Wo'), `
          ${tapRange('$ox', '$kx0', '$kx1', get('$Wi'))}
          ${set('$xo', add(get('$xs'), x4(mul(add(mul(sub(mul(get('$oy'), get('$s')), get('$p')), get('$Wi')), sub(mul(get('$ox'), get('$s')), get('$p'))), get('$Ip')))))}
          ${set('$xoff', get('$xo'))}
          ${set('$rs', get('$yrs'))}
          (if (i32.eqz (i32.and (i32.and (i32.eqz ${get('$ky0')}) (i32.eq ${get('$ky1')} ${get('$k')})) (i32.and (i32.eqz ${get('$kx0')}) (i32.eq ${get('$kx1')} ${get('$k')}))))
            (then
              ;; a window across the input's edge: its k×k taps copied into a patch, zeros outside the input
              ${set('$xoff', get('$pp'))}
              ${set('$rs', get('$segb'))}
              (memory.fill ${get('$pp')} (i32.const 0) ${mul(get('$k'), get('$segb'))})
              (if (i32.lt_s ${get('$kx0')} ${get('$kx1')}) (then
                ${loop('$ky', get('$ky0'), get('$ky1'), `
                  (memory.copy ${add(add(get('$pp'), mul(get('$ky'), get('$segb'))), x4(mul(get('$kx0'), get('$Ip'))))}
                    ${add(add(get('$xo'), mul(get('$ky'), get('$yrs'))), x4(mul(get('$kx0'), get('$Ip'))))}
                    ${x4(mul(sub(get('$kx1'), get('$kx0')), get('$Ip')))})`)}))
              ${set('$pp', add(get('$pp'), mul(get('$k'), get('$segb'))))}))
          ${set('$m', get('$tmp'))}
          ${loop('$o', c(0), get('$O'), `
            ${set('$dz', `(f32.load ${add(get('$zp'), x4(get('$o')))})`)}
            (if (f32.ne ${get('$dz')} (f32.const 0)) (then
              ${set('$cp', add(get('$cnt'), x4(get('$o'))))}
              ${set('$ep', add(add(get('$ent'), mul(get('$o'), get('$chs'))), mul(i32load(get('$cp')), c(12))))}
              (f32.store ${get('$ep')} ${get('$dz')})
              (i32.store offset=4 ${get('$ep')} ${get('$xoff')})
              (i32.store offset=8 ${get('$ep')} ${get('$rs')})
              (i32.store ${get('$cp')} ${add(i32load(get('$cp')), c(1))})
              (f32.store ${get('$m')} ${get('$dz')})
              (i32.store offset=4 ${get('$m')} ${mul(get('$o'), get('$wos'))})
              ${set('$m', add(get('$m'), c(8)))}))`)}
          (if (i32.and (i32.ne ${get('$dX')} (i32.const 0)) (i32.gt_u ${get('$m')} ${get('$tmp')})) (then
            ${loop('$ky', get('$ky0'), get('$ky1'), `
              ${set('$dxp', add(sub(add(get('$dX'), get('$xo')), get('$X')), add(mul(get('$ky'), get('$yrs')), x4(mul(get('$kx0'), get('$Ip'))))))}
              ${set('$de', add(get('$dxp'), x4(mul(sub(get('$kx1'), get('$kx0')), get('$Ip')))))}
              ${set('$wo', add(get('$Wb'), x4(mul(add(mul(get('$ky'), get('$k')), get('$kx0')), get('$Ip')))))}
              ${[5, 4, 2, 1].map(dxBlock).join('')}`)}))
          ${set('$zp', add(get('$zp'), x4(get('$Op'))))}`)}`)}`)})

  (func (export "conv_bwd_dw") (param $n i32) (param $Ho i32) (param $Wo i32) (param $O i32) (param $k i32) (param $Ip i32) (param $dW i32)
    (param $cnt i32) (param $ent i32)
    (local $o i32) (local $ky i32) (local $chs i32) (local $wos i32) (local $segb i32) (local $ep i32) (local $eb i32) (local $ee i32)
    (local $wrow i32) (local $cho i32) (local $xp i32) (local $dzv v128)
    ${each(5, "(local $a$q v128)")}
    ${set('$wos', x4(mul(mul(get('$k'), get('$k')), get('$Ip'))))}
    ${set('$segb', x4(mul(get('$k'), get('$Ip'))))}
    ${set('$chs', mul(mul(mul(get('$n'), get('$Ho')), get('$Wo')), c(12)))}
    ${loop('$o', c(0), get('$O'), `
      ${set('$eb', add(get('$ent'), mul(get('$o'), get('$chs'))))}
      ${set('$ee', add(get('$eb'), mul(i32load(add(get('$cnt'), x4(get('$o')))), c(12))))}
      ${loop('$ky', c(0), get('$k'), `
        ${set('$wrow', add(add(get('$dW'), mul(get('$o'), get('$wos'))), mul(get('$ky'), get('$segb'))))}
        ${set('$cho', c(0))}
        ${[5, 4, 2, 1].map(dwBlock).join('')}`)}`)})

  (func (export "pool_fwd") (param $n i32) (param $X i32) (param $Hi i32) (param $Wi i32) (param $C i32) (param $k i32) (param $s i32)
    (param $Ho i32) (param $Wo i32) (param $P i32) (param $arg i32)
    (local $i i32) (local $oy i32) (local $ox i32) (local $cv i32) (local $ky i32) (local $kx i32) (local $t i32)
    (local $crs i32) (local $xs i32) (local $xsz i32) (local $base i32) (local $out i32)
    (local $m v128) (local $a v128) (local $v v128) (local $mask v128)
    ${set('$crs', x4(get('$C')))}
    ${set('$xsz', mul(mul(get('$Hi'), get('$Wi')), get('$crs')))}
    ${loop('$i', c(0), get('$n'), `
      ${set('$xs', add(get('$X'), mul(get('$i'), get('$xsz'))))}
      ${loop('$oy', c(0), get('$Ho'), `
        ${loop('$ox', c(0), get('$Wo'), `
          ${set('$base', add(get('$xs'), mul(add(mul(mul(get('$oy'), get('$s')), get('$Wi')), mul(get('$ox'), get('$s'))), get('$crs'))))}
          ${loop('$cv', c(0), get('$crs'), `
            (local.set $m (v128.load ${add(get('$base'), get('$cv'))}))
            (local.set $a (v128.const i32x4 0 0 0 0))
            ${set('$t', c(0))}
            ${loop('$ky', c(0), get('$k'), `
              ${loop('$kx', c(0), get('$k'), `
                (local.set $v (v128.load ${add(add(get('$base'), get('$cv')), mul(add(mul(get('$ky'), get('$Wi')), get('$kx')), get('$crs')))}))
                (local.set $mask (v128.or (f32x4.gt ${get('$v')} ${get('$m')}) (f32x4.ne ${get('$v')} ${get('$v')})))
                (local.set $m (v128.bitselect ${get('$v')} ${get('$m')} ${get('$mask')}))
                (local.set $a (v128.bitselect (i32x4.splat ${get('$t')}) ${get('$a')} ${get('$mask')}))
                ${set('$t', add(get('$t'), c(1)))}`)}`)}
            (v128.store ${add(get('$P'), add(get('$out'), get('$cv')))} ${get('$m')})
            (v128.store ${add(get('$arg'), add(get('$out'), get('$cv')))} ${get('$a')})`, c(16))}
          ${set('$out', add(get('$out'), get('$crs')))}`)}`)}`)})

  (func (export "pool_bwd") (param $n i32) (param $dP i32) (param $arg i32) (param $Hi i32) (param $Wi i32) (param $C i32) (param $k i32) (param $s i32)
    (param $Ho i32) (param $Wo i32) (param $dX i32)
    (local $i i32) (local $oy i32) (local $ox i32) (local $cv i32) (local $ky i32) (local $kx i32) (local $t i32)
    (local $crs i32) (local $xs i32) (local $xsz i32) (local $base i32) (local $out i32) (local $at i32)
    (local $d v128) (local $a v128)
    ${set('$crs', x4(get('$C')))}
    ${set('$xsz', mul(mul(get('$Hi'), get('$Wi')), get('$crs')))}
    (memory.fill ${get('$dX')} (i32.const 0) ${mul(get('$n'), get('$xsz'))})
    ${loop('$i', c(0), get('$n'), `
      ${set('$xs', add(get('$dX'), mul(get('$i'), get('$xsz'))))}
      ${loop('$oy', c(0), get('$Ho'), `
        ${loop('$ox', c(0), get('$Wo'), `
          ${set('$base', add(get('$xs'), mul(add(mul(mul(get('$oy'), get('$s')), get('$Wi')), mul(get('$ox'), get('$s'))), get('$crs'))))}
          ${loop('$cv', c(0), get('$crs'), `
            (local.set $d (v128.load ${add(get('$dP'), add(get('$out'), get('$cv')))}))
            (local.set $a (v128.load ${add(get('$arg'), add(get('$out'), get('$cv')))}))
            ${set('$t', c(0))}
            ${loop('$ky', c(0), get('$k'), `
              ${loop('$kx', c(0), get('$k'), `
                ${set('$at', add(add(get('$base'), get('$cv')), mul(add(mul(get('$ky'), get('$Wi')), get('$kx')), get('$crs'))))}
                (v128.store ${get('$at')} (f32x4.add (v128.load ${get('$at')}) (v128.and ${get('$d')} (i32x4.eq ${get('$a')} (i32x4.splat ${get('$t')})))))
                ${set('$t', add(get('$t'), c(1)))}`)}`)}`, c(16))}
          ${set('$out', add(get('$out'), get('$crs')))}`)}`)}`)})

  (func (export "pool_relu_bwd") (param $n i32) (param $dP i32) (param $arg i32) (param $C i32) (param $k i32) (param $Ho i32) (param $Wo i32)
    (param $dH i32) (param $Z i32) (param $dZ i32)
    (local $i i32) (local $oy i32) (local $ox i32) (local $cv i32) (local $ky i32) (local $kx i32) (local $t i32)
    (local $crs i32) (local $Wi i32) (local $base i32) (local $src i32) (local $at i32) (local $dh i32) (local $dz i32)
    (local $d v128) (local $a v128) (local $h v128)
    ${set('$crs', x4(get('$C')))}
    ${set('$Wi', mul(get('$Wo'), get('$k')))}
    ${set('$dh', sub(get('$dH'), get('$Z')))}
    ${set('$dz', sub(get('$dZ'), get('$Z')))}
    ${set('$src', c(0))}
    ${loop('$i', c(0), get('$n'), `
      ${loop('$oy', c(0), get('$Ho'), `
        ${loop('$ox', c(0), get('$Wo'), `
          ${set('$base', add(get('$Z'), mul(add(mul(add(mul(get('$i'), get('$Ho')), get('$oy')), mul(get('$k'), get('$Wi'))), mul(get('$ox'), get('$k'))), get('$crs'))))}
          ${loop('$cv', c(0), get('$crs'), `
            (local.set $d (v128.load ${add(get('$dP'), add(get('$src'), get('$cv')))}))
            (local.set $a (v128.load ${add(get('$arg'), add(get('$src'), get('$cv')))}))
            ${set('$t', c(0))}
            ${loop('$ky', c(0), get('$k'), `
              ${loop('$kx', c(0), get('$k'), `
                ${set('$at', add(add(get('$base'), get('$cv')), mul(add(mul(get('$ky'), get('$Wi')), get('$kx')), get('$crs'))))}
                (local.set $h (f32x4.add (v128.const i32x4 0 0 0 0) (v128.and ${get('$d')} (i32x4.eq ${get('$a')} (i32x4.splat ${get('$t')})))))
                (v128.store ${add(get('$at'), get('$dh'))} ${get('$h')})
                (v128.store ${add(get('$at'), get('$dz'))} (f32x4.mul ${get('$h')}
                  (v128.and (f32x4.gt (v128.load ${get('$at')}) (v128.const f32x4 0 0 0 0)) (v128.const f32x4 1 1 1 1))))
                ${set('$t', add(get('$t'), c(1)))}`)}`)}`, c(16))}
          ${set('$src', add(get('$src'), get('$crs')))}`)}`)}`)})

  (func (export "chan_sums") (param $n i32) (param $X i32) (param $hw i32) (param $C i32) (param $Cr i32) (param $out i32) (param $div f64)
    (local $i i32) (local $cv i32) (local $q i32) (local $crs i32) (local $xp i32) (local $op i32) (local $p i32) (local $pe i32)
    (local $v v128) ${each(8, '(local $s$q v128)')}
    ${set('$crs', x4(get('$C')))}
    ${set('$xp', get('$X'))}
    ${loop('$i', c(0), get('$n'), `
      ${set('$op', add(get('$out'), x4(mul(get('$i'), get('$Cr')))))}
      ${set('$pe', add(get('$xp'), mul(get('$hw'), get('$crs'))))}
      ${set('$cv', c(0))}
      ${[4, 2, 1].map(sumBlock).join('')}
      ${set('$xp', get('$pe'))}`)})
)`;
}
