// A network of either kind the run layer trains: the MLP (mlp/model.ts) or a CNN (mlp/cnn.ts). Both
// expose the same surface — forward() with every named tensor, params() with canonical names, actNames(),
// unitShape(), train()/eval(), classes, inputSize, backend — so the epoch loop, the generic step, the
// recorder and the statistics take either; what only an MLP has (norms, the fused engines' layout) is
// asked for through `kind`.
import { mean } from '../engine/composite.ts';
import type { Tensor } from '../engine/tensor.ts';
import type { Cnn } from './cnn.ts';
import type { Acts, Mlp } from './model.ts';
import type { ActName } from './names.ts';
import { unitCount } from './units.ts';

export type Net = Mlp | Cnn;

/** mean loss of a forward pass (the training objective) → [] */
export const meanLoss = (acts: Acts): Tensor => mean(acts.loss!);

/** units per sample of each name (neurons, or channels of a feature map): the recorder's row widths */
export function unitWidths(model: Net, names: readonly ActName[]): Partial<Record<ActName, number>> {
  return Object.fromEntries(names.map((n) => [n, unitCount(model.unitShape(n))]));
}

/** `model` where only an MLP will do (`what` names the feature in the error) */
export function mlpOnly(model: Net, what: string): Mlp {
  if (model.kind !== 'mlp') throw new Error(`${what} takes an MLP, not a ${model.kind} (${model.arch})`);
  return model;
}
