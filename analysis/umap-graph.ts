// umap-js's graph set-up (the fuzzy simplicial set and the optimisation's edge list) on typed arrays,
// installed on one UMAP instance in place of umap-js's own steps, which build their sparse matrices as
// Maps keyed by strings ("row:col") and were most of UMAP's time outside the layout epochs. The result is
// the same, bit for bit (test/analysis/umap-graph.test.ts holds it to umap-js itself):
//   - umap-js's graph is, for every (row, col) in S ∪ Sᵀ (S the membership strengths of each point's kNN,
//     an absent entry 0), with s = S[row, col] and t = S[col, row]:
//     ((s + t) − s·t)·mix + (s·t)·(1 − mix), mix the set-operation mix ratio: the same operations in
//     the same order as its add / pairwiseMultiply / subtract / multiplyScalar (IEEE + and · commute);
//   - the edge list is what initializeSimplicialSetEmbedding takes from it: entries sorted by row, then
//     column (getAll's sort: so the Maps' insertion order never mattered), after values below
//     max / nEpochs are set to 0, keeping the truthy ones (NaN and 0 dropped), tail = row, head = column;
//   - the random initial layout draws the same numbers in the same order (row by row, component by
//     component: random()·20 − 10), and smoothKNNDistance, computeMembershipStrengths and
//     makeEpochsPerSample are umap-js's own, called as before.
// The search graph for transform() (makeSearchGraph: neighbour distances, symmetrised by maximum) is not
// built: an instance set up here cannot transform() new points. A kNN graph this code does not handle
// (a −1 neighbour, a repeated neighbour in one row, rows of unequal length) falls back to umap-js's steps.
import type { UMAP } from 'umap-js';

/** the graph in CSR: row r's columns cols[rowPtr[r] .. rowPtr[r + 1]) ascending, with their values */
interface CsrGraph {
  readonly fast: true;
  /** what umap-js reads off its graph: getNEpochs the rows, initializeOptimization the columns */
  readonly nRows: number;
  readonly nCols: number;
  readonly rowPtr: Int32Array;
  readonly cols: Int32Array;
  readonly vals: Float64Array;
}

/** the private parts of umap-js 1.4's UMAP used here (umap.d.ts declares them private) */
interface UmapInternals {
  knnIndices?: number[][];
  knnDistances?: number[][];
  localConnectivity: number;
  nComponents: number;
  random: () => number;
  graph: unknown;
  embedding: number[][];
  smoothKNNDistance(distances: number[][], k: number, localConnectivity: number): { sigmas: number[]; rhos: number[] };
  computeMembershipStrengths(indices: number[][], distances: number[][], sigmas: number[], rhos: number[]): { rows: number[]; cols: number[]; vals: number[] };
  makeEpochsPerSample(weights: number[], nEpochs: number): number[];
  getNEpochs(): number;
  fuzzySimplicialSet(X: unknown[], nNeighbors: number, setOpMixRatio?: number): unknown;
  makeSearchGraph(X: unknown[]): unknown;
  initializeSimplicialSetEmbedding(): { head: number[]; tail: number[]; epochsPerSample: number[] };
  prepareForOptimizationLoop(): void;
  repulsionStrength: number;
  learningRate: number;
  negativeSampleRate: number;
  optimizationState: { epochsPerSample: number[]; headEmbedding: number[][]; tailEmbedding: number[][] };
  assignOptimizationStateParameters(state: object): void;
}

const isFast = (g: unknown): g is CsrGraph => typeof g === 'object' && g !== null && (g as CsrGraph).fast === true;

/** whether every kNN row has the same length and distinct neighbours in 0..n−1 (what csrGraph assumes) */
function plainKnn(indices: number[][], n: number): boolean {
  if (indices.length !== n || n === 0) return false;
  const k = indices[0].length, seen = new Int32Array(n).fill(-1);
  for (let i = 0; i < n; i++) {
    const row = indices[i];
    if (row.length !== k) return false;
    for (let j = 0; j < k; j++) {
      const c = row[j];
      if (!(Number.isInteger(c) && c >= 0 && c < n) || seen[c] === i) return false;
      seen[c] = i;
    }
  }
  return true;
}

/**
 * the fuzzy simplicial set of the membership strengths `cols`/`vals` (point i's k neighbours at
 * i·k .. i·k + k − 1, distinct within a point) as CSR, each row's columns ascending: S ∪ Sᵀ with the
 * values of umap-js's fuzzySimplicialSet (header)
 */
export function csrGraph(n: number, k: number, cols: ArrayLike<number>, vals: ArrayLike<number>, setOpMixRatio: number): CsrGraph {
  const m = n * k;
  // Sᵀ by column: the points i whose neighbour list holds c, with S[i, c] (counting sort, i ascending)
  const tPtr = new Int32Array(n + 1);
  for (let e = 0; e < m; e++) tPtr[cols[e] + 1]++;
  for (let c = 0; c < n; c++) tPtr[c + 1] += tPtr[c];
  const tSrc = new Int32Array(m), tVal = new Float64Array(m), fill = tPtr.slice(0, n);
  for (let i = 0, e = 0; i < n; i++) {
    for (let j = 0; j < k; j++, e++) { const p = fill[cols[e]]++; tSrc[p] = i; tVal[p] = vals[e]; }
  }
  // each row: its own k entries and its Sᵀ entries, merged by column (a stamp per column), then sorted
  const stamp = new Int32Array(n).fill(-1), sv = new Float64Array(n), tv = new Float64Array(n);
  const rowPtr = new Int32Array(n + 1), outCols = new Int32Array(2 * m), outVals = new Float64Array(2 * m);
  const notMix = 1.0 - setOpMixRatio;
  let o = 0;
  for (let r = 0; r < n; r++) {
    const start = o;
    for (let e = r * k, end = e + k; e < end; e++) {
      const c = cols[e];
      stamp[c] = r; sv[c] = vals[e]; tv[c] = 0; outCols[o++] = c;
    }
    for (let p = tPtr[r], end = tPtr[r + 1]; p < end; p++) {
      const c = tSrc[p];
      if (stamp[c] !== r) { stamp[c] = r; sv[c] = 0; outCols[o++] = c; }
      tv[c] = tVal[p];
    }
    const row = outCols.subarray(start, o).sort();
    for (let q = 0; q < row.length; q++) {
      const c = row[q], s = sv[c], t = tv[c];
      const prod = s * t;
      outVals[start + q] = (s + t - prod) * setOpMixRatio + prod * notMix;
    }
    rowPtr[r + 1] = o;
  }
  return { fast: true, nRows: n, nCols: n, rowPtr, cols: outCols.slice(0, o), vals: outVals.slice(0, o) };
}

/**
 * the optimisation's edges from a CSR graph, as umap-js's initializeSimplicialSetEmbedding takes them:
 * in (row, column) order, values below max / nEpochs dropped, and zeros and NaN → tail (row), head
 * (column), weight
 */
export function graphEdges(g: CsrGraph, nEpochs: number): { head: number[]; tail: number[]; weights: number[] } {
  const { rowPtr, cols, vals } = g;
  let graphMax = 0;
  for (let e = 0; e < vals.length; e++) if (graphMax < vals[e]) graphMax = vals[e];
  const head: number[] = [], tail: number[] = [], weights: number[] = [];
  for (let r = 0; r < g.nRows; r++) {
    for (let e = rowPtr[r], end = rowPtr[r + 1]; e < end; e++) {
      const value = vals[e] < graphMax / nEpochs ? 0 : vals[e];
      if (value) { weights.push(value); tail.push(r); head.push(cols[e]); }
    }
  }
  return { head, tail, weights };
}

/**
 * replaces, on this instance only, umap-js's fuzzySimplicialSet, makeSearchGraph,
 * initializeSimplicialSetEmbedding and prepareForOptimizationLoop with the typed-array versions above (same results; see the header).
 * Call before fit(); the instance can then not transform() new points.
 */
export function useTypedArrayGraph(umap: UMAP): void {
  const u = umap as unknown as UmapInternals;
  const proto = Object.getPrototypeOf(umap) as UmapInternals;
  u.fuzzySimplicialSet = function (this: UmapInternals, X: unknown[], nNeighbors: number, setOpMixRatio = 1.0): unknown {
    const knnIndices = this.knnIndices ?? [], knnDistances = this.knnDistances ?? [];
    const n = X.length;
    if (!plainKnn(knnIndices, n)) return proto.fuzzySimplicialSet.call(this, X, nNeighbors, setOpMixRatio);
    const { sigmas, rhos } = this.smoothKNNDistance(knnDistances, nNeighbors, this.localConnectivity);
    const { cols, vals } = this.computeMembershipStrengths(knnIndices, knnDistances, sigmas, rhos);
    return csrGraph(n, knnIndices[0].length, cols, vals, setOpMixRatio);
  };
  u.makeSearchGraph = function (this: UmapInternals, X: unknown[]): unknown {
    return isFast(this.graph) ? null : proto.makeSearchGraph.call(this, X);
  };
  u.initializeSimplicialSetEmbedding = function (this: UmapInternals) {
    const g = this.graph;
    if (!isFast(g)) return proto.initializeSimplicialSetEmbedding.call(this);
    const nEpochs = this.getNEpochs(), nComponents = this.nComponents, random = this.random;
    const { head, tail, weights } = graphEdges(g, nEpochs);
    // umap-js: utils.zeros(nRows).map(() => utils.zeros(nComponents).map(() => tauRand(random) * 20 + -10))
    const embedding: number[][] = [];
    for (let i = 0; i < g.nRows; i++) {
      const p: number[] = [];
      for (let d = 0; d < nComponents; d++) p.push(random() * 20 + -10);
      embedding.push(p);
    }
    this.embedding = embedding;
    return { head, tail, epochsPerSample: this.makeEpochsPerSample(weights, nEpochs) };
  };
  // umap-js's, with copies by slice() where it spreads an iterator into a new array (__spread)
  u.prepareForOptimizationLoop = function (this: UmapInternals): void {
    const { repulsionStrength, learningRate, negativeSampleRate } = this;
    const { epochsPerSample, headEmbedding, tailEmbedding } = this.optimizationState;
    const epochsPerNegativeSample = epochsPerSample.map((e) => e / negativeSampleRate);
    this.assignOptimizationStateParameters({
      epochOfNextSample: epochsPerSample.slice(),
      epochOfNextNegativeSample: epochsPerNegativeSample.slice(),
      epochsPerNegativeSample,
      moveOther: headEmbedding.length === tailEmbedding.length,
      initialAlpha: learningRate,
      alpha: learningRate,
      gamma: repulsionStrength,
      dim: headEmbedding[0].length,
    });
  };
}
