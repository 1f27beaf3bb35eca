import { Btf } from '../btf/btf.js';
import { BtfError } from '../errors.js';
import { parseHeader } from '../format/header.js';
import { BTF_BASE_SECTION, btfSections, elfRole } from '../elf/elf.js';
import { moduleSections, type ModuleSections } from './load.js';
import { checkBtfIds } from './btf-ids.js';
import { EvidenceList } from './evidence.js';
import { visitRecord } from '../btf/slots.js';
import { describeType } from './refs.js';
import { matchDistilledBase } from './relocate.js';
import { Scanner } from './scan.js';
import { BTF_BASE_CHECKSUM_SECTION, baseChecksum, checksumHex, parseChecksumSection, sameChecksum, type BaseChecksum } from './stamp.js';

/**
 * What `checkSplit` concluded about a module's BTF on a base:
 * - `matched`: split BTF whose references into the base all make sense there;
 * - `mismatched`: split BTF that decodes to wrong types on this base (see the evidence);
 * - `standalone`: self-contained module BTF (ids from 1, its own string section from offset 0)
 *   that refers to nothing in the base; `toSplitAppearance` renumbers it onto a base;
 * - `not-split`: self-contained BTF that is not a module's: a kernel image, a BPF object, or the
 *   base itself.
 */
export type SplitVerdict = 'matched' | 'mismatched' | 'standalone' | 'not-split';

/**
 * The kinds of evidence the checker collects. Each is a rule that BTF read on the base it was
 * built against never breaks:
 * - `string-inside`: a name offset lands inside a string, not at its start;
 * - `string-range`: a name offset lies past every string section;
 * - `name`: a name is not what its place needs (an identifier for types, members, enumerators,
 *   parameters; printable text for INT/FLOAT names, section names and tags);
 * - `kind`: a referenced type has a kind the reference cannot use (a FUNC whose prototype is a
 *   STRUCT, a member of type FUNC, an array indexed by a STRUCT...);
 * - `size`: a referenced type's size contradicts the module's own layout (a member runs past
 *   the end of its struct, a bitfield wider than its type, a section variable larger than its slot);
 * - `layout`: member offsets that no compiler produces (going backwards, overlapping, not byte
 *   aligned, non-zero in a union);
 * - `type-range`: a type id past the last type;
 * - `string-layout`: the module's own strings are referenced as if the base's string section had
 *   a different length than this base's;
 * - `btf-ids`: an id that resolve_btfids wrote into `.BTF_ids` names a type of another name or kind;
 * - `distilled-base`: a type of the module's `.BTF.base` has no counterpart in the base;
 * - `checksum`: the base checksum stamped into the module (`.BTF.base_checksum`) is not this base's.
 */
export type EvidenceSignal =
  | 'string-inside' | 'string-range' | 'name' | 'kind' | 'size' | 'layout' | 'type-range'
  | 'string-layout' | 'btf-ids' | 'distilled-base' | 'checksum';

/** One broken reference: which module type points where, and what is wrong there. */
export interface Evidence {
  signal: EvidenceSignal;
  /** The module type holding the reference (0 for evidence about the whole blob). */
  typeId: number;
  /** That type as `[id] KIND 'name'`, read on the base being checked. */
  type: string;
  /** Member, enumerator, parameter or section entry index, when the reference sits in one. */
  member?: number;
  /** Its name as read on the base, when it has one. */
  memberName?: string;
  /** What the reference is: a type id or a name (string) offset. */
  ref?: 'type' | 'string';
  /** The referenced type id or string offset. */
  target?: number;
  /** True when the target lies in the base (an id below the module's first id, an offset below its first string offset). */
  inBase?: boolean;
  /** What the base (or module) has at the target. */
  found?: string;
  /** What is wrong, in words. */
  problem: string;
}

/** Counts that show how much the verdict rests on. */
export interface CheckStats {
  /** Types the module holds itself. */
  moduleTypes: number;
  /** References from module types to base type ids, and how many distinct base ids they name. */
  baseTypeRefs: number;
  distinctBaseTypes: number;
  /** Name offsets that point into the base's string section. */
  baseStringRefs: number;
  /** Name offsets that point into the module's own strings. */
  ownStringRefs: number;
  /** Base type count and string section length of the base checked against. */
  baseEndId: number;
  baseStringLength: number;
  /**
   * The base string section length the module's own strings were laid out for, when the
   * module references all of its strings (pahole and libbpf output always does). Undefined
   * when it cannot be inferred.
   */
  inferredBaseStringLength?: number;
  /** `.BTF_ids` entries compared, when the module is an ELF file that has them. */
  btfIdsChecked: number;
  /** Types of the module's `.BTF.base` (distilled base), when it has one. */
  distilledBaseTypes?: number;
}

/** The outcome of {@link checkSplit}. */
export interface SplitCheck {
  file?: string;
  verdict: SplitVerdict;
  /** One sentence saying why. */
  summary: string;
  /** The first {@link CheckOptions.maxEvidence} pieces of evidence, in module type order. */
  evidence: Evidence[];
  /** How many pieces of evidence were found in all (may exceed `evidence.length`). */
  evidenceCount: number;
  /** Evidence counts per signal. */
  signals: Partial<Record<EvidenceSignal, number>>;
  stats: CheckStats;
  /**
   * What the verdict rests on: `checksum` when the module carries a base checksum
   * (`.BTF.base_checksum`, from `btfkit stamp`), which is then the whole answer; `distilled-base`
   * for a module with a `.BTF.base`; `references` for the checks of every reference; `form`
   * for `standalone` and `not-split`.
   */
  reason: SplitReason;
}

/** See {@link SplitCheck.reason}. */
export type SplitReason = 'checksum' | 'distilled-base' | 'references' | 'form';

/** Options for {@link checkSplit}. */
export interface CheckOptions {
  /** File name to report. */
  file?: string;
  /** Most evidence items to keep (all are counted). Default 20. */
  maxEvidence?: number;
}

/**
 * Decides whether a module's split BTF reads correctly on `base`, and says why.
 *
 * `module` is a module file (`.ko`, already decompressed) or raw BTF, as bytes or as the sections
 * `moduleSections` (or `readModule` in `btfkit/node`) found in it. Nothing in split
 * BTF records which base it was built against, so the checker looks for the traces a wrong base
 * leaves: name offsets that land inside base strings rather than at their start, names that
 * cannot be names, referenced types of a kind the reference cannot use, base types whose sizes
 * contradict the module's own struct layouts, the module's string layout, `.BTF_ids` entries
 * naming other types, and, when the module carries a distilled base (`.BTF.base`), whether
 * every type of it exists in `base`. See {@link EvidenceSignal}.
 *
 * The work is proportional to the module, not the base: a few reads per reference.
 */
export function checkSplit(module: Uint8Array | ModuleSections, base: Btf, opts: CheckOptions = {}): SplitCheck {
  try {
    return checkSplitUnnamed(module instanceof Uint8Array ? moduleSections(module) : module, base, opts);
  } catch (e) {
    if (e instanceof BtfError && opts.file !== undefined && e.file === undefined) throw e.inFile(opts.file);
    throw e;
  }
}

function checkSplitUnnamed(module: ModuleSections, base: Btf, opts: CheckOptions): SplitCheck {
  const maxEvidence = opts.maxEvidence ?? 20;
  const { btf: btfBytes, distilledBase: distilled, elf } = module;
  const role = elf ? elfRole(elf) : undefined;
  const stats: CheckStats = {
    moduleTypes: 0, baseTypeRefs: 0, distinctBaseTypes: 0, baseStringRefs: 0, ownStringRefs: 0,
    baseEndId: base.endId, baseStringLength: base.endStringOffset, btfIdsChecked: 0,
  };
  const result = (verdict: SplitVerdict, summary: string, ev: EvidenceList = new EvidenceList(maxEvidence), reason?: SplitReason): SplitCheck => ({
    ...(opts.file !== undefined ? { file: opts.file } : {}),
    verdict, summary, evidence: ev.items, evidenceCount: ev.count, signals: ev.bySignal, stats,
    reason: reason ?? (verdict === 'standalone' || verdict === 'not-split' ? 'form' : distilled ? 'distilled-base' : 'references'),
  });

  const self = selfContained(btfBytes);
  if (self && !distilled) {
    stats.moduleTypes = self.ownTypeCount;
    if (role === 'vmlinux' || role === 'bpf-object') {
      return result('not-split', `this is ${role === 'vmlinux' ? 'a kernel image' : 'a BPF object'} with complete BTF of its own (${self.ownTypeCount} types), not a module's split BTF`);
    }
    if (sameBytes(btfBytes, base.bytes)) return result('not-split', 'this is the base BTF itself, not split BTF');
    return result('standalone', `self-contained BTF (${self.ownTypeCount} types, ids from 1, own string section from offset 0) that refers to nothing in the base`);
  }

  if (distilled) return checkDistilled(btfBytes, distilled, base, stats, maxEvidence, result);
  const stamp = elf ? btfSections(elf).get(BTF_BASE_CHECKSUM_SECTION) : undefined;
  if (stamp) return checkChecksum(stamp, base, maxEvidence, result);

  const ev = new EvidenceList(maxEvidence);
  // A blob that does not parse is broken whatever the base: that is an error, not a verdict.
  const mod = Btf.parse(btfBytes, { base });
  stats.moduleTypes = mod.ownTypeCount;
  const scan = new Scanner(mod, ev, stats, elf ? (elf.is64 ? 8 : 4) : undefined);
  scan.run();
  if (elf) checkBtfIds(elf, mod, ev, stats);
  if (ev.count === 0) {
    return result('matched', `all ${stats.baseTypeRefs} references to ${stats.distinctBaseTypes} base types and ${stats.baseStringRefs} base strings fit`, ev);
  }
  const parts = Object.entries(ev.bySignal).map(([s, n]) => `${n} ${s}`);
  return result('mismatched', `${ev.count} broken references (${parts.join(', ')})`, ev);
}

/**
 * A check as text: `FILE: VERDICT: summary`, then up to `maxEvidence` pieces of evidence, one a
 * line, each as `[id] KIND 'name' member N 'm': problem`.
 */
export function formatCheck(r: SplitCheck, maxEvidence = 5): string {
  const lines = [`${r.file ?? '(module)'}: ${r.verdict}${r.reason === 'checksum' ? ' (checksum)' : ''}: ${r.summary}`];
  for (const e of r.evidence.slice(0, maxEvidence)) lines.push(`  ${formatEvidence(e)}`);
  const more = r.evidenceCount - Math.min(maxEvidence, r.evidence.length);
  if (more > 0) lines.push(`  ... and ${more} more`);
  return lines.join('\n');
}

/** One piece of evidence as text: `[id] KIND 'name' element N 'm': problem (found ...)`. */
export function formatEvidence(e: Evidence): string {
  const where = e.member === undefined ? '' : ` ${e.type.includes('DATASEC') ? 'entry' : 'element'} ${e.member}${e.memberName ? ` '${e.memberName}'` : ''}`;
  return `${e.type}${where}: ${e.problem}${e.found && !e.problem.includes(e.found) ? ` (found ${e.found})` : ''}`;
}
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The blob parsed on its own when it is self-contained BTF: its string section starts with the
 * empty string (split BTF from pahole or libbpf never does), every type id it uses is one of its
 * own, and every name offset lands at the start of one of its own strings. Undefined otherwise.
 */
export function selfContained(bytes: Uint8Array): Btf | undefined {
  let btf: Btf;
  try {
    const { header } = parseHeader(bytes);
    if (header.strLen === 0 || bytes[header.hdrLen + header.strOff] !== 0) return undefined;
    btf = Btf.parse(bytes);
  } catch {
    return undefined;
  }
  const strStart = btf.stringStart;
  let ok = true;
  for (let id = 1; id < btf.endId && ok; id++) {
    visitRecord(btf, id, {
      type: (_slot, v) => { if (v >= btf.endId) ok = false; },
      name: (_slot, off) => { if (off !== 0 && (off >= btf.endStringOffset || btf.bytes[strStart + off - 1] !== 0)) ok = false; },
    });
  }
  return ok ? btf : undefined;
}
// ---- distilled base ---------------------------------------------------------------------------

function checkDistilled(
  btfBytes: Uint8Array, distilledBytes: Uint8Array, base: Btf, stats: CheckStats, maxEvidence: number,
  result: (verdict: SplitVerdict, summary: string, ev?: EvidenceList, reason?: SplitReason) => SplitCheck,
): SplitCheck {
  const ev = new EvidenceList(maxEvidence);
  const distilled = Btf.parse(distilledBytes, { file: BTF_BASE_SECTION });
  const mod = Btf.parse(btfBytes, { base: distilled });
  stats.moduleTypes = mod.ownTypeCount;
  stats.distilledBaseTypes = distilled.ownTypeCount;
  const match = matchDistilledBase(mod, base);
  for (const miss of match.missing) {
    ev.add({ signal: 'distilled-base', typeId: 0, type: describeType(distilled, miss.id), ref: 'type', target: miss.id, inBase: true, problem: miss.reason });
  }
  if (ev.count === 0) {
    return result('matched', `every one of the ${distilled.ownTypeCount} types of the module's distilled base (.BTF.base) has its counterpart in this base`, ev);
  }
  return result('mismatched', `${ev.count} of the ${distilled.ownTypeCount} types of the module's distilled base (.BTF.base) have no counterpart in this base`, ev);
}

// ---- base checksum ----------------------------------------------------------------------------

function checkChecksum(
  section: Uint8Array, base: Btf, maxEvidence: number,
  result: (verdict: SplitVerdict, summary: string, ev?: EvidenceList, reason?: SplitReason) => SplitCheck,
): SplitCheck {
  const stamped = parseChecksumSection(section);
  const actual = baseChecksum(base);
  const ev = new EvidenceList(maxEvidence);
  if (sameChecksum(stamped, actual)) {
    return result('matched', `the base checksum stamped into the module (${BTF_BASE_CHECKSUM_SECTION}, SHA-256 of the base's types and strings) is this base's`, ev, 'checksum');
  }
  const size = (s: BaseChecksum) => `${s.typeBytes} bytes of types and ${s.stringBytes} of strings, SHA-256 ${checksumHex(s).slice(0, 16)}…`;
  ev.add({ signal: 'checksum', typeId: 0, type: `(${BTF_BASE_CHECKSUM_SECTION})`, problem: `the module was built on a base with ${size(stamped)}; this base has ${size(actual)}` });
  return result('mismatched', `the base checksum stamped into the module (${BTF_BASE_CHECKSUM_SECTION}) is not this base's`, ev, 'checksum');
}
