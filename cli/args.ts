// command-line options: declared once (name, type, default, help), parsed with node:util parseArgs,
// validated with a clear message. Shared by the commands of cli/ and the benchmarks of bench/.
import process from 'node:process';
import { parseArgs } from 'node:util';

export class UsageError extends Error {
  constructor(message: string) { super(message); this.name = 'UsageError'; }
}

export interface OptionSpec {
  type: 'string' | 'boolean';
  help: string;
  /** value shown in --help and used when the option is absent */
  default?: string | boolean;
  /** placeholder in --help, e.g. N, DIR */
  arg?: string;
}

export type Specs = Record<string, OptionSpec>;

/** parses argv against the specs; unknown options and stray arguments are usage errors */
export function parse(specs: Specs, argv: string[]): Record<string, string | boolean | undefined> {
  try {
    const { values, positionals } = parseArgs({
      args: argv, strict: true, allowPositionals: true,
      options: Object.fromEntries(Object.entries(specs).map(([k, s]) => [k, { type: s.type }])),
    });
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const out: Record<string, string | boolean | undefined> = {};
    for (const [k, s] of Object.entries(specs)) out[k] = (values as Record<string, string | boolean | undefined>)[k] ?? s.default;
    return out;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    // parseArgs's own messages are clear; drop its error-code prefix
    throw new UsageError(String((e as Error).message).replace(/^TypeError \[[A-Z_]+\]: /, ''));
  }
}

export function usage(command: string, summary: string, specs: Specs): string {
  const rows = Object.entries(specs).map(([k, s]) => {
    const left = `  --${k}${s.type === 'string' ? ` ${s.arg ?? 'X'}` : ''}`;
    const def = s.default !== undefined && s.type === 'string' ? ` (default ${s.default})` : '';
    return `${left.padEnd(30)}${s.help}${def}`;
  });
  return `usage: ${command} [options]\n\n${summary}\n\noptions:\n${rows.join('\n')}\n`;
}

/** a whole number ≥ min */
export function int(name: string, v: string | boolean | undefined, min = 1): number {
  const n = Number(v);
  if (typeof v !== 'string' || !/^-?\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min) {
    throw new UsageError(`--${name} must be a whole number ≥ ${min}, got '${v}'`);
  }
  return n;
}

/** a finite number ≥ min (> min when strict) */
export function num(name: string, v: string | boolean | undefined, min = 0, strict = false): number {
  const n = Number(v);
  if (typeof v !== 'string' || v.trim() === '' || !Number.isFinite(n) || n < min || (strict && n === min)) {
    throw new UsageError(`--${name} must be a number ${strict ? '>' : '≥'} ${min}, got '${v}'`);
  }
  return n;
}

export function oneOf<T extends string>(name: string, v: string | boolean | undefined, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !allowed.includes(v as T)) {
    throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got '${v}'`);
  }
  return v as T;
}

/** a comma-separated list of whole numbers ≥ 1, e.g. 32,16 */
export function intList(name: string, v: string | boolean | undefined): number[] {
  if (typeof v !== 'string' || !/^\s*\d+(\s*,\s*\d+)*\s*$/.test(v)) {
    throw new UsageError(`--${name} must be a comma-separated list of sizes like 32,16, got '${v}'`);
  }
  const sizes = v.split(',').map((s) => Number(s.trim()));
  if (sizes.some((s) => s < 1)) throw new UsageError(`--${name}: every size must be ≥ 1, got '${v}'`);
  return sizes;
}

/**
 * a benchmark script's options (Node or Deno argv), checked and converted by `read`: `--help` prints
 * the usage and exits 0, a bad option prints its message and exits 2
 */
export function benchArgs<T>(command: string, summary: string, specs: Specs, read: (o: Record<string, string | boolean | undefined>) => T): T {
  const g = globalThis as { Deno?: { args: string[] } };
  const all: Specs = { ...specs, help: { type: 'boolean', help: 'print this text' } };
  try {
    const o = parse(all, g.Deno?.args ?? process.argv.slice(2));
    if (o.help) {
      console.log(usage(command, summary, all));
      process.exit(0);
    }
    return read(o);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`${command}: ${e.message}`);
    process.exit(2);
  }
}

type CommandOptions = Record<string, { type: 'string' | 'boolean' }>;
/** the parsed values of `O`: a string or a boolean per option, absent when not given */
type CommandValues<O extends CommandOptions> = { [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : string };

/**
 * a subcommand's argv (options and RUN-like positionals) parsed strictly, with --help: the values, or the
 * exit code when it printed its help (0) or a one-line error and the help (2)
 */
export function commandArgs<const O extends CommandOptions>(
  argv: string[], options: O, help: string,
): { values: CommandValues<O>; positionals: string[] } | number {
  try {
    const parsed = parseArgs({ args: argv, allowPositionals: true, strict: true, options: { ...options, help: { type: 'boolean' } } });
    if ((parsed.values as { help?: boolean }).help) { process.stdout.write(help); return 0; }
    return { values: parsed.values as CommandValues<O>, positionals: parsed.positionals };
  } catch (e) {
    process.stderr.write(`error: ${(e as Error).message}\n\n${help}`);
    return 2;
  }
}
