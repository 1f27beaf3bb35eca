import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { promisify } from 'node:util';
import { C_EPILOGUE, C_PRELUDE } from '../../src/dump/c/index.js';
import { buildCHelper, scratchDir } from './cc.js';
import { loudSkip } from './skip.js';

/**
 * An oracle for the sorted C header that shares no code with btfkit: test/helpers/sorted_header.c
 * computes bpftool v7.8's order itself (learned from bpftool's source) and has the system's
 * libbpf (Debian 12: libbpf-dev 1.1) write every type in that order, as v7.8 does with its own
 * libbpf 1.8. Built once per process with `cc ... -lbpf`.
 */
let runs = 0;

const build = () => buildCHelper('sorted_header', { libbpf: true });

/**
 * True when the oracle can be built. Otherwise skips loudly, or fails where it must run: CI
 * installs cc and libbpf-dev (.ci/run) and runs the tests with CI=true and BTFKIT_REQUIRE_DATA=1.
 */
export function sortedOracleOrSkip(t: TestContext): boolean {
  const b = build();
  if ('path' in b) return true;
  if (process.env.BTFKIT_REQUIRE_DATA === '1' || process.env.CI === 'true') {
    assert.fail(`the sorted-header oracle must run here (CI / BTFKIT_REQUIRE_DATA=1) but ${b.skipped}`);
  }
  loudSkip(t, b.skipped);
  return false;
}

/** What the oracle wrote for one file, in v7.8's form (see {@link sortedBodyForOracle}). */
export interface OracleHeader {
  /** The types and the kfunc section: v7.8's header without its prelude and epilogue. */
  body: string;
  /** Every type id from 0 (void) up, in v7.8's sorted order (the header skips the first). */
  order: number[];
  /** Names of type tags with kind_flag set (written as plain attributes since libbpf 1.6). */
  attributeTags: Set<string>;
}

/**
 * The oracle's header for FILE (raw BTF or a module's ELF), split on BASE when given; text in
 * latin1 so bytes compare one for one. Call {@link sortedOracleOrSkip} first.
 */
export async function oracleSortedHeader(file: string, baseFile?: string): Promise<OracleHeader> {
  const b = build();
  if (!('path' in b)) throw new Error(b.skipped);
  const orderFile = join(scratchDir(), `order-${runs++}.txt`);
  const args = ['--order-to', orderFile, ...(baseFile ? ['-B', baseFile] : []), file];
  const { stdout, stderr } = await promisify(execFile)(b.path, args, { encoding: 'latin1', maxBuffer: 1 << 28 });
  const order = readFileSync(orderFile, 'latin1').trimEnd().split('\n').map(Number);
  rmSync(orderFile);
  const attributeTags = new Set<string>();
  for (const line of stderr.split('\n')) {
    const m = /^attribute type tag: (.*)$/.exec(line);
    if (m) attributeTags.add(m[1]!);
  }
  // libbpf before 1.5 (205e86de, "Fix no-args func prototype BTF dumping syntax") writes a
  // prototype without parameters (none, or a lone void one) as `()`; later ones, v7.8's among
  // them, write `(void)`. Nothing else in a header has `()`: names hold no parentheses.
  return { body: stdout.replaceAll('()', '(void)'), order, attributeTags };
}

/**
 * btfkit's sorted header (latin1) in the form the oracle writes it: without the prelude and
 * epilogue, and with type tags that have kind_flag set written as libbpf 1.1 writes every type
 * tag, `btf_type_tag("NAME")`, instead of v7.8's `__attribute__((NAME))` (libbpf cc278ff7).
 */
export function sortedBodyForOracle(text: string, attributeTags: ReadonlySet<string>): string {
  assert.ok(text.startsWith(C_PRELUDE), 'btfkit header starts with the prelude');
  assert.ok(text.endsWith(C_EPILOGUE), 'btfkit header ends with the epilogue');
  let body = text.slice(C_PRELUDE.length, text.length - C_EPILOGUE.length);
  for (const name of attributeTags) {
    // The header's other attributes: a tag of one of these names could not be told apart.
    assert.ok(!/^(packed|mode\((byte|word)\)|preserve_access_index)$/.test(name), `attribute type tag named ${name}`);
    body = body.replaceAll(` __attribute__((${name}))`, ` __attribute__((btf_type_tag("${name}")))`);
  }
  return body;
}
