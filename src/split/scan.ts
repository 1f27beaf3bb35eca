import { typeSectionWords, type Btf } from '../btf/btf.js';
import { WireKind as Kind, kindName } from '../format/kinds.js';
import type { CheckStats, Evidence, EvidenceSignal } from './check.js';
import type { EvidenceList } from './evidence.js';
import { pointerSize, skipModsAndTypedefs, sizeOfOrFailure } from '../btf/query.js';
import type { NameUse, TypeUse } from '../btf/slots.js';
import {
  RECORD_SHAPES, Rec, declTagComponentIdx, elementNameOff, infoKindFlag, infoVlen, intBitOffset, intBits,
  memberBitOffsetOf, memberBitfieldSizeOf, readSizeOrType, secinfoSize, secinfoType, type FieldSlot,
} from '../format/records.js';
import { describeType } from './refs.js';

/**
 * The per-reference rules of the mismatch checker (see `EvidenceSignal` in check.ts): one pass
 * over the module's own types, each name offset and type id checked where it sits, then the
 * string-layout inference over everything seen.
 *
 * A merge checks every module of a kernel (a thousand) before it starts, and nearly all of them
 * match, so the pass over a matching module allocates nothing: records are read word by word
 * through a plan compiled from the descriptor table, roles are small numbers, memos are typed
 * arrays, and what a base's types resolve to is kept for the next module on the same base.
 * Evidence is built in the `report*` methods only, so that the closures describing it do not
 * make every call of the checks allocate.
 */

/**
 * What a slot is for, as a number the checks switch on: the `TypeUse` of a type id, then the
 * `NameUse` of a name offset (from {@link Role.TypeName} on). The strings stay the vocabulary of
 * messages ({@link useLabel}).
 */
const enum Role {
  Member, Pointee, Typedef, Modifier, TypeTag, ArrayElement, ArrayIndex, FuncProto, Return, Param, Var,
  DatasecEntry, DeclTag,
  TypeName, MemberName, EnumeratorName, ParamName,
}

const TYPE_ROLES: Readonly<Record<TypeUse, Role>> = {
  'member': Role.Member, 'pointee': Role.Pointee, 'typedef': Role.Typedef, 'modifier': Role.Modifier,
  'type-tag': Role.TypeTag, 'array-element': Role.ArrayElement, 'array-index': Role.ArrayIndex,
  'func-proto': Role.FuncProto, 'return': Role.Return, 'param': Role.Param, 'var': Role.Var,
  'datasec-entry': Role.DatasecEntry, 'decl-tag': Role.DeclTag,
};
const NAME_ROLES: Readonly<Record<NameUse, Role>> = {
  type: Role.TypeName, member: Role.MemberName, enumerator: Role.EnumeratorName, param: Role.ParamName,
};
/** The use each role stands for, for messages. */
const USE_OF_ROLE: readonly (TypeUse | NameUse)[] = (() => {
  const uses: (TypeUse | NameUse)[] = [];
  for (const [use, role] of Object.entries(TYPE_ROLES)) uses[role] = use as TypeUse;
  for (const [use, role] of Object.entries(NAME_ROLES)) uses[role] = use as NameUse;
  return uses;
})();

/**
 * A kind's slots as the scan walks them: triples of (word in the record or element, role, and
 * for a name the {@link NameRule} it must fit), in the order `visitRecord` visits them.
 * Compiled from `RECORD_SHAPES`, the one description of where ids and names lie.
 */
interface SlotPlan {
  readonly fixed: Int32Array;
  readonly element: Int32Array;
  /** The word where the first element starts, from the record's first word. */
  readonly elementStart: number;
  /** Words per element; 0 when the kind has none. */
  readonly elementWords: number;
}

const SLOT_STRIDE = 3;

function compileSlots(kind: number, slots: readonly FieldSlot[]): Int32Array {
  const plan = new Int32Array(slots.length * SLOT_STRIDE);
  slots.forEach((f, i) => {
    const role = f.holds === 'type' ? TYPE_ROLES[f.use] : NAME_ROLES[f.use];
    plan[SLOT_STRIDE * i] = f.at >>> 2;
    plan[SLOT_STRIDE * i + 1] = role;
    plan[SLOT_STRIDE * i + 2] = f.holds === 'name' ? nameRule(kind, role) : 0;
  });
  return plan;
}

/** {@link SlotPlan} by kind; undefined for kinds whose payload btfkit cannot interpret (only their name is checked). */
const SLOT_PLANS: readonly (SlotPlan | undefined)[] = RECORD_SHAPES.map((s, kind) => s && {
  fixed: compileSlots(kind, s.fixed), element: compileSlots(kind, s.element),
  elementStart: (Rec.TYPE_HEADER_SIZE + s.infoSize) >>> 2, elementWords: s.elemSize >>> 2,
});

/**
 * What a name may look like: an identifier (types, members, enumerators, parameters),
 * printable ASCII with spaces (INT and FLOAT names like "long unsigned int", tags), or a
 * section name (".data..percpu").
 */
const enum NameRule { Identifier, Printable, Section }

/** Bits of {@link CHAR_CLASSES}: which rule lets a byte start or continue a name. */
const enum CharClass { IdentifierStart = 1, Identifier = 2, Printable = 4, Section = 8 }

/** Each byte's {@link CharClass} bits, so that testing a name is one table read per byte. */
const CHAR_CLASSES = (() => {
  const classes = new Uint8Array(256);
  for (let c = 0x20; c <= 0x7e; c++) {
    const letter = c === 95 || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
    const digit = c >= 48 && c <= 57;
    classes[c] = CharClass.Printable | (c > 0x20 ? CharClass.Section : 0)
      | (letter ? CharClass.IdentifierStart | CharClass.Identifier : 0) | (digit ? CharClass.Identifier : 0);
  }
  return classes;
})();

/** The bits of {@link CharClass} every byte of a name needs to fit `rule` (the first byte of an identifier needs more). */
function ruleClass(rule: NameRule): CharClass {
  return rule === NameRule.Identifier ? CharClass.Identifier : rule === NameRule.Printable ? CharClass.Printable : CharClass.Section;
}

/** Tests the NUL-terminated name at `pos` against a rule, without decoding it. */
function nameBytesFit(bytes: Uint8Array, pos: number, rule: NameRule): boolean {
  const first = bytes[pos]!;
  if (first === 0) return false;
  if (rule === NameRule.Identifier && (CHAR_CLASSES[first]! & CharClass.IdentifierStart) === 0) return false;
  const allowed = ruleClass(rule);
  for (let p = pos; p < bytes.length; p++) {
    const c = bytes[p]!;
    if (c === 0) break;
    if ((CHAR_CLASSES[c]! & allowed) === 0) return false;
  }
  return true;
}

/**
 * What {@link Scanner} records at each start of a string of the module's own: that a string
 * starts there, which {@link NameRule}s the string fits (`Fits << rule`), and whether a name
 * offset refers to it (under the inferred layout).
 */
const enum StringMark { Start = 1, Fits = 2, Referenced = 16 }

/** Kinds as bits of a 32-bit mask (every known kind is below 32; unknown kinds are in no set). */
function inKindSet(set: number, kind: number): boolean {
  return kind < 32 && ((set >>> kind) & 1) === 1;
}
const SIZED_KINDS = (1 << Kind.Int) | (1 << Kind.Ptr) | (1 << Kind.Array) | (1 << Kind.Struct) | (1 << Kind.Union)
  | (1 << Kind.Enum) | (1 << Kind.Enum64) | (1 << Kind.Float);
/** Kinds nothing may point at, be a typedef or modifier of, take or return. */
const NOT_A_VALUE_TYPE = (1 << Kind.Func) | (1 << Kind.Var) | (1 << Kind.Datasec) | (1 << Kind.DeclTag);

/**
 * Memos hold an answer plus this, so that 0 means "not asked yet": answers are type ids, sizes,
 * or the negative failures of `resolveChain` and `sizeOfOrFailure` (-1 to -4).
 */
const MEMO_BIAS = 8;
/** Set in a memoised kind (kinds take 7 bits). */
const KIND_KNOWN = 0x80;

/**
 * What the scanner learns about the types of a base, kept for every module scanned on it: the
 * modules of one kernel refer to the same base types over and over. Only answers the base alone
 * decides are kept (see {@link Scanner.resolvedOrFailure}); a few bytes per base type.
 */
class BaseFacts {
  /** Each base id's kind with {@link KIND_KNOWN} set; 0 while not read. */
  private readonly kinds: Uint8Array;
  /** What each base id resolves to, plus {@link MEMO_BIAS}; 0 while not known. */
  readonly resolved: Int32Array;
  /** Base types' sizes plus {@link MEMO_BIAS}, by pointer size (a module's ELF class decides what a PTR measures). */
  private readonly sizes = new Map<number, Float64Array>();
  /** The number of the scan that last saw each base id, to count distinct base types without a set per module. */
  readonly seenInScan: Uint32Array;
  private scans = 0;
  readonly memory = new ScanMemory();

  constructor(readonly base: Btf) {
    this.kinds = new Uint8Array(base.endId);
    this.resolved = new Int32Array(base.endId);
    this.seenInScan = new Uint32Array(base.endId);
  }

  /** Kind of base type `id` (1 to the base's end). */
  kindOf(id: number): number {
    let k = this.kinds[id]!;
    if (k === 0) this.kinds[id] = k = this.base.kind(id) | KIND_KNOWN;
    return k & ~KIND_KNOWN;
  }

  /** The sizes kept for modules whose pointers are `pointerBytes` long. */
  sizesFor(pointerBytes: number): Float64Array {
    let sizes = this.sizes.get(pointerBytes);
    if (!sizes) this.sizes.set(pointerBytes, (sizes = new Float64Array(this.base.endId)));
    return sizes;
  }

  /** A number for a new scan, different from every one {@link seenInScan} holds. */
  nextScan(): number {
    if (this.scans === 0xffffffff) {
      this.seenInScan.fill(0);
      this.scans = 0;
    }
    return ++this.scans;
  }
}

/**
 * The working memory of a scan, indexed by the module's own ids and string positions, kept
 * between scans on one base: a merge scans a thousand modules, and allocating typed arrays for
 * each costs more than scanning a small one. Each scan clears the part it uses first.
 */
class ScanMemory {
  ownResolved: Int32Array = new Int32Array(0);
  ownSizes: Float64Array = new Float64Array(0);
  ownStrings: Uint8Array = new Uint8Array(0);
  ownNameRefs: Uint32Array = new Uint32Array(256);

  /** Zeroed memory for a module of `types` types and `stringBytes` bytes of strings. */
  prepare(types: number, stringBytes: number): void {
    if (this.ownResolved.length < types) {
      const n = Math.max(types, this.ownResolved.length * 2);
      this.ownResolved = new Int32Array(n);
      this.ownSizes = new Float64Array(n);
    } else {
      this.ownResolved.fill(0, 0, types);
      this.ownSizes.fill(0, 0, types);
    }
    if (this.ownStrings.length < stringBytes) this.ownStrings = new Uint8Array(Math.max(stringBytes, this.ownStrings.length * 2));
    else this.ownStrings.fill(0, 0, stringBytes);
  }
}

const baseFacts = new WeakMap<Btf, BaseFacts>();

const EMPTY_INT32 = new Int32Array(0);
const EMPTY_UINT32 = new Uint32Array(0);
const EMPTY_FLOAT64 = new Float64Array(0);
const EMPTY_UINT8 = new Uint8Array(0);

function factsAbout(base: Btf): BaseFacts {
  let facts = baseFacts.get(base);
  if (!facts) baseFacts.set(base, (facts = new BaseFacts(base)));
  return facts;
}

/** @internal */
export class Scanner {
  private readonly firstId: number;
  private readonly endId: number;
  private readonly firstStringOffset: number;
  /** Undefined only for a blob without a base, which has no base ids to ask about. */
  private readonly facts: BaseFacts | undefined;
  /** The module's type section in host-order words, and where each of its types starts there (`typeOffsets` in bytes). */
  private readonly words: Uint32Array;
  private readonly typeOffsets: Uint32Array;
  private readonly typeStart: number;
  private scanNumber = 0;
  private baseTypeRefs = 0;
  private distinctBaseIds = 0;
  private baseStringRefs = 0;
  private ownStringRefs = 0;
  /** {@link StringMark}s by position in the module's string section (`ownStringLength` bytes). */
  private ownStrings: Uint8Array;
  private readonly ownStringLength: number;
  /** How many strings the module's string section holds, and where the last one starts. */
  private ownStringCount = 0;
  private lastOwnStringStart = 0;
  /** Every name offset into the module's own strings, in the order met (`ownNameRefCount` of them). */
  private ownNameRefs: Uint32Array;
  private ownNameRefCount = 0;
  private maxOwnNameRef = 0;
  /** Memos for the module's own ids, index `id - firstId`, answers plus {@link MEMO_BIAS}. */
  private ownResolved: Int32Array;
  private ownSizes: Float64Array;
  /** Answers for ids the base cannot answer alone (hostile input only). */
  private otherResolved: Map<number, number> | undefined;
  private otherSizes: Map<number, number> | undefined;
  /** The pointer size sizes are taken with, and the base's sizes for it; unset until first needed. */
  private effectivePointerSize = 0;
  private baseSizes: Float64Array | undefined;

  /** `pointerSize`: from the module's ELF class when known; else libbpf's guess from the BTF. */
  constructor(private readonly mod: Btf, private readonly ev: EvidenceList, private readonly stats: CheckStats, private readonly pointerSize?: number) {
    this.firstId = mod.firstId;
    this.endId = mod.endId;
    this.firstStringOffset = mod.firstStringOffset;
    this.facts = mod.base ? factsAbout(mod.base) : undefined;
    this.words = typeSectionWords(mod);
    this.typeOffsets = mod.typeOffsets;
    this.typeStart = mod.typeStart;
    this.ownStringLength = mod.header.strLen;
    // Taken from the base's memory when the scan runs.
    this.ownResolved = EMPTY_INT32;
    this.ownSizes = EMPTY_FLOAT64;
    this.ownStrings = EMPTY_UINT8;
    this.ownNameRefs = EMPTY_UINT32;
  }

  /**
   * Marks where each of the module's own strings starts and which name rules it fits, in one
   * pass over the section: every own name offset then costs a read, and the string-layout
   * inference knows the strings.
   */
  private markOwnStrings(): void {
    const mod = this.mod;
    const bytes = mod.bytes;
    const s = mod.stringStart;
    const len = mod.header.strLen;
    const marks = this.ownStrings;
    let start = 0;
    let classes = 0xff;
    let count = 0;
    // The section ends with a NUL (Btf.parse checks), which closes the last string.
    for (let i = 0; i < len; i++) {
      const c = bytes[s + i]!;
      if (c !== 0) {
        classes &= CHAR_CLASSES[c]!;
        continue;
      }
      let mark = StringMark.Start;
      if (i > start) {
        if ((CHAR_CLASSES[bytes[s + start]!]! & CharClass.IdentifierStart) !== 0 && (classes & CharClass.Identifier) !== 0) mark |= StringMark.Fits << NameRule.Identifier;
        if ((classes & CharClass.Printable) !== 0) mark |= StringMark.Fits << NameRule.Printable;
        if ((classes & CharClass.Section) !== 0) mark |= StringMark.Fits << NameRule.Section;
      }
      marks[start] = mark;
      this.lastOwnStringStart = start;
      count++;
      start = i + 1;
      classes = 0xff;
    }
    this.ownStringCount = count;
  }

  run(): void {
    const words = this.words;
    const offsets = this.typeOffsets;
    if (this.facts) this.scanNumber = this.facts.nextScan();
    this.baseTypeRefs = this.distinctBaseIds = this.baseStringRefs = this.ownStringRefs = 0;
    this.ownNameRefCount = this.maxOwnNameRef = 0;
    const memory = this.facts?.memory ?? new ScanMemory();
    memory.prepare(offsets.length, this.ownStringLength);
    this.ownResolved = memory.ownResolved;
    this.ownSizes = memory.ownSizes;
    this.ownStrings = memory.ownStrings;
    this.ownNameRefs = memory.ownNameRefs;
    this.markOwnStrings();
    for (let i = 0; i < offsets.length; i++) {
      const id = this.firstId + i;
      const rec = (offsets[i]! - this.typeStart) >>> 2;
      const info = words[rec + Rec.INFO_WORD]!;
      const kind = (info >>> Rec.INFO_KIND_SHIFT) & Rec.INFO_KIND_MASK;
      const plan = SLOT_PLANS[kind];
      if (!plan) {
        this.checkName(id, words[rec + Rec.NAME_WORD]!, Role.TypeName, nameRule(kind, Role.TypeName), -1);
        continue;
      }
      const vlen = plan.elementWords === 0 ? 0 : info & Rec.INFO_VLEN_MASK;
      // The record's own slots (index -1), then each element's.
      for (let index = -1; index < vlen; index++) {
        const slots = index < 0 ? plan.fixed : plan.element;
        const at = index < 0 ? rec : rec + plan.elementStart + index * plan.elementWords;
        for (let s = 0; s < slots.length; s += SLOT_STRIDE) {
          const value = words[at + slots[s]!]!;
          const role = slots[s + 1]!;
          if (role >= Role.TypeName) this.checkName(id, value, role, slots[s + 2]!, index);
          else this.checkTypeRef(id, value, role, index);
        }
      }
      if (kind === Kind.Struct || kind === Kind.Union) this.checkLayout(id, kind, rec, info);
      else if (kind === Kind.Datasec) this.checkDatasec(id);
      else if (kind === Kind.DeclTag) this.checkDeclTag(id);
    }
    const stats = this.stats;
    stats.baseTypeRefs += this.baseTypeRefs;
    stats.distinctBaseTypes = this.distinctBaseIds;
    stats.baseStringRefs += this.baseStringRefs;
    stats.ownStringRefs += this.ownStringRefs;
    memory.ownNameRefs = this.ownNameRefs;
    this.inferStringLayout();
  }

  /** Counts a piece of evidence; builds its description only when it will be kept. */
  private add(id: number, signal: EvidenceSignal, build: () => Omit<Evidence, 'typeId' | 'type'>): void {
    if (this.ev.full) this.ev.count1(signal);
    else this.ev.add({ typeId: id, type: describeType(this.mod, id), ...build() });
  }

  private elementName(id: number, index: number): string | undefined {
    if (index < 0) return undefined;
    const o = this.mod.owner(id)!;
    const off = elementNameOff(o, o.recordOffset(id), index);
    return off === undefined ? undefined : this.mod.str(off);
  }

  /** Kind of type `id` (0 for void); `id` must be below the module's end. */
  private kindOf(id: number): number {
    if (id >= this.firstId) {
      const rec = (this.typeOffsets[id - this.firstId]! - this.typeStart) >>> 2;
      return (this.words[rec + Rec.INFO_WORD]! >>> Rec.INFO_KIND_SHIFT) & Rec.INFO_KIND_MASK;
    }
    return id === 0 ? 0 : this.facts!.kindOf(id);
  }

  /** The word at `off` in the record of type `id` (1 to the module's end), wherever in the chain it lies. */
  private recordWord(id: number, off: number): number {
    let o = this.mod;
    while (id < o.firstId) o = o.base!;
    return o.u32(o.typeOffsets[id - o.firstId]! + off);
  }

  // -- names --

  /** Name offset `off` in `role`, which must fit `rule`. */
  private checkName(id: number, off: number, role: Role, rule: NameRule, index: number): void {
    if (off === 0) return;
    if (off >= this.firstStringOffset) {
      this.ownStringRefs++;
      this.noteOwnNameRef(off);
      // Only a string's start has Fits bits: a name that fits starts a string.
      const p = off - this.firstStringOffset;
      if (p < this.ownStringLength && (this.ownStrings[p]! & (StringMark.Fits << rule)) !== 0) return;
      this.checkNameAt(id, off, role, rule, index, this.mod, false);
      return;
    }
    this.baseStringRefs++;
    // Offsets below this blob's belong to the base chain, whose first blob starts at 0.
    let holder = this.mod.base!;
    while (off < holder.firstStringOffset) holder = holder.base!;
    this.checkNameAt(id, off, role, rule, index, holder, true);
  }

  /** The checks of a name in the blob that holds it (or, for the module's own strings, should). */
  private checkNameAt(id: number, off: number, role: Role, rule: NameRule, index: number, holder: Btf, inBase: boolean): void {
    if (off >= holder.endStringOffset) {
      this.reportStringRange(id, off, index);
      return;
    }
    const bytes = holder.bytes;
    const pos = holder.stringStart + off - holder.firstStringOffset;
    if (pos > holder.stringStart && bytes[pos - 1] !== 0) {
      this.reportStringInside(id, off, role, index, holder, pos, inBase);
      return;
    }
    const fits = inBase ? nameBytesFit(bytes, pos, rule) : (this.ownStrings[pos - holder.stringStart]! & (StringMark.Fits << rule)) !== 0;
    if (!fits) this.reportName(id, off, role, index, rule, inBase);
  }

  private noteOwnNameRef(off: number): void {
    if (this.ownNameRefCount === this.ownNameRefs.length) {
      const grown = new Uint32Array(Math.max(256, this.ownNameRefs.length * 2));
      grown.set(this.ownNameRefs);
      this.ownNameRefs = grown;
    }
    this.ownNameRefs[this.ownNameRefCount++] = off;
    if (off > this.maxOwnNameRef) this.maxOwnNameRef = off;
  }

  private reportStringRange(id: number, off: number, index: number): void {
    const mod = this.mod;
    const at = index >= 0 ? { member: index } : {};
    this.add(id, 'string-range', () => ({ signal: 'string-range', ...at, ref: 'string', target: off, inBase: false, problem: `name offset ${off} lies past the last string (offsets end at ${mod.endStringOffset})` }));
  }

  private reportStringInside(id: number, off: number, role: Role, index: number, holder: Btf, pos: number, inBase: boolean): void {
    const at = index >= 0 ? { member: index } : {};
    const start = stringStartBefore(holder.bytes, holder.stringStart, pos);
    const whole = decodeAt(holder.bytes, start);
    const startOff = off - (pos - start);
    this.add(id, 'string-inside', () => ({
      signal: 'string-inside', ...at, ref: 'string', target: off, inBase,
      found: `'${whole}' (offset ${startOff})`,
      problem: `${useLabel(USE_OF_ROLE[role]!)} name offset ${off} lands ${pos - start} bytes inside the ${inBase ? 'base' : 'module'} string '${whole}' (offset ${startOff}), not at the start of a string`,
    }));
  }

  private reportName(id: number, off: number, role: Role, index: number, rule: NameRule, inBase: boolean): void {
    const at = index >= 0 ? { member: index } : {};
    const text = this.mod.str(off) ?? '';
    this.add(id, 'name', () => ({
      signal: 'name', ...at, ref: 'string', target: off, inBase, found: `'${text}'`,
      problem: `${useLabel(USE_OF_ROLE[role]!)} name '${text}' at offset ${off} is not ${rule === NameRule.Identifier ? 'an identifier' : rule === NameRule.Section ? 'a section name' : 'printable text'}`,
    }));
  }

  /**
   * pahole and libbpf write only strings that some type uses. Then the largest own offset
   * referenced is the last string's, which pins down the base string length the module was
   * laid out for; if every referenced own offset lands on a string start under that length,
   * the inference holds, and a different length than the base's means the base is not the one.
   */
  private inferStringLayout(): void {
    const count = this.ownNameRefCount;
    const mod = this.mod;
    const len = mod.header.strLen;
    if (count === 0 || len === 0) return;
    const inferred = this.maxOwnNameRef - this.lastOwnStringStart;
    if (inferred < 0) return;
    // Every own string must be referenced at inferred + its position, and nothing else.
    const marks = this.ownStrings;
    const refs = this.ownNameRefs;
    let distinct = 0;
    for (let k = 0; k < count; k++) {
      const p = refs[k]! - inferred;
      if (p < 0) continue;
      if (p >= len || (marks[p]! & StringMark.Start) === 0) return;
      if ((marks[p]! & StringMark.Referenced) === 0) {
        marks[p] = marks[p]! | StringMark.Referenced;
        distinct++;
      }
    }
    const starts = this.ownStringCount;
    if (distinct !== starts) return;
    this.stats.inferredBaseStringLength = inferred;
    if (inferred !== mod.firstStringOffset) {
      this.ev.add({
        signal: 'string-layout', typeId: 0, type: '(module strings)', ref: 'string', target: inferred,
        problem: `the module's ${starts} strings are referenced as if the base's string section were ${inferred} bytes long; this base's is ${mod.firstStringOffset} bytes`,
      });
    }
  }

  // -- type references --

  private checkTypeRef(id: number, ref: number, role: Role, index: number): void {
    const inBase = ref !== 0 && ref < this.firstId;
    if (inBase) {
      this.baseTypeRefs++;
      const seen = this.facts!.seenInScan;
      if (seen[ref] !== this.scanNumber) {
        seen[ref] = this.scanNumber;
        this.distinctBaseIds++;
      }
    }
    if (ref >= this.endId) {
      this.reportTypeRange(id, ref, role, index);
      return;
    }
    const problem = this.useProblem(ref, role);
    if (problem !== undefined) this.reportKind(id, ref, index, inBase, problem);
  }

  private elementAt(id: number, index: number): { member?: number; memberName?: string } {
    return index >= 0 ? { member: index, ...memberName(this.elementName(id, index)) } : {};
  }

  private reportTypeRange(id: number, ref: number, role: Role, index: number): void {
    const mod = this.mod;
    this.add(id, 'type-range', () => ({ signal: 'type-range', ...this.elementAt(id, index), ref: 'type', target: ref, inBase: false, problem: `${useLabel(USE_OF_ROLE[role]!)} refers to type ${ref}, past the last type (${mod.endId - 1})` }));
  }

  private reportKind(id: number, ref: number, index: number, inBase: boolean, problem: string): void {
    this.add(id, 'kind', () => ({ signal: 'kind', ...this.elementAt(id, index), ref: 'type', target: ref, inBase, found: describeType(this.mod, ref), problem }));
  }

  /** What is wrong with `ref` (below the module's end) in `role`, or undefined when it fits. */
  private useProblem(ref: number, role: Role): string | undefined {
    if (ref === 0) {
      switch (role) {
        // A void parameter marks varargs; where it may sit does not depend on the base.
        case Role.Pointee: case Role.Typedef: case Role.Modifier: case Role.TypeTag: case Role.Return: case Role.Param: return undefined;
        default: return `${useLabel(USE_OF_ROLE[role]!)} is void`;
      }
    }
    const k = this.kindOf(ref);
    switch (role) {
      case Role.FuncProto:
        return k === Kind.FuncProto ? undefined : `a FUNC's type must be a FUNC_PROTO, but [${ref}] is ${kindName(k)}`;
      case Role.Member: case Role.ArrayElement: case Role.Var: {
        const r = this.resolvedOrFailure(ref);
        if (r < 0) return `${useLabel(USE_OF_ROLE[role]!)} type [${ref}] does not resolve (a loop of typedefs or modifiers)`;
        const rk = this.kindOf(r);
        if (!inKindSet(SIZED_KINDS, rk)) {
          return `${useLabel(USE_OF_ROLE[role]!)} needs a type with a size, but [${ref}]${r !== ref ? ` resolves to [${r}] which` : ''} is ${kindName(rk)}${rk === Kind.Fwd ? ' (an incomplete type)' : ''}`;
        }
        return undefined;
      }
      case Role.ArrayIndex: {
        const r = this.resolvedOrFailure(ref);
        if (r < 0 || this.kindOf(r) !== Kind.Int) return `an array index type must be an INT, but [${ref}] is ${kindName(k)}`;
        return undefined;
      }
      case Role.Pointee: case Role.Typedef: case Role.Modifier: case Role.TypeTag:
        return inKindSet(NOT_A_VALUE_TYPE, k) ? `${useLabel(USE_OF_ROLE[role]!)} cannot be a ${kindName(k)}` : undefined;
      case Role.Return: case Role.Param:
        if (inKindSet(NOT_A_VALUE_TYPE, k) || k === Kind.FuncProto) return `${useLabel(USE_OF_ROLE[role]!)} cannot be a ${kindName(k)}`;
        return undefined;
      case Role.DatasecEntry:
        return k === Kind.Var || k === Kind.Func ? undefined : `a DATASEC entry must be a VAR (or FUNC), but [${ref}] is ${kindName(k)}`;
      case Role.DeclTag:
        return k === Kind.Struct || k === Kind.Union || k === Kind.Func || k === Kind.Var || k === Kind.Typedef
          ? undefined : `a DECL_TAG can only tag a STRUCT, UNION, FUNC, VAR or TYPEDEF, but [${ref}] is ${kindName(k)}`;
    }
    return undefined;
  }

  /**
   * `ref` with typedefs, modifiers and type tags stripped; negative on a loop or a bad id.
   * A base type's answer is kept for every module on that base when the base alone gives it:
   * a chain that stays inside the base reads the same records from the module. A chain the
   * base cannot finish (only in a malformed base, pointing past its own end) is the module's
   * to follow, and so is not kept.
   */
  private resolvedOrFailure(ref: number): number {
    const firstId = this.firstId;
    if (ref >= firstId && ref < this.endId) {
      const memo = this.ownResolved;
      const at = ref - firstId;
      if (memo[at] === 0) memo[at] = resolveChain(this.mod, ref) + MEMO_BIAS;
      return memo[at]! - MEMO_BIAS;
    }
    const facts = this.facts;
    if (facts && ref > 0 && ref < firstId) {
      const known = facts.resolved[ref]!;
      if (known !== 0) return known - MEMO_BIAS;
      const r = resolveChain(facts.base, ref);
      if (r >= 0) {
        facts.resolved[ref] = r + MEMO_BIAS;
        return r;
      }
    }
    this.otherResolved ??= new Map();
    let r = this.otherResolved.get(ref);
    if (r === undefined) this.otherResolved.set(ref, (r = resolveChain(this.mod, ref)));
    return r;
  }

  /**
   * Size in bytes of `ref`, negative when it has none (void, FWD, FUNC..., or a loop or a
   * missing id prevents knowing). Kept for base types as {@link resolvedOrFailure} keeps them.
   */
  private sizeOrFailure(ref: number): number {
    const firstId = this.firstId;
    if (ref >= firstId && ref < this.endId) {
      const memo = this.ownSizes;
      const at = ref - firstId;
      if (memo[at] === 0) memo[at] = sizeOfOrFailure(this.mod, ref, this.pointerSize) + MEMO_BIAS;
      return memo[at]! - MEMO_BIAS;
    }
    const facts = this.facts;
    if (facts && ref > 0 && ref < firstId) {
      // The module's pointer size, asked of the base explicitly, sizes as the module would.
      if (this.baseSizes === undefined) {
        this.effectivePointerSize = this.pointerSize ?? pointerSize(this.mod);
        this.baseSizes = facts.sizesFor(this.effectivePointerSize);
      }
      const sizes = this.baseSizes;
      const known = sizes[ref]!;
      if (known !== 0) return known - MEMO_BIAS;
      const size = sizeOfOrFailure(facts.base, ref, this.effectivePointerSize);
      if (size >= 0) {
        sizes[ref] = size + MEMO_BIAS;
        return size;
      }
    }
    this.otherSizes ??= new Map();
    let size = this.otherSizes.get(ref);
    if (size === undefined) this.otherSizes.set(ref, (size = sizeOfOrFailure(this.mod, ref, this.pointerSize)));
    return size;
  }

  // -- layouts --

  /** Member offsets and sizes of the struct or union `id`, its record at word `rec`. */
  private checkLayout(id: number, kind: Kind.Struct | Kind.Union, rec: number, info: number): void {
    const words = this.words;
    const size = words[rec + Rec.SIZE_OR_TYPE_WORD]!;
    const sizeBits = size * 8;
    const vlen = infoVlen(info);
    const kflag = infoKindFlag(info);
    let lastOffset = 0;
    let lastEnd = 0;
    let lastIndex = -1;
    for (let i = 0, m = rec + Rec.TYPE_HEADER_WORDS; i < vlen; i++, m += Rec.MEMBER_WORDS) {
      const ref = words[m + Rec.MEMBER_TYPE_WORD]!;
      if (ref === 0 || ref >= this.endId) continue;
      const r = this.resolvedOrFailure(ref);
      if (r < 0) continue;
      const rk = this.kindOf(r);
      if (!inKindSet(SIZED_KINDS, rk)) continue;
      const typeBytes = this.sizeOrFailure(ref);
      if (typeBytes < 0) continue;
      const raw = words[m + Rec.MEMBER_OFFSET_WORD]!;
      let bitOffset = memberBitOffsetOf(raw, kflag);
      const bitfieldSize = memberBitfieldSizeOf(raw, kflag);
      let width: number;
      if (bitfieldSize) {
        if (rk !== Kind.Int && rk !== Kind.Enum && rk !== Kind.Enum64) {
          this.reportBitfieldKind(id, rec, i, ref, bitfieldSize, rk);
          continue;
        }
        if (bitfieldSize > typeBytes * 8) {
          this.reportBitfieldWidth(id, rec, i, ref, bitfieldSize, typeBytes);
          continue;
        }
        width = bitfieldSize;
      } else if (!kflag && rk === Kind.Int) {
        // Old-style bitfields: the INT itself carries the width and an extra bit offset.
        const data = this.recordWord(r, Rec.INT_DATA_OFF);
        width = intBits(data);
        bitOffset += intBitOffset(data);
      } else {
        width = typeBytes * 8;
        if (bitOffset % 8 !== 0) this.reportUnaligned(id, rec, i, ref, bitOffset);
      }
      if (bitOffset + width > sizeBits) {
        this.reportPastEnd(id, rec, i, ref, bitOffset, width, typeBytes, size, kind);
        continue;
      }
      if (kind === Kind.Union) {
        if (bitOffset !== 0) this.reportUnionOffset(id, rec, i, bitOffset);
        continue;
      }
      if (bitOffset < lastOffset) {
        this.reportBackwards(id, rec, i, bitOffset, lastOffset);
      } else if (width > 0 && bitOffset < lastEnd) {
        this.reportOverlap(id, rec, i, ref, bitOffset, lastIndex, lastEnd);
      }
      lastOffset = bitOffset;
      if (width > 0 && bitOffset + width > lastEnd) {
        lastEnd = bitOffset + width;
        lastIndex = i;
      }
    }
  }

  // Evidence about member `i` of the struct or union `id` (its record at word `rec`), of type `ref`.
  // Each finding of checkLayout has its own method so that the loop holds no closure: a closure
  // there would capture the loop's variables and make every member allocate.

  private memberAt(rec: number, i: number): { member: number; memberName?: string } {
    return { member: i, ...memberName(this.mod.str(this.words[rec + Rec.TYPE_HEADER_WORDS + i * Rec.MEMBER_WORDS + Rec.MEMBER_NAME_WORD]!)) };
  }

  private reportBitfieldKind(id: number, rec: number, i: number, ref: number, bitfieldSize: number, resolvedKind: number): void {
    const mod = this.mod;
    this.add(id, 'kind', () => ({ signal: 'kind', ...this.memberAt(rec, i), ref: 'type', target: ref, inBase: ref < mod.firstId, found: describeType(mod, ref), problem: `bitfield member of ${bitfieldSize} bits needs an INT or ENUM type, but [${ref}] is ${kindName(resolvedKind)}` }));
  }

  private reportBitfieldWidth(id: number, rec: number, i: number, ref: number, bitfieldSize: number, typeBytes: number): void {
    const mod = this.mod;
    this.add(id, 'size', () => ({ signal: 'size', ...this.memberAt(rec, i), ref: 'type', target: ref, inBase: ref < mod.firstId, found: `${describeType(mod, ref)}, ${typeBytes} bytes`, problem: `bitfield of ${bitfieldSize} bits is wider than its type [${ref}] (${typeBytes * 8} bits)` }));
  }

  private reportUnaligned(id: number, rec: number, i: number, ref: number, bitOffset: number): void {
    const mod = this.mod;
    this.add(id, 'layout', () => ({ signal: 'layout', ...this.memberAt(rec, i), ref: 'type', target: ref, inBase: ref < mod.firstId, found: describeType(mod, ref), problem: `member at bit ${bitOffset} is not a bitfield but is not byte aligned` }));
  }

  private reportPastEnd(id: number, rec: number, i: number, ref: number, bitOffset: number, width: number, typeBytes: number, size: number, kind: Kind.Struct | Kind.Union): void {
    const mod = this.mod;
    this.add(id, 'size', () => ({
      signal: 'size', ...this.memberAt(rec, i), ref: 'type', target: ref, inBase: ref < mod.firstId, found: `${describeType(mod, ref)}, ${typeBytes} bytes`,
      problem: `member at bit ${bitOffset} of ${width} bits ends at bit ${bitOffset + width}, past the end of the ${size}-byte ${kind === Kind.Struct ? 'struct' : 'union'}`,
    }));
  }

  private reportUnionOffset(id: number, rec: number, i: number, bitOffset: number): void {
    this.add(id, 'layout', () => ({ signal: 'layout', ...this.memberAt(rec, i), problem: `union member at bit ${bitOffset}; union members all start at bit 0` }));
  }

  private reportBackwards(id: number, rec: number, i: number, bitOffset: number, lastOffset: number): void {
    this.add(id, 'layout', () => ({ signal: 'layout', ...this.memberAt(rec, i), problem: `member at bit ${bitOffset} comes after a member at bit ${lastOffset}; struct member offsets never go backwards` }));
  }

  private reportOverlap(id: number, rec: number, i: number, ref: number, bitOffset: number, lastIndex: number, lastEnd: number): void {
    const mod = this.mod;
    this.add(id, 'layout', () => ({
      signal: 'layout', ...this.memberAt(rec, i), ref: 'type', target: ref, inBase: ref < mod.firstId, found: describeType(mod, ref),
      problem: `member at bit ${bitOffset} overlaps member ${lastIndex}, which ends at bit ${lastEnd}`,
    }));
  }

  private checkDatasec(id: number): void {
    const mod = this.mod;
    const o = mod.owner(id)!;
    const rec = o.recordOffset(id);
    const vlen = mod.vlen(id);
    for (let i = 0; i < vlen; i++) {
      const ref = secinfoType(o, rec, i);
      const slot = secinfoSize(o, rec, i);
      if (ref === 0 || ref >= mod.endId || this.kindOf(ref) !== Kind.Var) continue;
      const size = this.sizeOrFailure(ref);
      if (size >= 0 && size > slot) {
        this.add(id, 'size', () => ({ signal: 'size', member: i, ref: 'type', target: ref, inBase: ref < mod.firstId, found: `${describeType(mod, ref)}, ${size} bytes`, problem: `variable of ${size} bytes does not fit its ${slot}-byte slot in the section` }));
      }
    }
  }

  private checkDeclTag(id: number): void {
    const mod = this.mod;
    const o = mod.owner(id)!;
    const rec = o.recordOffset(id);
    const target = readSizeOrType(o, rec);
    const component = declTagComponentIdx(o, rec);
    if (component === -1 || target === 0 || target >= mod.endId) return;
    const k = this.kindOf(target);
    let count: number | undefined;
    if (k === Kind.Struct || k === Kind.Union) count = mod.vlen(target);
    else if (k === Kind.Func) {
      const proto = mod.sizeOrType(target);
      if (proto !== 0 && proto < mod.endId && this.kindOf(proto) === Kind.FuncProto) count = mod.vlen(proto);
    }
    if (count === undefined || component < 0 || component >= count) {
      this.add(id, 'kind', () => ({
        signal: 'kind', ref: 'type', target, inBase: target < mod.firstId, found: describeType(mod, target),
        problem: `tags component ${component} of [${target}] ${kindName(k)}, which ${count === undefined ? 'has no components' : `has only ${count}`}`,
      }));
    }
  }
}

/** The type under typedefs, modifiers and type tags, or -1 for loops and ids that do not exist. */
function resolveChain(btf: Btf, id: number): number {
  if (id !== 0 && !btf.has(id)) return -1;
  try {
    return skipModsAndTypedefs(btf, id);
  } catch {
    // Hostile input only (a loop, or a chain into a missing id): one per distinct reference, memoised.
    return -1;
  }
}

function memberName(name: string | undefined): { memberName?: string } {
  return name ? { memberName: name } : {};
}

function useLabel(use: TypeUse | NameUse): string {
  switch (use) {
    case 'member': return 'member';
    case 'pointee': return 'pointer target';
    case 'typedef': return 'typedef target';
    case 'modifier': return 'modifier target';
    case 'type-tag': return 'type tag target';
    case 'array-element': return 'array element';
    case 'array-index': return 'array index';
    case 'func-proto': return 'function prototype';
    case 'return': return 'return type';
    case 'param': return 'parameter';
    case 'var': return 'variable type';
    case 'datasec-entry': return 'section entry';
    case 'decl-tag': return 'tagged type';
    case 'type': return 'type';
    case 'enumerator': return 'enumerator';
  }
}

function nameRule(kind: number, role: Role): NameRule {
  if (role !== Role.TypeName) return NameRule.Identifier;
  switch (kind) {
    case Kind.Int: case Kind.Float: case Kind.DeclTag: case Kind.TypeTag: return NameRule.Printable;
    case Kind.Datasec: return NameRule.Section;
    default: return NameRule.Identifier;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

function stringStartBefore(bytes: Uint8Array, sectionStart: number, pos: number): number {
  let p = pos;
  while (p > sectionStart && bytes[p - 1] !== 0) p--;
  return p;
}

function decodeAt(bytes: Uint8Array, start: number): string {
  let end = bytes.indexOf(0, start);
  if (end < 0) end = bytes.length;
  return utf8.decode(bytes.subarray(start, Math.min(end, start + 200)));
}
