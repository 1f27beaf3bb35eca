/**
 * `__kconfig` externs: which C types libbpf 1.1 can fill from a kernel config, and the value
 * each config line gives one (bpf_object__process_kconfig_line and set_kcfg_value_*). Pure
 * functions over text; the caller says where the config came from.
 */

/** How libbpf stores a kconfig extern (`enum kcfg_type`); `string` is a char array. */
export type KconfigType = 'bool' | 'char' | 'int' | 'tristate' | 'string';

/** What a kconfig extern's storage is, as libbpf works it out when it opens the object. */
export interface KconfigSlot {
  type: KconfigType;
  /** `btf__resolve_size` of the extern's type. */
  size: number;
  /** `btf__align_of` of the extern's type. */
  align: number;
  /** For `int` and `char`: whether the INT is signed (range checks differ). */
  signed: boolean;
  /** Offset in the `.kconfig` map (libbpf's layout: externs by alignment, then size, then name). */
  offset: number;
}

/** A value libbpf would store, or why it refuses the line. */
export type KconfigValue =
  | { ok: true; bytes: Uint8Array; value: bigint | string; note?: string }
  | { ok: false; reason: string };

/** One `CONFIG_X=...` line of a config file, split as libbpf splits it. */
export interface KconfigLine {
  /** 1-based line number. */
  line: number;
  name: string;
  /** Everything after the first '=' (one trailing newline removed, nothing else). */
  value: string;
}

/** A config file read as libbpf reads it: the first line for each name wins. */
export interface KernelConfig {
  /** The first `CONFIG_` line for each name. */
  lines: Map<string, KconfigLine>;
  /**
   * The first line libbpf refuses whatever externs the object has (`CONFIG_X` without '=', or
   * with nothing after it): libbpf stops reading there and fails the load, so names that only
   * appear after it are never set.
   */
  malformed?: { line: number; text: string; reason: string };
  /** Names libbpf's config would give as `# CONFIG_X is not set`: not values, but worth saying. */
  notSet: Set<string>;
}

const NOT_SET = /^# (CONFIG_\w+) is not set$/;

/**
 * Reads a kernel config (`.config`, `/boot/config-*`, `/proc/config.gz` inflated) line by line as
 * libbpf 1.1 does: only lines that start with `CONFIG_` count; the name runs to the first '=',
 * the value is the rest without its newline; a `CONFIG_` line without '=' or value ends reading.
 * libbpf reads through a 4096-byte buffer (a longer line is cut into pieces that count as lines
 * of their own); real configs have no such lines and this reader keeps them whole.
 */
export function parseKernelConfig(text: string): KernelConfig {
  const lines = new Map<string, KconfigLine>();
  const notSet = new Set<string>();
  const raw = text.split('\n');
  for (let i = 0; i < raw.length; i++) {
    const line = raw[i]!;
    if (!line.startsWith('CONFIG_')) {
      const m = NOT_SET.exec(line);
      if (m) notSet.add(m[1]!);
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0) return { lines, notSet, malformed: { line: i + 1, text: line, reason: "no '=' separator" } };
    if (eq === line.length - 1) return { lines, notSet, malformed: { line: i + 1, text: line, reason: 'no value after the =' } };
    const name = line.slice(0, eq);
    if (!lines.has(name)) lines.set(name, { line: i + 1, name, value: line.slice(eq + 1) });
  }
  return { lines, notSet };
}

/** strtoull(value, &end, 0) with libbpf's checks: the whole value must be a number that fits in 64 bits. */
export function parseConfigInteger(value: string): bigint | undefined {
  let i = 0;
  while (i < value.length && ' \t\n\v\f\r'.includes(value[i]!)) i++;
  let negative = false;
  if (value[i] === '+' || value[i] === '-') negative = value[i++] === '-';
  let radix = 10;
  let digits = '';
  if (value[i] === '0' && (value[i + 1] === 'x' || value[i + 1] === 'X') && /[0-9a-fA-F]/.test(value[i + 2] ?? '')) {
    radix = 16;
    i += 2;
  } else if (value[i] === '0') {
    radix = 8;
  }
  const digit = radix === 16 ? /[0-9a-fA-F]/ : radix === 8 ? /[0-7]/ : /[0-9]/;
  while (i < value.length && digit.test(value[i]!)) digits += value[i++];
  if (digits === '' || i !== value.length) return undefined;
  const prefix = radix === 16 ? '0x' : radix === 8 ? '0o' : '';
  const n = BigInt(prefix + digits);
  if (n > 0xffff_ffff_ffff_ffffn) return undefined;
  return negative ? BigInt.asUintN(64, -n) : n;
}

function store(slot: KconfigSlot, value: bigint, width: number, littleEndian: boolean): Uint8Array {
  const bytes = new Uint8Array(slot.size);
  const view = new DataView(bytes.buffer);
  if (width === 1) view.setUint8(0, Number(value & 0xffn));
  else if (width === 2) view.setUint16(0, Number(value & 0xffffn), littleEndian);
  else if (width === 4) view.setUint32(0, Number(value & 0xffff_ffffn), littleEndian);
  else view.setBigUint64(0, value, littleEndian);
  return bytes;
}

/** libbpf's `is_kcfg_value_in_range`: the u64 fits the slot's integer without loss. */
function fits(slot: KconfigSlot, v: bigint): boolean {
  if (slot.size === 8) return true;
  const bits = BigInt(slot.size * 8);
  if (slot.signed) return BigInt.asUintN(64, v + (1n << (bits - 1n))) < 1n << bits;
  return v >> bits === 0n;
}

/** set_kcfg_value_num: an integer into an int, char or bool slot. */
export function numericKconfigValue(slot: KconfigSlot, v: bigint, littleEndian: boolean): KconfigValue {
  if (slot.type !== 'int' && slot.type !== 'char' && slot.type !== 'bool') {
    return { ok: false, reason: `value ${v} implies an integer, char or bool type, the extern is ${slot.type}` };
  }
  if (slot.type === 'bool' && v > 1n) return { ok: false, reason: `value ${v} is not a bool` };
  if (!fits(slot, v)) return { ok: false, reason: `value ${v} does not fit in ${slot.size} byte${slot.size === 1 ? '' : 's'}` };
  if (slot.size !== 1 && slot.size !== 2 && slot.size !== 4 && slot.size !== 8) {
    return { ok: false, reason: `libbpf cannot store a number in ${slot.size} bytes` };
  }
  const shown = slot.signed ? BigInt.asIntN(slot.size * 8, v) : v;
  return { ok: true, bytes: store(slot, v, slot.size, littleEndian), value: shown };
}

/**
 * The value a config line's text gives a kconfig extern, as libbpf 1.1 decides it: `y`, `n`,
 * `m` (only the first character counts) for bool, tristate and char slots; a quoted string
 * for char arrays (cut to fit, with a note, as libbpf warns); anything else must be a whole
 * C integer (decimal, 0x hex, 0 octal, a sign) for an int or char slot.
 */
export function kconfigValueOf(slot: KconfigSlot, text: string, littleEndian: boolean): KconfigValue {
  const first = text[0];
  if (first === 'y' || first === 'n' || first === 'm') {
    switch (slot.type) {
      case 'bool':
        if (first === 'm') return { ok: false, reason: `value '${first}' implies a tristate or char type, the extern is a bool` };
        return { ok: true, bytes: store(slot, first === 'y' ? 1n : 0n, 1, littleEndian), value: first === 'y' ? 1n : 0n };
      case 'tristate': {
        const v = first === 'y' ? 1n : first === 'm' ? 2n : 0n;
        // libbpf writes a C enum (4 bytes) whatever size the extern's enum has.
        return { ok: true, bytes: store(slot, v, Math.min(4, slot.size), littleEndian), value: v };
      }
      case 'char':
        return { ok: true, bytes: store(slot, BigInt(first.charCodeAt(0)), 1, littleEndian), value: BigInt(first.charCodeAt(0)) };
      default:
        return { ok: false, reason: `value '${first}' implies a bool, tristate or char type, the extern is ${slot.type === 'string' ? 'a char array' : 'an int'}` };
    }
  }
  if (first === '"') {
    if (slot.type !== 'string') return { ok: false, reason: `value ${text} implies a char array, the extern is ${slot.type === 'int' ? 'an int' : `a ${slot.type}`}` };
    if (text.length < 2 || !text.endsWith('"')) {
      return { ok: false, reason: text.length < 2 ? `value ${text} is a lone quote (libbpf would copy past the end of the line)` : `invalid string value ${text} (no closing quote)` };
    }
    let inner = text.slice(1, -1);
    const encoded = new TextEncoder().encode(inner);
    let note: string | undefined;
    let cut = encoded;
    if (encoded.length >= slot.size) {
      cut = encoded.subarray(0, slot.size - 1);
      note = `string of ${encoded.length} bytes cut to ${slot.size - 1} (libbpf warns and goes on)`;
      inner = new TextDecoder().decode(cut);
    }
    const bytes = new Uint8Array(slot.size);
    bytes.set(cut);
    return note ? { ok: true, bytes, value: inner, note } : { ok: true, bytes, value: inner };
  }
  const n = parseConfigInteger(text);
  if (n === undefined) return { ok: false, reason: `value '${text}' is not a valid integer` };
  if (slot.type !== 'int' && slot.type !== 'char') return { ok: false, reason: `value '${text}' implies an integer type, the extern is ${slot.type === 'string' ? 'a char array' : `a ${slot.type}`}` };
  return numericKconfigValue(slot, n, littleEndian);
}
