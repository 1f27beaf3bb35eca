// SPDX-License-Identifier: MIT
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* One parameter more than the kernel's bpf_task_release has. */
struct task_struct { int pid; };
extern void bpf_task_release(struct task_struct *p, int flags) __ksym;

SEC("syscall")
int call_it(void *ctx)
{
	bpf_task_release((struct task_struct *)ctx, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
