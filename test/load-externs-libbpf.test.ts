/**
 * Externs (src/load/externs.ts) against libbpf 1.1 itself: test/helpers/externs_oracle.c opens
 * each fixture object (test/bpf/externs*.bpf.c, both compilers, little-endian: libbpf refuses
 * the other byte order here) and loads it into the running kernel, and libbpf's debug log says
 * how it resolved each extern. btfkit reads the same kernel's BTF, its config and kallsyms, and
 * must reach the same outcome for every extern libbpf reports on, and fail first where libbpf
 * fails (libbpf stops at its first failure). kconfig values are compared byte for byte with
 * the `.kconfig` map libbpf filled. Needs root, /sys/kernel/btf/vmlinux and libbpf-dev.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import test, { type TestContext } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { parseBpfObject } from '../src/bpf/object.js';
import { collectExterns, resolveExterns, type ExternResolution } from '../src/load/externs.js';
import { KernelBtf } from '../src/node/sysfs.js';
import { buildCHelper, scratchDir } from './helpers/cc.js';
import { FIXTURES, fixture } from './helpers/paths.js';
import { loudSkip } from './helpers/skip.js';

interface LibbpfRun {
  /** Per extern name: what libbpf said last about it. */
  outcome: Map<string, { status: 'resolved' | 'defaulted' | 'failed'; id?: number; address?: bigint; line: string }>;
  /** The .kconfig map's offsets (name → [offset, size]) and bytes, when the load got that far. */
  kcfgVars: Map<string, [number, number]>;
  kcfgData?: Uint8Array;
  loaded: boolean;
  /** libbpf refused a config line that names no extern (no '=', no value) and failed the load there. */
  configRefused: boolean;
}

const EXTERN_LINE = /^libbpf: extern (?:\((?:func ksym|var ksym|ksym|kcfg)\) )?'([^']+)'(?: \((?:weak|strong)\))?: (.*)$/;

/** libbpf's run over one object; undefined when libbpf would not open it. */
function runLibbpf(objectFile: string, kconfig?: string): LibbpfRun | undefined {
  const tool = buildCHelper('externs_oracle', { libbpf: true });
  if ('skipped' in tool) throw new Error(tool.skipped);
  const args = [objectFile];
  if (kconfig !== undefined) {
    const path = join(scratchDir(), 'kconfig.txt');
    writeFileSync(path, kconfig);
    args.push(path);
  }
  const run = spawnSync(tool.path, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (run.status === 1) return undefined;
  if (run.status !== 0) throw new Error(`externs_oracle ${args.join(' ')} exited ${run.status}: ${run.stderr}${run.stdout.slice(-2000)}`);
  const outcome: LibbpfRun['outcome'] = new Map();
  const kcfgVars = new Map<string, [number, number]>();
  let kcfgData: Uint8Array | undefined;
  let loaded = false;
  let configRefused = false;
  for (const line of run.stdout.split('\n')) {
    if (/^libbpf: error parsing (in-memory|system) Kconfig line/.test(line)) configRefused = true;
    const m = EXTERN_LINE.exec(line);
    if (m) {
      const [, name, what] = m as unknown as [string, string, string];
      if (/truncated to/.test(what)) continue;
      const id = /resolved to (?:kernel )?\[(\d+)\]/.exec(what);
      const addr = /^set to 0x([0-9a-f]+)$/.exec(what);
      if (id) outcome.set(name, { status: 'resolved', id: Number(id[1]), line });
      else if (/^set to /.test(what)) outcome.set(name, { status: 'resolved', ...(addr && line.includes('(ksym)') ? { address: BigInt('0x' + addr[1]) } : {}), line });
      else if (/defaulting to zero/.test(what)) outcome.set(name, { status: 'defaulted', line });
      else outcome.set(name, { status: 'failed', line });
      continue;
    }
    const v = /^kcfg-var (\S+) (\d+) (\d+)$/.exec(line);
    if (v) kcfgVars.set(v[1]!, [Number(v[2]), Number(v[3])]);
    const d = /^kcfg-data ([0-9a-f]*)$/.exec(line);
    if (d) kcfgData = Uint8Array.from(d[1]!.match(/../g) ?? [], (h) => parseInt(h, 16));
    if (line === 'load OK') loaded = true;
  }
  // A value libbpf refuses names its extern; a line it refuses whatever the externs does not.
  if ([...outcome.values()].some((o) => o.status === 'failed')) configRefused = false;
  return { outcome, kcfgVars, kcfgData, loaded, configRefused };
}

function oracleReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'loading BPF objects needs root';
  if (!existsSync('/sys/kernel/btf/vmlinux')) return 'the running kernel has no /sys/kernel/btf/vmlinux';
  const tool = buildCHelper('externs_oracle', { libbpf: true });
  if ('skipped' in tool) return tool.skipped;
  return undefined;
}

function systemConfig(): string | undefined {
  if (existsSync('/proc/config.gz')) return gunzipSync(readFileSync('/proc/config.gz')).toString('latin1');
  const boot = `/boot/config-${release()}`;
  return existsSync(boot) ? readFileSync(boot, 'latin1') : undefined;
}

/** Each libbpf outcome must be btfkit's; btfkit's first failure is the one libbpf stopped at. */
function compare(label: string, ours: ExternResolution[], theirs: LibbpfRun): void {
  for (const [name, lib] of theirs.outcome) {
    const mine = ours.find((r) => r.name === name);
    assert.ok(mine, `${label}: libbpf reports on '${name}', btfkit has no such extern`);
    assert.equal(mine.status, lib.status, `${label}: ${name}: libbpf says '${lib.line}', btfkit ${mine.status} (${mine.reason ?? ''})`);
    if (lib.id !== undefined) assert.deepEqual(mine.resolved, { btf: 'vmlinux', id: lib.id }, `${label}: ${name}`);
    if (lib.address !== undefined) assert.equal(mine.address, lib.address, `${label}: ${name}`);
  }
  const libFailed = [...theirs.outcome.values()].some((o) => o.status === 'failed');
  const firstFailed = ours.find((r) => r.status === 'failed');
  if (theirs.configRefused) {
    // libbpf stopped reading at that line: what it had not set by then fails with it.
    assert.ok(firstFailed, `${label}: libbpf refused the config, btfkit accepts it`);
    assert.equal(theirs.outcome.get(firstFailed.name), undefined, `${label}: ${firstFailed.name} was set before libbpf stopped`);
    assert.match(firstFailed.reason ?? '', /stops reading/, label);
  } else if (libFailed) {
    assert.ok(firstFailed, `${label}: libbpf failed, btfkit finds every extern`);
    assert.equal(theirs.outcome.get(firstFailed.name)?.status, 'failed', `${label}: btfkit fails first on ${firstFailed.name}`);
  } else {
    assert.equal(firstFailed, undefined, `${label}: libbpf resolved every extern, btfkit fails ${firstFailed?.name}: ${firstFailed?.reason}`);
    assert.ok(!ours.some((r) => r.status === 'unjudged'), `${label}: everything libbpf needs was given to btfkit`);
  }
}

function objects(prefix: string): string[] {
  return readdirSync(join(FIXTURES, 'bpf'))
    .filter((f) => f.startsWith(prefix) && f.endsWith('.bpfel.o.gz'))
    .sort();
}

function setUp(t: TestContext): { set: ReturnType<KernelBtf['typeSet']>; config: string; kallsyms: string } | undefined {
  const why = oracleReason();
  if (why) {
    loudSkip(t, why);
    return undefined;
  }
  const config = systemConfig();
  if (config === undefined) {
    loudSkip(t, 'the running kernel has no /proc/config.gz or /boot/config-$(uname -r), which libbpf reads for CONFIG_ externs');
    return undefined;
  }
  return { set: new KernelBtf().typeSet(), config, kallsyms: readFileSync('/proc/kallsyms', 'latin1') };
}

test('every fixture object\'s externs resolve on the running kernel as libbpf 1.1 resolves them', (t) => {
  const env = setUp(t);
  if (!env) return;
  // Every fixture object: the CO-RE corpus and maps_globals have kfuncs, ksyms and kconfig externs too.
  const files = objects('');
  assert.ok(files.filter((f) => f.startsWith('externs')).length >= 18, `externs fixtures in test/fixtures/bpf (tools/make-bpf-fixtures.sh)`);
  let failures = 0;
  const dump = spawnSync('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux'], { encoding: 'utf8', maxBuffer: 1 << 30 });
  assert.equal(dump.status, 0, `bpftool: ${dump.stderr}`);
  const tagged = new Set([...dump.stdout.matchAll(/^\[\d+\] DECL_TAG 'bpf_kfunc' type_id=(\d+) component_idx=-1$/gm)].map((m) => Number(m[1])));
  let untaggedSeen = false;
  for (const f of files) {
    const bytes = fixture(`bpf/${f}`);
    const path = join(scratchDir(), f.replace(/\.gz$/, ''));
    writeFileSync(path, bytes);
    const theirs = runLibbpf(path);
    const object = parseBpfObject(bytes, { file: f });
    if (!theirs) {
      // libbpf refused to open it for something other than externs (checked: it has none).
      assert.deepEqual(collectExterns(object), [], `${f}: libbpf would not open it`);
      continue;
    }
    const ours = resolveExterns(object, env.set, { kernelConfig: env.config, kallsyms: env.kallsyms, kernelRelease: release() });
    compare(f, ours, theirs);
    // A kfunc the kernel does not tag 'bpf_kfunc' (bpftool's dump says which are tagged) gets a note.
    for (const r of ours) {
      if (r.kind !== 'kfunc' || !r.resolved) continue;
      assert.equal(r.note !== undefined, tagged.size > 0 && !tagged.has(r.resolved.id), `${f}: ${r.name}: ${r.note}`);
      if (r.name === 'bpf_prog_inc') untaggedSeen = true;
    }
    if (f.startsWith('externs') && ours.some((r) => r.status === 'failed')) failures++;
    // The .kconfig layout libbpf wrote into the object's BTF is the one collectExterns computed.
    for (const e of collectExterns(object)) {
      if (e.kconfig) assert.deepEqual(theirs.kcfgVars.get(e.name), [e.kconfig.offset, e.kconfig.size], `${f}: ${e.name}`);
    }
  }
  // Seven sources hold one failing extern each, and externs_kconfig's strong names are in no
  // real config; two compilers each.
  assert.equal(failures, 16, 'objects libbpf refuses');
  if (tagged.size > 0) assert.ok(untaggedSeen, 'externs_untagged resolved on a kernel that tags its kfuncs');
});

/** Config texts for externs_kconfig.bpf.c; every strong extern (BOOL, CHAR, INT) is in each. */
const CONFIGS: readonly [string, string][] = [
  ['plain values', 'CONFIG_BTFKIT_BOOL=y\nCONFIG_BTFKIT_CHAR=m\nCONFIG_BTFKIT_INT=42\nCONFIG_BTFKIT_TRI=m\nCONFIG_BTFKIT_STR="abc"\n'],
  ['limits of each integer', 'CONFIG_BTFKIT_BOOL=n\nCONFIG_BTFKIT_CHAR=255\nCONFIG_BTFKIT_INT=-2147483648\nCONFIG_BTFKIT_S8=-128\nCONFIG_BTFKIT_S16=32767\nCONFIG_BTFKIT_U16=65535\nCONFIG_BTFKIT_UINT=4294967295\nCONFIG_BTFKIT_S64=-9223372036854775808\nCONFIG_BTFKIT_U64=18446744073709551615\n'],
  ['hex, octal, signs', 'CONFIG_BTFKIT_BOOL=y\nCONFIG_BTFKIT_CHAR=0x41\nCONFIG_BTFKIT_INT=+017\nCONFIG_BTFKIT_U16=0XfFfF\nCONFIG_BTFKIT_UINT=0\nCONFIG_BTFKIT_S64=-1\nCONFIG_BTFKIT_U64=-1\n'],
  ['first line wins, comments and other lines ignored', '# CONFIG_BTFKIT_TRI is not set\nCONFIG_BTFKIT_BOOL=y\nCONFIG_BTFKIT_BOOL=m\n  CONFIG_BTFKIT_CHAR=junk\nCONFIG_BTFKIT_CHAR=n\nCONFIG_BTFKIT_INT=7\nCONFIG_BTFKIT_INT=nonsense\n'],
  ['only the first letter of y/n/m counts', 'CONFIG_BTFKIT_BOOL=yes\nCONFIG_BTFKIT_CHAR=maybe\nCONFIG_BTFKIT_INT=1\nCONFIG_BTFKIT_TRI=no\n'],
  ['a string cut to fit', 'CONFIG_BTFKIT_BOOL=y\nCONFIG_BTFKIT_CHAR=y\nCONFIG_BTFKIT_INT=1\nCONFIG_BTFKIT_STR="longer than eight"\n'],
  ['a string exactly too long by one', 'CONFIG_BTFKIT_BOOL=y\nCONFIG_BTFKIT_CHAR=y\nCONFIG_BTFKIT_INT=1\nCONFIG_BTFKIT_STR="1234567"\n'],
  ['bool given m', 'CONFIG_BTFKIT_BOOL=m\nCONFIG_BTFKIT_CHAR=y\nCONFIG_BTFKIT_INT=1\n'],
  ['bool given a number', 'CONFIG_BTFKIT_BOOL=1\nCONFIG_BTFKIT_CHAR=y\nCONFIG_BTFKIT_INT=1\n'],
  ['int given y', 'CONFIG_BTFKIT_BOOL=y\nCONFIG_BTFKIT_CHAR=y\nCONFIG_BTFKIT_INT=y\n'],
  ['int given a string', 'CONFIG_BTFKIT_BOOL=y\nCONFIG_BTFKIT_CHAR=y\nCONFIG_BTFKIT_INT="1"\n'],
  ['string given a number', 'CONFIG_BTFKIT_BOOL=y\nCONFIG_BTFKIT_CHAR=y\nCONFIG_BTFKIT_INT=1\nCONFIG_BTFKIT_STR=5\n'],
  ['string without its closing quote', 'CONFIG_BTFKIT_BOOL=y\nCONFIG_BTFKIT_CHAR=y\nCONFIG_BTFKIT_INT=1\nCONFIG_BTFKIT_STR="abc\n'],
  ['tristate given a number', 'CONFIG_BTFKIT_BOOL=y\nCONFIG_BTFKIT_CHAR=y\nCONFIG_BTFKIT_INT=1\nCONFIG_BTFKIT_TRI=1\n'],
  ['s8 out of range', 'CONFIG_BTFKIT_BOOL=y\nCONFIG_BTFKIT_CHAR=y\nCONFIG_BTFKIT_INT=1\nCONFIG_BTFKIT_S8=128\n'],
  ['u16 out of range', 'CONFIG_BTFKIT_BOOL=y\nCONFIG_BTFKIT_CHAR=y\nCONFIG_BTFKIT_INT=1\nCONFIG_BTFKIT_U16=-1\n'],
  ['int out of range', 'CONFIG_BTFKIT_BOOL=y\nCONFIG_BTFKIT_CHAR=y\nCONFIG_BTFKIT_INT=2147483648\n'],
  ['u64 past 64 bits', 'CONFIG_BTFKIT_BOOL=y\nCONFIG_BTFKIT_CHAR=y\nCONFIG_BTFKIT_INT=1\nCONFIG_BTFKIT_U64=18446744073709551616\n'],
  ['trailing garbage', 'CONFIG_BTFKIT_BOOL=y\nCONFIG_BTFKIT_CHAR=y\nCONFIG_BTFKIT_INT=12abc\n'],
  ['a bare 0x', 'CONFIG_BTFKIT_BOOL=y\nCONFIG_BTFKIT_CHAR=y\nCONFIG_BTFKIT_INT=0x\n'],
  ['a strong extern missing', 'CONFIG_BTFKIT_BOOL=y\nCONFIG_BTFKIT_INT=1\n'],
  ['a CONFIG_ line without =', 'CONFIG_BTFKIT_BOOL=y\nCONFIG_BTFKIT_CHAR=y\nCONFIG_BTFKIT_ORPHAN\nCONFIG_BTFKIT_INT=1\n'],
  ['a CONFIG_ line without a value', 'CONFIG_BTFKIT_BOOL=y\nCONFIG_BTFKIT_CHAR=y\nCONFIG_BTFKIT_OTHER=\nCONFIG_BTFKIT_INT=1\n'],
];

test('kconfig values: what libbpf 1.1 stores for each config line, byte for byte', (t) => {
  const env = setUp(t);
  if (!env) return;
  const files = objects('externs_kconfig');
  assert.equal(files.length, 2, 'externs_kconfig fixtures (clang 14 and 19, little-endian)');
  for (const f of files) {
    const bytes = fixture(`bpf/${f}`);
    const path = join(scratchDir(), f.replace(/\.gz$/, ''));
    writeFileSync(path, bytes);
    const object = parseBpfObject(bytes, { file: f });
    const externs = collectExterns(object);
    let loads = 0;
    for (const [label, config] of CONFIGS) {
      const theirs = runLibbpf(path, config);
      assert.ok(theirs, `${f}: libbpf opens it`);
      // libbpf reads the system's config after the given one for what is still unset; the first line for a name wins.
      const ours = resolveExterns(object, env.set, { kernelConfig: `${config}\n${env.config}` });
      compare(`${f}: ${label}`, ours, theirs);
      if (!theirs.loaded) continue;
      loads++;
      assert.ok(theirs.kcfgData, `${f}: ${label}: libbpf's .kconfig map`);
      const image = new Uint8Array(theirs.kcfgData.length);
      for (const r of ours) {
        const e = externs.find((x) => x.name === r.name)!;
        if (r.data) image.set(r.data, e.kconfig!.offset);
      }
      assert.deepEqual(image, theirs.kcfgData, `${f}: ${label}: .kconfig map bytes`);
    }
    assert.ok(loads >= 6, `${f}: configs libbpf accepted: ${loads}`);
  }
});
