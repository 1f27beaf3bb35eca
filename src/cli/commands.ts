import { parseArgs, type ParseArgsConfig } from 'node:util';
import { writeFileSync } from 'node:fs';
import { BtfError } from '../errors.js';
import { dumpJson, dumpRaw } from '../dump/raw.js';
import { loadBtfFile, SYSFS_VMLINUX, readInput } from '../node/files.js';
import { stdoutSink } from './output.js';
import { convertBtf } from '../build/convert.js';
import { checkBtf } from '../btf/check.js';
import { loadBtf } from '../btf/source.js';

/** Wrong usage: exit code 2. */
export class UsageError extends Error {}

export const HELP = `btfkit — the BPF Type Format toolkit

Usage:
  btfkit dump [FILE] [--base BASE] [--format raw|json]
      Print every type of FILE (raw BTF or an ELF file with .BTF; default
      /sys/kernel/btf/vmlinux). Files under /sys/kernel/btf/ other than vmlinux
      get /sys/kernel/btf/vmlinux as their base. raw and json are byte-identical
      to bpftool's 'btf dump file FILE format raw' and 'bpftool -j btf dump'.
  btfkit check FILE... [--base BASE] [--json]
      Check FILE the way the kernel's BTF verifier does; print every violation.
  btfkit convert IN -o OUT [--base BASE] [--endian little|big] [--layout|--no-layout]
      Re-encode IN (raw BTF or ELF .BTF) as raw BTF: byte order and the optional
      2026 layout section. Without options the output equals the input's BTF.
  btfkit help

Exit codes: 0 success, 1 bad input (one line on stderr), 2 wrong usage.
`;

type Values = Record<string, string | boolean | undefined>;

function parse(args: string[], options: ParseArgsConfig['options']): { values: Values; positionals: string[] } {
  try {
    const r = parseArgs({ args, options, allowPositionals: true, strict: true });
    return { values: r.values as Values, positionals: r.positionals };
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

export function run(argv: string[]): number {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'dump': return dump(rest);
    case 'check': return check(rest);
    case 'convert': return convert(rest);
    case undefined: case 'help': case '--help': case '-h':
      process.stdout.write(HELP);
      return cmd === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command '${cmd}'`);
  }
}

function dump(args: string[]): number {
  const { values, positionals } = parse(args, {
    base: { type: 'string' },
    format: { type: 'string', default: 'raw' },
  });
  if (positionals.length > 1) throw new UsageError('dump takes one FILE');
  const format = values.format as string;
  if (format !== 'raw' && format !== 'json') throw new UsageError(`unknown format '${format}' (raw or json)`);
  const file = positionals[0] ?? SYSFS_VMLINUX;
  const btf = loadBtfFile(file, { base: values.base as string | undefined });
  const sink = stdoutSink();
  if (format === 'json') dumpJson(btf, sink);
  else dumpRaw(btf, sink);
  sink.flush();
  return 0;
}

function check(args: string[]): number {
  const { values, positionals } = parse(args, {
    base: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  if (positionals.length === 0) throw new UsageError('check needs at least one FILE');
  const results: { file: string; ok: boolean; errors: { code: string; typeId?: number; offset?: number; message: string }[] }[] = [];
  for (const file of positionals) {
    let errors: BtfError[];
    try {
      const btf = loadBtfFile(file, { base: values.base as string | undefined });
      errors = checkBtf(btf);
    } catch (e) {
      if (!(e instanceof BtfError)) throw e;
      errors = [e];
    }
    results.push({
      file, ok: errors.length === 0,
      errors: errors.map((e) => ({ code: e.code, typeId: e.typeId, offset: e.offset, message: e.message })),
    });
  }
  if (values.json) {
    process.stdout.write(JSON.stringify(results) + '\n');
  } else {
    for (const r of results) {
      if (r.ok) process.stdout.write(`${r.file}: ok\n`);
      else for (const e of r.errors) process.stdout.write(`${r.file}: ${e.code}: ${e.message}\n`);
    }
  }
  return results.every((r) => r.ok) ? 0 : 1;
}

function convert(args: string[]): number {
  const { values, positionals } = parse(args, {
    output: { type: 'string', short: 'o' },
    base: { type: 'string' },
    endian: { type: 'string' },
    layout: { type: 'boolean' },
    'no-layout': { type: 'boolean' },
  });
  if (positionals.length !== 1) throw new UsageError('convert takes one input file');
  if (!values.output) throw new UsageError('convert needs -o OUT');
  const endian = values.endian as string | undefined;
  if (endian !== undefined && endian !== 'little' && endian !== 'big') throw new UsageError(`--endian takes little or big, not '${endian}'`);
  if (values.layout && values['no-layout']) throw new UsageError('--layout and --no-layout exclude each other');
  const input = positionals[0]!;
  const base = values.base ? loadBtfFile(values.base as string) : undefined;
  const btf = loadBtf(readInput(input), { base, file: input });
  const out = convertBtf(btf, {
    endian: endian as 'little' | 'big' | undefined,
    layout: values.layout ? true : values['no-layout'] ? false : undefined,
  });
  writeFileSync(values.output as string, out);
  return 0;
}
