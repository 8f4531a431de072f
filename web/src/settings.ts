// the page's settings outside the form: in the URL (a run can be linked: ?preset=quick, ?epochs=2&lr=0.05)
// and in localStorage (kept from one visit to the next), with presets. Values are the fields' own strings
// (checkboxes '1' / '0'); the defaults are the form's as index.html writes it. Precedence at load:
// the form's defaults < what was stored < the URL's preset < the URL's own values.

/** one setting: its URL and storage key and the form field it lives in */
export interface Setting { key: string; id: string; check?: boolean }

export const SETTINGS: Setting[] = [
  { key: 'arch', id: 'cfg-arch' }, { key: 'hidden', id: 'cfg-hidden' }, { key: 'layers', id: 'cfg-spec' },
  { key: 'lr', id: 'cfg-lr' }, { key: 'momentum', id: 'cfg-momentum' }, { key: 'batch', id: 'cfg-batch' },
  { key: 'epochs', id: 'cfg-epochs' }, { key: 'steps', id: 'cfg-steps' }, { key: 'seed', id: 'cfg-seed' },
  { key: 'rng', id: 'cfg-rng' }, { key: 'device', id: 'cfg-device' }, { key: 'input-norm', id: 'cfg-input-norm' },
  { key: 'layernorm', id: 'cfg-layernorm' }, { key: 'batchnorm', id: 'cfg-batchnorm' }, { key: 'dropout', id: 'cfg-dropout' },
  { key: 'shuffle', id: 'cfg-shuffle', check: true }, { key: 'record', id: 'cfg-record', check: true },
];

export type Values = Record<string, string>;

/** a preset: the defaults with these values (the device is the machine's choice: presets leave it) */
export interface Preset { id: string; label: string; values: Values }

export const PRESETS: Preset[] = [
  { id: 'quick', label: 'quick: 1 epoch × 200 steps', values: { epochs: '1', steps: '200' } },
  { id: 'notebooks', label: 'the notebooks\' run: 20 epochs × 938 steps', values: {} },
  { id: 'cnn-quick', label: 'CNN, quick: 1 epoch × 200 steps', values: { arch: 'cnn', epochs: '1', steps: '200', lr: '0.03', momentum: '0.9' } },
];

export const STORAGE_KEY = 'mlp-lens.settings';
/** URL parameters that are not settings and are kept as they are (the developer switch) */
const OTHER_PARAMS = ['dev'];

const field = (id: string) => document.getElementById(id) as HTMLInputElement | HTMLSelectElement;

export function readValues(): Values {
  const v: Values = {};
  for (const s of SETTINGS) {
    const el = field(s.id);
    v[s.key] = s.check ? ((el as HTMLInputElement).checked ? '1' : '0') : el.value;
  }
  return v;
}

export function applyValues(v: Values): void {
  for (const s of SETTINGS) {
    if (!(s.key in v)) continue;
    const el = field(s.id);
    if (s.check) (el as HTMLInputElement).checked = v[s.key] === '1' || v[s.key] === 'true';
    else if (el instanceof HTMLSelectElement) {
      // a select takes only one of its options
      if (Array.from(el.options).some((o) => o.value === v[s.key])) el.value = v[s.key];
    } else el.value = v[s.key];
  }
}

/** a preset's full values: the defaults with its own, the device left as it is */
export function presetValues(p: Preset, defaults: Values): Values {
  const { device: _device, ...rest } = defaults;
  return { ...rest, ...p.values };
}

/** the preset the values are (the device aside), or null */
export function matchPreset(v: Values, defaults: Values): Preset | null {
  return PRESETS.find((p) => {
    const want = presetValues(p, defaults);
    return Object.keys(want).every((k) => (v[k] ?? '') === want[k]);
  }) ?? null;
}

const known = new Set(SETTINGS.map((s) => s.key));

/** the URL's preset and values (unknown parameters ignored) */
export function fromQuery(search: string): { preset: Preset | null; values: Values } {
  const q = new URLSearchParams(search), values: Values = {};
  for (const [k, v] of q) if (known.has(k)) values[k] = v;
  return { preset: PRESETS.find((p) => p.id === q.get('preset')) ?? null, values };
}

/** the query that gives `v`: the preset it matches (and a non-default device), or the values that differ from the defaults */
export function toQuery(v: Values, defaults: Values, current: string): string {
  const q = new URLSearchParams(), old = new URLSearchParams(current);
  const p = matchPreset(v, defaults);
  if (p && p.id !== 'notebooks') q.set('preset', p.id);
  else if (!p) for (const s of SETTINGS) if (v[s.key] !== defaults[s.key] && s.key !== 'device') q.set(s.key, v[s.key]);
  if (v.device !== defaults.device) q.set('device', v.device);
  for (const k of OTHER_PARAMS) if (old.has(k)) q.set(k, old.get(k)!);
  const s = q.toString();
  return s ? `?${s}` : '';
}

export function stored(): Values {
  try {
    const v = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? '{}') as unknown;
    if (typeof v !== 'object' || v === null) return {};
    return Object.fromEntries(Object.entries(v).filter(([k, x]) => known.has(k) && typeof x === 'string')) as Values;
  } catch { return {}; }
}

/**
 * writes the values to localStorage and the address bar (no new history entry). The device is kept only
 * when it differs from the machine's default (web/src/adapter.ts: the CPU on a software adapter), as the
 * URL keeps it: a kept device is one the user asked for, which the recommendation at load leaves alone
 */
export function persist(v: Values, defaults: Values): void {
  const { device, ...rest } = v;
  const kept = device !== undefined && device !== defaults.device ? { ...rest, device } : rest;
  try { localStorage.setItem(STORAGE_KEY, JSON.stringify(kept)); } catch { /* storage off: the URL still says it */ }
  const query = toQuery(v, defaults, location.search);
  if (query !== location.search) history.replaceState(null, '', `${location.pathname}${query}${location.hash}`);
}
