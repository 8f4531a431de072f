// The peak resident memory of this process, in MB, for the tests that bound a case's memory in a child
// process. On Linux: VmHWM of /proc/self/status, the high-water mark of this process's own memory since
// its exec. Not process.resourceUsage().maxRSS: Linux keeps ru_maxrss across fork and exec, so a child
// of a large test process reports its parent's peak (seen in CI: 1233 MB for a 70 MB child).
// With --import, and MLP_LENS_RSS_FILE set, it writes the figure to that file when the process exits.
import { readFileSync, writeFileSync } from 'node:fs';
import process from 'node:process';

export function peakRssMB() {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) / 1024;
  } catch { /* not Linux */ }
  return process.resourceUsage().maxRSS / 1024;
}

if (process.env.MLP_LENS_RSS_FILE) {
  const file = process.env.MLP_LENS_RSS_FILE;
  process.on('exit', () => writeFileSync(file, String(peakRssMB())));
}
