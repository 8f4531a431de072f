// how the commands report a problem with what the user gave them: one line, no stack
/** `error: message\n` when `e` is one of the named error classes (by name: InputError, RangeError…), else undefined */
export function errorLine(e: unknown, names: readonly string[] = ['InputError']): string | undefined {
  if (!(e instanceof Error) || !names.includes(e.name)) return undefined;
  return `error: ${e.message.replace(/\s*\n\s*/g, ' ')}\n`;
}
