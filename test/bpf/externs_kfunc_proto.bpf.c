// SPDX-License-Identifier: MIT
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* A kfunc whose prototype differs from the kernel's (int * for struct cgroup *): libbpf fails
 * the load even though the extern is weak. */
extern void bpf_cgroup_release(int *cgrp) __ksym __weak;

SEC("syscall")
int call_it(void *ctx)
{
	bpf_cgroup_release((int *)ctx);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
