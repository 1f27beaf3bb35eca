import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

/** Tests run from the repository root (npm test); every path here is relative to it. */
export const REPO_ROOT = process.env.BTFKIT_ROOT ?? process.cwd();
export const FIXTURES = join(REPO_ROOT, 'test', 'fixtures');
/** Larger real data fetched by tools/fetch-debian-kernel.sh (not committed). */
export const DATA_DIR = process.env.BTFKIT_DATA ?? join(REPO_ROOT, 'data');

/** Reads a fixture by its path under test/fixtures, gunzipping `.gz` files. */
export function fixture(rel: string): Uint8Array {
  const raw = readFileSync(join(FIXTURES, rel));
  const b = rel.endsWith('.gz') ? gunzipSync(raw) : raw;
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

export function fixtureText(rel: string): string {
  return new TextDecoder().decode(fixture(rel));
}

export function hasFixture(rel: string): boolean {
  return existsSync(join(FIXTURES, rel));
}
