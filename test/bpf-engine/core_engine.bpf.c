// SPDX-License-Identifier: MIT
/*
 * CO-RE relocations of every kind, for test/core-libbpf.test.ts to resolve with btfkit and with
 * libbpf (test/helpers/core_relo.c) against real kernels and a crafted target. Kernel types are
 * declared here minimally (preserve_access_index); btfkit_* types exist only in the crafted
 * target the test builds. Compiled by the test; -DAMBIGUOUS builds the one relocation that
 * must fail (libbpf stops an object's CO-RE at its first failure).
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#define __view __attribute__((preserve_access_index))
/* libbpf 1.1's bpf_core_read.h has no bpf_core_field_signed */
#define field_signed(field) __builtin_preserve_field_info(field, BPF_FIELD_SIGNED)

#ifndef AMBIGUOUS
struct list_head { struct list_head *next, *prev; } __view;
struct mm_struct { unsigned long start_code, end_code; } __view;
struct task_struct {
	int pid;
	int tgid;
	unsigned int __state;
	char comm[16];
	struct task_struct *real_parent;
	struct mm_struct *mm;
	struct list_head children;
	int no_such_field;
} __view;
struct task_struct___old { long state; } __view;
struct sk_buff {
	__u8 cloned:1, nohdr:1, fclone:2, peeked:1, head_frag:1, pfmemalloc:1, pp_recycle:1;
	unsigned int len;
} __view;
enum perf_callchain_context { PERF_CONTEXT_HV = (__u64)-32, PERF_CONTEXT_KERNEL = (__u64)-128 };
enum perf_callchain_context___small { PERF_CONTEXT_USER___small = 7 };
enum pid_type { PIDTYPE_PID, PIDTYPE_TGID, PIDTYPE_PGID, PIDTYPE_SID, PIDTYPE_MAX };
struct no_such_type___x { int a; } __view;

/* only in the crafted target */
struct btfkit_anon {
	int before;
	union {
		struct { short lo; short hi; };
		int both;
	};
	int tail[];
} __view;
struct btfkit_bits { int s:3; unsigned int u:5; long long wide; } __view;
struct btfkit_sized { unsigned int u; int s; void *p; } __view;
struct btfkit_matches { int a; struct btfkit_bits *p; } __view;
struct btfkit_matches___no { unsigned int a; } __view;
typedef struct btfkit_bits btfkit_bits_t;
#endif

#ifdef AMBIGUOUS
struct btfkit_amb { int x; } __view;
#endif

char LICENSE[] SEC("license") = "GPL";

__u64 out[64];

SEC("raw_tp/sys_enter")
int relocate(void *ctx)
{
	int i = 0;
#ifndef AMBIGUOUS
	struct task_struct *t = (void *)bpf_get_current_task();
	struct sk_buff *skb = (void *)ctx;
	struct btfkit_anon *a = (void *)ctx;
	struct btfkit_bits *b = (void *)ctx;
	struct btfkit_sized *s = (void *)ctx;

	out[i++] = BPF_CORE_READ(t, tgid);
	out[i++] = BPF_CORE_READ(t, real_parent, pid);
	out[i++] = BPF_CORE_READ(t, mm, end_code);
	out[i++] = bpf_core_field_size(t->comm);
	out[i++] = bpf_core_field_offset(t->comm[3]);
	out[i++] = bpf_core_field_exists(t->__state);
	out[i++] = bpf_core_field_exists(t->no_such_field);
	out[i++] = BPF_CORE_READ((struct task_struct___old *)t, state);
	out[i++] = field_signed(t->pid);
	out[i++] = field_signed(t->__state);
	out[i++] = BPF_CORE_READ_BITFIELD_PROBED(skb, fclone);
	out[i++] = BPF_CORE_READ_BITFIELD_PROBED(skb, pp_recycle);
	out[i++] = bpf_core_field_offset(t->children.prev);
	out[i++] = bpf_core_type_id_local(struct task_struct);
	out[i++] = bpf_core_type_id_kernel(struct task_struct);
	out[i++] = bpf_core_type_exists(struct list_head);
	out[i++] = bpf_core_type_exists(struct no_such_type___x);
	out[i++] = bpf_core_type_size(struct task_struct);
	out[i++] = bpf_core_type_size(struct no_such_type___x);
	out[i++] = bpf_core_enum_value_exists(enum pid_type, PIDTYPE_SID);
	out[i++] = bpf_core_enum_value(enum pid_type, PIDTYPE_MAX);
	out[i++] = bpf_core_enum_value(enum perf_callchain_context, PERF_CONTEXT_HV);
	out[i++] = bpf_core_enum_value(enum perf_callchain_context, PERF_CONTEXT_KERNEL);
	out[i++] = bpf_core_enum_value_exists(enum perf_callchain_context___small, PERF_CONTEXT_USER___small);
	out[i++] = BPF_CORE_READ(a, hi);
	out[i++] = BPF_CORE_READ(a, both);
	out[i++] = bpf_core_field_offset(a->tail[5]);
	out[i++] = BPF_CORE_READ_BITFIELD_PROBED(b, s);
	out[i++] = BPF_CORE_READ_BITFIELD_PROBED(b, u);
	out[i++] = field_signed(b->s);
	out[i++] = field_signed(b->u);
	out[i++] = BPF_CORE_READ(s, u);
	out[i++] = BPF_CORE_READ(s, s);
	out[i++] = (__u64)BPF_CORE_READ(s, p);
	out[i++] = s->u;
	out[i++] = s->s;
	out[i++] = (__u64)s->p;
#if __clang_major__ >= 15 /* type_matches arrived in clang 15 */
	out[i++] = bpf_core_type_matches(struct btfkit_matches);
	out[i++] = bpf_core_type_matches(struct btfkit_matches___no);
	out[i++] = bpf_core_type_matches(struct list_head);
#endif
	out[i++] = bpf_core_type_size(btfkit_bits_t);
	out[i++] = bpf_core_type_exists(btfkit_bits_t);
#else
	struct btfkit_amb *x = (void *)ctx;

	out[i++] = BPF_CORE_READ(x, x);
#endif
	return i;
}
