// SPDX-License-Identifier: GPL-2.0
/*
 * Will it load: CO-RE accesses to things no kernel has (a task_struct field, a struct, an
 * enumerator), guarded by existence checks or not, in programs and in subprograms. On any
 * kernel each missing access is poisoned; the verifier rejects a program only when a poisoned
 * instruction is reachable ("invalid func unknown#195896080"). test/portability.test.ts
 * compares the verifier's verdict on each program with btfkit's reachability analysis, and
 * the attach targets libbpf resolves with btfkit's.
 *
 * GPL: bpf_probe_read_kernel (BPF_CORE_READ) is a GPL-only helper.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#define __kernel_view __attribute__((preserve_access_index))

struct task_struct {
	int pid;
	int tgid;
	/* No kernel has these. */
	int btfkit_missing_field;
	long btfkit_other_missing;
} __kernel_view;

struct btfkit_missing_type {
	int x;
} __kernel_view;

enum pid_type___btfkit {
	PIDTYPE_PID___btfkit = 0,
	PIDTYPE_BTFKIT_MISSING___btfkit = 77,
};

char LICENSE[] SEC("license") = "GPL";

static __always_inline struct task_struct *current_task(void)
{
	return (struct task_struct *)bpf_get_current_task();
}

SEC("kprobe/do_nanosleep")
int unguarded_field(void *ctx)
{
	return BPF_CORE_READ(current_task(), btfkit_missing_field);
}

SEC("kprobe/do_nanosleep")
int guarded_field(void *ctx)
{
	struct task_struct *t = current_task();
	if (bpf_core_field_exists(t->btfkit_missing_field))
		return BPF_CORE_READ(t, btfkit_missing_field);
	return BPF_CORE_READ(t, pid);
}

/* The guard checks a field that exists; the access it guards does not. */
SEC("kprobe/do_nanosleep")
int wrong_guard(void *ctx)
{
	struct task_struct *t = current_task();
	if (bpf_core_field_exists(t->tgid))
		return BPF_CORE_READ(t, btfkit_missing_field);
	return 0;
}

/* The guard's value is combined with runtime data and survives a helper call in a callee-saved register. */
SEC("kprobe/do_nanosleep")
int guard_across_call(void *ctx)
{
	struct task_struct *t = current_task();
	int exists = bpf_core_field_exists(t->btfkit_other_missing);
	__u64 now = bpf_ktime_get_ns();
	if (exists && now > 1000)
		return BPF_CORE_READ(t, btfkit_other_missing);
	return (int)now;
}

SEC("kprobe/do_nanosleep")
int unguarded_type(void *ctx)
{
	return bpf_core_type_size(struct btfkit_missing_type);
}

SEC("kprobe/do_nanosleep")
int guarded_type(void *ctx)
{
	if (bpf_core_type_exists(struct btfkit_missing_type))
		return bpf_core_type_size(struct btfkit_missing_type);
	return 1;
}

SEC("kprobe/do_nanosleep")
int unguarded_enum(void *ctx)
{
	return bpf_core_enum_value(enum pid_type___btfkit, PIDTYPE_BTFKIT_MISSING___btfkit);
}

SEC("kprobe/do_nanosleep")
int guarded_enum(void *ctx)
{
	if (bpf_core_enum_value_exists(enum pid_type___btfkit, PIDTYPE_BTFKIT_MISSING___btfkit))
		return bpf_core_enum_value(enum pid_type___btfkit, PIDTYPE_BTFKIT_MISSING___btfkit);
	return 2;
}

/* A subprogram (in .text) with a poisoned access, called behind a guard and without one. */
static __noinline int read_missing(struct task_struct *t)
{
	return BPF_CORE_READ(t, btfkit_missing_field);
}

SEC("kprobe/do_nanosleep")
int calls_guarded(void *ctx)
{
	struct task_struct *t = current_task();
	if (bpf_core_field_exists(t->btfkit_missing_field))
		return read_missing(t);
	return 3;
}

SEC("kprobe/do_nanosleep")
int calls_unguarded(void *ctx)
{
	return read_missing(current_task());
}

/* Nothing missing: loads everywhere. */
SEC("kprobe/do_nanosleep")
int plain(void *ctx)
{
	return BPF_CORE_READ(current_task(), pid);
}
