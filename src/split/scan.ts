import type { Btf } from '../btf/btf.js';
import { Kind, kindName } from '../format/kinds.js';
import type { CheckStats, Evidence, EvidenceSignal } from './check.js';
import type { EvidenceList } from './evidence.js';
import { skipModsAndTypedefs, sizeOfOrFailure } from '../btf/query.js';
import { visitRecord, type NameUse, type TypeUse } from '../btf/slots.js';
import {
  declTagComponentIdx, elementNameOff, intBitOffset, intBits, intData, memberBitOffsetOf, memberBitfieldSizeOf,
  memberNameOff, memberOffsetWord, memberType, readSizeOrType, secinfoSize, secinfoType,
} from '../format/records.js';
import { describeType } from './refs.js';

/**
 * The per-reference rules of the mismatch checker (see `EvidenceSignal` in check.ts): one pass
 * over the module's own types, each name offset and type id checked where it sits, then the
 * string-layout inference over everything seen.
 */

/**
 * What a name may look like: an identifier (types, members, enumerators, parameters),
 * printable ASCII with spaces (INT and FLOAT names like "long unsigned int", tags), or a
 * section name (".data..percpu").
 */
const enum NameRule { Identifier, Printable, Section }

/** Tests the NUL-terminated name at `pos` against a rule, without decoding it. */
function nameBytesFit(bytes: Uint8Array, pos: number, rule: NameRule): boolean {
  let c = bytes[pos]!;
  if (c === 0) return false;
  if (rule === NameRule.Identifier) {
    if (!(c === 95 || (c >= 65 && c <= 90) || (c >= 97 && c <= 122))) return false;
    for (let p = pos + 1; (c = bytes[p]!) !== 0 && p < bytes.length; p++) {
      if (!(c === 95 || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57))) return false;
    }
    return true;
  }
  const low = rule === NameRule.Printable ? 0x20 : 0x21;
  for (let p = pos; (c = bytes[p]!) !== 0 && p < bytes.length; p++) if (c < low || c > 0x7e) return false;
  return true;
}

const SIZED_KINDS = new Set<number>([Kind.Int, Kind.Ptr, Kind.Array, Kind.Struct, Kind.Union, Kind.Enum, Kind.Enum64, Kind.Float]);
/** Kinds nothing may point at, be a typedef or modifier of, take or return. */
const NOT_A_VALUE_TYPE = new Set<number>([Kind.Func, Kind.Var, Kind.Datasec, Kind.DeclTag]);

/** @internal */
export class Scanner {
  private readonly strStartMark: Uint8Array;
  private readonly ownNameRefs: number[] = [];
  private readonly baseIds = new Set<number>();
  private readonly resolveMemo = new Map<number, number>();
  private curId = 0;
  private curKind = 0;
  private readonly sizeMemo = new Map<number, number>();

  /** `pointerSize`: from the module's ELF class when known; else libbpf's guess from the BTF. */
  constructor(private readonly mod: Btf, private readonly ev: EvidenceList, private readonly stats: CheckStats, private readonly pointerSize?: number) {
    // Marks where each of the module's own strings starts, for the string-layout inference.
    const len = mod.header.strLen;
    const mark = new Uint8Array(len);
    const s = mod.stringStart;
    const bytes = mod.bytes;
    if (len > 0) mark[0] = 1;
    for (let i = 0; i + 1 < len; i++) if (bytes[s + i] === 0) mark[i + 1] = 1;
    this.strStartMark = mark;
  }

  run(): void {
    const mod = this.mod;
    for (let id = mod.firstId; id < mod.endId; id++) this.checkType(id);
    this.stats.distinctBaseTypes = this.baseIds.size;
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

  private checkType(id: number): void {
    const mod = this.mod;
    const kind = mod.kind(id);
    this.curId = id;
    this.curKind = kind;
    visitRecord(mod, id, this);
    if (kind === Kind.Struct || kind === Kind.Union) this.checkLayout(id, kind);
    else if (kind === Kind.Datasec) this.checkDatasec(id);
    else if (kind === Kind.DeclTag) this.checkDeclTag(id);
  }

  // -- names --

  /** @internal RecordVisitor: a name slot of the current type. */
  name(_slot: number, off: number, use: NameUse, index: number): void {
    this.checkName(this.curId, this.curKind, off, use, index);
  }

  /** @internal RecordVisitor: a type id slot of the current type. */
  type(_slot: number, ref: number, use: TypeUse, index: number): void {
    this.checkTypeRef(this.curId, this.curKind, ref, use, index);
  }

  private checkName(id: number, kind: number, off: number, use: NameUse, index: number): void {
    if (off === 0) return;
    const mod = this.mod;
    const inBase = off < mod.firstStringOffset;
    if (inBase) this.stats.baseStringRefs++;
    else {
      this.stats.ownStringRefs++;
      this.ownNameRefs.push(off);
    }
    const at = index >= 0 ? { member: index } : {};
    const loc = mod.locateString(off);
    if (!loc) {
      this.add(id, 'string-range', () => ({ signal: 'string-range', ...at, ref: 'string', target: off, inBase, problem: `name offset ${off} lies past the last string (offsets end at ${mod.endStringOffset})` }));
      return;
    }
    const { btf: holder, pos } = loc;
    if (pos > holder.stringStart && holder.bytes[pos - 1] !== 0) {
      const start = stringStartBefore(holder.bytes, holder.stringStart, pos);
      const whole = decodeAt(holder.bytes, start);
      const startOff = off - (pos - start);
      this.add(id, 'string-inside', () => ({
        signal: 'string-inside', ...at, ref: 'string', target: off, inBase,
        found: `'${whole}' (offset ${startOff})`,
        problem: `${useLabel(use)} name offset ${off} lands ${pos - start} bytes inside the ${inBase ? 'base' : 'module'} string '${whole}' (offset ${startOff}), not at the start of a string`,
      }));
      return;
    }
    const rule = nameRule(kind, use);
    if (!nameBytesFit(holder.bytes, pos, rule)) {
      const text = mod.str(off) ?? '';
      this.add(id, 'name', () => ({
        signal: 'name', ...at, ref: 'string', target: off, inBase, found: `'${text}'`,
        problem: `${useLabel(use)} name '${text}' at offset ${off} is not ${rule === NameRule.Identifier ? 'an identifier' : rule === NameRule.Section ? 'a section name' : 'printable text'}`,
      }));
    }
  }

  /**
   * pahole and libbpf write only strings that some type uses. Then the largest own offset
   * referenced is the last string's, which pins down the base string length the module was
   * laid out for; if every referenced own offset lands on a string start under that length,
   * the inference holds, and a different length than the base's means the base is not the one.
   */
  private inferStringLayout(): void {
    const refs = this.ownNameRefs;
    const mod = this.mod;
    const len = mod.header.strLen;
    if (refs.length === 0 || len === 0) return;
    let lastStart = len - 1;
    while (lastStart > 0 && this.strStartMark[lastStart] !== 1) lastStart--;
    let max = 0;
    for (const r of refs) if (r > max) max = r;
    const inferred = max - lastStart;
    if (inferred < 0) return;
    // Every own string must be referenced at inferred + its position, and nothing else.
    const seen = new Uint8Array(len);
    let distinct = 0;
    for (const r of refs) {
      const p = r - inferred;
      if (p < 0) continue;
      if (p >= len || this.strStartMark[p] !== 1) return;
      if (!seen[p]) { seen[p] = 1; distinct++; }
    }
    let starts = 0;
    for (let i = 0; i < len; i++) starts += this.strStartMark[i]!;
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

  private checkTypeRef(id: number, kind: number, ref: number, use: TypeUse, index: number): void {
    const mod = this.mod;
    const inBase = ref !== 0 && ref < mod.firstId;
    if (inBase) {
      this.stats.baseTypeRefs++;
      this.baseIds.add(ref);
    }
    const at = () => (index >= 0 ? { member: index, ...memberName(this.elementName(id, index)) } : {});
    if (ref >= mod.endId) {
      this.add(id, 'type-range', () => ({ signal: 'type-range', ...at(), ref: 'type', target: ref, inBase: false, problem: `${useLabel(use)} refers to type ${ref}, past the last type (${mod.endId - 1})` }));
      return;
    }
    const problem = this.useProblem(ref, use);
    if (problem) this.add(id, 'kind', () => ({ signal: 'kind', ...at(), ref: 'type', target: ref, inBase, found: describeType(mod, ref), problem }));
  }

  /** What is wrong with `ref` in the role `use`, or undefined when it fits. */
  private useProblem(ref: number, use: TypeUse): string | undefined {
    const mod = this.mod;
    if (ref === 0) {
      switch (use) {
        // A void parameter marks varargs; where it may sit does not depend on the base.
        case 'pointee': case 'typedef': case 'modifier': case 'type-tag': case 'return': case 'param': return undefined;
        default: return `${useLabel(use)} is void`;
      }
    }
    const k = mod.kind(ref);
    switch (use) {
      case 'func-proto':
        return k === Kind.FuncProto ? undefined : `a FUNC's type must be a FUNC_PROTO, but [${ref}] is ${kindName(k)}`;
      case 'member': case 'array-element': case 'var': {
        const r = this.resolved(ref);
        if (r === undefined) return `${useLabel(use)} type [${ref}] does not resolve (a loop of typedefs or modifiers)`;
        const rk = mod.kind(r);
        if (!SIZED_KINDS.has(rk)) {
          return `${useLabel(use)} needs a type with a size, but [${ref}]${r !== ref ? ` resolves to [${r}] which` : ''} is ${kindName(rk)}${rk === Kind.Fwd ? ' (an incomplete type)' : ''}`;
        }
        return undefined;
      }
      case 'array-index': {
        const r = this.resolved(ref);
        if (r === undefined || mod.kind(r) !== Kind.Int) return `an array index type must be an INT, but [${ref}] is ${kindName(k)}`;
        return undefined;
      }
      case 'pointee': case 'typedef': case 'modifier': case 'type-tag':
        return NOT_A_VALUE_TYPE.has(k) ? `${useLabel(use)} cannot be a ${kindName(k)}` : undefined;
      case 'return': case 'param':
        if (NOT_A_VALUE_TYPE.has(k) || k === Kind.FuncProto) return `${useLabel(use)} cannot be a ${kindName(k)}`;
        return undefined;
      case 'datasec-entry':
        return k === Kind.Var || k === Kind.Func ? undefined : `a DATASEC entry must be a VAR (or FUNC), but [${ref}] is ${kindName(k)}`;
      case 'decl-tag':
        return k === Kind.Struct || k === Kind.Union || k === Kind.Func || k === Kind.Var || k === Kind.Typedef
          ? undefined : `a DECL_TAG can only tag a STRUCT, UNION, FUNC, VAR or TYPEDEF, but [${ref}] is ${kindName(k)}`;
    }
    return undefined;
  }

  /** `ref` with typedefs, modifiers and type tags stripped; undefined on a loop or a bad id. */
  private resolved(ref: number): number | undefined {
    let r = this.resolveMemo.get(ref);
    if (r === undefined) {
      r = resolveChain(this.mod, ref);
      this.resolveMemo.set(ref, r);
    }
    return r < 0 ? undefined : r;
  }

  /** Size in bytes of `ref`, undefined when it has none (or a loop prevents knowing). */
  private sizeOf(ref: number): number | undefined {
    let s = this.sizeMemo.get(ref);
    if (s === undefined) {
      // Void, FWD, FUNC... have no size; neither has a type behind a loop or a missing id.
      s = sizeOfOrFailure(this.mod, ref, this.pointerSize);
      this.sizeMemo.set(ref, s);
    }
    return s < 0 ? undefined : s;
  }

  // -- layouts --

  private checkLayout(id: number, kind: Kind.Struct | Kind.Union): void {
    const mod = this.mod;
    const o = mod.owner(id)!;
    const rec = o.recordOffset(id);
    const size = readSizeOrType(o, rec);
    const sizeBits = size * 8;
    const vlen = mod.vlen(id);
    const kflag = mod.kindFlag(id);
    const label = kind === Kind.Struct ? 'struct' : 'union';
    let lastOffset = 0;
    let lastEnd = 0;
    let lastIndex = -1;
    for (let i = 0; i < vlen; i++) {
      const ref = memberType(o, rec, i);
      const raw = memberOffsetWord(o, rec, i);
      let bitOffset = memberBitOffsetOf(raw, kflag);
      const bitfieldSize = memberBitfieldSizeOf(raw, kflag);
      const at = () => ({ member: i, ...memberName(mod.str(memberNameOff(o, rec, i))) });
      if (ref === 0 || ref >= mod.endId) continue;
      const r = this.resolved(ref);
      if (r === undefined || !SIZED_KINDS.has(mod.kind(r))) continue;
      const typeBytes = this.sizeOf(ref);
      if (typeBytes === undefined) continue;
      let width: number;
      const inBase = ref < mod.firstId;
      if (bitfieldSize) {
        const rk = mod.kind(r);
        if (rk !== Kind.Int && rk !== Kind.Enum && rk !== Kind.Enum64) {
          this.add(id, 'kind', () => ({ signal: 'kind', ...at(), ref: 'type', target: ref, inBase, found: describeType(mod, ref), problem: `bitfield member of ${bitfieldSize} bits needs an INT or ENUM type, but [${ref}] is ${kindName(mod.kind(r))}` }));
          continue;
        }
        if (bitfieldSize > typeBytes * 8) {
          this.add(id, 'size', () => ({ signal: 'size', ...at(), ref: 'type', target: ref, inBase, found: `${describeType(mod, ref)}, ${typeBytes} bytes`, problem: `bitfield of ${bitfieldSize} bits is wider than its type [${ref}] (${typeBytes * 8} bits)` }));
          continue;
        }
        width = bitfieldSize;
      } else if (!kflag && mod.kind(r) === Kind.Int) {
        // Old-style bitfields: the INT itself carries the width and an extra bit offset.
        const ro = mod.owner(r)!;
        const data = intData(ro, ro.recordOffset(r));
        width = intBits(data);
        bitOffset += intBitOffset(data);
      } else {
        width = typeBytes * 8;
        if (bitOffset % 8 !== 0) {
          this.add(id, 'layout', () => ({ signal: 'layout', ...at(), ref: 'type', target: ref, inBase, found: describeType(mod, ref), problem: `member at bit ${bitOffset} is not a bitfield but is not byte aligned` }));
        }
      }
      if (bitOffset + width > sizeBits) {
        this.add(id, 'size', () => ({
          signal: 'size', ...at(), ref: 'type', target: ref, inBase, found: `${describeType(mod, ref)}, ${typeBytes} bytes`,
          problem: `member at bit ${bitOffset} of ${width} bits ends at bit ${bitOffset + width}, past the end of the ${size}-byte ${label}`,
        }));
        continue;
      }
      if (kind === Kind.Union) {
        if (bitOffset !== 0) this.add(id, 'layout', () => ({ signal: 'layout', ...at(), problem: `union member at bit ${bitOffset}; union members all start at bit 0` }));
        continue;
      }
      if (bitOffset < lastOffset) {
        this.add(id, 'layout', () => ({ signal: 'layout', ...at(), problem: `member at bit ${bitOffset} comes after a member at bit ${lastOffset}; struct member offsets never go backwards` }));
      } else if (width > 0 && bitOffset < lastEnd) {
        this.add(id, 'layout', () => ({
          signal: 'layout', ...at(), ref: 'type', target: ref, inBase, found: describeType(mod, ref),
          problem: `member at bit ${bitOffset} overlaps member ${lastIndex}, which ends at bit ${lastEnd}`,
        }));
      }
      lastOffset = bitOffset;
      if (width > 0 && bitOffset + width > lastEnd) {
        lastEnd = bitOffset + width;
        lastIndex = i;
      }
    }
  }

  private checkDatasec(id: number): void {
    const mod = this.mod;
    const o = mod.owner(id)!;
    const rec = o.recordOffset(id);
    const vlen = mod.vlen(id);
    for (let i = 0; i < vlen; i++) {
      const ref = secinfoType(o, rec, i);
      const slot = secinfoSize(o, rec, i);
      if (ref === 0 || ref >= mod.endId || mod.kind(ref) !== Kind.Var) continue;
      const size = this.sizeOf(ref);
      if (size !== undefined && size > slot) {
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
    const k = mod.kind(target);
    let count: number | undefined;
    if (k === Kind.Struct || k === Kind.Union) count = mod.vlen(target);
    else if (k === Kind.Func) {
      const proto = mod.sizeOrType(target);
      if (proto !== 0 && proto < mod.endId && mod.kind(proto) === Kind.FuncProto) count = mod.vlen(proto);
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

function nameRule(kind: number, use: NameUse): NameRule {
  if (use !== 'type') return NameRule.Identifier;
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
