// SPDX-License-Identifier: MIT
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* bpf_prog_inc is a kernel function but no kfunc: libbpf 1.1 resolves it (it checks only the
 * name and prototype), the verifier refuses the call. Kernels whose BTF tags kfuncs with
 * 'bpf_kfunc' (pahole >= 1.26) say which FUNCs are kfuncs. */
struct bpf_prog { int type; };
extern void bpf_prog_inc(struct bpf_prog *prog) __ksym;

SEC("syscall")
int call_it(void *ctx)
{
	bpf_prog_inc((struct bpf_prog *)ctx);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
