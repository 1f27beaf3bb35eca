/**
 * libbpf's section-name table (src/load/sections.ts) against libbpf itself: every name we know,
 * with and without a `/extras` part and with a character glued on, read by Debian's libbpf
 * (libbpf_prog_type_by_name) through test/helpers/sec_defs.c.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import test from 'node:test';
import { attachTargetName, sectionDefOf, SECTION_DEFS } from '../src/load/sections.js';
import { buildCHelper } from './helpers/cc.js';
import { loudSkip } from './helpers/skip.js';

function names(): string[] {
  const out = new Set<string>(['', 'fentry/do_unlinkat', 'tp_btf/sched_switch', 'lsm/file_open', 'lsm.s/bprm_check_security',
    'iter/task', 'iter.s/task_file', 'kprobe/', 'struct_ops/tcp_init', 'socket/x', 'xdp.frags/devmapx', 'cgroup/sock_createx',
    'fentry.s/x/y', 'uprobe//bin/sh:main', 'raw_tp.w/x', 'tracepoint/syscalls/sys_enter_open', '.text', 'license', 'maps']);
  for (const d of SECTION_DEFS) {
    out.add(d.name);
    out.add(`${d.name}/x`);
    out.add(`${d.name}x`);
    out.add(d.name.slice(0, -1));
  }
  return [...out];
}

test('every section name is read as libbpf 1.1 reads it (program type, expected attach type, or none)', (t) => {
  const helper = buildCHelper('sec_defs', { libbpf: true });
  if ('skipped' in helper) return loudSkip(t, helper.skipped);
  const list = names();
  const run = spawnSync(helper.path, { input: list.join('\n') + '\n', encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const lines = run.stdout.split('\n').filter((l, i, a) => i < a.length - 1 || l !== '');
  assert.equal(lines.length, list.length);
  let matched = 0;
  for (const [i, line] of lines.entries()) {
    const [name, type, attach] = line.split('\t');
    assert.equal(name, list[i]);
    const ours = sectionDefOf(list[i]!);
    if (type === 'none') {
      assert.equal(ours, undefined, `${JSON.stringify(name)}: libbpf finds no entry, we found ${ours?.def.name}`);
      continue;
    }
    matched++;
    assert.ok(ours, `${JSON.stringify(name)}: libbpf reads ${type}/${attach}, we find no entry`);
    assert.equal(ours.def.programType, type, `${JSON.stringify(name)}: program type`);
    // Attach type 0, "none" in libbpf's table, is BPF_CGROUP_INET_INGRESS by number.
    assert.equal(ours.def.attachType ?? 'cgroup_inet_ingress', attach, `${JSON.stringify(name)}: attach type`);
  }
  assert.ok(matched > SECTION_DEFS.length, `only ${matched} names matched an entry`);
});

test('the part after the entry name is the attach target, prefixed as libbpf looks it up', () => {
  const fentry = sectionDefOf('fentry/do_unlinkat')!;
  assert.equal(fentry.extra, 'do_unlinkat');
  assert.deepEqual(attachTargetName(fentry.def, fentry.extra), { name: 'do_unlinkat', kind: 'func' });
  const tp = sectionDefOf('tp_btf/sched_switch')!;
  assert.deepEqual(attachTargetName(tp.def, tp.extra), { name: 'btf_trace_sched_switch', kind: 'typedef' });
  const lsm = sectionDefOf('lsm.s/file_open')!;
  assert.equal(lsm.def.sleepable, true);
  assert.deepEqual(attachTargetName(lsm.def, lsm.extra), { name: 'bpf_lsm_file_open', kind: 'func' });
  const iter = sectionDefOf('iter/task')!;
  assert.deepEqual(attachTargetName(iter.def, iter.extra), { name: 'bpf_iter_task', kind: 'func' });
  assert.equal(sectionDefOf('kprobe/')!.extra, '');
  assert.equal(sectionDefOf('fentryx'), undefined);
});
