// findings through training in words: each sentence is generated from one table of the numbers of
// analysis/through-training.ts (the table travels with it), never typed in. What counts as "from epoch E
// on" is always the same rule: the first epoch from which the condition holds at every later epoch.
// Pure.
import type { Finding, ThroughTraining } from './through-training-types.ts';

export interface FindingOptions {
  /** a representation has settled once its linear CKA with the last epoch stays at or above this (default 0.95) */
  settleCka?: number;
  /** a probe has plateaued once its held-out accuracy stays within this many points of its last value (default 2) */
  probeBand?: number;
  /** the classes of a layer have separated once its silhouette stays above this share (< 1) of its final silhouette (default 0.9) */
  silhouetteShare?: number;
}

/** the numbers findings are read from: a ThroughTraining without (or ignoring) its findings */
export type ThroughTrainingNumbers = Omit<ThroughTraining, 'findings' | 'timings'>;

/** 'epoch 3', or 'the initial weights' for −1 */
export const epochName = (e: number): string => (e < 0 ? 'the initial weights' : `epoch ${e}`);

/** 'at epoch 3', or 'from the initial weights on' for −1 (nothing to settle "at") */
const atEpoch = (e: number): string => (e < 0 ? 'from the initial weights on' : `at epoch ${e}`);

/** the first index from which `ok` holds at every later index; null when it does not hold at the last */
export function holdsFrom(ok: readonly boolean[]): number | null {
  let i = ok.length;
  while (i > 0 && ok[i - 1]) i--;
  return i === ok.length ? null : i;
}

const round = (x: number, digits: number): number => Number(x.toFixed(digits));
const pct = (x: number): string => `${x.toFixed(1)} %`;

/**
 * the findings of an analysis through training, in this order: per hidden layer the most selective
 * neuron of each class and the epoch from which it stays so ('selective-from'), neurons that die or never
 * fire ('dies', 'never-fires') or fire rarely at the end ('rare'); which layer's classes separate first
 * ('layer-first'; 'clusters-form' for a single hidden layer); per layer when its representation settles
 * ('settles', or 'still-changing') and when its linear probe plateaus ('probe-plateau', or 'probe-climbing').
 * A class whose most selective neuron changes at the last epoch, or is dead, gets no sentence.
 */
export function findingsThroughTraining(t: ThroughTrainingNumbers, opts: FindingOptions = {}): Finding[] {
  const settle = opts.settleCka ?? 0.95, band = opts.probeBand ?? 2, share = opts.silhouetteShare ?? 0.9;
  const { epochs, perEpoch } = t;
  const E = epochs.length, last = E - 1, hidden = t.sizes.length - 2, n = t.sample.rows.length;
  const out: Finding[] = [];
  if (E === 0) return out;
  const lastName = epochName(epochs[last]);

  for (let k = 0; k < hidden; k++) {
    const at = (e: number) => perEpoch[e].layers[k];
    // the most selective neuron of each class
    for (let c = 0; c < t.classes; c++) {
      const top = perEpoch.map((_, e) => at(e).top3[c][0]);
      const neuron = top[last];
      if (at(last).activeFraction[neuron] === 0) continue;
      const from = holdsFrom(top.map((i) => i === neuron))!;
      if (from === last && E > 1) continue;
      out.push({
        kind: 'selective-from',
        text: `neuron ${neuron} of layers.${k}.post is the most class-${c}-selective neuron from ${epochName(epochs[from])} on` +
          ` (selectivity ${at(last).selectivity[c][neuron].toFixed(2)} after ${lastName})`,
        table: {
          columns: ['epoch', 'most selective neuron', 'its selectivity', `selectivity of neuron ${neuron}`],
          rows: perEpoch.map((p, e) => [p.epoch, top[e], round(at(e).selectivity[c][top[e]], 4), round(at(e).selectivity[c][neuron], 4)]),
        },
      });
    }
    // neurons that stop firing, or never do, and those that fire rarely at the end
    const width = at(0).activeFraction.length;
    for (let i = 0; i < width; i++) {
      const active = perEpoch.map((_, e) => at(e).activeFraction[i]);
      const table = { columns: ['epoch', 'active fraction'], rows: perEpoch.map((p, e) => [p.epoch, round(active[e], 4)]) };
      const from = holdsFrom(active.map((a) => a === 0));
      if (from === 0) {
        out.push({ kind: 'never-fires', table, text: `neuron ${i} of layers.${k}.post never fires: active on none of the ${n} sample images at any epoch, ${epochName(epochs[0])} included` });
      } else if (from !== null) {
        out.push({
          kind: 'dies', table,
          text: `neuron ${i} of layers.${k}.post dies in epoch ${epochs[from]}: it fires on none of the ${n} sample images from then on (on ${pct(100 * active[from - 1])} after ${epochName(epochs[from - 1])})`,
        });
      } else if (at(last).rare.includes(i)) {
        out.push({ kind: 'rare', table, text: `neuron ${i} of layers.${k}.post fires rarely: on ${pct(100 * active[last])} of the ${n} sample images after ${lastName}` });
      }
    }
  }

  const separation = separationFinding(t, share);
  if (separation) out.push(separation);

  for (let k = 0; k < hidden; k++) {
    // when the representation settles: CKA with the last epoch's
    const cka = t.ckaEpochs[k].map((row) => row[last]);
    if (!Number.isNaN(cka[last]) && E > 1) {
      const from = holdsFrom(cka.map((v) => v >= settle))!;
      const table = { columns: ['epoch', `CKA with ${lastName}`], rows: perEpoch.map((p, e) => [p.epoch, round(cka[e], 4)]) };
      out.push(from < last
        ? { kind: 'settles', table, text: `layers.${k}.post's representation settles ${atEpoch(epochs[from])} (linear CKA with ${lastName} ≥ ${settle} from then on)` }
        : { kind: 'still-changing', table, text: `layers.${k}.post's representation is still changing at the end: linear CKA between ${epochName(epochs[last - 1])} and ${lastName} is ${cka[last - 1].toFixed(3)} (< ${settle})` });
    }
    // when the linear probe plateaus
    const acc = perEpoch.map((p) => p.layers[k].probe.heldOutAccuracy);
    if (!Number.isNaN(acc[last]) && E > 1) {
      const from = holdsFrom(acc.map((a) => Math.abs(a - acc[last]) <= band))!;
      const table = {
        columns: ['epoch', 'probe held-out %', 'probe train %', 'model sample accuracy %'],
        rows: perEpoch.map((p) => [p.epoch, round(p.layers[k].probe.heldOutAccuracy, 2), round(p.layers[k].probe.trainAccuracy, 2), round(p.sampleAccuracy, 2)]),
      };
      out.push(from < last
        ? { kind: 'probe-plateau', table, text: `layers.${k}.post's linear probe plateaus ${atEpoch(epochs[from])}: held-out accuracy within ${band} points of its final ${pct(acc[last])} from then on` }
        : { kind: 'probe-climbing', table, text: `layers.${k}.post's linear probe is still moving at the end: held-out accuracy ${pct(acc[last - 1])} after ${epochName(epochs[last - 1])}, ${pct(acc[last])} after ${lastName}` });
    }
  }
  return out;
}

/**
 * when the classes separate in each hidden layer: the first epoch from which its silhouette stays above
 * `share` of its own final silhouette; which layer gets there first ('layer-first'), or for one hidden
 * layer when ('clusters-form'). Null when a final silhouette is ≤ 0 (no separation to speak of).
 */
function separationFinding(t: ThroughTrainingNumbers, share: number): Finding | null {
  const { epochs, perEpoch } = t;
  const last = epochs.length - 1, hidden = t.sizes.length - 2;
  const finals = Array.from({ length: hidden }, (_, k) => perEpoch[last].layers[k].silhouette);
  if (!(hidden > 0 && finals.every((s) => s > 0))) return null;
  const threshold = finals.map((s) => share * s);
  // the last epoch is above its own threshold (share < 1), so each layer has an epoch
  const from = finals.map((_, k) => holdsFrom(perEpoch.map((p) => p.layers[k].silhouette > threshold[k]))!);
  const table = {
    columns: ['epoch', ...finals.map((_, k) => `layers.${k}.post silhouette`)],
    rows: perEpoch.map((p) => [p.epoch, ...p.layers.map((l) => round(l.silhouette, 4))]),
  };
  const part = `${round(100 * share, 1)} %`;
  const when = (k: number) => epochName(epochs[from[k]]);
  const above = (k: number) => `above ${threshold[k].toFixed(3)} (${part} of its final ${finals[k].toFixed(3)})`;
  if (hidden === 1) {
    return { kind: 'clusters-form', table, text: `layers.0.post's classes separate from ${when(0)} on: its silhouette stays ${above(0)}` };
  }
  const order = finals.map((_, k) => k).sort((a, b) => from[a] - from[b] || a - b);
  const rest = order.filter((k) => from[k] !== from[order[0]]);
  const each = order.map((k, j) => `layers.${k}.post's${j === 0 ? ' silhouette stays' : ''} ${above(k)} from ${when(k)} on`).join(', ');
  const text = rest.length === 0
    ? `the classes separate in every layer at once: each silhouette stays above ${part} of its final value from ${when(order[0])} on (${each})`
    : `${order.length - rest.length === 1 ? `layers.${order[0]}.post's classes separate` : `the classes of ${order.filter((k) => !rest.includes(k)).map((k) => `layers.${k}.post`).join(' and ')} separate`} first: ${each}`;
  return { kind: 'layer-first', table, text };
}
