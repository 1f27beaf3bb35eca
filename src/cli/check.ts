import { existsSync } from 'node:fs';
import { BtfError } from '../errors.js';
import type { Btf } from '../btf/btf.js';
import { checkBtf, type CheckOptions } from '../btf/check.js';
import { loadBtf } from '../btf/source.js';
import { loadBtfFile, readInput, SYSFS_VMLINUX } from '../node/files.js';
import { checkSplit, formatCheck, type SplitCheck, type SplitVerdict } from '../split/check.js';
import { loadModuleBtf } from '../split/load.js';
import { countFlag, parse, UsageError, kernelVersionFlag } from './args.js';
import { baseNeeded, looksSplit } from './inputs.js';
import { print, printing } from './output.js';
import { tuneForShortRun } from './tuning.js';
import { rebaseHint, type RebaseHint } from '../split/rebase.js';

/** One file's outcome in `btfkit check`: the split verdict (when it has a base) and the verifier's findings. */
interface CheckReport {
  file: string;
  /** `matched`, `mismatched`, `standalone`, `not-split`, or `error` when the file could not be read. */
  verdict: SplitVerdict | 'error';
  /** True when the BTF breaks none of the kernel verifier's rules (checked on its base when matched). */
  valid: boolean | null;
  /** One sentence; for `error`, what is wrong and where (without the file name, which `file` holds). */
  summary: string;
  errors: { code: string; typeId?: number; offset?: number; member?: number; message: string }[];
  split?: SplitCheck;
  /** With --from OLD, for a module mismatched on BASE: whether `btfkit rebase` from OLD onto BASE would succeed. */
  rebase?: RebaseHint;
}

/** Exit codes of `btfkit check`, most severe first. */
const CHECK_EXIT = { ok: 0, invalid: 1, mismatched: 3, standalone: 4 } as const;

/** Verifier violations listed per file in the text output; `--json` has them all. */
const MAX_LISTED_ERRORS = 20;

export function check(args: string[]): number {
  const { values, positionals } = parse(args, {
    base: { type: 'string' },
    json: { type: 'boolean', default: false },
    object: { type: 'boolean', default: false },
    strict: { type: 'boolean', default: false },
    kernel: { type: 'boolean', default: false },
    'kernel-version': { type: 'string' },
    'max-evidence': { type: 'string' },
    from: { type: 'string' },
  });
  if (positionals.length === 0) throw new UsageError('check needs at least one FILE');
  const maxEvidence = countFlag('max-evidence', values['max-evidence'] as string | undefined, 5);
  if (positionals.length === 1) tuneForShortRun();
  const kernelVersion = kernelVersionFlag('kernel-version', values['kernel-version'] as string | undefined);
  const checkOpts = { object: values.object as boolean, strict: values.strict as boolean, kernel: values.kernel as boolean, kernelVersion };
  // The base is read once for all files: a --base that cannot be read is one error, before any
  // file is checked. The running kernel's is read only if some file is split BTF.
  const explicitBase = values.base as string | undefined;
  let base: Btf | undefined = explicitBase === undefined ? undefined : loadBtfFile(explicitBase);
  const kernelBase = (): Btf | undefined => {
    if (base === undefined && existsSync(SYSFS_VMLINUX)) base = loadBtfFile(SYSFS_VMLINUX);
    return base;
  };
  const from = values.from as string | undefined;
  const oldBase = from === undefined ? undefined : loadBtfFile(from);
  const reports = positionals.map((file) => checkOne(file, explicitBase !== undefined, kernelBase, checkOpts, maxEvidence, oldBase));
  return printing(exitCode(reports), () => {
    if (values.json) {
      // One flat object per file: the split verdict's evidence beside the verifier's errors.
      const flat = reports.map(({ split, ...r }) => (split ? { ...r, reason: split.reason, evidence: split.evidence, evidenceCount: split.evidenceCount, signals: split.signals, stats: split.stats } : r));
      print(JSON.stringify(flat, null, 1) + '\n');
      return;
    }
    for (const r of reports) {
      if (r.verdict === 'error') {
        print(`${r.file}: error: ${r.summary}\n`);
        continue;
      }
      print((r.split ? formatCheck(r.split, maxEvidence) : `${r.file}: ${r.verdict}: ${r.summary}`) + '\n');
      for (const e of r.errors.slice(0, MAX_LISTED_ERRORS)) print(`  ${e.code}: ${e.message}\n`);
      if (r.errors.length > MAX_LISTED_ERRORS) print(`  … ${r.errors.length - MAX_LISTED_ERRORS} more\n`);
    }
  });
}

function exitCode(reports: readonly CheckReport[]): number {
  if (reports.some((r) => r.verdict === 'error' || r.valid === false)) return CHECK_EXIT.invalid;
  if (reports.some((r) => r.verdict === 'mismatched')) return CHECK_EXIT.mismatched;
  if (reports.some((r) => r.verdict === 'standalone')) return CHECK_EXIT.standalone;
  return CHECK_EXIT.ok;
}

function checkOne(file: string, baseGiven: boolean, kernelBase: () => Btf | undefined, checkOpts: CheckOptions, maxEvidence: number, oldBase?: Btf): CheckReport {
  const report: CheckReport = { file, verdict: 'not-split', valid: null, summary: '', errors: [] };
  // Every message is about this file (the base was read before): the report names it once.
  const errorsOf = (errs: BtfError[]) => errs.map((e) => ({ code: e.code, typeId: e.typeId, offset: e.offset, member: e.member, message: e.messageIn(file) }));
  try {
    const bytes = readInput(file);
    const split = looksSplit(bytes, file);
    const base = baseGiven || split ? kernelBase() : undefined;
    let btf: Btf;
    if (base) {
      const verdict = checkSplit(bytes, base, { file, maxEvidence });
      report.split = verdict;
      report.verdict = verdict.verdict;
      report.summary = verdict.summary;
      if (verdict.verdict === 'mismatched') {
        if (oldBase) {
          report.rebase = rebaseHint(bytes, oldBase, base, file);
          report.summary += `; ${report.rebase.summary}`;
          verdict.summary = report.summary;
        }
        return report; // its types read as garbage here: nothing more to verify
      }
      btf = verdict.verdict === 'matched' ? loadModuleBtf(bytes, base, file) : loadBtf(bytes, { file });
    } else {
      if (split) throw baseNeeded(file);
      btf = loadBtf(bytes, { file });
      report.summary = 'self-contained BTF (no base given)';
    }
    const errors = checkBtf(btf, checkOpts);
    report.valid = errors.length === 0;
    report.errors = errorsOf(errors);
    if (!base) report.summary += errors.length ? `; ${errors.length} verifier violation(s)` : '; valid';
  } catch (e) {
    if (!(e instanceof BtfError)) throw e;
    const err = e.file === undefined ? e.inFile(file) : e;
    report.verdict = 'error';
    report.valid = false;
    report.summary = err.messageIn(file);
    report.errors = errorsOf([err]);
  }
  return report;
}
