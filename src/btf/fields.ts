import { BtfError } from '../errors.js';
import { Kind, describeKind } from '../format/kinds.js';
import { arrayElemType, arrayNelems, memberBitOffsetOf, memberBitfieldSizeOf, memberNameOff, memberOffsetWord, memberType } from '../format/records.js';
import type { Btf } from './btf.js';

/** Deepest nesting of anonymous members searched; C code nests a handful. */
const MAX_ANONYMOUS_DEPTH = 32;

/** One step of a {@link FieldLocation}'s path. */
export interface FieldStep {
  /** The STRUCT, UNION or ARRAY the step goes into (typedefs and modifiers already followed). */
  parent: number;
  /** The member's index in `parent`, or the subscript when `parent` is an ARRAY. */
  index: number;
  /**
   * The member's name: '' for an anonymous member the lookup went through to reach a named
   * one; absent for an array subscript.
   */
  name?: string;
}

/** Where a field lies inside a type, as {@link Btf.fieldOffset} finds it. */
export interface FieldLocation {
  /** Bits from the start of the outer type to the field. */
  bitOffset: number;
  /**
   * Width of a bitfield as its member record gives it; 0 for members that are not bitfields
   * and for array elements. (With kind_flag clear, BTF describes bitfields through their INT
   * type instead, and this is 0.)
   */
  bitfieldSize: number;
  /** The field's type as declared (not resolved through typedefs and modifiers). */
  type: number;
  /** Every member and subscript taken, anonymous members included, in order. */
  path: FieldStep[];
}

type Segment = { name: string; index?: undefined } | { name?: undefined; index: number };

/** Splits `se.vruntime`, `a[3].b`, `x[1][2]` into member names and subscripts. */
function parseFieldPath(path: string): Segment[] {
  const segments: Segment[] = [];
  const token = /\.?([A-Za-z_][A-Za-z0-9_]*)|\[\s*(\d{1,15})\s*\]/y;
  let at = 0;
  while (at < path.length) {
    token.lastIndex = at;
    const m = token.exec(path);
    const dotted = m !== null && m[1] !== undefined && path[at] === '.';
    // A name needs a dot before it except at the start; a subscript never takes one.
    if (!m || (m[1] !== undefined && dotted === (at === 0))) {
      throw new BtfError('bad-argument', `field path '${path}' cannot be read at character ${at + 1}: expected ${at === 0 ? 'a member name or [index]' : "'.member' or '[index]'"}`);
    }
    segments.push(m[1] !== undefined ? { name: m[1] } : { index: Number(m[2]) });
    at = token.lastIndex;
  }
  if (segments.length === 0) throw new BtfError('bad-argument', 'field path is empty');
  return segments;
}

/** "STRUCT 'sched_entity'" or "anonymous UNION". */
function shortLabel(btf: Btf, id: number): string {
  if (id === 0) return 'void';
  const name = btf.name(id);
  const kind = describeKind(btf.kind(id));
  return name ? `${kind} '${name}'` : `anonymous ${kind}`;
}

/** "[12] STRUCT 'sched_entity'", for a type other than the one an error is located at. */
function typeLabel(btf: Btf, id: number): string {
  return `[${id}] ${shortLabel(btf, id)}`;
}

function isRecord(btf: Btf, id: number): boolean {
  const k = btf.kind(id);
  return k === Kind.Struct || k === Kind.Union;
}

interface Hop { parent: number; index: number; name: string; type: number; bitOffset: number; bitfieldSize: number }

/**
 * The member `name` of record `id`, looked for as C does: among the named members first, in
 * order, and inside anonymous struct and union members, however deep. Returns the members
 * taken, outermost first. `searched` holds records already looked through in this lookup: what
 * a record holds does not depend on how it was reached, so none is searched twice (which also
 * ends loops of anonymous members in hostile BTF).
 */
function findMember(btf: Btf, id: number, name: string, searched: Set<number>, depth: number): Hop[] | undefined {
  if (searched.has(id)) return undefined;
  if (depth > MAX_ANONYMOUS_DEPTH) {
    throw new BtfError('type-loop', `anonymous members nested more than ${MAX_ANONYMOUS_DEPTH} deep while looking for member '${name}'`, { typeId: id });
  }
  searched.add(id);
  const o = btf.owner(id)!;
  const rec = o.recordOffset(id);
  const vlen = btf.vlen(id);
  const kflag = btf.kindFlag(id);
  for (let i = 0; i < vlen; i++) {
    const nameOff = memberNameOff(o, rec, i);
    const type = memberType(o, rec, i);
    const raw = memberOffsetWord(o, rec, i);
    const bitOffset = memberBitOffsetOf(raw, kflag);
    const bitfieldSize = memberBitfieldSizeOf(raw, kflag);
    if (nameOff !== 0) {
      if (btf.str(nameOff) === name) return [{ parent: id, index: i, name, type, bitOffset, bitfieldSize }];
      continue;
    }
    if (type !== 0 && !btf.has(type)) {
      throw new BtfError('bad-type-id', `anonymous member ${i} of ${shortLabel(btf, id)} refers to missing type ${type}`, { typeId: id, member: i });
    }
    const inner = btf.resolve(type);
    if (!isRecord(btf, inner)) continue;
    const rest = findMember(btf, inner, name, searched, depth + 1);
    if (rest) return [{ parent: id, index: i, name: '', type, bitOffset, bitfieldSize }, ...rest];
  }
  return undefined;
}

/** @internal The implementation of {@link Btf.fieldOffset}. */
export function locateField(btf: Btf, id: number, path: string): FieldLocation {
  const segments = parseFieldPath(path);
  if (!btf.has(id)) throw new BtfError('bad-type-id', `type id ${id} does not exist (ids run from 1 to ${btf.endId - 1})`);
  const steps: FieldStep[] = [];
  let type = id;
  let bitOffset = 0;
  let bitfieldSize = 0;
  let walked = '';
  for (const seg of segments) {
    const next = seg.name !== undefined ? `member '${seg.name}'` : `[${seg.index}]`;
    if (bitfieldSize !== 0) {
      throw new BtfError('not-found', `'${walked}' in ${shortLabel(btf, id)} is a bitfield, so it has no ${next}`, { typeId: id });
    }
    if (type !== 0 && !btf.has(type)) {
      throw new BtfError('bad-type-id', `'${walked}' in ${shortLabel(btf, id)} has type ${type}, which does not exist`, { typeId: id });
    }
    const at = btf.resolve(type);
    // Errors are located at the type the walk stands on; this says how the walk got there.
    const what = shortLabel(btf, at) + (walked ? ` (the type of '${walked}' in ${typeLabel(btf, id)})` : at !== id ? ` (what ${typeLabel(btf, id)} stands for)` : '');
    if (seg.name !== undefined) {
      if (!isRecord(btf, at)) throw new BtfError('not-found', `${what} is not a STRUCT or UNION, so it has no ${next}`, { typeId: at });
      const hops = findMember(btf, at, seg.name, new Set(), 0);
      if (!hops) throw new BtfError('not-found', `${what} has no ${next}`, { typeId: at });
      for (const hop of hops) {
        steps.push({ parent: hop.parent, index: hop.index, name: hop.name });
        bitOffset += hop.bitOffset;
      }
      const last = hops[hops.length - 1]!;
      type = last.type;
      bitfieldSize = last.bitfieldSize;
      walked += walked ? `.${seg.name}` : seg.name;
    } else {
      if (btf.kind(at) !== Kind.Array) throw new BtfError('not-found', `${what} is not an ARRAY, so it cannot take ${next}`, { typeId: at });
      const o = btf.owner(at)!;
      const rec = o.recordOffset(at);
      const elem = arrayElemType(o, rec);
      const length = arrayNelems(o, rec);
      // A zero-length array is a flexible array member: any element may follow it.
      if (length !== 0 && seg.index >= length) {
        throw new BtfError('not-found', `${what} has ${length} elements, so ${next} is out of range`, { typeId: at });
      }
      if (seg.index !== 0) bitOffset += seg.index * btf.sizeof(elem) * 8;
      if (!Number.isSafeInteger(bitOffset)) throw new BtfError('bad-argument', `${what}: [${seg.index}] lies beyond any offset a number can hold exactly`, { typeId: at });
      steps.push({ parent: at, index: seg.index });
      type = elem;
      walked += next;
    }
  }
  return { bitOffset, bitfieldSize, type, path: steps };
}
