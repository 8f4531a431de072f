// live updates within an epoch, the worker's side: which steps send the page a running point (the
// epoch's training loss and accuracy since its start). On the CPU backend the step engines hand the
// running values over at every step for free (host memory): a point every LIVE_MS. On WebGPU nothing is
// read per step — the fused step encodes a whole epoch ahead of the device — so a point is a read of the
// device's two running sums (StepInfo.peek: one 8-byte copy queued behind the steps encoded so far, which
// waits for nothing and settles when the device gets there), asked at most every LIVE_STEPS steps (at a
// dispatch's end: 64 steps on SwiftShader, ≈ 15 reads an epoch of 938 steps). Fewer reads would leave
// the chart still for seconds on a software adapter; one per step would cost a copy and a map per step.
// Training computes the same either way: a read changes nothing on the device.
import type { StepInfo } from '../../mlp/train.ts';

/** one running point of an epoch */
export interface LivePoint {
  /** the epoch, counted from 0 as the run counts (the page shows epoch + 1) */
  epoch: number;
  /** steps done in this epoch (1 … steps) */
  step: number;
  steps: number;
  /** samples seen so far this epoch */
  samples: number;
  /** mean training loss and % classified right over those samples (each by the weights of its step) */
  loss: number;
  accuracy: number;
  /** host: read for free on the CPU; device: a read of the device's running sums (WebGPU) */
  source: 'host' | 'device';
}

/** the CPU backend: a point at most this often (ms) */
export const LIVE_MS = 250;
/** WebGPU: a read of the running sums at most every this many steps */
export const LIVE_STEPS = 50;

/** the onStep hook that sends points; `reads` counts the device reads asked so far */
export function liveSampler(send: (p: LivePoint) => void, opts: { ms?: number; steps?: number } = {}) {
  const ms = opts.ms ?? LIVE_MS, every = opts.steps ?? LIVE_STEPS;
  let lastAt = 0, lastStep = 0;
  const counts = { reads: 0, points: 0 };
  const out = (p: LivePoint) => { counts.points++; send(p); };
  return {
    counts,
    onStep(info: StepInfo): void {
      const { epoch, step, steps, samples } = info, done = step + 1, last = done === steps;
      if (step === 0) { lastAt = performance.now(); lastStep = 0; }
      if (info.loss !== undefined && info.accuracy !== undefined) {
        const now = performance.now();
        if (now - lastAt < ms && !last) return;
        lastAt = now;
        out({ epoch, step: done, steps, samples, loss: info.loss, accuracy: info.accuracy, source: 'host' });
      } else if (info.peek && (done - lastStep >= every || last)) {
        lastStep = done;
        counts.reads++;
        info.peek().then((v) => out({ epoch, step: done, steps, samples, loss: v.loss, accuracy: v.accuracy, source: 'device' }), () => {
          // the epoch's own read (endEpoch) reports the error
        });
      }
    },
  };
}
