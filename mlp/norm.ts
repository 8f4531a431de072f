// normalisation options of the MLP (docs/notebooks.md items 38–41, and BatchNorm beyond the notebooks): what the
// user asks for (NormConfig), resolved once into a per-layer plan (NormPlan) that the model follows, is
// saved in model.safetensors' metadata, and is printed. Pure: no engine, no files.
import { pixel } from './batch.ts';

/** input standardisation: none, the usual MNIST constants, or the training set's own pixel mean/std */
export type InputNorm = 'none' | 'standardize' | 'computed';
/** where a hidden layer's normalisation sits: on the linear output (before the ReLU) or on the ReLU output */
export type NormSite = 'before-relu' | 'after-relu';
export type NormKind = 'layernorm' | 'batchnorm';

/** transforms.Normalize((0.1307,), (0.3081,)): the MNIST constants the README's notebook 3 uses */
export const MNIST_STATS = { mean: 0.1307, std: 0.3081 } as const;

/** nn.LayerNorm / nn.BatchNorm1d defaults */
export const NORM_EPS = 1e-5;
export const BN_MOMENTUM = 0.1;

/** what to normalise, as the command line and `Mlp.init` take it */
export interface NormConfig {
  /** default 'none' */
  input?: InputNorm;
  /** mean and std for 'computed' (pixelStats of the training set); required there, ignored otherwise */
  inputStats?: { mean: number; std: number };
  /**
   * LayerNorm on every hidden layer, after or before its ReLU; 'final' is the notebooks' final arrangement
   * (ReLU → LayerNorm on the first hidden layer, LayerNorm → ReLU on the others); a list of hidden-layer
   * indices puts it after the ReLU of those layers only
   */
  layernorm?: NormSite | 'final' | readonly number[];
  /** BatchNorm1d on every hidden layer, or (a list) before the ReLU of those layers only */
  batchnorm?: NormSite | readonly number[];
  /** dropout probability after the hidden layers of `dropoutLayers` (0: none) */
  dropout?: number;
  /** hidden layers followed by dropout (default [0]: after the first hidden layer, as the README) */
  dropoutLayers?: readonly number[];
  /** seed of the dropout masks (its low 32 bits; the CLI passes the run's --seed) */
  seed?: number;
}

/** one hidden layer: linear → [norm before] → ReLU → [norm after] → [dropout] */
export interface LayerPlan { norm: NormKind | null; site: NormSite; dropout: number }

/** the resolved normalisation of a model with `layers.length` hidden layers */
export interface NormPlan {
  input: { kind: 'standardize' | 'computed'; mean: number; std: number } | null;
  layers: LayerPlan[];
  eps: number;
  momentum: number;
  dropoutSeed: number;
}

/** the reference model: nothing normalised, no dropout */
export const plainPlan = (hidden: number): NormPlan => resolveNorm({}, hidden);

export const isPlain = (p: NormPlan): boolean => !p.input && p.layers.every((l) => !l.norm && !l.dropout);

export const isNormPlan = (v: NormConfig | NormPlan): v is NormPlan =>
  Array.isArray((v as NormPlan).layers) && typeof (v as NormPlan).eps === 'number';

function layerList(what: string, list: readonly number[], hidden: number): Set<number> {
  for (const k of list) {
    if (!Number.isInteger(k) || k < 0 || k >= hidden) throw new RangeError(`${what}: layer ${k} is not a hidden layer (0..${hidden - 1})`);
  }
  return new Set(list);
}

/** the per-layer plan of a config for a model with `hidden` hidden layers; throws RangeError on a bad config */
export function resolveNorm(cfg: NormConfig, hidden: number): NormPlan {
  const layers: LayerPlan[] = Array.from({ length: hidden }, () => ({ norm: null, site: 'after-relu', dropout: 0 }));
  const place = (kind: NormKind, spec: NormSite | 'final' | readonly number[], defaultSite: NormSite) => {
    for (let k = 0; k < hidden; k++) {
      let site: NormSite | null;
      if (Array.isArray(spec)) site = layerList(kind, spec, hidden).has(k) ? defaultSite : null;
      else if (spec === 'final') site = k === 0 ? 'after-relu' : 'before-relu';
      else if (spec === 'before-relu' || spec === 'after-relu') site = spec;
      else throw new RangeError(`${kind}: expected before-relu, after-relu${kind === 'layernorm' ? ', final' : ''} or a list of layers, got '${String(spec)}'`);
      if (!site) continue;
      if (layers[k].norm) throw new RangeError(`hidden layer ${k} cannot have both layernorm and batchnorm`);
      layers[k] = { ...layers[k], norm: kind, site };
    }
  };
  if (cfg.layernorm !== undefined) place('layernorm', cfg.layernorm, 'after-relu');
  if (cfg.batchnorm !== undefined) {
    if (cfg.batchnorm === ('final' as unknown)) throw new RangeError("batchnorm: 'final' is a layernorm arrangement");
    place('batchnorm', cfg.batchnorm, 'before-relu');
  }
  const p = cfg.dropout ?? 0;
  if (!(p >= 0 && p < 1)) throw new RangeError(`dropout: p must be in [0, 1), got ${p}`);
  if (p > 0) for (const k of layerList('dropout', cfg.dropoutLayers ?? [0], hidden)) layers[k].dropout = p;

  let input: NormPlan['input'] = null;
  const kind = cfg.input ?? 'none';
  if (kind === 'standardize') input = { kind, ...MNIST_STATS };
  else if (kind === 'computed') {
    const s = cfg.inputStats;
    if (!s) throw new RangeError("input normalisation 'computed' needs the training set's pixel mean and std (pixelStats)");
    input = { kind, mean: s.mean, std: s.std };
  } else if (kind !== 'none') throw new RangeError(`input normalisation must be none, standardize or computed, got '${String(kind)}'`);
  if (input && !(Number.isFinite(input.mean) && input.std > 0 && Number.isFinite(input.std))) {
    throw new RangeError(`input normalisation needs a finite mean and a std > 0, got ${input.mean}, ${input.std}`);
  }
  const seed = cfg.seed ?? 0;
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`dropout seed must be a non-negative integer, got ${seed}`);
  return { input, layers, eps: NORM_EPS, momentum: BN_MOMENTUM, dropoutSeed: seed };
}

/**
 * the mean and std (population; the sample std differs in the 8th digit here) of every pixel of a
 * split, as floats b/255 — torchvision's 0.1307 / 0.3081 for the MNIST training set. Float64 sums.
 */
export function pixelStats(images: Uint8Array): { mean: number; std: number } {
  const counts = new Float64Array(256);
  for (let i = 0; i < images.length; i++) counts[images[i]]++;
  let s = 0, n = 0;
  for (let b = 0; b < 256; b++) { s += counts[b] * pixel(b); n += counts[b]; }
  const mean = s / n;
  let m2 = 0;
  for (let b = 0; b < 256; b++) m2 += counts[b] * (pixel(b) - mean) ** 2;
  return { mean, std: Math.sqrt(m2 / n) };
}

/** one line per model: e.g. `input standardize (0.1307, 0.3081); layer 0: relu → layernorm → dropout 0.2; layer 1: layernorm → relu` */
export function describeNorm(plan: NormPlan): string {
  if (isPlain(plan)) return 'none';
  const parts: string[] = [];
  if (plan.input) parts.push(`input ${plan.input.kind} (mean ${+plan.input.mean.toFixed(6)}, std ${+plan.input.std.toFixed(6)})`);
  plan.layers.forEach((l, k) => {
    if (!l.norm && !l.dropout) return;
    const chain = ['linear'];
    if (l.norm && l.site === 'before-relu') chain.push(l.norm);
    chain.push('relu');
    if (l.norm && l.site === 'after-relu') chain.push(l.norm);
    if (l.dropout) chain.push(`dropout ${l.dropout}`);
    parts.push(`layer ${k}: ${chain.join(' → ')}`);
  });
  return parts.join('; ');
}

/** the metadata key of model.safetensors that holds the plan (JSON), so a saved model loads back as it ran */
export const NORM_METADATA_KEY = 'mlp-lens-norm';

export const planToJson = (plan: NormPlan): string => JSON.stringify(plan);

/** a plan from saved metadata, checked against the model's hidden layer count; throws RangeError when it does not fit */
export function planFromJson(text: string, hidden: number): NormPlan {
  let v: NormPlan;
  try { v = JSON.parse(text) as NormPlan; } catch { throw new RangeError(`${NORM_METADATA_KEY} is not JSON`); }
  const ok = v && typeof v === 'object' && Array.isArray(v.layers) && v.layers.length === hidden &&
    v.layers.every((l) => l && (l.norm === null || l.norm === 'layernorm' || l.norm === 'batchnorm') &&
      (l.site === 'before-relu' || l.site === 'after-relu') && typeof l.dropout === 'number' && l.dropout >= 0 && l.dropout < 1) &&
    typeof v.eps === 'number' && v.eps > 0 && typeof v.momentum === 'number' && Number.isSafeInteger(v.dropoutSeed) &&
    (v.input === null || (typeof v.input === 'object' && (v.input.kind === 'standardize' || v.input.kind === 'computed') &&
      Number.isFinite(v.input.mean) && v.input.std > 0));
  if (!ok) throw new RangeError(`${NORM_METADATA_KEY} does not describe a normalisation plan for ${hidden} hidden layers: ${text.slice(0, 200)}`);
  return { input: v.input && { ...v.input }, layers: v.layers.map((l) => ({ ...l })), eps: v.eps, momentum: v.momentum, dropoutSeed: v.dropoutSeed };
}

/** the layer kinds found in a state dict (no placement saved): a plan with LayerNorm after and BatchNorm before the ReLU */
export function planFromKinds(kinds: readonly (NormKind | null)[]): NormPlan {
  const plan = plainPlan(kinds.length);
  kinds.forEach((kind, k) => { if (kind) plan.layers[k] = { norm: kind, site: kind === 'layernorm' ? 'after-relu' : 'before-relu', dropout: 0 }; });
  return plan;
}

// --- the comparison variants of `--compare` (cli/compare.ts)

/**
 * a variant name → its config. Tokens joined by `+`: `raw` (nothing), `standardize`, `computed`,
 * `layernorm` (after each ReLU), `layernorm-before`, `layernorm=K:K` (after the ReLU of those layers),
 * `batchnorm` (before each ReLU), `batchnorm-after`, `batchnorm=K:K`, `dropout` (p 0.2 after the first
 * hidden layer) or `dropout=P`, and `final` = `standardize+layernorm-final+dropout` (README item 41:
 * ReLU → LayerNorm → Dropout on the first hidden layer, LayerNorm → ReLU on the second), where
 * `layernorm-final` is that LayerNorm arrangement alone. Throws RangeError naming a bad token.
 */
export function variantConfig(name: string): NormConfig {
  const cfg: NormConfig = {};
  const layersOf = (tok: string, v: string): number[] => {
    if (!/^\d+(:\d+)*$/.test(v)) throw new RangeError(`variant token '${tok}': expected layer indices like 0 or 0:1`);
    return v.split(':').map(Number);
  };
  const set = <K extends keyof NormConfig>(tok: string, key: K, value: NormConfig[K]) => {
    if (cfg[key] !== undefined && cfg[key] !== value) throw new RangeError(`variant '${name}': '${tok}' conflicts with an earlier token`);
    cfg[key] = value;
  };
  if (!name) throw new RangeError('empty variant name');
  for (const tok of name.split('+')) {
    const [head, arg] = tok.split('=', 2);
    switch (head) {
      case 'raw': case 'none': break;
      case 'standardize': case 'computed': set(tok, 'input', head); break;
      case 'layernorm': set(tok, 'layernorm', arg === undefined ? 'after-relu' : layersOf(tok, arg)); break;
      case 'layernorm-before': set(tok, 'layernorm', 'before-relu'); break;
      case 'layernorm-final': set(tok, 'layernorm', 'final'); break;
      case 'batchnorm': set(tok, 'batchnorm', arg === undefined ? 'before-relu' : layersOf(tok, arg)); break;
      case 'batchnorm-after': set(tok, 'batchnorm', 'after-relu'); break;
      case 'dropout': {
        const p = arg === undefined ? 0.2 : Number(arg);
        if (arg !== undefined && (arg.trim() === '' || !(p >= 0 && p < 1))) throw new RangeError(`variant token '${tok}': p must be in [0, 1)`);
        set(tok, 'dropout', p);
        break;
      }
      case 'final': set(tok, 'input', 'standardize'); set(tok, 'layernorm', 'final'); set(tok, 'dropout', 0.2); break;
      default:
        throw new RangeError(`unknown variant token '${tok}' (raw, standardize, computed, layernorm[=K:K], layernorm-before, ` +
          'layernorm-final, batchnorm[=K:K], batchnorm-after, dropout[=P], final; join with +)');
    }
    if (arg !== undefined && !['layernorm', 'batchnorm', 'dropout'].includes(head)) throw new RangeError(`variant token '${tok}' takes no value`);
  }
  return cfg;
}

/**
 * the normalisation of a saved model (run/model-files.ts loadModelFileWithNorm): its plan from the metadata
 * when mlp-lens wrote it, else (a PyTorch state dict) LayerNorm after and BatchNorm before the ReLU of
 * the layers that have one, and no input standardisation. Pass the result to Mlp.fromParams.
 */
export function savedNormSpec<N extends { kind: NormKind; layer: number }>(
  norms: readonly N[], metadata: Record<string, string>, hidden: number,
): { plan: NormPlan; norms: readonly N[] } {
  const text = metadata[NORM_METADATA_KEY];
  const kinds: (NormKind | null)[] = Array.from({ length: hidden }, (_, k) => norms.find((n) => n.layer === k)?.kind ?? null);
  return { plan: text === undefined ? planFromKinds(kinds) : planFromJson(text, hidden), norms };
}
