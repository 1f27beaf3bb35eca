/**
 * Attach targets (src/load/attach.ts) on a real kernel: vmlinux of a fetched Debian build with a
 * few of its modules, the lookups libbpf makes for fentry, fexit, tp_btf, lsm and iter sections.
 * Expected ids come from bpftool's raw dump of the same files, not from btfkit.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { basename, join } from 'node:path';
import test from 'node:test';
import { Btf } from '../src/btf/btf.js';
import { TypeSet } from '../src/btf/typeset.js';
import { resolveAttachTarget } from '../src/load/attach.js';
import { readInput } from '../src/node/files.js';
import { loadModuleBtf } from '../src/split/load.js';
import { fetchedBuilds, findModules } from './helpers/data.js';
import { bpftoolId } from './helpers/bpftool.js';
import { loudSkip } from './helpers/skip.js';


test('fentry/fexit/tp_btf/lsm/iter targets in vmlinux and in a module, as bpftool numbers them', (t) => {
  const build = fetchedBuilds()[0];
  if (!build) return loudSkip(t, 'no Debian build under data/ (tools/fetch-debian-kernel.sh)');
  if (spawnSync('bpftool', ['version']).status !== 0) return loudSkip(t, 'bpftool is not installed');
  const vmlinuxFile = join(build, 'vmlinux.btf');
  const vmlinux = Btf.parse(readInput(vmlinuxFile));
  const wanted = ['8021q', 'bridge', 'vxlan'];
  const files = findModules(join(build, 'modules')).filter((f) => wanted.includes(basename(f, '.ko')));
  assert.equal(files.length, wanted.length, `modules ${wanted.join(', ')} in ${build}`);
  const set = new TypeSet(vmlinux, files.map((f) => [basename(f, '.ko'), () => loadModuleBtf(readInput(f), vmlinux, f)]));

  for (const [section, name, kind] of [
    ['fentry/do_unlinkat', 'do_unlinkat', 'FUNC'],
    ['fexit.s/do_unlinkat', 'do_unlinkat', 'FUNC'],
    ['tp_btf/sched_switch', 'btf_trace_sched_switch', 'TYPEDEF'],
    ['lsm/file_open', 'bpf_lsm_file_open', 'FUNC'],
    ['iter/task', 'bpf_iter_task', 'FUNC'],
  ] as const) {
    const r = resolveAttachTarget(set, section);
    assert.equal(r.reason, undefined, section);
    assert.deepEqual(r.target, { btf: 'vmlinux', id: bpftoolId(vmlinuxFile, name, kind), name }, section);
  }

  // A module function: found after vmlinux, in its module, with the module's own (split) id.
  const q = files.find((f) => basename(f) === '8021q.ko')!;
  const expected = bpftoolId(q, 'vlan_dev_fill_forward_path', 'FUNC', vmlinuxFile);
  assert.ok(expected && expected > vmlinux.endId - 1);
  for (const section of ['fentry/vlan_dev_fill_forward_path', 'fexit/8021q:vlan_dev_fill_forward_path']) {
    const r = resolveAttachTarget(set, section);
    assert.deepEqual(r.target, { btf: '8021q', id: expected, name: 'vlan_dev_fill_forward_path' }, section);
  }

  // Missing targets, with reasons that name what was looked for.
  const missing = resolveAttachTarget(set, 'fentry/no_such_function_here');
  assert.equal(missing.target, null);
  assert.match(missing.reason!, /FUNC 'no_such_function_here' is in neither vmlinux nor any of its 3 modules/);
  assert.match(resolveAttachTarget(set, 'fentry/bridge:vlan_dev_fill_forward_path').reason!, /is not in bridge/);
  assert.match(resolveAttachTarget(set, 'fentry/nosuchmod:x').reason!, /module 'nosuchmod' is not in the target/);
  assert.match(resolveAttachTarget(set, 'fentry').reason!, /names no attach target/);
  // No BTF target needed; unknown sections.
  const kprobe = resolveAttachTarget(set, 'kprobe/do_unlinkat');
  assert.deepEqual([kprobe.programType, kprobe.needsBtfTarget, kprobe.target, kprobe.reason], ['kprobe', false, null, undefined]);
  assert.match(resolveAttachTarget(set, 'fentryx/y').reason!, /no program type/);
});
