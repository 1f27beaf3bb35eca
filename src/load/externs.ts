import type { Btf } from '../btf/btf.js';
import { alignOf, sizeOf, skipModsAndTypedefs } from '../btf/query.js';
import type { TypeSet } from '../btf/typeset.js';
import type { BpfObject } from '../bpf/object.js';
import { libbpfKindName } from '../core/btf-read.js';
import { typesCompatible } from '../core/match.js';
import { readSymbols, SymbolBinding, SymbolType, type ElfSymbol } from '../elf/symbols.js';
import { BtfError, isBtfError } from '../errors.js';
import { IntEncoding, Kind } from '../format/kinds.js';
import { arrayElemType, arrayNelems, intData, intEncoding, readVlen, secinfoType, varLinkage } from '../format/records.js';
import { kconfigValueOf, numericKconfigValue, parseKernelConfig, type KconfigSlot, type KernelConfig } from './kconfig.js';

/**
 * The externs of a BPF object and how a kernel satisfies them, as libbpf 1.1 does it:
 * bpf_object__collect_externs when it opens the object, bpf_object__resolve_externs when it
 * loads it. Everything is judged from BTF and the texts given (a kernel config, kallsyms), so a
 * kernel that is not running here can be judged too.
 */

/** What an extern is: a kernel function called from BPF, a kernel variable or symbol, a config value. */
export type ExternKind = 'kfunc' | 'ksym' | 'kconfig';

/** An extern of a BPF object (an undefined global symbol with its BTF VAR or FUNC). */
export interface BpfExtern {
  name: string;
  kind: ExternKind;
  /** Declared `__weak`: missing is fine, the program sees 0. */
  weak: boolean;
  /** Index of its symbol in `.symtab`. */
  symbolIndex: number;
  /** Its VAR (ksym, kconfig) or FUNC (kfunc) in the object's BTF. */
  btfId: number;
  /**
   * kfunc: its FUNC_PROTO; ksym: the variable's type under typedefs and qualifiers, 0 for an
   * untyped ksym (`extern const void x __ksym`), which libbpf finds in kallsyms, not in BTF.
   */
  typeId: number;
  /** kconfig only: how libbpf stores it. */
  kconfig?: KconfigSlot;
}

/** The kernel BTF object an extern resolved to and the id there (what BPF_PROG_LOAD receives). */
export interface ExternTarget {
  /** `vmlinux` (the type set's base name) or the module's name. */
  btf: string;
  id: number;
}

/**
 * How an extern fares on a kernel:
 * - `resolved`: libbpf finds it (a BTF target, a kallsyms address, or a config value);
 * - `defaulted`: weak and missing, the program reads 0 (libbpf: "not resolved, defaulting to zero");
 * - `failed`: libbpf fails the load over it;
 * - `unjudged`: what decides is not available offline (kallsyms, the running kernel's version
 *   or features, no config given); `reason` says what is known.
 */
export type ExternStatus = 'resolved' | 'defaulted' | 'failed' | 'unjudged';

/** One extern's outcome. */
export interface ExternResolution {
  name: string;
  kind: ExternKind;
  weak: boolean;
  status: ExternStatus;
  /** kfuncs and typed ksyms: where they resolved; null otherwise. */
  resolved: ExternTarget | null;
  /** kconfig: the value the program reads (a number, or a char array's text). */
  value?: bigint | string;
  /** kconfig: the bytes libbpf writes at the extern's offset of the `.kconfig` map. */
  data?: Uint8Array;
  /** Untyped ksyms with kallsyms given: the address. */
  address?: bigint;
  /** Why it failed, defaulted or could not be judged; absent for a plain success. */
  reason?: string;
  /** Something that does not fail libbpf but may fail the verifier or a later libbpf. */
  note?: string;
}

/** Options of {@link resolveExterns}. */
export interface ResolveExternsOptions {
  /**
   * The target's kernel config (`.config` text, `/boot/config-*`, inflated `/proc/config.gz`).
   * Without it `CONFIG_` externs are unjudged.
   */
  kernelConfig?: string;
  /** The target's `/proc/kallsyms` text; without it untyped ksyms are unjudged. */
  kallsyms?: string;
  /** The target's release (`6.1.0` or LINUX_VERSION_CODE) for `LINUX_KERNEL_VERSION`. */
  kernelRelease?: string | number;
  /** Feature probes libbpf runs for `LINUX_HAS_BPF_COOKIE` / `LINUX_HAS_SYSCALL_WRAPPER`. */
  features?: { bpfCookie?: boolean; syscallWrapper?: boolean };
}

const KSYMS_SEC = '.ksyms';
const KCONFIG_SEC = '.kconfig';
const FUNC_LINKAGE_EXTERN = 2;
const VAR_LINKAGE_EXTERN = 2;
/** libbpf's order of extern kinds (enum extern_type: EXT_KCFG before EXT_KSYM). */
const TYPE_ORDER: Record<ExternKind, number> = { kconfig: 1, ksym: 2, kfunc: 2 };

function openFail(code: 'no-btf' | 'not-found' | 'unsupported' | 'bad-input', detail: string, typeId?: number): never {
  throw new BtfError(code, `libbpf refuses to open the object: ${detail}`, typeId === undefined ? {} : { typeId });
}

/** The first VAR or FUNC named `name`, which must have extern linkage (find_extern_btf_id). */
function externBtfId(btf: Btf, name: string): number {
  // Through the name index, not libbpf's scan: a hostile object may have many externs and types.
  const id = btf.find(name).find((x) => btf.kind(x) === Kind.Var || btf.kind(x) === Kind.Func);
  if (id === undefined) openFail('not-found', `no BTF VAR or FUNC for extern '${name}'`);
  const isVar = btf.kind(id) === Kind.Var;
  const o = btf.owner(id)!;
  const linkage = isVar ? varLinkage(o, o.recordOffset(id)) : btf.vlen(id);
  if (linkage !== (isVar ? VAR_LINKAGE_EXTERN : FUNC_LINKAGE_EXTERN)) {
    openFail('bad-input', `extern '${name}' has BTF ${isVar ? 'VAR' : 'FUNC'} [${id}] whose linkage is not extern`, id);
  }
  return id;
}

interface Sections {
  /** Each DATASEC's name and entries, in id order. */
  list: { name: string; vars: number[] }[];
  /** For each type listed by a DATASEC, the first DATASEC that lists it (find_extern_sec_btf_id). */
  firstOf: Map<number, string>;
}

function datasecEntries(btf: Btf): Sections {
  const list: Sections['list'] = [];
  const firstOf = new Map<number, string>();
  for (let id = 1; id < btf.endId; id++) {
    if (btf.kind(id) !== Kind.Datasec) continue;
    const o = btf.owner(id)!;
    const rec = o.recordOffset(id);
    const n = readVlen(o, rec);
    const name = btf.name(id);
    const vars: number[] = [];
    for (let i = 0; i < n; i++) {
      const v = secinfoType(o, rec, i);
      vars.push(v);
      if (!firstOf.has(v)) firstOf.set(v, name);
    }
    list.push({ name, vars });
  }
  return { list, firstOf };
}

/** libbpf's find_kcfg_type: what storage a kconfig extern's type gives, or undefined for none. */
function kconfigType(btf: Btf, typeId: number, top = true): { type: KconfigSlot['type']; signed: boolean } | undefined {
  const id = skipModsAndTypedefs(btf, typeId);
  if (id === 0) return undefined;
  switch (btf.kind(id)) {
    case Kind.Int: {
      const o = btf.owner(id)!;
      const enc = intEncoding(intData(o, o.recordOffset(id)));
      const size = btf.sizeOrType(id);
      if (enc & IntEncoding.Bool) return size === 1 ? { type: 'bool', signed: false } : undefined;
      const signed = top && (enc & IntEncoding.Signed) !== 0;
      if (size === 1) return { type: 'char', signed };
      return size === 2 || size === 4 || size === 8 ? { type: 'int', signed } : undefined;
    }
    case Kind.Enum:
      return btf.sizeOrType(id) === 4 && btf.name(id) === 'libbpf_tristate' ? { type: 'tristate', signed: false } : undefined;
    case Kind.Enum64:
      return btf.name(id) === 'libbpf_tristate' ? { type: 'tristate', signed: false } : undefined;
    case Kind.Array: {
      const o = btf.owner(id)!;
      const rec = o.recordOffset(id);
      if (arrayNelems(o, rec) === 0) return undefined;
      return kconfigType(btf, arrayElemType(o, rec), false)?.type === 'char' ? { type: 'string', signed: false } : undefined;
    }
    default:
      return undefined;
  }
}

const utf8 = new TextEncoder();

/** strcmp on the names' UTF-8 bytes, libbpf's tie-break (JavaScript compares UTF-16 units). */
function compareNames(a: string, b: string): number {
  const x = utf8.encode(a);
  const y = utf8.encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}


/** One extern symbol as bpf_object__collect_externs describes it (its kconfig offset comes later). */
function describeExtern(btf: Btf, sym: ElfSymbol, sections: Sections): BpfExtern {
  const btfId = externBtfId(btf, sym.name);
  const secName = sections.firstOf.get(btfId);
  if (secName === undefined) openFail('not-found', `extern '${sym.name}' [${btfId}] is in no DATASEC (declare it __ksym or __kconfig)`, btfId);
  const isFunc = btf.kind(btfId) === Kind.Func;
  const base = { name: sym.name, weak: sym.bind === SymbolBinding.Weak, symbolIndex: sym.index, btfId };
  if (secName === KCONFIG_SEC) {
    if (isFunc) openFail('unsupported', `extern function '${sym.name}' in ${KCONFIG_SEC}`, btfId);
    const typeId = btf.sizeOrType(btfId);
    const what = kconfigType(btf, typeId);
    let size: number;
    let align: number;
    try {
      size = sizeOf(btf, typeId);
      align = alignOf(btf, typeId);
    } catch (e) {
      if (isBtfError(e)) openFail('unsupported', `extern (kcfg) '${sym.name}': ${e.detail}`, btfId);
      throw e;
    }
    if (size <= 0 || align <= 0) openFail('unsupported', `extern (kcfg) '${sym.name}' has no size or alignment`, btfId);
    if (!what) openFail('unsupported', `extern (kcfg) '${sym.name}': libbpf cannot fill a value of its type`, btfId);
    return { ...base, kind: 'kconfig', typeId, kconfig: { type: what.type, size, align, signed: what.signed, offset: 0 } };
  }
  if (secName === KSYMS_SEC) {
    return { ...base, kind: isFunc ? 'kfunc' : 'ksym', typeId: skipModsAndTypedefs(btf, btf.sizeOrType(btfId)) };
  }
  openFail('unsupported', `extern '${sym.name}' is in section '${secName}', neither ${KSYMS_SEC} nor ${KCONFIG_SEC}`, btfId);
}

/**
 * The externs of a BPF object, as libbpf 1.1 collects them when it opens the object: every
 * undefined global or weak symbol without a type (`STT_NOTYPE`), named, with a VAR or FUNC of
 * that name and extern linkage in the object's BTF, listed in the `.ksyms` DATASEC (a FUNC is a
 * kfunc, a VAR a ksym; VAR of type void is untyped) or the `.kconfig` one (a VAR of a type
 * libbpf can fill: bool, char, 2/4/8-byte integers, `enum libbpf_tristate`, char arrays).
 *
 * In libbpf's order: kconfig externs first (by alignment, largest first, then size, then name),
 * then ksyms and kfuncs by name; kconfig offsets are laid out in that order. What libbpf refuses
 * to open (an extern without BTF or section, a FUNC in `.kconfig`, a kconfig type it cannot fill,
 * another extern section) throws a {@link BtfError}.
 */
export function collectExterns(object: BpfObject): BpfExtern[] {
  const symbols = readSymbols(object.elf);
  const btf = object.btf;
  let sections: Sections | undefined;
  const externs: BpfExtern[] = [];
  for (const sym of symbols) {
    if (sym.section !== 0 || sym.type !== SymbolType.NoType) continue;
    if (sym.bind !== SymbolBinding.Global && sym.bind !== SymbolBinding.Weak) continue;
    if (sym.name === '') continue;
    if (!btf) openFail('no-btf', `extern '${sym.name}' needs BTF and the object has no .BTF section`);
    try {
      externs.push(describeExtern(btf, sym, (sections ??= datasecEntries(btf))));
    } catch (e) {
      // A broken reference deep in a type names the extern it was reached from.
      if (isBtfError(e) && !e.detail.startsWith('libbpf refuses')) {
        throw new BtfError(e.code, `extern '${sym.name}': ${e.detail}`, { typeId: e.typeId });
      }
      throw e;
    }
  }
  externs.sort((a, b) => {
    if (TYPE_ORDER[a.kind] !== TYPE_ORDER[b.kind]) return TYPE_ORDER[a.kind] - TYPE_ORDER[b.kind];
    if (a.kconfig && b.kconfig) {
      if (a.kconfig.align !== b.kconfig.align) return b.kconfig.align - a.kconfig.align;
      if (a.kconfig.size !== b.kconfig.size) return a.kconfig.size - b.kconfig.size;
    }
    return compareNames(a.name, b.name);
  });
  let off = 0;
  for (const e of externs) {
    if (!e.kconfig) continue;
    e.kconfig.offset = Math.ceil(off / e.kconfig.align) * e.kconfig.align;
    off = e.kconfig.offset + e.kconfig.size;
  }
  // libbpf rewrites both DATASECs entry by entry and refuses one that names no extern.
  const names = new Set(externs.map((e) => e.name));
  for (const sec of sections?.list ?? []) {
    if (sec.name !== KSYMS_SEC && sec.name !== KCONFIG_SEC) continue;
    if (!externs.some((e) => (e.kind === 'kconfig') === (sec.name === KCONFIG_SEC))) continue;
    for (const v of sec.vars) {
      const name = btf!.has(v) ? btf!.name(v) : `type ${v}`;
      if (!names.has(name)) openFail('not-found', `${sec.name} lists '${name}', which is no extern symbol of the object`, v);
    }
  }
  return externs;
}

/** The size of the `.kconfig` map libbpf makes for these externs (0 without kconfig externs). */
export function kconfigMapSize(externs: readonly BpfExtern[]): number {
  let end = 0;
  for (const e of externs) if (e.kconfig) end = Math.max(end, e.kconfig.offset + e.kconfig.size);
  return end;
}

/** KERNEL_VERSION(a, b, c) from a release string (`6.1.0-13-amd64`), c capped at 255 as libbpf does. */
function versionCode(release: string | number): number | undefined {
  if (typeof release === 'number') return release;
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(release);
  if (!m) return undefined;
  return (Number(m[1]) << 16) + (Number(m[2]) << 8) + Math.min(Number(m[3] ?? 0), 255);
}

/** libbpf's btf__find_by_name_kind (vmlinux: any id; modules: their own types). */
function firstOf(btf: Btf, name: string, kind: Kind, own: boolean): number | undefined {
  if (name === 'void') return undefined;
  return btf.find(name, kind).find((id) => !own || id >= btf.firstId);
}

/** find_ksym_btf_id: vmlinux first, then each module in the set's order. */
function findKsym(set: TypeSet, name: string, kind: Kind): { btf: Btf; where: string; id: number } | undefined {
  const inBase = firstOf(set.base, name, kind, false);
  if (inBase !== undefined) return { btf: set.base, where: set.baseName, id: inBase };
  for (const mod of set.moduleNames()) {
    const btf = set.module(mod)!;
    const id = firstOf(btf, name, kind, true);
    if (id !== undefined) return { btf, where: mod, id };
  }
  return undefined;
}

function describe(btf: Btf, id: number): string {
  return `[${id}] ${libbpfKindName(id === 0 ? 0 : btf.kind(id))} ${id === 0 ? '' : btf.name(id)}`.trimEnd();
}

const kfuncTagCache = new WeakMap<Btf, Set<number> | null>();

/** FUNCs carrying the kernel's `bpf_kfunc` DECL_TAG (pahole >= 1.26); null when the BTF has none at all. */
function kfuncTagged(btf: Btf): Set<number> | null {
  let tagged = kfuncTagCache.get(btf);
  if (tagged !== undefined) return tagged;
  const tags = btf.find('bpf_kfunc', Kind.DeclTag);
  tagged = tags.length === 0 ? null : new Set(tags.map((t) => btf.sizeOrType(t)));
  kfuncTagCache.set(btf, tagged);
  return tagged;
}

function missing(e: BpfExtern, what: string, flavorNote = ''): ExternResolution {
  const base = { name: e.name, kind: e.kind, weak: e.weak, resolved: null };
  return e.weak
    ? { ...base, status: 'defaulted', reason: `${what}; weak, so the program sees 0${flavorNote}` }
    : { ...base, status: 'failed', reason: `${what}${flavorNote}` };
}

function resolveKfunc(object: BpfObject, e: BpfExtern, set: TypeSet): ExternResolution {
  const btf = object.btf!;
  const hit = findKsym(set, e.name, Kind.Func);
  const flavor = e.name.indexOf('___');
  const flavorNote = flavor > 0
    ? ` (libbpf 1.1 looks the name up with its ___ suffix; libbpf >= 1.3 looks for '${e.name.slice(0, flavor)}')`
    : '';
  if (!hit) return missing(e, `FUNC '${e.name}' is not in ${set.baseName} or its modules`, flavorNote);
  const targetProto = hit.btf.sizeOrType(hit.id);
  const refused = incompatibility(e, 'prototypes', btf, hit.btf, targetProto,
    () => `func_proto [${e.typeId}] is incompatible with ${hit.where}'s [${targetProto}] (FUNC [${hit.id}])`);
  if (refused) return refused;
  const out: ExternResolution = { name: e.name, kind: e.kind, weak: e.weak, status: 'resolved', resolved: { btf: hit.where, id: hit.id } };
  const tagged = kfuncTagged(hit.btf);
  if (tagged && !tagged.has(hit.id)) {
    out.note = `${hit.where} tags its kfuncs with 'bpf_kfunc' and not this FUNC: the verifier will likely refuse the call`;
  }
  return out;
}

function resolveTypedKsym(object: BpfObject, e: BpfExtern, set: TypeSet): ExternResolution {
  const btf = object.btf!;
  const hit = findKsym(set, e.name, Kind.Var);
  if (!hit) return missing(e, `VAR '${e.name}' is not in ${set.baseName} or its modules`);
  const targetType = skipModsAndTypedefs(hit.btf, hit.btf.sizeOrType(hit.id));
  const refused = incompatibility(e, 'types', btf, hit.btf, targetType,
    () => `incompatible types: expected ${describe(btf, e.typeId)}, but ${hit.where} has ${describe(hit.btf, targetType)}`);
  if (refused) return refused;
  return { name: e.name, kind: e.kind, weak: e.weak, status: 'resolved', resolved: { btf: hit.where, id: hit.id } };
}

/**
 * The failed resolution when the extern's type and the kernel's `target` are not compatible
 * (libbpf's check for both kinds), with `reason()`; undefined when they are.
 */
function incompatibility(e: BpfExtern, what: string, btf: Btf, targetBtf: Btf, target: number, reason: () => string): ExternResolution | undefined {
  const failed = (why: string): ExternResolution => ({ name: e.name, kind: e.kind, weak: e.weak, status: 'failed', resolved: null, reason: why });
  try {
    return typesCompatible(btf, e.typeId, targetBtf, target) ? undefined : failed(reason());
  } catch (err) {
    if (!isBtfError(err)) throw err;
    return failed(`comparing ${what} failed: ${err.message}`);
  }
}

/** Each name's addresses in a kallsyms text (`ADDR TYPE NAME [MODULE]`). */
function kallsymsAddresses(text: string): Map<string, bigint[]> {
  const out = new Map<string, bigint[]>();
  for (const line of text.split('\n')) {
    const m = /^\s*([0-9a-fA-F]+)\s+(\S)\s+(\S+)/.exec(line);
    if (!m) continue;
    const list = out.get(m[3]!);
    const addr = BigInt('0x' + m[1]!);
    if (list) list.push(addr);
    else out.set(m[3]!, [addr]);
  }
  return out;
}

function resolveUntypedKsym(e: BpfExtern, set: TypeSet, kallsyms: Map<string, bigint[]> | undefined): ExternResolution {
  const base = { name: e.name, kind: e.kind, weak: e.weak, resolved: null };
  if (!kallsyms) {
    const hits = set.find(e.name).filter((h) => h.kind === Kind.Var || h.kind === Kind.Func);
    const inBtf = hits.length > 0
      ? `exists in BTF as ${hits[0]!.kind === Kind.Var ? 'VAR' : 'FUNC'} [${hits[0]!.id}] of ${hits[0]!.module}`
      : 'not in BTF (kallsyms may still have it)';
    return { ...base, status: 'unjudged', reason: `an untyped ksym is found in /proc/kallsyms, which an offline target does not have; ${inBtf}` };
  }
  const addrs = kallsyms.get(e.name);
  if (!addrs) return missing(e, `'${e.name}' is not in kallsyms`);
  const other = addrs.find((a) => a !== addrs[0]);
  if (other !== undefined) {
    return { ...base, status: 'failed', reason: `resolution is ambiguous: 0x${addrs[0]!.toString(16)} or 0x${other.toString(16)}` };
  }
  return { ...base, status: 'resolved', address: addrs[0]! };
}

function resolveKconfig(object: BpfObject, e: BpfExtern, config: KernelConfig | undefined, opts: ResolveExternsOptions): ExternResolution {
  const slot = e.kconfig!;
  const le = object.littleEndian;
  const base = { name: e.name, kind: e.kind, weak: e.weak, resolved: null };
  const fromNumber = (v: bigint, what: string): ExternResolution => {
    const r = numericKconfigValue(slot, v, le);
    return r.ok ? { ...base, status: 'resolved', value: r.value, data: r.bytes } : { ...base, status: 'failed', reason: `${what}: ${r.reason}` };
  };
  if (!e.name.startsWith('CONFIG_')) {
    switch (e.name) {
      case 'LINUX_KERNEL_VERSION': {
        const code = opts.kernelRelease === undefined ? undefined : versionCode(opts.kernelRelease);
        if (code === undefined) return { ...base, status: 'unjudged', reason: "libbpf fills it with the running kernel's version; give the target's release" };
        return fromNumber(BigInt(code), 'kernel version');
      }
      case 'LINUX_HAS_BPF_COOKIE': case 'LINUX_HAS_SYSCALL_WRAPPER': {
        const has = e.name === 'LINUX_HAS_BPF_COOKIE' ? opts.features?.bpfCookie : opts.features?.syscallWrapper;
        if (has === undefined) return { ...base, status: 'unjudged', reason: 'libbpf probes the running kernel for it' };
        return fromNumber(has ? 1n : 0n, 'feature probe');
      }
      default:
        if (!e.name.startsWith('LINUX_') || !e.weak) {
          return { ...base, status: 'failed', reason: 'unrecognized virtual extern: libbpf fills only CONFIG_ externs from the config and a few LINUX_ ones itself' };
        }
        // An unknown weak LINUX_ extern is set to 0 through the integer path, type checks included.
        {
          const r = numericKconfigValue(slot, 0n, le);
          return r.ok ? { ...base, status: 'defaulted', value: r.value, data: r.bytes, reason: 'a LINUX_ extern libbpf does not know; weak, so 0' } : { ...base, status: 'failed', reason: r.reason };
        }
    }
  }
  if (!config) return { ...base, status: 'unjudged', reason: 'no kernel config given (libbpf reads /boot/config-$(uname -r) or /proc/config.gz)' };
  const line = config.lines.get(e.name);
  if (!line) {
    const stop = config.malformed
      ? `the config's line ${config.malformed.line} ('${config.malformed.text}') has ${config.malformed.reason}; libbpf stops reading there and fails the load`
      : undefined;
    if (stop) return { ...base, status: 'failed', reason: stop };
    const why = config.notSet.has(e.name) ? `the config says '${e.name} is not set' (libbpf reads only ${e.name}=... lines)` : 'not in the kernel config';
    if (e.weak) return { ...base, status: 'defaulted', value: slot.type === 'string' ? '' : 0n, data: new Uint8Array(slot.size), reason: `${why}; weak, so the program sees 0` };
    return { ...base, status: 'failed', reason: why };
  }
  const r = kconfigValueOf(slot, line.value, le);
  if (!r.ok) return { ...base, status: 'failed', reason: `config line ${line.line}: ${r.reason}` };
  const out: ExternResolution = { ...base, status: 'resolved', value: r.value, data: r.bytes };
  if (r.note) out.note = r.note;
  return out;
}

/**
 * Resolves a BPF object's externs against a kernel as libbpf 1.1 does when it loads the object
 * (bpf_object__resolve_externs): kfuncs are FUNCs and typed ksyms VARs, looked up by exact name
 * in vmlinux and, only when vmlinux has none, in each module (its own types) in the set's order;
 * the object's prototype or variable type must be compatible with the kernel's
 * (`bpf_core_types_are_compat`, the CO-RE engine's {@link typesCompatible}). Untyped ksyms come
 * from kallsyms, `CONFIG_` externs from the kernel config, `LINUX_` ones from the kernel itself.
 * A weak extern that is missing defaults to 0; an incompatible one fails even when weak.
 *
 * Results are in {@link collectExterns}' order, one per extern. libbpf stops at the first
 * failure; every failure is reported here. Throws what {@link collectExterns} throws.
 */
export function resolveExterns(object: BpfObject, target: TypeSet, opts: ResolveExternsOptions = {}): ExternResolution[] {
  const externs = collectExterns(object);
  const config = opts.kernelConfig === undefined ? undefined : parseKernelConfig(opts.kernelConfig);
  const kallsyms = opts.kallsyms === undefined ? undefined : kallsymsAddresses(opts.kallsyms);
  return externs.map((e) => {
    switch (e.kind) {
      case 'kconfig': return resolveKconfig(object, e, config, opts);
      case 'kfunc': return resolveKfunc(object, e, target);
      default: return e.typeId === 0 ? resolveUntypedKsym(e, target, kallsyms) : resolveTypedKsym(object, e, target);
    }
  });
}
