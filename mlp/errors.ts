/**
 * A problem with something the user gave us (a file, an option, a saved run). The CLI prints it as
 * one line (no stack trace) and exits with code 2.
 */
export class InputError extends Error {
  constructor(readonly file: string, readonly problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'InputError';
  }
}

/**
 * a short, printable description of a bad value for an error message: its JSON, cut to `max`
 * characters; never throws (a value nested thousands deep would overflow JSON.stringify's stack)
 */
export function quote(v: unknown, max = 60): string {
  let s: string | undefined;
  try {
    s = JSON.stringify(v);
  } catch {
    return Array.isArray(v) ? 'a deeply nested array' : 'a deeply nested value';
  }
  if (s === undefined) return String(v);
  return s.length > max ? `${s.slice(0, max - 3)}...` : s;
}
