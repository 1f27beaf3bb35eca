import { BtfError } from '../errors.js';
import { Kind, kindName } from './kinds.js';
import { Rec, infoKindFlag, infoVlen, intBitOffset, intBits } from './records.js';

/**
 * What each Linux release's `BPF_BTF_LOAD` accepts, where that differs from the 2026 format
 * btfkit reads. One table, used by `checkBtf({ kernel, kernelVersion })`, by
 * `encode({ forKernel })` and by `sanitizeBtf({ forKernel })`, so that what the sanitizer
 * writes for a release is what the checker accepts for it.
 *
 * Every entry names the kernel commit and how the release was established; docs/KERNELS.md
 * says the same at more length. "Since X.Y" means the mainline release X.Y.0: stable updates of
 * older series sometimes took the change too (noted where known).
 */

/** The newest release whose rules btfkit knows; checked against a running 6.18's BPF_BTF_LOAD. */
export const NEWEST_KNOWN_KERNEL = '6.18';
/** BPF_BTF_LOAD arrived in 4.18 (commit 69b693f0aefa). */
export const FIRST_BTF_KERNEL = '4.18';

/**
 * The largest vlen any kernel up to 6.18 reads. Every release masks `info` with BTF_INFO_MASK
 * (0x0f00ffff before 5.0, 0x8f00ffff in 5.10, 0x9f00ffff in 6.1), so bits 16-23 of vlen, which
 * the 2026 format uses, make the kernel answer "Invalid btf_info" (Linux 6.18, EINVAL).
 */
export const KERNEL_MAX_VLEN = 0xffff;
/**
 * BTF_MAX_SIZE: the largest blob BPF_BTF_LOAD takes (16 MiB in the pre-5.0, 5.10 and 6.1
 * sources; Linux 6.18 loads 16,777,216 bytes and answers E2BIG to one byte more).
 */
export const KERNEL_MAX_BTF_BYTES = 16 * 1024 * 1024;

/** Release each kind arrived in, by kind number. */
const KIND_SINCE: readonly string[] = [
  /* UNKNOWN */ '',
  // INT .. RESTRICT: 69b693f0aefa "bpf: btf: Introduce BPF Type Format (BTF)", 4.18.
  '4.18', '4.18', '4.18', '4.18', '4.18', '4.18', '4.18', '4.18', '4.18', '4.18', '4.18',
  // FUNC, FUNC_PROTO: 2667a2626f4d, 5.0 (cilium/ebpf probes "Program BTF" as 5.0).
  '5.0', '5.0',
  // VAR, DATASEC: 1dc92851849c "bpf: kernel side support for BTF Var and DataSec", 5.2.
  '5.2', '5.2',
  // FLOAT: b1828f0b0482, posted for bpf-next in February 2021 after 5.12's merge window
  // opened; absent from the 5.10 source, present in 5.13 builds.
  '5.13',
  // DECL_TAG (on STRUCT, UNION, FUNC, VAR and TYPEDEF): b5ea834dde6b and 223f903e9c83, 5.16.
  '5.16',
  // TYPE_TAG: 8c42d2fa4eea, 5.17.
  '5.17',
  // ENUM64: 6089fb325cf7 "bpf: Add btf enum64 support", 6.0.
  '6.0',
];

/** Rules that arrived after 4.18, with the release each arrived in. */
export const KERNEL_FEATURES = {
  /**
   * kind_flag on STRUCT and UNION (bitfield sizes in member offsets) and FWD (a union):
   * 9d5f9f701b18, December 2018, 5.0. The pre-5.0 source masks `info` with 0x0f00ffff, so bit
   * 31 is refused for every kind; 5.10's mask is 0x8f00ffff.
   */
  aggregateKindFlag: '5.0',
  /**
   * Integers wider than 64 bits: b1e8818cabf4 "bpf: btf: support 128 bit integer type",
   * January 2019, after 5.0's merge window (the pre-5.0 source refuses bits + offset > 64;
   * DepSurf's symbol tables have btf_int128_print absent in 5.0, present in 5.3).
   */
  wideIntegers: '5.1',
  /**
   * Enums of 1, 2 and 8 bytes ("bpf: fix BTF verification of enums", for the bpf tree on
   * 17 September 2019, two days into 5.4's merge window). Before, enums are 4 bytes.
   */
  enumSizes: '5.4',
  /** Global FUNCs (linkage 1): 51c39bb1d5d1 "bpf: Introduce function-by-function verification", 5.6. */
  globalFuncs: '5.6',
  /** Signed enums (kind_flag on ENUM), with ENUM64 in 6089fb325cf7, 6.0. */
  signedEnums: '6.0',
  /**
   * Names of up to 512 bytes: KSYM_NAME_LEN went from 128 to 512 in b8a94bfb3395 ("kallsyms:
   * increase maximum kernel symbol length to 512", with Rust in 6.1; the 6.1 source has 512).
   */
  longNames: '6.1',
  /**
   * '.' in every identifier (it was allowed in VAR and DATASEC names since 5.2):
   * 9724160b3942 "bpf/btf: Accept function names that contain dots", 6.4; also in the stable
   * updates of June 2023 (5.10.186, 6.1 and 6.3).
   */
  dottedNames: '6.4',
  /**
   * DATASEC names of any printable characters: bd70a8fb7ca4, in bpf-next's pull of 11 March
   * 2024 for 6.9. Before, section names are identifiers that may contain dots.
   */
  printableSectionNames: '6.9',
  /**
   * kind_flag on DECL_TAG and TYPE_TAG (the tag is a whole attribute): 53ee0d66d7a6, in
   * "Main BPF changes for 6.15".
   */
  tagKindFlag: '6.15',
} as const;

export type KernelFeature = keyof typeof KERNEL_FEATURES;

function versionNumber(major: number, minor: number): number {
  return major * 1000 + minor;
}

function numberOf(version: string): number {
  const [major, minor] = version.split('.').map(Number);
  return versionNumber(major!, minor!);
}

/**
 * Parses a kernel release: `6.1`, or anything `uname -r` prints (`6.1.0-56-cloud-amd64`; only
 * major and minor count). Throws a `bad-input` {@link BtfError} for anything else and for
 * releases before 4.18, which have no BPF_BTF_LOAD.
 */
export function parseKernelVersion(text: string): { major: number; minor: number } {
  const m = /^(\d{1,3})\.(\d{1,3})(?:[.\-+~_].*)?$/.exec(String(text).trim());
  if (!m) throw new BtfError('bad-argument', `kernel version '${String(text)}' is not a release like 6.1 or 6.1.0-56-amd64`);
  const major = Number(m[1]);
  const minor = Number(m[2]);
  if (versionNumber(major, minor) < numberOf(FIRST_BTF_KERNEL)) {
    throw new BtfError('bad-argument', `kernel ${major}.${minor} predates BTF: BPF_BTF_LOAD arrived in ${FIRST_BTF_KERNEL}`);
  }
  return { major, minor };
}

/**
 * The rules of one release, or of every release btfkit knows. Build one with
 * {@link kernelRules}.
 */
export interface KernelRules {
  /** The release judged by, as `major.minor`; {@link NEWEST_KNOWN_KERNEL} for "every kernel". */
  readonly version: string;
  /** How messages name the target: "Linux 6.1", or "kernels up to 6.18". */
  readonly name: string;
  /** "accepts" or "accept", to agree with {@link name}. */
  readonly accepts: string;
  /** Whether the release knows `kind` (0 and kinds above ENUM64: never). */
  knowsKind(kind: number): boolean;
  /** Whether the release has `feature`. */
  has(feature: KernelFeature): boolean;
  /** KSYM_NAME_LEN: the longest name the release accepts, in bytes. */
  readonly nameMax: number;
  /** The rules are the newest btfkit knows: only the limits every kernel shares apply. */
  readonly newest: boolean;
}

/**
 * The rules of `version` (`'6.1'`, or a `uname -r` string), or with `true` or no argument those
 * every kernel up to {@link NEWEST_KNOWN_KERNEL} shares. A release newer than that is judged by
 * the newest rules btfkit knows.
 */
export function kernelRules(version?: string | true): KernelRules {
  const exact = version !== undefined && version !== true;
  let v = numberOf(NEWEST_KNOWN_KERNEL);
  let label = NEWEST_KNOWN_KERNEL;
  if (exact) {
    const { major, minor } = parseKernelVersion(version);
    v = Math.min(versionNumber(major, minor), v);
    label = `${major}.${minor}`;
  }
  // Past the newest release known, only the limits every known release shares are certain.
  const newest = v === numberOf(NEWEST_KNOWN_KERNEL);
  // Decided once: the checker asks for every record.
  const kinds = KIND_SINCE.map((since) => since !== '' && numberOf(since) <= v);
  const features = new Map(Object.entries(KERNEL_FEATURES).map(([f, since]) => [f, numberOf(since) <= v]));
  const name = exact && !newest ? `Linux ${label}` : `kernels up to ${NEWEST_KNOWN_KERNEL}`;
  return {
    version: newest ? NEWEST_KNOWN_KERNEL : label,
    name,
    accepts: name.startsWith('Linux') ? 'accepts' : 'accept',
    knowsKind: (kind) => kinds[kind] === true,
    has: (feature) => features.get(feature) === true,
    nameMax: v >= numberOf(KERNEL_FEATURES.longNames) ? 512 : 128,
    newest,
  };
}

/** The release `kind` arrived in ('' for kind 0 and kinds btfkit does not know). */
export function kindSince(kind: number): string {
  return KIND_SINCE[kind] ?? '';
}

/** What a {@link RecordProblem} is about: the byte offset in the record of `info`, size/type or the INT data word. */
export interface RecordProblem {
  field: Rec.INFO_OFF | Rec.SIZE_OR_TYPE_OFF | Rec.INT_DATA_OFF;
  detail: string;
}

const VLEN_ELEMENTS: Partial<Record<number, string>> = {
  [Kind.Struct]: 'members', [Kind.Union]: 'members', [Kind.Enum]: 'values', [Kind.Enum64]: 'values',
  [Kind.FuncProto]: 'parameters', [Kind.Datasec]: 'variables',
};

/**
 * The first thing in a record's fixed part (kind, kind_flag, vlen, and the size or INT data
 * that depend on the release) that `rules` refuses; undefined when there is none. Kind 0 and
 * kinds above ENUM64 are the caller's business. `what` names the type in the message
 * ("STRUCT 'foo'"), and is called only when there is a problem.
 */
export function recordProblem(rules: KernelRules, kind: number, info: number, sizeOrType: number, intData: number, what: () => string): RecordProblem | undefined {
  const vlen = infoVlen(info);
  const kindFlag = infoKindFlag(info);
  const refuses = (thing: string, arrived: string) => `${what()} ${thing}, which ${rules.name} refuses (${arrived})`;
  if (!rules.knowsKind(kind)) {
    return { field: Rec.INFO_OFF, detail: `${what()} is of a kind ${rules.name} does not know (${kindName(kind)} arrived in ${kindSince(kind)})` };
  }
  if (vlen > KERNEL_MAX_VLEN) {
    const elements = VLEN_ELEMENTS[kind] ?? 'elements (vlen)';
    return { field: Rec.INFO_OFF, detail: `${what()} has ${vlen} ${elements}; ${rules.name} ${rules.accepts} at most ${KERNEL_MAX_VLEN} (vlen is 16 bits there; the 24-bit vlen of the 2026 format is newer)` };
  }
  if (kindFlag) {
    switch (kind) {
      case Kind.Struct: case Kind.Union:
        if (!rules.has('aggregateKindFlag')) return { field: Rec.INFO_OFF, detail: refuses('has kind_flag set (bitfield sizes in member offsets)', `kind_flag on STRUCT, UNION and FWD arrived in ${KERNEL_FEATURES.aggregateKindFlag}`) };
        break;
      case Kind.Fwd:
        if (!rules.has('aggregateKindFlag')) return { field: Rec.INFO_OFF, detail: refuses('has kind_flag set (a forward declaration of a union)', `kind_flag on STRUCT, UNION and FWD arrived in ${KERNEL_FEATURES.aggregateKindFlag}`) };
        break;
      case Kind.Enum:
        if (!rules.has('signedEnums')) return { field: Rec.INFO_OFF, detail: refuses('has kind_flag set (signed values)', `signed enums arrived with ENUM64 in ${KERNEL_FEATURES.signedEnums}`) };
        break;
      case Kind.DeclTag: case Kind.TypeTag:
        if (!rules.has('tagKindFlag')) return { field: Rec.INFO_OFF, detail: refuses('has kind_flag set (the tag is a whole attribute)', `kind_flag on DECL_TAG and TYPE_TAG arrived in ${KERNEL_FEATURES.tagKindFlag}`) };
        break;
    }
  }
  switch (kind) {
    case Kind.Func:
      if (vlen === 1 && !rules.has('globalFuncs')) return { field: Rec.INFO_OFF, detail: refuses('has global linkage (1)', `global FUNCs arrived in ${KERNEL_FEATURES.globalFuncs}; before, every FUNC is static`) };
      break;
    case Kind.Int: {
      const bits = intBits(intData) + intBitOffset(intData);
      if (bits > 64 && !rules.has('wideIntegers')) return { field: Rec.INT_DATA_OFF, detail: refuses(`has ${bits} bits`, `integers wider than 64 bits arrived in ${KERNEL_FEATURES.wideIntegers}`) };
      break;
    }
    case Kind.Enum:
      if (sizeOrType !== 4 && !rules.has('enumSizes')) return { field: Rec.SIZE_OR_TYPE_OFF, detail: refuses(`is ${sizeOrType} bytes`, `enums of 1, 2 and 8 bytes arrived in ${KERNEL_FEATURES.enumSizes}; before, enums are 4 bytes`) };
      break;
  }
  return undefined;
}

/** How a name is judged: as an identifier, a VAR name, or a DATASEC name. */
export type NameRule = 'identifier' | 'var' | 'section';

/** Whether byte `c` may stand in an identifier the kernel accepts (`first`: as its first byte). */
export function isIdentChar(c: number, first: boolean): boolean {
  // ASCII letters, digits and '_'; Latin-1 letters too (lib/ctype.c), but not × (0xd7) or ÷ (0xf7).
  if (c === 0x5f) return true;
  if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) return true;
  if (c >= 0xc0 && c !== 0xd7 && c !== 0xf7) return true;
  return !first && c >= 0x30 && c <= 0x39;
}

/**
 * What `rules` refuses in a name that the newest rules accept: its length, a dot, or (in a
 * DATASEC name before 6.9) a character outside identifiers. `bytes[pos..]` is the NUL-terminated
 * name; `label` introduces it in the message ("TYPEDEF name", "member 3 name").
 */
export function nameProblem(rules: KernelRules, bytes: Uint8Array, pos: number, rule: NameRule, label: string, text: () => string): string | undefined {
  let len = 0;
  while (pos + len < bytes.length && bytes[pos + len] !== 0) len++;
  if (len > rules.nameMax) {
    return `${label} '${text()}' is ${len} bytes, which ${rules.name} refuses (names of up to 512 bytes arrived in ${KERNEL_FEATURES.longNames}; before, at most ${rules.nameMax})`;
  }
  if (rule === 'section' && rules.has('printableSectionNames')) return undefined;
  const dotsOk = rule !== 'identifier' || rules.has('dottedNames');
  // Identifiers and VAR names already passed the newest rules, which differ only in dots.
  if (rule !== 'section') {
    if (dotsOk) return undefined;
    let i = 0;
    while (i < len && bytes[pos + i] !== 0x2e) i++;
    if (i === len) return undefined;
  }
  for (let i = 0; i < len; i++) {
    const c = bytes[pos + i]!;
    if (c === 0x2e) {
      if (dotsOk) continue;
      return `${label} '${text()}' has a '.', which ${rules.name} refuses outside VAR and DATASEC names (dots in every name arrived in ${KERNEL_FEATURES.dottedNames}; the 5.10, 6.1 and 6.3 stable updates of June 2023 accept them too)`;
    }
    if (!isIdentChar(c, i === 0)) {
      return `${label} '${text()}' has characters outside [A-Za-z0-9_.] or starts with a digit, which ${rules.name} refuses in section names (any printable name arrived in ${KERNEL_FEATURES.printableSectionNames})`;
    }
  }
  return undefined;
}

/** A `unsupported` error for what `rules` refuses. */
export function unsupported(detail: string, typeId?: number, offset?: number, member?: number): BtfError {
  return new BtfError('unsupported', detail, { typeId, offset, member });
}
