import { parseKernelVersion } from '../format/kernels.js';
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Wrong usage: exit code 2. */
export class UsageError extends Error {
  /** The command whose usage was wrong, for the pointer to its help; set by `run`. */
  command: string | undefined;
}

/**
 * A command that cannot do its work for a reason other than bad BTF or wrong usage (an output
 * file that cannot be written): one `btfkit: error:` line, exit code 1.
 */
export class CommandError extends Error {}

export type Values = Record<string, string | boolean | undefined>;
export type Multi = Record<string, string[] | undefined>;

/** node:util's parseArgs in strict mode, with its complaints turned into usage errors. */
export function parse(args: string[], options: ParseArgsConfig['options']): { values: Values; positionals: string[]; multi: Multi } {
  try {
    const r = parseArgs({ args, options, allowPositionals: true, strict: true });
    return { values: r.values as Values, positionals: r.positionals, multi: r.values as Multi };
  } catch (e) {
    throw new UsageError(usageMessage(e as Error & { code?: string }));
  }
}

/**
 * parseArgs' message, shortened where it is long-winded: its text for an unknown option goes on
 * about positionals after `--`, with a quote that is never closed.
 */
function usageMessage(e: Error & { code?: string }): string {
  if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const option = /'([^']*)'/.exec(e.message)?.[1];
    if (option !== undefined) return `unknown option '${option}'`;
  }
  return e.message;
}

/** A flag's value as a count: decimal digits only, so `''`, `-1`, `1e3` and `0x10` are usage errors. */
export function countFlag(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new UsageError(`--${flag} takes a whole number, not '${value}'`);
  }
  return Number(value);
}

/** A flag naming a kernel release (`6.1`, or what `uname -r` prints), checked now so a typo is a usage error. */
export function kernelVersionFlag(flag: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    parseKernelVersion(value);
  } catch (e) {
    throw new UsageError(`--${flag}: ${(e as Error).message}`);
  }
  return value;
}
