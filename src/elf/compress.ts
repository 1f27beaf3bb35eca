/**
 * Compressed kernel modules: distributions ship `.ko.xz`, `.ko.zst` and `.ko.gz`. This module
 * only recognises the containers (by magic bytes, never by file name); inflating them needs a
 * decompressor, which the Node layer supplies (`btfkit/node`'s `decompressModule`).
 */

/** A container format a module can be compressed with. */
export type Compression = 'gzip' | 'xz' | 'zstd';

const MAGICS: readonly [Compression, readonly number[]][] = [
  ['gzip', [0x1f, 0x8b]],
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ['zstd', [0x28, 0xb5, 0x2f, 0xfd]],
];

/** The compression format of `bytes`, judged by its magic number; undefined for anything else. */
export function detectCompression(bytes: Uint8Array): Compression | undefined {
  for (const [kind, magic] of MAGICS) {
    if (bytes.length >= magic.length && magic.every((b, i) => bytes[i] === b)) return kind;
  }
  return undefined;
}

/** The file name suffix the kernel's build uses for each format. */
export const COMPRESSION_SUFFIX: Readonly<Record<Compression, string>> = { gzip: '.gz', xz: '.xz', zstd: '.zst' };

/**
 * The module name of a module file as the kernel spells it (dashes become underscores):
 * `/lib/modules/.../snd-hda-intel.ko.zst` gives `snd_hda_intel`.
 */
export function moduleNameOf(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  return base.replace(/\.(xz|zst|gz)$/, '').replace(/\.(ko|o|btf)$/, '').replace(/-/g, '_');
}
