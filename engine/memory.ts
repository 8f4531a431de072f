// memory helpers for tensors whose storage the GC cannot free (GPU buffers): tidy, keep, dispose.
// They live apart from the WebGPU backend so that models and training loops can call them on any backend
// without importing the backend itself (the browser bundle and the CPU path need none of its code).
// A backend takes part by calling track() for each storage it hands out; everything else is ignored.
import type { Backend } from './backend.ts';

// one set per open tidy, innermost last: the storages created inside it
const scopes: Set<object>[] = [];

// how each tracked storage goes back to its pool, set by the backend that made it (a tidy may span
// backends, and a storage must return to its own pool). Being in this map is what "tracked" means.
const owner = new WeakMap<object, (s: object) => void>();
const releaseStorage = (s: object) => owner.get(s)?.(s);

/**
 * for backends: registers a new storage with the function that releases it (idempotent, as views share
 * a storage) and puts it in the innermost open tidy, if any.
 */
export function track<S extends object>(storage: S, release: (s: S) => void): void {
  owner.set(storage, release as (s: object) => void);
  scopes[scopes.length - 1]?.add(storage);
}

/**
 * runs `fn` (synchronous) and releases every GPU buffer created inside it, except those of the tensors
 * in its return value (a Tensor, or arrays / plain objects of them, searched deeply). Kept buffers move to
 * the enclosing tidy, if any. Anything else holding a tensor made inside (a parameter after assign(), a
 * .grad) must be returned or passed to keep(), or it is left pointing at a released buffer. CPU tensors
 * are ignored (the GC has them), so a training loop can call tidy() on either backend.
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<object>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    for (const s of scope) releaseStorage(s);
    throw e;
  }
  scopes.pop();
  if (result instanceof Promise) {
    for (const s of scope) releaseStorage(s);
    throw new Error('tidy: fn must be synchronous (await reads outside tidy)');
  }
  const kept = new Set<object>();
  collect(result, kept, new Set());
  const parent = scopes[scopes.length - 1];
  for (const s of scope) {
    if (!kept.has(s)) releaseStorage(s);
    else parent?.add(s);
  }
  return result;
}

/** exempts tensors from every enclosing tidy (a parameter after assign(), a running sum) */
export function keep<T extends { storage: unknown }>(...tensors: T[]): void {
  for (const t of tensors) if (isTracked(t.storage)) for (const s of scopes) s.delete(t.storage);
}

/** releases tensors now (their buffers go back to the pool); the tensors must not be used after */
export function dispose(...tensors: { storage: unknown; backend: Backend }[]): void {
  for (const t of tensors) t.backend.release(t.storage);
}

function isTracked(storage: unknown): storage is object {
  return typeof storage === 'object' && storage !== null && owner.has(storage);
}

function collect(v: unknown, out: Set<object>, seen: Set<object>): void {
  if (!v || typeof v !== 'object' || seen.has(v)) return;
  seen.add(v);
  const storage = (v as { storage?: unknown }).storage;
  if (isTracked(storage)) { out.add(storage); return; }
  if (Array.isArray(v)) { for (const x of v) collect(x, out, seen); return; }
  if (v instanceof Map) { for (const x of v.values()) collect(x, out, seen); return; }
  if (Object.getPrototypeOf(v) === Object.prototype) for (const x of Object.values(v)) collect(x, out, seen);
}
