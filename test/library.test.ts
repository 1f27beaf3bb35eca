/** Library conveniences: kind names in error messages, void apart from unknown kinds. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Btf } from '../src/btf/btf.js';
import { BtfBuilder } from '../src/build/builder.js';
import { ByteSink } from '../src/dump/sink.js';
import { dumpC } from '../src/dump/c/index.js';
import { BtfError } from '../src/errors.js';
import { Kind, KNOWN_LAYOUTS, describeKind, type KindLayout } from '../src/format/kinds.js';

const isBtfError = (code: string, message: RegExp, typeId?: number) => (e: unknown) => {
  assert.ok(e instanceof BtfError, `expected a BtfError, got ${String(e)}`);
  assert.equal(e.code, code, e.message);
  assert.match(e.message, message);
  if (typeId !== undefined) assert.equal(e.typeId, typeId, e.message);
  return true;
};

// ---------------------------------------------------------------- kind names in errors

/** int; a FUNC_PROTO returning it; a FUNC of that prototype. */
function smallBtf(): { btf: Btf; int: number; proto: number; func: number } {
  const b = new BtfBuilder();
  const int = b.addInt('int', 4, 1);
  const proto = b.addFuncProto(int, []);
  const func = b.addFunc('f', proto, 1);
  return { btf: Btf.parse(b.encode()), int, proto, func };
}

/** A blob with a record of kind 20, which btfkit knows only through the layout section. */
function unknownKindBtf(): { btf: Btf; odd: number } {
  const layout: KindLayout[] = [...KNOWN_LAYOUTS, { infoSize: 4, elemSize: 0, flags: 0 }];
  const b = new BtfBuilder({ layout });
  const int = b.addInt('int', 4, 1);
  const odd = b.addRecord(20, b.addString('odd'), 0, false, int, [7]);
  return { btf: Btf.parse(b.encode({ layout: true })), odd };
}

test('error messages name kinds as bpftool does, and keep the number only for void and unknown kinds', () => {
  assert.equal(describeKind(Kind.Struct), 'STRUCT');
  assert.equal(describeKind(Kind.FuncProto), 'FUNC_PROTO');
  assert.equal(describeKind(Kind.Void), 'kind 0 (void)');
  assert.equal(describeKind(25), 'kind 25 (unknown)');

  const { btf, proto, func } = smallBtf();
  assert.throws(() => btf.sizeof(func), isBtfError('bad-size', /^type \[3\]: FUNC has no size$/, func));
  assert.throws(() => btf.alignof(proto), isBtfError('bad-size', /FUNC_PROTO has no alignment/, proto));
  assert.throws(() => btf.sizeof(0), isBtfError('bad-size', /kind 0 \(void\) has no size/));

  const { btf: odd, odd: oddId } = unknownKindBtf();
  assert.throws(() => dumpC(odd, new ByteSink()), isBtfError('bad-kind', /kind 20 \(unknown\) has no C form/, oddId));
  assert.throws(() => new BtfBuilder().addRecord(25, 0, 0, false, 0), isBtfError('bad-kind', /kind 25 \(unknown\)/));
  assert.throws(() => new BtfBuilder().addRecord(Kind.Struct, 0, 1, false, 4, [0]), isBtfError('bad-input', /STRUCT with vlen 1 takes 12 bytes/));
});

// ---------------------------------------------------------------- void and unknown kinds

test('void has Kind.Void; records of kinds btfkit does not know have Kind.Unknown', () => {
  assert.equal(Kind.Void, 0);
  assert.notEqual(Kind.Unknown, Kind.Void);
  assert.ok(Kind.Unknown < 0 || Kind.Unknown > 0x7f, 'Kind.Unknown must not be a number a record can carry');

  const { btf, odd } = unknownKindBtf();
  const v = btf.type(0);
  assert.equal(v.kind, Kind.Void);
  const u = btf.type(odd);
  assert.equal(u.kind, Kind.Unknown);
  assert.ok(u.kind === Kind.Unknown && u.rawKind === 20);
  assert.equal(btf.kind(odd), 20, 'Btf.kind gives the wire number');
  assert.equal(btf.kind(0), Kind.Void);

  // A record of kind 0 (which only void may have) is something btfkit cannot read, not void.
  const b = new BtfBuilder();
  const zero = b.addRecord(0, 0, 0, false, 0);
  const withZero = Btf.parse(b.encode({ layout: true }));
  assert.equal(withZero.type(zero).kind, Kind.Unknown);
});
