// how the WebGPU backend makes GPU problems loud and named. WebGPU reports most errors asynchronously
// (error scopes, uncapturederror, device.lost), while ops are synchronous encoders: so errors are collected
// here as they arrive and thrown at the next asynchronous boundary (read(), sync()), and a lost device
// fails every later call at once instead of leaving a read waiting forever.

/**
 * the device failed under the run: `lost` (driver reset, GPU removed, destroy()), `out-of-memory` (an
 * allocation the device could not make, or a tensor over its binding limit), `internal` (the driver gave
 * up). Surfaces at the next op, read or sync, never as a hang; the CLI reports it in one line.
 */
export class GpuDeviceError extends Error {
  constructor(readonly kind: 'lost' | 'out-of-memory' | 'internal', message: string) {
    super(message);
    this.name = 'GpuDeviceError';
  }
}

/** an uncaptured GPUError as an Error: out-of-memory and internal errors are device faults, the rest (validation) bugs */
function uncapturedError(error: GPUError): Error {
  const kind = error?.constructor?.name ?? '';
  const message = error?.message ?? String(error);
  if (/OutOfMemory/i.test(kind)) return new GpuDeviceError('out-of-memory', `webgpu: out of GPU memory: ${message}`);
  if (/Internal/i.test(kind)) return new GpuDeviceError('internal', `webgpu: internal device error: ${message}`);
  return new Error(`webgpu: uncaptured error: ${message}`);
}

// one uncapturederror listener per device, shared by the backends on it (tests make many)
const errorSinks = new WeakMap<GPUDevice, Set<(e: Error) => void>>();
function onDeviceError(device: GPUDevice, sink: (e: Error) => void): void {
  let sinks = errorSinks.get(device);
  if (!sinks) {
    const all = sinks = new Set();
    errorSinks.set(device, sinks);
    device.addEventListener?.('uncapturederror', (e) => {
      const err = uncapturedError((e as GPUUncapturedErrorEvent).error);
      for (const s of all) s(err);
    });
  }
  sinks.add(sink);
}

/** one backend's view of its device's errors */
export interface DeviceErrors {
  /** whether the device was lost (a read-back buffer whose mapping never settled is then not reused) */
  readonly lost: boolean;
  /** queues a check that rejects with a named error; check() throws the first, in queue order */
  defer(check: Promise<void>): void;
  /** opens a validation scope, closed by closeScope() */
  openScope(): void;
  /** closes the scope openScope() opened; an error in it is reported as `webgpu: ${what} failed validation` */
  closeScope(what: string): void;
  /** throws the loss error, if the device was lost */
  throwIfLost(): void;
  /** waits for `p`, or fails as soon as the device is lost */
  unlessLost<T>(p: Promise<T>, what: string): Promise<T>;
  /** throws the first error seen since the last check: a failed pipeline build or submit, an uncaptured error, a loss */
  check(): Promise<void>;
}

export function watchDevice(device: GPUDevice): DeviceErrors {
  // validation errors, reported by the next read()/sync(): pipeline builds and whole submits
  let pendingChecks: Promise<void>[] = [];
  let deviceError: Error | null = null;
  onDeviceError(device, (e) => { deviceError ??= e; });
  // a lost device (destroy() included: nothing here destroys a device that is still in use) fails every
  // later op, upload and read with the same error, and wins any wait on the GPU, so nothing hangs on it
  let lost: GpuDeviceError | null = null;
  const whenLost: Promise<never> = device.lost.then((l) => {
    lost ??= new GpuDeviceError('lost', `webgpu: the device was lost (${l.reason}${l.message ? `: ${l.message}` : ''})`);
    throw lost;
  });
  whenLost.catch(() => {});
  const throwIfLost = () => { if (lost) throw lost; };

  const errors: DeviceErrors = {
    get lost() { return lost !== null; },

    defer(check) {
      pendingChecks.push(check);
      // callers may look only at read(); keep the rejection from counting as unhandled meanwhile
      check.catch(() => {});
    },

    openScope() {
      device.pushErrorScope('validation');
    },

    closeScope(what) {
      errors.defer(device.popErrorScope().then((err) => {
        if (err) throw new Error(`webgpu: ${what} failed validation: ${err.message}`);
      }));
    },

    throwIfLost,

    async unlessLost(p, what) {
      try {
        return await Promise.race([p, whenLost]);
      } catch (e) {
        if (lost) throw lost;
        // a read that fails (AbortError) may come just before the loss is announced: give it a moment
        const timer = new Promise<'timeout'>((r) => setTimeout(r, 200, 'timeout'));
        try { await Promise.race([whenLost, timer]); } catch { throw lost!; }
        throw new GpuDeviceError('lost', `webgpu: ${what} failed (${(e as Error).name}: ${(e as Error).message}); the device stopped answering`);
      }
    },

    async check() {
      throwIfLost();
      const checks = pendingChecks;
      pendingChecks = [];
      // in order: a kernel that failed to build is the cause of the submit that failed after it
      for (const c of checks) await c;
      throwIfLost();
      if (deviceError) { const e = deviceError; deviceError = null; throw e; }
    },
  };
  return errors;
}
