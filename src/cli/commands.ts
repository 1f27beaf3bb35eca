import { parseArgs, type ParseArgsConfig } from 'node:util';
import { existsSync, writeFileSync } from 'node:fs';
import { BtfError } from '../errors.js';
import { dumpJson, dumpRaw } from '../dump/raw.js';
import { defaultBasePath, loadBtfFile, SYSFS_VMLINUX, readInput } from '../node/files.js';
import { KernelBtf } from '../node/sysfs.js';
import { checkSplit, formatCheck, selfContained, type SplitCheck, type SplitVerdict } from '../split/check.js';
import { loadModuleBtf } from '../split/load.js';
import { makeStandalone, splitOnBase, toSplitAppearance } from '../split/forms.js';
import { mergeModules, TypeUnion } from '../split/merge.js';
import { moduleNameOf } from '../elf/compress.js';
import { kindFromName, kindName } from '../format/kinds.js';
import { stdoutSink } from './output.js';
import { convertBtf } from '../build/convert.js';
import { checkBtf, type CheckOptions } from '../btf/check.js';
import { btfBytesOf, loadBtf } from '../btf/source.js';
import { parseHeader } from '../format/header.js';
import { dumpC } from '../dump/c/index.js';
import type { Btf } from '../btf/btf.js';

/** Wrong usage: exit code 2. */
export class UsageError extends Error {}

export const HELP = `btfkit — the BPF Type Format toolkit

Usage:
  btfkit dump [FILE] [--base BASE] [--format raw|json|c] [--unsorted] [--root TYPE]...
      Print every type of FILE (raw BTF or an ELF file with .BTF; default
      /sys/kernel/btf/vmlinux). Files under /sys/kernel/btf/ other than vmlinux
      get /sys/kernel/btf/vmlinux as their base. raw and json are byte-identical
      to bpftool's 'btf dump file FILE format raw' and 'bpftool -j btf dump';
      c is bpftool v7.8's 'format c' (vmlinux.h), sorted unless --unsorted.
      --root TYPE (a name or an id, repeatable) limits the dump to TYPE and,
      for c, everything it needs (bpftool's root_id).
  btfkit check FILE... [--base BASE] [--json] [--object] [--strict] [--kernel]
      For split BTF (a module), decide whether it reads correctly on BASE
      (default /sys/kernel/btf/vmlinux): matched, mismatched (with the broken
      references), standalone or not-split. Then check the BTF the way the
      kernel's verifier does and list every violation. --object accepts what
      clang leaves for libbpf to fix (extern funcs/vars), --strict adds the
      rules the kernel does not enforce, --kernel rejects unknown kinds.
      Exit: 0 all valid and matched, 1 unreadable or invalid, 3 a module
      mismatched its base, 4 a module is standalone (no mismatch).
  btfkit standalone MOD --base BASE -o OUT [--force]
      Write MOD's types and every base type they reach as self-contained BTF.
  btfkit split IN --base BASE -o OUT [--renumber]
      Turn self-contained BTF back into split BTF on BASE: types equal to base
      types become references to them. --renumber only shifts ids and string
      offsets after BASE's (how the kernel presents a standalone module).
  btfkit merge --base BASE MOD... -o OUT [--force] [--json]
      One split blob holding every module's types, renumbered after BASE
      without overlapping ids.
  btfkit find NAME [--kind KIND] [--base BASE] [MOD...]
      Where a type is defined: vmlinux and every module (default: the running
      kernel's /sys/kernel/btf), with each module's own id.
  btfkit convert IN -o OUT [--base BASE] [--endian little|big] [--layout|--no-layout]
      Re-encode IN (raw BTF or ELF .BTF) as raw BTF: byte order and the optional
      2026 layout section. Without options the output equals the input's BTF.
  btfkit help

Exit codes: 0 success, 1 bad input (one line on stderr), 2 wrong usage\n(check adds 3 and 4, see above).
`;

type Values = Record<string, string | boolean | undefined>;
type Multi = Record<string, string[] | undefined>;

function parse(args: string[], options: ParseArgsConfig['options']): { values: Values; positionals: string[]; multi: Multi } {
  try {
    const r = parseArgs({ args, options, allowPositionals: true, strict: true });
    return { values: r.values as Values, positionals: r.positionals, multi: r.values as Multi };
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

export function run(argv: string[]): number {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'dump': return dump(rest);
    case 'check': return check(rest);
    case 'standalone': return standalone(rest);
    case 'split': return split(rest);
    case 'merge': return merge(rest);
    case 'find': return find(rest);
    case 'convert': return convert(rest);
    case undefined: case 'help': case '--help': case '-h':
      process.stdout.write(HELP);
      return cmd === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command '${cmd}'`);
  }
}

function dump(args: string[]): number {
  const { values, positionals, multi } = parse(args, {
    base: { type: 'string' },
    format: { type: 'string', default: 'raw' },
    unsorted: { type: 'boolean', default: false },
    root: { type: 'string', multiple: true },
  });
  if (positionals.length > 1) throw new UsageError('dump takes one FILE');
  const format = values.format as string;
  if (format !== 'raw' && format !== 'json' && format !== 'c') throw new UsageError(`unknown format '${format}' (raw, json or c)`);
  if (values.unsorted && format !== 'c') throw new UsageError('--unsorted applies to --format c only');
  const file = positionals[0] ?? SYSFS_VMLINUX;
  const btf = loadBtfFile(file, { base: values.base as string | undefined });
  const roots = multi.root?.map((r) => resolveRoot(btf, r));
  const sink = stdoutSink();
  if (format === 'json') dumpJson(btf, sink, { ids: roots });
  else if (format === 'c') dumpC(btf, sink, { sorted: !values.unsorted, roots });
  else dumpRaw(btf, sink, { ids: roots });
  sink.flush();
  return 0;
}

/** A root given as an id or a type name; a name must be unique (else say which ids carry it). */
function resolveRoot(btf: Btf, root: string): number {
  if (/^\d+$/.test(root)) {
    const id = Number(root);
    if (!btf.has(id)) throw new BtfError('bad-type-id', `--root ${root}: no type with that id (ids run from 1 to ${btf.endId - 1})`);
    return id;
  }
  const m = /^(struct|union|enum|typedef)\s+(.+)$/.exec(root);
  const name = m ? m[2]! : root;
  let ids = btf.find(name);
  if (m) {
    const kinds: Record<string, number[]> = { struct: [4], union: [5], enum: [6, 19], typedef: [8] };
    ids = ids.filter((id) => kinds[m[1]!]!.includes(btf.kind(id)));
  }
  if (ids.length === 0) throw new BtfError('bad-input', `--root ${root}: no type of that name`);
  if (ids.length > 1) throw new BtfError('bad-input', `--root ${root}: ${ids.length} types have that name (ids ${ids.slice(0, 10).join(', ')}); give an id or 'struct NAME'`);
  return ids[0]!;
}

/** One file's outcome in `btfkit check`: the split verdict (when it has a base) and the verifier's findings. */
interface CheckReport {
  file: string;
  /** `matched`, `mismatched`, `standalone`, `not-split`, or `error` when the file could not be read. */
  verdict: SplitVerdict | 'error';
  /** True when the BTF breaks none of the kernel verifier's rules (checked on its base when matched). */
  valid: boolean | null;
  summary: string;
  errors: { code: string; typeId?: number; offset?: number; member?: number; message: string }[];
  split?: SplitCheck;
}

/** Exit codes of `btfkit check`, most severe first. */
const CHECK_EXIT = { ok: 0, invalid: 1, mismatched: 3, standalone: 4 } as const;

function check(args: string[]): number {
  const { values, positionals } = parse(args, {
    base: { type: 'string' },
    json: { type: 'boolean', default: false },
    object: { type: 'boolean', default: false },
    strict: { type: 'boolean', default: false },
    kernel: { type: 'boolean', default: false },
    'max-evidence': { type: 'string' },
  });
  if (positionals.length === 0) throw new UsageError('check needs at least one FILE');
  const maxEvidence = values['max-evidence'] === undefined ? 5 : Number(values['max-evidence']);
  if (!Number.isInteger(maxEvidence) || maxEvidence < 0) throw new UsageError('--max-evidence takes a number');
  const checkOpts = { object: values.object as boolean, strict: values.strict as boolean, allowUnknownKinds: !values.kernel };
  // The base is parsed once for all files, and only if some file needs it.
  const explicitBase = values.base as string | undefined;
  let base: Btf | undefined;
  const baseFor = (file: string): Btf | undefined => {
    const path = explicitBase ?? defaultBasePath(file) ?? (existsSync(SYSFS_VMLINUX) ? SYSFS_VMLINUX : undefined);
    if (path === undefined) return undefined;
    return (base ??= loadBtfFile(path));
  };
  const reports: CheckReport[] = [];
  for (const file of positionals) reports.push(checkOne(file, explicitBase !== undefined, baseFor, checkOpts, maxEvidence));
  if (values.json) {
    // One flat object per file: the split verdict's evidence beside the verifier's errors.
    const flat = reports.map(({ split, ...r }) => (split ? { ...r, evidence: split.evidence, evidenceCount: split.evidenceCount, signals: split.signals, stats: split.stats } : r));
    process.stdout.write(JSON.stringify(flat, null, 1) + '\n');
  } else {
    for (const r of reports) {
      if (r.split) process.stdout.write(formatCheck(r.split, maxEvidence) + '\n');
      else process.stdout.write(`${r.file}: ${r.verdict}: ${r.summary}\n`);
      for (const e of r.errors.slice(0, 20)) process.stdout.write(`  ${e.code}: ${e.message}\n`);
      if (r.errors.length > 20) process.stdout.write(`  … ${r.errors.length - 20} more\n`);
    }
  }
  if (reports.some((r) => r.verdict === 'error' || r.valid === false)) return CHECK_EXIT.invalid;
  if (reports.some((r) => r.verdict === 'mismatched')) return CHECK_EXIT.mismatched;
  if (reports.some((r) => r.verdict === 'standalone')) return CHECK_EXIT.standalone;
  return CHECK_EXIT.ok;
}

function checkOne(file: string, baseGiven: boolean, baseFor: (file: string) => Btf | undefined, checkOpts: CheckOptions, maxEvidence: number): CheckReport {
  const report: CheckReport = { file, verdict: 'not-split', valid: null, summary: '', errors: [] };
  const errorsOf = (errs: BtfError[]) => errs.map((e) => ({ code: e.code, typeId: e.typeId, offset: e.offset, member: e.member, message: e.message }));
  try {
    const bytes = readInput(file);
    // As libbpf decides: split BTF is BTF whose string section does not start with the empty string.
    const base = baseGiven || looksSplit(bytes) ? baseFor(file) : undefined;
    let btf: Btf;
    if (base) {
      const split = checkSplit(bytes, base, { file, maxEvidence });
      report.split = split;
      report.verdict = split.verdict;
      report.summary = split.summary;
      if (split.verdict === 'mismatched') return report; // its types read as garbage here: nothing more to verify
      btf = split.verdict === 'matched' ? loadModuleBtf(bytes, base, file) : loadBtf(bytes, { file });
    } else {
      if (looksSplit(bytes)) throw new BtfError('bad-base', 'this is split BTF and there is no base: give --base (no /sys/kernel/btf/vmlinux here)', { file });
      btf = loadBtf(bytes, { file });
      report.summary = 'self-contained BTF (no base given)';
    }
    const errors = checkBtf(btf, checkOpts);
    report.valid = errors.length === 0;
    report.errors = errorsOf(errors);
    if (!base) report.summary += errors.length ? `; ${errors.length} verifier violation(s)` : '; valid';
  } catch (e) {
    if (!(e instanceof BtfError)) throw e;
    report.verdict = 'error';
    report.valid = false;
    report.summary = e.message;
    report.errors = errorsOf([e]);
  }
  return report;
}

/** True for split BTF (raw or an ELF file's .BTF): its string section does not start with NUL. */
function looksSplit(bytes: Uint8Array): boolean {
  const btf = btfBytesOf(bytes);
  const { header } = parseHeader(btf);
  return header.strLen === 0 || btf[header.hdrLen + header.strOff] !== 0;
}

function standalone(args: string[]): number {
  const { values, positionals } = parse(args, {
    base: { type: 'string' },
    output: { type: 'string', short: 'o' },
    force: { type: 'boolean', default: false },
  });
  if (positionals.length !== 1) throw new UsageError('standalone takes one module file');
  if (!values.output) throw new UsageError('standalone needs -o OUT');
  const file = positionals[0]!;
  const basePath = (values.base as string | undefined) ?? defaultBasePath(file) ?? SYSFS_VMLINUX;
  const base = loadBtfFile(basePath);
  const bytes = readInput(file);
  refuseMismatch(bytes, base, file, values.force as boolean);
  const mod = loadModuleBtf(bytes, base, file);
  writeFileSync(values.output as string, makeStandalone(mod));
  return 0;
}

function split(args: string[]): number {
  const { values, positionals } = parse(args, {
    base: { type: 'string' },
    output: { type: 'string', short: 'o' },
    renumber: { type: 'boolean', default: false },
  });
  if (positionals.length !== 1) throw new UsageError('split takes one input file');
  if (!values.output) throw new UsageError('split needs -o OUT');
  if (!values.base) throw new UsageError('split needs --base BASE');
  const file = positionals[0]!;
  const base = loadBtfFile(values.base as string);
  const own = selfContained(readInput(file));
  if (!own) throw new BtfError('bad-input', 'input is split BTF already; split takes self-contained BTF (from btfkit standalone, or a standalone module)', { file });
  if (values.renumber) {
    writeFileSync(values.output as string, toSplitAppearance(own, base));
  } else {
    const r = splitOnBase(own, base);
    writeFileSync(values.output as string, r.bytes);
    process.stderr.write(`btfkit: ${r.kept} types kept in the split BTF, ${r.mappedToBase} mapped onto base types\n`);
  }
  return 0;
}

function merge(args: string[]): number {
  const { values, positionals } = parse(args, {
    base: { type: 'string' },
    output: { type: 'string', short: 'o' },
    force: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  });
  if (positionals.length === 0) throw new UsageError('merge needs at least one module');
  if (!values.output) throw new UsageError('merge needs -o OUT');
  const base = loadBtfFile((values.base as string | undefined) ?? SYSFS_VMLINUX);
  const modules = positionals.map((file) => {
    const bytes = readInput(file);
    refuseMismatch(bytes, base, file, values.force as boolean);
    return { name: moduleNameOf(file), btf: loadModuleBtf(bytes, base, file) };
  });
  const r = mergeModules(base, modules);
  writeFileSync(values.output as string, r.bytes);
  if (values.json) process.stdout.write(JSON.stringify(r.modules) + '\n');
  else for (const m of r.modules) process.stderr.write(`${m.name}: ids ${m.firstId}..${m.endId - 1} (were ${m.originalFirstId}..${m.originalFirstId + m.endId - m.firstId - 1})\n`);
  return 0;
}

/** Writing a module's types out only makes sense on the base it was built for. */
function refuseMismatch(bytes: Uint8Array, base: Btf, file: string, force: boolean): void {
  if (force) return;
  const r = checkSplit(bytes, base, { file, maxEvidence: 1 });
  if (r.verdict === 'mismatched') {
    throw new BtfError('bad-base', `does not match this base (${r.summary}); see 'btfkit check', or pass --force`, { file });
  }
}

function find(args: string[]): number {
  const { values, positionals } = parse(args, {
    base: { type: 'string' },
    kind: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  if (positionals.length === 0) throw new UsageError('find takes a NAME and optionally module files');
  const [name, ...files] = positionals as [string, ...string[]];
  const kind = values.kind === undefined ? undefined : kindFromName(values.kind as string);
  if (values.kind !== undefined && kind === undefined) throw new UsageError(`unknown kind '${values.kind}'`);
  let union: TypeUnion;
  if (files.length === 0 && values.base === undefined) {
    union = new KernelBtf().union();
  } else {
    const base = loadBtfFile((values.base as string | undefined) ?? SYSFS_VMLINUX);
    union = new TypeUnion(base, files.map((f) => [moduleNameOf(f), () => loadModuleBtf(readInput(f), base, f)] as [string, () => Btf]));
  }
  const hits = union.find(name, kind);
  if (values.json) {
    process.stdout.write(JSON.stringify(hits.map((h) => ({ module: h.module, id: h.id, kind: kindName(h.kind) }))) + '\n');
  } else {
    for (const h of hits) process.stdout.write(`${h.module}\t[${h.id}] ${kindName(h.kind)} '${name}'\n`);
  }
  return hits.length ? 0 : 1;
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
