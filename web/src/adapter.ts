// the WebGPU adapter, looked for when the page loads (before Train), and what the page recommends: on a
// software adapter (SwiftShader, llvmpipe, lavapipe, or one that says it is a fallback) the page's CPU
// backend trains faster than WebGPU on it (measured 2–3× on SwiftShader), so the device defaults to the
// CPU and the line beside the device field says why — unless the user asked for a device (the URL's
// device=…, or one kept in localStorage). A hardware adapter keeps WebGPU; no adapter at all trains on the
// CPU anyway ("WebGPU (CPU if none)"). The worker opens its own device on Train (run/backend.ts): the
// page asks only for the adapter's description, which costs no device.
import { isSoftware } from '../../engine/device.ts';

export interface AdapterReport {
  found: boolean;
  software: boolean;
  /** GPUAdapterInfo.isFallbackAdapter */
  fallback: boolean;
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  featureLevel: 'core' | 'compatibility' | null;
  /** a name for people: the description, else the device, else vendor and architecture */
  name: string;
  /** why there is none */
  why?: string;
  /** how long the look-up took (ms) */
  ms: number;
}

/** the adapter this browser offers (the one the worker will take: a core adapter, else a compatibility one) */
export async function detectAdapter(timeoutMs = 5000): Promise<AdapterReport> {
  const t0 = performance.now();
  const none = (why: string): AdapterReport => ({
    found: false, software: false, fallback: false, vendor: '', architecture: '', device: '', description: '', featureLevel: null,
    name: '', why, ms: Math.round(performance.now() - t0),
  });
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  if (!gpu) return none(isSecureContext ? 'this browser has no navigator.gpu' : 'navigator.gpu needs a secure page (https or localhost)');
  const within = <T>(p: Promise<T>) => Promise.race([p, new Promise<null>((ok) => setTimeout(() => ok(null), timeoutMs))]);
  try {
    let featureLevel: AdapterReport['featureLevel'] = 'core';
    let a = await within(gpu.requestAdapter({ powerPreference: 'high-performance' }));
    if (!a) {
      featureLevel = 'compatibility';
      a = await within(gpu.requestAdapter({ featureLevel: 'compatibility' } as GPURequestAdapterOptions));
    }
    if (!a) return none('requestAdapter() found none');
    const i = a.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
    const name = i.description || i.device || [i.vendor, i.architecture].filter(Boolean).join(' ') || 'an adapter that does not name itself';
    return {
      found: true, software: isSoftware(a), fallback: !!(i.isFallbackAdapter ?? (a as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter),
      vendor: i.vendor ?? '', architecture: i.architecture ?? '', device: i.device ?? '', description: i.description ?? '',
      featureLevel, name, ms: Math.round(performance.now() - t0),
    };
  } catch (e) {
    return none(`requestAdapter() failed: ${(e as Error).message}`);
  }
}

export interface Recommendation {
  /** the device the page defaults to on this machine; null: leave the form's default (WebGPU, the CPU if none) */
  device: 'webgpu' | 'cpu' | null;
  /** the line beside the device field */
  line: string;
  kind: 'hardware' | 'software' | 'none';
}

/** what to default to and say, given the adapter and the device the user asked for (null: none asked) */
export function recommend(r: AdapterReport, asked: string | null): Recommendation {
  if (!r.found) return { device: null, kind: 'none', line: `no WebGPU adapter (${r.why}): training uses the CPU backend` };
  const what = `${r.name}${r.fallback ? ', a fallback adapter' : ''}${r.featureLevel === 'compatibility' ? ', compatibility mode' : ''}`;
  if (!r.software) return { device: 'webgpu', kind: 'hardware', line: `WebGPU adapter: ${what} (hardware)` };
  const line = asked === 'webgpu'
    ? `software adapter found (${what}): WebGPU as you asked, though the CPU backend is faster here`
    : `software adapter found: the CPU backend is faster here (${what})${asked ? '' : ' — choose WebGPU to train on the adapter anyway'}`;
  return { device: 'cpu', kind: 'software', line };
}
