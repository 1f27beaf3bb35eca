import type { Btf } from '../btf/btf.js';
import { BtfError } from '../errors.js';
import { Kind, MAX_KNOWN_KIND, TYPE_HEADER_SIZE, kindName } from '../format/kinds.js';

/**
 * Where a type id sits in a record, and so what the referenced type must be able to be.
 * Used by the mismatch checker (to know what a reference needs) and by every renumbering.
 */
export type TypeUse =
  | 'member' | 'pointee' | 'typedef' | 'modifier' | 'type-tag' | 'array-element' | 'array-index'
  | 'func-proto' | 'return' | 'param' | 'var' | 'datasec-entry' | 'decl-tag';

/** Where a name offset sits in a record. */
export type NameUse = 'type' | 'member' | 'enumerator' | 'param';

/**
 * Receives the slots of a record: each type id slot (its absolute byte offset in the owner's
 * bytes, value and role) and each name offset slot (`index` -1 for the type's own name).
 * Kinds btfkit does not know have payloads it cannot interpret; for them only the name is
 * visited and `unknownPayload` is called, so a caller that rewrites ids can refuse them rather
 * than miss a reference.
 */
export interface RecordVisitor {
  type?(slot: number, value: number, use: TypeUse, index: number): void;
  name?(slot: number, value: number, use: NameUse, index: number): void;
  unknownPayload?(kind: number): void;
}

/** Visits every type id and name offset stored in the record of type `id` (which `btf` or one of its bases holds). */
export function visitRecord(btf: Btf, id: number, v: RecordVisitor): void {
  const o = btf.owner(id);
  if (!o) throw new BtfError('bad-type-id', `type id ${id} does not exist`);
  const rec = o.recordOffset(id);
  const info = o.u32(rec + 4);
  const kind = (info >>> 24) & 0x7f;
  const vlen = info & 0xffffff;
  const p = rec + TYPE_HEADER_SIZE;
  const onType = v.type ? v.type.bind(v) : undefined;
  const onName = v.name ? v.name.bind(v) : undefined;
  onName?.(rec, o.u32(rec), 'type', -1);
  const t = (slot: number, use: TypeUse, index: number) => onType?.(slot, o.u32(slot), use, index);
  const n = (slot: number, use: NameUse, index: number) => onName?.(slot, o.u32(slot), use, index);
  switch (kind) {
    case Kind.Int: case Kind.Float: case Kind.Fwd:
      return;
    case Kind.Ptr: t(rec + 8, 'pointee', -1); return;
    case Kind.Typedef: t(rec + 8, 'typedef', -1); return;
    case Kind.Volatile: case Kind.Const: case Kind.Restrict: t(rec + 8, 'modifier', -1); return;
    case Kind.TypeTag: t(rec + 8, 'type-tag', -1); return;
    case Kind.Func: t(rec + 8, 'func-proto', -1); return;
    case Kind.Var: t(rec + 8, 'var', -1); return;
    case Kind.DeclTag: t(rec + 8, 'decl-tag', -1); return;
    case Kind.Array:
      t(p, 'array-element', -1);
      t(p + 4, 'array-index', -1);
      return;
    case Kind.Struct: case Kind.Union:
      for (let i = 0; i < vlen; i++) {
        n(p + i * 12, 'member', i);
        t(p + i * 12 + 4, 'member', i);
      }
      return;
    case Kind.Enum:
      for (let i = 0; i < vlen; i++) n(p + i * 8, 'enumerator', i);
      return;
    case Kind.Enum64:
      for (let i = 0; i < vlen; i++) n(p + i * 12, 'enumerator', i);
      return;
    case Kind.FuncProto:
      t(rec + 8, 'return', -1);
      for (let i = 0; i < vlen; i++) {
        n(p + i * 8, 'param', i);
        t(p + i * 8 + 4, 'param', i);
      }
      return;
    case Kind.Datasec:
      for (let i = 0; i < vlen; i++) t(p + i * 12, 'datasec-entry', i);
      return;
    default:
      if (kind === 0 || kind > MAX_KNOWN_KIND) v.unknownPayload?.(kind);
  }
}

/** `[id] KIND 'name'`, the way bpftool's raw dump introduces a type. */
export function describeType(btf: Btf, id: number): string {
  if (id === 0) return '[0] void';
  if (!btf.has(id)) return `[${id}] (no such type)`;
  const name = btf.str(btf.nameOffset(id));
  return `[${id}] ${kindName(btf.kind(id))} '${name === undefined ? '<bad name offset>' : name || '(anon)'}'`;
}

/** Absolute end of the record of type `id` in its owner's bytes. */
export function recordEnd(owner: Btf, id: number): number {
  const index = id - owner.firstId;
  return index + 1 < owner.typeOffsets.length ? owner.typeOffsets[index + 1]! : owner.typeStart + owner.header.typeLen;
}

/** What a word of a record holds, by {@link wordRole}. */
export enum WordRole { Plain = 0, TypeId = 1, Name = 2, Unknown = 3 }

/**
 * What word `w` (0 = `name_off`, 1 = `info`, 2 = `size`/`type`, 3... the payload) of a record
 * of `kind` holds: the same answer {@link visitRecord} gives, without a callback, for loops
 * that go over every word.
 */
export function wordRole(kind: number, w: number): WordRole {
  if (w === 0) return WordRole.Name;
  if (w === 1) return WordRole.Plain;
  if (w === 2) {
    switch (kind) {
      case Kind.Ptr: case Kind.Typedef: case Kind.Volatile: case Kind.Const: case Kind.Restrict:
      case Kind.TypeTag: case Kind.Func: case Kind.Var: case Kind.DeclTag: case Kind.FuncProto:
        return WordRole.TypeId;
      default:
        return kind === 0 || kind > MAX_KNOWN_KIND ? WordRole.Unknown : WordRole.Plain;
    }
  }
  const j = w - 3;
  switch (kind) {
    case Kind.Array: return j < 2 ? WordRole.TypeId : WordRole.Plain;
    case Kind.Struct: case Kind.Union: return j % 3 === 0 ? WordRole.Name : j % 3 === 1 ? WordRole.TypeId : WordRole.Plain;
    case Kind.Enum: return j % 2 === 0 ? WordRole.Name : WordRole.Plain;
    case Kind.Enum64: return j % 3 === 0 ? WordRole.Name : WordRole.Plain;
    case Kind.FuncProto: return j % 2 === 0 ? WordRole.Name : WordRole.TypeId;
    case Kind.Datasec: return j % 3 === 0 ? WordRole.TypeId : WordRole.Plain;
    default: return kind === 0 || kind > MAX_KNOWN_KIND ? WordRole.Unknown : WordRole.Plain;
  }
}

/** True when the NUL-terminated strings at `pa` in `a` and `pb` in `b` are equal, compared as bytes. */
export function sameCString(a: Uint8Array, pa: number, b: Uint8Array, pb: number): boolean {
  for (;;) {
    const x = a[pa++];
    if (x !== b[pb++]) return false;
    if (x === 0 || x === undefined) return true;
  }
}
