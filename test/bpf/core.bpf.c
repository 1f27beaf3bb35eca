// SPDX-License-Identifier: MIT
/*
 * CO-RE: the program declares its own minimal views of kernel types with
 * preserve_access_index (instead of a generated vmlinux.h), and reads them with
 * BPF_CORE_READ and the field/type/enum existence and size relocations. The relocations go to
 * .BTF.ext; the local type views, the "___flavour" variants and the kfunc externs go to .BTF.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#define __kernel_view __attribute__((preserve_access_index))

struct list_head {
	struct list_head *next, *prev;
} __kernel_view;

struct qstr {
	union {
		struct {
			__u32 hash;
			__u32 len;
		};
		__u64 hash_len;
	};
	const unsigned char *name;
} __kernel_view;

struct dentry {
	struct dentry *d_parent;
	struct qstr d_name;
} __kernel_view;

struct path {
	void *mnt;
	struct dentry *dentry;
} __kernel_view;

struct file {
	struct path f_path;
	unsigned int f_flags;
	long long f_pos;
} __kernel_view;

struct mm_struct {
	unsigned long start_code, end_code, start_data, end_data;
	unsigned long arg_start, arg_end;
	struct file *exe_file;
} __kernel_view;

struct cred {
	unsigned int uid;
	unsigned int gid;
} __kernel_view;

struct task_struct {
	int pid;
	int tgid;
	unsigned int __state;
	unsigned int flags;
	char comm[16];
	struct task_struct *real_parent;
	struct mm_struct *mm;
	const struct cred *cred;
	struct list_head children;
	unsigned long long start_time;
} __kernel_view;

/* An older kernel's layout, matched by libbpf through the ___flavour suffix. */
struct task_struct___pre_5_14 {
	long state;
} __kernel_view;

enum pid_type { PIDTYPE_PID, PIDTYPE_TGID, PIDTYPE_PGID, PIDTYPE_SID, PIDTYPE_MAX };

enum bpf_func_id___local {
	BPF_FUNC_ktime_get_boot_ns___local = 125,
};

struct exec_event {
	__u32 pid, ppid, uid;
	__u32 state;
	__u64 start_time;
	__u64 code_size;
	__u32 name_len;
	char comm[16];
	char exe[32];
	_Bool has_boot_ns;
	_Bool has_pgid;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 16);
} exec_events SEC(".maps");

/* kfuncs: extern FUNCs in .ksyms, resolved against the kernel's BTF at load time. */
extern struct task_struct *bpf_task_acquire(struct task_struct *p) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;
extern struct cgroup *bpf_cgroup_from_id(__u64 cgid) __ksym __weak;

char LICENSE[] SEC("license") = "GPL";

static __always_inline __u32 task_state(struct task_struct *t)
{
	if (bpf_core_field_exists(t->__state))
		return BPF_CORE_READ(t, __state);
	return (__u32)BPF_CORE_READ((struct task_struct___pre_5_14 *)t, state);
}

SEC("tp_btf/sched_process_exec")
int handle_exec(__u64 *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct task_struct *held;
	struct exec_event *e;
	struct file *exe;

	e = bpf_ringbuf_reserve(&exec_events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->pid = BPF_CORE_READ(task, tgid);
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->uid = BPF_CORE_READ(task, cred, uid);
	e->state = task_state(task);
	e->start_time = BPF_CORE_READ(task, start_time);
	e->code_size = BPF_CORE_READ(task, mm, end_code) - BPF_CORE_READ(task, mm, start_code);
	e->name_len = bpf_core_field_size(task->comm);
	BPF_CORE_READ_STR_INTO(&e->comm, task, comm);
	exe = BPF_CORE_READ(task, mm, exe_file);
	BPF_CORE_READ_STR_INTO(&e->exe, exe, f_path.dentry, d_name.name);
	e->has_boot_ns = bpf_core_enum_value_exists(enum bpf_func_id___local,
						    BPF_FUNC_ktime_get_boot_ns___local);
	e->has_pgid = bpf_core_enum_value_exists(enum pid_type, PIDTYPE_PGID) &&
		      bpf_core_type_exists(struct list_head);

	held = bpf_task_acquire(task);
	if (held) {
		if (bpf_cgroup_from_id)
			e->uid |= 0x80000000u;
		bpf_task_release(held);
	}
	bpf_ringbuf_submit(e, 0);
	return 0;
}
