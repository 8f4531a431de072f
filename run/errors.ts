// The ways a run stops that its caller can name, each with the exit code the CLI gives it.
// Bad input (a file, a value) is mlp/errors.ts's InputError; a setting that cannot work is a ConfigError.

/** a setting that cannot work (a bad option value, a device that is not there): one line, exit 2 */
export class ConfigError extends Error {
  constructor(message: string) { super(message); this.name = 'ConfigError'; }
}

/**
 * the run stopped for a reason it can name, after recording it in the run's metrics: `diverged` (a NaN
 * or ±Inf, exit 3), `device` (the GPU device was lost or ran out of memory, exit 4) or `io` (a file of
 * the run could not be written: permissions, a full disk, a file-size limit; exit 5)
 */
export class RunStopped extends Error {
  constructor(message: string, readonly reason: 'diverged' | 'device' | 'io') { super(message); this.name = 'RunStopped'; }
  get exitCode(): number { return { diverged: 3, device: 4, io: 5 }[this.reason]; }
}

/** the caller's AbortSignal fired: the run ended at a step boundary, its last checkpoint intact */
export class RunCancelled extends Error {
  constructor(readonly epoch: number, readonly step: number) {
    super(`cancelled in epoch ${epoch} at step ${step}`);
    this.name = 'RunCancelled';
  }
}
