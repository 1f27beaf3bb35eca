// SPDX-License-Identifier: MIT
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* The kernel's cpu_number is an int; declared here as a struct. */
struct rq { int cpu; };
extern const struct rq cpu_number __ksym;
__u64 sink;

SEC("syscall")
int read_it(void *ctx)
{
	sink = (__u64)bpf_per_cpu_ptr(&cpu_number, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
