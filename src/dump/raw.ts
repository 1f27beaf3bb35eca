import { Btf } from '../btf/btf.js';
import { WireKind as Kind, kindName } from '../format/kinds.js';
import { Rec } from '../format/records.js';
import { ByteSink } from './sink.js';

/** Options shared by the raw and JSON dumps. */
export interface RawDumpOptions {
  /** Dump only these ids, in this order (bpftool's `root_id`); default: every type of the blob itself. */
  ids?: readonly number[];
}

const INT_ENCODING = ['(none)', 'SIGNED', 'CHAR', 'UNKN', 'BOOL'];
const intEncodingName = (e: number) => INT_ENCODING[e] ?? 'UNKN';
const FUNC_LINKAGE = ['static', 'global', 'extern'];
const linkageName = (l: number) => FUNC_LINKAGE[l] ?? '(unknown)';
const TWO_32 = 4294967296;

/**
 * Writes a type's name as bpftool does: `(anon)` for offset 0, `(invalid)` for an offset
 * outside every string section, otherwise the bytes up to the NUL.
 * @internal
 */
export function writeName(sink: ByteSink, btf: Btf, off: number, escape?: (s: ByteSink, b: Uint8Array, start: number, end: number) => void): void {
  if (off === 0) {
    sink.ascii('(anon)');
    return;
  }
  // Walk to the blob holding the offset without allocating: this runs once per name and member.
  let owner: Btf | undefined = btf;
  while (owner && off < owner.firstStringOffset) owner = owner.base;
  if (!owner || off >= owner.endStringOffset) {
    sink.ascii('(invalid)');
    return;
  }
  const bytes = owner.bytes;
  const start = owner.stringStart + off - owner.firstStringOffset;
  const end = bytes.indexOf(0, start);
  if (escape) escape(sink, bytes, start, end);
  else sink.bytes(bytes, start, end);
}

function ids(btf: Btf, opts: RawDumpOptions): Iterable<number> {
  if (opts.ids) return opts.ids;
  return { *[Symbol.iterator]() { for (let id = btf.firstId; id < btf.endId; id++) yield id; } };
}

/** Writes u64 `hi:lo` in decimal, signed if asked. */
function write64(sink: ByteSink, hi: number, lo: number, signed: boolean): void {
  if (signed && hi >= 0x80000000) {
    const v = BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo));
    sink.ascii(v.toString());
  } else if (hi < 0x200000) {
    sink.uint(hi * TWO_32 + lo);
  } else {
    sink.ascii(((BigInt(hi) << 32n) | BigInt(lo)).toString());
  }
}

// Both dumps read every field of every record: they walk elements with the vocabulary's
// strides, field offsets and bit fields (src/format/records.ts) inline rather than calling its
// readers and decoders, a call per field, which the CLI (run without TurboFan inlining) pays.

/**
 * The raw dump, byte for byte what `bpftool btf dump file FILE format raw` prints (with
 * `--base-btf` for split BTF: only the split blob's own types are listed).
 */
export function dumpRaw(btf: Btf, sink: ByteSink, opts: RawDumpOptions = {}): void {
  for (const id of ids(btf, opts)) {
    const o = btf.owner(id);
    if (!o) continue;
    const rec = o.recordOffset(id);
    const info = o.u32(rec + Rec.INFO_OFF);
    const kind = (info >>> Rec.INFO_KIND_SHIFT) & Rec.INFO_KIND_MASK;
    const vlen = info & Rec.INFO_VLEN_MASK;
    const kflag = info >>> Rec.INFO_KIND_FLAG_SHIFT === 1;
    const word = o.u32(rec + Rec.SIZE_OR_TYPE_OFF);
    const p = rec + Rec.TYPE_HEADER_SIZE;
    sink.byte(91).uint(id).ascii('] ').ascii(kindName(kind)).ascii(" '");
    writeName(sink, btf, o.u32(rec + Rec.NAME_OFF));
    sink.byte(39);
    switch (kind) {
      case Kind.Int: {
        const v = o.u32(rec + Rec.INT_DATA_OFF);
        sink.ascii(' size=').uint(word).ascii(' bits_offset=').uint((v >>> Rec.INT_OFFSET_SHIFT) & Rec.INT_OFFSET_MASK)
          .ascii(' nr_bits=').uint(v & Rec.INT_BITS_MASK).ascii(' encoding=').ascii(intEncodingName((v >>> Rec.INT_ENCODING_SHIFT) & Rec.INT_ENCODING_MASK));
        break;
      }
      case Kind.Ptr: case Kind.Const: case Kind.Volatile: case Kind.Restrict: case Kind.Typedef: case Kind.TypeTag:
        sink.ascii(' type_id=').uint(word);
        break;
      case Kind.Array:
        sink.ascii(' type_id=').uint(o.u32(rec + Rec.ARRAY_TYPE_OFF)).ascii(' index_type_id=').uint(o.u32(rec + Rec.ARRAY_INDEX_TYPE_OFF)).ascii(' nr_elems=').uint(o.u32(rec + Rec.ARRAY_NELEMS_OFF));
        break;
      case Kind.Struct: case Kind.Union:
        sink.ascii(' size=').uint(word).ascii(' vlen=').uint(vlen);
        for (let i = 0, m = p; i < vlen; i++, m += Rec.MEMBER_SIZE) {
          sink.ascii("\n\t'");
          writeName(sink, btf, o.u32(m + Rec.MEMBER_NAME_OFF));
          const raw = o.u32(m + Rec.MEMBER_OFFSET_OFF);
          sink.ascii("' type_id=").uint(o.u32(m + Rec.MEMBER_TYPE_OFF)).ascii(' bits_offset=').uint(kflag ? raw & Rec.MEMBER_BIT_OFFSET_MASK : raw);
          const bitfieldSize = kflag ? raw >>> Rec.MEMBER_BITFIELD_SIZE_SHIFT : 0;
          if (bitfieldSize) sink.ascii(' bitfield_size=').uint(bitfieldSize);
        }
        break;
      case Kind.Enum:
        sink.ascii(kflag ? ' encoding=SIGNED size=' : ' encoding=UNSIGNED size=').uint(word).ascii(' vlen=').uint(vlen);
        for (let i = 0, m = p; i < vlen; i++, m += Rec.ENUM_SIZE) {
          sink.ascii("\n\t'");
          writeName(sink, btf, o.u32(m + Rec.ENUM_NAME_OFF));
          sink.ascii("' val=");
          if (kflag) sink.int(o.i32(m + Rec.ENUM_VAL_OFF));
          else sink.uint(o.u32(m + Rec.ENUM_VAL_OFF));
        }
        break;
      case Kind.Enum64:
        sink.ascii(kflag ? ' encoding=SIGNED size=' : ' encoding=UNSIGNED size=').uint(word).ascii(' vlen=').uint(vlen);
        for (let i = 0, m = p; i < vlen; i++, m += Rec.ENUM64_SIZE) {
          sink.ascii("\n\t'");
          writeName(sink, btf, o.u32(m + Rec.ENUM64_NAME_OFF));
          sink.ascii("' val=");
          write64(sink, o.u32(m + Rec.ENUM64_VAL_HI_OFF), o.u32(m + Rec.ENUM64_VAL_LO_OFF), kflag);
          sink.ascii(kflag ? 'LL' : 'ULL');
        }
        break;
      case Kind.Fwd:
        sink.ascii(kflag ? ' fwd_kind=union' : ' fwd_kind=struct');
        break;
      case Kind.Func:
        sink.ascii(' type_id=').uint(word).ascii(' linkage=').ascii(linkageName(vlen));
        break;
      case Kind.FuncProto:
        sink.ascii(' ret_type_id=').uint(word).ascii(' vlen=').uint(vlen);
        for (let i = 0, m = p; i < vlen; i++, m += Rec.PARAM_SIZE) {
          sink.ascii("\n\t'");
          writeName(sink, btf, o.u32(m + Rec.PARAM_NAME_OFF));
          sink.ascii("' type_id=").uint(o.u32(m + Rec.PARAM_TYPE_OFF));
        }
        break;
      case Kind.Var:
        sink.ascii(' type_id=').uint(word).ascii(', linkage=').ascii(linkageName(o.u32(rec + Rec.VAR_LINKAGE_OFF)));
        break;
      case Kind.Datasec:
        sink.ascii(' size=').uint(word).ascii(' vlen=').uint(vlen);
        for (let i = 0, m = p; i < vlen; i++, m += Rec.SECINFO_SIZE) {
          const t = o.u32(m + Rec.SECINFO_TYPE_OFF);
          sink.ascii('\n\ttype_id=').uint(t).ascii(' offset=').uint(o.u32(m + Rec.SECINFO_OFFSET_OFF)).ascii(' size=').uint(o.u32(m + Rec.SECINFO_SIZE_OFF));
          if (t < btf.endId) {
            sink.ascii(' (').ascii(kindName(btf.kind(t))).ascii(" '");
            writeName(sink, btf, btf.nameOffset(t));
            sink.ascii("')");
          }
        }
        break;
      case Kind.Float:
        sink.ascii(' size=').uint(word);
        break;
      case Kind.DeclTag:
        sink.ascii(' type_id=').uint(word).ascii(' component_idx=').int(o.i32(rec + Rec.DECL_TAG_COMPONENT_IDX_OFF));
        break;
      default:
        break;
    }
    sink.byte(10);
  }
}

/** bpftool's JSON string escaping: only \t \n \r \f \b \\ and \" are escaped; other bytes pass as they are. */
function jsonEscape(sink: ByteSink, b: Uint8Array, start: number, end: number): void {
  let plain = start;
  for (let i = start; i < end; i++) {
    const c = b[i]!;
    let esc: string;
    switch (c) {
      case 9: esc = '\\t'; break;
      case 10: esc = '\\n'; break;
      case 13: esc = '\\r'; break;
      case 12: esc = '\\f'; break;
      case 8: esc = '\\b'; break;
      case 92: esc = '\\\\'; break;
      case 34: esc = '\\"'; break;
      default: continue;
    }
    sink.bytes(b, plain, i).ascii(esc);
    plain = i + 1;
  }
  sink.bytes(b, plain, end);
}

function jsonName(sink: ByteSink, btf: Btf, off: number): void {
  sink.byte(34);
  writeName(sink, btf, off, jsonEscape);
  sink.byte(34);
}

/**
 * The JSON dump, byte for byte what `bpftool -j btf dump file FILE` prints. Its schema is in
 * docs/json-schema.md. One bpftool quirk is kept on purpose for compatibility: the value of a
 * 32-bit unsigned ENUM member at or above 2^31 is printed sign-extended to 64 bits
 * (bpftool reads `btf_enum.val`, a `__s32`, into a `__u64`).
 */
export function dumpJson(btf: Btf, sink: ByteSink, opts: RawDumpOptions = {}): void {
  sink.ascii('{"types":[');
  let first = true;
  for (const id of ids(btf, opts)) {
    const o = btf.owner(id);
    if (!o) continue;
    const rec = o.recordOffset(id);
    const info = o.u32(rec + Rec.INFO_OFF);
    const kind = (info >>> Rec.INFO_KIND_SHIFT) & Rec.INFO_KIND_MASK;
    const vlen = info & Rec.INFO_VLEN_MASK;
    const kflag = info >>> Rec.INFO_KIND_FLAG_SHIFT === 1;
    const word = o.u32(rec + Rec.SIZE_OR_TYPE_OFF);
    const p = rec + Rec.TYPE_HEADER_SIZE;
    if (!first) sink.byte(44);
    first = false;
    sink.ascii('{"id":').uint(id).ascii(',"kind":"').ascii(kindName(kind)).ascii('","name":');
    jsonName(sink, btf, o.u32(rec + Rec.NAME_OFF));
    switch (kind) {
      case Kind.Int: {
        const v = o.u32(rec + Rec.INT_DATA_OFF);
        sink.ascii(',"size":').uint(word).ascii(',"bits_offset":').uint((v >>> Rec.INT_OFFSET_SHIFT) & Rec.INT_OFFSET_MASK)
          .ascii(',"nr_bits":').uint(v & Rec.INT_BITS_MASK).ascii(',"encoding":"').ascii(intEncodingName((v >>> Rec.INT_ENCODING_SHIFT) & Rec.INT_ENCODING_MASK)).byte(34);
        break;
      }
      case Kind.Ptr: case Kind.Const: case Kind.Volatile: case Kind.Restrict: case Kind.Typedef: case Kind.TypeTag:
        sink.ascii(',"type_id":').uint(word);
        break;
      case Kind.Array:
        sink.ascii(',"type_id":').uint(o.u32(rec + Rec.ARRAY_TYPE_OFF)).ascii(',"index_type_id":').uint(o.u32(rec + Rec.ARRAY_INDEX_TYPE_OFF)).ascii(',"nr_elems":').uint(o.u32(rec + Rec.ARRAY_NELEMS_OFF));
        break;
      case Kind.Struct: case Kind.Union:
        sink.ascii(',"size":').uint(word).ascii(',"vlen":').uint(vlen).ascii(',"members":[');
        for (let i = 0, m = p; i < vlen; i++, m += Rec.MEMBER_SIZE) {
          if (i) sink.byte(44);
          sink.ascii('{"name":');
          jsonName(sink, btf, o.u32(m + Rec.MEMBER_NAME_OFF));
          const raw = o.u32(m + Rec.MEMBER_OFFSET_OFF);
          sink.ascii(',"type_id":').uint(o.u32(m + Rec.MEMBER_TYPE_OFF)).ascii(',"bits_offset":').uint(kflag ? raw & Rec.MEMBER_BIT_OFFSET_MASK : raw);
          const bitfieldSize = kflag ? raw >>> Rec.MEMBER_BITFIELD_SIZE_SHIFT : 0;
          if (bitfieldSize) sink.ascii(',"bitfield_size":').uint(bitfieldSize);
          sink.byte(125);
        }
        sink.byte(93);
        break;
      case Kind.Enum:
        sink.ascii(kflag ? ',"encoding":"SIGNED","size":' : ',"encoding":"UNSIGNED","size":').uint(word).ascii(',"vlen":').uint(vlen).ascii(',"values":[');
        for (let i = 0, m = p; i < vlen; i++, m += Rec.ENUM_SIZE) {
          if (i) sink.byte(44);
          sink.ascii('{"name":');
          jsonName(sink, btf, o.u32(m + Rec.ENUM_NAME_OFF));
          sink.ascii(',"val":');
          const v = o.i32(m + Rec.ENUM_VAL_OFF);
          if (kflag || v >= 0) sink.int(v);
          else write64(sink, 0xffffffff, v >>> 0, false);
          sink.byte(125);
        }
        sink.byte(93);
        break;
      case Kind.Enum64:
        sink.ascii(kflag ? ',"encoding":"SIGNED","size":' : ',"encoding":"UNSIGNED","size":').uint(word).ascii(',"vlen":').uint(vlen).ascii(',"values":[');
        for (let i = 0, m = p; i < vlen; i++, m += Rec.ENUM64_SIZE) {
          if (i) sink.byte(44);
          sink.ascii('{"name":');
          jsonName(sink, btf, o.u32(m + Rec.ENUM64_NAME_OFF));
          sink.ascii(',"val":');
          write64(sink, o.u32(m + Rec.ENUM64_VAL_HI_OFF), o.u32(m + Rec.ENUM64_VAL_LO_OFF), kflag);
          sink.byte(125);
        }
        sink.byte(93);
        break;
      case Kind.Fwd:
        sink.ascii(kflag ? ',"fwd_kind":"union"' : ',"fwd_kind":"struct"');
        break;
      case Kind.Func:
        sink.ascii(',"type_id":').uint(word).ascii(',"linkage":"').ascii(linkageName(vlen)).byte(34);
        break;
      case Kind.FuncProto:
        sink.ascii(',"ret_type_id":').uint(word).ascii(',"vlen":').uint(vlen).ascii(',"params":[');
        for (let i = 0, m = p; i < vlen; i++, m += Rec.PARAM_SIZE) {
          if (i) sink.byte(44);
          sink.ascii('{"name":');
          jsonName(sink, btf, o.u32(m + Rec.PARAM_NAME_OFF));
          sink.ascii(',"type_id":').uint(o.u32(m + Rec.PARAM_TYPE_OFF)).byte(125);
        }
        sink.byte(93);
        break;
      case Kind.Var:
        sink.ascii(',"type_id":').uint(word).ascii(',"linkage":"').ascii(linkageName(o.u32(rec + Rec.VAR_LINKAGE_OFF))).byte(34);
        break;
      case Kind.Datasec:
        sink.ascii(',"size":').uint(word).ascii(',"vlen":').uint(vlen).ascii(',"vars":[');
        for (let i = 0, m = p; i < vlen; i++, m += Rec.SECINFO_SIZE) {
          if (i) sink.byte(44);
          sink.ascii('{"type_id":').uint(o.u32(m + Rec.SECINFO_TYPE_OFF)).ascii(',"offset":').uint(o.u32(m + Rec.SECINFO_OFFSET_OFF)).ascii(',"size":').uint(o.u32(m + Rec.SECINFO_SIZE_OFF)).byte(125);
        }
        sink.byte(93);
        break;
      case Kind.Float:
        sink.ascii(',"size":').uint(word);
        break;
      case Kind.DeclTag:
        sink.ascii(',"type_id":').uint(word).ascii(',"component_idx":').int(o.i32(rec + Rec.DECL_TAG_COMPONENT_IDX_OFF));
        break;
      default:
        break;
    }
    sink.byte(125);
  }
  sink.ascii(']}\n');
}
