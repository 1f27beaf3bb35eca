// SPDX-License-Identifier: MIT
/*
 * CO-RE corpus: ambiguity. Every kernel has two struct elf_thread_core_info (fs/binfmt_elf.c
 * and its compat twin): both match the local view, task sits at the same offset in both (the
 * candidates agree: relocated), notes does not (2816 != 2496 bits: libbpf fails the relocation
 * and, with it, the whole object; nothing after it is relocated). Kept alone in its object.
 */
#include "core_kernel.h"

struct memelfnote {
	const char *name;
} __kernel_view;

struct elf_thread_core_info {
	struct elf_thread_core_info *next;
	struct task_struct *task;
	struct memelfnote notes[];
} __kernel_view;

char LICENSE[] SEC("license") = "GPL";

SEC("kprobe/do_exit")
int ambiguous(void *ctx)
{
	struct elf_thread_core_info *info = (void *)bpf_get_current_task();
	unsigned long long acc = 0;

	acc += bpf_core_field_offset(info->task);
	acc += bpf_core_field_offset(info->notes);
	return acc;
}
