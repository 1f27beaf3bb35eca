// SPDX-License-Identifier: MIT
/*
 * Externs that the running 6.18 kernel resolves (test/load-externs*.test.ts): kfuncs, typed
 * ksyms (per-CPU VARs, checked against the kernel's type), an untyped ksym (a function, so that
 * kallsyms has it without CONFIG_KALLSYMS_ALL), weak ones the kernel lacks, and kconfig values
 * (externs_kconfig.bpf.c has every kconfig type). Each externs_*.bpf.c beside it has one extern
 * libbpf refuses: libbpf stops at the first, so one object per failure.
 * Local struct views are empty on purpose: libbpf compares kinds, not members.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct task_struct { int pid; };
struct cgroup { int level; };
struct rq { int cpu; };
typedef int counter_t;

extern struct task_struct *bpf_task_acquire(struct task_struct *p) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;
extern struct cgroup *bpf_cgroup_from_id(__u64 cgid) __ksym;
extern void bpf_cgroup_release(struct cgroup *cgrp) __ksym;
extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock(void) __ksym;
extern int bpf_btfkit_no_such_kfunc(int x) __ksym __weak;

extern const struct rq runqueues __ksym;
extern const volatile counter_t bpf_prog_active __ksym;
extern const int btfkit_no_such_var __ksym __weak;
extern const void bpf_prog_put __ksym;
extern const void btfkit_no_such_symbol __ksym __weak;

extern unsigned int CONFIG_HZ __kconfig;
extern _Bool CONFIG_BPF_SYSCALL __kconfig;
extern enum libbpf_tristate CONFIG_MODULES __kconfig __weak;
extern char CONFIG_LOCALVERSION[16] __kconfig;
extern __u64 CONFIG_NR_CPUS __kconfig;
extern _Bool CONFIG_BTFKIT_ABSENT __kconfig __weak;
extern int LINUX_KERNEL_VERSION __kconfig;

__u64 sink;

SEC("syscall")
int use_externs(void *ctx)
{
	struct task_struct *t = bpf_task_acquire((struct task_struct *)ctx);
	struct cgroup *cg = bpf_cgroup_from_id(1);

	bpf_rcu_read_lock();
	if (t)
		bpf_task_release(t);
	if (cg)
		bpf_cgroup_release(cg);
	bpf_rcu_read_unlock();
	sink = bpf_btfkit_no_such_kfunc(2);
	sink += (__u64)bpf_per_cpu_ptr(&runqueues, 0) + (__u64)&bpf_prog_active + (__u64)&btfkit_no_such_var;
	sink += (__u64)&bpf_prog_put + (__u64)&btfkit_no_such_symbol;
	sink += CONFIG_HZ + CONFIG_BPF_SYSCALL + CONFIG_MODULES + CONFIG_LOCALVERSION[0] + CONFIG_NR_CPUS;
	sink += CONFIG_BTFKIT_ABSENT + LINUX_KERNEL_VERSION;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
