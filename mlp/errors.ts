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

/**
 * a name or text from a file, fit for a one-line message: control characters escaped (a name may hold
 * a newline), and, when longer than `max` characters, its middle replaced by '…' so both ends show
 * (`linear99999…99999.weight`). Never builds more than `max` characters of output from a long input.
 */
export function clip(s: string, max = 48): string {
  const cut = s.length > max ? `${s.slice(0, Math.ceil(max / 2) - 1)}…${s.slice(s.length - Math.floor(max / 2))}` : s;
  return cut.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * the first `max` of `items` (already quoted), then '… and N more' when there are more: `total` counts
 * them all (Infinity when too many to count: '… and more')
 */
export function listSome(items: readonly string[], total = items.length, max = 4): string {
  const shown = items.slice(0, max).join(', ');
  if (total <= max) return shown;
  return Number.isFinite(total) ? `${shown} … and ${total - max} more` : `${shown} … and more`;
}
