// SPDX-License-Identifier: MIT
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* A strong kfunc no kernel has. */
extern int bpf_btfkit_no_such_kfunc(int x) __ksym;

SEC("syscall")
int call_it(void *ctx)
{
	return bpf_btfkit_no_such_kfunc(1);
}

char LICENSE[] SEC("license") = "GPL";
