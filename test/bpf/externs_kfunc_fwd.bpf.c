// SPDX-License-Identifier: MIT
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* struct task_struct only declared: its BTF is a FWD, and libbpf 1.1's type compatibility
 * wants the kernel's kind (STRUCT) behind the pointer, so the prototype does not match. */
struct task_struct;
extern void bpf_task_release(struct task_struct *p) __ksym;

SEC("syscall")
int call_it(void *ctx)
{
	bpf_task_release((struct task_struct *)ctx);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
