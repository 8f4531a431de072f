// seeded, class-stratified choices of rows: a balanced sample of a split, and a held-out part of a
// sample. Both walk one seeded shuffle of all positions and take each class's first rows in that
// order, so a larger request for the same seed contains the smaller one; pure.
import { createRng } from '../engine/rng.ts';

/** the positions 0..labels.length−1 in a seeded random order, each label checked to be a class */
function shuffled(labels: ArrayLike<number>, classes: number, seed: number, what: string): Uint32Array {
  if (!(Number.isInteger(classes) && classes >= 1)) throw new RangeError(`${what}: classes must be a positive integer, got ${classes}`);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (!(Number.isInteger(l) && l >= 0 && l < classes)) throw new RangeError(`${what}: label ${l} at ${i} is not in 0..${classes - 1}`);
  }
  return createRng('mlp-lens', seed).epochPermutation(labels.length);
}

/** how many positions carry each label [classes] */
function countPerClass(labels: ArrayLike<number>, classes: number): number[] {
  const count = new Array<number>(classes).fill(0);
  for (let i = 0; i < labels.length; i++) count[labels[i]]++;
  return count;
}

/** the first `quota[c]` positions of each class c in the order `perm` → sorted ascending */
function takePerClass(perm: Uint32Array, labels: ArrayLike<number>, quota: number[]): { rows: number[]; perClass: number[] } {
  const taken = new Array<number>(quota.length).fill(0);
  const rows: number[] = [];
  for (const i of perm) {
    const c = labels[i];
    if (taken[c] < quota[c]) { taken[c]++; rows.push(i); }
  }
  return { rows: rows.sort((a, b) => a - b), perClass: taken };
}

/**
 * a class-balanced sample of positions 0..labels.length−1 (labels [n], 0..classes−1): up to `perClass`
 * rows of each class (a class with fewer contributes all of them), chosen by a seeded shuffle
 * (createRng('mlp-lens', seed)) → rows sorted ascending [count], and how many rows each class gave
 * [classes]. The same seed gives the same rows; for one seed a larger perClass only adds rows.
 */
export function stratifiedSample(
  labels: ArrayLike<number>, classes: number, perClass: number, seed: number,
): { rows: number[]; perClass: number[] } {
  if (!(Number.isInteger(perClass) && perClass >= 0)) throw new RangeError(`stratifiedSample: perClass must be a non-negative integer, got ${perClass}`);
  const perm = shuffled(labels, classes, seed, 'stratifiedSample');
  return takePerClass(perm, labels, new Array<number>(classes).fill(perClass));
}

/**
 * a held-out part of positions 0..labels.length−1, stratified: of each class's m positions,
 * round(fraction · m) (halves up), chosen by a seeded shuffle (createRng('mlp-lens', seed)) → positions
 * sorted ascending. The total can differ from fraction · n by up to classes/2 through the rounding.
 */
export function heldOutRows(labels: ArrayLike<number>, classes: number, fraction: number, seed: number): number[] {
  if (!(fraction >= 0 && fraction <= 1)) throw new RangeError(`heldOutRows: fraction must be in [0, 1], got ${fraction}`);
  const perm = shuffled(labels, classes, seed, 'heldOutRows');
  return takePerClass(perm, labels, countPerClass(labels, classes).map((m) => Math.round(fraction * m))).rows;
}
