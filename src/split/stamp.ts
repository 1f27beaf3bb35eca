import type { Btf } from '../btf/btf.js';
import { BtfError } from '../errors.js';
import { Sha256 } from './sha256.js';

/**
 * The base checksum: a `.BTF.base_checksum` section that `btfkit stamp` writes into a module,
 * naming the exact base its split BTF was built on, so that `checkSplit` can tell "this base"
 * from "another base" without the heuristics that a near-identical base fools.
 *
 * What it covers, and why: SHA-256 over the base's whole type section followed by its whole
 * string section, as the bytes lie in the blob (for a base that is itself split, each blob of
 * its chain, innermost first). Split BTF refers to base types by position and to base strings by
 * byte offset, so any change anywhere in the base can move what a reference lands on, and any
 * appended type or string shifts where the module's own ids and strings begin: the two sections
 * are exactly what the module's numbers point into. A hash of only the base types the module
 * uses would leave that blind spot open (a base with one PTR appended keeps every type the
 * module uses, yet the module's own ids all shift by one). The header and the optional layout
 * section are left out: they say how the sections are framed, not what they hold.
 * For a standard vmlinux blob (24-byte header, types then strings) the digest is
 * `tail -c +25 /sys/kernel/btf/vmlinux | sha256sum`.
 *
 * The section is {@link CHECKSUM_SECTION_SIZE} bytes: the 16-byte tag `BTF.base.sha256\0`,
 * the 32-byte digest, then the type and string section lengths the digest covered, each a
 * little-endian u32 (so a mismatch can say how the bases differ in size).
 */

/** The section `btfkit stamp` writes. */
export const BTF_BASE_CHECKSUM_SECTION = '.BTF.base_checksum';

const TAG = 'BTF.base.sha256\0';
/** Bytes in a `.BTF.base_checksum` section. */
export const CHECKSUM_SECTION_SIZE = 56;

/** A base checksum: the digest and the section lengths it covered. */
export interface BaseChecksum {
  /** SHA-256 of the type sections and string sections of the base chain. */
  sha256: Uint8Array;
  /** Type section bytes covered (over the whole chain). */
  typeBytes: number;
  /** String section bytes covered (over the whole chain). */
  stringBytes: number;
}

const computed = new WeakMap<Btf, BaseChecksum>();

/** The checksum of `base` (computed once per parsed blob). */
export function baseChecksum(base: Btf): BaseChecksum {
  const known = computed.get(base);
  if (known) return known;
  const chain: Btf[] = [];
  for (let b: Btf | undefined = base; b; b = b.base) chain.unshift(b);
  const hash = new Sha256();
  let typeBytes = 0;
  let stringBytes = 0;
  for (const b of chain) {
    hash.update(b.bytes.subarray(b.typeStart, b.typeStart + b.header.typeLen));
    hash.update(b.bytes.subarray(b.stringStart, b.stringStart + b.header.strLen));
    typeBytes += b.header.typeLen;
    stringBytes += b.header.strLen;
  }
  const sum = { sha256: hash.digest(), typeBytes, stringBytes };
  computed.set(base, sum);
  return sum;
}

/** The contents of a `.BTF.base_checksum` section for `base`. */
export function checksumSection(base: Btf): Uint8Array {
  const sum = baseChecksum(base);
  const out = new Uint8Array(CHECKSUM_SECTION_SIZE);
  out.set(new TextEncoder().encode(TAG), 0);
  out.set(sum.sha256, 16);
  const dv = new DataView(out.buffer);
  dv.setUint32(48, sum.typeBytes, true);
  dv.setUint32(52, sum.stringBytes, true);
  return out;
}

/** Reads a `.BTF.base_checksum` section; a malformed one is a `bad-section` error. */
export function parseChecksumSection(bytes: Uint8Array): BaseChecksum {
  const tag = new TextDecoder('latin1').decode(bytes.subarray(0, 16));
  if (bytes.length !== CHECKSUM_SECTION_SIZE || tag !== TAG) {
    throw new BtfError('bad-section', `${BTF_BASE_CHECKSUM_SECTION} is not a btfkit base checksum (${bytes.length} bytes; expected ${CHECKSUM_SECTION_SIZE} starting with the tag 'BTF.base.sha256')`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { sha256: bytes.slice(16, 48), typeBytes: dv.getUint32(48, true), stringBytes: dv.getUint32(52, true) };
}

/** True when two checksums name the same base. */
export function sameChecksum(a: BaseChecksum, b: BaseChecksum): boolean {
  if (a.typeBytes !== b.typeBytes || a.stringBytes !== b.stringBytes) return false;
  for (let i = 0; i < 32; i++) if (a.sha256[i] !== b.sha256[i]) return false;
  return true;
}

/** The digest as lowercase hex. */
export function checksumHex(sum: BaseChecksum): string {
  return Array.from(sum.sha256, (b) => b.toString(16).padStart(2, '0')).join('');
}
