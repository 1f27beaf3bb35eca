// SPDX-License-Identifier: MIT
/*
 * CO-RE corpus: type and enum relocations, and what is missing. type_exists, type_size,
 * local_type_id and target_type_id (ld_imm64), enumval_exists and enumval_value of a 32-bit
 * enum; a missing field (field_exists 0, byte_off poisoned), a missing type (type_exists 0,
 * type_size poisoned), a missing enumerator (exists 0, value poisoned); a two-dimensional local
 * array over the kernel's one-dimensional one (pahole writes no multi-dimensional arrays: the
 * second index finds no array, so the access matches nothing), and a flavor (___v2) that
 * names an existing kernel type.
 */
#include "core_kernel.h"

struct task_struct___v2 {
	int pid;
	struct task_struct *group_leader;
} __kernel_view;

struct task_struct___missing {
	int btfkit_no_such_member;
} __kernel_view;

struct btfkit_no_such_type {
	int x;
} __kernel_view;

struct task_struct___grid {
	char comm[2][8];
} __kernel_view;

enum pid_type___new {
	PIDTYPE_SID___new = 3,
	PIDTYPE_BTFKIT_NONE___new = 9,
};

char LICENSE[] SEC("license") = "GPL";

SEC("kprobe/do_exit")
int types(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	unsigned long long acc = 0;

	acc += bpf_core_type_exists(struct task_struct);
	acc += bpf_core_type_size(struct task_struct);
	acc += bpf_core_type_size(struct mm_struct);
	acc += bpf_core_type_exists(struct btfkit_no_such_type);
	acc += bpf_core_type_id_kernel(struct task_struct);
	acc += bpf_core_type_id_kernel(struct sk_buff);
	acc += bpf_core_type_id_local(struct task_struct);
	acc += bpf_core_type_id_local(struct btfkit_no_such_type);
	acc += bpf_core_enum_value_exists(enum pid_type, PIDTYPE_PGID);
	acc += bpf_core_enum_value(enum pid_type, PIDTYPE_MAX);
	acc += bpf_core_enum_value(enum pid_type___new, PIDTYPE_SID___new);
	acc += bpf_core_enum_value_exists(enum pid_type___new, PIDTYPE_BTFKIT_NONE___new);
	acc += BPF_CORE_READ((struct task_struct___v2 *)task, group_leader, pid);
	acc += bpf_core_field_exists(((struct task_struct___v2 *)task)->group_leader);
	return acc;
}

/* Every relocation here fails to find its target: they are poisoned, or 0 for existence. */
SEC("kprobe/do_exit")
int missing(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct task_struct___missing *gone = (void *)task;
	struct task_struct___grid *grid = (void *)task;
	unsigned long long acc = 0;

	acc += bpf_core_field_exists(gone->btfkit_no_such_member);
	if (bpf_core_field_exists(gone->btfkit_no_such_member))
		acc += BPF_CORE_READ(gone, btfkit_no_such_member);
	acc += bpf_core_type_size(struct btfkit_no_such_type);
	acc += bpf_core_enum_value(enum pid_type___new, PIDTYPE_BTFKIT_NONE___new);
	acc += bpf_core_field_offset(grid->comm[1][3]);
	return acc;
}
