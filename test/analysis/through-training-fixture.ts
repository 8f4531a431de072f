// a small, valid ThroughTraining (784-8-6-10, epochs init, 0, 1, 2; 60 sample images) whose marks are
// known by construction, and the matching snapshots/ of a run directory: for the report's section
// through training before (and apart from) the real producer, analysis/through-training.ts.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRng } from '../../engine/rng.ts';
import { THROUGH_TRAINING_FORMAT, type EpochAnalysis, type ThroughTraining } from '../../analysis/through-training-types.ts';
import { Mlp } from '../../mlp/model.ts';
import type { LayerParams } from '../../mlp/weights.ts';
import { saveSnapshot } from '../../run/snapshots.ts';

export const TT_SIZES = [784, 8, 6, 10];
export const TT_EPOCHS = [-1, 0, 1, 2];

/**
 * by construction (10 classes; `classes` others, top classes mod classes): in layer 0, neuron j's top class is j (j < 8); neuron j becomes selective (S ≥ 0.5)
 * at the (j % 3)-th epoch analysed (init, 0, 1); neuron 5 dies at epoch 1, neuron 7 never fires. In
 * layer 1 neuron j's top class is (j + 2) % 10 from epoch 0 on, with S 0.6, except neuron 4 (S stays 0.2)
 */
export function makeThroughTraining(classes = 10): ThroughTraining {
  const rng = createRng('mlp-lens', 7), u = () => (rng.nextU32() >>> 8) / 2 ** 24;
  const perClass = 6, count = classes * perClass, sizes = [...TT_SIZES.slice(0, -1), classes];
  const labels = Array.from({ length: count }, (_, i) => i % classes);
  const rows = Array.from({ length: count }, (_, i) => 3 * i + 1);
  const heldOut = Array.from({ length: count }, (_, i) => i).filter((i) => i % 5 === 0);
  const E = TT_EPOCHS.length;
  const perEpoch: EpochAnalysis[] = TT_EPOCHS.map((epoch, t) => ({
    epoch,
    layers: [0, 1].map((k) => {
      const width = sizes[k + 1];
      const S = Array.from({ length: classes }, () => Array.from({ length: width }, () => -0.2 + 0.3 * u()));
      const topClass = Array.from({ length: width }, (_, j) => (k === 0 ? j : j + 2) % classes);
      const dead: number[] = [];
      for (let j = 0; j < width; j++) {
        if (k === 0) {
          const selective = t >= (j % 3);
          S[topClass[j]][j] = selective ? 0.55 + 0.1 * t : 0.3;
          if (j === 5 && t >= 2) dead.push(j);
          if (j === 7) dead.push(j);
        } else {
          S[topClass[j]][j] = j === 4 ? 0.2 : t === 0 ? 0.35 : 0.6;
        }
        // a dead neuron has every class mean 0: S = 0 for every class, and no top class (−1, as analysis/through-training.ts)
        if (dead.includes(j)) {
          for (let c = 0; c < classes; c++) S[c][j] = 0;
          topClass[j] = -1;
        }
      }
      const top3 = S.map((r) => r.map((v, j) => [v, j]).sort((a, b) => b[0] - a[0]).slice(0, 3).map(([, j]) => j));
      const spread = 0.3 + 0.7 * (t / (E - 1));
      const aligned = labels.map((c) => {
        const a = (2 * Math.PI * c) / classes;
        return [spread * 3 * Math.cos(a) + (u() - 0.5), spread * 3 * Math.sin(a) + (u() - 0.5)];
      });
      return {
        selectivity: S, top3, topClass, dead, rare: k === 0 && t === 1 ? [5] : [],
        activeFraction: Array.from({ length: width }, (_, j) => (dead.includes(j) ? 0 : k === 0 && j === 5 && t === 1 ? 0.005 : 0.2 + 0.5 * u())),
        silhouette: -0.05 + 0.1 * t + 0.02 * k,
        probe: { heldOutAccuracy: 20 + 22 * t + 3 * k, trainAccuracy: 25 + 23 * t + 3 * k },
        aligned, explained: [0.3 + 0.05 * t, 0.15],
      };
    }),
    ckaLayers: [[1, 0.4 + 0.15 * t], [0.4 + 0.15 * t, 1]],
    sampleAccuracy: 10 + 25 * t,
  }));
  const ckaEpochs = [0, 1].map((k) => TT_EPOCHS.map((_, a) => TT_EPOCHS.map((__, b) => (a === b ? 1 : 1 - (0.12 + 0.03 * k) * Math.abs(a - b)))));
  return {
    format: THROUGH_TRAINING_FORMAT, version: 1, sizes, classes,
    sample: { rows, labels, seed: 1, perClass: new Array(classes).fill(perClass), heldOut },
    epochs: TT_EPOCHS, perEpoch, ckaEpochs,
    findings: [
      {
        text: 'neuron 0 of layers.1.post is selective for class 0 from the initial weights on', kind: 'selective-from',
        table: { columns: ['epoch', 'top class', 'S'], rows: TT_EPOCHS.map((e, t) => [e < 0 ? 'init' : e, 0, 0.55 + 0.1 * t]) },
      },
      { text: 'neuron 5 of layers.1.post dies at epoch 1', kind: 'dies', table: { columns: ['epoch', 'active fraction'], rows: [[0, 0.4], [1, 0.005], [2, 0]] } },
      { text: 'layer 2 settles before layer 1', kind: 'layer-first', table: { columns: [], rows: [] } },
    ],
    timings: { total: 1.5 },
  };
}

/** the weights of a 784-8-6-10 model whose first layer drifts from its initial weights epoch by epoch */
export function fixtureLayers(t: number): LayerParams[] {
  const rng = createRng('mlp-lens', 3);
  return TT_SIZES.slice(1).map((dOut, i) => {
    const dIn = TT_SIZES[i], W = rng.uniform(-0.05, 0.05, dIn * dOut);
    if (i === 0) {
      // unit j grows a blob at a place of its own: a pattern the images must show
      for (let p = 0; p < dIn; p++) {
        const y = Math.floor(p / 28), x = p % 28;
        for (let j = 0; j < dOut; j++) {
          const cy = 8 + 12 * (j % 2), cx = 5 + 3 * j, r2 = (y - cy) ** 2 + (x - cx) ** 2;
          W[p * dOut + j] += 0.06 * (t + 1) * (Math.exp(-r2 / 18) - 0.5 * Math.exp(-r2 / 60));
        }
      }
    }
    return { W, b: new Float32Array(dOut), dIn, dOut };
  });
}

/** the first layer of fixtureLayers at the fixture's epochs, as the report loads it from snapshots/ */
export function fixtureFirstLayer(): { epochs: number[]; W: Float32Array[]; dIn: number; dOut: number } {
  return { epochs: TT_EPOCHS, W: TT_EPOCHS.map((_, t) => fixtureLayers(t - 1)[0].W), dIn: TT_SIZES[0], dOut: TT_SIZES[1] };
}

/** RUN/snapshots/ of the fixture: init and epochs 0–2 */
export async function writeFixtureSnapshots(dir: string): Promise<void> {
  for (const [t, e] of TT_EPOCHS.entries()) {
    const layers = fixtureLayers(t - 1);
    await saveSnapshot(dir, e, Mlp.fromParams(layers), layers, []);
  }
}

/** every file under an analyses-through-training output folder, relative path → text, with the timings left out of through-training.json */
export function throughTrainingFiles(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, rel: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name), `${rel}${e.name}/`);
      else out[rel + e.name] = readFileSync(join(d, e.name), 'utf8');
    }
  };
  walk(dir, '');
  const j = JSON.parse(out['through-training.json']);
  delete j.timings;
  out['through-training.json'] = JSON.stringify(j);
  return out;
}
