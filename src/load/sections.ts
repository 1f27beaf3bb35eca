/**
 * What a program's ELF section name (its `SEC("...")`) tells the loader: the program type, the
 * expected attach type, and whether the attach target is a kernel BTF type. This is libbpf's
 * convention (the `section_defs` table of libbpf.c, as of libbpf 1.1, Debian 12's), matched the
 * way libbpf matches it: entries are tried in table order and the first that matches wins.
 *
 * Three forms of entry: `"xdp"` matches only `xdp`; `"kprobe+"` matches `kprobe` and
 * `kprobe/<anything>`; a few cgroup/sk entries carry a `/` in the name and match it exactly.
 */

/** How a section-name entry matches: exactly, or exactly and with a `/extras` part. */
export type SectionMatch = 'exact' | 'prefix';

/** One entry of libbpf's section table. */
export interface SectionDef {
  /** The name as written in libbpf's table, without the `+` (`kprobe`, `cgroup/bind4`). */
  name: string;
  match: SectionMatch;
  /** `enum bpf_prog_type` without its `BPF_PROG_TYPE_` prefix, lower case (`tracing`, `kprobe`). */
  programType: string;
  /** `enum bpf_attach_type` without `BPF_`, lower case, or null for none (0). */
  attachType: string | null;
  /** The attach target is a type in kernel (or another program's) BTF: `fentry/<func>`. */
  attachBtf: boolean;
  sleepable: boolean;
}

// [name, match by prefix (libbpf's '+'), program type, attach type, flags: b = ATTACH_BTF, s = SLEEPABLE]
const TABLE: readonly (readonly [string, boolean, string, string | null, string])[] = [
  ['socket', false, 'socket_filter', null, ''],
  ['sk_reuseport/migrate', false, 'sk_reuseport', 'sk_reuseport_select_or_migrate', ''],
  ['sk_reuseport', false, 'sk_reuseport', 'sk_reuseport_select', ''],
  ['kprobe', true, 'kprobe', null, ''],
  ['uprobe', true, 'kprobe', null, ''],
  ['uprobe.s', true, 'kprobe', null, 's'],
  ['kretprobe', true, 'kprobe', null, ''],
  ['uretprobe', true, 'kprobe', null, ''],
  ['uretprobe.s', true, 'kprobe', null, 's'],
  ['kprobe.multi', true, 'kprobe', 'trace_kprobe_multi', ''],
  ['kretprobe.multi', true, 'kprobe', 'trace_kprobe_multi', ''],
  ['ksyscall', true, 'kprobe', null, ''],
  ['kretsyscall', true, 'kprobe', null, ''],
  ['usdt', true, 'kprobe', null, ''],
  ['tc', false, 'sched_cls', null, ''],
  ['classifier', false, 'sched_cls', null, ''],
  ['action', false, 'sched_act', null, ''],
  ['tracepoint', true, 'tracepoint', null, ''],
  ['tp', true, 'tracepoint', null, ''],
  ['raw_tracepoint', true, 'raw_tracepoint', null, ''],
  ['raw_tp', true, 'raw_tracepoint', null, ''],
  ['raw_tracepoint.w', true, 'raw_tracepoint_writable', null, ''],
  ['raw_tp.w', true, 'raw_tracepoint_writable', null, ''],
  ['tp_btf', true, 'tracing', 'trace_raw_tp', 'b'],
  ['fentry', true, 'tracing', 'trace_fentry', 'b'],
  ['fmod_ret', true, 'tracing', 'modify_return', 'b'],
  ['fexit', true, 'tracing', 'trace_fexit', 'b'],
  ['fentry.s', true, 'tracing', 'trace_fentry', 'bs'],
  ['fmod_ret.s', true, 'tracing', 'modify_return', 'bs'],
  ['fexit.s', true, 'tracing', 'trace_fexit', 'bs'],
  ['freplace', true, 'ext', null, 'b'],
  ['lsm', true, 'lsm', 'lsm_mac', 'b'],
  ['lsm.s', true, 'lsm', 'lsm_mac', 'bs'],
  ['lsm_cgroup', true, 'lsm', 'lsm_cgroup', 'b'],
  ['iter', true, 'tracing', 'trace_iter', 'b'],
  ['iter.s', true, 'tracing', 'trace_iter', 'bs'],
  ['syscall', false, 'syscall', null, 's'],
  ['xdp.frags/devmap', false, 'xdp', 'xdp_devmap', ''],
  ['xdp/devmap', false, 'xdp', 'xdp_devmap', ''],
  ['xdp.frags/cpumap', false, 'xdp', 'xdp_cpumap', ''],
  ['xdp/cpumap', false, 'xdp', 'xdp_cpumap', ''],
  ['xdp.frags', false, 'xdp', 'xdp', ''],
  ['xdp', false, 'xdp', 'xdp', ''],
  ['perf_event', false, 'perf_event', null, ''],
  ['lwt_in', false, 'lwt_in', null, ''],
  ['lwt_out', false, 'lwt_out', null, ''],
  ['lwt_xmit', false, 'lwt_xmit', null, ''],
  ['lwt_seg6local', false, 'lwt_seg6local', null, ''],
  ['sockops', false, 'sock_ops', 'cgroup_sock_ops', ''],
  ['sk_skb/stream_parser', false, 'sk_skb', 'sk_skb_stream_parser', ''],
  ['sk_skb/stream_verdict', false, 'sk_skb', 'sk_skb_stream_verdict', ''],
  ['sk_skb', false, 'sk_skb', null, ''],
  ['sk_msg', false, 'sk_msg', 'sk_msg_verdict', ''],
  ['lirc_mode2', false, 'lirc_mode2', 'lirc_mode2', ''],
  ['flow_dissector', false, 'flow_dissector', 'flow_dissector', ''],
  ['cgroup_skb/ingress', false, 'cgroup_skb', 'cgroup_inet_ingress', ''],
  ['cgroup_skb/egress', false, 'cgroup_skb', 'cgroup_inet_egress', ''],
  ['cgroup/skb', false, 'cgroup_skb', null, ''],
  ['cgroup/sock_create', false, 'cgroup_sock', 'cgroup_inet_sock_create', ''],
  ['cgroup/sock_release', false, 'cgroup_sock', 'cgroup_inet_sock_release', ''],
  ['cgroup/sock', false, 'cgroup_sock', 'cgroup_inet_sock_create', ''],
  ['cgroup/post_bind4', false, 'cgroup_sock', 'cgroup_inet4_post_bind', ''],
  ['cgroup/post_bind6', false, 'cgroup_sock', 'cgroup_inet6_post_bind', ''],
  ['cgroup/bind4', false, 'cgroup_sock_addr', 'cgroup_inet4_bind', ''],
  ['cgroup/bind6', false, 'cgroup_sock_addr', 'cgroup_inet6_bind', ''],
  ['cgroup/connect4', false, 'cgroup_sock_addr', 'cgroup_inet4_connect', ''],
  ['cgroup/connect6', false, 'cgroup_sock_addr', 'cgroup_inet6_connect', ''],
  ['cgroup/sendmsg4', false, 'cgroup_sock_addr', 'cgroup_udp4_sendmsg', ''],
  ['cgroup/sendmsg6', false, 'cgroup_sock_addr', 'cgroup_udp6_sendmsg', ''],
  ['cgroup/recvmsg4', false, 'cgroup_sock_addr', 'cgroup_udp4_recvmsg', ''],
  ['cgroup/recvmsg6', false, 'cgroup_sock_addr', 'cgroup_udp6_recvmsg', ''],
  ['cgroup/getpeername4', false, 'cgroup_sock_addr', 'cgroup_inet4_getpeername', ''],
  ['cgroup/getpeername6', false, 'cgroup_sock_addr', 'cgroup_inet6_getpeername', ''],
  ['cgroup/getsockname4', false, 'cgroup_sock_addr', 'cgroup_inet4_getsockname', ''],
  ['cgroup/getsockname6', false, 'cgroup_sock_addr', 'cgroup_inet6_getsockname', ''],
  ['cgroup/sysctl', false, 'cgroup_sysctl', 'cgroup_sysctl', ''],
  ['cgroup/getsockopt', false, 'cgroup_sockopt', 'cgroup_getsockopt', ''],
  ['cgroup/setsockopt', false, 'cgroup_sockopt', 'cgroup_setsockopt', ''],
  ['cgroup/dev', false, 'cgroup_device', 'cgroup_device', ''],
  ['struct_ops', true, 'struct_ops', null, ''],
  ['sk_lookup', false, 'sk_lookup', 'sk_lookup', ''],
];

/** libbpf 1.1's section table, in its order (the first match wins). */
export const SECTION_DEFS: readonly SectionDef[] = TABLE.map(([name, prefix, programType, attachType, flags]) => ({
  name,
  match: prefix ? 'prefix' : 'exact',
  programType,
  attachType,
  attachBtf: flags.includes('b'),
  sleepable: flags.includes('s'),
}));

/** A section name read against the table. */
export interface ProgramSection {
  def: SectionDef;
  /** What follows `name/` (the attach target of `fentry/do_unlinkat`), or '' when nothing does. */
  extra: string;
}

/**
 * The entry of libbpf's table a section name falls under, or undefined when none does (libbpf
 * then refuses to load the program unless a custom handler is registered).
 */
export function sectionDefOf(sectionName: string): ProgramSection | undefined {
  for (const def of SECTION_DEFS) {
    if (def.match === 'exact') {
      if (sectionName === def.name) return { def, extra: '' };
      continue;
    }
    if (!sectionName.startsWith(def.name)) continue;
    const rest = sectionName.slice(def.name.length);
    if (rest === '') return { def, extra: '' };
    if (rest[0] === '/') return { def, extra: rest.slice(1) };
  }
  return undefined;
}

/**
 * Where libbpf looks for the BTF attach target of a program of this attach type: the name is
 * prefixed (`btf_trace_` for tp_btf, `bpf_lsm_` for lsm, `bpf_iter_` for iter) and the type
 * is a TYPEDEF for tp_btf, a FUNC otherwise (libbpf's btf_get_kernel_prefix_kind).
 */
export function attachTargetName(def: SectionDef, extra: string): { name: string; kind: 'typedef' | 'func' } {
  switch (def.attachType) {
    case 'trace_raw_tp': return { name: `btf_trace_${extra}`, kind: 'typedef' };
    case 'lsm_mac': case 'lsm_cgroup': return { name: `bpf_lsm_${extra}`, kind: 'func' };
    case 'trace_iter': return { name: `bpf_iter_${extra}`, kind: 'func' };
    default: return { name: extra, kind: 'func' };
  }
}
