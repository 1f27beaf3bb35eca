/* SPDX-License-Identifier: MIT */
/*
 * Local views of kernel types for the CO-RE corpus (test/bpf/core_*.bpf.c), written by hand
 * instead of a generated vmlinux.h: each declares only the members the programs touch, so the
 * objects stay small and every relocation is one a reader can follow. Field names and nesting
 * follow Debian's 6.1 kernels; what differs on purpose is said where it is declared.
 */
#ifndef BTFKIT_CORE_KERNEL_H
#define BTFKIT_CORE_KERNEL_H

#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#define __kernel_view __attribute__((preserve_access_index))

/* libbpf 1.1's bpf_core_read.h has no bpf_core_field_signed: the builtin it would wrap. */
#define core_field_signed(field) __builtin_preserve_field_info(field, BPF_FIELD_SIGNED)

struct list_head {
	struct list_head *next, *prev;
} __kernel_view;

struct inode {
	unsigned short i_mode;
	unsigned long i_ino;
	long long i_size;
} __kernel_view;

struct dentry {
	struct dentry *d_parent;
	struct inode *d_inode;
} __kernel_view;

struct path {
	void *mnt;
	struct dentry *dentry;
} __kernel_view;

struct file {
	struct path f_path;
	struct inode *f_inode;
	unsigned int f_flags;
	unsigned int f_mode;
	long long f_pos;
} __kernel_view;

/*
 * In the kernel every member of mm_struct but cpu_bitmap sits in one anonymous struct; the
 * local view leaves it out, so libbpf has to find the members through it.
 */
struct mm_struct {
	unsigned long start_code, end_code;
	struct file *exe_file;
	unsigned long cpu_bitmap[];
} __kernel_view;

struct task_struct {
	unsigned int __state;
	unsigned int flags;
	int prio;
	int pid;
	int tgid;
	char comm[16];
	struct task_struct *real_parent;
	struct mm_struct *mm;
	unsigned int sched_reset_on_fork: 1;
	unsigned int sched_contributes_to_load: 1;
	unsigned int in_execve: 1;
	unsigned long long start_time;
} __kernel_view;

struct net_device {
	int ifindex;
	char name[16];
} __kernel_view;

/* sk_buff's first members nested as the kernel nests them: anonymous union, struct, union. */
struct sk_buff {
	union {
		struct {
			struct sk_buff *next;
			struct sk_buff *prev;
			union {
				struct net_device *dev;
				unsigned long dev_scratch;
			};
		};
		struct list_head list;
	};
	unsigned int len;
	__u8 cloned: 1, nohdr: 1, fclone: 2, peeked: 1;
	__u16 protocol;
	unsigned char *data;
} __kernel_view;

/* The same sk_buff flattened: libbpf finds dev and pkt_type inside the kernel's anonymous members. */
struct sk_buff___flat {
	struct net_device *dev;
	__u8 pkt_type: 3;
	__u8 ignore_df: 1;
	unsigned int len;
} __kernel_view;

/* Signed and unsigned bitfields (lib/vsprintf.c; 6.1 packs them, later kernels do not). */
struct printf_spec {
	unsigned int type: 8;
	int field_width: 24;
	unsigned int flags: 8;
	unsigned int base: 8;
	int precision: 16;
} __kernel_view;

enum pid_type { PIDTYPE_PID, PIDTYPE_TGID, PIDTYPE_PGID, PIDTYPE_SID, PIDTYPE_MAX };

#endif
