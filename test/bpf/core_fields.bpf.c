// SPDX-License-Identifier: MIT
/*
 * CO-RE corpus: field relocations. byte_off through BPF_CORE_READ (ALU add immediates) and
 * through direct loads (LDX offsets, tp_btf), byte_sz, field_exists, and the bitfield kinds
 * (signed, lshift_u64, rshift_u64) on unsigned (task_struct, sk_buff) and signed (printf_spec)
 * bitfields; nested anonymous members both mirrored (sk_buff) and flattened (sk_buff___flat,
 * mm_struct); a flexible array indexed past its end (mm_struct.cpu_bitmap[2]); memory-size
 * patches of direct loads (a kernel u32 read through a local u64 member: mem_sz 8 -> 4) and the
 * refused one (a kernel int read through a local long: poisoned).
 */
#include "core_kernel.h"

/* Wider than the kernel's members: libbpf shrinks the unsigned load and poisons the signed one. */
struct task_struct___wide {
	unsigned long long flags;
	long prio;
} __kernel_view;

char LICENSE[] SEC("license") = "GPL";

SEC("kprobe/do_exit")
int read_task(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	unsigned long long acc = 0;

	acc += BPF_CORE_READ(task, tgid);
	acc += BPF_CORE_READ(task, real_parent, pid);
	acc += BPF_CORE_READ(task, mm, end_code);
	acc += BPF_CORE_READ(task, mm, exe_file, f_inode, i_ino);
	acc += BPF_CORE_READ(task, mm, exe_file, f_path.dentry, d_inode, i_size);
	acc += BPF_CORE_READ(task, start_time);
	acc += bpf_core_field_size(task->comm);
	acc += bpf_core_field_offset(task->comm[3]);
	acc += bpf_core_field_exists(task->prio);
	acc += BPF_CORE_READ_BITFIELD_PROBED(task, in_execve);
	acc += BPF_CORE_READ_BITFIELD_PROBED(task, sched_contributes_to_load);
	acc += bpf_core_field_offset(struct mm_struct, cpu_bitmap[2]);
	return acc;
}

SEC("tp_btf/kfree_skb")
int read_skb(__u64 *ctx)
{
	struct sk_buff *skb = (struct sk_buff *)ctx[0];
	struct sk_buff___flat *flat = (void *)skb;
	struct printf_spec *spec = (void *)skb;
	unsigned long long acc = 0;

	acc += BPF_CORE_READ(skb, len);
	acc += BPF_CORE_READ(skb, dev, ifindex);
	acc += BPF_CORE_READ(skb, next, prev, len);
	acc += BPF_CORE_READ_BITFIELD_PROBED(skb, fclone);
	acc += BPF_CORE_READ(flat, dev, ifindex);
	acc += BPF_CORE_READ_BITFIELD_PROBED(flat, pkt_type);
	acc += bpf_core_field_offset(flat->len);
	acc += BPF_CORE_READ_BITFIELD_PROBED(spec, field_width);
	acc += BPF_CORE_READ_BITFIELD_PROBED(spec, precision);
	acc += BPF_CORE_READ_BITFIELD_PROBED(spec, base);
	acc += core_field_signed(spec->field_width);
	acc += core_field_signed(spec->flags);
	return acc;
}

/* tp_btf arguments are trusted kernel pointers: members are read by plain loads (LDX off). */
SEC("tp_btf/sched_process_exec")
int direct_loads(__u64 *ctx)
{
	struct task_struct *task = (struct task_struct *)ctx[0];
	struct task_struct___wide *wide = (void *)task;
	unsigned long long acc = 0;

	acc += task->pid;
	acc += task->flags;
	acc += task->mm->start_code;
	acc += wide->flags;
	acc += wide->prio;
	return acc;
}
