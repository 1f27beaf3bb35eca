// SPDX-License-Identifier: MIT
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* A ___flavor of bpf_task_acquire: libbpf 1.1 looks up the name with the suffix and fails;
 * libbpf >= 1.3 would look up bpf_task_acquire. */
struct task_struct { int pid; };
extern struct task_struct *bpf_task_acquire___v2(struct task_struct *p) __ksym;
__u64 sink;

SEC("syscall")
int call_it(void *ctx)
{
	sink = (__u64)bpf_task_acquire___v2((struct task_struct *)ctx);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
