// SPDX-License-Identifier: GPL-2.0
/*
 * Programs whose section names a kernel BTF attach target (fentry, fexit, tp_btf, lsm, iter),
 * targets every kernel has and targets none has. libbpf resolves them in bpf_object__load;
 * test/portability.test.ts compares what the kernel recorded for each loaded program
 * (attach_btf_obj_id, attach_btf_id) with btfkit's resolveAttachTarget, and libbpf's failure
 * for a missing one with btfkit's finding. No CO-RE here: attach targets alone.
 *
 * GPL: tracing programs may only be loaded by GPL-compatible objects.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("fentry/do_nanosleep")
int fentry_nanosleep(void *ctx)
{
	return 0;
}

SEC("fexit/do_unlinkat")
int fexit_unlinkat(void *ctx)
{
	return 0;
}

SEC("tp_btf/sched_switch")
int tp_sched_switch(void *ctx)
{
	return 0;
}

SEC("lsm/file_open")
int lsm_file_open(void *ctx)
{
	return 0;
}

SEC("iter/task")
int iter_task(void *ctx)
{
	return 0;
}

SEC("fentry/btfkit_no_such_function")
int fentry_missing(void *ctx)
{
	return 0;
}

SEC("tp_btf/btfkit_no_such_tracepoint")
int tp_missing(void *ctx)
{
	return 0;
}

/* No BTF target: nothing to resolve. */
SEC("kprobe/do_nanosleep")
int kprobe_nanosleep(void *ctx)
{
	return 0;
}
