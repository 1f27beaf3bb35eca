import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Wrong usage: exit code 2. */
export class UsageError extends Error {}

export type Values = Record<string, string | boolean | undefined>;
export type Multi = Record<string, string[] | undefined>;

/** node:util's parseArgs in strict mode, with its complaints turned into usage errors. */
export function parse(args: string[], options: ParseArgsConfig['options']): { values: Values; positionals: string[]; multi: Multi } {
  try {
    const r = parseArgs({ args, options, allowPositionals: true, strict: true });
    return { values: r.values as Values, positionals: r.positionals, multi: r.values as Multi };
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}
