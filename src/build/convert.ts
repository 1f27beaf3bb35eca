import type { Btf } from '../btf/btf.js';
export interface ConvertOptions { endian?: 'little' | 'big'; layout?: boolean }
// placeholder, replaced by the encoder
export function convertBtf(btf: Btf, _opts: ConvertOptions = {}): Uint8Array { return btf.bytes; }
