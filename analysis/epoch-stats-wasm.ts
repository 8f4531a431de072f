// analysis/epoch-stats.ts's two passes over a slot in WebAssembly SIMD (engine/wasm/stats-kernels.ts):
// the same arguments and results as its JavaScript loops (accumulateActs/accumulateGrads, spreadActs/
// spreadGrads), bit for bit. Each slot is copied into the instance's memory (grown to the largest slot
// and reused); the rows' classes once per epoch. The memory holds, from byte 0:
//   rowClass i32 [count] | offsets u32 [steps + 1] | sum f64, mn f32, mx f32 [classes, width] | pos i32 [width]
//   or stepSq f64 [steps] | mean f64, m2 f64 [classes, width] | shared and own histograms i32 [classes, bins, 4]
//   | shared edges f64 [bins + 1] | own lo, hi, scale f64 [classes] | own edges f64 [classes, bins + 1] | slot f32 [count, width]
import type { StatsKernelInstance } from '../engine/wasm/load.ts';

const align = (n: number): number => Math.ceil(n / 16) * 16;

/** a slot whose copy would take the memory past this is left to the JS loops (a CNN's widest maps) */
const MAX_BYTES = 512 * 2 ** 20;

interface Layout {
  w: number; count: number; classes: number; bins: number; steps: number;
  OFF: number; SUM: number; MN: number; MX: number; AUX: number; MEAN: number; M2: number; HS: number; HO: number;
  E: number; OLO: number; OHI: number; OSC: number; OE: number; D: number;
}

export class StatsWasm {
  private count = 0;
  private base = 0;
  private slot: Layout | null = null;

  constructor(private readonly inst: StatsKernelInstance) {}

  /** false when the memory cannot hold `bytes` */
  private grow(bytes: number): boolean {
    const have = this.inst.memory.buffer.byteLength;
    if (bytes <= have) return true;
    if (bytes > MAX_BYTES) return false;
    try {
      this.inst.memory.grow(Math.ceil((bytes - have) / 65536));
      return true;
    } catch {
      return false;
    }
  }

  /** the epoch's rows' classes [count], copied in once; false when they do not fit (then load() refuses every slot) */
  begin(rowClass: Int32Array): boolean {
    this.slot = null;
    this.count = rowClass.length;
    this.base = align(rowClass.length * 4);
    if (!this.grow(this.base)) { this.base = -1; return false; }
    new Int32Array(this.inst.memory.buffer, 0, rowClass.length).set(rowClass);
    return true;
  }

  /**
   * lays out one slot [count, width] and copies its values and the step offsets in; false when it does not
   * fit in the memory (the caller's JS loops take that slot)
   */
  load(d: Float32Array, w: number, classes: number, bins: number, offsets: Uint32Array): boolean {
    this.slot = null;
    if (this.base < 0) return false;
    const count = this.count, cw = classes * w, steps = offsets.length - 1;
    let at = this.base;
    const take = (bytes: number): number => { const p = at; at = align(at + bytes); return p; };
    const OFF = take(offsets.length * 4), SUM = take(cw * 8), MN = take(cw * 4), MX = take(cw * 4);
    const AUX = take(Math.max(w * 4, steps * 8)), MEAN = take(cw * 8), M2 = take(cw * 8);
    const HS = take(classes * bins * 16), HO = take(classes * bins * 16), E = take((bins + 1) * 8);
    const OLO = take(classes * 8), OHI = take(classes * 8), OSC = take(classes * 8), OE = take(classes * (bins + 1) * 8);
    const D = take(count * w * 4);
    if (!this.grow(at)) return false;
    const buf = this.inst.memory.buffer;
    new Uint32Array(buf, OFF, offsets.length).set(offsets);
    new Float32Array(buf, D, count * w).set(d.subarray(0, count * w));
    this.slot = { w, count, classes, bins, steps, OFF, SUM, MN, MX, AUX, MEAN, M2, HS, HO, E, OLO, OHI, OSC, OE, D };
    return true;
  }

  /** pass 1 of the loaded slot: as accumulateActs (aux = pos [width]) or accumulateGrads (aux = stepSq [steps]) */
  accumulate(kind: 'act' | 'grad', sum: Float64Array, mn: Float64Array, mx: Float64Array, aux: Int32Array | Float64Array): void {
    const s = this.slot!, buf = this.inst.memory.buffer, cw = s.classes * s.w;
    const vSum = new Float64Array(buf, s.SUM, cw), vMn = new Float32Array(buf, s.MN, cw), vMx = new Float32Array(buf, s.MX, cw);
    vSum.fill(0); vMn.fill(Infinity); vMx.fill(-Infinity);
    if (kind === 'act') {
      const vPos = new Int32Array(buf, s.AUX, s.w);
      vPos.fill(0);
      this.inst.k.acc_acts(s.D, s.w, 0, s.OFF, s.steps, s.SUM, s.MN, s.MX, s.AUX);
      aux.set(vPos);
    } else {
      this.inst.k.acc_grads(s.D, s.w, 0, s.OFF, s.steps, s.SUM, s.MN, s.MX, s.AUX);
      aux.set(new Float64Array(buf, s.AUX, s.steps));
    }
    // the extremes are float32 values or ±Infinity: exact in float64
    sum.set(vSum); mn.set(vMn); mx.set(vMx);
  }

  /**
   * pass 2 of the loaded slot: as spreadActs (with the own bins) or spreadGrads (own = null). The
   * histogram copies are summed into hShared and hOwn [classes, bins]
   */
  spread(
    mean: Float64Array, m2: Float64Array, hShared: Int32Array, hOwn: Int32Array | null,
    lo: number, hi: number, scale: number, edges: Float64Array,
    own: { lo: Float64Array; hi: Float64Array; scale: Float64Array; edges: Float64Array } | null,
  ): void {
    const s = this.slot!, buf = this.inst.memory.buffer, cw = s.classes * s.w, cb = s.classes * s.bins;
    new Float64Array(buf, s.MEAN, cw).set(mean);
    const vM2 = new Float64Array(buf, s.M2, cw);
    vM2.fill(0);
    const vHs = new Int32Array(buf, s.HS, cb * 4), vHo = new Int32Array(buf, s.HO, cb * 4);
    vHs.fill(0);
    new Float64Array(buf, s.E, s.bins + 1).set(edges);
    if (own) {
      vHo.fill(0);
      new Float64Array(buf, s.OLO, s.classes).set(own.lo);
      new Float64Array(buf, s.OHI, s.classes).set(own.hi);
      new Float64Array(buf, s.OSC, s.classes).set(own.scale);
      new Float64Array(buf, s.OE, s.classes * (s.bins + 1)).set(own.edges);
      this.inst.k.spread_acts(s.D, s.w, s.count, 0, s.bins, s.MEAN, s.M2, s.HS, s.HO, lo, hi, scale, s.E, s.OLO, s.OHI, s.OSC, s.OE);
    } else {
      this.inst.k.spread_grads(s.D, s.w, s.count, 0, s.bins, s.MEAN, s.M2, s.HS, lo, hi, scale, s.E);
    }
    m2.set(vM2);
    for (let i = 0; i < cb; i++) hShared[i] = vHs[4 * i] + vHs[4 * i + 1] + vHs[4 * i + 2] + vHs[4 * i + 3];
    if (own && hOwn) for (let i = 0; i < cb; i++) hOwn[i] = vHo[4 * i] + vHo[4 * i + 1] + vHo[4 * i + 2] + vHo[4 * i + 3];
  }
}
