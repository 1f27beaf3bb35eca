import type { Btf } from './btf.js';
import { BtfError, type BtfErrorCode } from '../errors.js';
import { Kind, KNOWN_LAYOUTS, MAX_KNOWN_KIND, MAX_NAME_OFFSET, MAX_TYPE_ID, describeKind, kindName } from '../format/kinds.js';
import { KERNEL_MAX_BTF_BYTES, KERNEL_MAX_VLEN, kernelRules, nameProblem, recordProblem, type KernelRules, type NameRule } from '../format/kernels.js';
import { Rec } from '../format/records.js';
import { pointerSize } from './query.js';

/** Options for {@link checkBtf}. */
export interface CheckOptions {
  /** Stop after this many problems (default 100). */
  maxErrors?: number;
  /**
   * Accept kinds above ENUM64 that the layout section sizes (default true, false with
   * {@link kernel} or {@link kernelVersion}). The kernel rejects every kind it does not know.
   */
  allowUnknownKinds?: boolean;
  /**
   * Ask "would BPF_BTF_LOAD take it?" of every kernel btfkit knows (up to 6.18): besides the
   * verifier's rules, refuse what the 2026 format allows but no such kernel reads, with code
   * `unsupported`: a header longer than 24 bytes with anything but zeros past byte 24 (the
   * layout section), vlen above 65535, blobs over 16 MiB; and, as `allowUnknownKinds: false`,
   * kinds above ENUM64.
   */
  kernel?: boolean;
  /**
   * As {@link kernel}, for one release: `'5.10'`, or what `uname -r` prints. Also refuses, with
   * code `unsupported`, what arrived after that release: kinds (FLOAT before 5.13, ENUM64 before
   * 6.0...), kind_flag uses, global FUNCs, 128-bit integers, enum sizes other than 4, and names
   * too long or with characters that release refuses. Each refusal names the release the
   * feature arrived in. docs/KERNELS.md lists the rules and where each comes from. Releases after
   * 6.18 are judged by 6.18's rules; a malformed version or one before 4.18 throws `bad-input`.
   */
  kernelVersion?: string;
  /**
   * The blob is a BPF object's `.BTF` as the compiler wrote it, before libbpf's load-time
   * fix-ups. Allows what libbpf rewrites before it hands BTF to the kernel: DATASECs of size 0
   * whose variables all sit at offset 0, extern (linkage 2) FUNCs and VARs, FUNCs listed in a
   * DATASEC (`.ksyms`), and unnamed parameters of FUNCs.
   */
  object?: boolean;
  /**
   * Also apply producer sanity rules the kernel itself does not enforce: INT sizes other than
   * 1, 2, 4, 8 and 16 bytes, and anonymous INTs and FLOATs.
   */
  strict?: boolean;
}

/**
 * Checks a parsed blob against the rules the Linux kernel applies when it loads BTF
 * (`kernel/bpf/btf.c`: header and section layout, per-kind record checks, then the pass that
 * resolves every reference), and returns every violation found, up to `maxErrors`.
 *
 * Split BTF is checked on its own types; its base is trusted (check the base separately).
 * Problems are reported in the order found: header and sections, then each type's own record
 * in id order, then references between types, then type-tag placement. Each {@link BtfError}
 * names the type, the element (member, value, parameter or variable index) and the absolute
 * byte offset in `btf.bytes` of the field at fault.
 *
 * Codes used: `bad-header`, `bad-section`, `bad-layout` (header and sections),
 * `bad-string-offset`, `bad-name`, `bad-kind` (unknown kind, or a kind_flag or INT encoding a
 * kind does not allow), `bad-vlen`, `bad-size`, `bad-type-id` (missing or wrong-kind
 * references), `bad-member`, `bad-array`, `bad-func`, `bad-var`, `bad-datasec`, `bad-tag`,
 * `type-loop`.
 *
 * Where the 2026 format (libbpf 1.8) and kernels differ, the format wins (vlen may use 24 bits
 * and a layout section may follow the types) unless `kernel` or `kernelVersion` asks for a
 * kernel's verdict; what that kernel cannot read is then reported with code `unsupported`.
 */
export function checkBtf(btf: Btf, opts: CheckOptions = {}): BtfError[] {
  const checker = new Checker(btf, opts);
  try {
    checker.run();
  } catch (e) {
    if (e !== STOP) throw e;
  }
  return checker.errors;
}

/** Throws the first problem {@link checkBtf} finds, if any. */
export function assertValidBtf(btf: Btf, opts: Omit<CheckOptions, 'maxErrors'> = {}): void {
  const [first] = checkBtf(btf, { ...opts, maxErrors: 1 });
  if (first) throw first;
}

/** Thrown internally once `maxErrors` problems are collected, to unwind every loop at once. */
/** BTF_VAR_GLOBAL_EXTERN: a VAR that only BPF object files have (libbpf rewrites it before loading). */
const VAR_LINKAGE_EXTERN = 2;
const STOP = Symbol('enough errors');

/** The kernel's `MAX_RESOLVE_DEPTH`: how deep one resolution may nest. */
const RESOLVE_DEPTH = 32;
/** The kernel's `KSYM_NAME_LEN` (512 since Linux 6.1): longest accepted name. */
const NAME_MAX = 512;
const U32_MAX = 0xffffffff;

// Per-id resolution state, as the kernel's visit_states.
// 0: not visited yet (typed arrays start zeroed).
const ON_STACK = 1;
const RESOLVED = 2;
/** The type already has a reported problem: anything leaning on it is skipped silently. */
const BROKEN = 3;

// Which kinds end a resolution, as the kernel's resolve_mode: decided by the first pointer or
// aggregate met, so that `struct A { struct A *next; }` is fine while `struct A { struct A a; }` loops.
const MODE_ANY = 0;
const MODE_POINTER = 1;
const MODE_AGGREGATE = 2;

// Results of sizing a type (the kernel's btf_type_id_size).
const SIZE_NONE = 0;
const SIZE_OK = 1;
/** A broken type is in the way: the caller skips its check. */
const SIZE_SKIP = 2;

const KIND_IS_MODIFIER = kindSet(Kind.Typedef, Kind.Volatile, Kind.Const, Kind.Restrict, Kind.TypeTag);
const KIND_NEEDS_RESOLVE = kindSet(Kind.Typedef, Kind.Volatile, Kind.Const, Kind.Restrict, Kind.TypeTag,
  Kind.Ptr, Kind.Struct, Kind.Union, Kind.Array, Kind.Var, Kind.Func, Kind.DeclTag, Kind.Datasec);
/** Kinds whose record carries the byte size in its third word. */
const KIND_HAS_SIZE = kindSet(Kind.Int, Kind.Struct, Kind.Union, Kind.Enum, Kind.Datasec, Kind.Float, Kind.Enum64);
/** Kinds nothing may use as a value type (the kernel's "resolve source only" kinds). */
const KIND_SOURCE_ONLY = kindSet(Kind.Var, Kind.DeclTag, Kind.Datasec);
/** Kinds with no size of their own (void is kind 0). */
const KIND_NO_SIZE = kindSet(Kind.Void, Kind.Fwd, Kind.Func, Kind.FuncProto, Kind.DeclTag);
/** Kinds that may carry kind_flag. */
const KIND_FLAG_OK = kindSet(Kind.Struct, Kind.Union, Kind.Enum, Kind.Fwd, Kind.DeclTag, Kind.TypeTag, Kind.Enum64);

function kindSet(...kinds: Kind[]): Uint8Array {
  const s = new Uint8Array(128);
  for (const k of kinds) s[k] = 1;
  return s;
}

// Character classes of the kernel's lib/ctype.c, which is Latin-1: letters include 0xc0-0xff
// except 0xd7 and 0xf7, and 0xa0-0xff are printable. Confirmed against Linux 6.18 BPF_BTF_LOAD:
// a typedef named "c\xe9" or "\xe9" loads, "c\xd7" does not; a DATASEC named ".\xe9" loads,
// ".\x85" and ".a\x01" do not.
const CH_ALPHA = 1;
const CH_DIGIT = 2;
const CH_PRINT = 4;
const CTYPE = (() => {
  const t = new Uint8Array(256);
  for (let c = 0x20; c < 0x7f; c++) t[c] = CH_PRINT;
  for (let c = 0xa0; c <= 0xff; c++) t[c] = CH_PRINT;
  for (let c = 0x30; c <= 0x39; c++) t[c]! |= CH_DIGIT;
  for (let c = 0x41; c <= 0x5a; c++) t[c]! |= CH_ALPHA;
  for (let c = 0x61; c <= 0x7a; c++) t[c]! |= CH_ALPHA;
  for (let c = 0xc0; c <= 0xff; c++) if (c !== 0xd7 && c !== 0xf7) t[c]! |= CH_ALPHA;
  return t;
})();

// Name cache bits, per string offset.
const NAME_IDENT_KNOWN = 1;
const NAME_IDENT_OK = 2;
const NAME_SECTION_KNOWN = 4;
const NAME_SECTION_OK = 8;
/** The target kernel's older identifier rules (see kernelName) accept the name. */
const NAME_KERNEL_IDENT_OK = 16;

/**
 * Record fields are read with the vocabulary's offsets, strides and bit fields (`Rec` in
 * src/format/records.ts, compiled to plain numbers) written out inline,
 * `rec + Rec.TYPE_HEADER_SIZE + i * Rec.MEMBER_SIZE + Rec.MEMBER_TYPE_OFF`, rather than
 * through its readers: the check reads every word of a vmlinux, and the CLI runs without
 * TurboFan inlining, where a call per field costs about 8% of the check.
 */
class Checker {
  readonly errors: BtfError[] = [];
  private readonly btf: Btf;
  private readonly maxErrors: number;
  private readonly allowUnknownKinds: boolean;
  /** The kernel asked about, if any. */
  private readonly target: KernelRules | undefined;
  /** The target judges names by rules older than the newest (shorter, no dots...). */
  private readonly oldNameRules: boolean;
  private readonly object: boolean;
  private readonly strict: boolean;
  private readonly firstId: number;
  private readonly endId: number;
  private readonly offsets: Uint32Array;
  /** Resolution state of every id, base ids included (those are never pushed; see isResolved). */
  private state: Uint8Array;
  /** What each own type resolved to (the kernel's resolved_ids / resolved_sizes). */
  private resolvedIds: Uint32Array;
  private resolvedSizes: Float64Array;
  private readonly kinds: Uint8Array;
  private nameCache: Uint8Array | undefined;
  /** {@link kernelPointerSize}, once asked. */
  private pointerBytes = 0;
  /** Set by report() for problems that make a type unusable by others. */
  private broken = false;

  // The resolution stack (the kernel's env->stack), with the member to resume at.
  private readonly stackIds = new Uint32Array(RESOLVE_DEPTH);
  private readonly stackNext = new Uint32Array(RESOLVE_DEPTH);
  private top = 0;
  private mode = MODE_ANY;

  // Out-values of seek().
  private strBytes: Uint8Array = new Uint8Array(0);
  private strPos = 0;

  // Out-values of kernelSizeOf().
  private sizedId = 0;
  private sizedBytes = 0;

  constructor(btf: Btf, opts: CheckOptions) {
    this.btf = btf;
    this.maxErrors = Math.max(1, Math.floor(opts.maxErrors ?? 100));
    this.target = opts.kernelVersion !== undefined ? kernelRules(opts.kernelVersion) : opts.kernel ? kernelRules() : undefined;
    this.allowUnknownKinds = this.target ? false : opts.allowUnknownKinds ?? true;
    const t = this.target;
    this.oldNameRules = t !== undefined && !t.newest;
    this.object = opts.object ?? false;
    this.strict = opts.strict ?? false;
    this.firstId = btf.firstId;
    this.endId = btf.endId;
    this.offsets = btf.typeOffsets;
    this.state = new Uint8Array(this.endId);
    this.resolvedIds = new Uint32Array(this.endId);
    this.resolvedSizes = new Float64Array(this.endId);
    this.kinds = this.readKinds();
  }

  run(): void {
    this.checkHeader();
    if (this.target) this.checkKernelHeader(this.target);
    this.checkLayout();
    this.checkTypeCount();
    for (let id = this.firstId; id < this.endId; id++) {
      this.broken = false;
      this.checkRecord(id);
      if (this.broken) this.state[id] = BROKEN;
    }
    for (let id = this.firstId; id < this.endId; id++) {
      const st = this.state[id];
      if (st === BROKEN) continue;
      const kind = this.kind(id);
      if (KIND_NEEDS_RESOLVE[kind] && st !== RESOLVED) this.resolve(id);
      if (kind === Kind.FuncProto) this.checkProtoTypes(id);
    }
    this.checkTypeTagOrder();
  }

  // ---------------------------------------------------------------- reporting

  private report(code: BtfErrorCode, detail: string, typeId: number | undefined, offset: number | undefined, member?: number, breaks = code !== 'bad-name' && code !== 'bad-string-offset'): void {
    if (breaks) this.broken = true;
    this.errors.push(new BtfError(code, detail, { typeId, offset, member, file: this.btf.file }));
    if (this.errors.length >= this.maxErrors) throw STOP;
  }

  /** "STRUCT 'foo'" or "anonymous STRUCT", for the type an error is about. */
  private what(id: number): string {
    if (id === 0) return 'void';
    const kind = this.kind(id);
    const label = describeKind(kind);
    const name = this.nameText(this.field(id, Rec.NAME_OFF));
    return name ? `${label} '${name}'` : `anonymous ${label}`;
  }

  /** "[12] STRUCT 'foo'", for a type an error refers to. */
  private ref(id: number): string {
    return id === 0 ? '[0] void' : `[${id}] ${this.what(id)}`;
  }

  /** A string for messages: at most 64 bytes, anything unprintable as \xNN. */
  private nameText(off: number): string {
    const at = this.locate(off);
    if (!at) return off === 0 ? '' : `<bad string offset ${off}>`;
    const { bytes, pos } = at;
    let s = '';
    for (let i = pos; i < bytes.length && bytes[i] !== 0; i++) {
      if (i - pos >= 64) return `${s}…`;
      const c = bytes[i]!;
      s += c >= 0x20 && c < 0x7f && c !== 0x27 && c !== 0x5c ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
    }
    return s;
  }

  // ---------------------------------------------------------------- raw access

  /** Which blob holds `id` (this one or a base); `id` must be a real type. */
  private holder(id: number): Btf {
    let b = this.btf;
    while (id < b.firstId && b.base) b = b.base;
    return b;
  }

  /** Absolute offset of `id`'s record in its holder's bytes. */
  private rec(id: number): number {
    if (id >= this.firstId) return this.offsets[id - this.firstId]!;
    const b = this.holder(id);
    return b.typeOffsets[id - b.firstId]!;
  }

  /** The u32 at byte `offset` of `id`'s record (an offset from src/format/records.ts). */
  private field(id: number, offset: number): number {
    if (id >= this.firstId) return this.btf.u32(this.offsets[id - this.firstId]! + offset);
    const b = this.holder(id);
    return b.u32(b.typeOffsets[id - b.firstId]! + offset);
  }

  private kind(id: number): number {
    return this.kinds[id]!;
  }

  /** Kind of every id, base ones included, read once: pass 2 asks for kinds far more often than for anything else. */
  private readKinds(): Uint8Array {
    const kinds = new Uint8Array(this.endId);
    for (let b: Btf | undefined = this.btf; b; b = b.base) {
      const offsets = b.typeOffsets;
      for (let i = 0; i < offsets.length; i++) kinds[b.firstId + i] = (b.u32(offsets[i]! + Rec.INFO_OFF) >>> Rec.INFO_KIND_SHIFT) & Rec.INFO_KIND_MASK;
    }
    return kinds;
  }

  private vlen(id: number): number {
    return id === 0 ? 0 : this.field(id, Rec.INFO_OFF) & Rec.INFO_VLEN_MASK;
  }

  private exists(id: number): boolean {
    return id < this.endId;
  }

  private isKnownKind(kind: number): boolean {
    return kind !== Kind.Void && kind <= MAX_KNOWN_KIND;
  }

  /** Where string `off` lives, or undefined when it is out of range. */
  private locate(off: number): { bytes: Uint8Array; pos: number } | undefined {
    return this.seek(off) ? { bytes: this.strBytes, pos: this.strPos } : undefined;
  }

  /** Points strBytes/strPos at string `off`; false when it is out of range. Allocates nothing. */
  private seek(off: number): boolean {
    if (off > MAX_NAME_OFFSET) return false;
    let b: Btf | undefined = this.btf;
    while (b && off < b.firstStringOffset) b = b.base;
    if (!b || off >= b.endStringOffset) return false;
    this.strBytes = b.bytes;
    this.strPos = b.stringStart + off - b.firstStringOffset;
    return true;
  }

  private stringInRange(off: number): boolean {
    return off <= MAX_NAME_OFFSET && off < this.btf.endStringOffset;
  }

  private nameFlags(off: number): number {
    const cache = (this.nameCache ??= new Uint8Array(this.btf.endStringOffset));
    return cache[off]!;
  }

  /** The kernel's btf_name_valid_identifier: [A-Za-z_.][A-Za-z0-9_.]* in Latin-1, at most 512 bytes. */
  private isIdentifier(off: number): boolean {
    const flags = this.nameFlags(off);
    if (flags & NAME_IDENT_KNOWN) return (flags & NAME_IDENT_OK) !== 0;
    let ok = false;
    if (this.seek(off)) {
      const bytes = this.strBytes;
      const pos = this.strPos;
      const c0 = bytes[pos]!;
      if ((CTYPE[c0]! & CH_ALPHA) || c0 === 0x5f || c0 === 0x2e) {
        let i = 1;
        for (; i < NAME_MAX; i++) {
          const c = bytes[pos + i]!;
          if (c === 0) break;
          if (!(CTYPE[c]! & (CH_ALPHA | CH_DIGIT)) && c !== 0x5f && c !== 0x2e) break;
        }
        ok = bytes[pos + i] === 0;
      }
    }
    this.nameCache![off]! |= NAME_IDENT_KNOWN | (ok ? NAME_IDENT_OK : 0);
    return ok;
  }

  /** The kernel's btf_name_valid_section: non-empty, printable (Latin-1), at most 512 bytes. */
  private isSectionName(off: number): boolean {
    const flags = this.nameFlags(off);
    if (flags & NAME_SECTION_KNOWN) return (flags & NAME_SECTION_OK) !== 0;
    let ok = false;
    if (this.seek(off) && this.strBytes[this.strPos] !== 0) {
      const bytes = this.strBytes;
      const pos = this.strPos;
      let i = 0;
      for (; i < NAME_MAX; i++) {
        const c = bytes[pos + i]!;
        if (c === 0 || !(CTYPE[c]! & CH_PRINT)) break;
      }
      ok = bytes[pos + i] === 0;
    }
    this.nameCache![off]! |= NAME_SECTION_KNOWN | (ok ? NAME_SECTION_OK : 0);
    return ok;
  }

  private isEmptyString(off: number): boolean {
    return !this.seek(off) || this.strBytes[this.strPos] === 0;
  }

  /**
   * Pointer size as the kernel sizes pointers: `sizeof(void *)` of the kernel that loads the
   * BTF, which btfkit cannot know. The BTF's own `long` is the best witness of that kernel's
   * word size, so this takes libbpf's reading of it (src/btf/query.ts: the first 4- or 8-byte
   * INT spelled as a long, in id order; 8 without one).
   */
  private kernelPointerSize(): number {
    // Asked for every pointer member: kept here rather than looked up each time.
    return (this.pointerBytes ||= pointerSize(this.btf));
  }

  // ---------------------------------------------------------------- header and sections

  private checkHeader(): void {
    const { header, bytes } = this.btf;
    if (header.flags !== 0) {
      this.report('bad-header', `header flags are 0x${header.flags.toString(16)}; no flags are defined, so the kernel rejects anything but 0`, undefined, 3);
    }
    // As the kernel's btf_check_sec_info: the sections, sorted, must tile everything after the header.
    const dataLen = bytes.length - header.hdrLen;
    const sections = [
      { name: 'type', off: header.typeOff, len: header.typeLen, field: 8 },
      { name: 'string', off: header.strOff, len: header.strLen, field: 16 },
    ];
    if (header.hdrLen >= 32 && header.layoutLen > 0) {
      sections.push({ name: 'layout', off: header.layoutOff, len: header.layoutLen, field: 24 });
    }
    sections.sort((a, b) => a.off - b.off || a.len - b.len);
    let end = 0;
    let prev = 'header';
    for (const s of sections) {
      if (s.off > dataLen) {
        this.report('bad-section', `${s.name} section starts at ${s.off}, past the ${dataLen} bytes after the header`, undefined, s.field);
      } else if (s.off > end) {
        this.report('bad-section', `${s.off - end} bytes between the end of the ${prev} section and the start of the ${s.name} section belong to no section; the kernel rejects gaps`, undefined, header.hdrLen + end);
      } else if (s.off < end) {
        this.report('bad-section', `${s.name} section (${s.off}+${s.len}) overlaps the ${prev} section, which ends at ${end}`, undefined, s.field);
      }
      end = Math.max(end, s.off + s.len);
      prev = s.name;
    }
    if (end < dataLen) {
      this.report('bad-section', `${dataLen - end} bytes after the last section (${prev}) belong to no section; the kernel rejects trailing data`, undefined, header.hdrLen + end);
    }
    if (!this.btf.base && this.btf.ownTypeCount === 0) {
      this.report('bad-section', 'the type section is empty; the kernel rejects base BTF without types', undefined, 12);
    }
  }

  /** What the target kernel's btf_parse_hdr and BPF_BTF_LOAD refuse in the framing. */
  private checkKernelHeader(target: KernelRules): void {
    const { header, bytes } = this.btf;
    const end = Math.min(header.hdrLen, 32);
    let extra = false;
    for (let i = 24; i < end; i++) if (bytes[i] !== 0) extra = true;
    if (extra) {
      const what = header.layoutLen > 0 ? `has a layout section (layout_off ${header.layoutOff}, layout_len ${header.layoutLen})` : `has non-zero bytes in layout_off/layout_len`;
      this.report('unsupported', `the ${header.hdrLen}-byte header ${what}; ${target.name} read only the 24-byte header and refuse longer ones unless the rest is zeros (E2BIG, "Unsupported btf_header"): convert without the layout section`, undefined, 24, undefined, false);
    }
    if (bytes.length > KERNEL_MAX_BTF_BYTES) {
      this.report('unsupported', `the BTF is ${bytes.length} bytes; BPF_BTF_LOAD in ${target.name} takes at most 16 MiB (${KERNEL_MAX_BTF_BYTES} bytes, E2BIG)`, undefined, undefined, undefined, false);
    }
  }

  private checkLayout(): void {
    const layout = this.btf.layout;
    if (!layout) return;
    const start = this.btf.header.hdrLen + this.btf.header.layoutOff;
    for (let k = 0; k < layout.length; k++) {
      const l = layout[k]!;
      const at = start + 4 * k;
      if (k <= MAX_KNOWN_KIND) {
        const want = KNOWN_LAYOUTS[k]!;
        if (l.infoSize !== want.infoSize || l.elemSize !== want.elemSize) {
          this.report('bad-layout', `layout entry for kind ${k} (${kindName(k)}) says info_sz ${l.infoSize} and elem_sz ${l.elemSize}, but ${kindName(k)} records always have info_sz ${want.infoSize} and elem_sz ${want.elemSize}`, undefined, at);
        }
      } else if (l.infoSize % 4 !== 0 || l.elemSize % 4 !== 0) {
        this.report('bad-layout', `layout entry for ${describeKind(k)} says info_sz ${l.infoSize} and elem_sz ${l.elemSize}; both must be multiples of 4 to keep records aligned`, undefined, at);
      }
    }
  }

  private checkTypeCount(): void {
    if (this.endId - 1 > MAX_TYPE_ID) {
      const id = MAX_TYPE_ID + 1;
      this.report('bad-type-id', `BTF holds ${this.endId - 1} type ids; ids above ${MAX_TYPE_ID} cannot be referenced`, id, id >= this.firstId ? this.rec(id) : undefined);
    }
  }

  // ---------------------------------------------------------------- pass 1: each record on its own

  private checkRecord(id: number): void {
    const rec = this.offsets[id - this.firstId]!;
    const btf = this.btf;
    const nameOff = btf.u32(rec + Rec.NAME_OFF);
    const info = btf.u32(rec + Rec.INFO_OFF);
    const sizeOrType = btf.u32(rec + Rec.SIZE_OR_TYPE_OFF);
    const kind = (info >>> Rec.INFO_KIND_SHIFT) & Rec.INFO_KIND_MASK;
    const vlen = info & Rec.INFO_VLEN_MASK;
    const kflag = info >>> Rec.INFO_KIND_FLAG_SHIFT === 1;

    if (kind === Kind.Void) {
      this.report('bad-kind', 'kind 0 (UNKNOWN) is reserved for void and cannot be a type record', id, rec + Rec.INFO_OFF);
      return;
    }
    if (kind > MAX_KNOWN_KIND) {
      if (!this.allowUnknownKinds) {
        this.report('bad-kind', `kind ${kind} is not a kind btfkit or the kernel knows (the last is ${MAX_KNOWN_KIND}, ENUM64); the layout section sizes it for readers, but the kernel rejects BTF with unknown kinds`, id, rec + Rec.INFO_OFF);
      }
      if (!this.stringInRange(nameOff)) this.badNameOffset(id, rec, nameOff);
      // Nothing can be known of what it refers to, so anything that uses it is skipped.
      this.broken = true;
      return;
    }
    // The newest rules differ from the format's only in vlen; older ones in much of the record.
    if (this.target && (!this.target.newest || vlen > KERNEL_MAX_VLEN)) {
      const problem = recordProblem(this.target, kind, info, sizeOrType, kind === Kind.Int ? btf.u32(rec + Rec.INT_DATA_OFF) : 0, () => this.what(id));
      if (problem) {
        // A kind the kernel does not know ends its reading there; anything else only this record.
        const unknownKind = problem.field === Rec.INFO_OFF && !this.target.knowsKind(kind);
        this.report('unsupported', problem.detail, id, rec + problem.field, undefined, unknownKind);
        if (unknownKind) return;
      }
    }
    const what = kindName(kind);
    const nameOk = this.stringInRange(nameOff);
    if (!nameOk) this.badNameOffset(id, rec, nameOff);
    if (kflag && !KIND_FLAG_OK[kind]) {
      this.report('bad-kind', `${what} has kind_flag set; only STRUCT, UNION, ENUM, ENUM64, FWD, DECL_TAG and TYPE_TAG use it`, id, rec + Rec.INFO_OFF);
    }

    switch (kind) {
      case Kind.Int: {
        this.noVlen(id, rec, kind, vlen);
        if (nameOk && this.strict && nameOff === 0) this.report('bad-name', 'INT is anonymous; compilers always name base types', id, rec);
        const data = btf.u32(rec + Rec.INT_DATA_OFF);
        const bits = data & Rec.INT_BITS_MASK;
        const bitOffset = (data >>> Rec.INT_OFFSET_SHIFT) & Rec.INT_OFFSET_MASK;
        const encoding = (data >>> Rec.INT_ENCODING_SHIFT) & Rec.INT_ENCODING_MASK;
        if (data >>> 28) {
          this.report('bad-size', `INT data word 0x${data.toString(16)} sets bits 28-31, which are not defined`, id, rec + Rec.INT_DATA_OFF);
        }
        if (bits + bitOffset > 128) {
          this.report('bad-size', `INT has ${bits} bits at bit offset ${bitOffset}, ${bits + bitOffset} in all; integers are at most 128 bits`, id, rec + Rec.INT_DATA_OFF);
        } else if (Math.ceil((bits + bitOffset) / 8) > sizeOrType) {
          this.report('bad-size', `INT has ${bits} bits at bit offset ${bitOffset}, which do not fit in its ${sizeOrType} bytes`, id, rec + Rec.SIZE_OR_TYPE_OFF);
        }
        if (encoding !== 0 && encoding !== 1 && encoding !== 2 && encoding !== 4) {
          this.report('bad-kind', `INT encoding ${encoding} combines flags; only one of SIGNED (1), CHAR (2) and BOOL (4) is allowed`, id, rec + Rec.INT_DATA_OFF);
        }
        if (this.strict && sizeOrType !== 1 && sizeOrType !== 2 && sizeOrType !== 4 && sizeOrType !== 8 && sizeOrType !== 16) {
          this.report('bad-size', `INT is ${sizeOrType} bytes; integer types are 1, 2, 4, 8 or 16 bytes`, id, rec + Rec.SIZE_OR_TYPE_OFF);
        }
        return;
      }
      case Kind.Ptr: case Kind.Volatile: case Kind.Const: case Kind.Restrict:
      case Kind.Typedef: case Kind.TypeTag: {
        this.noVlen(id, rec, kind, vlen);
        if (!this.exists(sizeOrType)) this.missing(id, sizeOrType, rec + Rec.SIZE_OR_TYPE_OFF, `${what} refers to`);
        if (kind === Kind.Typedef) {
          if (nameOk) this.needIdentifier(id, nameOff, rec, 'TYPEDEF');
        } else if (kind === Kind.TypeTag) {
          if (nameOk && this.isEmptyString(nameOff)) this.report('bad-name', 'TYPE_TAG has an empty value; a type tag needs its text', id, rec);
        } else if (nameOff !== 0) {
          this.report('bad-name', `${what} is named '${this.nameText(nameOff)}'; ${what} types must be anonymous`, id, rec);
        }
        return;
      }
      case Kind.Fwd:
        this.noVlen(id, rec, kind, vlen);
        if (sizeOrType !== 0) this.report('bad-size', `FWD has ${sizeOrType} in its size/type word, which must be 0`, id, rec + Rec.SIZE_OR_TYPE_OFF);
        if (nameOk) this.needIdentifier(id, nameOff, rec, 'FWD');
        return;
      case Kind.Array: {
        if (nameOff !== 0) this.report('bad-name', `ARRAY is named '${this.nameText(nameOff)}'; arrays must be anonymous`, id, rec);
        this.noVlen(id, rec, kind, vlen);
        if (sizeOrType !== 0) this.report('bad-size', `ARRAY has ${sizeOrType} in its size word, which must be 0 (the size follows from the element type and count)`, id, rec + Rec.SIZE_OR_TYPE_OFF);
        const elem = btf.u32(rec + Rec.ARRAY_TYPE_OFF);
        const index = btf.u32(rec + Rec.ARRAY_INDEX_TYPE_OFF);
        if (elem === 0) this.report('bad-array', 'ARRAY has element type void; arrays need a sized element type', id, rec + Rec.ARRAY_TYPE_OFF);
        else if (!this.exists(elem)) this.missing(id, elem, rec + Rec.ARRAY_TYPE_OFF, 'ARRAY element type is');
        if (index === 0) this.report('bad-array', 'ARRAY has index type void; the index type must be an integer', id, rec + Rec.ARRAY_INDEX_TYPE_OFF);
        else if (!this.exists(index)) this.missing(id, index, rec + Rec.ARRAY_INDEX_TYPE_OFF, 'ARRAY index type is');
        return;
      }
      case Kind.Struct: case Kind.Union:
        if (nameOk && nameOff !== 0) this.needIdentifier(id, nameOff, rec, what);
        this.checkMembers(id, rec, kind === Kind.Union, kflag, sizeOrType, vlen);
        return;
      case Kind.Enum: case Kind.Enum64: {
        if (sizeOrType > 8 || sizeOrType === 0 || (sizeOrType & (sizeOrType - 1)) !== 0) {
          this.report('bad-size', `${what} is ${sizeOrType} bytes; enums are 1, 2, 4 or 8 bytes`, id, rec + Rec.SIZE_OR_TYPE_OFF);
        }
        if (nameOk && nameOff !== 0) this.needIdentifier(id, nameOff, rec, what);
        const step = kind === Kind.Enum ? Rec.ENUM_SIZE : Rec.ENUM64_SIZE;
        for (let i = 0; i < vlen; i++) {
          // ENUM_NAME_OFF and ENUM64_NAME_OFF are both 0: the name starts the element.
          const at = rec + Rec.TYPE_HEADER_SIZE + i * step;
          const off = btf.u32(at);
          if (!this.stringInRange(off)) {
            this.report('bad-string-offset', `${what} value ${i} has name offset ${off}, outside the string section${this.btf.isSplit ? 's' : ''} (which end at ${this.btf.endStringOffset})`, id, at, i);
          } else if (off === 0) {
            this.report('bad-name', `${what} value ${i} has no name; enumerators must be named`, id, at, i);
          } else if (!this.isIdentifier(off)) {
            this.report('bad-name', `${what} value ${i} is named '${this.nameText(off)}', which is not a C identifier`, id, at, i);
          } else if (this.oldNameRules) {
            this.kernelName(id, off, at, 'identifier', `${what} value ${i}`, i);
          }
        }
        return;
      }
      case Kind.FuncProto: {
        if (nameOff !== 0) this.report('bad-name', `FUNC_PROTO is named '${this.nameText(nameOff)}'; function prototypes must be anonymous (the FUNC carries the name)`, id, rec);
        if (!this.exists(sizeOrType)) this.missing(id, sizeOrType, rec + Rec.SIZE_OR_TYPE_OFF, 'FUNC_PROTO return type is');
        for (let i = 0; i < vlen; i++) {
          const at = rec + Rec.TYPE_HEADER_SIZE + i * Rec.PARAM_SIZE;
          const off = btf.u32(at + Rec.PARAM_NAME_OFF);
          const type = btf.u32(at + Rec.PARAM_TYPE_OFF);
          if (!this.stringInRange(off)) {
            this.report('bad-string-offset', `parameter ${i} has name offset ${off}, outside the string section${this.btf.isSplit ? 's' : ''} (which end at ${this.btf.endStringOffset})`, id, at + Rec.PARAM_NAME_OFF, i);
          } else if (type === 0 && i === vlen - 1) {
            if (off !== 0) this.report('bad-func', `the last parameter is void, which marks varargs ('...'), but it is named '${this.nameText(off)}'; the varargs marker must be anonymous`, id, at + Rec.PARAM_NAME_OFF, i);
          } else if (off !== 0 && !this.isIdentifier(off)) {
            this.report('bad-name', `parameter ${i} is named '${this.nameText(off)}', which is not a C identifier`, id, at + Rec.PARAM_NAME_OFF, i);
          } else if (off !== 0 && this.oldNameRules) {
            this.kernelName(id, off, at + Rec.PARAM_NAME_OFF, 'identifier', `parameter ${i}`, i);
          }
          if (!this.exists(type)) this.missing(id, type, at + Rec.PARAM_TYPE_OFF, `parameter ${i} type is`, i);
        }
        return;
      }
      case Kind.Func: {
        if (nameOk) this.needIdentifier(id, nameOff, rec, 'FUNC');
        const maxLinkage = this.object ? 2 : 1;
        if (vlen > maxLinkage) {
          this.report('bad-func', `FUNC linkage is ${vlen}; ${this.object ? 'linkage is static (0), global (1) or extern (2)' : 'the kernel accepts static (0) and global (1); extern (2) is for BPF object files, which libbpf fixes up before loading (check with --object, or checkBtf(btf, { object: true }))'}`, id, rec + Rec.INFO_OFF);
        }
        if (!this.exists(sizeOrType)) this.missing(id, sizeOrType, rec + Rec.SIZE_OR_TYPE_OFF, 'FUNC prototype is');
        return;
      }
      case Kind.Var: {
        this.noVlen(id, rec, kind, vlen);
        if (nameOk) this.needIdentifier(id, nameOff, rec, 'VAR');
        const untypedKsym = this.object && btf.u32(rec + Rec.VAR_LINKAGE_OFF) === VAR_LINKAGE_EXTERN;
        if (sizeOrType === 0 && !untypedKsym) this.report('bad-var', 'VAR has type void; variables need a sized type', id, rec + Rec.SIZE_OR_TYPE_OFF);
        else if (!this.exists(sizeOrType)) this.missing(id, sizeOrType, rec + Rec.SIZE_OR_TYPE_OFF, 'VAR type is');
        const linkage = btf.u32(rec + Rec.VAR_LINKAGE_OFF);
        const maxLinkage = this.object ? 2 : 1;
        if (linkage > maxLinkage) {
          this.report('bad-var', `VAR linkage is ${linkage}; ${this.object ? 'linkage is static (0), global (1) or extern (2)' : 'the kernel accepts static (0) and global allocated (1); extern (2) is for BPF object files, which libbpf fixes up before loading (check with --object, or checkBtf(btf, { object: true }))'}`, id, rec + Rec.VAR_LINKAGE_OFF);
        }
        return;
      }
      case Kind.Datasec:
        this.checkDatasecRecord(id, rec, nameOk ? nameOff : -1, sizeOrType, vlen);
        return;
      case Kind.Float:
        this.noVlen(id, rec, kind, vlen);
        if (nameOk && this.strict && nameOff === 0) this.report('bad-name', 'FLOAT is anonymous; compilers always name base types', id, rec);
        if (sizeOrType !== 2 && sizeOrType !== 4 && sizeOrType !== 8 && sizeOrType !== 12 && sizeOrType !== 16) {
          this.report('bad-size', `FLOAT is ${sizeOrType} bytes; floating-point types are 2, 4, 8, 12 or 16 bytes`, id, rec + Rec.SIZE_OR_TYPE_OFF);
        }
        return;
      case Kind.DeclTag: {
        if (nameOk && this.isEmptyString(nameOff)) this.report('bad-name', 'DECL_TAG has an empty value; a declaration tag needs its text', id, rec);
        this.noVlen(id, rec, kind, vlen);
        if (!this.exists(sizeOrType)) this.missing(id, sizeOrType, rec + Rec.SIZE_OR_TYPE_OFF, 'DECL_TAG target is');
        const component = btf.i32(rec + Rec.DECL_TAG_COMPONENT_IDX_OFF);
        if (component < -1) {
          this.report('bad-tag', `DECL_TAG component_idx is ${component}; it is -1 (the whole declaration) or the index of a member or parameter`, id, rec + Rec.DECL_TAG_COMPONENT_IDX_OFF);
        }
        return;
      }
    }
  }

  private noVlen(id: number, rec: number, kind: number, vlen: number): void {
    if (vlen !== 0) this.report('bad-vlen', `${kindName(kind)} has vlen ${vlen}; ${kindName(kind)} records have no trailing elements, so vlen must be 0`, id, rec + Rec.INFO_OFF);
  }

  private badNameOffset(id: number, rec: number, off: number): void {
    const limit = off > MAX_NAME_OFFSET ? `above the largest possible string offset ${MAX_NAME_OFFSET}` : `outside the string section${this.btf.isSplit ? 's' : ''} (which end at ${this.btf.endStringOffset})`;
    this.report('bad-string-offset', `name offset ${off} is ${limit}`, id, rec);
  }

  private needIdentifier(id: number, nameOff: number, rec: number, what: string): void {
    if (nameOff === 0) {
      this.report('bad-name', `${what} is anonymous; ${what} types must be named`, id, rec);
    } else if (!this.isIdentifier(nameOff)) {
      this.report('bad-name', `${what} is named '${this.nameText(nameOff)}', which is not a valid identifier (letters, digits, '_' and '.', not starting with a digit, at most ${NAME_MAX} bytes)`, id, rec);
    } else if (this.oldNameRules) {
      this.kernelName(id, nameOff, rec, what === 'VAR' ? 'var' : 'identifier', `${what} name`);
    }
  }

  /** Reports what the target kernel refuses in a name the newest rules accept (its length, a dot...). */
  private kernelName(id: number, off: number, at: number, rule: NameRule, label: string, member?: number): void {
    // Member and parameter names repeat a lot: remember the identifiers that passed.
    if (rule === 'identifier' && this.nameFlags(off) & NAME_KERNEL_IDENT_OK) return;
    if (!this.target || !this.seek(off)) return;
    const problem = nameProblem(this.target, this.strBytes, this.strPos, rule, label, () => this.nameText(off));
    if (problem) this.report('unsupported', problem, id, at, member, false);
    else if (rule === 'identifier') this.nameCache![off]! |= NAME_KERNEL_IDENT_OK;
  }

  /** Reports a type id field naming a type that does not exist (callers test first, so messages are built only for errors). */
  private missing(id: number, target: number, at: number, what: string, member?: number): void {
    this.report('bad-type-id', `${what} type ${target}, which does not exist (the last type id is ${this.endId - 1})`, id, at, member);
  }

  private checkMembers(id: number, rec: number, isUnion: boolean, kflag: boolean, size: number, vlen: number): void {
    const btf = this.btf;
    const what = isUnion ? 'UNION' : 'STRUCT';
    let last = 0;
    for (let i = 0; i < vlen; i++) {
      const at = rec + Rec.TYPE_HEADER_SIZE + i * Rec.MEMBER_SIZE;
      const nameOff = btf.u32(at + Rec.MEMBER_NAME_OFF);
      const type = btf.u32(at + Rec.MEMBER_TYPE_OFF);
      const raw = btf.u32(at + Rec.MEMBER_OFFSET_OFF);
      if (!this.stringInRange(nameOff)) {
        this.report('bad-string-offset', `member ${i} has name offset ${nameOff}, outside the string section${btf.isSplit ? 's' : ''} (which end at ${btf.endStringOffset})`, id, at + Rec.MEMBER_NAME_OFF, i);
      } else if (nameOff !== 0 && !this.isIdentifier(nameOff)) {
        this.report('bad-name', `member ${i} is named '${this.nameText(nameOff)}', which is not a C identifier`, id, at + Rec.MEMBER_NAME_OFF, i);
      } else if (nameOff !== 0 && this.oldNameRules) {
        this.kernelName(id, nameOff, at + Rec.MEMBER_NAME_OFF, 'identifier', `member ${i}`, i);
      }
      if (type === 0) {
        this.report('bad-member', `member ${i}${this.memberName(nameOff)} has type void; members need a sized type`, id, at + Rec.MEMBER_TYPE_OFF, i);
      } else {
        if (!this.exists(type)) this.missing(id, type, at + Rec.MEMBER_TYPE_OFF, `member ${i}${this.memberName(nameOff)} has`, i);
      }
      const bitOffset = kflag ? raw & Rec.MEMBER_BIT_OFFSET_MASK : raw;
      if (isUnion && bitOffset !== 0) {
        this.report('bad-member', `member ${i}${this.memberName(nameOff)} of a UNION is at bit ${bitOffset}; union members all start at bit 0`, id, at + Rec.MEMBER_OFFSET_OFF, i);
      } else if (bitOffset < last) {
        this.report('bad-member', `member ${i}${this.memberName(nameOff)} is at bit ${bitOffset}, before member ${i - 1} at bit ${last}; members must be in offset order`, id, at + Rec.MEMBER_OFFSET_OFF, i);
      } else if (Math.ceil(bitOffset / 8) > size) {
        this.report('bad-member', `member ${i}${this.memberName(nameOff)} starts at bit ${bitOffset}, past the end of the ${what.toLowerCase()}'s ${size} bytes`, id, at + Rec.MEMBER_OFFSET_OFF, i);
      }
      last = bitOffset;
    }
  }

  private memberName(nameOff: number): string {
    return nameOff === 0 || !this.stringInRange(nameOff) ? '' : ` '${this.nameText(nameOff)}'`;
  }

  private checkDatasecRecord(id: number, rec: number, nameOff: number, size: number, vlen: number): void {
    const btf = this.btf;
    if (nameOff === 0) this.report('bad-name', 'DATASEC is anonymous; sections are named', id, rec);
    else if (nameOff > 0 && !this.isSectionName(nameOff)) {
      this.report('bad-name', `DATASEC is named '${this.nameText(nameOff)}'; section names are printable characters, at most ${NAME_MAX} bytes`, id, rec);
    } else if (nameOff > 0 && this.oldNameRules) {
      this.kernelName(id, nameOff, rec, 'section', 'DATASEC name');
    }
    // Compilers leave section sizes and variable offsets to libbpf, which fills them in from the ELF file.
    const unplaced = this.object && size === 0;
    if (size === 0 && !unplaced) {
      this.report('bad-datasec', 'DATASEC has size 0 (libbpf sets section sizes when it loads an object; check compiler output with --object, or checkBtf(btf, { object: true }))', id, rec + Rec.SIZE_OR_TYPE_OFF);
    }
    // Sorted, disjoint entries inside the section cannot add up to more than it (the kernel's
    // separate sum check never fires on its own), so no sum is kept.
    let end = 0;
    for (let i = 0; i < vlen; i++) {
      const at = rec + Rec.TYPE_HEADER_SIZE + i * Rec.SECINFO_SIZE;
      const type = btf.u32(at + Rec.SECINFO_TYPE_OFF);
      const offset = btf.u32(at + Rec.SECINFO_OFFSET_OFF);
      const varSize = btf.u32(at + Rec.SECINFO_SIZE_OFF);
      if (type === 0) this.report('bad-datasec', `entry ${i} has type void; entries are VARs`, id, at + Rec.SECINFO_TYPE_OFF, i);
      else if (!this.exists(type)) this.missing(id, type, at + Rec.SECINFO_TYPE_OFF, `entry ${i} refers to`, i);
      if (unplaced) continue;
      if (offset < end || offset >= size) {
        const why = offset < end ? `overlaps the previous entry, which ends at ${end}` : `is past the section's ${size} bytes`;
        this.report('bad-datasec', `entry ${i} is at offset ${offset}, which ${why}; entries must be sorted, disjoint and inside the section`, id, at + Rec.SECINFO_OFFSET_OFF, i);
      }
      if (varSize === 0 && !(this.object && this.exists(type) && this.kind(type) === Kind.Func)) {
        this.report('bad-datasec', `entry ${i} has size 0`, id, at + Rec.SECINFO_SIZE_OFF, i);
      } else if (varSize > size || offset + varSize > size) {
        this.report('bad-datasec', `entry ${i} at offset ${offset} with size ${varSize} ends past the section's ${size} bytes`, id, at + Rec.SECINFO_SIZE_OFF, i);
      }
      end = offset + varSize;
    }
  }

  // ---------------------------------------------------------------- pass 2: references

  /** Base types, and types already checked, count as resolved: they are never pushed. */
  private isResolved(id: number): boolean {
    return id < this.firstId || this.state[id]! >= RESOLVED;
  }

  /** True when `id` is unusable (own type with a reported problem, or an unknown kind in a base): callers skip their check. */
  private isBroken(id: number): boolean {
    if (id >= this.endId) return true;
    if (id >= this.firstId) return this.state[id] === BROKEN;
    return id !== 0 && !this.isKnownKind(this.kind(id));
  }

  /** Whether the resolution in progress stops at `id` without descending into it. */
  private isSink(id: number): boolean {
    const k = this.kind(id);
    switch (this.mode) {
      case MODE_POINTER:
        return !KIND_IS_MODIFIER[k] && k !== Kind.Ptr;
      case MODE_AGGREGATE:
        return !KIND_IS_MODIFIER[k] && k !== Kind.Array && k !== Kind.Struct && k !== Kind.Union;
      default:
        return !KIND_NEEDS_RESOLVE[k];
    }
  }

  /** Resolves `root` and everything it needs, depth first, with an explicit stack of at most 32. */
  private resolve(root: number): void {
    this.mode = MODE_ANY;
    this.top = 0;
    if (!this.push(root)) return;
    while (this.top > 0) {
      if (!this.step(this.stackIds[this.top - 1]!)) {
        // Whatever is on the stack depends on the failure: mark it so nothing reports it twice.
        for (let i = 0; i < this.top; i++) this.state[this.stackIds[i]!] = BROKEN;
        this.top = 0;
        return;
      }
    }
  }

  private push(id: number): boolean {
    if (this.state[id] === ON_STACK) {
      let from = 0;
      while (this.stackIds[from] !== id) from++;
      const path: string[] = [];
      let viaPointer = false;
      let onlyModifiers = true;
      for (let i = from; i < this.top; i++) {
        const t = this.stackIds[i]!;
        const k = this.kind(t);
        if (k === Kind.Ptr) viaPointer = true;
        if (!KIND_IS_MODIFIER[k]) onlyModifiers = false;
        path.push(this.ref(t));
      }
      path.push(`[${id}]`);
      const why = onlyModifiers
        ? 'typedefs, qualifiers and type tags go round in a circle without reaching a type'
        : viaPointer
          ? 'pointers, typedefs and qualifiers go round in a circle without reaching a real type'
          : 'a type cannot contain itself, except through a pointer';
      const at = this.stackIds[this.top - 1]!;
      this.report('type-loop', `reference loop: ${path.join(' -> ')}; ${why}`, at, this.rec(at));
      return false;
    }
    if (this.top === RESOLVE_DEPTH) {
      const root = this.stackIds[0]!;
      this.report('type-loop', `resolving ${this.ref(root)} nests more than ${RESOLVE_DEPTH} types deep (through ${this.ref(id)}); the kernel gives up at ${RESOLVE_DEPTH}`, root, this.rec(root));
      return false;
    }
    this.state[id] = ON_STACK;
    this.stackIds[this.top] = id;
    this.stackNext[this.top] = 0;
    this.top++;
    if (this.mode === MODE_ANY) {
      const k = this.kind(id);
      if (k === Kind.Ptr) this.mode = MODE_POINTER;
      else if (k === Kind.Struct || k === Kind.Union || k === Kind.Array) this.mode = MODE_AGGREGATE;
    }
    return true;
  }

  private pop(resolvedId: number, resolvedSize: number): true {
    const id = this.stackIds[--this.top]!;
    this.state[id] = RESOLVED;
    this.resolvedIds[id] = resolvedId;
    this.resolvedSizes[id] = resolvedSize;
    return true;
  }

  /** The kernel's resolved id of `id`: what a modifier, pointer, VAR, FUNC or ARRAY stands for. */
  private resolvedId(id: number): number {
    if (id >= this.firstId) return this.state[id] === RESOLVED ? this.resolvedIds[id]! : 0;
    return this.baseResolvedId(id);
  }

  /** Resolved id of a base type, which the kernel resolved when it loaded the base. */
  private baseResolvedId(id: number): number {
    let cur = id;
    switch (this.kind(cur)) {
      case Kind.Ptr: case Kind.Var: case Kind.Func: case Kind.DeclTag:
        cur = this.field(cur, Rec.SIZE_OR_TYPE_OFF);
        break;
      case Kind.Array:
        cur = this.field(cur, Rec.ARRAY_TYPE_OFF);
        break;
      default:
        if (!KIND_IS_MODIFIER[this.kind(cur)]) return 0;
        cur = this.field(cur, Rec.SIZE_OR_TYPE_OFF);
    }
    for (let hops = 0; hops < RESOLVE_DEPTH && cur !== 0 && this.exists(cur) && KIND_IS_MODIFIER[this.kind(cur)]; hops++) {
      cur = this.field(cur, Rec.SIZE_OR_TYPE_OFF);
    }
    return this.exists(cur) && !KIND_IS_MODIFIER[this.kind(cur)] ? cur : 0;
  }

  /** Size of an ARRAY as the kernel sized it when it resolved it (btf_type_id_size). */
  private kernelArraySize(id: number): number {
    if (id >= this.firstId) return this.resolvedSizes[id]!;
    // A base array: multiply out the element counts.
    let cur = id;
    let count = 1;
    for (let hops = 0; hops < RESOLVE_DEPTH && this.exists(cur); hops++) {
      const k = this.kind(cur);
      if (k === Kind.Array) {
        count *= this.field(cur, Rec.ARRAY_NELEMS_OFF);
        cur = this.field(cur, Rec.ARRAY_TYPE_OFF);
      } else if (KIND_IS_MODIFIER[k]) {
        cur = this.field(cur, Rec.SIZE_OR_TYPE_OFF);
      } else if (KIND_HAS_SIZE[k]) {
        return count * this.field(cur, Rec.SIZE_OR_TYPE_OFF);
      } else if (k === Kind.Ptr) {
        return count * this.kernelPointerSize();
      } else {
        return 0;
      }
    }
    return 0;
  }

  /**
   * Sizes `id` as the kernel's btf_type_id_size does, not as libbpf (src/btf/query.ts): sized
   * kinds, arrays and pointers directly, modifiers and VARs through the id they resolved to
   * in pass 2 (so a type behind a broken one is skipped, not sized), and DECL_TAG and DATASEC
   * not at all. Sets sizedId/sizedBytes on SIZE_OK.
   */
  private kernelSizeOf(id: number): number {
    if (this.isBroken(id)) return SIZE_SKIP;
    let cur = id;
    let k = this.kind(cur);
    if (KIND_IS_MODIFIER[k] || k === Kind.Var) {
      cur = this.resolvedId(cur);
      if (this.isBroken(cur)) return SIZE_SKIP;
      k = this.kind(cur);
    }
    if (cur === 0 || KIND_NO_SIZE[k]) return SIZE_NONE;
    if (KIND_HAS_SIZE[k]) this.sizedBytes = this.field(cur, Rec.SIZE_OR_TYPE_OFF);
    else if (k === Kind.Array) this.sizedBytes = this.kernelArraySize(cur);
    else if (k === Kind.Ptr) this.sizedBytes = this.kernelPointerSize();
    else return SIZE_NONE;
    this.sizedId = cur;
    return SIZE_OK;
  }

  /** One step of resolving the type on top of the stack; false when it failed (already reported, or silently for broken inputs). */
  private step(id: number): boolean {
    const kind = this.kind(id);
    switch (kind) {
      case Kind.Typedef: case Kind.Volatile: case Kind.Const: case Kind.Restrict: case Kind.TypeTag:
      case Kind.Ptr: case Kind.Var:
        return this.stepReference(id, kind);
      case Kind.Array:
        return this.stepArray(id);
      case Kind.Struct: case Kind.Union:
        return this.stepMembers(id);
      case Kind.Datasec:
        return this.stepDatasec(id);
      case Kind.Func:
        return this.stepFunc(id);
      case Kind.DeclTag:
        return this.stepDeclTag(id);
      default:
        // Only kinds that need resolving are ever pushed.
        return this.pop(0, 0);
    }
  }

  private stepReference(id: number, kind: number): boolean {
    const rec = this.rec(id);
    const next = this.field(id, Rec.SIZE_OR_TYPE_OFF);
    if (this.isBroken(next)) return false;
    const nextKind = this.kind(next);
    if (KIND_SOURCE_ONLY[nextKind]) {
      this.report(kind === Kind.Var ? 'bad-var' : 'bad-type-id', `${this.what(id)} refers to ${this.ref(next)}; only types can be referred to, not ${kindName(nextKind)}s`, id, rec + Rec.SIZE_OR_TYPE_OFF);
      return false;
    }
    if (!this.isSink(next) && !this.isResolved(next)) return this.push(next);
    // A modifier resolved while an aggregate was resolving stopped at the first pointer; go on
    // from that pointer so pointer loops through modifiers are still found.
    if (kind === Kind.Ptr || kind === Kind.Var) {
      if (KIND_IS_MODIFIER[nextKind]) {
        const r = this.resolvedId(next);
        if (r !== 0 && this.kind(r) === Kind.Ptr && !this.isSink(r) && !this.isResolved(r)) return this.push(r);
      }
    }
    const sized = this.kernelSizeOf(next);
    if (sized === SIZE_SKIP) return false;
    if (sized === SIZE_OK) return this.pop(this.sizedId, 0);
    if (kind === Kind.Var) {
      // An untyped ksym (`extern const void x __ksym`) is an extern VAR of (const) void in
      // compiler output; libbpf gives every .ksyms VAR an int type before loading.
      if (this.object && this.field(id, Rec.VAR_LINKAGE_OFF) === VAR_LINKAGE_EXTERN) return this.pop(next, 0);
      this.report('bad-var', `VAR type ${this.ref(next)} has no size; variables need a complete type`, id, rec + Rec.SIZE_OR_TYPE_OFF);
      return false;
    }
    // void, FWD and FUNC_PROTO may be pointed to and qualified; so may a FUNC the kernel has
    // already resolved to its prototype (Linux 6.18: a PTR to a FUNC with a lower id loads,
    // one to a FUNC with a higher id does not).
    let target = next;
    if (this.isResolved(next) && next !== 0) target = this.resolvedId(next);
    const tk = this.kind(target);
    if (target === 0 || tk === Kind.Fwd || tk === Kind.FuncProto) return this.pop(target, 0);
    this.report('bad-type-id', `${this.what(id)} refers to ${this.ref(next)}, which has no size and is not void, a FWD or a FUNC_PROTO`, id, rec + Rec.SIZE_OR_TYPE_OFF);
    return false;
  }

  private stepArray(id: number): boolean {
    const rec = this.rec(id);
    const elem = this.field(id, Rec.ARRAY_TYPE_OFF);
    const index = this.field(id, Rec.ARRAY_INDEX_TYPE_OFF);
    const count = this.field(id, Rec.ARRAY_NELEMS_OFF);
    if (this.isBroken(index)) return false;
    const indexKind = this.kind(index);
    if (KIND_NO_SIZE[indexKind] || KIND_SOURCE_ONLY[indexKind]) {
      this.report('bad-array', `ARRAY index type ${this.ref(index)} is not an integer`, id, rec + Rec.ARRAY_INDEX_TYPE_OFF);
      return false;
    }
    if (!this.isSink(index) && !this.isResolved(index)) return this.push(index);
    const indexSized = this.kernelSizeOf(index);
    if (indexSized === SIZE_SKIP) return false;
    if (indexSized === SIZE_NONE || this.kind(this.sizedId) !== Kind.Int || !this.isRegularInt(this.sizedId)) {
      this.report('bad-array', `ARRAY index type ${this.ref(index)} is not a whole integer (an INT of 1, 2, 4, 8 or 16 bytes, no bit offset)`, id, rec + Rec.ARRAY_INDEX_TYPE_OFF);
      return false;
    }
    if (this.isBroken(elem)) return false;
    const elemKind = this.kind(elem);
    if (KIND_NO_SIZE[elemKind] || KIND_SOURCE_ONLY[elemKind]) {
      this.report('bad-array', `ARRAY element type ${this.ref(elem)} has no size`, id, rec + Rec.ARRAY_TYPE_OFF);
      return false;
    }
    if (!this.isSink(elem) && !this.isResolved(elem)) return this.push(elem);
    const elemSized = this.kernelSizeOf(elem);
    if (elemSized === SIZE_SKIP) return false;
    if (elemSized === SIZE_NONE) {
      this.report('bad-array', `ARRAY element type ${this.ref(elem)} has no size`, id, rec + Rec.ARRAY_TYPE_OFF);
      return false;
    }
    const elemId = this.sizedId;
    const elemSize = this.sizedBytes;
    if (this.kind(elemId) === Kind.Int && !this.isRegularInt(elemId)) {
      this.report('bad-array', `ARRAY element type ${this.ref(elem)} is a bitfield-like INT; array elements must be whole integers`, id, rec + Rec.ARRAY_TYPE_OFF);
      return false;
    }
    if (count !== 0 && elemSize > Math.floor(U32_MAX / count)) {
      this.report('bad-array', `ARRAY of ${count} elements of ${elemSize} bytes is over 4 GiB`, id, rec + Rec.ARRAY_NELEMS_OFF);
      return false;
    }
    return this.pop(elemId, elemSize * count);
  }

  /** An INT with a whole number of bytes (1, 2, 4, 8 or 16) and no bit offset. */
  private isRegularInt(id: number): boolean {
    const data = this.field(id, Rec.INT_DATA_OFF);
    const bits = data & Rec.INT_BITS_MASK;
    const bytes = bits >>> 3;
    return (bits & 7) === 0 && ((data >>> Rec.INT_OFFSET_SHIFT) & Rec.INT_OFFSET_MASK) === 0 && bytes > 0 && bytes <= 16 && (bytes & (bytes - 1)) === 0;
  }

  private stepMembers(id: number): boolean {
    const slot = this.top - 1;
    const from = this.stackNext[slot]!;
    const vlen = this.vlen(id);
    const rec = this.rec(id);
    if (from > 0) this.checkMemberFit(id, rec, from - 1);
    for (let i = from; i < vlen; i++) {
      const at = rec + Rec.TYPE_HEADER_SIZE + i * Rec.MEMBER_SIZE;
      const type = this.field(id, Rec.TYPE_HEADER_SIZE + i * Rec.MEMBER_SIZE + Rec.MEMBER_TYPE_OFF);
      if (this.isBroken(type)) continue;
      const k = this.kind(type);
      if (KIND_NO_SIZE[k] || KIND_SOURCE_ONLY[k]) {
        const why = k === Kind.Fwd ? ' (an incomplete type: only pointers to it are allowed)' : '';
        this.report('bad-member', `member ${i}${this.memberName(this.field(id, Rec.TYPE_HEADER_SIZE + i * Rec.MEMBER_SIZE + Rec.MEMBER_NAME_OFF))} has type ${this.ref(type)}, which has no size${why}`, id, at + Rec.MEMBER_TYPE_OFF, i);
        continue;
      }
      if (!this.isSink(type) && !this.isResolved(type)) {
        this.stackNext[slot] = i + 1;
        return this.push(type);
      }
      this.checkMemberFit(id, rec, i);
    }
    return this.pop(0, 0);
  }

  /** "member 3 'flags'", built only when a message needs it. */
  private memberLabel(id: number, i: number): string {
    return `member ${i}${this.memberName(this.field(id, Rec.TYPE_HEADER_SIZE + i * Rec.MEMBER_SIZE + Rec.MEMBER_NAME_OFF))}`;
  }

  /** Member `i` must fit in the struct, be aligned as its kind needs, and be a valid bitfield if it is one. */
  private checkMemberFit(id: number, rec: number, i: number): void {
    const btf = this.btf;
    const at = rec + Rec.TYPE_HEADER_SIZE + i * Rec.MEMBER_SIZE;
    let type = btf.u32(at + Rec.MEMBER_TYPE_OFF);
    const raw = btf.u32(at + Rec.MEMBER_OFFSET_OFF);
    const structSize = btf.u32(rec + Rec.SIZE_OR_TYPE_OFF);
    const kflag = btf.u32(rec + Rec.INFO_OFF) >>> Rec.INFO_KIND_FLAG_SHIFT === 1;
    const bitOffset = kflag ? raw & Rec.MEMBER_BIT_OFFSET_MASK : raw;
    const bitSize = kflag ? raw >>> Rec.MEMBER_BITFIELD_SIZE_SHIFT : 0;
    let k = this.kind(type);
    if (KIND_IS_MODIFIER[k]) {
      const sized = this.kernelSizeOf(type);
      if (sized === SIZE_SKIP) return;
      if (sized === SIZE_NONE) {
        this.report('bad-member', `${this.memberLabel(id, i)} has type ${this.ref(type)}, which resolves to nothing with a size`, id, at + Rec.MEMBER_TYPE_OFF, i);
        return;
      }
      type = this.sizedId;
      k = this.kind(type);
    }
    switch (k) {
      case Kind.Int: {
        const data = this.field(type, Rec.INT_DATA_OFF);
        const typeBits = data & Rec.INT_BITS_MASK;
        const intOffset = (data >>> Rec.INT_OFFSET_SHIFT) & Rec.INT_OFFSET_MASK;
        if (!kflag) {
          const start = bitOffset + intOffset;
          if (start > U32_MAX) {
            this.report('bad-member', `${this.memberLabel(id, i)} at bit ${bitOffset} plus the bit offset ${intOffset} of ${this.ref(type)} is past 2^32 bits`, id, at + Rec.MEMBER_OFFSET_OFF, i);
          } else if (typeBits + (start % 8) > 128) {
            this.report('bad-member', `${this.memberLabel(id, i)} needs ${typeBits + (start % 8)} bits from byte ${Math.floor(start / 8)}, over 128`, id, at + Rec.MEMBER_OFFSET_OFF, i);
          } else {
            this.checkFits(id, i, at, bitOffset, bitSize, start, typeBits, structSize);
          }
          return;
        }
        if (!this.isRegularInt(type)) {
          this.report('bad-member', `${this.memberLabel(id, i)} is in a kind_flag ${this.aggregateWord(rec)}, whose integer members must be whole integers, but ${this.ref(type)} has ${typeBits} bits at bit offset ${intOffset}`, id, at + Rec.MEMBER_TYPE_OFF, i);
          return;
        }
        let bits = bitSize;
        if (bits === 0) {
          if (!this.byteAligned(id, i, at, bitOffset, type)) return;
          bits = typeBits;
        } else if (bits > typeBits) {
          this.report('bad-member', `${this.memberLabel(id, i)} is a ${bits}-bit bitfield of the ${typeBits}-bit ${this.ref(type)}`, id, at + Rec.MEMBER_OFFSET_OFF, i);
          return;
        }
        if (bits + (bitOffset % 8) > 128) {
          this.report('bad-member', `${this.memberLabel(id, i)} needs ${bits + (bitOffset % 8)} bits from byte ${Math.floor(bitOffset / 8)}, over 128`, id, at + Rec.MEMBER_OFFSET_OFF, i);
          return;
        }
        this.checkFits(id, i, at, bitOffset, bitSize, bitOffset, bits, structSize);
        return;
      }
      case Kind.Enum: case Kind.Enum64: {
        if (!kflag) {
          if (this.byteAligned(id, i, at, bitOffset, type)) this.checkFits(id, i, at, bitOffset, 0, bitOffset, this.field(type, Rec.SIZE_OR_TYPE_OFF) * 8, structSize);
          return;
        }
        // The kernel checks kind_flag enum members as ints: non-bitfield ones as 32 bits, and
        // bitfields up to 32 bits (Linux 6.18 accepts an ENUM64 member of bitfield size 0 and
        // rejects one of bitfield size 40).
        let bits = bitSize;
        if (bits === 0) {
          if (!this.byteAligned(id, i, at, bitOffset, type)) return;
          bits = 32;
        } else if (bits > 32) {
          this.report('bad-member', `${this.memberLabel(id, i)} is a ${bits}-bit bitfield of ${this.ref(type)}; enum bitfields are at most 32 bits`, id, at + Rec.MEMBER_OFFSET_OFF, i);
          return;
        }
        this.checkFits(id, i, at, bitOffset, bitSize, bitOffset, bits, structSize);
        return;
      }
      case Kind.Ptr:
        if (this.notBitfield(id, i, at, bitSize, type) && this.byteAligned(id, i, at, bitOffset, type)) {
          this.checkFits(id, i, at, bitOffset, 0, bitOffset, this.kernelPointerSize() * 8, structSize);
        }
        return;
      case Kind.Array: case Kind.Struct: case Kind.Union:
        if (this.notBitfield(id, i, at, bitSize, type) && this.byteAligned(id, i, at, bitOffset, type) && this.kernelSizeOf(type) === SIZE_OK) {
          this.checkFits(id, i, at, bitOffset, 0, bitOffset, this.sizedBytes * 8, structSize);
        }
        return;
      case Kind.Float: {
        if (!this.notBitfield(id, i, at, bitSize, type)) return;
        const size = this.field(type, Rec.SIZE_OR_TYPE_OFF);
        const align = Math.min(this.kernelPointerSize(), size);
        if (align > 0 && bitOffset % (align * 8) !== 0) {
          this.report('bad-member', `${this.memberLabel(id, i)} of ${this.ref(type)} is at bit ${bitOffset}, not aligned to ${align} bytes`, id, at + Rec.MEMBER_OFFSET_OFF, i);
          return;
        }
        this.checkFits(id, i, at, bitOffset, 0, bitOffset, size * 8, structSize);
        return;
      }
      default:
        return;
    }
  }

  private aggregateWord(rec: number): string {
    return ((this.btf.u32(rec + Rec.INFO_OFF) >>> Rec.INFO_KIND_SHIFT) & Rec.INFO_KIND_MASK) === Kind.Union ? 'union' : 'struct';
  }

  /** `bits` starting at bit `startBit` must end inside the struct's `structSize` bytes. */
  private checkFits(id: number, i: number, at: number, bitOffset: number, bitSize: number, startBit: number, bits: number, structSize: number): void {
    if (Math.floor(startBit / 8) + Math.ceil((bits + (startBit % 8)) / 8) <= structSize) return;
    const shape = bitSize ? ` with bitfield size ${bitSize}` : bits % 8 ? ` (${bits} bits)` : ` (${bits / 8} bytes)`;
    const rec = this.rec(id);
    this.report('bad-member', `${this.memberLabel(id, i)} at bit ${bitOffset}${shape} ends past the ${this.aggregateWord(rec)}'s ${structSize} bytes`, id, at + Rec.MEMBER_OFFSET_OFF, i);
  }

  private notBitfield(id: number, i: number, at: number, bitSize: number, type: number): boolean {
    if (bitSize === 0) return true;
    this.report('bad-member', `${this.memberLabel(id, i)} is a ${bitSize}-bit bitfield of ${this.ref(type)}; only integers and enums can be bitfields`, id, at + Rec.MEMBER_OFFSET_OFF, i);
    return false;
  }

  private byteAligned(id: number, i: number, at: number, bitOffset: number, type: number): boolean {
    if (bitOffset % 8 === 0) return true;
    this.report('bad-member', `${this.memberLabel(id, i)} of ${this.ref(type)} is at bit ${bitOffset}, which is not on a byte boundary`, id, at + Rec.MEMBER_OFFSET_OFF, i);
    return false;
  }

  private stepDatasec(id: number): boolean {
    // As the kernel: each DATASEC step starts afresh, since a VAR may lead anywhere.
    this.mode = MODE_ANY;
    const slot = this.top - 1;
    const from = this.stackNext[slot]!;
    const vlen = this.vlen(id);
    const rec = this.rec(id);
    if (from > 0) this.checkSecinfoSize(id, rec, from - 1);
    for (let i = from; i < vlen; i++) {
      const at = rec + Rec.TYPE_HEADER_SIZE + i * Rec.SECINFO_SIZE;
      const type = this.field(id, Rec.TYPE_HEADER_SIZE + i * Rec.SECINFO_SIZE + Rec.SECINFO_TYPE_OFF);
      if (this.isBroken(type)) continue;
      const k = this.kind(type);
      if (k !== Kind.Var) {
        if (k === Kind.Func && this.object) continue;
        const hint = k === Kind.Func ? ' (FUNCs in .ksyms are fixed up by libbpf before loading; check compiler output with --object, or checkBtf(btf, { object: true }))' : '';
        this.report('bad-datasec', `entry ${i} refers to ${this.ref(type)}; DATASEC entries must be VARs${hint}`, id, at + Rec.SECINFO_TYPE_OFF, i);
        continue;
      }
      if (!this.isSink(type) && !this.isResolved(type)) {
        this.stackNext[slot] = i + 1;
        return this.push(type);
      }
      this.checkSecinfoSize(id, rec, i);
    }
    return this.pop(0, 0);
  }

  private checkSecinfoSize(id: number, rec: number, i: number): void {
    const at = rec + Rec.TYPE_HEADER_SIZE + i * Rec.SECINFO_SIZE;
    const varId = this.field(id, Rec.TYPE_HEADER_SIZE + i * Rec.SECINFO_SIZE + Rec.SECINFO_TYPE_OFF);
    const size = this.field(id, Rec.TYPE_HEADER_SIZE + i * Rec.SECINFO_SIZE + Rec.SECINFO_SIZE_OFF);
    if (this.isBroken(varId) || this.kind(varId) !== Kind.Var) return;
    const type = this.field(varId, Rec.SIZE_OR_TYPE_OFF);
    const sized = this.kernelSizeOf(type);
    if (sized !== SIZE_OK) return;
    if (size < this.sizedBytes) {
      this.report('bad-datasec', `entry ${i} (${this.what(varId)}) has size ${size}, smaller than its type ${this.ref(type)} of ${this.sizedBytes} bytes`, id, at + Rec.SECINFO_SIZE_OFF, i);
    }
  }

  private stepFunc(id: number): boolean {
    const rec = this.rec(id);
    const proto = this.field(id, Rec.SIZE_OR_TYPE_OFF);
    if (this.isBroken(proto)) return false;
    if (this.kind(proto) !== Kind.FuncProto) {
      this.report('bad-func', `FUNC refers to ${this.ref(proto)}; a FUNC's type must be a FUNC_PROTO`, id, rec + Rec.SIZE_OR_TYPE_OFF);
      return false;
    }
    if (!this.object) {
      const n = this.vlen(proto);
      const protoRec = this.rec(proto);
      for (let i = 0; i < n; i++) {
        if (this.field(proto, Rec.TYPE_HEADER_SIZE + i * Rec.PARAM_SIZE + Rec.PARAM_TYPE_OFF) !== 0 && this.field(proto, Rec.TYPE_HEADER_SIZE + i * Rec.PARAM_SIZE + Rec.PARAM_NAME_OFF) === 0) {
          this.report('bad-func', `parameter ${i} of its prototype ${this.ref(proto)} has no name; the kernel wants every parameter of a FUNC named (libbpf names those of extern functions before loading; check compiler output with --object, or checkBtf(btf, { object: true }))`, id, protoRec + Rec.TYPE_HEADER_SIZE + i * Rec.PARAM_SIZE + Rec.PARAM_NAME_OFF, i);
          break;
        }
      }
    }
    return this.pop(proto, 0);
  }

  private stepDeclTag(id: number): boolean {
    const rec = this.rec(id);
    const target = this.field(id, Rec.SIZE_OR_TYPE_OFF);
    if (this.isBroken(target)) return false;
    const k = this.kind(target);
    if (k !== Kind.Func && k !== Kind.Struct && k !== Kind.Union && k !== Kind.Var && k !== Kind.Typedef) {
      this.report('bad-tag', `DECL_TAG is attached to ${this.ref(target)}; declaration tags go on a STRUCT, UNION, FUNC, VAR or TYPEDEF`, id, rec + Rec.SIZE_OR_TYPE_OFF);
      return false;
    }
    if (!this.isSink(target) && !this.isResolved(target)) return this.push(target);
    const component = this.btf.i32(rec + Rec.DECL_TAG_COMPONENT_IDX_OFF);
    if (component !== -1) {
      if (k === Kind.Var || k === Kind.Typedef) {
        this.report('bad-tag', `DECL_TAG on ${this.ref(target)} has component_idx ${component}; a ${kindName(k)} has no members or parameters, so it must be -1`, id, rec + Rec.DECL_TAG_COMPONENT_IDX_OFF);
        return false;
      }
      let count: number;
      let holder = target;
      if (k === Kind.Func) {
        holder = this.field(target, Rec.SIZE_OR_TYPE_OFF);
        if (this.isBroken(holder) || this.kind(holder) !== Kind.FuncProto) return this.pop(target, 0);
      }
      count = this.vlen(holder);
      if (component >= count) {
        const of = k === Kind.Func ? `parameters (its prototype is ${this.ref(holder)})` : 'members';
        this.report('bad-tag', `DECL_TAG component_idx ${component} is past the ${count} ${of} of ${this.ref(target)}`, id, rec + Rec.DECL_TAG_COMPONENT_IDX_OFF);
        return false;
      }
    }
    return this.pop(target, 0);
  }

  /** The kernel's btf_func_proto_check: return and parameter types must have a size (void return and trailing varargs aside). */
  private checkProtoTypes(id: number): void {
    const rec = this.rec(id);
    const ret = this.field(id, Rec.SIZE_OR_TYPE_OFF);
    if (ret !== 0 && this.exists(ret)) {
      if (!this.sizedTypeOk(ret)) {
        if (!this.isBroken(ret)) this.report('bad-func', `FUNC_PROTO returns ${this.ref(ret)}, which has no size; a function returns void or a complete type`, id, rec + Rec.SIZE_OR_TYPE_OFF);
      }
    }
    let n = this.vlen(id);
    if (n > 0 && this.field(id, Rec.TYPE_HEADER_SIZE + (n - 1) * Rec.PARAM_SIZE + Rec.PARAM_TYPE_OFF) === 0) n--;
    for (let i = 0; i < n; i++) {
      const at = rec + Rec.TYPE_HEADER_SIZE + i * Rec.PARAM_SIZE;
      const type = this.field(id, Rec.TYPE_HEADER_SIZE + i * Rec.PARAM_SIZE + Rec.PARAM_TYPE_OFF);
      if (!this.exists(type)) continue;
      if (type === 0) {
        this.report('bad-func', `parameter ${i} is void; only the last parameter may be void, to mark varargs`, id, at + Rec.PARAM_TYPE_OFF, i);
        continue;
      }
      if (!this.sizedTypeOk(type) && !this.isBroken(type)) {
        this.report('bad-func', `parameter ${i}${this.memberName(this.field(id, Rec.TYPE_HEADER_SIZE + i * Rec.PARAM_SIZE + Rec.PARAM_NAME_OFF))} has type ${this.ref(type)}, which has no size`, id, at + Rec.PARAM_TYPE_OFF, i);
      }
    }
  }

  /** Resolves `id` if needed, then tells whether it has a size; broken types count as fine (they were reported already). */
  private sizedTypeOk(id: number): boolean {
    if (this.isBroken(id)) return false;
    const k = this.kind(id);
    if (KIND_SOURCE_ONLY[k]) return false;
    if (KIND_NEEDS_RESOLVE[k] && !this.isResolved(id)) {
      this.resolve(id);
      if (this.isBroken(id)) return false;
    }
    return this.kernelSizeOf(id) === SIZE_OK;
  }

  // ---------------------------------------------------------------- pass 3: type tags

  /**
   * The kernel's btf_check_type_tags: in a chain of modifiers, TYPE_TAGs come first (a CONST
   * or TYPEDEF may not lead to a TYPE_TAG; confirmed on Linux 6.18), and no chain is longer
   * than 32. Chains through ids already checked stop there, so the pass is linear.
   */
  private checkTypeTagOrder(): void {
    let checkedUpTo = this.firstId - 1;
    let reported: Set<number> | undefined;
    for (let id = this.firstId; id < this.endId; id++) {
      if (this.state[id] === BROKEN || !KIND_IS_MODIFIER[this.kind(id)]) continue;
      let cur = id;
      let prev = 0;
      let inTags = this.kind(cur) === Kind.TypeTag;
      let ok = true;
      for (let steps = 0; ; steps++) {
        const k = this.kind(cur);
        if (!KIND_IS_MODIFIER[k]) break;
        if (steps === RESOLVE_DEPTH) {
          this.report('type-loop', `a chain of more than ${RESOLVE_DEPTH} typedefs, qualifiers and type tags starts here (or loops)`, id, this.rec(id));
          ok = false;
          break;
        }
        if (k === Kind.TypeTag) {
          if (!inTags) {
            // Report the link (the modifier pointing at the tag) once, however many chains pass through it.
            reported ??= new Set();
            if (!reported.has(prev) && prev >= this.firstId) {
              reported.add(prev);
              this.report('bad-tag', `${this.what(prev)} refers to ${this.ref(cur)}; in a chain of modifiers, type tags must come first, before any TYPEDEF, CONST, VOLATILE or RESTRICT`, prev, this.rec(prev) + Rec.SIZE_OR_TYPE_OFF);
            }
            ok = false;
            break;
          }
        } else {
          inTags = false;
        }
        if (cur <= checkedUpTo) break;
        prev = cur;
        cur = this.field(cur, Rec.SIZE_OR_TYPE_OFF);
        if (!this.exists(cur) || this.isBroken(cur)) break;
      }
      if (ok) checkedUpTo = id;
    }
  }
}
