// SPDX-License-Identifier: MIT
// btfkit-fixture: min-clang 15
/*
 * CO-RE corpus, clang >= 15 only (marker above, read by tools/make-bpf-fixtures.sh): clang 14
 * has no type_matches relocation and writes no ENUM64. type_matches that holds (list_head) and
 * that fails (cred.uid is kuid_t, a struct, in the kernel); ENUM64 enumerators (enumval_value
 * as ld_imm64 of a 64-bit value, enumval_exists of one that only newer kernels have).
 */
#include "core_kernel.h"

struct cred___int_uid {
	unsigned int uid;
} __kernel_view;

struct list_head___m {
	struct list_head___m *next, *prev;
} __kernel_view;

enum perf_callchain_context {
	PERF_CONTEXT_HV = (__u64)-32,
	PERF_CONTEXT_KERNEL = (__u64)-128,
	PERF_CONTEXT_MAX = (__u64)-4095,
};

enum ib_uverbs_device_cap_flags {
	IB_UVERBS_DEVICE_RAW_SCATTER_FCS = 1ULL << 34,
	IB_UVERBS_DEVICE_FLUSH_GLOBAL = 1ULL << 38,
};

char LICENSE[] SEC("license") = "GPL";

SEC("kprobe/do_exit")
int matches(void *ctx)
{
	unsigned long long acc = 0;

	acc += bpf_core_type_matches(struct list_head);
	acc += bpf_core_type_matches(struct list_head___m);
	acc += bpf_core_type_matches(struct cred___int_uid);
	acc += bpf_core_type_matches(enum pid_type);
	acc += bpf_core_enum_value(enum perf_callchain_context, PERF_CONTEXT_MAX);
	acc += bpf_core_enum_value(enum perf_callchain_context, PERF_CONTEXT_KERNEL);
	acc += bpf_core_enum_value_exists(enum perf_callchain_context, PERF_CONTEXT_HV);
	acc += bpf_core_enum_value(enum ib_uverbs_device_cap_flags, IB_UVERBS_DEVICE_RAW_SCATTER_FCS);
	acc += bpf_core_enum_value_exists(enum ib_uverbs_device_cap_flags, IB_UVERBS_DEVICE_FLUSH_GLOBAL);
	return acc;
}
