// Which backend a run trains on, chosen once, the same way in the CLI and the page.
import type { Backend } from '../engine/backend.ts';
import { cpu } from '../engine/cpu.ts';
import { acquireDevice, type AcquiredDevice, type DeviceInfo } from '../engine/device.ts';
import { createWebGpuBackend } from '../engine/webgpu.ts';
import { ConfigError } from './errors.ts';

export type DeviceChoice = 'auto' | 'cpu' | 'webgpu';

export interface PickedBackend {
  backend: Backend;
  /** what config.json records: backend 'cpu' or 'webgpu' with the adapter's description and `api` */
  info: Record<string, unknown>;
  /** the adapter behind a webgpu backend (null on the cpu) */
  device: AcquiredDevice | null;
  /** why a run that asked for WebGPU trains on the cpu instead (only with `fallback`) */
  fellBack?: string;
}

export interface PickOptions {
  /**
   * webgpu: when no adapter starts, train on the cpu and say why in `fellBack` (the page), instead of a
   * ConfigError (the CLI, where --device webgpu is an explicit request)
   */
  fallback?: boolean;
  /** a line for the user when auto falls back to the cpu because WebGPU failed to start */
  log?: (line: string) => void;
}

/**
 * auto: a hardware GPU when there is one, else the CPU backend (a WebGPU failure to start falls back
 * too, saying so); webgpu: any adapter, software ones included, or one clear error; cpu: the cpu.
 */
export async function pickBackend(choice: DeviceChoice, opts: PickOptions = {}): Promise<PickedBackend> {
  if (choice === 'cpu') return { backend: cpu, info: { backend: 'cpu' }, device: null };
  let acquired: AcquiredDevice | null = null;
  try {
    acquired = await acquireDevice({ mode: choice });
    if (!acquired && choice === 'webgpu') throw new Error('no WebGPU adapter');
  } catch (e) {
    const message = (e as Error).message;
    if (choice === 'webgpu') {
      if (!opts.fallback) throw new ConfigError(`--device webgpu: ${message}`);
      return { backend: cpu, info: { backend: 'cpu', note: message }, device: null, fellBack: message };
    }
    opts.log?.(`webgpu did not start (${message}); using the cpu backend`);
  }
  if (!acquired) return { backend: cpu, info: { backend: 'cpu', note: 'no hardware GPU adapter (use --device webgpu for a software one)' }, device: null };
  const { info } = acquired;
  return { backend: createWebGpuBackend(acquired.device), info: { ...info, backend: 'webgpu', api: info.backend }, device: acquired };
}

/** the backend in one phrase, as the run's first line prints it */
export function describeBackend(info: Record<string, unknown>): string {
  if (info.backend === 'cpu') return 'cpu';
  const name = info.description || info.device || info.vendor;
  return `webgpu (${name}, ${info.api}, ${info.featureLevel}${info.software ? ', software' : ''}, ${info.runtime})`;
}

/** an adapter's name for people: its description, else its device, else vendor and architecture */
export function adapterName(info: DeviceInfo): string {
  return info.description || info.device || [info.vendor, info.architecture].filter(Boolean).join(' ') || 'an adapter that does not name itself';
}
