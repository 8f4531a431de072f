// The fused training step of the plain ReLU MLP on the GPU: one workgroup runs whole SGD steps, many
// in one dispatch (the batch's rows from the epoch order, forward, softmax-cross-entropy, backward,
// the update of every parameter, the recording and the finiteness flags), with barriers between the
// phases of a step instead of a dispatch each. A step of the reference model is ≈ 6.5 MFLOP: a dispatch
// costs more than the arithmetic on every adapter we run on (≈ 15 µs per dependent dispatch through
// Dawn on an H100, ≈ 0.1 ms on llvmpipe), so 59 dispatches a step become one dispatch per `steps`.
//
// Bindings: 0 sparse (the split's images as sparse rows, u32: N + 1 row starts, then one word per
// nonzero pixel, column | byte << 16), 1 labels [N] (f32), 2 lut [256] (byte → pixel), 3 epoch (u32:
// the epoch's order [N], then each step's batch by columns, `epochTable` in mlp/fused-gpu.ts), 4 state
// (read-write, layout below), 5 record (read-write, only with `record`), then the params uniform.
//
// state (f32 words, offsets from trainStepsLayout): loss sum, correct count, a finiteness mask per step
// (its bits as an f32 integer), the parameters in model.params() order (W_l [d_in, d_out] row-major,
// then b_l), their momentum buffers, the gradients of the layers past the first (updated one phase after
// their gradient is known: their old weights are still needed for the gradient below), Σ g² per step
// and parameter, the per-thread partial sums of those, and the activations when they do not fit
// workgroup memory.
// Activations: the pre-activation Z of every layer, [batch, width]; a layer's gradient overwrites its Z
// once the layer below has used Z for its weight gradient (ReLU's mask is read first, element by element).
//
// Numerics follow the generic kernels: f32 products summed in ascending order of the inner index, the
// bias added last, relu = select(0, z, z > 0), the loss m + log Σ exp(z − m) − z_y, its gradient
// (exp(z − m − log s) − [j = y]) · (1/n), d = g + wd·w, v = μ·v + d, w + (−lr)·d. The first layer visits
// only the nonzero pixels (MNIST is ≈ 81 % zeros): the others' products are +0 and change no sum. Its
// forward reads the batch by rows, its weight gradient by columns (each weight's sum over the rows
// where its pixel is nonzero, in the rows' order, as the dense sum), so every invocation accumulates in
// registers and updates its weights in the same pass.
import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';
import type { Dispatch } from './kernel.ts';

export interface TrainStepsConfig {
  /** layer widths [d0, d1, …, dL]: L linear layers, ReLU after each but the last */
  sizes: readonly number[];
  /** rows per step (the last step of an epoch may have fewer) */
  batch: number;
  /** invocations of the one workgroup */
  threads: number;
  momentum: boolean;
  weightDecay: boolean;
  /** write every named activation and gradient, and Σ g² per parameter, into the record buffer / state */
  record: boolean;
  /** rows of each record slot (samples of the epoch) */
  recordRows: number;
  /** samples in the split (the sparse table's row starts come first) */
  count: number;
  /** steps per epoch: sizes the per-step flags and squares */
  steps: number;
  /** bytes of workgroup memory the device allows (activations go there when they fit) */
  workgroupBytes: number;
}

export interface TrainStepsLayout {
  /** state word offsets */
  loss: number; correct: number; flags: number;
  /** per parameter in model.params() order: its words, and where its value, momentum and gradient start */
  params: { size: number; at: number; v: number; g: number }[];
  /** Σ g² [steps, params] (record only) */
  squares: number;
  partials: number;
  /** activations in state (when not in workgroup memory), else -1 */
  scratch: number;
  words: number;
  actsInWorkgroup: boolean;
  /** record buffer: per name, where its [recordRows, width] activation and gradient slots start */
  record: { name: string; width: number; act: number; grad: number }[];
  recordWords: number;
  /** names in the order of the finiteness bits: activations (no input), then parameters */
  checked: string[];
}

const hiddenCount = (sizes: readonly number[]) => sizes.length - 2;

/** workgroup words of the per-step row tables (loss, hit, label, first and end pixel of each row) and the flag bits */
export const rowTableWords = (batch: number): number => 5 * batch + 1;

/** the record's names as the recorder keeps them: layers.K.pre/post for hidden layers, logits, loss */
export function recordNames(sizes: readonly number[]): { name: string; width: number }[] {
  const out: { name: string; width: number }[] = [];
  for (let k = 0; k < hiddenCount(sizes); k++) {
    out.push({ name: `layers.${k}.pre`, width: sizes[k + 1] }, { name: `layers.${k}.post`, width: sizes[k + 1] });
  }
  out.push({ name: 'logits', width: sizes[sizes.length - 1] }, { name: 'loss', width: 1 });
  return out;
}

export function trainStepsLayout(c: TrainStepsConfig): TrainStepsLayout {
  const L = c.sizes.length - 1;
  const sizes = Array.from({ length: L }, (_, l) => [c.sizes[l] * c.sizes[l + 1], c.sizes[l + 1]]).flat();
  const total = sizes.reduce((a, b) => a + b, 0);
  let at = 0;
  const take = (n: number) => { const o = at; at += n; return o; };
  const loss = take(1), correct = take(1), flags = take(c.steps);
  // gradient words only past the first layer, whose weights and bias are updated from registers
  const first = sizes[0] + sizes[1];
  const base = take(total), vBase = c.momentum ? take(total) : -1, gBase = take(total - first) - first;
  let off = 0;
  const params = sizes.map((size, k) => {
    const p = { size, at: base + off, v: vBase < 0 ? -1 : vBase + off, g: k < 2 ? -1 : gBase + off };
    off += size;
    return p;
  });
  const squares = c.record ? take(c.steps * params.length) : -1;
  const partials = c.record ? take(c.threads * params.length) : -1;
  const actWords = c.batch * c.sizes.slice(1).reduce((a, b) => a + b, 0);
  const wgWords = actWords + rowTableWords(c.batch);
  const actsInWorkgroup = 4 * wgWords <= c.workgroupBytes;
  const scratch = actsInWorkgroup ? -1 : take(actWords);
  let r = 0;
  const record = c.record ? recordNames(c.sizes).map(({ name, width }) => {
    const act = r; r += c.recordRows * width;
    return { name, width, act, grad: -1 };
  }) : [];
  for (const e of record) { e.grad = r; r += c.recordRows * e.width; }
  const checked = [
    ...recordNames(c.sizes).map((e) => e.name),
    ...Array.from({ length: L }, (_, l) => [`layers.${l}.W`, `layers.${l}.b`]).flat(),
  ];
  return { loss, correct, flags, params, squares, partials, scratch, words: at, actsInWorkgroup, record, recordWords: r, checked };
}

/**
 * an upper bound of the loop iterations one invocation runs per step, with at most `rowNonzeros`
 * nonzero pixels in a row (default: every pixel). Mesa's
 * llvmpipe and lavapipe stop a shader invocation after 65 535 loop iterations in all (gallivm's loop
 * limiter, counted across every loop of the invocation, not per loop): the rest of the dispatch is
 * silently skipped. On those adapters the steps per dispatch must keep this × steps under that.
 */
export function loopIterationsPerStep(c: TrainStepsConfig, rowNonzeros = c.sizes[0]): number {
  const { sizes, batch: B, threads: T } = c;
  const L = sizes.length - 1, D0 = sizes[0], D1 = sizes[1], NJB = D1 / blockOf(D1), nz = Math.min(D0, rowNonzeros);
  const per = (items: number, inner: number) => Math.ceil(items / T) * (inner + 1) + 1;
  let n = per(B, 0) + per(B * NJB, nz);                                   // rows; first layer forward
  for (let l = 1; l < L; l++) n += per(B * sizes[l + 1], sizes[l]);      // later layers forward
  n += per(B, 3 * sizes[L]) + B;                                          // loss rows; thread 0's sum
  for (let l = L - 1; l >= 1; l--) {
    n += per(sizes[l] * sizes[l + 1], B) + per(sizes[l + 1], B) + per(B * sizes[l], sizes[l + 1]);
    n += per(sizes[l + 1] * (sizes[l + 2] ?? 0), 0) + per(sizes[l + 2] ?? 0, 0);   // deferred updates
  }
  // first layer: weight items over each column's rows; bias; deferred update of the second
  n += per(D0 * NJB, B) + per(D1, B) + per(D1 * (sizes[2] ?? 0), 0) + per(sizes[2] ?? 0, 0);
  if (c.record) n += T;
  return n;
}

const layout = { step0: 'u32', steps: 'u32', count: 'u32', vReady: 'u32', first: 'u32', s: 'f32', mu: 'f32', wd: 'f32' } as const;

export interface StepsParams {
  /** first step of this dispatch (0-based in the epoch) and how many */
  step0: number; steps: number;
  /** samples in the split (the last batch is partial) */
  count: number;
  /** the momentum buffers hold a velocity already (else the first update starts them as d) */
  vReady: boolean;
  /** this dispatch starts the epoch: the loss and correct totals start at 0 */
  first: boolean;
  lr: number; momentum: number; weightDecay: number;
}

/** the column block of the first layer's items: the widest of 8, 4, 2, 1 that divides its width */
const blockOf = (width: number) => [8, 4, 2, 1].find((b) => width % b === 0)!;

/** one dispatch of `p.steps` steps */
export function trainStepsKernel(c: TrainStepsConfig, p: StepsParams): Dispatch<typeof layout> {
  const lay = trainStepsLayout(c);
  const variant = [
    c.sizes.join('x'), `n${c.count}`, `b${c.batch}`, `t${c.threads}`, c.momentum ? 'mom' : '', c.weightDecay ? 'wd' : '',
    c.record ? `rec${c.recordRows}s${c.steps}` : `s${c.steps}`, lay.actsInWorkgroup ? 'wg' : 'st',
  ].filter(Boolean).join('-');
  return {
    variant,
    source: () => trainStepsSource(c, lay),
    layout,
    params: {
      step0: p.step0, steps: p.steps, count: p.count, vReady: p.vReady ? 1 : 0, first: p.first ? 1 : 0,
      s: -p.lr, mu: p.momentum, wd: p.weightDecay,
    },
    workgroups: [1, 1, 1],
  };
}

function trainStepsSource(c: TrainStepsConfig, lay: TrainStepsLayout): string {
  const { sizes, batch: B, threads: T } = c;
  const L = sizes.length - 1, D0 = sizes[0], P = lay.params.length;
  // pre-activation Z_l of layer l at act offset ZO[l]
  const ZO: number[] = [];
  let o = 0;
  for (let l = 0; l < L; l++) { ZO.push(o); o += B * sizes[l + 1]; }
  const actWords = o;
  const A = (i: string) => (lay.actsInWorkgroup ? `act[${i}]` : `st[${lay.scratch}u + ${i}]`);
  const rec = new Map(lay.record.map((e) => [e.name, e]));
  const bit = (name: string) => `${1 << lay.checked.indexOf(name)}u`;
  const W = (l: number) => lay.params[2 * l], Bi = (l: number) => lay.params[2 * l + 1];
  const hidden = (l: number) => l < L - 1;
  const preOf = (l: number) => (hidden(l) ? `layers.${l}.pre` : 'logits');

  // records z (and relu z for a hidden layer) at row `row`, column `col`; flags a non-finite z
  const keepZ = (l: number, z: string, row: string, col: string) => {
    const lines: string[] = [];
    if (c.record) {
      const w = sizes[l + 1];
      lines.push(`rec[${rec.get(preOf(l))!.act}u + (${row}) * ${w}u + ${col}] = ${z};`);
      if (hidden(l)) lines.push(`rec[${rec.get(`layers.${l}.post`)!.act}u + (${row}) * ${w}u + ${col}] = select(0.0, ${z}, ${z} > 0.0);`);
    }
    lines.push(`if (nonFinite(${z})) { atomicOr(&bad, ${bit(preOf(l))}); }`);
    return lines.join('\n      ');
  };

  // the update of parameter p's element i from gradient `g` (its old value read here)
  const update = (pi: number, i: string, g: string) => {
    const q = lay.params[pi], name = lay.checked[lay.checked.length - P + pi];
    return wgsl`{
        let w = st[${q.at}u + ${i}];
        var d = ${g};
#if ${c.weightDecay}
        d = d + params.wd * w;
#endif
#if ${c.momentum}
        if (ready) { d = params.mu * st[${q.v}u + ${i}] + d; }
        st[${q.v}u + ${i}] = d;
#endif
        let nw = w + params.s * d;
        st[${q.at}u + ${i}] = nw;
        if (nonFinite(nw)) { atomicOr(&bad, ${bit(name)}); }
      }`;
  };
  // Σ g² of parameter p, per thread (record only)
  const square = (pi: number, g: string) => (c.record ? `sq${pi} += ${g} * ${g};` : '');

  // deferred update of layer l (l ≥ 1) from the gradients stored in state
  const applyStored = (l: number) => [W(l), Bi(l)].map((q, k) => `
    for (var i = t; i < ${q.size}u; i += ${T}u) ${update(2 * l + k, 'i', `st[${q.g}u + i]`)}`).join('');

  // forward of layer 0 from the sparse rows: items (row, block of CB columns)
  const D1 = sizes[1], CB = blockOf(D1), NJB = D1 / CB, NR = `${c.count + 1}u`;
  const cols = Array.from({ length: CB }, (_, k) => k);
  const fwd0 = `
    for (var i = t; i < n * ${NJB}u; i += ${T}u) {
      let r = i / ${NJB}u;
      let j0 = (i % ${NJB}u) * ${CB}u;
      ${cols.map((k) => `var a${k} = 0.0;`).join(' ')}
      for (var p = rowBeg[r]; p < rowEnd[r]; p++) {
        let e = sp[${NR} + p];
        let x = lut[e >> 16u];
        let wr = ${W(0).at}u + (e & 0xffffu) * ${D1}u + j0;
        ${cols.map((k) => `a${k} += x * st[wr + ${k}u];`).join(' ')}
      }
${cols.map((k) => `      {
        let j = j0 + ${k}u;
        let z = a${k} + st[${Bi(0).at}u + j];
        ${A(`${ZO[0]}u + r * ${D1}u + j`)} = z;
        ${keepZ(0, 'z', 'start + r', 'j')}
      }`).join('\n')}
    }
    sync();`;

  // forward of layer l ≥ 1: items (row, column)
  const fwd = (l: number) => {
    const DI = sizes[l], DO = sizes[l + 1];
    return `
    for (var i = t; i < n * ${DO}u; i += ${T}u) {
      let r = i / ${DO}u;
      let j = i % ${DO}u;
      var a = 0.0;
      for (var k = 0u; k < ${DI}u; k++) {
        let h = ${A(`${ZO[l - 1]}u + r * ${DI}u + k`)};
        a += select(0.0, h, h > 0.0) * st[${W(l).at}u + k * ${DO}u + j];
      }
      let z = a + st[${Bi(l).at}u + j];
      ${A(`${ZO[l]}u + r * ${DO}u + j`)} = z;
      ${keepZ(l, 'z', 'start + r', 'j')}
    }
    sync();`;
  };

  // softmax cross-entropy per row: loss, hit, and the logits' gradient in place
  const C = sizes[L], ZL = ZO[L - 1];
  const lossPhase = `
    let inv = 1.0 / f32(n);
    for (var r = t; r < n; r += ${T}u) {
      let base = ${ZL}u + r * ${C}u;
      var m = ${A('base')};
      var best = 0u;
      for (var j = 1u; j < ${C}u; j++) { let v = ${A('base + j')}; if (v > m) { m = v; best = j; } }
      var se = 0.0;
      for (var j = 0u; j < ${C}u; j++) { se += exp(${A('base + j')} - m); }
      let ls = log(se);
      let y = rowLab[r];
      let loss = m + ls - ${A('base + y')};
      red[r] = loss;
      hit[r] = select(0u, 1u, best == y);
      if (nonFinite(loss)) { atomicOr(&bad, ${bit('loss')}); }
${c.record ? `      rec[${rec.get('loss')!.act}u + start + r] = loss;
      rec[${rec.get('loss')!.grad}u + start + r] = inv;` : ''}
      for (var j = 0u; j < ${C}u; j++) {
        let p = exp((${A('base + j')} - m) - ls);
        let g = (p - select(0.0, 1.0, j == y)) * inv;
        ${A('base + j')} = g;
${c.record ? `        rec[${rec.get('logits')!.grad}u + (start + r) * ${C}u + j] = g;` : ''}
      }
    }
    sync();
    if (t == 0u) {
      var total = 0.0;
      var right = 0u;
      for (var r = 0u; r < n; r++) { total += red[r]; right += hit[r]; }
      if (params.first != 0u && s == params.step0) { st[${lay.loss}u] = 0.0; st[${lay.correct}u] = 0.0; }
      st[${lay.loss}u] = st[${lay.loss}u] + total;
      st[${lay.correct}u] = st[${lay.correct}u] + f32(right);
    }`;

  // backward of layer l ≥ 1: gradients into state (and the deferred update of layer l + 1), then the
  // gradient of the layer below, written over its Z
  const back = (l: number) => {
    const DI = sizes[l], DO = sizes[l + 1];
    const wq = W(l), bq = Bi(l);
    return `
    for (var i = t; i < ${DI * DO}u; i += ${T}u) {
      let k = i / ${DO}u;
      let j = i % ${DO}u;
      var g = 0.0;
      for (var r = 0u; r < n; r++) {
        let h = ${A(`${ZO[l - 1]}u + r * ${DI}u + k`)};
        g += select(0.0, h, h > 0.0) * ${A(`${ZO[l]}u + r * ${DO}u + j`)};
      }
      st[${wq.g}u + i] = g;
      ${square(2 * l, 'g')}
    }
    for (var j = t; j < ${DO}u; j += ${T}u) {
      var g = 0.0;
      for (var r = 0u; r < n; r++) { g += ${A(`${ZO[l]}u + r * ${DO}u + j`)}; }
      st[${bq.g}u + j] = g;
      ${square(2 * l + 1, 'g')}
    }${l + 1 < L ? applyStored(l + 1) : ''}
    sync();
    for (var i = t; i < n * ${DI}u; i += ${T}u) {
      let r = i / ${DI}u;
      let k = i % ${DI}u;
      var g = 0.0;
      for (var j = 0u; j < ${DO}u; j++) { g += ${A(`${ZO[l]}u + r * ${DO}u + j`)} * st[${wq.at}u + k * ${DO}u + j]; }
      let z = ${A(`${ZO[l - 1]}u + r * ${DI}u + k`)};
      let dz = g * select(0.0, 1.0, z > 0.0);
      ${A(`${ZO[l - 1]}u + r * ${DI}u + k`)} = dz;
${c.record ? `      rec[${rec.get(`layers.${l - 1}.post`)!.grad}u + (start + r) * ${DI}u + k] = g;
      rec[${rec.get(`layers.${l - 1}.pre`)!.grad}u + (start + r) * ${DI}u + k] = dz;` : ''}
    }
    sync();`;
  };

  // the first layer's weight gradient fused with its update: items (input, column block), each summing
  // over the step's rows where that pixel is nonzero (the epoch table's columns, rows ascending: the
  // dense sum's order), then the bias and the second layer's deferred update
  const COL = c.count, ENT = c.count + c.steps * (D0 + 1);
  const back0 = `
    for (var i = t; i < ${D0 * NJB}u; i += ${T}u) {
      let k = i / ${NJB}u;
      let j0 = (i % ${NJB}u) * ${CB}u;
      let cp = ${COL}u + s * ${D0 + 1}u + k;
      let c1 = epoch[cp + 1u];
      ${cols.map((q) => `var g${q} = 0.0;`).join(' ')}
      for (var p = epoch[cp]; p < c1; p++) {
        let e = epoch[${ENT}u + p];
        let x = lut[e >> 8u];
        let zr = ${ZO[0]}u + (e & 0xffu) * ${D1}u + j0;
        ${cols.map((q) => `g${q} += x * ${A(`zr + ${q}u`)};`).join(' ')}
      }
${cols.map((q) => `      ${square(0, `g${q}`)}
      ${update(0, `k * ${D1}u + j0 + ${q}u`, `g${q}`)}`).join('\n')}
    }
    for (var j = t; j < ${D1}u; j += ${T}u) {
      var g = 0.0;
      for (var r = 0u; r < n; r++) { g += ${A(`${ZO[0]}u + r * ${D1}u + j`)}; }
      ${square(1, 'g')}
      ${update(1, 'j', 'g')}
    }${L > 1 ? applyStored(1) : ''}
    sync();`;

  const squares = c.record ? `
    ${Array.from({ length: P }, (_, q) => `st[${lay.partials}u + ${q * T}u + t] = sq${q};`).join('\n    ')}
    sync();
    if (t < ${P}u) {
      var total = 0.0;
      for (var k = 0u; k < ${T}u; k++) { total += st[${lay.partials}u + t * ${T}u + k]; }
      st[${lay.squares}u + s * ${P}u + t] = total;
    }` : '';

  return wgsl`
@group(0) @binding(0) var<storage, read> sp: array<u32>;
@group(0) @binding(1) var<storage, read> labels: array<f32>;
@group(0) @binding(2) var<storage, read> lut: array<f32>;
@group(0) @binding(3) var<storage, read> epoch: array<u32>;
@group(0) @binding(4) var<storage, read_write> st: array<f32>;
#if ${c.record}
@group(0) @binding(5) var<storage, read_write> rec: array<f32>;
#endif
struct Params { step0: u32, steps: u32, count: u32, vReady: u32, first: u32, s: f32, mu: f32, wd: f32, }
@group(0) @binding(${c.record ? 6 : 5}) var<uniform> params: Params;

#if ${lay.actsInWorkgroup}
var<workgroup> act: array<f32, ${actWords}>;
#endif
var<workgroup> red: array<f32, ${B}>;
var<workgroup> hit: array<u32, ${B}>;
var<workgroup> rowLab: array<u32, ${B}>;
var<workgroup> rowBeg: array<u32, ${B}>;
var<workgroup> rowEnd: array<u32, ${B}>;
var<workgroup> bad: atomic<u32>;

// NaN or ±Inf from the bits: an integer test no compiler folds away
fn nonFinite(x: f32) -> bool { return (bitcast<u32>(x) & 0x7f800000u) == 0x7f800000u; }

fn sync() {
  storageBarrier();
  workgroupBarrier();
}

@compute @workgroup_size(${Math.min(T, 64)}, ${Math.max(1, T / 64)})
fn main(@builtin(local_invocation_index) t: u32) {
  for (var s = params.step0; s < params.step0 + params.steps; s++) {
    let start = s * ${B}u;
    let n = min(${B}u, params.count - start);
    let ready = params.vReady != 0u || s > params.step0;
    for (var r = t; r < n; r += ${T}u) {
      let idx = epoch[start + r];
      rowLab[r] = u32(labels[idx]);
      rowBeg[r] = sp[idx];
      rowEnd[r] = sp[idx + 1u];
    }
    if (t == 0u) { atomicStore(&bad, 0u); }
    ${c.record ? Array.from({ length: P }, (_, q) => `var sq${q} = 0.0;`).join(' ') : ''}
    sync();
${fwd0}
${Array.from({ length: L - 1 }, (_, k) => fwd(k + 1)).join('\n')}
${lossPhase}
${Array.from({ length: L - 1 }, (_, k) => back(L - 1 - k)).join('\n')}
${back0}
${squares}
    // the mask as an f32 integer (exact: at most 24 bits, trainStepsApplies)
    if (t == 0u) { st[${lay.flags}u + s] = f32(atomicLoad(&bad)); }
    sync();
  }
}`;
}
