import * as assert from 'uvu/assert';

export interface Tolerance { atol?: number; rtol?: number }

/** Asserts |actual - expected| <= atol + rtol·|expected| elementwise; reports the first bad index and the max error. */
export function assertClose(
  actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance = {}, label = 'values',
): void {
  const atol = tol.atol ?? 1e-6, rtol = tol.rtol ?? 1e-5;
  assert.is(actual.length, expected.length, `${label}: length ${actual.length} != ${expected.length}`);
  let firstBad = -1, maxErr = 0, maxAt = -1;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i], e = expected[i];
    const err = Math.abs(a - e);
    const bad = !(err <= atol + rtol * Math.abs(e)) && !(Number.isNaN(a) && Number.isNaN(e)) && a !== e;
    if (bad && firstBad < 0) firstBad = i;
    if (err > maxErr || Number.isNaN(err)) { maxErr = err; maxAt = i; }
  }
  if (firstBad >= 0) {
    assert.unreachable(
      `${label}: first mismatch at [${firstBad}]: ${actual[firstBad]} vs ${expected[firstBad]}; ` +
      `max |err| ${maxErr} at [${maxAt}] (atol ${atol}, rtol ${rtol}, n ${expected.length})`);
  }
}
