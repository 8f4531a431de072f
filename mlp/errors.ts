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
