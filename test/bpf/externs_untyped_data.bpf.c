// SPDX-License-Identifier: MIT
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* An untyped ksym naming a per-CPU variable: BTF has it as a VAR, but kallsyms lists data
 * symbols only with CONFIG_KALLSYMS_ALL, so whether it resolves depends on kallsyms. */
extern const void cpu_number __ksym;
__u64 sink;

SEC("syscall")
int read_it(void *ctx)
{
	sink = (__u64)&cpu_number;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
