import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { release } from 'node:os';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Btf } from '../src/btf/btf.js';
import { assertValidBtf, checkBtf, type CheckOptions } from '../src/btf/check.js';
import { BtfError, type BtfErrorCode } from '../src/errors.js';
import { FIXTURES, fixture } from './helpers/paths.js';
import { loadBtf } from '../src/btf/source.js';
import { loudSkip } from './helpers/skip.js';
import { kernelLoad } from './helpers/kernel.js';
import { Crafter, K, bitfield, type Built, type BuildOptions, type Endian } from './helpers/craft.js';

/** One expected problem: code, type id, absolute byte offset, element index. */
type Want = [BtfErrorCode, number | undefined, number | undefined, number?];

interface Case {
  name: string;
  make(c: Crafter): void;
  build?: BuildOptions;
  opts?: CheckOptions;
  /** Every problem checkBtf must report, in any order; [] means the blob is clean. */
  want(b: Built): Want[];
  /**
   * What Linux 6.18's BPF_BTF_LOAD said about this blob (little-endian, 24-byte header), each
   * confirmed by loading it. Absent where the kernel cannot judge (layout headers, big-endian).
   */
  kernel?: 'accepts' | 'rejects';
}

const rec = (b: Built, id: number) => b.offsetOf(id);
const word = (b: Built, id: number, w: number) => b.offsetOf(id) + 4 * w;
const elem = (b: Built, id: number, i: number, w = 0) => b.elemOffset(id, i) + 4 * w;

/**
 * The layout section libbpf 1.8 writes (info_sz, elem_sz per kind), spelled out from the
 * record formats in include/uapi/linux/btf.h rather than taken from src/.
 */
const STANDARD_LAYOUT = [
  [0, 0], [4, 0], [0, 0], [12, 0], [0, 12], [0, 12], [0, 8], [0, 0], [0, 0], [0, 0], [0, 0],
  [0, 0], [0, 0], [0, 8], [4, 0], [0, 12], [0, 0], [4, 0], [0, 0], [0, 12],
].map(([infoSize, elemSize]) => ({ infoSize: infoSize!, elemSize: elemSize! }));

/** An `int` at id 1 that most cases build on. */
const int = (c: Crafter) => c.int('int', 4, 32, 1);

const cases: Case[] = [
  // ------------------------------------------------------------ header and sections
  { name: 'header flags must be 0', make: int, build: { header: { flags: 1 } }, want: () => [['bad-header', undefined, 3]], kernel: 'rejects' },
  {
    name: 'gap between type and string sections', make: int, build: { gapAfterTypes: 4 },
    want: (b) => [['bad-section', undefined, b.typeStart + 16]], kernel: 'rejects',
  },
  {
    name: 'bytes after the last section', make: int, build: { trailing: 4 },
    want: (b) => [['bad-section', undefined, b.bytes.length - 4]], kernel: 'rejects',
  },
  { name: 'base BTF without types', make: () => {}, want: () => [['bad-section', undefined, 12]], kernel: 'rejects' },
  { name: 'standard layout section', make: int, build: { layout: true }, want: () => [] },
  {
    name: 'layout entry contradicting a known kind',
    make: int,
    build: { layout: STANDARD_LAYOUT.map((l, k) => (k === K.INT ? { infoSize: 8, elemSize: 0 } : l)) },
    want: (b) => [['bad-layout', undefined, b.stringStart - 80 + 4 * K.INT]],
  },

  // ------------------------------------------------------------ string offsets and names
  {
    name: 'type name offset outside the strings',
    make: (c) => c.int({ off: 999 }, 4),
    want: (b) => [['bad-string-offset', 1, rec(b, 1)]], kernel: 'rejects',
  },
  {
    name: 'name offset above BTF_MAX_NAME_OFFSET',
    make: (c) => c.int({ off: 0x1000000 }, 4),
    want: (b) => [['bad-string-offset', 1, rec(b, 1)]], kernel: 'rejects',
  },
  {
    name: 'member name offset outside the strings',
    make: (c) => { int(c); c.struct('s', 4, [{ name: { off: 500 }, type: 1, offset: 0 }]); },
    want: (b) => [['bad-string-offset', 2, elem(b, 2, 0), 0]], kernel: 'rejects',
  },
  {
    name: 'enum value name offset outside the strings',
    make: (c) => c.enum('e', 4, [{ name: 'A', value: 0 }, { name: { off: 300 }, value: 1 }]),
    want: (b) => [['bad-string-offset', 1, elem(b, 1, 1), 1]], kernel: 'rejects',
  },
  {
    name: 'struct name that is not an identifier',
    make: (c) => { int(c); c.struct('a b', 4, [{ name: 'x', type: 1, offset: 0 }]); },
    want: (b) => [['bad-name', 2, rec(b, 2)]], kernel: 'rejects',
  },
  { name: 'anonymous typedef', make: (c) => { int(c); c.typedef(undefined, 1); }, want: (b) => [['bad-name', 2, rec(b, 2)]], kernel: 'rejects' },
  { name: 'anonymous FWD', make: (c) => c.fwd(undefined), want: (b) => [['bad-name', 1, rec(b, 1)]], kernel: 'rejects' },
  {
    name: 'anonymous FUNC',
    make: (c) => { const p = c.proto(0, []); c.func(undefined, p, 1); },
    want: (b) => [['bad-name', 2, rec(b, 2)]], kernel: 'rejects',
  },
  { name: 'anonymous VAR', make: (c) => { int(c); c.var(undefined, 1, 1); }, want: (b) => [['bad-name', 2, rec(b, 2)]], kernel: 'rejects' },
  { name: 'named PTR', make: (c) => { int(c); c.type(K.PTR, 'p', 0, false, 1); }, want: (b) => [['bad-name', 2, rec(b, 2)]], kernel: 'rejects' },
  { name: 'named CONST', make: (c) => { int(c); c.type(K.CONST, 'c', 0, false, 1); }, want: (b) => [['bad-name', 2, rec(b, 2)]], kernel: 'rejects' },
  {
    name: 'named ARRAY', make: (c) => { int(c); c.type(K.ARRAY, 'a', 0, false, 0, [1, 1, 2], 12); },
    want: (b) => [['bad-name', 2, rec(b, 2)]], kernel: 'rejects',
  },
  {
    name: 'named FUNC_PROTO', make: (c) => { int(c); c.type(K.FUNC_PROTO, 'fp', 0, false, 1); },
    want: (b) => [['bad-name', 2, rec(b, 2)]], kernel: 'rejects',
  },
  { name: 'empty TYPE_TAG value', make: (c) => { int(c); c.typeTag(undefined, 1); }, want: (b) => [['bad-name', 2, rec(b, 2)]], kernel: 'rejects' },
  {
    name: 'empty DECL_TAG value',
    make: (c) => { int(c); c.var('v', 1, 1); c.declTag(undefined, 2); },
    want: (b) => [['bad-name', 3, rec(b, 3)]], kernel: 'rejects',
  },
  {
    name: 'anonymous enum value', make: (c) => c.enum('e', 4, [{ value: 0 }]),
    want: (b) => [['bad-name', 1, elem(b, 1, 0), 0]], kernel: 'rejects',
  },
  {
    name: 'member name starting with a digit',
    make: (c) => { int(c); c.struct('s', 4, [{ name: '9x', type: 1, offset: 0 }]); },
    want: (b) => [['bad-name', 2, elem(b, 2, 0), 0]], kernel: 'rejects',
  },
  {
    name: 'parameter name with a dollar',
    make: (c) => { int(c); c.proto(1, [{ name: 'a$', type: 1 }]); },
    want: (b) => [['bad-name', 2, elem(b, 2, 0), 0]], kernel: 'rejects',
  },
  {
    name: "names may contain '.' and Latin-1 letters, up to 512 bytes",
    make: (c) => {
      int(c);
      c.typedef('.a.b', 1);
      c.typedef(new Uint8Array([0x63, 0xe9]), 1);
      c.typedef(new Uint8Array([0xe9]), 1);
      c.typedef('a'.repeat(512), 1);
    },
    want: () => [], kernel: 'accepts',
  },
  { name: 'Latin-1 multiplication sign in a name', make: (c) => { int(c); c.typedef(new Uint8Array([0x63, 0xd7]), 1); }, want: (b) => [['bad-name', 2, rec(b, 2)]], kernel: 'rejects' },
  { name: '513-byte name', make: (c) => { int(c); c.typedef('a'.repeat(513), 1); }, want: (b) => [['bad-name', 2, rec(b, 2)]], kernel: 'rejects' },
  {
    name: 'DATASEC names may hold any printable character',
    make: (c) => {
      int(c);
      const v = c.var('v', 1, 1);
      c.datasec('.rodata.str1.1 x', 4, [{ type: v, offset: 0, size: 4 }]);
      c.datasec(new Uint8Array([0x2e, 0xe9]), 4, []);
    },
    want: () => [], kernel: 'accepts',
  },
  {
    name: 'DATASEC name with a control character',
    make: (c) => { int(c); const v = c.var('v', 1, 1); c.datasec(new Uint8Array([0x2e, 0x61, 0x01]), 4, [{ type: v, offset: 0, size: 4 }]); },
    want: (b) => [['bad-name', 3, rec(b, 3)]], kernel: 'rejects',
  },
  {
    name: 'DATASEC name with a C1 control character',
    make: (c) => { int(c); const v = c.var('v', 1, 1); c.datasec(new Uint8Array([0x2e, 0x85]), 4, [{ type: v, offset: 0, size: 4 }]); },
    want: (b) => [['bad-name', 3, rec(b, 3)]], kernel: 'rejects',
  },
  { name: 'anonymous INT and FLOAT are fine for the kernel', make: (c) => { c.int(undefined, 4); c.float(undefined, 8); }, want: () => [], kernel: 'accepts' },
  {
    name: 'strict: anonymous INT and FLOAT',
    make: (c) => { c.int(undefined, 4); c.float(undefined, 8); }, opts: { strict: true },
    want: (b) => [['bad-name', 1, rec(b, 1)], ['bad-name', 2, rec(b, 2)]],
  },

  // ------------------------------------------------------------ type ids, vlen, kind_flag
  { name: 'PTR to a missing type', make: (c) => { int(c); c.ptr(7); }, want: (b) => [['bad-type-id', 2, word(b, 2, 2)]], kernel: 'rejects' },
  {
    name: 'member of a missing type',
    make: (c) => { int(c); c.struct('s', 8, [{ name: 'a', type: 1, offset: 0 }, { name: 'b', type: 9, offset: 32 }]); },
    want: (b) => [['bad-type-id', 2, elem(b, 2, 1, 1), 1]], kernel: 'rejects',
  },
  { name: 'member of type void', make: (c) => c.struct('s', 4, [{ name: 'a', type: 0, offset: 0 }]), want: (b) => [['bad-member', 1, elem(b, 1, 0, 1), 0]], kernel: 'rejects' },
  {
    name: 'ARRAY of void indexed by void',
    make: (c) => c.array(0, 0, 4),
    want: (b) => [['bad-array', 1, word(b, 1, 3)], ['bad-array', 1, word(b, 1, 4)]], kernel: 'rejects',
  },
  { name: 'VAR of type void', make: (c) => c.var('v', 0, 1), want: (b) => [['bad-var', 1, word(b, 1, 2)]], kernel: 'rejects' },
  { name: 'pointer, const and typedef of void', make: (c) => { c.ptr(0); c.const(0); c.typedef('v', 0); c.volatile(2); }, want: () => [], kernel: 'accepts' },
  { name: 'INT with vlen 1', make: (c) => c.raw([c.str('int'), (K.INT << 24) | 1, 4, 32], 4), want: (b) => [['bad-vlen', 1, word(b, 1, 1)]], kernel: 'rejects' },
  { name: 'PTR with kind_flag', make: (c) => { int(c); c.type(K.PTR, undefined, 0, true, 1); }, want: (b) => [['bad-kind', 2, word(b, 2, 1)]], kernel: 'rejects' },
  { name: 'FWD with a type', make: (c) => { int(c); c.type(K.FWD, 'f', 0, false, 1); }, want: (b) => [['bad-size', 2, word(b, 2, 2)]], kernel: 'rejects' },
  {
    name: 'kind_flag where it means something',
    make: (c) => {
      int(c);
      c.fwd('u', true);
      c.enum('e', 4, [{ name: 'A', value: -1 }], true);
      const v = c.var('v', 1, 1);
      c.declTag('attr', v, -1, true);
      c.ptr(c.typeTag('rcu', 1, true));
    },
    want: () => [], kernel: 'accepts',
  },
  { name: 'kind 0 record', make: (c) => c.raw([0, 0, 0]), build: { layout: true }, want: (b) => [['bad-kind', 1, word(b, 1, 1)]] },
  {
    name: 'unknown kind sized by the layout section',
    make: (c) => { int(c); c.raw([0, (20 << 24) | 2, 0, 7, 8, 9], 4, 4); },
    build: { layout: [...STANDARD_LAYOUT, { infoSize: 4, elemSize: 4 }] },
    want: () => [],
  },
  {
    name: 'unknown kind when the kernel must load it',
    make: (c) => { int(c); c.raw([0, (20 << 24) | 2, 0, 7, 8, 9], 4, 4); },
    build: { layout: [...STANDARD_LAYOUT, { infoSize: 4, elemSize: 4 }] },
    opts: { allowUnknownKinds: false },
    want: (b) => [['bad-kind', 2, word(b, 2, 1)]],
  },

  // ------------------------------------------------------------ INT, FLOAT, ENUM
  { name: 'INT of 129 bits', make: (c) => c.int('i', 16, 129), want: (b) => [['bad-size', 1, word(b, 1, 3)]], kernel: 'rejects' },
  { name: 'INT of 32 bits in 2 bytes', make: (c) => c.int('i', 2, 32), want: (b) => [['bad-size', 1, word(b, 1, 2)]], kernel: 'rejects' },
  { name: 'INT bit offset pushing it out of its bytes', make: (c) => c.int('i', 4, 30, 0, 4), want: (b) => [['bad-size', 1, word(b, 1, 2)]], kernel: 'rejects' },
  { name: 'INT that is both SIGNED and CHAR', make: (c) => c.int('i', 1, 8, 3), want: (b) => [['bad-kind', 1, word(b, 1, 3)]], kernel: 'rejects' },
  { name: 'INT data with bits 28-31 set', make: (c) => c.raw([c.str('i'), K.INT << 24, 4, 0x10000020], 4), want: (b) => [['bad-size', 1, word(b, 1, 3)]], kernel: 'rejects' },
  { name: 'INT of 3 bytes is fine for the kernel', make: (c) => c.int('i24', 3, 24), want: () => [], kernel: 'accepts' },
  { name: 'strict: INT of 3 bytes', make: (c) => c.int('i24', 3, 24), opts: { strict: true }, want: (b) => [['bad-size', 1, word(b, 1, 2)]] },
  { name: 'FLOAT of 3 bytes', make: (c) => c.float('f', 3), want: (b) => [['bad-size', 1, word(b, 1, 2)]], kernel: 'rejects' },
  { name: 'FLOAT with vlen', make: (c) => c.raw([c.str('f'), (K.FLOAT << 24) | 1, 4]), want: (b) => [['bad-vlen', 1, word(b, 1, 1)]], kernel: 'rejects' },
  { name: 'ENUM of 3 bytes', make: (c) => c.enum('e', 3, [{ name: 'A', value: 0 }]), want: (b) => [['bad-size', 1, word(b, 1, 2)]], kernel: 'rejects' },
  { name: 'ENUM64 of 16 bytes', make: (c) => c.enum64('e', 16, [{ name: 'A', value: 0n }]), want: (b) => [['bad-size', 1, word(b, 1, 2)]], kernel: 'rejects' },

  // ------------------------------------------------------------ STRUCT and UNION members
  {
    name: 'union member not at bit 0',
    make: (c) => { int(c); c.union('u', 4, [{ name: 'a', type: 1, offset: 0 }, { name: 'b', type: 1, offset: 8 }]); },
    want: (b) => [['bad-member', 2, elem(b, 2, 1, 2), 1]], kernel: 'rejects',
  },
  {
    name: 'members out of offset order',
    make: (c) => { int(c); c.struct('s', 8, [{ name: 'a', type: 1, offset: 32 }, { name: 'b', type: 1, offset: 0 }]); },
    want: (b) => [['bad-member', 2, elem(b, 2, 1, 2), 1]], kernel: 'rejects',
  },
  {
    name: 'member starting past the struct',
    make: (c) => { int(c); c.struct('s', 4, [{ name: 'a', type: 1, offset: 40 }]); },
    want: (b) => [['bad-member', 2, elem(b, 2, 0, 2), 0]], kernel: 'rejects',
  },
  {
    name: 'int member ending past the struct',
    make: (c) => { int(c); c.struct('s', 6, [{ name: 'a', type: 1, offset: 0 }, { name: 'b', type: 1, offset: 32 }]); },
    want: (b) => [['bad-member', 2, elem(b, 2, 1, 2), 1]], kernel: 'rejects',
  },
  {
    name: 'bitfield ending past the struct',
    make: (c) => {
      int(c);
      c.struct('s', 12, [
        { name: 'a', type: 1, offset: bitfield(0, 0) }, { name: 'b', type: 1, offset: bitfield(32, 0) },
        { name: 'c', type: 1, offset: bitfield(64, 30) }, { name: 'flags', type: 1, offset: bitfield(94, 4) },
      ], true);
    },
    want: (b) => [['bad-member', 2, elem(b, 2, 3, 2), 3]], kernel: 'rejects',
  },
  {
    name: 'bitfield wider than its int',
    make: (c) => { int(c); c.struct('s', 8, [{ name: 'a', type: 1, offset: bitfield(0, 33) }], true); },
    want: (b) => [['bad-member', 2, elem(b, 2, 0, 2), 0]], kernel: 'rejects',
  },
  {
    name: 'kind_flag member of a bitfield-like INT',
    make: (c) => { c.int('i3', 1, 3); c.struct('s', 4, [{ name: 'a', type: 1, offset: bitfield(0, 2) }], true); },
    want: (b) => [['bad-member', 2, elem(b, 2, 0, 1), 0]], kernel: 'rejects',
  },
  {
    name: 'kind_flag non-bitfield member off a byte boundary',
    make: (c) => { int(c); c.struct('s', 8, [{ name: 'a', type: 1, offset: bitfield(3, 0) }], true); },
    want: (b) => [['bad-member', 2, elem(b, 2, 0, 2), 0]], kernel: 'rejects',
  },
  {
    name: 'struct member off a byte boundary',
    make: (c) => { int(c); const t = c.struct('t', 4, [{ name: 'x', type: 1, offset: 0 }]); c.struct('s', 8, [{ name: 'a', type: t, offset: 4 }]); },
    want: (b) => [['bad-member', 3, elem(b, 3, 0, 2), 0]], kernel: 'rejects',
  },
  {
    name: 'pointer as a bitfield',
    make: (c) => { int(c); const p = c.ptr(1); c.struct('s', 8, [{ name: 'p', type: p, offset: bitfield(0, 8) }], true); },
    want: (b) => [['bad-member', 3, elem(b, 3, 0, 2), 0]], kernel: 'rejects',
  },
  {
    name: 'pointer member ending past the struct',
    make: (c) => { int(c); const p = c.ptr(1); c.struct('s', 12, [{ name: 'a', type: 1, offset: 0 }, { name: 'p', type: p, offset: 64 }]); },
    want: (b) => [['bad-member', 3, elem(b, 3, 1, 2), 1]], kernel: 'rejects',
  },
  {
    name: 'member of an incomplete (FWD) type',
    make: (c) => { const f = c.fwd('opaque'); c.struct('s', 8, [{ name: 'o', type: f, offset: 0 }]); },
    want: (b) => [['bad-member', 2, elem(b, 2, 0, 1), 0]], kernel: 'rejects',
  },
  {
    name: 'member whose typedef stands for void',
    make: (c) => { const t = c.typedef('v', 0); c.struct('s', 8, [{ name: 'x', type: t, offset: 0 }]); },
    want: (b) => [['bad-member', 2, elem(b, 2, 0, 1), 0]], kernel: 'rejects',
  },
  {
    name: 'enum bitfield over 32 bits',
    make: (c) => { const e = c.enum64('e', 8, [{ name: 'A', value: 1n }]); c.struct('s', 8, [{ name: 'x', type: e, offset: bitfield(0, 40) }], true); },
    want: (b) => [['bad-member', 2, elem(b, 2, 0, 2), 0]], kernel: 'rejects',
  },
  {
    name: 'kind_flag ENUM64 member, not a bitfield',
    make: (c) => { const e = c.enum64('e', 8, [{ name: 'A', value: 1n }]); c.struct('s', 8, [{ name: 'x', type: e, offset: bitfield(0, 0) }], true); },
    want: () => [], kernel: 'accepts',
  },
  {
    name: 'misaligned FLOAT member',
    make: (c) => { const f = c.float('double', 8); c.struct('s', 16, [{ name: 'd', type: f, offset: 32 }]); },
    want: (b) => [['bad-member', 2, elem(b, 2, 0, 2), 0]], kernel: 'rejects',
  },
  {
    name: 'int member needing more than 128 bits of copy',
    make: (c) => { const i = c.int('u128', 16, 128); c.struct('s', 32, [{ name: 'x', type: i, offset: 4 }]); },
    want: (b) => [['bad-member', 2, elem(b, 2, 0, 2), 0]], kernel: 'rejects',
  },
  {
    name: 'zero-length trailing array and nested structs',
    make: (c) => {
      int(c);
      const a0 = c.array(1, 1, 0);
      const inner = c.struct('in', 8, [{ name: 'x', type: 1, offset: 0 }, { name: 'y', type: 1, offset: 32 }]);
      c.struct('s', 12, [{ name: 'i', type: inner, offset: 0 }, { name: 'n', type: 1, offset: 64 }, { name: 'tail', type: a0, offset: 96 }]);
    },
    want: () => [], kernel: 'accepts',
  },

  // ------------------------------------------------------------ ARRAY
  {
    name: 'ARRAY indexed by a struct',
    make: (c) => { int(c); const s = c.struct('s', 4, [{ name: 'x', type: 1, offset: 0 }]); c.array(1, s, 2); },
    want: (b) => [['bad-array', 3, word(b, 3, 4)]], kernel: 'rejects',
  },
  { name: 'ARRAY indexed by a FWD', make: (c) => { int(c); const f = c.fwd('f'); c.array(1, f, 2); }, want: (b) => [['bad-array', 3, word(b, 3, 4)]], kernel: 'rejects' },
  { name: 'ARRAY of a FWD', make: (c) => { int(c); const f = c.fwd('f'); c.array(f, 1, 2); }, want: (b) => [['bad-array', 3, word(b, 3, 3)]], kernel: 'rejects' },
  { name: 'ARRAY of a 3-bit INT', make: (c) => { int(c); const i = c.int('i3', 1, 3); c.array(i, 1, 2); }, want: (b) => [['bad-array', 3, word(b, 3, 3)]], kernel: 'rejects' },
  {
    name: 'ARRAY over 4 GiB', make: (c) => { int(c); const l = c.int('long', 8, 64, 1); c.array(l, 1, 0x20000000); },
    want: (b) => [['bad-array', 3, word(b, 3, 5)]], kernel: 'rejects',
  },
  { name: 'ARRAY with a size', make: (c) => { int(c); c.type(K.ARRAY, undefined, 0, false, 8, [1, 1, 2], 12); }, want: (b) => [['bad-size', 2, word(b, 2, 2)]], kernel: 'rejects' },

  // ------------------------------------------------------------ FUNC, FUNC_PROTO, VAR
  { name: 'FUNC whose type is not a FUNC_PROTO', make: (c) => { int(c); c.func('f', 1, 1); }, want: (b) => [['bad-func', 2, word(b, 2, 2)]], kernel: 'rejects' },
  {
    name: 'extern FUNC', make: (c) => { const p = c.proto(0, []); c.func('f', p, 2); },
    want: (b) => [['bad-func', 2, word(b, 2, 1)]], kernel: 'rejects',
  },
  { name: 'object: extern FUNC', make: (c) => { const p = c.proto(0, []); c.func('f', p, 2); }, opts: { object: true }, want: () => [] },
  { name: 'FUNC linkage 3 even in objects', make: (c) => { const p = c.proto(0, []); c.func('f', p, 3); }, opts: { object: true }, want: (b) => [['bad-func', 2, word(b, 2, 1)]] },
  {
    name: 'FUNC with kind_flag', make: (c) => { const p = c.proto(0, []); c.type(K.FUNC, 'f', 1, true, p); },
    want: (b) => [['bad-kind', 2, word(b, 2, 1)]], kernel: 'rejects',
  },
  {
    name: 'FUNC with an unnamed parameter',
    make: (c) => { int(c); const p = c.proto(1, [{ name: 'a', type: 1 }, { type: 1 }]); c.func('f', p, 1); },
    want: (b) => [['bad-func', 3, elem(b, 2, 1), 1]], kernel: 'rejects',
  },
  {
    name: 'object: FUNC with an unnamed parameter',
    make: (c) => { int(c); const p = c.proto(1, [{ type: 1 }]); c.func('f', p, 2); }, opts: { object: true },
    want: () => [],
  },
  { name: 'FUNC_PROTO alone may leave parameters unnamed', make: (c) => { int(c); c.proto(1, [{ type: 1 }]); }, want: () => [], kernel: 'accepts' },
  {
    name: 'varargs, void return',
    make: (c) => { int(c); const p = c.proto(0, [{ name: 'fmt', type: 1 }, { type: 0 }]); c.func('printk', p, 1); },
    want: () => [], kernel: 'accepts',
  },
  {
    name: 'named varargs marker',
    make: (c) => { int(c); c.proto(1, [{ name: 'a', type: 1 }, { name: 'rest', type: 0 }]); },
    want: (b) => [['bad-func', 2, elem(b, 2, 1), 1]], kernel: 'rejects',
  },
  {
    name: 'void parameter before the last',
    make: (c) => { int(c); c.proto(1, [{ type: 0 }, { name: 'a', type: 1 }]); },
    want: (b) => [['bad-func', 2, elem(b, 2, 0, 1), 0]], kernel: 'rejects',
  },
  { name: 'returning a FWD', make: (c) => { const f = c.fwd('s'); c.proto(f, []); }, want: (b) => [['bad-func', 2, word(b, 2, 2)]], kernel: 'rejects' },
  { name: 'returning a typedef of void', make: (c) => { const t = c.typedef('V', 0); c.proto(t, []); }, want: (b) => [['bad-func', 2, word(b, 2, 2)]], kernel: 'rejects' },
  {
    name: 'parameter that is a VAR',
    make: (c) => { int(c); const v = c.var('v', 1, 1); c.proto(1, [{ name: 'a', type: v }]); },
    want: (b) => [['bad-func', 3, elem(b, 3, 0, 1), 0]], kernel: 'rejects',
  },
  { name: 'extern VAR', make: (c) => { int(c); c.var('v', 1, 2); }, want: (b) => [['bad-var', 2, word(b, 2, 3)]], kernel: 'rejects' },
  { name: 'object: extern VAR', make: (c) => { int(c); c.var('v', 1, 2); }, opts: { object: true }, want: () => [] },
  { name: 'VAR of a FWD', make: (c) => { const f = c.fwd('s'); c.var('v', f, 1); }, want: (b) => [['bad-var', 2, word(b, 2, 2)]], kernel: 'rejects' },
  { name: 'VAR of a VAR', make: (c) => { int(c); const v = c.var('v', 1, 1); c.var('w', v, 1); }, want: (b) => [['bad-var', 3, word(b, 3, 2)]], kernel: 'rejects' },

  // ------------------------------------------------------------ DATASEC
  {
    name: 'DATASEC entry that is not a VAR',
    make: (c) => { int(c); c.datasec('.data', 8, [{ type: 1, offset: 0, size: 4 }]); },
    want: (b) => [['bad-datasec', 2, elem(b, 2, 0), 0]], kernel: 'rejects',
  },
  {
    name: 'overlapping DATASEC entries',
    make: (c) => { int(c); const a = c.var('a', 1, 1); const v = c.var('b', 1, 1); c.datasec('.data', 8, [{ type: a, offset: 0, size: 4 }, { type: v, offset: 2, size: 4 }]); },
    want: (b) => [['bad-datasec', 4, elem(b, 4, 1, 1), 1]], kernel: 'rejects',
  },
  {
    name: 'DATASEC entry past the section',
    make: (c) => { int(c); const a = c.var('a', 1, 1); c.datasec('.data', 8, [{ type: a, offset: 6, size: 4 }]); },
    want: (b) => [['bad-datasec', 3, elem(b, 3, 0, 2), 0]], kernel: 'rejects',
  },
  {
    name: 'DATASEC entry smaller than its variable',
    make: (c) => { const l = c.int('long', 8, 64, 1); const a = c.var('a', l, 1); c.datasec('.data', 8, [{ type: a, offset: 0, size: 4 }]); },
    want: (b) => [['bad-datasec', 3, elem(b, 3, 0, 2), 0]], kernel: 'rejects',
  },
  {
    name: 'DATASEC of size 0',
    make: (c) => { int(c); const a = c.var('a', 1, 1); c.datasec('.bss', 0, [{ type: a, offset: 0, size: 4 }]); },
    want: (b) => [['bad-datasec', 3, word(b, 3, 2)], ['bad-datasec', 3, elem(b, 3, 0, 1), 0], ['bad-datasec', 3, elem(b, 3, 0, 2), 0]], kernel: 'rejects',
  },
  {
    name: 'object: DATASECs as the compiler writes them',
    make: (c) => {
      int(c);
      const a = c.var('a', 1, 1);
      const b = c.var('b', 1, 1);
      const p = c.proto(1, [{ type: 1 }]);
      const f = c.func('bpf_kfunc', p, 2);
      c.datasec('.bss', 0, [{ type: a, offset: 0, size: 4 }, { type: b, offset: 0, size: 4 }]);
      c.datasec('.ksyms', 0, [{ type: f, offset: 0, size: 0 }]);
    },
    opts: { object: true }, want: () => [],
  },
  {
    name: 'FUNC in a DATASEC',
    make: (c) => { int(c); const p = c.proto(1, []); const f = c.func('f', p, 1); c.datasec('.ksyms', 4, [{ type: f, offset: 0, size: 4 }]); },
    want: (b) => [['bad-datasec', 4, elem(b, 4, 0), 0]], kernel: 'rejects',
  },

  // ------------------------------------------------------------ DECL_TAG and TYPE_TAG
  { name: 'DECL_TAG on an INT', make: (c) => { int(c); c.declTag('t', 1); }, want: (b) => [['bad-tag', 2, word(b, 2, 2)]], kernel: 'rejects' },
  {
    name: 'DECL_TAG component_idx -2',
    make: (c) => { int(c); c.struct('s', 4, [{ name: 'x', type: 1, offset: 0 }]); c.declTag('t', 2, -2); },
    want: (b) => [['bad-tag', 3, word(b, 3, 3)]], kernel: 'rejects',
  },
  {
    name: 'DECL_TAG component_idx past the members',
    make: (c) => { int(c); c.struct('s', 8, [{ name: 'x', type: 1, offset: 0 }, { name: 'y', type: 1, offset: 32 }]); c.declTag('t', 2, 1); c.declTag('t', 2, 2); },
    want: (b) => [['bad-tag', 4, word(b, 4, 3)]], kernel: 'rejects',
  },
  {
    name: 'DECL_TAG component_idx on a VAR',
    make: (c) => { int(c); c.var('v', 1, 1); c.declTag('t', 2, 0); },
    want: (b) => [['bad-tag', 3, word(b, 3, 3)]], kernel: 'rejects',
  },
  {
    name: 'DECL_TAG on FUNC parameters',
    make: (c) => { int(c); const p = c.proto(1, [{ name: 'a', type: 1 }]); c.func('f', p, 1); c.declTag('t', 3, 0); c.declTag('t', 3, 1); },
    want: (b) => [['bad-tag', 5, word(b, 5, 3)]], kernel: 'rejects',
  },
  {
    name: 'CONST before a TYPE_TAG',
    make: (c) => { int(c); const t = c.typeTag('rcu', 1); c.ptr(c.const(t)); },
    want: (b) => [['bad-tag', 3, word(b, 3, 2)]], kernel: 'rejects',
  },
  {
    name: 'TYPEDEF of a TYPE_TAG',
    make: (c) => { int(c); const t = c.typeTag('rcu', 1); c.typedef('T', t); },
    want: (b) => [['bad-tag', 3, word(b, 3, 2)]], kernel: 'rejects',
  },
  {
    name: 'TYPE_TAG before CONST',
    make: (c) => { int(c); c.ptr(c.typeTag('user', c.const(1))); },
    want: () => [], kernel: 'accepts',
  },

  // ------------------------------------------------------------ what references may point at
  { name: 'TYPEDEF of a VAR', make: (c) => { int(c); const v = c.var('v', 1, 1); c.typedef('T', v); }, want: (b) => [['bad-type-id', 3, word(b, 3, 2)]], kernel: 'rejects' },
  {
    // The kernel resolves a FUNC to its prototype only once it has visited the FUNC: a
    // typedef visits it first, a pointer does not (Linux 6.18 loads the first two, not the third).
    name: 'references to a FUNC',
    make: (c) => { const p = c.proto(0, []); const f = c.func('f', p, 1); c.typedef('T', f); c.ptr(f); },
    want: () => [], kernel: 'accepts',
  },
  {
    name: 'pointer to a FUNC the kernel has not visited yet',
    make: (c) => { c.ptr(3); c.proto(0, []); c.func('f', 2, 1); },
    want: (b) => [['bad-type-id', 1, word(b, 1, 2)]], kernel: 'rejects',
  },

  // ------------------------------------------------------------ loops and depth
  { name: 'typedef of itself', make: (c) => c.typedef('T', 1), want: (b) => [['type-loop', 1, rec(b, 1)]], kernel: 'rejects' },
  {
    name: 'structs containing each other',
    make: (c) => { int(c); c.struct('a', 8, [{ name: 'b', type: 3, offset: 0 }]); c.struct('b', 8, [{ name: 'a', type: 2, offset: 0 }]); },
    want: (b) => [['type-loop', 3, rec(b, 3)]], kernel: 'rejects',
  },
  { name: 'pointer and const in a circle', make: (c) => { c.ptr(2); c.const(1); }, want: (b) => [['type-loop', 2, rec(b, 2)]], kernel: 'rejects' },
  { name: 'array of itself', make: (c) => { int(c); c.array(2, 1, 2); }, want: (b) => [['type-loop', 2, rec(b, 2)]], kernel: 'rejects' },
  {
    name: 'self-referencing struct through a pointer',
    make: (c) => { int(c); c.struct('node', 16, [{ name: 'v', type: 1, offset: 0 }, { name: 'next', type: 4, offset: 64 }]); c.ptr(c.const(2)); },
    want: () => [], kernel: 'accepts',
  },
  {
    name: 'struct containing a const of itself',
    make: (c) => { int(c); c.struct('node', 16, [{ name: 'v', type: 1, offset: 0 }, { name: 'next', type: 3, offset: 64 }]); c.const(2); },
    want: (b) => [['type-loop', 3, rec(b, 3)]], kernel: 'rejects',
  },
  {
    name: '33 typedefs each referring to the next',
    make: (c) => { int(c); for (let i = 0; i < 33; i++) c.typedef(`t${i}`, i === 32 ? 1 : c.nextId + 1); },
    want: (b) => [['type-loop', 2, rec(b, 2)]], kernel: 'rejects',
  },
  {
    name: '33 typedefs each referring to the previous',
    make: (c) => { int(c); for (let i = 0; i < 33; i++) c.typedef(`t${i}`, c.nextId - 1); },
    want: () => [], kernel: 'accepts',
  },
  {
    name: '32 nested structs',
    make: (c) => { int(c); for (let i = 0; i < 32; i++) c.struct(`s${i}`, 4, [{ name: 'a', type: i === 31 ? 1 : c.nextId + 1, offset: 0 }]); },
    want: () => [], kernel: 'accepts',
  },
];

function run(k: Case, endian: Endian): { built: Built; errors: BtfError[] } {
  const c = new Crafter();
  k.make(c);
  const built = c.build({ ...k.build, endian });
  return { built, errors: checkBtf(Btf.parse(built.bytes), k.opts) };
}

function shape(errors: readonly BtfError[]): Want[] {
  return errors.map((e) => (e.member === undefined ? [e.code, e.typeId, e.offset] : [e.code, e.typeId, e.offset, e.member]) as Want);
}

const byOffset = (a: Want, b: Want) => (a[2] ?? -1) - (b[2] ?? -1) || String(a[0]).localeCompare(String(b[0]));

/** Hostile inputs must finish; the runner fails a test that hangs past this. */
const HANG_GUARD = { timeout: 60_000 };

describe('checkBtf on real BTF', () => {
  test('Linux 6.18 vmlinux (as the running kernel exported and accepted it) checks clean', () => {
    const bytes = fixture('golden/running-6.18/vmlinux.btf.gz');
    const btf = Btf.parse(bytes);
    const errors = checkBtf(btf, { allowUnknownKinds: false });
    assert.equal(btf.ownTypeCount, 126585);
    assert.deepEqual(errors.map(String), []);
  });

  test('the same types with a layout section check clean', () => {
    const btf = Btf.parse(fixture('golden/running-6.18/vmlinux.layout.btf.gz'));
    assert.ok(btf.layout, 'fixture has a layout section');
    assert.deepEqual(checkBtf(btf).map(String), []);
  });

  test('Debian 6.1 base and four modules split on it check clean', () => {
    const base = Btf.parse(fixture('golden/debian-6.1.0-50-cloud/vmlinux.btf.gz'));
    assert.deepEqual(checkBtf(base, { allowUnknownKinds: false }).map(String), []);
    for (const m of ['af_key', '8021q', 'nf_tables', 'xfs']) {
      const mod = Btf.parse(fixture(`golden/debian-6.1.0-50-cloud/modules/${m}.btf.gz`), { base });
      assert.ok(mod.ownTypeCount > 0);
      assert.deepEqual(checkBtf(mod, { allowUnknownKinds: false }).map(String), [], m);
    }
  });

  test('strict rules hold for compiler-made kernels too', () => {
    const btf = Btf.parse(fixture('golden/debian-6.1.0-50-cloud/vmlinux.btf.gz'));
    assert.deepEqual(checkBtf(btf, { strict: true }).map(String), []);
  });
});

describe('checkBtf on compiler output', () => {
  test('BPF objects from clang check clean as objects, and not as loadable BTF', (t) => {
    const dir = join(FIXTURES, 'bpf');
    const objects = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.o.gz')) : [];
    if (objects.length === 0) return loudSkip(t, `no BPF objects in ${dir}`);
    for (const f of objects) {
      const btf = loadBtf(fixture(`bpf/${f}`), { file: f });
      assert.deepEqual(checkBtf(btf, { object: true }).map(String), [], f);
      // What clang leaves for libbpf to fix (extern linkage, DATASEC sizes and offsets) the kernel would refuse.
      const asLoaded = checkBtf(btf);
      assert.ok(asLoaded.length > 0 && asLoaded.every((e) => ['bad-func', 'bad-var', 'bad-datasec'].includes(e.code)), `${f}: ${asLoaded.slice(0, 3).map(String).join('\n')}`);
    }
  });
});

describe('checkBtf on crafted blobs', () => {
  for (const k of cases) {
    test(k.name, () => {
      const little = run(k, 'little');
      assert.deepEqual(shape(little.errors).sort(byOffset), k.want(little.built).sort(byOffset), little.errors.map(String).join('\n'));
      // The same blob in the other byte order has the same problems at the same places.
      const big = run(k, 'big');
      assert.deepEqual(shape(big.errors), shape(little.errors));
      for (const e of little.errors) {
        assert.ok(e instanceof BtfError);
        assert.ok(e.detail.length > 20, `message too terse: ${e.message}`);
      }
      if (k.kernel) {
        // The kernel's verdict, recorded in the table, is what the default rules must give.
        const strictest = checkBtf(Btf.parse(little.built.bytes), { allowUnknownKinds: false });
        assert.equal(strictest.length === 0, k.kernel === 'accepts', strictest.map(String).join('\n'));
      }
    });
  }
});

describe('checkBtf agrees with the running kernel', () => {
  test('every crafted blob with a recorded verdict', (t) => {
    const [major = 0, minor = 0] = release().split('.').map(Number);
    // Kind flags on tags arrived in 6.15 (commit 53ee0d66d7a6); older kernels judge some blobs differently.
    if (major < 6 || (major === 6 && minor < 15)) return loudSkip(t, `kernel ${release()} predates the rules these cases pin down (6.15+)`);
    let checked = 0;
    for (const k of cases) {
      if (!k.kernel) continue;
      const { built } = run(k, 'little');
      const verdict = kernelLoad(built.bytes);
      if ('skipped' in verdict) return loudSkip(t, verdict.skipped);
      assert.equal(verdict.ok ? 'accepts' : 'rejects', k.kernel, `${k.name}: kernel log:\n${verdict.log}`);
      checked++;
    }
    assert.ok(checked > 80);
  });
});

describe('checkBtf messages and options', () => {
  test('a bitfield past the end is described in words', () => {
    const c = new Crafter();
    int(c);
    c.struct('s', 8, [{ name: 'a', type: 1, offset: bitfield(0, 0) }, { name: 'x', type: 1, offset: bitfield(32, 0) }, { name: 'flags', type: 1, offset: bitfield(62, 4) }], true);
    const [e] = checkBtf(Btf.parse(c.build().bytes));
    assert.ok(e);
    assert.equal(e.detail, "member 2 'flags' at bit 62 with bitfield size 4 ends past the struct's 8 bytes");
    assert.match(e.message, /^type \[2\], element 2, at byte \d+ \(0x[0-9a-f]+\): member 2 'flags'/);
  });

  test('a loop names the types going round', () => {
    const c = new Crafter();
    int(c);
    c.struct('a', 8, [{ name: 'b', type: 3, offset: 0 }]);
    c.struct('b', 8, [{ name: 'a', type: 2, offset: 0 }]);
    const [e] = checkBtf(Btf.parse(c.build().bytes));
    assert.equal(e?.detail, "reference loop: [2] STRUCT 'a' -> [3] STRUCT 'b' -> [2]; a type cannot contain itself, except through a pointer");
  });

  test('problems found are all reported, up to maxErrors', () => {
    const c = new Crafter();
    for (let i = 0; i < 30; i++) c.typedef(undefined, 0);
    const btf = Btf.parse(c.build().bytes);
    assert.equal(checkBtf(btf).length, 30);
    assert.equal(checkBtf(btf, { maxErrors: 7 }).length, 7);
    assert.deepEqual(checkBtf(btf, { maxErrors: 3 }).map((e) => e.typeId), [1, 2, 3]);
  });

  test('a broken type is reported once, not again by everything that uses it', () => {
    const c = new Crafter();
    const bad = c.array(0, 0, 1); // element and index void
    const t = c.typedef('T', bad);
    c.struct('s', 8, [{ name: 'a', type: t, offset: 0 }]);
    c.ptr(t);
    const errors = checkBtf(Btf.parse(c.build().bytes));
    assert.deepEqual(errors.map((e) => e.typeId), [bad, bad]);
  });

  test('assertValidBtf throws the first problem, and nothing for clean BTF', () => {
    const c = new Crafter();
    int(c);
    c.ptr(99);
    c.typedef(undefined, 1);
    const btf = Btf.parse(c.build().bytes);
    assert.throws(() => assertValidBtf(btf), (e: unknown) => e instanceof BtfError && e.code === 'bad-type-id' && e.typeId === 2);
    const ok = new Crafter();
    int(ok);
    assert.doesNotThrow(() => assertValidBtf(Btf.parse(ok.build().bytes)));
  });

  test('errors carry the file name given to Btf.parse', () => {
    const c = new Crafter();
    c.typedef(undefined, 0);
    const [e] = checkBtf(Btf.parse(c.build().bytes, { file: 'x.btf' }));
    assert.equal(e?.file, 'x.btf');
    assert.match(e?.message ?? '', /^x\.btf, type \[1\]/);
  });
});

describe('checkBtf on split BTF', () => {
  const base = new Crafter();
  base.int('int', 4, 32, 1); // [1]
  base.ptr(1); // [2]
  base.fwd('opaque'); // [3]
  const baseBtf = Btf.parse(base.build().bytes);
  const splitCrafter = () => new Crafter({ firstId: baseBtf.endId, firstStringOffset: baseBtf.endStringOffset });

  test('types and names may come from the base', () => {
    const c = splitCrafter();
    // Offset 1 is the base's "int".
    const s = c.struct('mod_s', 16, [{ name: { off: 1 }, type: 1, offset: 0 }, { name: 'p', type: 2, offset: 64 }]);
    c.ptr(3);
    c.typedef('int_t', 1);
    const btf = Btf.parse(c.build().bytes, { base: baseBtf });
    assert.equal(s, 4);
    assert.deepEqual(checkBtf(btf).map(String), []);
  });

  test('references past the last id and names past the strings are caught', () => {
    const c = splitCrafter();
    c.ptr(baseBtf.endId + 5); // [4]
    c.typedef({ off: baseBtf.endStringOffset + 100 }, 1); // [5]
    const built = c.build();
    const errors = checkBtf(Btf.parse(built.bytes, { base: baseBtf }));
    assert.deepEqual(shape(errors), [['bad-type-id', 4, built.offsetOf(4) + 8], ['bad-string-offset', 5, built.offsetOf(5)]]);
  });

  test('base types still count: a member of a base FWD has no size', () => {
    const c = splitCrafter();
    c.struct('m', 8, [{ name: 'o', type: 3, offset: 0 }]);
    const built = c.build();
    assert.deepEqual(shape(checkBtf(Btf.parse(built.bytes, { base: baseBtf }))), [['bad-member', 4, built.elemOffset(4, 0) + 4, 0]]);
  });
});

describe('checkBtf on hostile blobs', () => {
  /** Parses and checks; only BtfError may come out, and checkBtf itself must not throw. */
  function survive(bytes: Uint8Array, opts?: CheckOptions): BtfError[] {
    let btf: Btf;
    try {
      btf = Btf.parse(bytes);
    } catch (e) {
      assert.ok(e instanceof BtfError, `parse threw ${String(e)}`);
      return [e];
    }
    const errors = checkBtf(btf, opts);
    for (const e of errors) assert.ok(e instanceof BtfError);
    return errors;
  }

  test('a struct with 100,000 members at offsets near 2^32', HANG_GUARD, () => {
    for (const size of [0xffffffff, 0x1fff0000]) {
      const c = new Crafter();
      int(c);
      const members = Array.from({ length: 100_000 }, (_, i) => ({ name: 'm', type: 1, offset: 0xffffffff - 100_000 * 32 + i * 32 }));
      c.struct('big', size, members);
      const bytes = c.build().bytes;
      // A hang or quadratic work shows as the test's timeout (HANG_GUARD), not as a timing assertion.
      const errors = survive(bytes);
      // Only the smaller struct is too small for its members; the limit stops the flood.
      if (size === 0xffffffff) assert.deepEqual(errors, []);
      else assert.ok(errors.length === 100 && errors.every((e) => e.code === 'bad-member'), errors.slice(0, 3).map(String).join('\n'));
    }
  });

  test('offsets near 2^32 in members, bitfields and sections', () => {
    const c = new Crafter();
    const i = c.int('int', 4, 32, 1, 0);
    const shifted = c.int('shifted', 4, 8, 0, 24);
    c.struct('s', 0xffffffff, [{ name: 'a', type: i, offset: 0xfffffff0 }, { name: 'b', type: shifted, offset: 0xfffffff8 }]);
    c.struct('k', 0xffffffff, [{ name: 'a', type: i, offset: 0xffffffff }], true);
    const v = c.var('v', i, 1);
    c.datasec('.d', 0xffffffff, [{ type: v, offset: 0xfffffffc, size: 0xffffffff }]);
    c.array(c.array(i, i, 0xffffffff), i, 0xffffffff);
    const errors = survive(c.build().bytes);
    assert.ok(errors.length >= 4, errors.map(String).join('\n'));
  });

  test('a 100,000-long typedef chain and a 100,000-long cycle finish', HANG_GUARD, () => {
    for (const cyclic of [false, true]) {
      const c = new Crafter();
      int(c);
      const n = 100_000;
      for (let k = 0; k < n; k++) c.typedef('t', k === n - 1 ? (cyclic ? 2 : 1) : c.nextId + 1);
      const bytes = c.build().bytes;
      const errors = survive(bytes, { maxErrors: Number.MAX_SAFE_INTEGER });
      assert.ok(errors.length > 0 && errors.every((e) => e.code === 'type-loop'), errors.slice(0, 3).map(String).join('\n'));
    }
  });

  test('more types than type ids can name', () => {
    // 2^20 pointers to void: ids run to 0x100000, one past BTF_MAX_TYPE. Written directly, the crafter is too slow for this.
    const count = 0x100000;
    const bytes = new Uint8Array(24 + count * 12 + 1);
    const dv = new DataView(bytes.buffer);
    dv.setUint16(0, 0xeb9f, true);
    bytes[2] = 1;
    dv.setUint32(4, 24, true);
    dv.setUint32(12, count * 12, true);
    dv.setUint32(16, count * 12, true);
    dv.setUint32(20, 1, true);
    for (let i = 0; i < count; i++) dv.setUint32(24 + i * 12 + 4, K.PTR << 24, true);
    const errors = survive(bytes);
    assert.deepEqual(shape(errors), [['bad-type-id', 0x100000, 24 + (0x100000 - 1) * 12]]);
  });

  test('vlen claiming more elements than the section holds', () => {
    const c = new Crafter();
    c.raw([0, (K.STRUCT << 24) | 0xffffff, 4]);
    const errors = survive(c.build().bytes);
    assert.equal(errors[0]?.code, 'truncated');
  });

  test('random corruption of a valid blob yields BtfErrors only', () => {
    const c = new Crafter();
    const i = int(c);
    const p = c.ptr(i);
    const s = c.struct('s', 16, [{ name: 'a', type: i, offset: 0 }, { name: 'p', type: p, offset: 64 }]);
    const a = c.array(s, i, 3);
    const proto = c.proto(i, [{ name: 'x', type: a }, { type: 0 }]);
    const f = c.func('f', proto, 1);
    c.declTag('tag', f, 0);
    const v = c.var('v', s, 1);
    c.datasec('.data', 16, [{ type: v, offset: 0, size: 16 }]);
    c.enum64('e', 8, [{ name: 'A', value: 1n }]);
    c.typeTag('rcu', c.const(i));
    const good = c.build().bytes;
    let seed = 12345;
    const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    const specials = [0, 1, 0x7f, 0xff, 0xffff, 0xffffff, 0x1000000, 0x7fffffff, 0x80000000, 0xffffffff];
    for (let round = 0; round < 3000; round++) {
      const bytes = good.slice();
      const dv = new DataView(bytes.buffer);
      for (let flips = 1 + Math.floor(rand() * 3); flips > 0; flips--) {
        const at = 24 + 4 * Math.floor(rand() * Math.floor((bytes.length - 24) / 4));
        dv.setUint32(at, rand() < 0.5 ? specials[Math.floor(rand() * specials.length)]! : Math.floor(rand() * 2 ** 32), true);
      }
      survive(bytes, { maxErrors: 1000 });
    }
  });
});
