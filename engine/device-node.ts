// the Node half of device acquisition: Dawn (the `webgpu` npm package) and the Mesa environment it
// needs. engine/ imports no `node:` module except here; engine/device.ts imports this file lazily, only
// under Node, so browsers and Deno (both have navigator.gpu) never load it or Dawn.
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Candidate } from './device.ts';

// one Dawn GPU object per option set, kept for the life of the process: creating several is slow and leaks
const dawnInstances = new Map<string, GPU>();
let dawnModule: Promise<{ create(o: string[]): GPU; globals: object }> | undefined;

async function dawn(options: string[]): Promise<GPU> {
  dawnModule ??= import('webgpu').then((m) => {
    Object.assign(globalThis, m.globals);
    return m as { create(o: string[]): GPU; globals: object };
  });
  const { create } = await dawnModule;
  const key = options.join(' ');
  let gpu = dawnInstances.get(key);
  // Dawn rounds timestamp queries to 16.384 µs by default (a browser's anti-fingerprinting measure): exact here
  if (!gpu) { gpu = create([...options, 'disable-dawn-features=timestamp_quantization']); dawnInstances.set(key, gpu); }
  return gpu;
}

/**
 * whether this machine may have a hardware GPU: on Linux, a GPU driver exposes /dev/nvidia* or a DRM
 * render node (/dev/dri/renderD*); elsewhere we cannot tell cheaply, so yes
 */
export async function mayHaveGpu(): Promise<boolean> {
  if (process.platform !== 'linux') return true;
  const list = (dir: string) => { try { return readdirSync(dir); } catch { return []; } };
  return list('/dev').some((f) => f.startsWith('nvidia')) || list('/dev/dri').some((f) => f.startsWith('renderD'));
}

/**
 * the adapters Dawn offers, for acquireDevice(): the default backends' hardware adapter when the machine
 * has a GPU device node (`gpuNode`), and with `allowSoftware`, unless that found hardware, Mesa llvmpipe
 * through Dawn's OpenGL backend. Each attempt is described in `tried` (through `note` for an adapter).
 */
export async function dawnCandidates(o: {
  gpuNode: boolean;
  allowSoftware: boolean;
  tried: string[];
  note: (what: string, a: GPUAdapter | null) => void;
  isSoftware: (a: GPUAdapter) => boolean;
}): Promise<Candidate[]> {
  const { gpuNode, allowSoftware, tried, note, isSoftware } = o;
  const candidates: Candidate[] = [];
  // Mesa complains on stderr when this is unset; a private temp folder is all it needs
  const env = process.env;
  if (!env.XDG_RUNTIME_DIR) env.XDG_RUNTIME_DIR = mkdtempSync(join(tmpdir(), 'mlp-lens-xdg-'));
  // Mesa's EGL without a display (llvmpipe); read when Dawn's GL backend starts
  if (allowSoftware) env.EGL_PLATFORM ??= 'surfaceless';
  let hw: GPU | undefined;
  try { hw = await dawn(gpuNode ? [] : ['backend=opengl']); } catch (e) {
    tried.push(`import('webgpu') (Dawn): ${(e as Error).message}`);
  }
  if (hw) {
    // no GPU device node: the default backends would only reject lavapipe, loudly
    const a = gpuNode ? await hw.requestAdapter({ powerPreference: 'high-performance' }) : null;
    if (gpuNode) note('Dawn, default backends, core', a);
    else tried.push('Dawn, default backends: skipped (no /dev/nvidia* or /dev/dri/renderD* device)');
    if (a) candidates.push({ adapter: a, backend: 'unknown', compat: false });
    if (allowSoftware && !(a && !isSoftware(a))) {
      // Mesa llvmpipe through EGL without a display; only compatibility mode fits GL
      env.EGL_PLATFORM ??= 'surfaceless';
      const gl = await dawn(['backend=opengl']);
      const s = await gl.requestAdapter({ featureLevel: 'compatibility' });
      note(`Dawn, backend=opengl, EGL_PLATFORM=${env.EGL_PLATFORM}, compatibility`, s);
      if (s) candidates.push({ adapter: s, backend: 'opengl', compat: true });
    }
  }
  return candidates;
}
