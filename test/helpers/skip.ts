// the one way a test that cannot run here says so: a printed line with the reason (uvu has no
// run-time skip; a test that returns early would otherwise pass silently)
export function skipped(reason: string): void {
  console.log(`  skipped: ${reason}`);
}
