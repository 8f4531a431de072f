// matplotlib's histogram (plt.hist(x, bins=30) → numpy.histogram) for float32 data: the same edges, the
// same bin for a value on an edge. Pure: typed arrays in, plain data out.
//
// the definition (numpy 2.x on float32 data; NEP 50 keeps every step in float32):
//   range   lo = min(x), hi = max(x); when lo == hi: lo = f32(lo − 0.5), hi = f32(hi + 0.5)
//   edges   step = f32(f32(hi − lo) / bins); e[i] = f32(f32(i · step) + lo) for i < bins; e[bins] = hi
//   bins    bin i holds e[i] <= x < e[i+1] (half-open); the last bin is closed: e[bins-1] <= x <= hi
// numpy finds the bin from a guess trunc((x − lo) / (hi − lo) · bins), moved one bin down if x < e[i] or
// one up if x >= e[i+1]. any guess within one bin gives the same answer, so the edges alone decide:
// here the guess is taken in float64, and a WGSL kernel may take it with its own f32 division. (they
// could differ only for a range a few ulps wide, where bins are narrower than float32 can resolve.)
// NOTE: numpy 1.x computed the edges in float64 then rounded them to float32 (1 ulp apart from these on
// about half the edges); only values within 1 ulp of an edge can land differently.

const f32 = Math.fround;

/** one histogram: edges [bins + 1] (float32 values) and counts [bins] */
export interface Histogram { edges: number[]; counts: number[] }

/** numpy's automatic range of float32 data with extremes min, max: [min, max], widened by ±0.5 when equal */
export function histogramRange(min: number, max: number): [number, number] {
  return min === max ? [f32(min - 0.5), f32(max + 0.5)] : [min, max];
}

/**
 * the bins of data whose extremes are min and max (both float32 values), as numpy.histogram sets them
 * up; `index(x)` gives the bin of x, or -1 for x outside [lo, hi] or NaN. A non-finite range gives a
 * binner whose index() is always -1 (numpy raises instead).
 */
export class Binner {
  readonly lo: number;
  readonly hi: number;
  /** [bins + 1] */
  readonly edges: Float32Array;
  /** bins / (hi − lo), for the first guess */
  readonly scale: number;
  private readonly last: number;

  constructor(min: number, max: number, readonly bins = 30) {
    if (!Number.isInteger(bins) || bins < 1) throw new Error(`histogram: bins must be a positive integer, got ${bins}`);
    [this.lo, this.hi] = Number.isFinite(min) && Number.isFinite(max) && min <= max ? histogramRange(min, max) : [NaN, NaN];
    this.scale = bins / (this.hi - this.lo);
    this.last = bins - 1;
    const step = f32(f32(this.hi - this.lo) / bins);
    this.edges = new Float32Array(bins + 1); // [bins + 1]
    for (let i = 0; i < bins; i++) this.edges[i] = f32(f32(i * step) + this.lo);
    this.edges[bins] = this.hi;
  }

  /** the bin of x (0 .. bins-1), or -1 when x is outside [lo, hi] or NaN */
  index(x: number): number {
    return binOf(x, this.lo, this.hi, this.scale, this.edges, 0, this.last);
  }

  /** an empty histogram over these edges */
  empty(): Histogram {
    return { edges: Array.from(this.edges), counts: new Array<number>(this.bins).fill(0) };
  }
}

/**
 * the bin of x over edges[base .. base + last + 1] spanning [lo, hi], with scale = (last + 1) / (hi − lo);
 * -1 when x is outside [lo, hi] or NaN. A free function so hot loops inline it.
 */
export function binOf(x: number, lo: number, hi: number, scale: number, edges: ArrayLike<number>, base: number, last: number): number {
  if (!(x >= lo && x <= hi)) return -1;
  // a guess within one bin, then the edges decide
  let i = ((x - lo) * scale) | 0;
  if (i > last) i = last;
  if (x < edges[base + i]) i--;
  else if (i !== last && x >= edges[base + i + 1]) i++;
  return i;
}

/** min and max of the non-NaN values (±Infinity when there are none) */
export function extent(values: ArrayLike<number>): [number, number] {
  let mn = Infinity, mx = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < mn) mn = v;
    if (v > mx) mx = v;
  }
  return [mn, mx];
}

/**
 * numpy.histogram(values, bins) for float32 values [n] (what plt.hist(values, bins) draws): `bins` equal
 * bins over the values' own [min, max] (see the definition at the top). NaN values are not counted. No
 * finite value (empty input): edges all NaN, counts all 0.
 */
export function histogram(values: ArrayLike<number>, bins = 30): Histogram {
  const [mn, mx] = extent(values);
  const b = new Binner(mn, mx, bins);
  const h = b.empty();
  for (let i = 0; i < values.length; i++) {
    const k = b.index(values[i]);
    if (k >= 0) h.counts[k]++;
  }
  return h;
}
