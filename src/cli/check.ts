import { existsSync } from 'node:fs';
import { BtfError } from '../errors.js';
import type { Btf } from '../btf/btf.js';
import { checkBtf, type CheckOptions } from '../btf/check.js';
import { btfBytesOf, loadBtf } from '../btf/source.js';
import { parseHeader } from '../format/header.js';
import { defaultBasePath, loadBtfFile, readInput, SYSFS_VMLINUX } from '../node/files.js';
import { checkSplit, formatCheck, type SplitCheck, type SplitVerdict } from '../split/check.js';
import { loadModuleBtf } from '../split/load.js';
import { parseKernelVersion } from '../format/kernels.js';
import { parse, UsageError } from './args.js';
import { tuneForShortRun } from './tuning.js';

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

export function check(args: string[]): number {
  const { values, positionals } = parse(args, {
    base: { type: 'string' },
    json: { type: 'boolean', default: false },
    object: { type: 'boolean', default: false },
    strict: { type: 'boolean', default: false },
    kernel: { type: 'boolean', default: false },
    'kernel-version': { type: 'string' },
    'max-evidence': { type: 'string' },
  });
  if (positionals.length === 0) throw new UsageError('check needs at least one FILE');
  if (positionals.length === 1) tuneForShortRun();
  const maxEvidence = values['max-evidence'] === undefined ? 5 : Number(values['max-evidence']);
  if (!Number.isInteger(maxEvidence) || maxEvidence < 0) throw new UsageError('--max-evidence takes a number');
  const kernelVersion = values['kernel-version'] as string | undefined;
  if (kernelVersion !== undefined) {
    try {
      parseKernelVersion(kernelVersion);
    } catch (e) {
      throw new UsageError(`--kernel-version: ${(e as Error).message}`);
    }
  }
  const checkOpts = { object: values.object as boolean, strict: values.strict as boolean, kernel: values.kernel as boolean, kernelVersion };
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
export function looksSplit(bytes: Uint8Array): boolean {
  const btf = btfBytesOf(bytes);
  const { header } = parseHeader(btf);
  return header.strLen === 0 || btf[header.hdrLen + header.strOff] !== 0;
}
